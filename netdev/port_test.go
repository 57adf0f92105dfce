package netdev_test

import (
	"bytes"
	"errors"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"slices"
	"testing"
	"time"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

func TestReceiveLayers(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		payload []byte // the top layer's bytes, nil when it is not a payload
	}{
		{"udp", netdev.UDPFrame([]byte("hello pond")), []byte("hello pond")},
		{"udp padded", netdev.Padded(netdev.UDPFrame(netdev.Hello)), netdev.Hello},
		{"tcp", netdev.Ether(netdev.EtherTypeIPv4, netdev.IPv4(netdev.IPProtoTCP, netdev.TCP(6, netdev.Hello))), netdev.Hello},
		{"icmp", netdev.Ether(netdev.EtherTypeIPv4, netdev.IPv4(netdev.IPProtoICMP, netdev.ICMP(netdev.Hello))), netdev.Hello},
		{"arp", netdev.Padded(netdev.Ether(netdev.EtherTypeARP, netdev.ARP())), nil},
		{"vlan ipv6 icmpv6", netdev.Ether(netdev.EtherTypeVLAN, netdev.VLAN(7, netdev.EtherTypeIPv6, netdev.IPv6(netdev.IPProtoICMPv6, netdev.ICMP(netdev.Hello)))), netdev.Hello},
		{"unknown ethertype", netdev.Padded(netdev.Ether(0x88b5, []byte("opaque"))), nil},
	}
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := uint64(i + 1)
			m.inject(t, tt.frame)
			netdev.WaitSeen(t, m.Port, seq)
			if got := m.Seqs(nil); !slices.Equal(got, []uint64{seq}) {
				t.Fatalf("Seqs = %v, want [%d]", got, seq)
			}
			want := netdev.Decode(tt.frame, nil)
			err := m.With(seq, func(c *chain.Chain) error {
				if c.Depth() != len(want)-1 {
					t.Errorf("depth %d, want %d (%v)", c.Depth(), len(want)-1, want)
				}
				for k, l := range want {
					info, err := c.Layer(k)
					if err != nil {
						t.Fatal(err)
					}
					wantOff := l.Offset
					if k > 0 {
						wantOff -= want[k-1].Offset
					}
					if info != (chain.LayerInfo{Offset: wantOff, Length: l.Length, Proto: l.Proto}) {
						t.Errorf("layer %d: %+v, want %v at %d", k, info, l, wantOff)
					}
					if got := netdev.ChainBytes(t, c, k); !bytes.Equal(got, tt.frame[l.Offset:l.Offset+l.Length]) {
						t.Errorf("layer %d bytes %x", k, got)
					}
				}
				if tt.payload != nil && !bytes.Equal(netdev.ChainBytes(t, c, c.Depth()), tt.payload) {
					t.Errorf("top layer is not the payload %q", tt.payload)
				}
				for c.Depth() > 0 {
					c.Pop()
				}
				if c.Headroom() != chain.DefaultHeadroom {
					t.Errorf("headroom %d, want %d", c.Headroom(), chain.DefaultHeadroom)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("With(%d): %v", seq, err)
			}
			c, err := m.Take(seq)
			if err != nil {
				t.Fatal(err)
			}
			c.Free()
		})
	}
	s := m.Stats()
	var bytes uint64
	for _, tt := range tests {
		bytes += uint64(len(tt.frame))
	}
	if s.RxPackets != uint64(len(tests)) || s.RxBytes != bytes || s.RxDropped != 0 || s.RxQueue != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestReceiveDropsOldest(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{RxQueue: 4})
	for i := 1; i <= 10; i++ {
		m.inject(t, netdev.Numbered(i))
	}
	netdev.WaitFor(t, "10 frames received", func() bool { return m.Stats().RxPackets == 10 })
	if got := m.Seqs(nil); !slices.Equal(got, []uint64{7, 8, 9, 10}) {
		t.Fatalf("Seqs = %v, want [7 8 9 10]", got)
	}
	for _, seq := range []uint64{7, 10} {
		c, err := m.Take(seq)
		if err != nil {
			t.Fatal(err)
		}
		if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, netdev.Numbered(int(seq))) {
			t.Errorf("frame %d holds %x", seq, got)
		}
		c.Free()
	}
	s := m.Stats()
	if s.RxPackets != 10 || s.RxDropped != 6 || s.RxQueue != 2 || s.RxQueueMax != 4 {
		t.Errorf("stats %+v, want 10 received, 6 dropped, 2 queued of 4", s)
	}
	// The dropped frames' buffers went back: only the two queued, and the
	// one the receiver waits with, are charged.
	if used := m.Account().Stats().UsedBytes; used != 3*2048 {
		t.Errorf("account uses %d bytes, want %d", used, 3*2048)
	}
}

