// Package chain holds the byte sequences users and devices handle: chains
// of segments over pond buffers, with headroom for headers, a stack of
// layers that narrow what is seen, and copy-on-write clones. The file tree
// is a thin skin over it; a device reads frames into chains and writes
// them out from their segments.
//
// # The model
//
// A chain is a short list of segments, each a run of bytes (offset and
// length) in one pond buffer, plus a stack of layers. Bytes are never
// copied to build or take apart a chain: appending a chain moves its
// segments, a split shares the buffer that straddles the cut, a clone
// shares them all.
//
//	            headroom          segment 0              segment 1         tailroom
//	buffer A  [··········|=========================]
//	buffer B                                        [===============|·········]
//	             free     ▲ chain offset 0                     chain end ▲  free
//
//	layer 0   |<───────────────── the whole chain (ethernet) ─────────────>|
//	layer 1        |<───────── ipv4: offset 14 in layer 0 ───────────────>|
//	layer 2             |<──── udp: offset 20 in layer 1 ────────────────>|
//	layer 3                  |<── payload: offset 8 in layer 2 ─────>|      ◀ the view
//
// Headroom is free space before the first byte in its buffer, reserved
// when a chain takes its first buffer (Options.Headroom, DefaultHeadroom
// by default) so that Prepend of a protocol header usually takes no
// allocation, as sk_buff's skb_reserve and skb_push. Tailroom is free
// space after the last byte, which Append fills before it takes buffers.
// A chain longer than any buffer is strung from several, as the pond
// chooses them (pond.GetList); it never grows past Options.MaxLen.
//
// Layers are views. Layer 0 is the whole chain; each pushed layer (Push,
// with a protocol name) is a range of the one beneath, and the top layer
// is the view: Len, ReadAt, WriteAt, trims, Split and Pullup act on it,
// and ReadAtLayer and WriteAtLayer reach any layer. An edit of the view
// changes the chain's bytes, and every layer beneath takes the change:
// bytes trimmed from a narrow view leave the chain. A view grows (Append,
// Prepend, a write past its end, Truncate up, AppendChain, Concat) only
// while it shows the whole chain; growing a narrower one fails with
// ErrNarrowView rather than putting bytes among ones it hides.
//
// Concat joins chains under a new layer whose fragments (one per chain)
// stay distinguishable, and SplitFragments takes them apart again.
//
// # Who owns what
//
// New, NewFrom, Clone, Split and SplitFragments return chains the caller
// owns and releases with Free, which gives back every buffer reference
// the chain holds. AppendChain and Concat consume the chains they are
// given (on success only). Each segment holds one reference to its
// buffer; a clone or a split adds references, never copies, and a buffer
// returns to its pool when its last reference goes.
//
// A write into a buffer that another chain shares first copies that
// segment into a buffer of the chain's own (copy-on-write); the other
// chain never sees the write. Headroom and tailroom of a shared buffer
// belong to nobody and are not used.
//
// Slices the chain hands out (Iovecs, AppendSpace) borrow its buffers and
// are valid until the chain next changes.
//
// # Failure
//
// Every operation checks its arguments and returns an error, never
// panics, for bad offsets and lengths (ErrRange), narrow views
// (ErrNarrowView), missing layers (ErrNoLayer), growth past MaxLen
// (ErrTooLong) and bad chains (ErrInvalid); the pond's ErrExhausted and
// ErrQuota come through wrapped. An operation that fails leaves the chain
// exactly as it was: every buffer an operation needs is taken before
// anything changes. Only Read, as an io.Reader, keeps the progress it
// made, as io requires.
//
// # Concurrency
//
// A chain is not safe for concurrent use: its user serialises calls (the
// file tree holds a lock per chain). Chains that share buffers, such as a
// chain and its clone, may be used from different goroutines at once:
// reference counts are atomic, and nobody writes into a buffer that is
// shared.
//
// # Cost
//
// Chain structs are recycled, and each holds a few segments and layers
// inline, so a frame's chain costs no heap allocation in steady state; the
// buffers themselves always come from the pond.
package chain
