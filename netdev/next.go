package netdev

import (
	"context"
	"fmt"
	"io"
)

// Waiting for frames: a consumer keeps the sequence number of the last
// frame it has seen and asks for the queued ones after it. The queue is in
// ascending sequence numbers, so "after" is a cursor that needs no state in
// the port: frames dropped or taken before the consumer saw them are simply
// not there, and many consumers wait independently.
//
// The receiver wakes waiters by closing Port.arrived, which a waiter makes
// when it finds nothing; so a port nobody waits on pays one nil check per
// frame, under the lock it holds anyway.

// SeqsAfter appends to dst the sequence numbers of the queued frames
// newer than after, oldest first, waiting while there are none. It returns
// ctx's error (wrapped) when ctx ends first, and io.EOF when the port has
// stopped receiving and nothing newer is queued.
func (p *Port) SeqsAfter(ctx context.Context, after uint64, dst []uint64) ([]uint64, error) {
	for {
		out, arrived := p.seqsAfter(after, dst)
		if len(out) > len(dst) {
			return out, nil
		}
		select {
		case <-arrived:
		case <-p.done:
			if out, _ := p.seqsAfter(after, dst); len(out) > len(dst) {
				return out, nil
			}
			return dst, io.EOF
		case <-ctx.Done():
			return dst, fmt.Errorf("wait for a frame on %s: %w", p.Name(), ctx.Err())
		}
	}
}

// seqsAfter appends the queued frames' numbers newer than after; when
// there are none, it returns the channel the next queued frame closes.
func (p *Port) seqsAfter(after uint64, dst []uint64) ([]uint64, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := p.q.firstAfter(after); i < p.q.n; i++ {
		dst = append(dst, p.q.at(i).seq)
	}
	if p.arrived == nil {
		p.arrived = make(chan struct{})
	}
	return dst, p.arrived
}

// wakeWaitersLocked tells every SeqsAfter waiting that a frame was
// queued; Port.mu is held.
func (p *Port) wakeWaitersLocked() {
	if p.arrived != nil {
		close(p.arrived)
		p.arrived = nil
	}
}
