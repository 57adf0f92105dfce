package netdev

import (
	"errors"
	"fmt"
)

// receive reads the next frame straight into the receive ring's next
// slot and publishes it; the port's receiver calls it while the ring is
// attached.
//
// # The protocol, and why it is safe
//
// pondd produces, the program consumes; each writes one index, both count
// frames ever and wrap at 2³², and slot k is index k & (slots-1). For
// frame k pondd:
//  1. loads the consumer c (acquire) once: the slot is free when
//     k - c < slots. The program stores c only after it is done with
//     the frames before c, so the slot about to be filled holds no frame
//     the program is still reading. Any other c (the program wrote
//     garbage) reads as "full" or "out of range", and the frame is
//     dropped: a hostile consumer costs only its own frames.
//  2. reads the frame into the slot's buffer and writes its length in
//     the slot's descriptor;
//  3. stores producer = k+1 (release), after the bytes and the length.
//     A program that loads the producer (acquire) and sees k+1 sees the
//     whole frame k; were the producer stored first, it could read a
//     slot still holding an older frame (TestRxRingPublishesAfterBytes).
//
// pondd writes only its own copy of the producer to the header and never
// reads it back, so the slot it writes is always within the ring, whatever
// the program writes over the header.
//
// The receiver holds a slot only during a read that does not wait
// (pollReader): when the device has no frame it waits holding nothing, so
// Close can free the ring at once. Were Close to come during that read,
// the receiver frees the ring when the read returns (Ring.fill).
func (r *Ring) receive() error {
	p := r.port
	if !r.fill.CompareAndSwap(fillIdle, fillReading) {
		return nil // closed: the frame goes to the queue
	}
	k := r.own.Load()
	if k-load32(r.consumer) >= uint32(len(r.slots)) {
		if !r.unfill() {
			return nil
		}
		return r.receiveFull()
	}
	slot := k & r.mask
	buf := r.slots[slot].Bytes()
	n, err := p.poll.readNow(buf)
	if !r.unfill() {
		if err == nil {
			p.stats.rxDropped.Add(1) // read into a ring that is gone
		}
		return nil
	}
	switch {
	case errors.Is(err, errNotReady):
		return p.poll.waitFrame()
	case err != nil:
		return err
	case n < EthHeaderLen:
		return fmt.Errorf("receive on %s: frame of %d bytes: %w", p.Name(), n, ErrFrameSize)
	}
	store32(r.lens[slot], uint32(n))
	p.publish(buf[:n])
	r.own.Store(k + 1)
	store32(r.producer, k+1)
	p.stats.rxRingPackets.Add(1)
	p.stats.rxRingBytes.Add(uint64(n))
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
	if _, err := p.read(p.scratch); err != nil {
		return err
	}
	p.drop(r.fullErr)
	return nil
}
