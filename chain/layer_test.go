package chain

import (
	"errors"
	"slices"
	"testing"
)

// Every way of growing a narrow view is refused, and leaves the chain as
// it was.
func TestNarrowViewCannotGrow(t *testing.T) {
	grow := map[string]func(c, o *Chain) error{
		"append":       func(c, o *Chain) error { return c.Append([]byte{1}) },
		"prepend":      func(c, o *Chain) error { return c.Prepend(1) },
		"write-past":   func(c, o *Chain) error { _, err := c.WriteAt([]byte{1, 2}, int64(c.Len()-1)); return err },
		"truncate-up":  func(c, o *Chain) error { return c.Truncate(c.Len() + 1) },
		"append-chain": func(c, o *Chain) error { return c.AppendChain(o) },
		"concat":       func(c, o *Chain) error { return c.Concat("x", o) },
		"space":        func(c, o *Chain) error { _, err := c.AppendSpace(1); return err },
	}
	views := map[string][2]int{"front": {0, 50}, "middle": {10, 50}, "back": {10, 90}}
	f := defaultFixture(t)
	for name, op := range grow {
		for vname, v := range views {
			c := f.filled(Options{}, pattern(1, 100))
			o := f.filled(Options{}, []byte{1})
			must(t, c.Push(v[0], v[1], "p"))
			before := stateOf(t, f, c)
			if err := op(c, o); !errors.Is(err, ErrNarrowView) {
				t.Errorf("%s on %s view: %v, want ErrNarrowView", name, vname, err)
			}
			if !stateOf(t, f, c).equal(before) {
				t.Errorf("%s on %s view changed the chain", name, vname)
			}
			checkView(t, f, o, []byte{1}) // still the caller's
			o.Free()
			c.Free()
		}
	}
}

// A view as wide as the whole chain grows, and every layer beneath with it.
func TestWholeViewGrows(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{}, pattern(1, 100))
	defer c.Free()
	must(t, c.Push(0, 100, "a"))
	must(t, c.Push(0, 100, "b"))
	must(t, c.Append(pattern(2, 50)))
	must(t, c.Prepend(10))
	for k := 0; k <= 2; k++ {
		if l, _ := c.Layer(k); l.Offset != 0 || l.Length != 160 {
			t.Fatalf("layer %d: %+v", k, l)
		}
	}
}

// Trimming a narrow view removes the bytes from the chain; every layer
// beneath shrinks, and the view keeps its offset.
func TestNarrowViewTrims(t *testing.T) {
	f := defaultFixture(t)
	data := pattern(3, 1000)
	c := f.filled(Options{}, data)
	defer c.Free()
	must(t, c.Push(100, 800, "ipv4"))
	must(t, c.Push(20, 700, "udp"))
	must(t, c.TrimFront(8))
	must(t, c.TrimBack(2))
	must(t, c.Truncate(600))
	want := slices.Concat(data[:120], data[128:728], data[820:])
	checkLayers(t, c, want, []LayerInfo{
		{0, 900, ""}, {100, 700, "ipv4"}, {20, 600, "udp"},
	})
	nc, err := c.Split(500)
	must(t, err)
	checkView(t, f, nc, want[620:720])
	nc.Free()
	want = slices.Concat(want[:620], want[720:])
	checkLayers(t, c, want, []LayerInfo{{0, 800, ""}, {100, 600, "ipv4"}, {20, 500, "udp"}})
}

func checkLayers(t *testing.T, c *Chain, chain []byte, want []LayerInfo) {
	t.Helper()
	if c.Depth() != len(want)-1 {
		t.Fatalf("depth %d, want %d", c.Depth(), len(want)-1)
	}
	at := 0
	for k, w := range want {
		l, err := c.Layer(k)
		if err != nil || l != w {
			t.Fatalf("layer %d: %+v, %v; want %+v", k, l, err, w)
		}
		at += l.Offset
		got := make([]byte, l.Length)
		if n, _ := c.ReadAtLayer(k, got, 0); n != l.Length || !slices.Equal(got, chain[at:at+l.Length]) {
			t.Fatalf("layer %d bytes differ", k)
		}
	}
}

