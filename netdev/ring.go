package netdev

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/pondfs/pondfs/pond"
)

// RingKind says which way a ring moves frames.
type RingKind int

// The kinds of ring, one of each per port at a time.
const (
	// RxRing carries received frames from the device to a program.
	RxRing RingKind = iota
	// TxRing carries frames a program produces to the device.
	TxRing
	ringKinds
)

func (k RingKind) String() string {
	if k == RxRing {
		return "rx"
	}
	return "tx"
}

// Ring is a ring of frame slots in the pond's arena, shared with another
// process that maps the arena: a receive ring (RxRing) that the device's
// frames are read straight into, or a transmit ring (TxRing) whose slots
// are sent from in place. No frame is copied either way. See ringlayout.go
// for the layout, and receive and Kick for each side's protocol.
//
// # Who owns what
//
// The ring owns its header and slot buffers, charged to the account
// AttachRing was given, from AttachRing until Close. The program on the
// other side only ever borrows them, through the arena; it can write any
// byte of them, so the ring reads nothing back but the indexes and lengths
// that are the program's to write, each once, and checks them.
type Ring struct {
	port     *Port
	kind     RingKind
	hdr      pond.Buf
	slots    []pond.Buf
	bufs     [][]byte // each slot's bytes, borrowed from slots while attached
	mask     uint32   // slot count - 1
	slotSize int

	// producer and consumer are the header's shared indexes; lens[i] is
	// slot i's descriptor length.
	producer, consumer *uint32
	lens               []*uint32

	// own is pondd's side's index (rx: producer; tx: consumer), which it
	// keeps here and only copies to the header: the header's copy is the
	// program's to overwrite.
	own atomic.Uint32

	// fill is the receiver's hold on the slots (rx only): see receive.
	fill atomic.Int32
	// cons is the consumer the receiver last loaded (rx only; the
	// receiver's alone): while it shows room, the receiver need not load
	// the program's cache line again.
	cons uint32
	// iov is the slot being read into, as an iovec (rx only; the
	// receiver's alone), kept here so that a read allocates nothing.
	iov [1][]byte

	bell    bell
	fullErr error // why the receiver drops while the ring is full

	// mu guards closed, and is held for reading by every use of the
	// ring's memory outside the receiver (Wait's look at the indexes,
	// Kick), so Close, which holds it for writing, never frees what is
	// being used; a Wait for free slots runs while a kick sends.
	mu     sync.RWMutex
	closed bool
	once   sync.Once
	// kickMu lets one kick at a time send: two would send the same frames.
	kickMu sync.Mutex
}

// The receiver's hold on a receive ring's slots (Ring.fill).
const (
	fillIdle     = iota // the receiver is not in a slot
	fillReading         // the receiver is reading a frame into a slot
	fillDetached        // Close freed the ring
	fillOrphaned        // Close came during a read: the receiver frees the ring
)

// AttachRing attaches a ring of kind to the port, its memory charged to
// acct, and returns it; the caller owns it and closes it to detach. A
// second ring of the same kind fails with ErrBusy until the first is
// closed; a device that does not read in two steps (see Poller)
// cannot have a receive ring (ErrNotSupported).
//
// While a receive ring is attached every frame received goes into it
// instead of the queue; Capture still sees each.
func (p *Port) AttachRing(kind RingKind, acct *pond.Account) (*Ring, error) {
	if kind == RxRing && p.poll == nil {
		return nil, fmt.Errorf("attach %s ring to %s: the device reads only blocking: %w", kind, p.Name(), ErrNotSupported)
	}
	r, err := p.newRing(kind, acct)
	if err != nil {
		return nil, fmt.Errorf("attach %s ring to %s: %w", kind, p.Name(), err)
	}
	if !p.rings[kind].CompareAndSwap(nil, r) {
		r.free()
		return nil, fmt.Errorf("attach %s ring to %s: one is attached: %w", kind, p.Name(), ErrBusy)
	}
	return r, nil
}

// newRing takes the ring's buffers and writes its header.
func (p *Port) newRing(kind RingKind, acct *pond.Account) (*Ring, error) {
	n := ringSlotsFor(p.pond)
	hdr, err := p.pond.Get(acct, ringHeaderBytes(n))
	if err != nil {
		return nil, err
	}
	r := &Ring{port: p, kind: kind, hdr: hdr, mask: uint32(n - 1), lens: make([]*uint32, n)}
	slotWant := min(p.MaxFrame()+1, p.maxBuf) // a read needs a byte to spare
	for range n {
		b, err := p.pond.Get(acct, slotWant)
		if err != nil {
			r.free()
			return nil, err
		}
		r.slots = append(r.slots, b)
		r.bufs = append(r.bufs, b.Bytes())
	}
	r.slotSize = r.slots[0].Size()
	r.fullErr = fmt.Errorf("receive on %s: the receive ring is full", p.Name())
	r.writeHeader()
	r.bell.init()
	return r, nil
}

