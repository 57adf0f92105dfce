package netdev_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"github.com/pondfs/pondfs/pond"
)

// FuzzRingHostile plays a hostile program against both rings of a port
// while frames flow both ways: the input is a list of writes of its own
// bytes over the rings' headers and slots, interleaved with frames
// received, produced, kicked and waited for. Whatever it writes, pondd
// must not panic, hang (each kick and wait ends), write outside the
// rings' buffers (canary buffers keep their bytes), send a frame of a size
// the device does not take, or leak (every buffer back, Audit clean).
func FuzzRingHostile(f *testing.F) {
	f.Add([]byte{0, 64, 0, 1, 2, 3, 4, 2, 3, 1, 128, 0, 9, 9, 9, 9, 2, 3})
	f.Add(bytes.Repeat([]byte{1, 200, 0, 255, 255, 255, 255, 2, 3, 0}, 20))
	f.Add(bytes.Repeat([]byte{2, 3, 4}, 40))
	f.Fuzz(func(t *testing.T, ops []byte) {
		p := netdev.NewTestPond(t, 512)
		canaries := fillCanaries(t, p)
		m := newMemPort(t, p, netdev.Config{})
		rx := attach(t, m.Port, netdev.RxRing)
		tx := attach(t, m.Port, netdev.TxRing)
		prx, ptx := newProgram(t, p, rx), newProgram(t, p, tx)
		sent := 0
		for len(ops) > 0 {
			op := ops[0] % 5
			ops = ops[1:]
			switch op {
			case 0, 1: // write bytes over the rx (0) or tx (1) ring
				pr := prx
				if op == 1 {
					pr = ptx
				}
				ops = scribbleOver(pr, ops)
			case 2: // the device receives a frame
				m.inject(t, netdev.Numbered(sent))
				sent++
			case 3: // the program produces a frame and kicks
				ptx.produce(netdev.Numbered(1000 + sent))
				kickBounded(t, tx)
				drainPeer(t, m.peer)
			case 4: // the program waits on each ring, briefly
				waitBounded(t, rx)
				waitBounded(t, tx)
				prx.consume()
			}
		}
		netdev.WaitSeen(t, m.Port, uint64(sent))
		rx.Close()
		tx.Close()
		drainPeer(t, m.peer)
		netdev.TakeAll(t, m.Port)
		m.Close() // Audit is exact only with no allocation under way
		checkCanaries(t, p, canaries)
		if got := inUse(p); got != int64(len(canaries)) {
			t.Fatalf("%d buffers in use, want only the %d canaries", got, len(canaries))
		}
		if err := p.Audit(); err != nil {
			t.Fatal(err)
		}
	})
}

// scribbleOver writes bytes of ops over pr's ring: a 16-bit offset into
// the header and slots laid end to end, a count, and that many bytes.
// It returns the rest of ops.
func scribbleOver(pr *program, ops []byte) []byte {
	if len(ops) < 3 {
		return nil
	}
	off := int(binary.LittleEndian.Uint16(ops))
	n := min(int(ops[2]%16), len(ops)-3)
	data := ops[3 : 3+n]
	hdr := pr.arena[pr.l.HeaderOffset : pr.l.HeaderOffset+int64(pr.l.HeaderBytes)]
	for _, b := range data {
		if off < len(hdr) {
			hdr[off] = b
		} else {
			k := (off - len(hdr)) / pr.l.SlotSize
			pr.slotAt(k % pr.l.Slots)[(off-len(hdr))%pr.l.SlotSize] = b
		}
		off++
	}
	return ops[3+n:]
}

// slotAt is slot k's buffer, from pondd's own record of it: the
// descriptors' addresses may be scribbled over.
func (pr *program) slotAt(k int) []byte { return pr.slots[k] }

func kickBounded(t *testing.T, r *netdev.Ring) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Kick(context.Background()) }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, netdev.ErrFrameSize) && !errors.Is(err, netdev.ErrRingIndex) {
			t.Fatalf("kick: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a kick still runs after 10s")
	}
}

func waitBounded(t *testing.T, r *netdev.Ring) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := r.Wait(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, netdev.ErrRingIndex) {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a wait still runs after 10s")
	}
}

// drainPeer reads every frame the port sent, each of a size the device
// takes.
func drainPeer(t *testing.T, peer *netdevtest.MemDevice) {
	t.Helper()
	buf := make([]byte, netdev.MaxFrameLimit+1)
	for {
		n, err := peer.ReadNow([][]byte{buf})
		if errors.Is(err, netdev.ErrNotReady) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < netdev.EthHeaderLen || n > testMaxFrame {
			t.Fatalf("the device sent a frame of %d bytes", n)
		}
	}
}

// canary is a pond buffer no ring holds, filled with a pattern.
type canary struct {
	b    pond.Buf
	want []byte
}

// fillCanaries takes buffers of each class before the rings take theirs,
// and fills them; the rings must never write them.
func fillCanaries(t *testing.T, p *pond.Pond) []canary {
	t.Helper()
	acct, err := p.NewAccount("canary", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var cs []canary
	for _, size := range []int{128, 2048} {
		for range 4 {
			b, err := p.Get(acct, size)
			if err != nil {
				t.Fatal(err)
			}
			for i := range b.Bytes() {
				b.Bytes()[i] = byte(i*7 + size)
			}
			cs = append(cs, canary{b, bytes.Clone(b.Bytes())})
		}
	}
	t.Cleanup(func() {
		for _, c := range cs {
			p.Put(c.b)
		}
	})
	return cs
}

func checkCanaries(t *testing.T, p *pond.Pond, cs []canary) {
	t.Helper()
	for _, c := range cs {
		if !bytes.Equal(c.b.Bytes(), c.want) {
			t.Fatalf("buffer %s outside the rings was written", c.b)
		}
	}
}
