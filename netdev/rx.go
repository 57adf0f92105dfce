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

// queue decodes the n-byte frame at room in b, shows it to the captures
// and queues it, dropping the oldest frame when the queue is full. It
// takes over the caller's reference to b.
//
// The frame is queued as its buffer and layers; the first With or Take
// makes them a chain (see chainOf). A frame dropped unread, as most are
// when nobody reads the queue, then costs no chain at all.
func (p *Port) queue(b pond.Buf, room, n int) error {
	if n < EthHeaderLen {
		p.pond.Put(b)
		return fmt.Errorf("receive on %s: frame of %d bytes: %w", p.Name(), n, ErrFrameSize)
	}
	frame := b.Bytes()[room : room+n]
	p.layers = Decode(frame, p.layers[:0])
	p.publish(frame)
	p.mu.Lock()
	f, old := p.slot()
	p.seq++
	f.seq, f.refs, f.c = p.seq, 1, nil
	f.buf, f.room, f.n = b, room, n
	f.nlayers = copy(f.layers[:], p.layers)
	p.q.pushBack(f)
	p.qcnt.packets++
	p.qcnt.bytes += uint64(n)
	p.mu.Unlock()
	old.free(p.pond)
	p.dropping = false
	return nil
}

// slot returns the frame struct the next frame goes in. When the queue is
// full it drops the oldest frame, and reuses its struct unless a borrower
// holds it (then the last borrower frees it); what the dropped frame held
// comes back too, for the caller to free once it lets go of p.mu, which
// slot needs held.
func (p *Port) slot() (*frame, dropped) {
	if !p.q.full() {
		return p.q.newFrame(), dropped{}
	}
	p.qcnt.dropped++
	f := p.q.popFront()
	if f.refs > 1 {
		f.refs--
		return p.q.newFrame(), dropped{}
	}
	d := dropped{c: f.c, buf: f.buf}
	f.c, f.buf = nil, pond.Buf{}
	return f, d
}

// dropped is what a frame dropped from the queue held: its chain, or its
// buffer when its chain was never made.
type dropped struct {
	c   *chain.Chain
	buf pond.Buf
}

// free releases it.
func (d dropped) free(p *pond.Pond) {
	switch {
	case d.c != nil:
		d.c.Free()
	case d.buf.Valid():
		p.Put(d.buf)
	}
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
