package netdev

import (
	"errors"
	"fmt"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// receive is the port's receive goroutine: it reads frames until the
// device is closed, gone or failing.
func (p *Port) receive() {
	defer close(p.done)
	for {
		err := p.receiveOne()
		switch {
		case err == nil:
		case errors.Is(err, ErrFrameSize):
			p.drop(err)
		case errors.Is(err, ErrClosed):
			return
		case errors.Is(err, ErrDeviceGone):
			p.log.Printf("%v; no more frames from it", err)
			p.err = err
			return
		default:
			p.log.Printf("%v; receiving stops", err)
			p.err = err
			return
		}
	}
}

// receiveOne reads one frame into a pond buffer and queues it as a chain.
// It never waits for memory: when the pond or the account has no buffer,
// the frame is read into the scratch buffer instead (see receiveScratch).
//
// The receiver takes its buffer before the frame arrives, so while it
// waits it holds one buffer more than the queue does.
func (p *Port) receiveOne() error {
	need := p.dev.MaxFrame() + 1 // Device.Read's byte to spare
	room := min(p.headroom, p.maxBuf-need)
	if room < 0 {
		return p.discard(fmt.Errorf("receive on %s: a frame of %d bytes fits no pond buffer (largest %d): %w",
			p.Name(), need-1, p.maxBuf, ErrFrameSize))
	}
	b, err := p.pond.Get(p.acct, room+need)
	if err != nil {
		return p.receiveScratch(room, need, fmt.Errorf("receive on %s: %w", p.Name(), err))
	}
	n, err := p.dev.Read(b.Bytes()[room:])
	if err != nil {
		p.pond.Put(b)
		return err
	}
	return p.queue(b, room, n)
}

// receiveScratch reads the next frame into the scratch buffer, because
// reason kept it from a pond buffer, and tries for a buffer again once it
// is in: memory freed while the receiver waited for the frame saves it,
// at the cost of one copy. Otherwise the frame is dropped.
func (p *Port) receiveScratch(room, need int, reason error) error {
	n, err := p.dev.Read(p.scratch)
	if err != nil {
		return err
	}
	b, err := p.pond.Get(p.acct, room+need)
	if err != nil {
		p.drop(reason)
		return nil
	}
	copy(b.Bytes()[room:], p.scratch[:n])
	return p.queue(b, room, n)
}

// discard reads the next frame into the scratch buffer and drops it,
// because reason kept it from a pond buffer. The device's own errors
// take precedence, so that a closed or vanished device still stops the
// receiver.
func (p *Port) discard(reason error) error {
	if _, err := p.dev.Read(p.scratch); err != nil {
		return err
	}
	p.drop(reason)
	return nil
}

// queue makes the n-byte frame at room in b a chain, with its decoded
// headers as layers, shows it to the captures and queues it. It takes
// over the caller's reference to b.
//
// When the queue is full, the oldest frame is dropped first, and its
// chain (unless a borrower holds it) renewed to carry the new frame, in
// the same frame struct: a full queue then costs one chain struct per
// frame instead of a free and a new one.
func (p *Port) queue(b pond.Buf, room, n int) error {
	if n < EthHeaderLen {
		p.pond.Put(b)
		return fmt.Errorf("receive on %s: frame of %d bytes: %w", p.Name(), n, ErrFrameSize)
	}
	p.mu.Lock()
	old := p.dropOldest()
	p.mu.Unlock()
	c, err := p.wrap(b, room, n, old)
	if err != nil {
		p.pond.Put(b)
		p.forgo(old)
		return fmt.Errorf("receive on %s: %w: %w", p.Name(), ErrFrameSize, err)
	}
	frame := b.Bytes()[room : room+n]
	p.layers = Decode(frame, p.layers[:0])
	if err := pushLayers(c, p.layers); err != nil {
		if old != nil {
			old.c = nil // renewed as c
		}
		c.Free()
		p.forgo(old)
		return fmt.Errorf("receive on %s: %w: %w", p.Name(), ErrFrameSize, err)
	}
	p.publish(frame)
	p.enqueue(old, c, n)
	p.dropping = false
	return nil
}

// dropOldest drops the oldest frame when the queue is full, to make room
// for the next. It returns the frame when only the queue held it, for its
// struct and chain to carry the next frame; a borrowed one is left to its
// last borrower to free. It needs p.mu held.
func (p *Port) dropOldest() *frame {
	if !p.q.full() {
		return nil
	}
	p.qcnt.dropped++
	f := p.q.popFront()
	if f.refs > 1 {
		f.refs-- // a borrower's release frees it
		return nil
	}
	return f
}

// forgo recycles old, a frame dropped for one that then failed, freeing
// its chain if it still has one. old may be nil.
func (p *Port) forgo(old *frame) {
	if old != nil {
		p.release(old)
	}
}

// wrap makes the frame at room in b a chain: old's chain renewed, or a
// new one when old is nil.
func (p *Port) wrap(b pond.Buf, room, n int, old *frame) (*chain.Chain, error) {
	if old == nil {
		return chain.NewFrom(p.pond, p.acct, p.chainOpt, b, room, n)
	}
	if err := old.c.Renew(b, room, n); err != nil {
		return nil, err
	}
	return old.c, nil
}

// drop counts a lost frame, logging the first of a run.
func (p *Port) drop(reason error) {
	p.stats.rxDropped.Add(1)
	if !p.dropping {
		p.dropping = true
		p.log.Printf("%v; dropping frames until one gets through", reason)
	}
}

// pushLayers names layer 0 and pushes the decoded layers on c. Decode's
// offsets are from the start of the frame and each layer lies within the
// one before, so each push is relative to the layer beneath.
func pushLayers(c *chain.Chain, layers []Layer) error {
	if len(layers) == 0 {
		return nil
	}
	if err := c.SetProto(layers[0].Proto); err != nil {
		return err
	}
	below := layers[0].Offset
	for _, l := range layers[1:] {
		if err := c.Push(l.Offset-below, l.Length, l.Proto); err != nil {
			return err
		}
		below = l.Offset
	}
	return nil
}

// enqueue queues c, n bytes long, as the next frame: in f, the frame
// dropped for it, or in a new one when f is nil.
func (p *Port) enqueue(f *frame, c *chain.Chain, n int) {
	p.mu.Lock()
	p.seq++
	if f == nil {
		f = p.q.newFrame(p.seq, c)
	}
	f.seq, f.refs, f.c = p.seq, 1, c
	p.q.pushBack(f)
	p.qcnt.packets++
	p.qcnt.bytes += uint64(n)
	p.mu.Unlock()
}
