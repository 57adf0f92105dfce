package netdev_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"io"
	"log"
	"testing"
	"time"
)

// pcapTail follows one capture's stream.
type pcapTail struct {
	c *netdev.Capture
	r *netdev.PcapReader
}

func tail(c *netdev.Capture) *pcapTail {
	return &pcapTail{c, netdev.NewPcapReader(netdev.MaxFrameLimit)}
}

// records reads the stream until it yields n more records, in reads of
// odd sizes.
func (pt *pcapTail) records(t *testing.T, n int) [][]byte {
	t.Helper()
	c, r := pt.c, pt.r
	var recs [][]byte
	buf := make([]byte, 7)
	for len(recs) < n {
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("capture Read after %d records: %v", len(recs), err)
		}
		err = r.Feed(buf[:k], func(rec []byte) error {
			recs = append(recs, bytes.Clone(rec))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

func TestCaptureSeesReceivedAndSent(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	m.inject(t, netdev.Numbered(0)) // before the capture: not in it
	netdev.WaitSeen(t, m.Port, 1)
	c, err := m.Capture(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m.inject(t, netdev.Numbered(1))
	netdev.WaitSeen(t, m.Port, 2)
	if err := m.SendBytes(netdev.Numbered(2)); err != nil {
		t.Fatal(err)
	}
	recs := tail(c).records(t, 2)
	if !bytes.Equal(recs[0], netdev.Numbered(1)) || !bytes.Equal(recs[1], netdev.Numbered(2)) {
		t.Errorf("records %x, want frames 1 (received) and 2 (sent)", recs)
	}
	if c.Lost() != 0 {
		t.Errorf("Lost = %d", c.Lost())
	}
	netdev.TakeAll(t, m.Port)
}

// answeringDevice is a memory device whose peer answers each frame
// written to it before the write returns, as the kernel answers a frame
// written to a TAP (an ICMP error, say) within the write(2).
type answeringDevice struct {
	*netdevtest.MemDevice
	peer     *netdevtest.MemDevice
	answer   []byte
	received func() // returns once the port has received the answer
}

func (d *answeringDevice) Writev(iov [][]byte) (int, error) {
	n, err := d.MemDevice.Writev(iov)
	if err == nil {
		d.peer.Writev([][]byte{d.answer})
		d.received()
	}
	return n, err
}

// TestCaptureShowsSentBeforeItsAnswer: a sent frame is in the capture
// ahead of the answer the device gives to it during the write, as on a
// Linux interface.
func TestCaptureShowsSentBeforeItsAnswer(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	dev, peer := netdevtest.NewMemPair("mem0", testMaxFrame, 4)
	ad := &answeringDevice{MemDevice: dev, peer: peer, answer: netdev.Numbered(2)}
	port, err := netdev.NewPort(p, ad, netdev.Config{Log: log.New(&netdev.LogBuf{}, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		port.Close()
		peer.Close()
	})
	ad.received = func() { netdev.WaitSeen(t, port, 1) }
	c, err := port.Capture(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := port.SendBytes(netdev.Numbered(1)); err != nil {
		t.Fatal(err)
	}
	recs := tail(c).records(t, 2)
	if !bytes.Equal(recs[0], netdev.Numbered(1)) || !bytes.Equal(recs[1], netdev.Numbered(2)) {
		t.Errorf("records %x, want frame 1 (sent) and then 2 (its answer)", recs)
	}
	netdev.TakeAll(t, port)
}

func TestCaptureSlowReaderLoses(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	frame := netdev.Numbered(1)
	record := netdev.PcapRecordHeaderLen + len(frame)
	slow, err := m.Capture(netdev.PcapFileHeaderLen + 2*record) // room for two records
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast, err := m.Capture(0)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	for i := 1; i <= 5; i++ {
		if err := m.SendBytes(netdev.Numbered(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := slow.Lost(); got != 3 {
		t.Errorf("slow capture lost %d frames, want 3", got)
	}
	if got := fast.Lost(); got != 0 {
		t.Errorf("fast capture lost %d frames, want 0", got)
	}
	if s := m.Stats(); s.TxPackets != 5 {
		t.Errorf("the device sent %d frames, want all 5", s.TxPackets)
	}
	slowTail := tail(slow)
	recs := slowTail.records(t, 2)
	if !bytes.Equal(recs[0], netdev.Numbered(1)) || !bytes.Equal(recs[1], netdev.Numbered(2)) {
		t.Errorf("slow capture kept %x, want the first two frames", recs)
	}
	// Reading made room: the stream goes on, well formed, with what comes next.
	m.SendBytes(netdev.Numbered(6))
	if recs := slowTail.records(t, 1); !bytes.Equal(recs[0], netdev.Numbered(6)) {
		t.Errorf("after the loss the capture got %x", recs)
	}
	if got := len(tail(fast).records(t, 6)); got != 6 {
		t.Errorf("fast capture got %d records", got)
	}
}

// The capture ring wraps: many records through a ring of a few.
func TestCaptureRingWraps(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	c, err := m.Capture(netdev.PcapFileHeaderLen + 3*(netdev.PcapRecordHeaderLen+len(netdev.Numbered(0))) + 5)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var want, got [][]byte
	r := netdev.NewPcapReader(netdev.MaxFrameLimit)
	for i := range 50 {
		m.SendBytes(netdev.Numbered(i))
		want = append(want, netdev.Numbered(i))
		buf := make([]byte, 1000)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		r.Feed(buf[:n], func(rec []byte) error {
			got = append(got, bytes.Clone(rec))
			return nil
		})
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: %x, want %x", i, got[i], want[i])
		}
	}
}

func TestCaptureReadBlocksAndCancels(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	c, err := m.Capture(0)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, netdev.PcapFileHeaderLen)
	if n, err := io.ReadFull(c, hdr); err != nil || n != netdev.PcapFileHeaderLen {
		t.Fatalf("file header: %d bytes, %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.ReadContext(ctx, make([]byte, 100)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadContext with nothing to read: %v, want the context's error", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 100))
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		netdev.WantIs(t, "Read pending at Close", err, netdev.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	// A closed capture gets nothing more, and costs the port nothing.
	m.SendBytes(netdev.Numbered(1))
	if c.Lost() != 0 {
		t.Errorf("a closed capture counted a loss")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCaptureEndsWithPort(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	c, err := m.Capture(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m.SendBytes(netdev.Numbered(1))
	m.Close()
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading to the end: %v", err)
	}
	if want := netdev.PcapFileHeaderLen + netdev.PcapRecordHeaderLen + len(netdev.Numbered(1)); len(all) != want {
		t.Errorf("stream of %d bytes, want %d", len(all), want)
	}
	_, err = m.Capture(0)
	netdev.WantIs(t, "Capture of a closed port", err, netdev.ErrClosed)
}
