package netdev

import (
	"sync/atomic"

	"github.com/pondfs/pondfs/pond/stats"
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

// Fields lists the snapshot as netdev/<if>/stats shows it (README's
// reference), each value described.
func (s Stats) Fields() []stats.Field {
	return []stats.Field{
		{Name: "rx_packets", Kind: stats.Counter, Help: "Frames the device received and queued.", Value: s.RxPackets},
		{Name: "rx_bytes", Kind: stats.Counter, Help: "Bytes of the frames the device received and queued.", Value: s.RxBytes},
		{Name: "rx_dropped", Kind: stats.Counter, Help: "Received frames lost: no buffer, too long, or dropped from a full queue.", Value: s.RxDropped},
		{Name: "tx_packets", Kind: stats.Counter, Help: "Frames sent on the device.", Value: s.TxPackets},
		{Name: "tx_bytes", Kind: stats.Counter, Help: "Bytes of the frames sent on the device.", Value: s.TxBytes},
		{Name: "tx_errors", Kind: stats.Counter, Help: "Frames the device refused.", Value: s.TxErrors},
		{Name: "rx_queue", Kind: stats.Gauge, Help: "Received frames queued now.", Value: s.RxQueue},
		{Name: "rx_queue_max", Kind: stats.Gauge, Help: "Received frames the queue holds before it drops the oldest.", Value: s.RxQueueMax},
		{Name: "rx_filtered", Kind: stats.Gauge, Help: "Frames the kernel dropped before pondd read them: rejected by the filter, or the TAP's queue was full.", Value: s.RxFiltered},
		{Name: "up", Kind: stats.Gauge, Help: "1 while the device receives, 0 once it is gone.", Value: s.Up},
		{Name: "capture_lost", Kind: stats.Counter, Help: "Frames captures of the device lost because their reader was too slow.", Value: s.CaptureLost},
		{Name: "captures", Kind: stats.Gauge, Help: "Captures of the device open now.", Value: s.Captures},
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
