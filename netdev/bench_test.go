package netdev_test

import (
	"bytes"
	"fmt"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"testing"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// benchFrames are UDP frames of a small and a full-size datagram.
func benchFrames() []struct {
	name  string
	frame []byte
} {
	return []struct {
		name  string
		frame []byte
	}{
		{"64B", netdev.Padded(netdev.UDPFrame(netdev.Hello))},
		{"1514B", netdev.UDPFrame(bytes.Repeat([]byte{'x'}, 1514-42))},
	}
}

// benchPort is a port on a memory device whose receive goroutine never
// runs: the benchmark calls receiveOne itself. It is closed when b ends.
func benchPort(b *testing.B, p *pond.Pond) (*netdev.Port, *netdevtest.MemDevice) {
	return manualPort(b, p, netdev.Config{}, 4)
}

// receiveFrom has peer write the frame in iov and port receive it.
func receiveFrom(b *testing.B, port *netdev.Port, peer *netdevtest.MemDevice, iov [][]byte) {
	peer.Writev(iov)
	if err := port.ReceiveOne(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReceive is the receive path per frame, in the receiver's own
// goroutine: take a pond buffer, read the frame into it from a memory
// device, queue it; then a consumer takes it, which decodes it, makes its
// chain with the decoded layers, and frees the chain. The peer's write (a
// copy into the memory device) is in the loop too, as in
// BenchmarkReceiveRaw.
func BenchmarkReceive(b *testing.B) {
	for _, bf := range benchFrames() {
		b.Run(bf.name, func(b *testing.B) {
			p := netdev.NewTestPond(b, 64)
			port, peer := benchPort(b, p)
			iov := [][]byte{bf.frame}
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.frame)))
			for b.Loop() {
				receiveFrom(b, port, peer, iov)
				c, err := port.Take(port.LastSeq())
				if err != nil {
					b.Fatal(err)
				}
				c.Free()
			}
			if s := port.Stats(); s.RxDropped != 0 {
				b.Fatalf("stats %+v", s)
			}
		})
	}
}

// BenchmarkReceiveFull is the receive path of a port nobody reads, as
// when the bench drains a TAP: the queue is full, so each frame queued
// drops the oldest, and no frame is ever decoded or made a chain.
func BenchmarkReceiveFull(b *testing.B) {
	for _, bf := range benchFrames() {
		b.Run(bf.name, func(b *testing.B) {
			p := netdev.NewTestPond(b, 512)
			port, peer := benchPort(b, p)
			iov := [][]byte{bf.frame}
			for range port.Capacity() {
				receiveFrom(b, port, peer, iov)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.frame)))
			for b.Loop() {
				receiveFrom(b, port, peer, iov)
			}
			if s := port.Stats(); s.RxDropped != uint64(b.N) {
				b.Fatalf("stats %+v after %d frames", s, b.N)
			}
		})
	}
}

// BenchmarkReceiveRaw is the reference for BenchmarkReceive: the same
// frames read from the same device into one reused buffer, and nothing
// else.
func BenchmarkReceiveRaw(b *testing.B) {
	for _, bf := range benchFrames() {
		b.Run(bf.name, func(b *testing.B) {
			dev, peer := netdevtest.NewMemPair("bench0", testMaxFrame, 4)
			defer dev.Close()
			defer peer.Close()
			iov := [][]byte{bf.frame}
			buf := make([]byte, testMaxFrame+1)
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.frame)))
			for b.Loop() {
				peer.Writev(iov)
				if n, err := dev.Readv([][]byte{buf}); err != nil || n != len(bf.frame) {
					b.Fatal(fmt.Sprint(n, err))
				}
			}
		})
	}
}

// drainDepth is how many frames BenchmarkDrain queues at a time: like the
// bench's TAP queue, far more than the caches hold, so that each frame is
// read from cold memory, and what the receive path touches of a frame a
// queue's length old has left the caches too.
const drainDepth = 1 << 15

