package netdev

import (
	"errors"
	"fmt"
)

// Kick sends every frame the program has produced in the transmit ring
// since the last Kick, in order, each with one write from its slot (no
// copy), and returns once the device has them all.
//
// # The protocol, and why it is safe
//
// The program produces, pondd consumes; each writes one index, both
// count frames ever and wrap at 2³². The program writes a frame and its
// length in the slot's descriptor, then stores producer (release); Kick
// loads the producer once (acquire), so every frame below it is whole.
// The producer is trusted only as far as it is within the ring: more
// than slots ahead of pondd's consumer (which pondd keeps to itself and
// only copies to the header) fails the kick with ErrRingIndex and sends
// nothing, where a loop up to it would send slots over and over for up to
// 2³² frames (TestTxRingRefusesWildProducer). Each length is loaded once
// and used only after it is checked against the slot's buffer: a longer
// one would send, or fault on, memory beyond it (TestTxRingSkipsBadLength).
// Once the frames are sent pondd stores its consumer (release): the
// device has copied them, so the program may refill those slots.
//
// A slot whose length is shorter than an Ethernet header or longer than
// the device's largest frame is skipped and counted in tx_errors; the
// kick then fails with ErrFrameSize after sending the rest. A device
// error stops the kick there (the frames from that one on stay produced)
// and is returned.
func (r *Ring) Kick() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("kick %s tx ring: %w", r.port.Name(), ErrClosed)
	}
	cons := r.own.Load()
	prod := load32(r.producer)
	if prod-cons > uint32(len(r.slots)) {
		return fmt.Errorf("kick: %w", r.indexError("producer", prod-cons))
	}
	bad := 0
	for k := cons; k != prod; k++ {
		sent, err := r.send(k & r.mask)
		if err != nil {
			r.consumed(k)
			return err
		}
		if !sent {
			bad++
		}
	}
	r.consumed(prod)
	if bad > 0 {
		return fmt.Errorf("kick %s tx ring: %d slots with a length out of %d to %d: %w",
			r.port.Name(), bad, EthHeaderLen, min(r.slotSize, r.port.MaxFrame()), ErrFrameSize)
	}
	return nil
}

// send sends slot's frame, or counts it in tx_errors and reports false
// when its length is out of range. An error is the device's.
func (r *Ring) send(slot uint32) (bool, error) {
	n := load32(r.lens[slot])
	if n < EthHeaderLen || n > uint32(r.slotSize) {
		r.port.stats.txErrors.Add(1)
		return false, nil
	}
	err := r.port.SendBytes(r.slots[slot].Bytes()[:n])
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