func TestReceivePondExhaustedDropsWithoutBlocking(t *testing.T) {
	p := netdev.NewTestPond(t, 4) // four buffers big enough for a frame
	m := newMemPort(t, p, netdev.Config{RxQueue: 16})
	for i := 1; i <= 10; i++ {
		m.inject(t, netdev.Numbered(i))
	}
	netdev.WaitSeen(t, m.Port, 10)
	if s := m.Stats(); s.RxPackets != 4 || s.RxDropped != 6 {
		t.Fatalf("stats %+v, want 4 received and 6 dropped", s)
	}
	if got := m.Seqs(nil); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Fatalf("Seqs = %v", got)
	}
	if n := m.log.Count("dropping frames"); n != 1 {
		t.Errorf("the run of drops logged %d lines, want 1:\n%s", n, m.log)
	}
	// Memory freed by a consumer serves the next frame at once.
	c, err := m.Take(1)
	if err != nil {
		t.Fatal(err)
	}
	c.Free()
	m.inject(t, netdev.Numbered(11))
	netdev.WaitFor(t, "frame 11 queued", func() bool { return m.Stats().RxPackets == 5 })
	if got := m.Seqs(nil); !slices.Equal(got, []uint64{2, 3, 4, 5}) {
		t.Fatalf("Seqs = %v, want the new frame as 5", got)
	}
	c, err = m.Take(5)
	if err != nil {
		t.Fatal(err)
	}
	if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, netdev.Numbered(11)) {
		t.Errorf("frame 5 holds %x", got)
	}
	c.Free()
}

func TestReceiveAccountLimitIsolated(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{RxQueue: 16, AccountLimit: 3 * 2048})
	if m.Account().Name() != "rx.mem0" || m.Account().Limit() != 3*2048 {
		t.Fatalf("account %s limit %d", m.Account().Name(), m.Account().Limit())
	}
	for i := 1; i <= 8; i++ {
		m.inject(t, netdev.Numbered(i))
	}
	netdev.WaitSeen(t, m.Port, 8)
	if s := m.Stats(); s.RxPackets != 3 || s.RxDropped != 5 {
		t.Fatalf("stats %+v, want 3 received and 5 dropped", s)
	}
	if a := m.Account().Stats(); a.Fails < 5 || a.UsedBytes != 3*2048 {
		t.Errorf("account stats %+v", a)
	}
	// The port's account at its limit takes nothing from another account.
	other, err := p.NewAccount("other", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Get(other, 2048)
	if err != nil {
		t.Fatalf("another account cannot allocate: %v", err)
	}
	p.Put(b)
}

