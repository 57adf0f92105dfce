package pond

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// result is what a waiting goroutine got.
type result struct {
	who string
	b   Buf
	err error
}

// startWait runs GetWait on its own goroutine and reports on the channel.
func startWait(ctx context.Context, p *Pond, a *Account, size int, who string, out chan<- result) {
	go func() {
		b, err := p.GetWait(ctx, a, size)
		out <- result{who: who, b: b, err: err}
	}()
}

// receive waits for one result, failing the test after 10 seconds.
func receive(t *testing.T, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return result{}
	}
}

// TestGetWaitFIFO: waiters on an exhausted pool are served first come,
// first served, each by a Put; the waits counters count them.
func TestGetWaitFIFO(t *testing.T) {
	const size = 2048
	p := newTestPond(t, onePool(size, 2, 2, 1, 1<<20))
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, size)
	b1, b2 := mustGet(t, p, a, size), mustGet(t, p, a, size)
	ctx := t.Context()
	w1, w2 := make(chan result, 1), make(chan result, 1)

	startWait(ctx, p, a, size, "W1", w1)
	waitFor(t, "W1 to queue", func() bool { return c.Stats().Waits == 1 })
	startWait(ctx, p, a, size, "W2", w2)
	waitFor(t, "W2 to queue", func() bool { return c.Stats().Waits == 2 })
	if s := a.Stats(); s.Waits != 2 {
		t.Errorf("account waits %d, want 2", s.Waits)
	}

	p.Put(b1)
	var r result
	select {
	case r = <-w1:
	case r = <-w2:
	case <-time.After(10 * time.Second):
		t.Fatal("a Put woke no waiter")
	}
	if r.err != nil || r.who != "W1" {
		t.Fatalf("first Put served %s (%v), want W1", r.who, r.err)
	}
	held := []Buf{r.b}
	// W2 is still blocked: the pool has no free buffer left for it.
	if s := c.Stats(); s.InUse != 2 || s.Free != 0 {
		t.Errorf("after serving W1: in_use %d free %d, want 2 and 0", s.InUse, s.Free)
	}
	select {
	case r := <-w2:
		t.Fatalf("W2 returned (%v) with no buffer free", r.err)
	default:
	}

	p.Put(b2)
	r = receive(t, w2, "W2")
	if r.err != nil {
		t.Fatalf("W2: %v", r.err)
	}
	held = append(held, r.b)
	putAll(p, held)
	if s := c.Stats(); s.Waits != 2 {
		t.Errorf("pool waits %d, want 2", s.Waits)
	}
	checkQuiet(t, p, nil)
}

// TestGetWaitNoWaitWhenFree: GetWait with a buffer free returns at once and
// counts no wait, and so does one that can never be served.
func TestGetWaitNoWaitWhenFree(t *testing.T) {
	p := newTestPond(t, onePool(2048, 2, 2, 1, 1<<20))
	a := newAccount(t, p, "a", unlimited)
	b, err := p.GetWait(t.Context(), a, 2048)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := p.GetListWait(t.Context(), a, 2048, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Put(b)
	putAll(p, bs)
	// A request no free can cure fails at once.
	if b, err := p.GetWait(t.Context(), a, 4096); !errors.Is(err, ErrTooLarge) {
		if err == nil {
			p.Put(b)
		}
		t.Errorf("GetWait(4096) from a pond of 2048-byte buffers: %v, want ErrTooLarge", err)
	}
	if w := mustPool(t, p, 2048).Stats().Waits; w != 0 {
		t.Errorf("pool waits %d, want 0", w)
	}
	checkQuiet(t, p, nil)
}

// TestGetWaitDeadline: a waiter gives up at its context's deadline with an
// error wrapping both the reason and the context's error, and a buffer
// freed afterwards is not handed to it.
func TestGetWaitDeadline(t *testing.T) {
	const size = 2048
	p := newTestPond(t, onePool(size, 1, 1, 1, 1<<20))
	a := newAccount(t, p, "a", unlimited)
	limited := newAccount(t, p, "limited", 0)
	c := mustPool(t, p, size)
	held := mustGet(t, p, a, size)

	for _, tc := range []struct {
		name   string
		acct   *Account
		list   bool
		reason error
	}{
		{"exhausted", a, false, ErrExhausted},
		{"quota", limited, false, ErrQuota},
		{"list exhausted", a, true, ErrExhausted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			var err error
			if tc.list {
				var bs []Buf
				bs, err = p.GetListWait(ctx, tc.acct, size, nil)
				putAll(p, bs)
			} else {
				var b Buf
				b, err = p.GetWait(ctx, tc.acct, size)
				if err == nil {
					p.Put(b)
				}
			}
			wantErr(t, "GetWait past its deadline", err, tc.reason, context.DeadlineExceeded)
		})
	}
	if s := c.Stats(); s.Waits != 3 {
		t.Errorf("pool waits %d, want 3", s.Waits)
	}
	if s := limited.Stats(); s.Waits != 1 {
		t.Errorf("account waits %d, want 1", s.Waits)
	}
	// Cancelled rather than timed out.
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan result, 1)
	startWait(ctx, p, a, size, "W", out)
	waitFor(t, "the waiter to queue", func() bool { return c.Stats().Waits == 4 })
	cancel()
	r := receive(t, out, "the cancelled waiter")
	wantErr(t, "cancelled GetWait", r.err, ErrExhausted, context.Canceled)

	// Nobody waits any more: the Put leaves the buffer free.
	p.Put(held)
	checkQuiet(t, p, nil)
}

