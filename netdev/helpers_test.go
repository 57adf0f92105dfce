package netdev

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// newTestPond makes a pond of two classes, 128 and 2048 bytes, the second
// holding at most bufs buffers, and closes it when the test ends; a Close
// that fails (a buffer still out) fails the test.
func newTestPond(t testing.TB, bufs int) *pond.Pond {
	t.Helper()
	return newPondOf(t, pond.Config{
		Classes: []pond.ClassConfig{
			{Size: 128, Min: 0, Max: 64, GrowBy: 16},
			{Size: 2048, Min: 0, Max: bufs, GrowBy: min(bufs, 16)},
		},
		ArenaMax: 4 << 20,
	})
}

func newPondOf(t testing.TB, cfg pond.Config) *pond.Pond {
	t.Helper()
	p, err := pond.New(cfg)
	if err != nil {
		t.Fatalf("pond.New: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("pond Close: %v", err)
		}
	})
	return p
}

// logBuf is a log.Logger's output, safe to read while the port writes.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count is how many logged lines contain s.
func (l *logBuf) count(s string) int {
	return strings.Count(l.String(), s)
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitSeen waits until the port has received or dropped n frames.
func waitSeen(t testing.TB, port *Port, n uint64) {
	t.Helper()
	waitFor(t, "frames to be received or dropped", func() bool {
		s := port.Stats()
		return s.RxPackets+s.RxDropped >= n
	})
}

// udpFrame is an Ethernet/IPv4/UDP frame carrying payload.
func udpFrame(payload []byte) []byte {
	return ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(payload)))
}

// numbered is a UDP frame whose payload names i.
func numbered(i int) []byte {
	return udpFrame([]byte{'#', byte(i >> 8), byte(i)})
}

// chainBytes reads all of layer k of c.
func chainBytes(t testing.TB, c *chain.Chain, k int) []byte {
	t.Helper()
	info, err := c.Layer(k)
	if err != nil {
		t.Fatalf("Layer(%d): %v", k, err)
	}
	b := make([]byte, info.Length)
	if n, err := c.ReadAtLayer(k, b, 0); n != len(b) {
		t.Fatalf("ReadAtLayer(%d): %d of %d bytes: %v", k, n, len(b), err)
	}
	return b
}

// takeAll takes and frees every queued frame.
func takeAll(t testing.TB, port *Port) {
	t.Helper()
	for _, seq := range port.Seqs(nil) {
		c, err := port.Take(seq)
		if err != nil {
			t.Fatalf("Take(%d): %v", seq, err)
		}
		c.Free()
	}
}

func wantIs(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}
