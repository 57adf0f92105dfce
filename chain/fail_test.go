package chain

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pondfs/pondfs/pond"
)

// state is everything a failed operation must leave as it was: every
// layer's bytes and place, the view's segments, the buffers in use.
type state struct {
	layers []LayerInfo
	bytes  [][]byte
	segs   []Segment
	inUse  uint64
}

func stateOf(t *testing.T, f *fixture, c *Chain) state {
	t.Helper()
	var s state
	for k := 0; k <= c.Depth(); k++ {
		l, err := c.Layer(k)
		must(t, err)
		b := make([]byte, l.Length)
		if _, err := c.ReadAtLayer(k, b, 0); err != nil && l.Length > 0 {
			t.Fatal(err)
		}
		s.layers, s.bytes = append(s.layers, l), append(s.bytes, b)
	}
	s.segs, s.inUse = c.Segments(nil), f.inUse()
	return s
}

func (s state) equal(o state) bool {
	return slices.Equal(s.layers, o.layers) && slices.EqualFunc(s.bytes, o.bytes, bytes.Equal) &&
		slices.Equal(s.segs, o.segs) && s.inUse == o.inUse
}

// failsCleanly runs op, which must fail for want of buffers or quota, and
// checks that the chains it touched are exactly as they were.
func failsCleanly(t *testing.T, f *fixture, op func() error, cs ...*Chain) {
	t.Helper()
	var before []state
	for _, c := range cs {
		before = append(before, stateOf(t, f, c))
	}
	err := op()
	if !errors.Is(err, pond.ErrQuota) && !errors.Is(err, pond.ErrExhausted) {
		t.Fatalf("error %v, want the pond's ErrQuota or ErrExhausted", err)
	}
	for i, c := range cs {
		if after := stateOf(t, f, c); !after.equal(before[i]) {
			t.Fatalf("chain %d changed by a failed operation: layers %v -> %v, segments %v -> %v, in use %d -> %d",
				i, before[i].layers, after.layers, before[i].segs, after.segs, before[i].inUse, after.inUse)
		}
	}
	if err := f.p.Audit(); err != nil {
		t.Fatal(err)
	}
}

// limitTo lets the account take extra more bytes than it holds now, so
// that an operation fails part way through its allocations.
func limitTo(t *testing.T, f *fixture, extra int64) {
	t.Helper()
	must(t, f.acct.SetLimit(int64(f.acct.Stats().UsedBytes)+extra))
}

// sharedChain is a chain of three 2 KiB buffers (a tail in a fourth) and
// a clone that shares all of them.
func sharedChain(t *testing.T, f *fixture) (*Chain, *Chain) {
	t.Helper()
	c := f.chain(Options{Headroom: -1})
	for i := range 3 {
		must(t, c.Append(pattern(byte(i), 2048)))
	}
	must(t, c.Append(pattern(7, 100)))
	cl, err := c.Clone()
	must(t, err)
	t.Cleanup(func() { c.Free(); cl.Free() })
	return c, cl
}

func TestFailureLeavesChainUnchanged(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, f *fixture, c, cl *Chain)
		op    func(c *Chain) error
	}{
		{"append-multi-buffer", func(t *testing.T, f *fixture, c, cl *Chain) {
			must(t, cl.TrimBack(100)) // the tail buffer is c's alone
			limitTo(t, f, 2048)
		}, func(c *Chain) error { return c.Append(pattern(1, 5000)) }},
		{"write-copies-then-fails", func(t *testing.T, f *fixture, c, cl *Chain) {
			limitTo(t, f, 2*2048)
		}, func(c *Chain) error { _, err := c.WriteAt(pattern(2, 6000), 10); return err }},
		{"write-copies-then-growth-fails", func(t *testing.T, f *fixture, c, cl *Chain) {
			limitTo(t, f, 4*2048)
		}, func(c *Chain) error { _, err := c.WriteAt(pattern(2, 9000), 10); return err }},
		{"prepend-multi-buffer", func(t *testing.T, f *fixture, c, cl *Chain) {
			limitTo(t, f, 2048)
		}, func(c *Chain) error { return c.Prepend(5000) }},
		{"pullup", func(t *testing.T, f *fixture, c, cl *Chain) {
			must(t, c.TrimFront(1000))
			limitTo(t, f, 512)
		}, func(c *Chain) error { return c.Pullup(2000) }},
		{"truncate-up", func(t *testing.T, f *fixture, c, cl *Chain) {
			limitTo(t, f, 2048)
		}, func(c *Chain) error { return c.Truncate(c.Len() + 4000) }},
		{"append-space", func(t *testing.T, f *fixture, c, cl *Chain) {
			limitTo(t, f, 0)
		}, func(c *Chain) error { _, err := c.AppendSpace(100); return err }},
		{"exhausted-pools", func(t *testing.T, f *fixture, c, cl *Chain) {
			for _, pl := range f.p.Pools() {
				must(t, pl.SetMax(max(1, int(pl.Stats().Buffers))))
			}
			for {
				b, err := f.p.Get(f.acct, 1)
				if err != nil {
					mustErr(t, err, pond.ErrExhausted)
					break
				}
				t.Cleanup(func() { f.p.Put(b) })
			}
		}, func(c *Chain) error { _, err := c.WriteAt(pattern(3, 3000), 1000); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, []pond.ClassConfig{
				{Size: 128, Min: 0, Max: 1000, GrowBy: 1},
				{Size: 512, Min: 0, Max: 1000, GrowBy: 1},
				{Size: 2048, Min: 0, Max: 1000, GrowBy: 1},
			}, unlimited)
			c, cl := sharedChain(t, f)
			tc.setup(t, f, c, cl)
			failsCleanly(t, f, func() error { return tc.op(c) }, c, cl)
		})
	}
}

// The buffers a failed allocation gave back serve the next try: the
// failure leaked nothing.
func TestFailureThenSuccess(t *testing.T) {
	f := newFixture(t, classes, unlimited)
	c, cl := sharedChain(t, f)
	limitTo(t, f, 2*2048)
	_, err := c.WriteAt(pattern(2, 6500), 10)
	mustErr(t, err, pond.ErrQuota)
	must(t, f.acct.SetLimit(unlimited))
	_, err = c.WriteAt(pattern(2, 6500), 10)
	must(t, err)
	want := append(viewBytes(t, cl)[:10], pattern(2, 6500)...)
	checkView(t, f, c, want)
}

func TestWaitForBuffers(t *testing.T) {
	f := newFixture(t, classes, 2048)
	hold := f.filled(Options{Headroom: -1}, pattern(1, 2048))
	c := f.chain(Options{Headroom: -1, Wait: 30 * time.Millisecond})
	defer c.Free()
	start := time.Now()
	mustErr(t, c.Append(pattern(2, 100)), pond.ErrQuota)
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Fatalf("failed after %v, before Wait ran out", d)
	}
	c.opt.Wait = 5 * time.Second
	go func() {
		time.Sleep(20 * time.Millisecond)
		hold.Free()
	}()
	must(t, c.Append(pattern(2, 100)))
	checkView(t, f, c, pattern(2, 100))
}