// TestQuotaWaiterIsolated: an allocation waiting on a full account delays
// no allocation charged to another account, blocking or not.
func TestQuotaWaiterIsolated(t *testing.T) {
	const size = 2048
	p := newTestPond(t, onePool(size, 0, 16, 4, 1<<20))
	a := newAccount(t, p, "a", size)
	b := newAccount(t, p, "b", unlimited)
	held := mustGet(t, p, a, size)
	waiting := make(chan result, 1)
	ctx, cancel := context.WithCancel(t.Context())
	startWait(ctx, p, a, size, "A", waiting)
	defer func() {
		cancel()
		if r := receive(t, waiting, "A's waiter"); r.err == nil {
			p.Put(r.b)
		}
		p.Put(held)
		checkQuiet(t, p, nil)
	}()
	waitFor(t, "A's waiter to queue", func() bool { return a.Stats().Waits == 1 })

	got := mustGet(t, p, b, size)
	p.Put(got)

	bctx, bcancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer bcancel()
	start := time.Now()
	got, err := p.GetWait(bctx, b, size)
	if err != nil {
		t.Fatalf("GetWait for b with buffers free, behind a waiter on full account a: %v (after %v)", err, time.Since(start).Round(time.Millisecond))
	}
	p.Put(got)
	bs, err := p.GetListWait(bctx, b, 3*size, nil)
	if err != nil {
		t.Fatalf("GetListWait for b behind a waiter on full account a: %v", err)
	}
	putAll(p, bs)
	if s := b.Stats(); s.Waits != 0 {
		t.Errorf("b waited %d times, want 0", s.Waits)
	}
}

// TestSetLimitWakesWaiter: raising a full account's limit serves the
// allocation waiting on it; so does raising a pool's max.
func TestSetLimitWakesWaiter(t *testing.T) {
	const size = 2048
	p := newTestPond(t, onePool(size, 0, 1, 1, 1<<20))
	a := newAccount(t, p, "a", size)
	c := mustPool(t, p, size)
	first := mustGet(t, p, a, size)
	out := make(chan result, 1)

	startWait(t.Context(), p, a, size, "quota", out)
	waitFor(t, "the quota waiter to queue", func() bool { return a.Stats().Waits == 1 })
	// Raise the limit; the pool's max still stops it.
	if err := a.SetLimit(4 * size); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMax(2); err != nil {
		t.Fatal(err)
	}
	r := receive(t, out, "the waiter after SetLimit and SetMax")
	if r.err != nil {
		t.Fatalf("waiter: %v", r.err)
	}
	p.Put(r.b)
	p.Put(first)
	checkQuiet(t, p, nil)
}

// TestGetWaitWakesOnFree: a waiter for a buffer freed while it was about
// to queue is not forgotten. Goroutines share a pool of one buffer through
// GetWait; every GetWait must be served long before its deadline (a lost
// wakeup leaves a waiter queued with the buffer free, and then everybody
// behind it too).
func TestGetWaitWakesOnFree(t *testing.T) {
	for _, procs := range []int{1, 2} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			const size, goroutines, rounds = 2048, 4, 2000
			p := newTestPond(t, onePool(size, 1, 1, 1, 1<<20))
			a := newAccount(t, p, "a", unlimited)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range rounds {
						wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
						b, err := p.GetWait(wctx, a, size)
						wcancel()
						if err != nil {
							if ctx.Err() == nil {
								errs <- fmt.Errorf("goroutine %d round %d: %w (in use: %d)", g, i, err, p.Stats().InUse)
								cancel()
							}
							return
						}
						stamp(b, uint64(g))
						if i%8 == 0 {
							runtime.Gosched()
						}
						if !stamped(b, uint64(g)) {
							p.Put(b)
							errs <- fmt.Errorf("goroutine %d: buffer %s shared with another goroutine", g, b)
							cancel()
							return
						}
						p.Put(b)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, context.Canceled) {
					t.Error(err)
				}
			}
			checkQuiet(t, p, nil)
		})
	}
}
