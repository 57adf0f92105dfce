package netdevtest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pondfs/pondfs/netdev"
)

// MemDevice is one end of an in-memory pair of devices, a stand-in for a
// TAP in tests that need neither root nor a kernel device (like
// wireguard-go's tuntest): a frame written on one end is read on the
// other. Each direction holds a bounded number of frames in buffers made
// once; a frame written when the peer's queue is full is dropped and
// counted, as a kernel queue drops, and Writev still succeeds.
//
// Closing one end makes its own Read return netdev.ErrClosed at once; the
// peer reads the frames still queued for it and then gets
// netdev.ErrDeviceGone, as a TAP does after ip link del. Writes to or from
// a closed end fail the same way.
type MemDevice struct {
	name     string
	maxFrame int
	in       *memQueue // frames for this end to read
	peer     *MemDevice
	closed   chan struct{}
	once     sync.Once
	waiting  atomic.Int32 // readers blocked in WaitFrame
}

var _ netdev.Poller = (*MemDevice)(nil)

// memQueue is a bounded ring of frames, each in a buffer of maxFrame bytes
// made once, so that neither end allocates per frame.
type memQueue struct {
	ready chan struct{} // holds a token while frames are queued

	mu      sync.Mutex
	slots   [][]byte // len(slot) is the frame's length; cap is maxFrame
	head, n int

	dropped atomic.Uint64
}

// NewMemPair makes two connected devices named name and name+"-peer",
// each queueing up to depth frames of at most maxFrame bytes (clamped to
// netdev.EthHeaderLen..MaxFrameLimit) for the other. The caller owns both and
// closes each.
func NewMemPair(name string, maxFrame, depth int) (dev, peer *MemDevice) {
	maxFrame = min(max(maxFrame, netdev.EthHeaderLen), netdev.MaxFrameLimit)
	depth = max(depth, 1)
	dev = &MemDevice{name: name, maxFrame: maxFrame, in: newMemQueue(maxFrame, depth), closed: make(chan struct{})}
	peer = &MemDevice{name: name + "-peer", maxFrame: maxFrame, in: newMemQueue(maxFrame, depth), closed: make(chan struct{})}
	dev.peer, peer.peer = peer, dev
	return dev, peer
}

func newMemQueue(maxFrame, depth int) *memQueue {
	q := &memQueue{ready: make(chan struct{}, 1), slots: make([][]byte, depth)}
	for i := range q.slots {
		q.slots[i] = make([]byte, 0, maxFrame)
	}
	return q
}

// Name is the device's name.
func (d *MemDevice) Name() string { return d.name }

// MaxFrame is the largest frame the pair carries, fixed at NewMemPair.
func (d *MemDevice) MaxFrame() int { return d.maxFrame }

// Queued is how many frames are queued for this end to read.
func (d *MemDevice) Queued() int { return d.in.len() }

// Waiting reports whether a reader of this end is blocked in WaitFrame:
// a port's receiver waiting for traffic, past any decision it made before.
func (d *MemDevice) Waiting() bool { return d.waiting.Load() > 0 }

// Dropped counts the frames written to this end while its queue was full.
func (d *MemDevice) Dropped() uint64 { return d.in.dropped.Load() }

// Readv reads the oldest frame queued for this end; see Device.Readv.
func (d *MemDevice) Readv(iov [][]byte) (int, error) {
	for {
		n, err := d.ReadNow(iov)
		if !errors.Is(err, netdev.ErrNotReady) {
			return n, err
		}
		if err := d.WaitFrame(); err != nil {
			return 0, err
		}
	}
}

// ReadNow reads the oldest frame queued for this end as Readv does, or
// returns netdev.ErrNotReady at once when none is.
func (d *MemDevice) ReadNow(iov [][]byte) (int, error) {
	if isClosed(d.closed) {
		return 0, fmt.Errorf("read %s: %w", d.name, netdev.ErrClosed)
	}
	n, ok, err := d.in.pop(iov)
	switch {
	case ok && err != nil:
		return 0, fmt.Errorf("read %s: %w", d.name, err)
	case ok:
		return n, nil
	case isClosed(d.peer.closed):
		return 0, fmt.Errorf("read %s: peer closed: %w", d.name, netdev.ErrDeviceGone)
	}
	return 0, netdev.ErrNotReady
}

// WaitFrame blocks until a frame may be queued for this end, or either
// end closes; see netdev.Poller.
func (d *MemDevice) WaitFrame() error {
	d.waiting.Add(1)
	defer d.waiting.Add(-1)
	select {
	case <-d.closed:
		return fmt.Errorf("read %s: %w", d.name, netdev.ErrClosed)
	case <-d.peer.closed:
	case <-d.in.ready:
	}
	return nil
}

// Writev queues one frame, the concatenation of iov, for the peer to read;
// see Device.Writev. The bytes are copied: iov is only borrowed.
func (d *MemDevice) Writev(iov [][]byte) (int, error) {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	if n < netdev.EthHeaderLen || n > d.maxFrame {
		return 0, fmt.Errorf("write %s: %d bytes, not %d to %d: %w", d.name, n, netdev.EthHeaderLen, d.maxFrame, netdev.ErrFrameSize)
	}
	switch {
	case isClosed(d.closed):
		return 0, fmt.Errorf("write %s: %w", d.name, netdev.ErrClosed)
	case isClosed(d.peer.closed):
		return 0, fmt.Errorf("write %s: peer closed: %w", d.name, netdev.ErrDeviceGone)
	}
	d.peer.in.push(iov)
	return n, nil
}

// Close closes this end; see MemDevice. It is idempotent.
func (d *MemDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// push copies iov into the next free slot, or counts a drop when none is.
func (q *memQueue) push(iov [][]byte) {
	q.mu.Lock()
	if q.n == len(q.slots) {
		q.mu.Unlock()
		q.dropped.Add(1)
		return
	}
	i := (q.head + q.n) % len(q.slots)
	s := q.slots[i][:0]
	for _, b := range iov {
		s = append(s, b...)
	}
	q.slots[i] = s
	q.n++
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop copies the oldest frame across iov and frees its slot. ok is false
// when no frame is queued; err is netdev.ErrFrameSize when the frame does
// not fit in iov with a byte to spare (it is dropped, as a TAP drops it).
func (q *memQueue) pop(iov [][]byte) (n int, ok bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return 0, false, nil
	}
	s := q.slots[q.head]
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	if q.n > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	room := 0
	for _, b := range iov {
		room += len(b)
	}
	if len(s) >= room {
		return 0, true, fmt.Errorf("frame of %d bytes, buffers of %d: %w", len(s), room, netdev.ErrFrameSize)
	}
	n = len(s)
	for _, b := range iov {
		if len(s) == 0 {
			break
		}
		s = s[copy(b, s):]
	}
	return n, true, nil
}

func (q *memQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
