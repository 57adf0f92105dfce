package chain

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

// Renew releases everything the chain held (buffers, lent memory, the
// space AppendSpace handed out, layers) and leaves it as NewFrom would
// make it, with the chain's options.
func TestRenew(t *testing.T) {
	f := defaultFixture(t)
	opt := Options{Headroom: 32, MaxLen: 6000}
	c := f.filled(opt, pattern(1, 3000)) // several buffers
	released := false
	must(t, c.AppendBorrowed(pattern(2, 10), func() { released = true }))
	_, err := c.AppendSpace(2000) // a spare buffer handed out
	must(t, err)
	must(t, c.Push(5, 100, "inner"))

	b, err := f.p.Get(f.acct, 512)
	must(t, err)
	frame := pattern(3, 100)
	copy(b.Bytes()[64:], frame)
	must(t, c.Renew(b, 64, len(frame)))
	if !released {
		t.Error("Renew kept lent memory")
	}
	if got := f.inUse(); got != 1 {
		t.Errorf("%d buffers in use after Renew, want only the new one", got)
	}
	if c.Depth() != 0 || c.NumSegments() != 1 || c.Headroom() != 64 || c.Options() != opt {
		t.Errorf("renewed chain: depth %d, %d segments, headroom %d, options %+v",
			c.Depth(), c.NumSegments(), c.Headroom(), c.Options())
	}
	if info, _ := c.Layer(0); info.Proto != "" {
		t.Errorf("layer 0 kept its proto %q", info.Proto)
	}
	checkView(t, f, c, frame)
	if err := c.Commit(1); err == nil {
		t.Error("Commit after Renew committed space handed out before it")
	}
	c.Free()

	empty := f.filled(Options{}, pattern(4, 10))
	b, err = f.p.Get(f.acct, 64)
	must(t, err)
	must(t, empty.Renew(b, 0, 0))
	if empty.Len() != 0 || f.inUse() != 0 {
		t.Errorf("empty Renew: len %d, %d buffers in use", empty.Len(), f.inUse())
	}
	empty.Free()
}

// A Renew that fails changes nothing: the chain keeps its bytes and the
// caller its buffer.
func TestRenewErrors(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{MaxLen: 100}, pattern(1, 50))
	must(t, c.Push(10, 20, "x"))
	b, err := f.p.Get(f.acct, 512)
	must(t, err)
	for _, a := range [][2]int{{-1, 1}, {0, -1}, {0, 513}, {500, 13}} {
		mustErr(t, c.Renew(b, a[0], a[1]), ErrRange)
	}
	mustErr(t, c.Renew(pond.Buf{}, 0, 1), ErrRange)
	mustErr(t, c.Renew(b, 0, 101), ErrTooLong)
	if b.Refs() != 1 {
		t.Fatalf("failed Renew changed the buffer's references: %d", b.Refs())
	}
	if c.Depth() != 1 {
		t.Fatalf("failed Renew popped the layers: depth %d", c.Depth())
	}
	checkView(t, f, c, pattern(1, 50)[10:30])
	c.Free()
	if err := c.Renew(b, 0, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("Renew of a freed chain: %v", err)
	}
	f.p.Put(b)
}

// A clone's buffers stay with the clone when the original is renewed.
func TestRenewKeepsClonesData(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{}, pattern(1, 200))
	d, err := c.Clone()
	must(t, err)
	b, err := f.p.Get(f.acct, 512)
	must(t, err)
	must(t, c.Renew(b, 0, 50))
	checkView(t, f, d, pattern(1, 200))
	if got := viewBytes(t, c); !bytes.Equal(got, b.Bytes()[:50]) {
		t.Errorf("renewed chain reads %x", got)
	}
	c.Free()
	d.Free()
}
