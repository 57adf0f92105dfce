package pond

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// sizesOf lists the buffer sizes of bs.
func sizesOf(bs []Buf) []int {
	out := make([]int, len(bs))
	for i, b := range bs {
		out[i] = b.Size()
	}
	return out
}

// classes makes a config of the given sizes with room for max buffers each.
func classes(maxN int, arena int64, sizes ...int) Config {
	cfg := Config{ArenaMax: arena}
	for _, s := range sizes {
		cfg.Classes = append(cfg.Classes, ClassConfig{Size: s, Max: maxN, GrowBy: 1})
	}
	return cfg
}

// TestGetListPlan: GetList uses the fewest buffers, and among plans of
// that many buffers the one of fewest bytes.
func TestGetListPlan(t *testing.T) {
	std := []int{128, 512, 2048, 9216, 65536}
	for _, tc := range []struct {
		sizes []int
		n     int
		want  []int // in any order
	}{
		{std, 1, []int{128}},
		{std, 128, []int{128}},
		{std, 129, []int{512}},
		{std, 3000, []int{9216}}, // one buffer beats 2048+2048
		{std, 9216, []int{9216}},
		{std, 65536, []int{65536}},
		{std, 65537, []int{65536, 128}},
		{std, 70000, []int{65536, 9216}},
		{std, 65536 + 9217, []int{65536, 65536}},
		{std, 131072, []int{65536, 65536}},
		{std, 140000, []int{65536, 65536, 9216}},
		// Sizes less than twice apart: two of the smaller class hold 8192
		// in fewer bytes than the larger and the smaller together.
		{[]int{4096, 6144}, 8192, []int{4096, 4096}},
		{[]int{4096, 6144}, 10000, []int{6144, 4096}},
		{[]int{4096, 6144}, 12288, []int{6144, 6144}},
		{[]int{1024, 1536}, 3072, []int{1536, 1536}},
		{[]int{1024, 1536}, 4096, []int{1536, 1536, 1024}},
	} {
		t.Run(fmt.Sprintf("%v/%d", tc.sizes, tc.n), func(t *testing.T) {
			p := newTestPond(t, classes(8, 4<<20, tc.sizes...))
			a := newAccount(t, p, "a", unlimited)
			got, err := p.GetList(a, tc.n, nil)
			if err != nil {
				t.Fatalf("GetList(%d): %v", tc.n, err)
			}
			defer putAll(p, got)
			gs := sizesOf(got)
			slices.Sort(gs)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(gs, want) {
				t.Errorf("GetList(%d) took buffers %v, want %v", tc.n, gs, want)
			}
			total := 0
			for _, b := range got {
				total += b.Size()
				checkInArena(t, p, b)
			}
			if total < tc.n {
				t.Errorf("GetList(%d) took only %d bytes", tc.n, total)
			}
			if s := a.Stats(); s.UsedBytes != uint64(total) {
				t.Errorf("account charged %d bytes, want %d", s.UsedBytes, total)
			}
		})
	}
}

// TestGetListFallback: when the pool the best plan needs is exhausted,
// GetList takes the plan with smaller buffers.
func TestGetListFallback(t *testing.T) {
	cfg := Config{Classes: []ClassConfig{
		{Size: 2048, Max: 64, GrowBy: 8},
		{Size: 9216, Max: 16, GrowBy: 8},
		{Size: 65536, Max: 1, GrowBy: 1},
	}, ArenaMax: 8 << 20}
	p := newTestPond(t, cfg)
	a := newAccount(t, p, "a", unlimited)
	big := mustGet(t, p, a, 65536)
	defer p.Put(big)

	got, err := p.GetList(a, 70000, nil)
	if err != nil {
		t.Fatalf("GetList(70000) with the 65536 pool exhausted: %v", err)
	}
	// 8 × 9216 = 73728 ≥ 70000.
	if want := slices.Repeat([]int{9216}, 8); !slices.Equal(sizesOf(got), want) {
		t.Errorf("GetList(70000) = %v, want %v", sizesOf(got), want)
	}
	putAll(p, got)

	// A single-buffer request whose pool and every larger one are
	// exhausted is served by a chain of smaller buffers.
	var hold []Buf
	for range 16 {
		hold = append(hold, mustGet(t, p, a, 9216))
	}
	got, err = p.GetList(a, 3000, nil)
	if err != nil {
		t.Fatalf("GetList(3000) with pools 9216 and 65536 exhausted: %v", err)
	}
	if want := []int{2048, 2048}; !slices.Equal(sizesOf(got), want) {
		t.Errorf("GetList(3000) = %v, want %v", sizesOf(got), want)
	}
	putAll(p, got)
	putAll(p, hold)
	checkQuiet(t, p, map[int]uint64{65536: 1})
}

