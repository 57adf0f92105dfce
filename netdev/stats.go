package netdev

import (
	"sync/atomic"

	"github.com/pondfs/pondfs/pond"
)

// Stats is a snapshot of one port's counters.
type Stats struct {
	// RxPackets and RxBytes count the frames received: queued (each got a
	// sequence number) or put in a receive ring; and their bytes.
	RxPackets, RxBytes uint64
	// RxDropped counts received frames lost: read while the pond or the
	// port's account had no buffer, too long for the buffer they were read
	// into, dropped from a full queue as the oldest, or arrived while the
	// receive ring was full.
	RxDropped uint64
	// TxPackets and TxBytes count the frames the device took; TxErrors
	// those it refused (a frame of a bad size is refused before the device
	// sees it, and not counted).
	TxPackets, TxBytes, TxErrors uint64
	// RxQueue is how many received frames are queued now, RxQueueMax how
	// many the queue holds (--rx-queue).
	RxQueue, RxQueueMax uint64
	// RxFiltered counts the frames the device's kernel dropped before the
	// port could read them: those its filter rejected (and any that found
	// its kernel queue full). 0 for a device without a kernel.
	RxFiltered uint64
	// Up is 1 while the port receives, 0 once its device is gone or the
	// port closed.
	Up uint64
	// CaptureLost counts the frames captures, open or closed, lost because
	// their reader was too slow; Captures is how many are open.
	CaptureLost, Captures uint64
}

// Fields lists the snapshot as README.md's netdev/<if>/stats names it.
func (s Stats) Fields() []pond.Field {
	return []pond.Field{
		{Name: "rx_packets", Value: s.RxPackets}, {Name: "rx_bytes", Value: s.RxBytes},
		{Name: "rx_dropped", Value: s.RxDropped}, {Name: "tx_packets", Value: s.TxPackets},
		{Name: "tx_bytes", Value: s.TxBytes}, {Name: "tx_errors", Value: s.TxErrors},
		{Name: "rx_queue", Value: s.RxQueue}, {Name: "rx_queue_max", Value: s.RxQueueMax},
		{Name: "rx_filtered", Value: s.RxFiltered},
		{Name: "up", Value: s.Up}, {Name: "capture_lost", Value: s.CaptureLost},
		{Name: "captures", Value: s.Captures},
	}
}

// counters are a port's live counters that are not the queue's; the
// queue keeps its own under Port.mu (queueCounters).
type counters struct {
	rxDropped                    atomic.Uint64 // frames lost before the queue or ring
	rxRingPackets, rxRingBytes   atomic.Uint64 // frames put in a receive ring; see countRing
	txPackets, txBytes, txErrors atomic.Uint64
}

// queueCounters count what the queue saw: every frame queued, and every
// one dropped from it as the oldest. They change under Port.mu, which
// enqueue holds anyway, so a received frame costs no atomic add.
type queueCounters struct {
	packets, bytes, dropped uint64
}

// countRing counts a frame of n bytes put in a receive ring. The receiver
// is the only writer, so a load and a store do, without the locked
// instruction of an add on every frame.
func (c *counters) countRing(n int) {
	c.rxRingPackets.Store(c.rxRingPackets.Load() + 1)
	c.rxRingBytes.Store(c.rxRingBytes.Load() + uint64(n))
}