// BenchmarkDrain is the receive path draining a deep device queue, as the
// TAP drain figure does, without the system calls that make that figure
// noisy: the port against a loop reading the same device into one reused
// buffer. The difference of the two is what the receive path (staging a
// buffer, queueing) adds per frame with cold caches. An op is one
// frame.
func BenchmarkDrain(b *testing.B) {
	for _, bf := range benchFrames() {
		iov := [][]byte{bf.frame}
		b.Run(bf.name+"/port", func(b *testing.B) {
			port, peer := manualPort(b, netdev.NewTestPond(b, 512), netdev.Config{}, drainDepth)
			b.SetBytes(int64(len(bf.frame)))
			drainEach(b, peer, iov, port.ReceiveOne)
		})
		b.Run(bf.name+"/raw", func(b *testing.B) {
			dev, peer := netdevtest.NewMemPair("bench0", testMaxFrame, drainDepth)
			defer dev.Close()
			defer peer.Close()
			buf := make([]byte, testMaxFrame+1)
			b.SetBytes(int64(len(bf.frame)))
			drainEach(b, peer, iov, func() error {
				_, err := dev.Readv([][]byte{buf})
				return err
			})
		})
	}
}

// drainEach calls receive b.N times, on the clock, having peer fill its
// device's queue off the clock whenever it has run dry.
func drainEach(b *testing.B, peer *netdevtest.MemDevice, iov [][]byte, receive func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	queued := 0
	for range b.N {
		if queued == 0 {
			b.StopTimer()
			for range drainDepth {
				peer.Writev(iov)
			}
			b.StartTimer()
			queued = drainDepth
		}
		if err := receive(); err != nil {
			b.Fatal(err)
		}
		queued--
	}
}

// sendBatch is how many chains BenchmarkSend builds, off the clock, before
// each run of timed sends: as the bench's TAP send figure, enough that
// the chains are not all in cache when sent.
const sendBatch = 1000

// BenchmarkSend is the send path per frame: Port.Send of a chain (built
// off the clock), which writes it to a memory device and frees it, against
// the device's own Writev of one buffer. The peer's queue is emptied off
// the clock, so no frame is dropped. An op is one frame.
func BenchmarkSend(b *testing.B) {
	for _, bf := range benchFrames() {
		b.Run(bf.name+"/port", func(b *testing.B) {
			p := netdev.NewTestPond(b, 2*sendBatch)
			port, peer := manualPort(b, p, netdev.Config{}, sendBatch)
			acct, err := p.NewAccount("bench.tx", 1<<30)
			if err != nil {
				b.Fatal(err)
			}
			batch := make([]*chain.Chain, 0, sendBatch)
			sendEach(b, peer, func(k int) {
				batch = batch[:0]
				for range k {
					c, err := chain.New(p, acct, chain.Options{})
					if err == nil {
						err = c.Append(bf.frame)
					}
					if err != nil {
						b.Fatal(err)
					}
					batch = append(batch, c)
				}
			}, func(i int) error { return port.Send(batch[i]) })
		})
		b.Run(bf.name+"/raw", func(b *testing.B) {
			dev, peer := netdevtest.NewMemPair("bench0", testMaxFrame, sendBatch)
			defer dev.Close()
			defer peer.Close()
			iov := [][]byte{bf.frame}
			sendEach(b, peer, func(int) {}, func(int) error {
				_, err := dev.Writev(iov)
				return err
			})
		})
	}
}

// sendEach calls send b.N times on the clock, in runs of up to sendBatch:
// before each run, off the clock, it empties peer's queue and calls
// prepare with the run's length.
func sendEach(b *testing.B, peer *netdevtest.MemDevice, prepare func(k int), send func(i int) error) {
	b.ReportAllocs()
	buf := make([]byte, testMaxFrame+1)
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		k := min(sendBatch, b.N-sent)
		b.StopTimer()
		for peer.Queued() > 0 {
			if _, err := peer.Readv([][]byte{buf}); err != nil {
				b.Fatal(err)
			}
		}
		prepare(k)
		b.StartTimer()
		for i := range k {
			if err := send(i); err != nil {
				b.Fatal(err)
			}
		}
		sent += k
	}
}
