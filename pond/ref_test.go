package pond

import (
	"errors"
	"testing"
)

// TestRefcount: Ref adds a reference, and the buffer returns to its pool
// (and stops counting against its account) only with the last Put.
func TestRefcount(t *testing.T) {
	const size = 2048
	p := newTestPond(t, onePool(size, 0, 8, 8, 1<<20))
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, size)
	b := mustGet(t, p, a, size)
	stamp(b, 42)
	if b.Refs() != 1 {
		t.Fatalf("fresh buffer has %d references", b.Refs())
	}
	clone := b.Ref()
	clone2 := clone.Ref()
	if clone != b || clone2 != b || b.Refs() != 3 {
		t.Fatalf("after two Refs: %d references, clones %v %v of %v", b.Refs(), clone, clone2, b)
	}
	for i, want := range []int{2, 1} {
		p.Put(b)
		if s := c.Stats(); s.InUse != 1 || s.Frees != 0 || b.Refs() != want {
			t.Fatalf("after Put %d of 3: in_use %d frees %d refs %d, want 1, 0, %d", i+1, s.InUse, s.Frees, b.Refs(), want)
		}
		if a.Stats().UsedBytes != size {
			t.Fatalf("after Put %d of 3: account uses %d, want %d", i+1, a.Stats().UsedBytes, size)
		}
		if !stamped(b, 42) {
			t.Fatalf("after Put %d of 3: content changed", i+1)
		}
	}
	p.Put(clone2)
	if s := c.Stats(); s.InUse != 0 || s.Frees != 1 || s.Allocs != 1 {
		t.Errorf("after the last Put: in_use %d frees %d allocs %d, want 0, 1, 1", s.InUse, s.Frees, s.Allocs)
	}
	if a.Stats().UsedBytes != 0 {
		t.Errorf("after the last Put: account uses %d", a.Stats().UsedBytes)
	}
	checkQuiet(t, p, nil)
}

// TestMisusePanics: releasing a buffer more often than it was referenced,
// releasing it to another pond, or referencing a free buffer panics with a
// message naming the buffer, and the detected misuse leaves the pond's
// bookkeeping intact.
func TestMisusePanics(t *testing.T) {
	const size = 2048
	for _, tc := range []struct {
		name   string
		misuse func(t *testing.T, p, other *Pond, b, ob Buf) // b and ob are held once
		words  []string
		after  uint64 // buffers of p in use after the misuse (b and ob are put back if held)
		bHeld  bool   // b is still held after the misuse
	}{
		{
			name: "double put",
			misuse: func(t *testing.T, p, other *Pond, b, ob Buf) {
				p.Put(b)
				p.Put(b)
			},
			words: []string{"double release"},
		},
		{
			name: "put after ref and two puts",
			misuse: func(t *testing.T, p, other *Pond, b, ob Buf) {
				b.Ref()
				p.Put(b)
				p.Put(b)
				p.Put(b)
			},
			words: []string{"double release"},
		},
		{
			// A free buffer's state holds a free-list link whose low bits
			// can read as one reference; the sign still tells it is free.
			name: "double put with a link like one reference",
			misuse: func(t *testing.T, p, other *Pond, b, ob Buf) {
				p.Put(b)
				b.m.state = freeState(refMask - 2)
				if b.m.state&refMask != 1 {
					t.Fatalf("state %#x does not look like one reference", b.m.state)
				}
				p.Put(b)
			},
			words: []string{"double release"},
		},
		{
			name: "reference count overflow",
			misuse: func(t *testing.T, p, other *Pond, b, ob Buf) {
				b.m.state |= refMask
				defer func() { b.m.state = b.m.state&^refMask | 1 }()
				b.Ref()
			},
			words: []string{"more than", "references"},
			after: 1,
			bHeld: true,
		},
		{
			name: "other pond's buffer",
			misuse: func(t *testing.T, p, other *Pond, b, ob Buf) {
				p.Put(ob)
			},
			words: []string{"not this pond's"},
			after: 1,
			bHeld: true,
		},
		{
			name: "ref on a free buffer",
			misuse: func(t *testing.T, p, other *Pond, b, ob Buf) {
				p.Put(b)
				b.Ref()
			},
			words: []string{"free buffer"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPond(t, onePool(size, 0, 8, 8, 1<<20))
			other := newTestPond(t, onePool(size, 0, 8, 8, 1<<20))
			a := newAccount(t, p, "a", unlimited)
			oa := newAccount(t, other, "a", unlimited)
			b := mustGet(t, p, a, size)
			ob := mustGet(t, other, oa, size)
			defer other.Put(ob)
			if tc.bHeld {
				defer p.Put(b)
			}
			name := b.String()
			if tc.name == "other pond's buffer" {
				name = ob.String()
			}
			msg := catch(func() { tc.misuse(t, p, other, b, ob) })
			if msg == "" {
				t.Fatal("no panic")
			}
			mentions(t, "panic", msg, append(tc.words, name)...)
			if ob.Refs() != 1 {
				t.Errorf("the other pond's buffer has %d references after the misuse, want 1", ob.Refs())
			}
			if err := p.Audit(); err != nil {
				t.Errorf("after a recovered %s: %v", tc.name, err)
			}
			if s := p.Stats(); s.InUse != tc.after {
				t.Errorf("after a recovered %s: in_use %d, want %d", tc.name, s.InUse, tc.after)
			}
			// The pond keeps working: every free buffer can be taken once.
			n := 8 - int(tc.after)
			var all []Buf
			for range n {
				all = append(all, mustGet(t, p, a, size))
				stamp(all[len(all)-1], uint64(len(all)))
			}
			if x, err := p.Get(a, size); err == nil {
				all = append(all, x)
				t.Errorf("took %d buffers from a pool of 8 with %d in use", len(all), tc.after)
			}
			for i, x := range all {
				if x.Refs() != 1 || !stamped(x, uint64(i+1)) {
					t.Errorf("buffer %s: refs %d after the misuse, or handed out twice", x, x.Refs())
				}
			}
			putAll(p, all)
		})
	}
	t.Run("zero Buf", func(t *testing.T) {
		p := newTestPond(t, onePool(size, 0, 8, 8, 1<<20))
		if msg := catch(func() { p.Put(Buf{}) }); msg == "" {
			t.Error("Put of the zero Buf did not panic")
		}
		if (Buf{}).Valid() || (Buf{}).String() != "<no buffer>" {
			t.Errorf("zero Buf: Valid %v String %q", (Buf{}).Valid(), Buf{}.String())
		}
	})
}

// TestCloseBusy: Close refuses while a buffer is out and the pond stays
// usable; after the buffer is back Close succeeds, and only once.
func TestCloseBusy(t *testing.T) {
	p, err := New(onePool(2048, 1, 4, 1, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	a := newAccount(t, p, "a", unlimited)
	b := mustGet(t, p, a, 2048)
	err = p.Close()
	wantErr(t, "Close with a buffer out", err, ErrBusy)
	stamp(b, 7)
	b2 := mustGet(t, p, a, 2048)
	if !stamped(b, 7) || b2 == b {
		t.Error("the pond misbehaved after a refused Close")
	}
	p.Put(b)
	p.Put(b2)
	if err := p.Close(); err != nil {
		t.Fatalf("Close with everything back: %v", err)
	}
	wantErr(t, "second Close", p.Close(), ErrClosed)
}