// A frame larger than the pond's largest buffer is read into several,
// with one readv, and comes out whole, with its layers.
func TestReceiveFrameLargerThanAnyBuffer(t *testing.T) {
	p := netdev.NewPondOf(t, pond.Config{Classes: []pond.ClassConfig{{Size: 1024, Max: 16, GrowBy: 16}}, ArenaMax: 1 << 20})
	m := newMemPort(t, p, netdev.Config{})
	big := netdev.UDPFrame(bytes.Repeat([]byte{'b'}, 1400))
	m.inject(t, big, netdev.Numbered(2))
	netdev.WaitSeen(t, m.Port, 2)
	if s := m.Stats(); s.RxPackets != 2 || s.RxDropped != 0 {
		t.Fatalf("stats %+v, want both frames received", s)
	}
	err := m.With(1, func(c *chain.Chain) error {
		if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, big) || c.NumSegments() != 2 {
			t.Errorf("frame of %d bytes in %d segments, want the %d sent in 2", len(got), c.NumSegments(), len(big))
		}
		if info, err := c.Layer(c.Depth()); err != nil || info.Proto != netdev.ProtoPayload || info.Length != 1400 {
			t.Errorf("top layer %+v (%v), want the 1400-byte payload", info, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = m.With(2, func(c *chain.Chain) error {
		if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, netdev.Numbered(2)) {
			t.Errorf("frame 2 came out as %x", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReceiveHeadroomShrinksToFit(t *testing.T) {
	p := netdev.NewPondOf(t, pond.Config{Classes: []pond.ClassConfig{{Size: 1600, Max: 16, GrowBy: 16}}, ArenaMax: 1 << 20})
	m := newMemPort(t, p, netdev.Config{}) // 1518 + 128 > 1600: 82 bytes of headroom are left
	m.inject(t, netdev.Numbered(1))
	netdev.WaitSeen(t, m.Port, 1)
	err := m.With(1, func(c *chain.Chain) error {
		for c.Depth() > 0 {
			c.Pop()
		}
		if got := c.Headroom(); got != 1600-testMaxFrame {
			t.Errorf("headroom %d, want %d", got, 1600-testMaxFrame)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTakeAndWith(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	m.inject(t, netdev.Numbered(1), netdev.Numbered(2), netdev.Numbered(3))
	netdev.WaitSeen(t, m.Port, 3)

	c, err := m.Take(2)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Seqs(nil); !slices.Equal(got, []uint64{1, 3}) {
		t.Errorf("Seqs after Take(2) = %v", got)
	}
	c.Free()
	_, err = m.Take(2)
	netdev.WantIs(t, "second Take", err, netdev.ErrNoFrame)
	netdev.WantIs(t, "With of a taken frame", m.With(2, func(*chain.Chain) error { return nil }), netdev.ErrNoFrame)
	netdev.WantIs(t, "With of a frame never received", m.With(99, func(*chain.Chain) error { return nil }), netdev.ErrNoFrame)

	// fn's error comes back as it is, and fn's edits stay on the chain.
	errMine := errors.New("mine")
	err = m.With(1, func(c *chain.Chain) error {
		if err := c.Pop(); err != nil {
			return err
		}
		return errMine
	})
	if err != errMine {
		t.Fatalf("With returned %v, want fn's error", err)
	}
	m.With(1, func(c *chain.Chain) error {
		if d := c.Depth(); d != 2 {
			t.Errorf("depth after a Pop in an earlier With: %d, want 2", d)
		}
		return nil
	})
	netdev.TakeAll(t, m.Port)
}

// A frame dropped from the queue while it is lent stays valid until the
// borrower is done, and is freed then.
func TestWithOutlivesDrop(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{RxQueue: 2})
	m.inject(t, netdev.Numbered(1))
	netdev.WaitSeen(t, m.Port, 1)
	err := m.With(1, func(c *chain.Chain) error {
		m.inject(t, netdev.Numbered(2), netdev.Numbered(3))
		netdev.WaitFor(t, "frame 1 dropped", func() bool { return m.Stats().RxDropped == 1 })
		if got := m.Seqs(nil); !slices.Equal(got, []uint64{2, 3}) {
			t.Errorf("Seqs = %v while frame 1 is lent", got)
		}
		if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, netdev.Numbered(1)) {
			t.Errorf("lent frame changed under its borrower: %x", got)
		}
		// Frames 1 to 3, and the buffer the receiver waits with.
		if used := m.Account().Stats().UsedBytes; used != 4*2048 {
			t.Errorf("account uses %d bytes while frame 1 is lent, want %d", used, 4*2048)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used := m.Account().Stats().UsedBytes; used != 3*2048 {
		t.Errorf("account uses %d bytes once the borrower is done, want %d", used, 3*2048)
	}
	netdev.TakeAll(t, m.Port)
}

// Take of a frame that is lent waits for the borrower.
func TestTakeWaitsForWith(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	m.inject(t, netdev.Numbered(1))
	netdev.WaitSeen(t, m.Port, 1)
	lent, finish := make(chan struct{}), make(chan struct{})
	withDone := make(chan error, 1)
	go func() {
		withDone <- m.With(1, func(c *chain.Chain) error {
			close(lent)
			<-finish
			return c.Pop()
		})
	}()
	<-lent
	taken := make(chan *chain.Chain, 1)
	go func() {
		c, err := m.Take(1)
		if err != nil {
			t.Error(err)
		}
		taken <- c
	}()
	select {
	case <-taken:
		t.Fatal("Take returned while the frame was lent")
	case <-time.After(20 * time.Millisecond):
	}
	close(finish)
	if err := <-withDone; err != nil {
		t.Fatal(err)
	}
	c := <-taken
	if c == nil {
		t.FailNow()
	}
	if d := c.Depth(); d != 2 {
		t.Errorf("taken chain depth %d, want the borrower's Pop to show (2)", d)
	}
	c.Free()
}

func TestSend(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	fsAcct, err := p.NewAccount("fs", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	newChain := func(parts ...[]byte) *chain.Chain {
		c, err := chain.New(p, fsAcct, chain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range parts {
			// Each part built in a chain of its own stays its own segment
			// once appended, so the frame goes out as several iovecs.
			part, err := chain.New(p, fsAcct, chain.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := part.Append(b); err != nil {
				t.Fatal(err)
			}
			if err := c.AppendChain(part); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	buf := make([]byte, testMaxFrame+1)
	frame := netdev.UDPFrame([]byte("out it goes"))
	c := newChain(frame[:14], frame[14:34], frame[34:])
	if err := c.Push(14, 20, netdev.ProtoIPv4); err != nil {
		t.Fatal(err)
	}
	if err := m.Send(c); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n, err := m.peer.Readv([][]byte{buf}); err != nil || !bytes.Equal(buf[:n], frame) {
		t.Fatalf("peer got %x (%v), want all of layer 0", buf[:n], err)
	}

	for _, n := range []int{netdev.EthHeaderLen, testMaxFrame} {
		if err := m.Send(newChain(make([]byte, n))); err != nil {
			t.Fatalf("Send of %d bytes: %v", n, err)
		}
		if got, err := m.peer.Readv([][]byte{buf}); err != nil || got != n {
			t.Fatalf("peer got %d bytes (%v), want %d", got, err, n)
		}
	}
	for _, n := range []int{0, netdev.EthHeaderLen - 1, testMaxFrame + 1} {
		netdev.WantIs(t, "Send of a bad size", m.Send(newChain(make([]byte, n))), netdev.ErrFrameSize)
		netdev.WantIs(t, "SendBytes of a bad size", m.SendBytes(make([]byte, n)), netdev.ErrFrameSize)
	}
	if err := m.SendBytes(frame); err != nil {
		t.Fatal(err)
	}
	if n, err := m.peer.Readv([][]byte{buf}); err != nil || !bytes.Equal(buf[:n], frame) {
		t.Fatalf("peer got %x (%v) from SendBytes", buf[:n], err)
	}
	want := netdev.Stats{TxPackets: 4, TxBytes: uint64(2*len(frame) + netdev.EthHeaderLen + testMaxFrame), RxQueueMax: netdev.DefaultRxQueue, Up: 1}
	if s := m.Stats(); s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	// Every chain, sent or refused, was consumed.
	if used := fsAcct.Stats().UsedBytes; used != 0 {
		t.Errorf("fs account still uses %d bytes", used)
	}
	netdev.WantIs(t, "Send of a nil chain", m.Send(nil), chain.ErrInvalid)

	m.peer.Close()
	netdev.WantIs(t, "Send to a gone device", m.Send(newChain(frame)), netdev.ErrDeviceGone)
	if s := m.Stats(); s.TxErrors != 1 {
		t.Errorf("tx_errors %d, want 1", s.TxErrors)
	}
	m.Close()
	netdev.WantIs(t, "SendBytes after Close", m.SendBytes(frame), netdev.ErrClosed)
	if s := m.Stats(); s.TxErrors != 2 {
		t.Errorf("tx_errors %d, want 2", s.TxErrors)
	}
	if used := fsAcct.Stats().UsedBytes; used != 0 {
		t.Errorf("fs account still uses %d bytes", used)
	}
}

func TestPortCloseUnblocksAndFrees(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	m.inject(t, netdev.Numbered(1), netdev.Numbered(2))
	netdev.WaitSeen(t, m.Port, 2)
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	select {
	case <-m.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if err := m.Err(); err != nil {
		t.Errorf("Err after Close = %v, want nil", err)
	}
	if got := m.Seqs(nil); len(got) != 0 {
		t.Errorf("frames still queued after Close: %v", got)
	}
	if used := m.Account().Stats().UsedBytes; used != 0 {
		t.Errorf("account uses %d bytes after Close", used)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestPortDeviceGone(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	m.inject(t, netdev.Numbered(1))
	m.peer.Close()
	select {
	case <-m.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the port kept receiving from a gone device")
	}
	netdev.WantIs(t, "Err", m.Err(), netdev.ErrDeviceGone)
	if n := m.log.Count("device is gone"); n != 1 {
		t.Errorf("logged %d lines about the device gone, want 1:\n%s", n, m.log)
	}
	// What was received before stays readable.
	if got := m.Seqs(nil); !slices.Equal(got, []uint64{1}) {
		t.Errorf("Seqs = %v", got)
	}
}

func TestNewPortAccount(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	dev, peer := netdevtest.NewMemPair("acct0", testMaxFrame, 4)
	defer peer.Close()
	port, err := netdev.NewPort(p, dev, netdev.Config{RxQueue: 8})
	if err != nil {
		t.Fatal(err)
	}
	// Default limit: twice the queue of frames in the 2048-byte class.
	if got := port.Account().Limit(); got != 2*8*2048 {
		t.Errorf("default limit %d, want %d", got, 2*8*2048)
	}
	port.Account().SetLimit(12345)
	port.Close()
	// A device reopened under the same name reuses the account and its limit.
	dev, peer2 := netdevtest.NewMemPair("acct0", testMaxFrame, 4)
	defer peer2.Close()
	port, err = netdev.NewPort(p, dev, netdev.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if got := port.Account().Limit(); got != 12345 {
		t.Errorf("reopened port's limit %d, want the one set before, 12345", got)
	}

	dev, peer3 := netdevtest.NewMemPair("bad0", testMaxFrame, 4)
	defer dev.Close()
	defer peer3.Close()
	for _, cfg := range []netdev.Config{{RxQueue: -1}, {AccountLimit: -1}, {Headroom: 1 << 20}} {
		_, err := netdev.NewPort(p, dev, cfg)
		netdev.WantIs(t, "NewPort with a bad config", err, pond.ErrInvalid)
	}
}

func TestStatsFields(t *testing.T) {
	s := netdev.Stats{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	var names []string
	for i, f := range s.Fields() {
		names = append(names, f.Name)
		if f.Value != uint64(i+1) {
			t.Errorf("%s = %d, want %d", f.Name, f.Value, i+1)
		}
	}
	want := []string{"rx_packets", "rx_bytes", "rx_dropped", "tx_packets", "tx_bytes", "tx_errors", "rx_queue", "rx_queue_max", "rx_filtered", "up", "capture_lost", "captures"}
	if !slices.Equal(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
}
