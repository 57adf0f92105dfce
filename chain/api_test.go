package chain

import (
	"errors"
	"slices"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

func TestNewErrors(t *testing.T) {
	f := defaultFixture(t)
	for _, tc := range []struct {
		p    *pond.Pond
		a    *pond.Account
		opt  Options
		name string
	}{
		{nil, f.acct, Options{}, "nil pond"},
		{f.p, nil, Options{}, "nil account"},
		{f.p, f.acct, Options{MaxLen: -1}, "negative max"},
		{f.p, f.acct, Options{Wait: -1}, "negative wait"},
		{f.p, f.acct, Options{Headroom: 4096}, "headroom past largest buffer"},
	} {
		if _, err := New(tc.p, tc.a, tc.opt); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	c := f.chain(Options{MaxLen: 1 << 50})
	if got := c.Options(); got.MaxLen != int(f.p.ArenaMax()) || got.Headroom != DefaultHeadroom {
		t.Errorf("resolved options %+v", got)
	}
	c.Free()
}

func TestNewFrom(t *testing.T) {
	f := defaultFixture(t)
	b, err := f.p.Get(f.acct, 512)
	must(t, err)
	for _, a := range [][2]int{{-1, 1}, {0, -1}, {0, 513}, {500, 13}} {
		if _, err := NewFrom(f.p, f.acct, Options{}, b, a[0], a[1]); !errors.Is(err, ErrRange) {
			t.Errorf("NewFrom(%d, %d): %v", a[0], a[1], err)
		}
	}
	if _, err := NewFrom(f.p, f.acct, Options{}, pond.Buf{}, 0, 1); !errors.Is(err, ErrRange) {
		t.Errorf("NewFrom(no buffer): %v", err)
	}
	if b.Refs() != 1 {
		t.Fatalf("failed NewFrom changed the references: %d", b.Refs())
	}
	c, err := NewFrom(f.p, f.acct, Options{}, b, 0, 0)
	must(t, err)
	if c.Len() != 0 || f.inUse() != 0 {
		t.Fatalf("empty NewFrom: len %d, %d buffers in use", c.Len(), f.inUse())
	}
	c.Free()
}

// NewFromList makes a chain of a frame read across several buffers: from
// an offset in the first, then each further one from its start.
func TestNewFromList(t *testing.T) {
	f := defaultFixture(t)
	b0, err := f.p.Get(f.acct, 512)
	must(t, err)
	b1, err := f.p.Get(f.acct, 512)
	must(t, err)
	bufs := []pond.Buf{b0, b1}
	for _, a := range [][2]int{{-1, 600}, {0, -1}, {513, 600}, {100, 412}, {100, 925}, {0, 512}} {
		if _, err := NewFromList(f.p, f.acct, Options{}, bufs, a[0], a[1]); !errors.Is(err, ErrRange) {
			t.Errorf("NewFromList(%d, %d): %v", a[0], a[1], err)
		}
	}
	if _, err := NewFromList(f.p, f.acct, Options{}, []pond.Buf{b0, {}}, 0, 600); !errors.Is(err, ErrRange) {
		t.Errorf("NewFromList(no second buffer): %v", err)
	}
	if _, err := NewFromList(f.p, f.acct, Options{}, nil, 0, 0); !errors.Is(err, ErrRange) {
		t.Errorf("NewFromList(no buffers): %v", err)
	}
	if b0.Refs() != 1 || b1.Refs() != 1 {
		t.Fatalf("failed NewFromList changed the references: %d, %d", b0.Refs(), b1.Refs())
	}
	want := pattern(3, 800)
	copy(b0.Bytes()[100:], want)
	copy(b1.Bytes(), want[412:])
	c, err := NewFromList(f.p, f.acct, Options{}, bufs, 100, len(want))
	must(t, err)
	got := make([]byte, len(want)+1)
	if n, _ := c.ReadAt(got, 0); n != len(want) || !slices.Equal(got[:n], want) || c.NumSegments() != 2 {
		t.Errorf("chain of %d bytes in %d segments, want the %d bytes in 2", n, c.NumSegments(), len(want))
	}
	c.Free()
	if f.inUse() != 0 {
		t.Errorf("%d buffers in use after Free", f.inUse())
	}
}

// A freed chain reports ErrInvalid from every operation instead of
// panicking; a second Free panics.
func TestUseAfterFree(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{}, pattern(1, 10))
	c.Free()
	errs := []error{
		c.Append(nil), c.Prepend(1), c.TrimFront(0), c.TrimBack(0), c.Truncate(0),
		c.Push(0, 0, ""), c.Pop(), c.Pullup(0), c.SetProto(""), c.Commit(0),
		c.Concat(""), c.AppendChain(nil),
	}
	_, err := c.Split(0)
	errs = append(errs, err)
	_, err = c.Clone()
	errs = append(errs, err)
	_, err = c.ReadAt(nil, 0)
	errs = append(errs, err)
	_, err = c.WriteAt(nil, 0)
	errs = append(errs, err)
	_, err = c.Read(nil)
	errs = append(errs, err)
	_, err = c.AppendSpace(1)
	errs = append(errs, err)
	_, err = c.Layer(0)
	errs = append(errs, err)
	_, err = c.SplitFragments(nil)
	errs = append(errs, err)
	for i, err := range errs {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("operation %d on a freed chain: %v", i, err)
		}
	}
	if c.Len() != 0 || c.ChainLen() != 0 || c.Depth() != 0 || c.Headroom() != 0 || c.Tailroom() != 0 ||
		c.NumSegments() != 0 || len(c.Iovecs(nil)) != 0 || len(c.Segments(nil)) != 0 {
		t.Error("a freed chain reports content")
	}
	defer func() {
		if recover() == nil {
			t.Error("second Free did not panic")
		}
	}()
	c.Free()
}

