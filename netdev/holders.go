package netdev

import (
	"fmt"

	"github.com/pondfs/pondfs/pond"
)

// Holders calls visit with the arena offset of each pond buffer the port
// holds and the name of what holds it, as a pool's buffers file shows
// it: "rx <if> <seq>" for a queued frame, "ring <if> rx" or "ring <if>
// tx" for the header and slots of an attached ring. Buffers the receiver
// keeps for itself (the next frame's) are not named: they are the
// pond's. visit must not call the port.
func (p *Port) Holders(visit func(offset int64, holder string)) {
	p.frameHolders(visit)
	for k := range p.rings {
		if r := p.rings[k].Load(); r != nil {
			r.holders(visit)
		}
	}
}

// frameHolders names the buffers of every queued frame.
func (p *Port) frameHolders(visit func(offset int64, holder string)) {
	var bufs []pond.Buf
	for _, seq := range p.Seqs(nil) {
		f, err := p.acquire(seq)
		if err != nil {
			continue // taken or dropped since
		}
		f.mu.Lock()
		switch {
		case f.c != nil:
			bufs = f.c.Buffers(bufs[:0])
		default:
			bufs = append(bufs[:0], f.bufs...)
		}
		f.mu.Unlock()
		holder := fmt.Sprintf("rx %s %d", p.Name(), seq)
		for _, b := range bufs {
			visit(b.Offset(), holder)
		}
		p.release(f)
	}
}

// holders names the ring's header and slots, unless it is closed: its
// buffers are then back in the pond, or about to be. Holding the ring's
// lock keeps Close from freeing them meanwhile.
func (r *Ring) holders(visit func(offset int64, holder string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	holder := "ring " + r.port.Name() + " " + r.kind.String()
	visit(r.hdr.Offset(), holder)
	for _, b := range r.slots {
		visit(b.Offset(), holder)
	}
}
