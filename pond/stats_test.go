package pond

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pondfs/pondfs/pond/stats"
)

func fieldNames(fs []stats.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// TestStatsFields: every stats snapshot names exactly the fields of
// README's reference, in its order, and describes each one.
func TestStatsFields(t *testing.T) {
	for _, tc := range []struct {
		file string
		got  []stats.Field
		want []string
	}{
		{"stats", Stats{}.Fields(), []string{"pools", "arena_bytes", "buffers", "free", "in_use", "bytes_in_use", "allocs", "fails"}},
		{"pools/<size>/stats", PoolStats{}.Fields(), []string{"buf_size", "buffers", "free", "in_use", "high_water", "min", "max", "grow_by",
			"allocs", "frees", "fails", "waits", "grows", "shrinks", "injected_fails"}},
		{"accounts/<name>/stats", AccountStats{}.Fields(), []string{"limit_bytes", "used_bytes", "high_water_bytes", "allocs", "fails", "waits"}},
	} {
		if got := fieldNames(tc.got); !slices.Equal(got, tc.want) {
			t.Errorf("%s fields %v, want %v", tc.file, got, tc.want)
		}
		for _, f := range tc.got {
			if f.Help == "" {
				t.Errorf("%s: %s has no help", tc.file, f.Name)
			}
		}
	}
}

// TestStatsFieldValues: each field carries the struct member of its name.
func TestStatsFieldValues(t *testing.T) {
	p := newTestPond(t, Config{Classes: []ClassConfig{{Size: 128, Min: 4, Max: 8, GrowBy: 2}, {Size: 2048, Min: 0, Max: 3, GrowBy: 1}}, ArenaMax: 1 << 20})
	a := newAccount(t, p, "a", 5000)
	b1, b2 := mustGet(t, p, a, 2048), mustGet(t, p, a, 2048)
	defer putAll(p, []Buf{b1, b2})
	if _, err := p.Get(a, 2048); err == nil {
		t.Fatal("Get past the account's limit succeeded")
	}
	c := mustPool(t, p, 2048)
	ps := c.Stats()
	want := PoolStats{BufSize: 2048, Buffers: 2, Free: 0, InUse: 2, HighWater: 2, Min: 0, Max: 3, GrowBy: 1,
		Allocs: 2, Frees: 0, Fails: ps.Fails, Waits: 0, Grows: 2, Shrinks: 0}
	if ps != want {
		t.Errorf("pool stats %+v, want %+v", ps, want)
	}
	values := map[string]uint64{}
	for _, f := range ps.Fields() {
		values[f.Name] = f.Value
	}
	if values["buf_size"] != 2048 || values["in_use"] != 2 || values["max"] != 3 || values["grows"] != 2 || values["min"] != 0 || values["buffers"] != 2 {
		t.Errorf("pool fields %v do not match %+v", ps.Fields(), ps)
	}
	as := a.Stats()
	if f := as.Fields(); f[0].Value != 5000 || f[1].Value != 4096 || f[2].Value != 4096 || f[3].Value != 2 || f[4].Value != 1 {
		t.Errorf("account fields %v", f)
	}
	s := p.Stats()
	wantTotal := Stats{Pools: 2, ArenaBytes: uint64(p.ArenaBytes()), Buffers: 6, Free: 4, InUse: 2, BytesInUse: 4096, Allocs: 2, Fails: s.Fails}
	if s != wantTotal {
		t.Errorf("pond stats %+v, want %+v", s, wantTotal)
	}
	if f := s.Fields(); f[1].Value != uint64(p.ArenaBytes()) || f[5].Value != 4096 {
		t.Errorf("pond fields %v", f)
	}
}

// TestStatsInUseBounded: a snapshot taken while goroutines get and put on
// several CPUs never reports more in use than is held, nor a high-water mark
// above the true peak (a peak may go unrecorded; one never reached may not
// be invented).
func TestStatsInUseBounded(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			// Buffers of half an account's credit batch (64 KiB) make
			// its credit move between CPUs every other allocation.
			const size, goroutines = 32768, 2
			p := newTestPond(t, onePool(size, 64, 64, 64, 8<<20))
			a := newAccount(t, p, "a", unlimited)
			c := mustPool(t, p, size)
			var stop atomic.Bool
			var wg sync.WaitGroup
			for range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; !stop.Load() && i < 200000; i++ {
						p.Put(mustGetNoT(p, a, size))
						runtime.Gosched()
					}
				}()
			}
			var bad []string
			for i := 0; i < 100000 && len(bad) < 5; i++ {
				if s := c.Stats(); s.InUse > goroutines || s.HighWater > goroutines || checkPoolStats(s) != nil {
					bad = append(bad, fmt.Sprintf("pool stats %+v", s))
				}
				if s := p.Stats(); s.InUse > goroutines || s.BytesInUse > goroutines*size {
					bad = append(bad, fmt.Sprintf("pond stats %+v", s))
				}
				if s := a.Stats(); s.UsedBytes > goroutines*size || s.HighWaterBytes > goroutines*size {
					bad = append(bad, fmt.Sprintf("account stats %+v", s))
				}
			}
			stop.Store(true)
			wg.Wait()
			for _, s := range bad {
				t.Errorf("with at most %d buffers of %d held: %s", goroutines, size, s)
			}
			checkQuiet(t, p, nil)
		})
	}
}