// A second Free after New may have reused the struct panics and leaves the
// new chains whole. Only race builds promise it (see Free), and the suite
// runs under the race detector. A pooled build reuses the struct in most
// rounds (sync.Pool drops some puts under the race detector), so twenty
// rounds catch it.
func TestFreeAfterReusePanics(t *testing.T) {
	if !raceEnabled {
		t.Skip("pooled builds reuse chain structs; race builds catch this")
	}
	f := defaultFixture(t)
	for range 20 {
		old := f.filled(Options{}, pattern(1, 10))
		old.Free()
		var fresh []*Chain
		for range 8 {
			fresh = append(fresh, f.filled(Options{}, pattern(2, 10)))
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("second Free did not panic")
				}
			}()
			old.Free()
		}()
		for _, c := range fresh {
			if c.Len() != 10 {
				t.Errorf("a chain made after the first Free has length %d after the second", c.Len())
			}
			c.Free()
		}
		if t.Failed() {
			return
		}
	}
}

func TestJoinErrors(t *testing.T) {
	f := defaultFixture(t)
	g := defaultFixture(t)
	c := f.filled(Options{}, pattern(1, 10))
	defer c.Free()
	o := f.filled(Options{}, pattern(2, 10))
	defer o.Free()
	foreign := g.filled(Options{}, pattern(3, 10))
	defer foreign.Free()
	mustErr(t, c.AppendChain(c), ErrInvalid)
	mustErr(t, c.AppendChain(nil), ErrInvalid)
	mustErr(t, c.AppendChain(foreign), ErrInvalid)
	mustErr(t, c.Concat("x", o, o), ErrInvalid)
	mustErr(t, c.Concat("x", c), ErrInvalid)
	mustErr(t, c.Concat("x", o, foreign), ErrInvalid)
	small := f.chain(Options{MaxLen: 15})
	defer small.Free()
	must(t, small.Append(pattern(4, 10)))
	mustErr(t, small.AppendChain(o), ErrTooLong)
	mustErr(t, small.Concat("x", o), ErrTooLong)
	checkView(t, f, small, pattern(4, 10))
	checkView(t, f, o, pattern(2, 10))
}

func TestArgumentErrors(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{MaxLen: 200}, pattern(1, 100))
	defer c.Free()
	mustErr(t, c.Prepend(-1), ErrRange)
	mustErr(t, c.Prepend(101), ErrTooLong)
	mustErr(t, c.Append(make([]byte, 101)), ErrTooLong)
	mustErr(t, c.Truncate(-1), ErrRange)
	mustErr(t, c.Truncate(201), ErrTooLong)
	mustErr(t, c.Pullup(-1), ErrRange)
	_, err := c.Split(-1)
	mustErr(t, err, ErrRange)
	_, err = c.AppendSpace(-1)
	mustErr(t, err, ErrRange)
	_, err = c.AppendSpace(101)
	mustErr(t, err, ErrTooLong)
	mustErr(t, c.Commit(1), ErrRange)
	checkView(t, f, c, pattern(1, 100))
}

func TestAppendSpaceCommit(t *testing.T) {
	f := defaultFixture(t)
	c := f.chain(Options{})
	defer c.Free()
	space, err := c.AppendSpace(1500)
	must(t, err)
	copy(space, pattern(1, 1000))
	must(t, c.Commit(1000))
	if c.Headroom() != DefaultHeadroom {
		t.Fatalf("first buffer's headroom %d", c.Headroom())
	}
	// Tailroom serves the next space; a change in between voids it.
	space, err = c.AppendSpace(10)
	must(t, err)
	copy(space, "0123456789")
	must(t, c.Append([]byte{1}))
	mustErr(t, c.Commit(10), ErrRange)
	// Commit(0) gives a spare buffer back.
	used := f.inUse()
	_, err = c.AppendSpace(2048)
	must(t, err)
	must(t, c.Commit(0))
	if f.inUse() != used {
		t.Fatalf("Commit(0) kept the spare buffer")
	}
	checkView(t, f, c, append(pattern(1, 1000), 1))
	// An uncommitted spare goes back with Free.
	_, err = c.AppendSpace(2048)
	must(t, err)
}

// Building, decoding and sending a frame, cloning and splitting take no
// heap allocation once the chain structs are pooled.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	f := defaultFixture(t)
	frame := pattern(1, 1500)
	iov := make([][]byte, 0, 8)
	cases := map[string]func(){
		"receive": func() {
			c, _ := New(f.p, f.acct, Options{})
			space, _ := c.AppendSpace(1514)
			n := copy(space, frame)
			_ = c.Commit(n)
			_ = c.SetProto("ethernet")
			_ = c.Push(14, c.Len()-14, "ipv4")
			_ = c.Push(20, c.Len()-20, "udp")
			_ = c.Push(8, c.Len()-8, "payload")
			iov = c.Iovecs(iov[:0])
			c.Free()
		},
		"send": func() {
			c, _ := New(f.p, f.acct, Options{})
			_ = c.Append(frame)
			_ = c.Prepend(14)
			_, _ = c.WriteAt(frame[:14], 0)
			iov = c.Iovecs(iov[:0])
			c.Free()
		},
		"clone-split": func() {
			c, _ := New(f.p, f.acct, Options{})
			_ = c.Append(frame)
			cl, _ := c.Clone()
			nc, _ := cl.Split(700)
			_ = cl.AppendChain(nc)
			_ = cl.Pullup(1000)
			cl.Free()
			c.Free()
		},
	}
	for name, fn := range cases {
		fn()
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
}
