package chain

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// lengths are chain lengths around the class boundaries of the test pond
// (128, 512, 2048) with and without the default headroom, and past the
// largest buffer.
var lengths = []int{0, 1, 127, 128, 129, 383, 384, 385, 511, 512, 513, 1919, 1920, 1921, 2047, 2048, 2049, 4097, 6016}

// args are the operation arguments tried on a chain of n bytes: the same
// boundaries, and the chain's own ends.
func args(n int) []int {
	ks := []int{0, 1, 14, 127, 128, 129, 511, 512, 513, 2047, 2048, 2049, n / 2, n - 1, n, n + 1}
	slices.Sort(ks)
	return slices.Compact(slices.DeleteFunc(ks, func(k int) bool { return k < 0 }))
}

// shapes build the same bytes as different segment lists.
var shapes = []struct {
	name  string
	build func(f *fixture, opt Options, data []byte) *Chain
}{
	{"one", func(f *fixture, opt Options, data []byte) *Chain { return f.filled(opt, data) }},
	{"pieces", func(f *fixture, opt Options, data []byte) *Chain {
		c := f.chain(opt)
		for p := data; len(p) > 0; {
			k := min(len(p), 300)
			must(f.t, c.Append(p[:k]))
			p = p[k:]
		}
		return c
	}},
	{"joined", func(f *fixture, opt Options, data []byte) *Chain {
		c := f.chain(opt)
		for p := data; len(p) > 0; {
			k := min(len(p), 300)
			must(f.t, c.AppendChain(f.filled(opt, p[:k])))
			p = p[k:]
		}
		return c
	}},
	{"prepended", func(f *fixture, opt Options, data []byte) *Chain {
		c := f.chain(opt)
		for p := data; len(p) > 0; {
			k := min(len(p), 700)
			must(f.t, c.Prepend(k))
			_, err := c.WriteAt(p[len(p)-k:], 0)
			must(f.t, err)
			p = p[:len(p)-k]
		}
		return c
	}},
}

// opCase is one operation: it applies op with argument k to c, whose
// bytes the model holds, checks what only it can check, and returns the
// new model.
type opCase struct {
	name string
	op   func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte
}

var opCases = []opCase{
	{"append", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		p := pattern(3, k)
		tail, used := c.Tailroom(), f.inUse()
		must(t, c.Append(p))
		if k > 0 && k <= tail && f.inUse() != used {
			t.Fatalf("append of %d bytes into %d of tailroom took a buffer", k, tail)
		}
		return append(model, p...)
	}},
	{"prepend", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		head, used := c.Headroom(), f.inUse()
		must(t, c.Prepend(k))
		if k <= head && f.inUse() != used {
			t.Fatalf("prepend of %d bytes into %d of headroom took a buffer", k, head)
		}
		return append(make([]byte, k), model...)
	}},
	{"trim-front", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		if k > len(model) {
			mustErr(t, c.TrimFront(k), ErrRange)
			return model
		}
		must(t, c.TrimFront(k))
		return model[k:]
	}},
	{"trim-back", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		if k > len(model) {
			mustErr(t, c.TrimBack(k), ErrRange)
			return model
		}
		must(t, c.TrimBack(k))
		return model[:len(model)-k]
	}},
	{"truncate", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		must(t, c.Truncate(k))
		if k <= len(model) {
			return model[:k]
		}
		return append(model, make([]byte, k-len(model))...)
	}},
	{"split", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		if k > len(model) {
			_, err := c.Split(k)
			mustErr(t, err, ErrRange)
			return model
		}
		used, before := f.inUse(), c.NumSegments()
		nc, err := c.Split(k)
		must(t, err)
		if f.inUse() != used {
			t.Fatalf("split took buffers: %d in use, was %d", f.inUse(), used)
		}
		checkView(t, f, c, model[:k])
		checkView(t, f, nc, model[k:])
		must(t, c.AppendChain(nc))
		if n := c.NumSegments(); n != before {
			t.Fatalf("split and rejoined chain has %d segments, had %d", n, before)
		}
		return model
	}},
	{"clone-write", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		cl, err := c.Clone()
		must(t, err)
		defer cl.Free()
		p := pattern(9, 100)
		if _, err := cl.WriteAt(p, int64(k)); err != nil {
			t.Fatalf("WriteAt clone: %v", err)
		}
		want := slices.Clone(model)
		if k > len(want) {
			want = append(want, make([]byte, k-len(want))...)
		}
		want = append(want[:k], append(p, want[min(len(want), k+len(p)):]...)...)
		checkView(t, f, cl, want)
		return model
	}},
	{"write-at", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		p := pattern(5, 300)
		if _, err := c.WriteAt(p, int64(k)); err != nil {
			t.Fatalf("WriteAt: %v", err)
		}
		if k > len(model) {
			model = append(model, make([]byte, k-len(model))...)
		}
		return append(model[:k], append(p, model[min(len(model), k+len(p)):]...)...)
	}},
	{"pullup", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		if k > len(model) || k > f.p.MaxBuf() {
			mustErr(t, c.Pullup(k), ErrRange)
			return model
		}
		must(t, c.Pullup(k))
		if iov := c.Iovecs(nil); k > 0 && len(iov[0]) < k {
			t.Fatalf("pullup %d: first run is %d bytes", k, len(iov[0]))
		}
		return model
	}},
	{"concat", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		p := pattern(11, k)
		o := f.filled(c.Options(), p)
		must(t, c.Concat("frag", o))
		frags, err := c.Fragments(c.Depth(), nil)
		must(t, err)
		if !slices.Equal(frags, []int{len(model), k}) {
			t.Fatalf("fragments %v, want [%d %d]", frags, len(model), k)
		}
		checkView(t, f, c, append(slices.Clone(model), p...))
		parts, err := c.SplitFragments(nil)
		must(t, err)
		if len(parts) != 1 {
			t.Fatalf("SplitFragments: %d chains, want 1", len(parts))
		}
		checkView(t, f, parts[0], p)
		parts[0].Free()
		return model
	}},
	{"read", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		got := make([]byte, k)
		n, _ := c.Read(got)
		if n != min(k, len(model)) || !bytes.Equal(got[:n], model[:n]) {
			t.Fatalf("Read(%d): %d bytes, equal %v", k, n, bytes.Equal(got[:n], model[:n]))
		}
		return model[n:]
	}},
	{"append-space", func(t *testing.T, f *fixture, c *Chain, model []byte, k int) []byte {
		if k > f.p.MaxBuf() {
			_, err := c.AppendSpace(k)
			mustErr(t, err, ErrRange)
			return model
		}
		space, err := c.AppendSpace(k)
		must(t, err)
		p := pattern(17, k/2)
		copy(space, p)
		must(t, c.Commit(len(p)))
		return append(model, p...)
	}},
}

// TestOps applies every operation, at every boundary argument, to chains
// of every boundary length, built in several shapes, with and without
// headroom, and checks each result through all three read paths.
func TestOps(t *testing.T) {
	for _, hr := range []int{0, -1} {
		for _, shape := range shapes {
			for _, oc := range opCases {
				t.Run(fmt.Sprintf("hr%d/%s/%s", hr, shape.name, oc.name), func(t *testing.T) {
					f := defaultFixture(t)
					opt := Options{Headroom: hr}
					for _, n := range lengths {
						for _, k := range args(n) {
							data := pattern(byte(n), n)
							c := shape.build(f, opt, data)
							checkView(t, f, c, data)
							model := oc.op(t, f, c, slices.Clone(data), k)
							checkView(t, f, c, model)
							c.Free()
						}
					}
				})
			}
		}
	}
}
