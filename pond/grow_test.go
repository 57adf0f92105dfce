package pond

import (
	"errors"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// oneP runs the rest of the test on one P. A pool whose depot is empty
// grows before it steals from other CPUs' magazines, so how often it grows
// is exact only when a single CPU's magazine holds every free buffer.
func oneP(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

// TestGrowth: an empty pool grows by grow_by buffers (one slab) each time
// it runs dry, the last growth only up to max, and never past max.
func TestGrowth(t *testing.T) {
	oneP(t)
	const size, maxN, growBy = 2048, 200, 64
	p := newTestPond(t, onePool(size, 0, maxN, growBy, 16<<20))
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, size)
	if s := c.Stats(); s.Buffers != 0 || s.Grows != 0 || p.ArenaBytes() != 0 {
		t.Fatalf("pool with min 0: buffers %d grows %d arena %d, want all 0", s.Buffers, s.Grows, p.ArenaBytes())
	}
	var bufs []Buf
	defer func() { putAll(p, bufs) }()
	for i := range maxN {
		bufs = append(bufs, mustGet(t, p, a, size))
		wantBuffers := min(maxN, (i/growBy+1)*growBy)
		wantGrows := uint64(i/growBy + 1)
		s := c.Stats()
		if s.Buffers != uint64(wantBuffers) || s.Grows != wantGrows || s.InUse != uint64(i+1) {
			t.Fatalf("after %d gets: buffers %d grows %d in_use %d, want %d, %d, %d",
				i+1, s.Buffers, s.Grows, s.InUse, wantBuffers, wantGrows, i+1)
		}
		if slabs := c.Slabs(); len(slabs) != int(wantGrows) {
			t.Fatalf("after %d gets: %d slabs, want %d", i+1, len(slabs), wantGrows)
		}
		checkInArena(t, p, bufs[i])
	}
	if b, err := p.Get(a, size); !errors.Is(err, ErrExhausted) {
		if err == nil {
			p.Put(b)
		}
		t.Errorf("Get at max: %v, want ErrExhausted", err)
	}
	s := c.Stats()
	if s.Buffers != maxN || s.HighWater != maxN || s.Fails != 1 {
		t.Errorf("at max: buffers %d high_water %d fails %d, want %d, %d, 1", s.Buffers, s.HighWater, s.Fails, maxN, maxN)
	}
	var slabBytes int64
	for _, sl := range c.Slabs() {
		slabBytes += sl.Bytes
	}
	if slabBytes != maxN*size {
		t.Errorf("slabs hold %d bytes, want %d", slabBytes, maxN*size)
	}
}

// TestGrowthArenaBound: a pool stops growing where the arena ends, even
// below its max, and the arena file never exceeds its bound.
func TestGrowthArenaBound(t *testing.T) {
	const size = 65536
	p := newTestPond(t, onePool(size, 0, 1000, 4, 1<<20))
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, size)
	var bufs []Buf
	defer func() { putAll(p, bufs) }()
	for {
		b, err := p.Get(a, size)
		if err != nil {
			if !errors.Is(err, ErrExhausted) {
				t.Fatalf("Get #%d: %v, want ErrExhausted at the arena bound", len(bufs), err)
			}
			break
		}
		checkInArena(t, p, b)
		bufs = append(bufs, b)
		if len(bufs) > 1000 {
			t.Fatal("pool grew past its max")
		}
	}
	if want := int(p.ArenaMax() / size); len(bufs) != want {
		t.Errorf("got %d buffers from a %d-byte arena, want %d", len(bufs), p.ArenaMax(), want)
	}
	if p.ArenaBytes() > p.ArenaMax() {
		t.Errorf("arena file %d bytes past its bound %d", p.ArenaBytes(), p.ArenaMax())
	}
	if s := c.Stats(); s.Buffers != uint64(len(bufs)) || s.Free != 0 {
		t.Errorf("buffers %d free %d, want %d and 0", s.Buffers, s.Free, len(bufs))
	}
}

