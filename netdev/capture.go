package netdev

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultCaptureBytes is the ring a capture gets when Port.Capture is
// asked for 0 bytes: room for about 680 full-size Ethernet frames.
const DefaultCaptureBytes = 1 << 20

// Capture is one subscriber to every frame a port receives or sends from
// the moment it subscribed (Port.Capture), presented as a pcap stream:
// Read returns the pcap file header and then one record per frame. A
// frame sent is captured as the port hands it to the device, before the
// kernel can answer it (see showOutgoing).
//
// Each frame is copied, with its record header, into the capture's own
// ring of bytes (Go memory, not the pond's), so a capture never holds a
// pond buffer. When the ring has no room for a whole record the frame is
// lost to this capture alone and counted in Lost: a slow reader never
// slows the device nor other captures, and the stream stays well formed.
//
// Read may be called from one goroutine at a time; Close, Lost and Read
// may run concurrently.
type Capture struct {
	port  *Port
	ready chan struct{} // holds a token when bytes arrived or the stream ended
	done  chan struct{} // closed by Close
	once  sync.Once

	mu     sync.Mutex
	ring   []byte // pcap bytes not yet read, from r, used bytes, wrapping
	r      int
	used   int
	lost   uint64
	ended  bool // the port closed: no more records will come
	closed bool
}

func newCapture(p *Port, ringBytes int) *Capture {
	if ringBytes <= 0 {
		ringBytes = DefaultCaptureBytes
	}
	c := &Capture{
		port:  p,
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
		ring:  make([]byte, max(ringBytes, PcapFileHeaderLen)),
	}
	c.used = len(AppendPcapFileHeader(c.ring[:0], MaxFrameLimit))
	return c
}

// Read reads the next bytes of the pcap stream into p, blocking until
// there are some. It returns io.EOF once the port is closed and every
// frame before that has been read, and ErrClosed after Close.
func (c *Capture) Read(p []byte) (int, error) {
	return c.ReadContext(context.Background(), p)
}

// ReadContext is Read that also gives up, with ctx's error, when ctx ends
// (as a FUSE read does when it is interrupted). Nothing is lost then: the
// bytes come with the next read.
func (c *Capture) ReadContext(ctx context.Context, p []byte) (int, error) {
	for {
		n, wait, err := c.readSome(p)
		if !wait {
			return n, err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("capture %s: %w", c.port.Name(), ctx.Err())
		case <-c.done:
		case <-c.ready:
		}
	}
}

// readSome copies what the ring holds into p; wait is true when there is
// nothing to read yet.
func (c *Capture) readSome(p []byte) (n int, wait bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, false, fmt.Errorf("capture %s: %w", c.port.Name(), ErrClosed)
	case len(p) == 0:
		return 0, false, nil
	case c.used > 0:
		return c.copyOut(p), false, nil
	case c.ended:
		return 0, false, io.EOF
	}
	return 0, true, nil
}

// copyOut moves up to len(p) bytes from the ring into p.
func (c *Capture) copyOut(p []byte) int {
	n := 0
	for n < len(p) && c.used > 0 {
		k := copy(p[n:], c.ring[c.r:min(c.r+c.used, len(c.ring))])
		n += k
		c.r = (c.r + k) % len(c.ring)
		c.used -= k
	}
	return n
}

// Lost counts the frames this capture missed because its ring was full.
func (c *Capture) Lost() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}

// Close unsubscribes the capture and makes a pending Read return
// ErrClosed at once; the port keeps counting the frames it lost. It is
// idempotent.
func (c *Capture) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.ring = nil
		lost := c.lost
		c.mu.Unlock()
		c.port.unsubscribe(c, lost)
		close(c.done)
	})
	return nil
}

// add copies one frame, n bytes in iov, into the ring as a pcap record, or
// counts it lost when the ring has no room for all of it.
func (c *Capture) add(ts time.Time, iov [][]byte, n int) {
	var hdr [PcapRecordHeaderLen]byte
	AppendPcapRecordHeader(hdr[:0], ts, n, n)
	c.mu.Lock()
	if c.closed || c.ended {
		c.mu.Unlock()
		return
	}
	if len(c.ring)-c.used < len(hdr)+n {
		c.lost++
		c.mu.Unlock()
		return
	}
	c.copyIn(hdr[:])
	for _, b := range iov {
		c.copyIn(b)
	}
	c.mu.Unlock()
	c.wake()
}

// copyIn appends b to the ring, which has room for it.
func (c *Capture) copyIn(b []byte) {
	for len(b) > 0 {
		w := (c.r + c.used) % len(c.ring)
		end := len(c.ring)
		if w < c.r {
			end = c.r
		}
		k := copy(c.ring[w:end], b)
		c.used += k
		b = b[k:]
	}
}

// end marks the stream complete: the port is closing.
func (c *Capture) end() {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
	c.wake()
}

func (c *Capture) wake() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// Capture subscribes a new capture to every frame the port receives or
// sends from now on, with a ring of ringBytes (0: DefaultCaptureBytes); a
// frame whose record does not fit in the ring is always lost. It fails
// with ErrClosed once the port is closed. The caller owns the capture and
// must Close it; the port ends its stream (io.EOF) when the port closes.
func (p *Port) Capture(ringBytes int) (*Capture, error) {
	c := newCapture(p, ringBytes)
	p.capMu.Lock()
	defer p.capMu.Unlock()
	if p.capsEnded {
		return nil, fmt.Errorf("capture %s: %w", p.Name(), ErrClosed)
	}
	var caps []*Capture
	if old := p.caps.Load(); old != nil {
		caps = append(caps, *old...)
	}
	caps = append(caps, c)
	p.caps.Store(&caps)
	p.capsOpen[c] = struct{}{}
	return c, nil
}

// unsubscribe removes c, closed with lost frames lost, from the port's
// captures.
func (p *Port) unsubscribe(c *Capture, lost uint64) {
	p.capMu.Lock()
	defer p.capMu.Unlock()
	delete(p.capsOpen, c)
	p.capsLost += lost
	old := p.caps.Load()
	if old == nil {
		return
	}
	caps := make([]*Capture, 0, len(*old))
	for _, o := range *old {
		if o != c {
			caps = append(caps, o)
		}
	}
	p.caps.Store(&caps)
}

// captureCounts is how many captures are open, and how many frames every
// capture, open or closed, has lost.
func (p *Port) captureCounts() (open, lost uint64) {
	p.capMu.Lock()
	defer p.capMu.Unlock()
	lost = p.capsLost
	for c := range p.capsOpen {
		lost += c.Lost()
	}
	return uint64(len(p.capsOpen)), lost
}

// endCaptures ends every capture's stream and refuses new ones.
func (p *Port) endCaptures() {
	p.capMu.Lock()
	p.capsEnded = true
	old := p.caps.Swap(nil)
	p.capMu.Unlock()
	if old != nil {
		for _, c := range *old {
			c.end()
		}
	}
}

// publishv shows one frame of n bytes, exactly iov, to the captures. With
// none, it costs an atomic load.
func (p *Port) publishv(iov [][]byte, n int) {
	caps := p.caps.Load()
	if caps == nil || len(*caps) == 0 {
		return
	}
	ts := time.Now()
	for _, c := range *caps {
		c.add(ts, iov, n)
	}
}