// TestGetListAllOrNothing: a GetList that cannot be served holds nothing
// afterwards, charges nothing and leaves dst as it was.
func TestGetListAllOrNothing(t *testing.T) {
	cfg := Config{Classes: []ClassConfig{
		{Size: 2048, Max: 20, GrowBy: 4},
		{Size: 9216, Max: 5, GrowBy: 5},
		{Size: 65536, Max: 2, GrowBy: 1},
	}, ArenaMax: 8 << 20}
	p := newTestPond(t, cfg)
	a := newAccount(t, p, "a", unlimited)
	small := newAccount(t, p, "small", 100000)
	prefix := mustGet(t, p, a, 128)
	defer p.Put(prefix)

	for _, tc := range []struct {
		name string
		acct *Account
		n    int
		err  error
	}{
		// 3 × 65536, 22 × 9216 or 97 × 2048: none fits.
		{"exhausted", a, 180000, ErrExhausted},
		{"quota", small, 140000, ErrQuota},
		{"beyond the arena", a, 8<<20 + 1, ErrTooLarge},
		{"zero", a, 0, ErrInvalid},
		{"negative", a, -1, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := p.Stats()
			usedA, usedS := a.Stats().UsedBytes, small.Stats().UsedBytes
			dst := []Buf{prefix}
			out, err := p.GetList(tc.acct, tc.n, dst)
			if err == nil {
				putAll(p, out[1:])
				t.Fatalf("GetList(%d) succeeded with %v", tc.n, sizesOf(out[1:]))
			}
			wantErr(t, fmt.Sprintf("GetList(%d)", tc.n), err, tc.err)
			if len(out) != 1 || out[0] != prefix {
				t.Errorf("GetList(%d) failed but returned %v, want dst unchanged", tc.n, out)
			}
			after := p.Stats()
			if after.InUse != before.InUse || after.BytesInUse != before.BytesInUse {
				t.Errorf("GetList(%d) failed but in_use went %d → %d, bytes_in_use %d → %d",
					tc.n, before.InUse, after.InUse, before.BytesInUse, after.BytesInUse)
			}
			if a.Stats().UsedBytes != usedA || small.Stats().UsedBytes != usedS {
				t.Errorf("GetList(%d) failed but charged an account", tc.n)
			}
			if err := p.Audit(); err != nil {
				t.Error(err)
			}
		})
	}
	// The failed attempts left every buffer reachable.
	got, err := p.GetList(a, 2*65536, nil)
	if err != nil {
		t.Fatalf("GetList after failures: %v", err)
	}
	putAll(p, got)
	checkQuiet(t, p, map[int]uint64{2048: 1})
}

// TestGetTooLarge: Get of more than the largest buffer fails with
// ErrTooLarge and names the largest buffer.
func TestGetTooLarge(t *testing.T) {
	p := newTestPond(t, classes(4, 1<<20, 128, 2048))
	a := newAccount(t, p, "a", unlimited)
	for _, n := range []int{2049, 1 << 20, -1} {
		b, err := p.Get(a, n)
		if err == nil {
			p.Put(b)
			t.Errorf("Get(%d) succeeded", n)
			continue
		}
		if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrInvalid) {
			t.Errorf("Get(%d): %v, want ErrTooLarge or ErrInvalid", n, err)
		}
	}
	_, err := p.Get(a, 4096)
	wantErr(t, "Get(4096)", err, ErrTooLarge)
	if err != nil {
		mentions(t, "Get(4096)", err.Error(), "2048")
	}
	b := mustGet(t, p, a, 0)
	if b.Size() != 128 {
		t.Errorf("Get(0) gave a buffer of %d, want 128", b.Size())
	}
	p.Put(b)
	checkQuiet(t, p, nil)
}

// Chains larger than the largest buffer take lists on their hot path.
func TestGetListNoHeap(t *testing.T) {
	p := newTestPond(t, DefaultConfig())
	a := newAccount(t, p, "a", 64<<20)
	dst := make([]Buf, 0, 8)
	n := testing.AllocsPerRun(100, func() {
		out, err := p.GetList(a, 100000, dst[:0])
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range out {
			p.Put(b)
		}
	})
	if n != 0 {
		t.Fatalf("GetList(100000): %v heap allocations per call, want 0", n)
	}
}