// shmemResident is the process's resident shared memory in bytes: the
// arena is a memfd mapped MAP_SHARED, so its pages count as shmem.
func shmemResident(t *testing.T) int64 {
	t.Helper()
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "RssShmem:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err != nil {
					t.Fatalf("parse %q: %v", line, err)
				}
				return kb << 10
			}
		}
	}
	// Older kernels: statm's third field, shared (file and shmem) pages.
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no resident memory figures: %v", err)
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		t.Fatalf("statm %q", data)
	}
	pages, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		t.Fatalf("statm %q: %v", data, err)
	}
	return pages * int64(os.Getpagesize())
}

// TestShrinkReleasesMemory: Shrink gives every whole free slab above min
// back, resident memory drops by (nearly) the bytes released, and growing
// again reuses the released arena space instead of extending the file.
func TestShrinkReleasesMemory(t *testing.T) {
	const size, minN, maxN, growBy = 65536, 4, 256, 16 // slabs of 1 MiB
	p := newTestPond(t, onePool(size, minN, maxN, growBy, 32<<20))
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, size)

	take := func() []Buf {
		bufs := make([]Buf, maxN)
		for i := range bufs {
			bufs[i] = mustGet(t, p, a, size)
			m := bufs[i].Bytes()
			for j := range m {
				m[j] = byte(i + j)
			}
		}
		return bufs
	}
	bufs := take()
	arenaBytes := p.ArenaBytes()
	if arenaBytes < maxN*size {
		t.Fatalf("arena file %d bytes holds less than %d buffers of %d", arenaBytes, maxN, size)
	}
	before := shmemResident(t)
	putAll(p, bufs)
	n, err := c.Shrink()
	if err != nil {
		t.Fatalf("Shrink: %v", err)
	}
	after := shmemResident(t)
	released := int64(n) * size
	t.Logf("shmem resident: %d KiB touched, %d KiB after shrink: dropped %d KiB, released %d KiB (%d buffers)",
		before>>10, after>>10, (before-after)>>10, released>>10, n)

	// Whole slabs above min: New carved min buffers as one slab; every
	// later slab goes.
	if want := maxN - minN; n != want {
		t.Errorf("Shrink released %d buffers, want %d", n, want)
	}
	if before-after < released*9/10 {
		t.Errorf("resident shmem dropped by %d bytes, want at least 90%% of the %d released", before-after, released)
	}
	s := c.Stats()
	if s.Buffers != uint64(maxN-n) || s.Buffers < minN || s.Shrinks != 1 || s.InUse != 0 {
		t.Errorf("after shrink: buffers %d shrinks %d in_use %d, want %d, 1, 0 (and >= min %d)", s.Buffers, s.Shrinks, s.InUse, maxN-n, minN)
	}
	if p.ArenaBytes() != arenaBytes {
		t.Errorf("shrink changed the arena file from %d to %d bytes (it is sealed against shrinking)", arenaBytes, p.ArenaBytes())
	}
	checkQuiet(t, p, nil)

	// Nothing more to give back: a second shrink releases nothing.
	if n, err := c.Shrink(); n != 0 || err != nil {
		t.Errorf("second Shrink: %d, %v; want 0, nil", n, err)
	}

	// Regrowth reuses the punched-out space.
	bufs = take()
	if p.ArenaBytes() != arenaBytes {
		t.Errorf("regrowth extended the arena file from %d to %d bytes instead of reusing released space", arenaBytes, p.ArenaBytes())
	}
	for _, b := range bufs {
		checkInArena(t, p, b)
	}
	putAll(p, bufs)
	checkQuiet(t, p, nil)
}

