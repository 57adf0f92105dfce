package pond

import (
	"context"
	"errors"
	"fmt"
)

// waiter is one blocked allocation. try runs on whichever goroutine wakes
// it, under waitMu, and its result is handed over on done.
type waiter struct {
	try  func() error
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

// retryable errors are the ones a free or a limit change can cure.
func retryable(err error) bool { return errors.Is(err, ErrExhausted) || errors.Is(err, ErrQuota) }

// wait runs try at once when nobody waits ahead, else (or when it fails
// for want of buffers or quota) queues it and lets wake run it again.
func (p *Pond) wait(ctx context.Context, a *Account, ci int, try func() error) error {
	p.waitMu.Lock()
	var err error
	if len(p.waiters) == 0 {
		if err = try(); err == nil || !retryable(err) {
			p.waitMu.Unlock()
			return err
		}
	}
	w := &waiter{try: try, done: make(chan error, 1)}
	p.waiters = append(p.waiters, w)
	p.nwait.Add(1)
	a.waits.Add(1)
	if ci >= 0 {
		p.pools[ci].waits.Add(1)
	}
	p.waitMu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
	}
	if p.dequeue(w) {
		if err == nil {
			err = ErrExhausted
		}
		return fmt.Errorf("wait for buffers: %w (%w)", err, ctx.Err())
	}
	return <-w.done // served while we gave up: the buffers are ours
}

// dequeue removes w if it is still queued and reports whether it was.
func (p *Pond) dequeue(w *waiter) bool {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	for i, q := range p.waiters {
		if q == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.nwait.Add(-1)
			return true
		}
	}
	return false
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
			kept = append(kept, w)
			continue
		}
		w.done <- err
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
	p.nwait.Store(int32(len(kept)))
}
