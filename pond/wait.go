package pond

import (
	"context"
	"errors"
	"fmt"
)

// waiter is one blocked allocation. try runs on whichever goroutine serves
// the queue, under waitMu; last is its latest failure, and the final result
// is handed over on done.
type waiter struct {
	try  func() error
	last error
	done chan error
}

// GetWait is Get that waits, first come first served, until a buffer is
// freed or the account has room, or ctx ends (then the error wraps both
// the reason and ctx.Err()). Ownership as Get.
func (p *Pond) GetWait(ctx context.Context, a *Account, size int) (Buf, error) {
	var b Buf
	err := p.wait(ctx, a, p.fit(size), func() (err error) {
		b, err = p.Get(a, size)
		return err
	})
	return b, err
}

// GetListWait is GetList that waits like GetWait. Ownership as GetList.
func (p *Pond) GetListWait(ctx context.Context, a *Account, n int, dst []Buf) ([]Buf, error) {
	out := dst
	err := p.wait(ctx, a, p.fit(min(n, p.MaxBuf())), func() (err error) {
		out, err = p.GetList(a, n, dst)
		return err
	})
	return out, err
}

// retryable errors are the ones a free or a limit change can cure; an
// injected failure is final.
func retryable(err error) bool {
	return (errors.Is(err, ErrExhausted) || errors.Is(err, ErrQuota)) && !errors.Is(err, ErrInjected)
}

// wait queues try behind the allocations already waiting and serves the
// queue in order at once, so a new allocation never overtakes an older one
// yet is not held up by one that waits for something else (another pool,
// a full account). If try cannot be served yet it stays queued, and wake
// gives it another turn after each free or limit change, until ctx ends.
//
// The queue length is raised before the first try and Put reads it after
// freeing, so either the try sees the freed buffer or the Put sees the
// waiter and wakes it.
func (p *Pond) wait(ctx context.Context, a *Account, ci int, try func() error) error {
	w := &waiter{try: try, done: make(chan error, 1)}
	p.waitMu.Lock()
	p.waiters = append(p.waiters, w)
	p.nwait.Add(1)
	p.serveLocked()
	p.unlockWaiters()
	select {
	case err := <-w.done:
		return err
	default:
	}
	a.waits.Add(1)
	if ci >= 0 {
		p.pools[ci].waits.Add(1)
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
	}
	if queued, last := p.dequeue(w); queued {
		return fmt.Errorf("wait for buffers: %w (%w)", last, ctx.Err())
	}
	return <-w.done // served while we gave up: the buffers are ours
}

// dequeue removes w if it is still queued, reporting its last failure.
func (p *Pond) dequeue(w *waiter) (bool, error) {
	p.waitMu.Lock()
	defer p.unlockWaiters()
	for i, q := range p.waiters {
		if q == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.nwait.Add(-1)
			return true, w.last
		}
	}
	return false, nil
}

// unlockWaiters releases waitMu and runs a wake that arrived while it was
// held, which would otherwise be lost.
func (p *Pond) unlockWaiters() {
	p.waitMu.Unlock()
	if p.wakeups.Load() {
		p.wake()
	}
}

// wake gives every queued allocation, oldest first, another try. A wake
// that finds another in progress leaves a flag that makes the other go
// round once more, so no free is missed and no Put ever blocks.
func (p *Pond) wake() {
	p.wakeups.Store(true)
	for p.wakeups.Load() && p.waitMu.TryLock() {
		p.wakeups.Store(false)
		p.serveLocked()
		p.waitMu.Unlock()
	}
}

func (p *Pond) serveLocked() {
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		err := w.try()
		if err != nil && retryable(err) {
			w.last = err
			kept = append(kept, w)
			continue
		}
		w.done <- err
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
	p.nwait.Store(int32(len(kept)))
}