// TestShrinkKeepsBusySlabs: a slab with one buffer in use, or needed to
// keep min buffers, stays; the busy buffer's bytes are untouched.
func TestShrinkKeepsBusySlabs(t *testing.T) {
	oneP(t)
	const size, minN, growBy = 4096, 16, 8
	p := newTestPond(t, onePool(size, minN, 64, growBy, 4<<20))
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, size)
	bufs := make([]Buf, 48) // slabs of 16, 8, 8, 8, 8
	for i := range bufs {
		bufs[i] = mustGet(t, p, a, size)
		stamp(bufs[i], uint64(i))
	}
	slabs := c.Slabs()
	if len(slabs) != 5 {
		t.Fatalf("%d slabs, want 5", len(slabs))
	}
	// Keep one buffer of the newest slab.
	newest := slabs[len(slabs)-1]
	keep := -1
	for i, b := range bufs {
		if keep < 0 && b.Offset() >= newest.Offset {
			keep = i
			continue
		}
		p.Put(b)
	}
	if keep < 0 {
		t.Fatal("no buffer in the newest slab")
	}
	busy := bufs[keep]
	defer p.Put(busy)
	n, err := c.Shrink()
	if err != nil {
		t.Fatal(err)
	}
	// Slabs 2..4 go; 5 is busy and 1 keeps min.
	if n != 3*growBy {
		t.Errorf("Shrink released %d buffers, want %d", n, 3*growBy)
	}
	if got := c.Slabs(); len(got) != 2 || got[0] != slabs[0] || got[1] != newest {
		t.Errorf("slabs after shrink %v, want %v and %v", got, slabs[0], newest)
	}
	if !stamped(busy, uint64(keep)) {
		t.Errorf("busy buffer %s lost its content in Shrink", busy)
	}
	checkQuiet(t, p, map[int]uint64{size: 1})
}

// TestSetMinMax: SetMin grows the pool at once, SetMax bounds growth, bad
// values (among them counts of more buffers than the arena holds, whose
// byte counts once overflowed) are refused, and a refused change leaves
// the setting as it was.
func TestSetMinMax(t *testing.T) {
	const size = 65536
	p := newTestPond(t, onePool(size, 0, 8, 2, 1<<20)) // the arena holds 16
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, size)

	for _, tc := range []struct {
		name    string
		op      func() error
		wantErr error
		min     uint64
		max     uint64
		buffers uint64
	}{
		{"min 4 grows", func() error { return c.SetMin(4) }, nil, 4, 8, 4},
		{"min above max", func() error { return c.SetMin(9) }, ErrInvalid, 4, 8, 4},
		{"min negative", func() error { return c.SetMin(-1) }, ErrInvalid, 4, 8, 4},
		{"max below min", func() error { return c.SetMax(3) }, ErrInvalid, 4, 8, 4},
		{"max 0", func() error { return c.SetMax(0) }, ErrInvalid, 4, 8, 4},
		{"max past the arena", func() error { return c.SetMax(17) }, ErrInvalid, 4, 8, 4},
		{"max near MaxInt64", func() error { return c.SetMax(math.MaxInt64) }, ErrInvalid, 4, 8, 4},
		{"max 16, all the arena holds", func() error { return c.SetMax(16) }, nil, 4, 16, 4},
		{"min past the arena", func() error { return c.SetMin(17) }, ErrInvalid, 4, 16, 4},
		{"min near MaxInt64", func() error { return c.SetMin(math.MaxInt64 / 2) }, ErrInvalid, 4, 16, 4},
		{"min 16 fills the arena", func() error { return c.SetMin(16) }, nil, 16, 16, 16},
		{"grow_by 0", func() error { return c.SetGrowBy(0) }, ErrInvalid, 16, 16, 16},
		{"grow_by past the arena", func() error { return c.SetGrowBy(17) }, ErrInvalid, 16, 16, 16},
		{"grow_by MaxInt64", func() error { return c.SetGrowBy(math.MaxInt64) }, ErrInvalid, 16, 16, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			s := c.Stats()
			if s.Min != tc.min || s.Max != tc.max || s.Buffers != tc.buffers {
				t.Errorf("min %d max %d buffers %d, want %d, %d, %d (a refused change must leave the pool as it was)",
					s.Min, s.Max, s.Buffers, tc.min, tc.max, tc.buffers)
			}
		})
	}
	if s := c.Stats(); s.GrowBy != 2 {
		t.Errorf("refused grow_by 0 changed grow_by to %d", s.GrowBy)
	}
	p.Put(mustGet(t, p, a, size))
	checkQuiet(t, p, nil)
}
