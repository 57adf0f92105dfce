package netdev

import (
	"fmt"

	"github.com/pondfs/pondfs/pond"
)

// Holders calls visit with the arena offset of each pond buffer the port
// holds and the name
// of what holds it as a pool's buffers file shows it: "rx <if> <seq>" for
// a queued frame. Whatever else of the port comes to hold buffers (a
// receive or transmit ring: "ring <if> rx", "ring <if> tx") names them
// here too, so that one call answers for the whole device. Buffers the
// receiver keeps for itself (the next frame's) are not named: they are
// the pond's. visit must not call the port.
func (p *Port) Holders(visit func(offset int64, holder string)) {
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