// writeHeader zeroes the header and writes what pondd writes at attach.
func (r *Ring) writeHeader() {
	mem := r.hdr.Bytes()
	clear(mem)
	le := binary.LittleEndian
	le.PutUint32(mem[ringMagicOff:], ringMagic)
	le.PutUint16(mem[ringVersionOff:], ringVersion)
	le.PutUint16(mem[ringKindOff:], uint16(r.kind))
	le.PutUint32(mem[ringSlotsOff:], uint32(len(r.slots)))
	le.PutUint32(mem[ringSlotSizeOff:], uint32(r.slotSize))
	for i, b := range r.slots {
		d := ringDescOff + i*ringDescSize
		le.PutUint64(mem[d+ringDescAddrOff:], uint64(b.Offset()))
		r.lens[i] = field32(mem, d+ringDescLenOff)
	}
	r.producer = field32(mem, ringProducerOff)
	r.consumer = field32(mem, ringConsumerOff)
}

// free gives every buffer back to the pond. It runs once, when the last
// user of the ring's memory lets go.
func (r *Ring) free() {
	for _, b := range r.slots {
		r.port.pond.Put(b)
	}
	r.slots, r.bufs = nil, nil
	r.port.pond.Put(r.hdr)
	r.hdr = pond.Buf{}
}

// Kind says which way the ring carries frames.
func (r *Ring) Kind() RingKind { return r.kind }

// Layout is where the ring lies in the arena.
func (r *Ring) Layout() RingLayout {
	return RingLayout{
		HeaderOffset: r.hdr.Offset(), HeaderBytes: ringHeaderBytes(len(r.lens)),
		Slots: len(r.lens), SlotSize: r.slotSize,
	}
}

// Close detaches the ring and gives its buffers back to the pond: at
// once, or, when the receiver is reading a frame into a slot at that
// moment, as soon as that read returns (it never waits for traffic). A
// Wait under way returns ErrClosed. Close is idempotent.
func (r *Ring) Close() error {
	r.once.Do(func() {
		r.port.rings[r.kind].CompareAndSwap(r, nil)
		r.mu.Lock()
		r.closed = true
		if r.kind == TxRing {
			r.free()
		} else {
			r.releaseFill()
		}
		r.mu.Unlock()
		r.bell.ring()
	})
	return nil
}

// releaseFill frees a receive ring unless the receiver is reading into
// it, in which case it leaves the freeing to the receiver.
func (r *Ring) releaseFill() {
	for {
		if r.fill.CompareAndSwap(fillIdle, fillDetached) {
			r.free()
			return
		}
		if r.fill.CompareAndSwap(fillReading, fillOrphaned) {
			return
		}
	}
}

// Wait blocks until the ring has work for the program and returns how
// much: the frames produced and not yet consumed (rx), or the free slots
// (tx). It fails with ErrRingIndex when the program's index is out of
// range, ErrClosed once the ring is closed, the context's error when ctx
// ends first, and io.EOF when the port has stopped (device gone) and the
// ring holds nothing more.
func (r *Ring) Wait(ctx context.Context) (int, error) {
	for {
		ch := r.bell.arm()
		n, err := r.work()
		if err != nil || n > 0 {
			r.bell.disarm()
			return n, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			r.bell.disarm()
			return 0, ctx.Err()
		case <-r.port.Done():
			r.bell.disarm()
			if n, err := r.work(); err != nil || n > 0 {
				return n, err
			}
			return 0, io.EOF
		}
		r.bell.disarm()
	}
}

// work is how much the ring has for the program now; see Wait.
func (r *Ring) work() (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return 0, fmt.Errorf("wait on %s %s ring: %w", r.port.Name(), r.kind, ErrClosed)
	}
	own := r.own.Load()
	if r.kind == RxRing {
		waiting := own - load32(r.consumer)
		if waiting > uint32(len(r.lens)) {
			return 0, r.indexError("consumer", waiting)
		}
		return int(waiting), nil
	}
	pending := load32(r.producer) - own
	if pending > uint32(len(r.lens)) {
		return 0, r.indexError("producer", pending)
	}
	return len(r.lens) - int(pending), nil
}

// indexError says that the program's index is gap slots from pondd's,
// more than the ring holds.
func (r *Ring) indexError(field string, gap uint32) error {
	return fmt.Errorf("%s %s ring: the program's %s is %d slots from pondd's index, past the %d slots: %w",
		r.port.Name(), r.kind, field, gap, len(r.lens), ErrRingIndex)
}

// bell wakes the goroutines waiting for a ring's indexes to move. The
// side that moves an index stores it first and then rings; a waiter arms
// first (counts itself, takes the channel) and then looks at the
// indexes. So either the waiter sees the new index, or its channel is
// the one the ringer closes; and a ringer that sees no waiter pays one
// atomic load.
type bell struct {
	waiters atomic.Int32
	mu      sync.Mutex
	ch      chan struct{}
}

func (b *bell) init() { b.ch = make(chan struct{}) }

// arm counts a waiter in and returns the channel that the next ring
// closes.
func (b *bell) arm() <-chan struct{} {
	b.waiters.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *bell) disarm() { b.waiters.Add(-1) }

// ring wakes every armed waiter.
func (b *bell) ring() {
	if b.waiters.Load() == 0 {
		return
	}
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}
