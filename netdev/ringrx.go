package netdev

import (
	"errors"
	"fmt"
)

// receive reads frames straight into the receive ring's slots and
// publishes each, for as long as the device has frames ready; the port's
// receiver calls it while the ring is attached.
//
// # The protocol, and why it is safe
//
// pondd produces, the program consumes; each writes one index, both count
// frames ever and wrap at 2³², and slot k is index k & (slots-1). For
// frame k pondd:
//  1. checks that slot k is free: k - c < slots for the consumer c it
//     last loaded, else it loads c again (acquire) once. The program
//     stores c only after it is done with the frames before c, so the slot
//     about to be filled holds no frame the program is still reading; an
//     older c only makes pondd think the ring fuller than it is. Any other
//     c (the program wrote garbage) reads as "full", and the frame is
//     dropped: a hostile consumer costs only its own frames.
//  2. reads the frame into the slot's buffer and writes its length in the
//     slot's descriptor;
//  3. stores producer = k+1 (release), after the bytes and the length. A
//     program that loads the producer (acquire) and sees k+1 sees the
//     whole frame k; were the producer stored first, it could read a slot
//     still holding an older frame (TestRxRingPublishesAfterBytes).
//
// pondd writes only its own copy of the producer to the header and never
// reads it back, so the slot it writes is always within the ring, whatever
// the program writes over the header.
//
// The receiver holds the slots (Ring.fill) only while the device has
// frames ready, each read one that does not wait (Poller): when the
// device has none it lets go before it waits, so Close can free the ring
// at once. A Close that comes while the receiver holds them leaves the
// freeing to the receiver, which looks after each frame.
func (r *Ring) receive() error {
	if !r.fill.CompareAndSwap(fillIdle, fillReading) {
		return nil // closed: the frame goes to the queue
	}
	for {
		err := r.receiveOne()
		if r.fill.Load() == fillOrphaned {
			r.free() // Close came meanwhile and left this to us
			return nil
		}
		if err == nil {
			continue
		}
		if !r.unfill() {
			return nil
		}
		if errors.Is(err, ErrNotReady) {
			return r.port.poll.WaitFrame()
		}
		return err
	}
}

// receiveOne reads the next frame into the next slot and publishes it, or
// drops it when the ring is full. The receiver holds the slots.
func (r *Ring) receiveOne() error {
	p := r.port
	k := r.own.Load()
	if k-r.cons >= uint32(len(r.slots)) {
		r.cons = load32(r.consumer)
		if k-r.cons >= uint32(len(r.slots)) {
			return r.receiveFull()
		}
	}
	slot := k & r.mask
	r.iov[0] = r.slots[slot].Bytes()
	n, err := p.poll.ReadNow(r.iov[:])
	switch {
	case err != nil:
		return err
	case n < EthHeaderLen:
		p.drop(fmt.Errorf("receive on %s: frame of %d bytes: %w", p.Name(), n, ErrFrameSize))
		return nil
	}
	store32(r.lens[slot], uint32(n))
	r.iov[0] = r.iov[0][:n]
	p.publishv(r.iov[:], n)
	r.own.Store(k + 1)
	store32(r.producer, k+1)
	p.stats.countRing(n)
	p.dropping = false
	r.bell.ring()
	return nil
}

// unfill ends the receiver's hold on the slots. When Close came during
// it, the receiver frees the ring, which it must not touch again, and
// unfill reports false.
func (r *Ring) unfill() bool {
	if r.fill.CompareAndSwap(fillReading, fillIdle) {
		return true
	}
	r.free()
	return false
}

// receiveFull reads the next frame into the scratch buffer and drops it:
// the ring is full, and the device never waits for the program.
func (r *Ring) receiveFull() error {
	p := r.port
	if _, err := p.poll.ReadNow(p.scratchIov[:]); err != nil {
		return err
	}
	p.drop(r.fullErr)
	return nil
}