func TestLayerErrors(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{}, pattern(4, 100))
	defer c.Free()
	mustErr(t, c.Pop(), ErrNoLayer)
	for _, a := range [][2]int{{-1, 1}, {0, -1}, {101, 0}, {50, 51}, {100, 1}} {
		mustErr(t, c.Push(a[0], a[1], ""), ErrRange)
	}
	must(t, c.Push(100, 0, "empty"))
	must(t, c.Pop())
	for _, k := range []int{-1, 1} {
		_, err := c.Layer(k)
		mustErr(t, err, ErrNoLayer)
		_, err = c.ReadAtLayer(k, nil, 0)
		mustErr(t, err, ErrNoLayer)
		_, err = c.WriteAtLayer(k, nil, 0)
		mustErr(t, err, ErrNoLayer)
		_, err = c.Fragments(k, nil)
		mustErr(t, err, ErrNoLayer)
	}
	for range MaxDepth {
		must(t, c.Push(0, 100, ""))
	}
	mustErr(t, c.Push(0, 1, ""), ErrRange)
	mustErr(t, c.Concat("x"), ErrRange)
	_, err := c.SplitFragments(nil)
	mustErr(t, err, ErrNoLayer)
}

// WriteAtLayer grows a whole layer beneath a narrow view; the view keeps
// its place.
func TestWriteAtLayerBeneath(t *testing.T) {
	f := defaultFixture(t)
	data := pattern(5, 100)
	c := f.filled(Options{}, data)
	defer c.Free()
	must(t, c.Push(14, 86, "ipv4"))
	must(t, c.Push(20, 10, "udp"))
	_, err := c.WriteAtLayer(1, []byte{1}, 86)
	mustErr(t, err, ErrNarrowView)
	_, err = c.WriteAtLayer(0, []byte{7, 7}, 99)
	must(t, err)
	want := append(slices.Clone(data[:99]), 7, 7)
	checkLayers(t, c, want, []LayerInfo{{0, 101, ""}, {14, 86, "ipv4"}, {20, 10, "udp"}})
	_, err = c.WriteAtLayer(1, []byte{9}, 0)
	must(t, err)
	want[14] = 9
	checkLayers(t, c, want, []LayerInfo{{0, 101, ""}, {14, 86, "ipv4"}, {20, 10, "udp"}})
}

// A received frame: read into a buffer with headroom, wrapped, decoded
// into layers, then re-framed with a header in the headroom.
func TestFrameLayers(t *testing.T) {
	f := defaultFixture(t)
	b, err := f.p.Get(f.acct, 2048)
	must(t, err)
	frame := pattern(6, 14+20+8+30)
	copy(b.Bytes()[DefaultHeadroom:], frame)
	c, err := NewFrom(f.p, f.acct, Options{}, b, DefaultHeadroom, len(frame))
	must(t, err)
	defer c.Free()
	must(t, c.SetProto("ethernet"))
	for _, l := range []struct {
		off  int
		name string
	}{{14, "ipv4"}, {20, "udp"}, {8, "payload"}} {
		must(t, c.Push(l.off, c.Len()-l.off, l.name))
	}
	checkView(t, f, c, frame[42:])
	checkLayers(t, c, frame, []LayerInfo{{0, 72, "ethernet"}, {14, 58, "ipv4"}, {20, 38, "udp"}, {8, 30, "payload"}})
	if c.Headroom() != 0 || c.Tailroom() != 2048-DefaultHeadroom-72 {
		t.Fatalf("payload view: headroom %d, tailroom %d", c.Headroom(), c.Tailroom())
	}
	for c.Depth() > 0 {
		must(t, c.Pop())
	}
	used := f.inUse()
	must(t, c.Prepend(14))
	if f.inUse() != used || c.Headroom() != DefaultHeadroom-14 {
		t.Fatalf("prepend into headroom: %d buffers (was %d), headroom %d", f.inUse(), used, c.Headroom())
	}
}
