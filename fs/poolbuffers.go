package fs

import (
	"fmt"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// holderPond names a buffer in use that no chain or device claims: one
// the pond's users keep for themselves, such as a device's buffer staged
// for the next frame, or one an operation holds for an instant.
const holderPond = "pond"

// poolBuffers renders pools/<size>/buffers: one line per buffer of the
// pool in use, oldest first, "<arena_offset> <refs> <account> <holder>
// <age_ms>". The pond lists the buffers and their ages; the holders are
// asked afterwards, so a buffer that changed hands in between shows its
// new holder, or "pond".
func (t *Tree) poolBuffers(p *pond.Pool) []byte {
	infos := p.InUse()
	holders := t.holders()
	var b []byte
	for _, in := range infos {
		h, ok := holders[in.Offset]
		if !ok {
			h = holderPond
		}
		b = fmt.Appendf(b, "%d %d %s %s %d\n", in.Offset, in.Refs, in.Account, h, in.AgeMs)
	}
	return b
}

// holders maps the arena offset of every buffer a chain of chains/ or a
// device holds to its holder's name: "chain <id>", or what the device
// says ("rx <if> <seq>"). A buffer shared by several keeps the first
// name: chains in their directory's order, then devices.
func (t *Tree) holders() map[int64]string {
	out := make(map[int64]string)
	name := func(off int64, holder string) {
		if _, ok := out[off]; !ok {
			out[off] = holder
		}
	}
	var bufs []pond.Buf
	for _, id := range t.reg.names() {
		e := t.reg.get(id)
		if e == nil {
			continue
		}
		e.with(func(c *chain.Chain) error {
			bufs = c.Buffers(bufs[:0])
			return nil
		})
		for _, b := range bufs {
			name(b.Offset(), "chain "+id)
		}
	}
	for _, d := range t.devices {
		d.port.Holders(name)
	}
	return out
}
