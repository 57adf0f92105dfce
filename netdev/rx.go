package netdev

import (
	"errors"
	"fmt"

	"github.com/pondfs/pondfs/chain"
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

// receiverDone gives back the staged buffers and tells Close that the
// receiver has stopped.
func (p *Port) receiverDone() {
	p.unstage(0)
	close(p.done)
}

// receiveOne reads one frame into the staged buffers and queues it, or
// into the receive ring when one is attached. It never waits for memory:
// when the pond or the account has no buffer, the frame is read into the
// scratch buffer instead (see receiveScratch).
//
// The receiver stages its buffers before the frame arrives, so while it
// waits it holds one frame's buffers more than the queue does.
func (p *Port) receiveOne() error {
	if r := p.rings[RxRing].Load(); r != nil {
		return r.receive()
	}
	if err := p.stage(); err != nil {
		return p.receiveScratch(fmt.Errorf("receive on %s: %w", p.Name(), err))
	}
	n, err := p.read(p.iov)
	if err != nil {
		return err
	}
	return p.queue(n)
}

// read reads one frame across iov. From a Poller it reads without
// waiting and, when the device has no frame, waits for one and returns
// ErrNotReady: the caller then decides afresh where the frame goes, since
// a ring may have been attached meanwhile.
func (p *Port) read(iov [][]byte) (int, error) {
	if p.poll == nil {
		return p.dev.Readv(iov)
	}
	n, err := p.poll.ReadNow(iov)
	if errors.Is(err, ErrNotReady) {
		if werr := p.poll.WaitFrame(); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

// stagePlan is what the receiver stages for a device's largest frame:
// buffers of sizes, the frame read from room in the first. A frame that
// fits the pond's largest buffer with its headroom (or with less: room
// shrinks to make it fit) takes one, the smallest that holds it; a larger
// one (a TAP's MTU near 64 KiB) takes buffers of the largest size and one
// that holds the rest.
type stagePlan struct {
	maxFrame int // the device's largest frame the plan is for
	room     int
	sizes    []int
}

// planFor makes the plan for a device whose largest frame is maxFrame.
func (p *Port) planFor(maxFrame int) stagePlan {
	pl := stagePlan{maxFrame: maxFrame, room: min(p.headroom, p.maxBuf-maxFrame)}
	if pl.room >= 0 {
		pl.sizes = []int{p.pond.SizeFor(pl.room + maxFrame)}
		return pl
	}
	pl.room = p.headroom
	rest := pl.room + maxFrame
	for ; rest > p.maxBuf; rest -= p.maxBuf {
		pl.sizes = append(pl.sizes, p.maxBuf)
	}
	pl.sizes = append(pl.sizes, p.pond.SizeFor(rest))
	return pl
}

// bytes is how much the plan's buffers hold, headroom and all.
func (pl stagePlan) bytes() int {
	n := 0
	for _, s := range pl.sizes {
		n += s
	}
	return n
}

// stage is the one place that readies the next read: it makes the staged
// buffers those the plan for the device's largest frame now asks for,
// keeping each staged buffer that already fits its place (one a dropped
// frame left behind, see restage), and sets iov to them, from room on,
// then the scratch buffer. The scratch tail is where the part of a frame
// beyond the staged buffers lands when the device's MTU grew after they
// were staged, so that no frame the device carries is ever cut (see
// fill). On error the buffers staged so far stay staged.
func (p *Port) stage() error {
	if mf := p.dev.MaxFrame(); mf != p.plan.maxFrame {
		p.plan = p.planFor(mf)
	}
	for i, size := range p.plan.sizes {
		if i < len(p.staged) && p.staged[i].Size() == size {
			continue
		}
		p.unstage(i)
		b, err := p.pond.Get(p.acct, size)
		if err != nil {
			return err
		}
		p.staged = append(p.staged, b)
	}
	p.unstage(len(p.plan.sizes))
	p.iov = append(p.iov[:0], p.staged[0].Bytes()[p.plan.room:])
	for _, b := range p.staged[1:] {
		p.iov = append(p.iov, b.Bytes())
	}
	p.iov = append(p.iov, p.scratch)
	return nil
}

// unstage gives the staged buffers from i on back to the pond.
func (p *Port) unstage(i int) {
	if i >= len(p.staged) {
		return
	}
	for _, b := range p.staged[i:] {
		p.pond.Put(b)
	}
	clear(p.staged[i:])
	p.staged = p.staged[:i]
}

// receiveScratch reads the next frame into the scratch buffer, because
// reason kept it from pond buffers, and tries for buffers again once it is
// in: memory freed while the receiver waited for the frame saves it, at
// the cost of one copy. Otherwise the frame is dropped.
func (p *Port) receiveScratch(reason error) error {
	n, err := p.read(p.scratchIov[:])
	if err != nil {
		return err
	}
	if err := p.stage(); err != nil {
		p.drop(reason)
		return nil
	}
	// The scratch buffer is iov's last segment: copying the frame from it
	// leaves any part past the staged buffers at its start, as a read
	// would have (copy moves overlapping bytes correctly).
	frame := p.scratch[:n]
	for _, seg := range p.iov {
		frame = frame[copy(seg, frame):]
	}
	return p.queue(n)
}

// queue shows the n-byte frame just read into iov to the captures and
// queues it, dropping the oldest frame when the queue is full; then it
// stages the next frame. A frame too short for Ethernet is refused and
// its buffers stay staged.
//
// The frame is queued as its buffers; the first With or Take decodes it
// and makes it a chain (see chainOf). A frame dropped unread, as most are
// when nobody reads the queue, then costs no decode and no chain, and its
// struct and buffers are staged for the next frame.
func (p *Port) queue(n int) error {
	if n < EthHeaderLen {
		return fmt.Errorf("receive on %s: frame of %d bytes: %w", p.Name(), n, ErrFrameSize)
	}
	f := p.next
	if err := p.fill(f, n); err != nil {
		p.drop(fmt.Errorf("receive on %s: a frame of %d bytes, past the %d staged: %w", p.Name(), n, p.plan.maxFrame, err))
		return nil
	}
	// The buffers were taken before the frame came, maybe long before, or
	// carried a frame dropped since: their age starts with this frame.
	for _, b := range f.bufs {
		b.ResetAge()
	}
	p.publishv(trimIov(p.iov, n), n) // fill moved the buffers, not the bytes
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

// fill gives f the staged buffers that hold the n-byte frame just read,
// and where it lies in them; the rest stay staged. A frame that went past
// them into the scratch tail is spilled (see fillSpilled).
func (p *Port) fill(f *frame, n int) error {
	held, k := len(p.iov[0]), 1
	for ; k < len(p.staged) && held < n; k++ {
		held += len(p.iov[k])
	}
	f.room, f.n = p.plan.room, n
	if n > held {
		return p.fillSpilled(f, n, held)
	}
	f.bufs = append(f.bufs[:0], p.staged[:k]...)
	rest := copy(p.staged, p.staged[k:])
	clear(p.staged[rest:])
	p.staged = p.staged[:rest]
	return nil
}

// fillSpilled gives f buffers of its own for an n-byte frame of which
// only the first held bytes went into the staged buffers and the rest
// into the scratch tail, because the device's largest frame grew since
// they were staged. It copies the frame, once: into one buffer when the
// pond has one that holds it, so that it is decoded as any other, else
// into the staged buffers and more for the rest. The staged buffers it
// does not use stay staged. It fails when the pond or the account has no
// buffer for it.
func (p *Port) fillSpilled(f *frame, n, held int) error {
	frame := trimIov(p.iov, n)
	if f.room+n <= p.maxBuf {
		b, err := p.pond.Get(p.acct, f.room+n)
		if err != nil {
			return err
		}
		dst := b.Bytes()[f.room:]
		for _, seg := range frame {
			dst = dst[copy(dst, seg):]
		}
		f.bufs = append(f.bufs[:0], b)
		return nil
	}
	k := len(p.staged) // all full: the frame's last segment is the scratch tail
	bufs, err := p.pond.GetList(p.acct, n-held, append(f.bufs[:0], p.staged...))
	if err != nil {
		return err
	}
	f.bufs = bufs
	clear(p.staged)
	p.staged = p.staged[:0]
	spill := frame[k]
	for _, b := range bufs[k:] {
		spill = spill[copy(b.Bytes(), spill):]
	}
	return nil
}

// trimIov cuts iov, in place, to its first n bytes.
func trimIov(iov [][]byte, n int) [][]byte {
	for i, b := range iov {
		if len(b) >= n {
			iov[i] = b[:n]
			return iov[:i+1]
		}
		n -= len(b)
	}
	return iov
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
// whose buffers, when its chain was never made, are staged for the next
// read, or a spare one. The chain of old, if made, comes back for the
// caller to free once it lets go of Port.mu, which restage needs held.
func (p *Port) restage(old *frame) (*frame, *chain.Chain) {
	if old == nil {
		return p.q.newFrame(), nil
	}
	c := old.c
	old.c = nil
	p.staged = append(p.staged, old.bufs...)
	clear(old.bufs)
	old.bufs = old.bufs[:0]
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
