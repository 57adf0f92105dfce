package chain

import (
	"bytes"
	"slices"
	"sync"
	"testing"
)

// Clones that share every buffer are changed from different goroutines at
// once; each must see only its own writes, and the original none of them.
func TestCloneCopyOnWriteConcurrent(t *testing.T) {
	f := defaultFixture(t)
	base := pattern(1, 5000)
	c := f.chain(Options{})
	for p := base; len(p) > 0; p = p[min(len(p), 1200):] {
		must(t, c.Append(p[:min(len(p), 1200)]))
	}
	defer c.Free()
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		cl, err := c.Clone()
		must(t, err)
		wg.Go(func() {
			defer cl.Free()
			model := slices.Clone(base)
			for i := range 50 {
				p := pattern(byte(w*50+i), 300)
				off := (w*977 + i*131) % len(model)
				if _, err := cl.WriteAt(p, int64(off)); err != nil {
					t.Error(err)
					return
				}
				if off+len(p) > len(model) {
					model = append(model, make([]byte, off+len(p)-len(model))...)
				}
				copy(model[off:], p)
				if i%10 == 9 {
					if err := cl.Prepend(14); err != nil {
						t.Error(err)
						return
					}
					model = append(make([]byte, 14), model...)
				}
				if got := make([]byte, len(model)); !readEqual(cl, got, model) {
					t.Errorf("worker %d step %d: clone differs from its model", w, i)
					return
				}
			}
		})
	}
	// Readers of the original run alongside the writers.
	for range 2 {
		wg.Go(func() {
			for range 200 {
				if got := make([]byte, len(base)); !readEqual(c, got, base) {
					t.Error("original changed under its clones")
					return
				}
			}
		})
	}
	wg.Wait()
	checkView(t, f, c, base)
}

func readEqual(c *Chain, buf, want []byte) bool {
	n, _ := c.ReadAt(buf, 0)
	return n == len(want) && bytes.Equal(buf, want)
}

// A buffer shared after a split is not written through either half: the
// tailroom of the first half holds the second half's bytes.
func TestSplitSharedTailroomUntouched(t *testing.T) {
	f := defaultFixture(t)
	data := pattern(2, 1000)
	c := f.filled(Options{}, data)
	nc, err := c.Split(400)
	must(t, err)
	if c.Tailroom() != 0 || nc.Headroom() != 0 {
		t.Fatalf("shared buffer offers tailroom %d, headroom %d", c.Tailroom(), nc.Headroom())
	}
	must(t, c.Append(pattern(3, 50)))
	must(t, nc.Prepend(20))
	checkView(t, f, nc, append(make([]byte, 20), data[400:]...))
	checkView(t, f, c, append(slices.Clone(data[:400]), pattern(3, 50)...))
	nc.Free()
	c.Free()
}

// Once the other holder of a buffer lets go, its space is usable again.
func TestRoomReturnsWhenShareEnds(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{}, pattern(4, 1000))
	cl, err := c.Clone()
	must(t, err)
	if c.Headroom() != 0 || c.Tailroom() != 0 {
		t.Fatalf("shared: headroom %d, tailroom %d", c.Headroom(), c.Tailroom())
	}
	cl.Free()
	if c.Headroom() != DefaultHeadroom || c.Tailroom() == 0 {
		t.Fatalf("unshared: headroom %d, tailroom %d", c.Headroom(), c.Tailroom())
	}
	c.Free()
}

func TestCloneKeepsLayers(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{}, pattern(5, 100))
	defer c.Free()
	must(t, c.SetProto("ethernet"))
	must(t, c.Push(14, 86, "ipv4"))
	o := f.filled(Options{}, pattern(6, 10))
	must(t, c.Pop())
	must(t, c.Concat("frags", o))
	must(t, c.Push(3, 7, "inner"))
	cl, err := c.Clone()
	must(t, err)
	defer cl.Free()
	for k := 0; k <= c.Depth(); k++ {
		a, _ := c.Layer(k)
		b, _ := cl.Layer(k)
		fa, _ := c.Fragments(k, nil)
		fb, _ := cl.Fragments(k, nil)
		if a != b || !slices.Equal(fa, fb) {
			t.Fatalf("layer %d: %+v %v vs clone %+v %v", k, a, fa, b, fb)
		}
	}
	// The clone's fragment lists are its own.
	must(t, cl.Pop())
	must(t, cl.Append([]byte{1}))
	fa, _ := c.Fragments(1, nil)
	fb, _ := cl.Fragments(1, nil)
	if slices.Equal(fa, fb) {
		t.Fatalf("clone shares fragment list: %v", fa)
	}
}
