package pond

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func twoPools() Config {
	return Config{Classes: []ClassConfig{
		{Size: 128, Min: 64, Max: 1024, GrowBy: 64},
		{Size: 2048, Min: 64, Max: 1024, GrowBy: 64},
	}, ArenaMax: 8 << 20}
}

// TestFailAfterSequence: after N successes the next COUNT allocations fail
// with ErrExhausted and ErrInjected, then allocations succeed again. The
// magazines and credit are warm first, so the sequence holds only if the
// per-CPU fast path is really closed while armed.
func TestFailAfterSequence(t *testing.T) {
	p := newTestPond(t, twoPools())
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, 128)
	for range 3 {
		putAll(p, []Buf{mustGet(t, p, a, 100), mustGet(t, p, a, 100)})
	}
	if err := c.FailAfter(2, 3); err != nil {
		t.Fatal(err)
	}
	var got string
	for range 7 {
		b, err := p.Get(a, 100)
		switch {
		case err == nil:
			got += "+"
			p.Put(b)
		case errors.Is(err, ErrInjected) && errors.Is(err, ErrExhausted):
			got += "-"
		default:
			t.Fatalf("Get: %v", err)
		}
	}
	if got != "++---++" {
		t.Errorf("successes and failures %q, want %q", got, "++---++")
	}
	s := c.Stats()
	if s.InjectedFails != 3 || s.Fails != 3 {
		t.Errorf("injected_fails %d fails %d, want 3 and 3", s.InjectedFails, s.Fails)
	}
	if n := mustPool(t, p, 2048).Stats().Allocs; n != 0 {
		t.Errorf("the larger pool served %d allocations: an injected failure fell back", n)
	}
}

// TestFailAfterOff: disarming before the failures start leaves every
// allocation succeeding; count 0 (the default of "off") disarms.
func TestFailAfterOff(t *testing.T) {
	p := newTestPond(t, twoPools())
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, 128)
	if err := c.FailAfter(1, 1); err != nil {
		t.Fatal(err)
	}
	p.Put(mustGet(t, p, a, 100))
	if err := c.FailAfter(0, 0); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		p.Put(mustGet(t, p, a, 100))
	}
	if s := c.Stats(); s.InjectedFails != 0 {
		t.Errorf("injected_fails %d after off", s.InjectedFails)
	}
	wantErr(t, "FailAfter(-1, 1)", c.FailAfter(-1, 1), ErrInvalid)
	wantErr(t, "FailAfter(1, -1)", c.FailAfter(1, -1), ErrInvalid)
}

// TestFailAfterGetList: a list that needs the armed pool fails whole, does
// not wait, and holds nothing; GetListWait does not wait on it either.
func TestFailAfterGetList(t *testing.T) {
	p := newTestPond(t, twoPools())
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, 2048)
	if err := c.FailAfter(1, 1); err != nil {
		t.Fatal(err)
	}
	out, err := p.GetList(a, 3000, nil)
	wantErr(t, "GetList(3000) with the second 2048 buffer failing", err, ErrExhausted, ErrInjected)
	if len(out) != 0 {
		t.Errorf("GetList returned %d buffers on failure", len(out))
	}
	if err := c.FailAfter(0, 1); err != nil {
		t.Fatal(err)
	}
	_, err = p.GetListWait(t.Context(), a, 2000, nil)
	wantErr(t, "GetListWait(2000) with an injected failure", err, ErrInjected)
	if s := p.Stats(); s.InUse != 0 {
		t.Errorf("%d buffers in use after failed lists", s.InUse)
	}
}

// TestFailAfterConcurrent: goroutines on every CPU allocate while the pool
// is armed; exactly COUNT allocations fail whatever the interleaving, and
// the injection disarms itself after the last.
func TestFailAfterConcurrent(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			runFailAfterConcurrent(t)
		})
	}
}

func runFailAfterConcurrent(t *testing.T) {
	const (
		goroutines = 8
		each       = 200
		pass       = 300
		count      = 50
	)
	p := newTestPond(t, twoPools())
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, 128)
	for range 100 {
		p.Put(mustGet(t, p, a, 100))
	}
	if err := c.FailAfter(pass, count); err != nil {
		t.Fatal(err)
	}
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				b, err := p.Get(a, 100)
				if err != nil {
					if !errors.Is(err, ErrInjected) {
						t.Errorf("Get: %v", err)
					}
					failed.Add(1)
					continue
				}
				ok.Add(1)
				p.Put(b)
			}
		})
	}
	wg.Wait()
	if failed.Load() != count || ok.Load() != goroutines*each-count {
		t.Errorf("%d failed and %d succeeded, want %d and %d", failed.Load(), ok.Load(), count, goroutines*each-count)
	}
	if s := c.Stats(); s.InjectedFails != count || s.Fails != count {
		t.Errorf("injected_fails %d fails %d, want %d", s.InjectedFails, s.Fails, count)
	}
	if c.inject.armed.Load() || c.fastCharge.Load() != 128 {
		t.Errorf("still armed after its failures: fast path charge %d", c.fastCharge.Load())
	}
}
