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
	defer p.receiverDone()
	for {
		err := p.receiveOne()
		switch {
		case err == nil, errors.Is(err, ErrNotReady):
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

// receiverDone gives back the staged frame's buffer and tells Close that
// the receiver has stopped.
func (p *Port) receiverDone() {
	if p.next.buf.Valid() {
		p.pond.Put(p.next.buf)
		p.next.buf = pond.Buf{}
	}
	close(p.done)
}

// receiveOne reads one frame into the staged frame's buffer and queues
// it, or into the receive ring when one is attached. It never waits for memory: when the pond or the account has no
// buffer, the frame is read into the scratch buffer instead (see
// receiveScratch).
//
// The receiver stages its buffer before the frame arrives, so while it
// waits it holds one buffer more than the queue does.
func (p *Port) receiveOne() error {
	if r := p.rings[RxRing].Load(); r != nil {
		return r.receive()
	}
	need := p.dev.MaxFrame() + 1 // Device.Read's byte to spare
	room := min(p.headroom, p.maxBuf-need)
	if room < 0 {
		return p.discard(fmt.Errorf("receive on %s: a frame of %d bytes fits no pond buffer (largest %d): %w",
			p.Name(), need-1, p.maxBuf, ErrFrameSize))
	}
	if err := p.stage(room + need); err != nil {
		return p.receiveScratch(room, need, fmt.Errorf("receive on %s: %w", p.Name(), err))
	}
	n, err := p.read(p.next.buf.Bytes()[room:])
	if err != nil {
		return err
	}
	return p.queue(room, n)
}

// read reads one frame into b. From a Poller it reads without
// waiting and, when the device has no frame, waits for one holding no
// buffer and returns ErrNotReady: the caller then decides afresh where
// the frame goes, since a ring may have been attached meanwhile.
func (p *Port) read(b []byte) (int, error) {
	if p.poll == nil {
		return p.dev.Read(b)
	}
	n, err := p.poll.ReadNow(b)
	if errors.Is(err, ErrNotReady) {
		if werr := p.poll.WaitFrame(); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

// stage gives the staged frame the buffer the pond gives for size bytes,
// unless it has one: the buffer of the frame it was before it was dropped
// from the queue, which saves giving that back to the pond and taking
// another.
func (p *Port) stage(size int) error {
	f := p.next
	if f.buf.Valid() {
		if f.buf.Size() == p.stagedClass(size) {
			return nil
		}
		p.pond.Put(f.buf) // the device's largest frame changed
		f.buf = pond.Buf{}
	}
	b, err := p.pond.Get(p.acct, size)
	if err != nil {
		return err
	}
	f.buf = b
	return nil
}

// stagedClass is classFor(size), remembered: the receiver asks for one
// size until the device's largest frame changes.
func (p *Port) stagedClass(size int) int {
	if size != p.stageSize {
		p.stageSize, p.stageClass = size, classFor(p.pond, size)
	}
	return p.stageClass
}

// receiveScratch reads the next frame into the scratch buffer, because
// reason kept it from a pond buffer, and tries for a buffer again once it
// is in: memory freed while the receiver waited for the frame saves it,
// at the cost of one copy. Otherwise the frame is dropped.
func (p *Port) receiveScratch(room, need int, reason error) error {
	n, err := p.read(p.scratch)
	if err != nil {
		return err
	}
	if err := p.stage(room + need); err != nil {
		p.drop(reason)
		return nil
	}
	copy(p.next.buf.Bytes()[room:], p.scratch[:n])
	return p.queue(room, n)
}

// discard reads the next frame into the scratch buffer and drops it,
// because reason kept it from a pond buffer. The device's own errors
// take precedence, so that a closed or vanished device still stops the
// receiver.
func (p *Port) discard(reason error) error {
	if _, err := p.read(p.scratch); err != nil {
		return err
	}
	p.drop(reason)
	return nil
}

// queue shows the n-byte frame at room in the staged frame's buffer to
// the captures and queues the staged frame, dropping the oldest frame
// when the queue is full; then it stages the next frame. A frame too
// short for Ethernet is refused and its buffer stays staged.
//
// The frame is queued as its buffer; the first With or Take decodes it
// and makes it a chain (see chainOf). A frame dropped unread, as most are
// when nobody reads the queue, then costs no decode and no chain, and its
// struct and buffer become the next staged frame.
func (p *Port) queue(room, n int) error {
	if n < EthHeaderLen {
		return fmt.Errorf("receive on %s: frame of %d bytes: %w", p.Name(), n, ErrFrameSize)
	}
	f := p.next
	frame := f.buf.Bytes()[room : room+n]
	f.room, f.n = room, n
	p.publish(frame)
	p.mu.Lock()
	old := p.makeRoom()
	p.seq++
	f.seq, f.refs = p.seq, 1
	p.q.pushBack(f)
	p.wakeWaitersLocked()
	p.qcnt.packets++
	p.qcnt.bytes += uint64(n)
	next, c := p.restage(old)
	p.next = next
	p.mu.Unlock()
	if c != nil {
		c.Free()
	}
	p.dropping = false
	return nil
}

// makeRoom drops the oldest frame when the queue is full, and returns it
// when the queue's reference was its last (a borrower frees it
// otherwise). Port.mu is held.
func (p *Port) makeRoom() *frame {
	if !p.q.full() {
		return nil
	}
	p.qcnt.dropped++
	f := p.q.popFront()
	f.refs--
	if f.refs > 0 {
		return nil
	}
	return f
}

// restage returns the frame struct to stage next: the dropped frame old,
// keeping its buffer when its chain was never made, or a spare one. The
// chain of old, if made, comes back for the caller to free once it lets
// go of Port.mu, which restage needs held.
func (p *Port) restage(old *frame) (*frame, *chain.Chain) {
	if old == nil {
		return p.q.newFrame(), nil
	}
	c := old.c
	old.c = nil
	return old, c
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
