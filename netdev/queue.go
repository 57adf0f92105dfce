package netdev

import (
	"sync"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// frame is one received frame: its sequence number, and its chain or,
// until the frame is first used, the buffer its chain is made from.
//
// A frame is reachable by the port's queue and by whoever borrows or takes
// it; refs counts them, under Port.mu. The chain is used under mu, so a
// borrower never blocks the receiver (which only ever holds Port.mu), and
// the receiver never waits for a borrower: a frame dropped from the queue
// while borrowed is freed by its last borrower.
//
// The receiver fills bufs, room and n before it queues the frame, and the
// first With or Take decodes the frame and makes it a chain with its
// headers as layers (Port.chainOf): a frame dropped unread never costs a
// decode or a chain.
type frame struct {
	seq  uint64
	refs int // guarded by Port.mu

	mu sync.Mutex
	c  *chain.Chain // guarded by mu; nil until made, and once taken

	// The frame until its chain is made: its buffers in order (the
	// frame's references; none once the chain holds them) and where the
	// frame lies in them: from room in the first, on from the start of
	// each further one. Guarded by mu.
	bufs    []pond.Buf
	room, n int
}

// rxQueue is the bounded queue of a port's received frames, oldest first,
// in ascending sequence numbers. A frame can leave from anywhere (Take),
// so it is a ring that closes gaps by moving the shorter side. Its methods
// need Port.mu held.
type rxQueue struct {
	ring    []*frame
	head, n int
	spare   []*frame // frame structs to reuse, so receiving allocates none
}

func newRxQueue(capacity int) rxQueue {
	return rxQueue{ring: make([]*frame, capacity)}
}

func (q *rxQueue) full() bool { return q.n == len(q.ring) }

// at is the i-th oldest queued frame.
func (q *rxQueue) at(i int) *frame { return q.ring[q.slot(i)] }

func (q *rxQueue) set(i int, f *frame) { q.ring[q.slot(i)] = f }

// slot is where in the ring the i-th oldest frame is, for i below the
// ring's length: wrapping by a subtraction, since a division would cost
// every received frame several times over.
func (q *rxQueue) slot(i int) int {
	j := q.head + i
	if j >= len(q.ring) {
		j -= len(q.ring)
	}
	return j
}

// newFrame makes (or reuses) an empty frame.
func (q *rxQueue) newFrame() *frame {
	if k := len(q.spare); k > 0 {
		f := q.spare[k-1]
		q.spare = q.spare[:k-1]
		return f
	}
	return new(frame)
}

// recycle keeps f for reuse once nothing refers to it, with the room of
// its list of buffers (empty by then), so that receiving allocates none.
func (q *rxQueue) recycle(f *frame) {
	*f = frame{bufs: f.bufs[:0]}
	if len(q.spare) < len(q.ring) {
		q.spare = append(q.spare, f)
	}
}

// pushBack queues f as the newest frame; the queue must not be full.
func (q *rxQueue) pushBack(f *frame) {
	q.n++
	q.set(q.n-1, f)
}

// popFront removes the oldest frame; the queue must not be empty.
func (q *rxQueue) popFront() *frame {
	f := q.at(0)
	q.set(0, nil)
	q.head = q.slot(1)
	q.n--
	return f
}

// find returns the index of the frame of sequence number seq, or -1.
func (q *rxQueue) find(seq uint64) int {
	lo := q.firstFrom(seq)
	if lo < q.n && q.at(lo).seq == seq {
		return lo
	}
	return -1
}

// firstAfter is the index of the oldest frame newer than seq (n if none).
func (q *rxQueue) firstAfter(seq uint64) int { return q.firstFrom(seq + 1) }

// firstFrom is the index of the oldest frame of sequence number seq or
// later (n if none).
func (q *rxQueue) firstFrom(seq uint64) int {
	lo, hi := 0, q.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if q.at(mid).seq < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// removeAt removes the i-th oldest frame, closing the gap from the nearer
// end.
func (q *rxQueue) removeAt(i int) *frame {
	f := q.at(i)
	if i < q.n/2 {
		for j := i; j > 0; j-- {
			q.set(j, q.at(j-1))
		}
		q.popFront()
		return f
	}
	for j := i; j < q.n-1; j++ {
		q.set(j, q.at(j+1))
	}
	q.set(q.n-1, nil)
	q.n--
	return f
}
