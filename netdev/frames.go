package netdev

import (
	"fmt"

	"github.com/pondfs/pondfs/chain"
)

// Seqs appends to dst the sequence numbers of the queued frames, oldest
// first (ascending), and returns dst. Numbers count from 1 per port.
func (p *Port) Seqs(dst []uint64) []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.q.n {
		dst = append(dst, p.q.at(i).seq)
	}
	return dst
}

// With lends the chain of queued frame seq to fn and returns fn's error,
// or an error wrapping ErrNoFrame when no such frame is queued. fn may
// read, write and edit the chain (push, pop, split, clone: what a file of
// the frame's directory does), but must not free it or keep it past its
// return; to own it, use Take.
//
// fn runs under the frame's own lock, not the port's: the receiver keeps
// queueing meanwhile and may drop the frame from the queue (then it is
// freed when fn returns), and a Take of it waits for fn. So fn may block,
// but must not call Take for the same frame, which would wait forever.
func (p *Port) With(seq uint64, fn func(c *chain.Chain) error) error {
	f, err := p.acquire(seq)
	if err != nil {
		return err
	}
	defer p.release(f)
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := p.chainOf(f)
	if err != nil {
		return err
	}
	return fn(c)
}

// Take removes frame seq from the queue and hands its chain to the
// caller, who owns it from then on (free it with chain Free, or pass it to
// Send). It waits for a With of the same frame to return. It fails with
// ErrNoFrame when no such frame is queued. Consuming a frame (rmdir) is
// Take and then Free.
func (p *Port) Take(seq uint64) (*chain.Chain, error) {
	p.mu.Lock()
	i := p.q.find(seq)
	if i < 0 {
		p.mu.Unlock()
		return nil, p.noFrame(seq)
	}
	f := p.q.removeAt(i) // the queue's reference is now ours
	p.mu.Unlock()
	defer p.release(f)
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := p.chainOf(f)
	f.c = nil
	return c, err
}

// chainOf returns f's chain, making it from f's buffer at its first use,
// with the frame's headers decoded as layers; f.mu is held. It fails with
// ErrNoFrame once f was taken.
func (p *Port) chainOf(f *frame) (*chain.Chain, error) {
	if f.c != nil {
		return f.c, nil
	}
	if len(f.bufs) == 0 {
		return nil, p.noFrame(f.seq)
	}
	// Nothing writes the buffers before the chain holds them, so the bytes
	// decoded are the bytes received.
	var buf [MaxLayers]Layer
	layers := decodeHeld(f, buf[:0])
	c, err := chain.NewFromList(p.pond, p.acct, p.chainOpt, f.bufs, f.room, f.n)
	if err != nil {
		return nil, fmt.Errorf("%s frame %d: %w", p.Name(), f.seq, err)
	}
	if err := pushLayers(c, layers); err != nil {
		// Decode's layers nest within the frame, so pushing them cannot
		// fail; if it did, the frame is still worth having, with the
		// layers pushed before the failure.
		p.log.Printf("%s frame %d: layers: %v", p.Name(), f.seq, err)
	}
	clear(f.bufs)
	f.c, f.bufs = c, f.bufs[:0]
	return c, nil
}

// decodeHeld decodes the frame f holds, from its first buffer: a frame
// spread over several has its headers there.
func decodeHeld(f *frame, dst []Layer) []Layer {
	return decodeFrame(f.bufs[0].Bytes()[f.room:], f.n, dst)
}

// Queued reports whether frame seq is in the queue, without making its
// chain.
func (p *Port) Queued(seq uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.q.find(seq) >= 0
}

func (p *Port) noFrame(seq uint64) error {
	return fmt.Errorf("%s frame %d: %w", p.Name(), seq, ErrNoFrame)
}

// acquire finds queued frame seq and takes a reference to it.
func (p *Port) acquire(seq uint64) (*frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.q.find(seq)
	if i < 0 {
		return nil, p.noFrame(seq)
	}
	f := p.q.at(i)
	f.refs++
	return f, nil
}

// release drops a reference to f.
func (p *Port) release(f *frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(f)
}

// releaseLocked drops a reference to f; the last one frees its chain (or
// its buffer, when its chain was never made), if it still has one, and
// recycles f. No one else can reach f by then, so f needs no f.mu.
func (p *Port) releaseLocked(f *frame) {
	f.refs--
	if f.refs > 0 {
		return
	}
	if f.c != nil {
		f.c.Free()
	}
	for _, b := range f.bufs {
		p.pond.Put(b)
	}
	clear(f.bufs)
	f.bufs = f.bufs[:0]
	p.q.recycle(f)
}
