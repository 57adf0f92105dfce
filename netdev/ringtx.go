package netdev

import (
	"context"
	"errors"
	"fmt"
)

// txPublishEvery is how many frames a kick sends between two stores of
// its consumer index: often enough that a program producing while the
// kick runs finds slots to refill, rarely enough that the index's cache
// line, which the program reads, crosses between CPUs once per many
// frames rather than once per frame.
const txPublishEvery = 64

// kickMoreRings bounds a kick: past the frames produced when it began, it
// sends at most this many rings' worth of frames produced while it ran,
// then returns, so that no program keeps one kick, and the ring's lock,
// forever.
const kickMoreRings = 64

// Kick sends every frame the program has produced in the transmit ring
// since the last Kick, in order, each with one write from its slot (no
// copy), and returns once the device has them all. It goes on with the
// frames the program produces while it sends, until it finds no more
// (or ctx ends, or it has sent kickMoreRings rings of them): a program
// that produces on one thread and kicks from another keeps the device
// busy without waiting for each kick's round trip, as AF_XDP programs do.
//
// # The protocol, and why it is safe
//
// The program produces, pondd consumes; each writes one index, both
// count frames ever and wrap at 2³². The program writes a frame and its
// length in the slot's descriptor, then stores producer (release); Kick
// loads the producer (acquire), once per pass, so every frame below it is
// whole. The producer is trusted only as far as it is within the ring:
// more than slots ahead of pondd's consumer (which pondd keeps to itself
// and only copies to the header) fails the kick with ErrRingIndex and
// sends nothing more, where a loop up to it would send slots over and
// over for up to 2³² frames (TestTxRingRefusesWildProducer). Each length
// is loaded once and used only after it is checked against the slot's
// buffer: a longer one would send, or fault on, memory beyond it
// (TestTxRingSkipsBadLength). Every txPublishEvery frames sent, and at
// the end, pondd stores its consumer (release): the device has copied
// the frames below it, so the program may refill those slots, and a
// producer that does so while the kick runs is read again by the kick's
// next pass (TestTxRingKickSendsWhatIsProducedMeanwhile).
//
// A slot whose length is shorter than an Ethernet header or longer than
// the device's largest frame is skipped and counted in tx_errors; the
// kick then fails with ErrFrameSize after sending the rest. A device
// error stops the kick there (the frames from that one on stay produced)
// and is returned.
func (r *Ring) Kick(ctx context.Context) error {
	r.kickMu.Lock()
	defer r.kickMu.Unlock()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return fmt.Errorf("kick %s tx ring: %w", r.port.Name(), ErrClosed)
	}
	cons := r.own.Load()
	prod, err := r.produced(cons)
	if err != nil {
		return err
	}
	more := uint32(kickMoreRings * len(r.slots)) // frames past prod it may send
	bad := 0
	for cons != prod {
		sent, skipped, err := r.sendUpTo(cons, prod)
		bad += skipped
		if err != nil {
			return err
		}
		cons = sent
		if ctx.Err() != nil || more < uint32(len(r.slots)) {
			break
		}
		next, err := r.produced(cons)
		if err != nil {
			return err
		}
		more -= next - cons
		prod = next
	}
	if bad > 0 {
		return fmt.Errorf("kick %s tx ring: %d slots with a length out of %d to %d: %w",
			r.port.Name(), bad, EthHeaderLen, min(r.slotSize, r.port.MaxFrame()), ErrFrameSize)
	}
	return nil
}

// produced loads the program's producer once and checks that it is within
// the ring, ahead of pondd's consumer cons.
func (r *Ring) produced(cons uint32) (uint32, error) {
	prod := load32(r.producer)
	if prod-cons > uint32(len(r.slots)) {
		return 0, fmt.Errorf("kick: %w", r.indexError("producer", prod-cons))
	}
	return prod, nil
}

// sendUpTo sends the frames from cons up to prod, publishing the consumer
// every txPublishEvery of them and at the end, and returns the index it
// reached (prod, or the frame a device error stopped it at) and how many
// slots it skipped for their length.
func (r *Ring) sendUpTo(cons, prod uint32) (uint32, int, error) {
	bad := 0
	for cons != prod {
		end := cons + min(prod-cons, txPublishEvery)
		for ; cons != end; cons++ {
			sent, err := r.send(cons & r.mask)
			if err != nil {
				r.consumed(cons)
				return cons, bad, err
			}
			if !sent {
				bad++
			}
		}
		r.consumed(cons)
	}
	return cons, bad, nil
}

// send sends slot's frame, or counts it in tx_errors and reports false
// when its length is out of range. An error is the device's.
func (r *Ring) send(slot uint32) (bool, error) {
	n := load32(r.lens[slot])
	if n < EthHeaderLen || n > uint32(r.slotSize) {
		r.port.stats.txErrors.Add(1)
		return false, nil
	}
	err := r.port.SendBytes(r.bufs[slot][:n])
	if errors.Is(err, ErrFrameSize) { // longer than the device's largest frame
		r.port.stats.txErrors.Add(1)
		return false, nil
	}
	return true, err
}

// consumed publishes that the frames below k are sent, and wakes a Wait
// for free slots.
func (r *Ring) consumed(k uint32) {
	r.own.Store(k)
	store32(r.consumer, k)
	r.bell.ring()
}
