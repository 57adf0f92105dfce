package netdev_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"github.com/pondfs/pondfs/pond"
)

// program is the other side of a ring, as a process that maps the arena
// sees it: it knows only the layout and the arena's bytes.
type program struct {
	arena []byte
	l     netdev.RingLayout
	slots [][]byte // each slot's buffer, as attached
}

func newProgram(t testing.TB, p *pond.Pond, r *netdev.Ring) *program {
	t.Helper()
	pr := &program{arena: p.Arena(), l: r.Layout()}
	for k := range pr.l.Slots {
		pr.slots = append(pr.slots, pr.slot(uint32(k)))
	}
	hdr := pr.arena[pr.l.HeaderOffset:]
	if m := binary.LittleEndian.Uint32(hdr[netdev.RingMagicOff:]); m != netdev.RingMagic {
		t.Fatalf("magic %#x", m)
	}
	if v := binary.LittleEndian.Uint16(hdr[netdev.RingVersionOff:]); v != netdev.RingVersion {
		t.Fatalf("version %d", v)
	}
	return pr
}

func (pr *program) u32(off int64) *uint32 {
	return (*uint32)(unsafe.Pointer(&pr.arena[pr.l.HeaderOffset+off]))
}

func (pr *program) producer() *uint32 { return pr.u32(netdev.RingProducerOff) }
func (pr *program) consumer() *uint32 { return pr.u32(netdev.RingConsumerOff) }

func (pr *program) desc(k uint32) int64 {
	return pr.l.HeaderOffset + netdev.RingDescOff + int64(k&uint32(pr.l.Slots-1))*netdev.RingDescSize
}

// slot is slot k's whole buffer.
func (pr *program) slot(k uint32) []byte {
	addr := int64(binary.LittleEndian.Uint64(pr.arena[pr.desc(k)+netdev.RingDescAddrOff:]))
	return pr.arena[addr : addr+int64(pr.l.SlotSize)]
}

func (pr *program) length(k uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&pr.arena[pr.desc(k)+netdev.RingDescLenOff]))
}

// consume copies out every frame produced and not consumed, and
// consumes them. Like a careful program it trusts only its own record of
// the slots, and gives up on indexes or lengths out of range (a fuzzer
// may have written them).
func (pr *program) consume() [][]byte {
	var frames [][]byte
	prod, cons := atomic.LoadUint32(pr.producer()), atomic.LoadUint32(pr.consumer())
	if prod-cons > uint32(pr.l.Slots) {
		cons = prod
	}
	for ; cons != prod; cons++ {
		n := min(int(atomic.LoadUint32(pr.length(cons))), pr.l.SlotSize)
		frames = append(frames, bytes.Clone(pr.slots[cons&uint32(pr.l.Slots-1)][:n]))
	}
	atomic.StoreUint32(pr.consumer(), cons)
	return frames
}

// produce puts frames in the next slots and publishes them.
func (pr *program) produce(frames ...[]byte) {
	prod := atomic.LoadUint32(pr.producer())
	for _, f := range frames {
		copy(pr.slots[prod&uint32(pr.l.Slots-1)], f)
		atomic.StoreUint32(pr.length(prod), uint32(len(f)))
		prod++
	}
	atomic.StoreUint32(pr.producer(), prod)
}

func attach(t testing.TB, port *netdev.Port, kind netdev.RingKind) *netdev.Ring {
	t.Helper()
	acct, err := port.PondOf().NewAccount("ring."+kind.String(), 64<<20)
	if errors.Is(err, pond.ErrExists) {
		acct, err = port.PondOf().Account("ring." + kind.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := port.AttachRing(kind, acct)
	if err != nil {
		t.Fatalf("AttachRing(%s): %v", kind, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func inUse(p *pond.Pond) int64 { return int64(p.Stats().InUse) }

// TestRxRingReceives: frames go into the ring whole and in order, the
// queue sees none of them, the counters and a capture see each.
func TestRxRingReceives(t *testing.T) {
	p := netdev.NewTestPond(t, 256)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.RxRing)
	pr := newProgram(t, p, r)
	c, err := m.Capture(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var want [][]byte
	for i := range 40 {
		want = append(want, netdev.Numbered(i))
	}
	m.inject(t, want...)
	netdev.WaitSeen(t, m.Port, 40)
	got := pr.consume()
	if len(got) != 40 {
		t.Fatalf("%d frames in the ring, want 40; %+v", len(got), m.Stats())
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d: %x, want %x", i, got[i], want[i])
		}
	}
	if seqs := m.Seqs(nil); len(seqs) != 0 {
		t.Errorf("queue holds %v while a ring is attached", seqs)
	}
	s := m.Stats()
	if s.RxPackets != 40 || s.RxBytes != uint64(40*len(want[0])) || s.RxDropped != 0 {
		t.Errorf("stats %+v", s)
	}
	recs := tail(c).records(t, 40)
	if !bytes.Equal(recs[39], want[39]) {
		t.Errorf("capture's last record %x", recs[39])
	}
}

// TestRxRingFullDrops: a full ring drops each new frame and counts it;
// the device never waits, and consuming makes room again.
func TestRxRingFullDrops(t *testing.T) {
	p := netdev.NewTestPond(t, 256)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.RxRing)
	pr := newProgram(t, p, r)
	slots := r.Layout().Slots
	for i := range slots + 5 {
		m.inject(t, netdev.Numbered(i))
	}
	netdev.WaitSeen(t, m.Port, uint64(slots+5))
	if s := m.Stats(); s.RxDropped != 5 || s.RxPackets != uint64(slots) {
		t.Errorf("rx_dropped %d rx_packets %d, want 5 and %d", s.RxDropped, s.RxPackets, slots)
	}
	got := pr.consume()
	if len(got) != slots || !bytes.Equal(got[slots-1], netdev.Numbered(slots-1)) {
		t.Fatalf("%d frames, the last %x", len(got), got[len(got)-1])
	}
	m.inject(t, netdev.Numbered(1000))
	netdev.WaitSeen(t, m.Port, uint64(slots+6))
	if got := pr.consume(); len(got) != 1 || !bytes.Equal(got[0], netdev.Numbered(1000)) {
		t.Errorf("after consuming: %x", got)
	}
}

// TestRxRingPublishesAfterBytes: a program that sees the producer move
// sees the frames below it whole. It fails if the producer is stored
// before the frame is read into its slot.
func TestRxRingPublishesAfterBytes(t *testing.T) {
	p := netdev.NewTestPond(t, 256)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.RxRing)
	pr := newProgram(t, p, r)
	const frames = 1000
	stop := make(chan struct{})
	done := make(chan error, 1)
	exited := make(chan struct{})
	var stopOnce sync.Once
	t.Cleanup(func() { // before the pond closes
		stopOnce.Do(func() { close(stop) })
		<-exited
	})
	go func() {
		defer close(exited)
		next, seen := 0, 0
		for {
			select {
			case <-stop:
				if seen == 0 {
					done <- errors.New("no frame seen")
					return
				}
				done <- nil
				return
			default:
			}
			for _, f := range pr.consume() {
				// Frames the full ring dropped are missing; every frame
				// seen must be whole and newer than the one before.
				num := -1
				if len(f) >= netdev.EthHeaderLen {
					num = int(f[len(f)-2])<<8 | int(f[len(f)-1])
				}
				if num < next || !bytes.Equal(f, netdev.Numbered(num)) {
					done <- fmt.Errorf("after frame %d, a slot holding %x", next-1, f)
					return
				}
				next = num + 1
				seen++
			}
		}
	}()
	for i := range frames {
		if _, err := m.peer.Writev([][]byte{netdev.Numbered(i)}); err != nil {
			t.Fatal(err)
		}
		netdev.WaitFor(t, "the port to read the frame", func() bool { return m.dev.Queued() == 0 || len(done) > 0 })
	}
	netdev.WaitSeen(t, m.Port, frames)
	stopOnce.Do(func() { close(stop) })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRingAttachTwiceBusy: one ring of each kind; a closed one makes room.
func TestRingAttachTwiceBusy(t *testing.T) {
	p := netdev.NewTestPond(t, 512)
	m := newMemPort(t, p, netdev.Config{})
	for _, kind := range []netdev.RingKind{netdev.RxRing, netdev.TxRing} {
		r := attach(t, m.Port, kind)
		before := inUse(p)
		_, err := m.AttachRing(kind, m.Account())
		netdev.WantIs(t, "second "+kind.String()+" ring", err, netdev.ErrBusy)
		if inUse(p) != before {
			t.Errorf("a refused attach kept %d buffers", inUse(p)-before)
		}
		r.Close()
		attach(t, m.Port, kind)
	}
}

// TestRingCloseGivesBuffersBack: closing either ring, with the device
// idle, gives every buffer back at once.
func TestRingCloseGivesBuffersBack(t *testing.T) {
	p := netdev.NewTestPond(t, 512)
	m := newMemPort(t, p, netdev.Config{})
	m.inject(t, netdev.Numbered(1))
	netdev.WaitSeen(t, m.Port, 1)
	netdev.TakeAll(t, m.Port)
	base := inUse(p)
	rx := attach(t, m.Port, netdev.RxRing)
	tx := attach(t, m.Port, netdev.TxRing)
	slots := rx.Layout().Slots
	if got := inUse(p) - base; got != int64(2*(slots+1)) {
		t.Errorf("two rings hold %d buffers, want %d", got, 2*(slots+1))
	}
	m.inject(t, netdev.Numbered(2))
	netdev.WaitSeen(t, m.Port, 2)
	rx.Close()
	tx.Close()
	if got := inUse(p); got != base {
		t.Errorf("%d buffers in use after close, want %d", got, base)
	}
	if err := p.Audit(); err != nil {
		t.Error(err)
	}
	m.inject(t, netdev.Numbered(3))
	netdev.WaitSeen(t, m.Port, 3)
	if seqs := m.Seqs(nil); len(seqs) != 1 {
		t.Errorf("after detach the queue holds %v, want frame 3", seqs)
	}
	netdev.TakeAll(t, m.Port)
}

// TestTxRingKick: a kick sends every produced frame in order, frees
// their slots, and says so to a Wait.
func TestTxRingKick(t *testing.T) {
	p := netdev.NewTestPond(t, 512)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.TxRing)
	pr := newProgram(t, p, r)
	slots := r.Layout().Slots
	for round := range 3 {
		var frames [][]byte
		for i := range slots {
			frames = append(frames, netdev.Numbered(round*1000+i))
		}
		pr.produce(frames...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		n, err := r.Wait(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait on a full tx ring: %d, %v", n, err)
		}
		if err := r.Kick(context.Background()); err != nil {
			t.Fatal(err)
		}
		for i := range slots {
			buf := make([]byte, testMaxFrame+1)
			n, err := m.peer.Readv([][]byte{buf})
			if err != nil || !bytes.Equal(buf[:n], frames[i]) {
				t.Fatalf("round %d frame %d: %x, %v", round, i, buf[:n], err)
			}
		}
		if n, err := r.Wait(context.Background()); n != slots || err != nil {
			t.Fatalf("Wait after kick: %d free, %v", n, err)
		}
	}
	if s := m.Stats(); s.TxPackets != uint64(3*slots) || s.TxErrors != 0 {
		t.Errorf("stats %+v", s)
	}
}

// onWrite is a memory device that calls hook before each frame it
// sends, with how many it sent before: the program's side of a ring, at
// work while a kick runs.
type onWrite struct {
	*netdevtest.MemDevice
	sent int
	hook func(sent int)
}

func (d *onWrite) Writev(iov [][]byte) (int, error) {
	d.hook(d.sent)
	d.sent++
	return d.MemDevice.Writev(iov)
}

// TestTxRingKickSendsWhatIsProducedMeanwhile: while a kick sends, it
// publishes its consumer every TxPublishEvery frames, a Wait for free
// slots answers at once, and frames the program produces into the freed
// slots go out in the same kick, in order. It fails if the kick sends
// only what was produced when it began (the frames produced later stay
// in the ring), if it publishes its consumer only at the end (no slot is
// free to produce into), or if a Wait has to wait for the kick to end
// (the Wait below would block, and the test time out).
func TestTxRingKickSendsWhatIsProducedMeanwhile(t *testing.T) {
	p := netdev.NewPondOf(t, pond.Config{ // room for a ring of DefaultRingSlots
		Classes: []pond.ClassConfig{
			{Size: 2048, Min: 0, Max: 2 * netdev.DefaultRingSlots, GrowBy: 64},
			{Size: 65536, Min: 0, Max: 4, GrowBy: 1},
		},
		ArenaMax: 16 << 20,
	})
	dev, peer := netdevtest.NewMemPair("mem0", testMaxFrame, 2*netdev.DefaultRingSlots)
	w := &onWrite{MemDevice: dev, hook: func(int) {}}
	port := manualPortOn(t, p, w, peer, netdev.Config{})
	r := attach(t, port, netdev.TxRing)
	pr := newProgram(t, p, r)
	slots := r.Layout().Slots
	if slots != netdev.DefaultRingSlots {
		t.Fatalf("a ring of %d slots", slots)
	}
	var want [][]byte
	for i := range slots {
		want = append(want, netdev.Numbered(i))
	}
	pr.produce(want...)
	w.hook = func(sent int) {
		if sent != 2*netdev.TxPublishEvery || len(want) > slots {
			return
		}
		free, err := waitAtOnce(r)
		if err != nil || free != 2*netdev.TxPublishEvery {
			t.Errorf("Wait during the kick, after %d frames sent: %d free, %v", sent, free, err)
			return
		}
		var more [][]byte
		for i := range free {
			more = append(more, netdev.Numbered(slots+i))
		}
		pr.produce(more...)
		want = append(want, more...)
	}
	if err := r.Kick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w.sent != len(want) || len(want) != slots+2*netdev.TxPublishEvery {
		t.Fatalf("the kick sent %d frames, want %d", w.sent, slots+2*netdev.TxPublishEvery)
	}
	for i, f := range want {
		buf := make([]byte, testMaxFrame+1)
		n, err := peer.Readv([][]byte{buf})
		if err != nil || !bytes.Equal(buf[:n], f) {
			t.Fatalf("frame %d: %x, %v; want %x", i, buf[:n], err, f)
		}
	}
	if c := atomic.LoadUint32(pr.consumer()); c != uint32(len(want)) {
		t.Errorf("consumer %d, want %d", c, len(want))
	}
}

// waitAtOnce is r.Wait that must answer within 2 s: it fails when the
// ring has no work, or when the Wait is stuck (its goroutine is left to
// end with the ring).
func waitAtOnce(r *netdev.Ring) (int, error) {
	type answer struct {
		n   int
		err error
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan answer, 1)
	go func() {
		n, err := r.Wait(ctx)
		done <- answer{n, err}
	}()
	select {
	case a := <-done:
		return a.n, a.err
	case <-time.After(2 * time.Second):
		return 0, errors.New("Wait still waits after 2s")
	}
}

// TestTxRingSkipsBadLength: a slot too short, longer than its buffer or
// than the device takes is skipped and counted; the rest go out and the
// kick fails with netdev.ErrFrameSize. It fails (a panic: a slice past the
// slot's buffer) if the length is not checked against the buffer.
func TestTxRingSkipsBadLength(t *testing.T) {
	p := netdev.NewTestPond(t, 512)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.TxRing)
	pr := newProgram(t, p, r)
	pr.produce(netdev.Numbered(1), netdev.Numbered(2), netdev.Numbered(3), netdev.Numbered(4), netdev.Numbered(5))
	prod := atomic.LoadUint32(pr.producer())
	atomic.StoreUint32(pr.length(prod-4), 13)
	atomic.StoreUint32(pr.length(prod-3), 0xffffffff)
	atomic.StoreUint32(pr.length(prod-2), testMaxFrame+1)
	netdev.WantIs(t, "kick", r.Kick(context.Background()), netdev.ErrFrameSize)
	for _, want := range [][]byte{netdev.Numbered(1), netdev.Numbered(5)} {
		buf := make([]byte, testMaxFrame+1)
		if n, err := m.peer.Readv([][]byte{buf}); err != nil || !bytes.Equal(buf[:n], want) {
			t.Fatalf("sent %x, %v; want %x", buf[:n], err, want)
		}
	}
	if s := m.Stats(); s.TxPackets != 2 || s.TxErrors != 3 {
		t.Errorf("tx_packets %d tx_errors %d, want 2 and 3", s.TxPackets, s.TxErrors)
	}
	if c := atomic.LoadUint32(pr.consumer()); c != prod {
		t.Errorf("consumer %d, want %d", c, prod)
	}
}

// TestTxRingRefusesWildProducer: a producer further ahead than the ring
// has slots sends nothing and fails the kick at once. Without the check
// the kick would send slot after slot for some two billion frames.
func TestTxRingRefusesWildProducer(t *testing.T) {
	p := netdev.NewTestPond(t, 512)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.TxRing)
	pr := newProgram(t, p, r)
	pr.produce(netdev.Numbered(1))
	atomic.StoreUint32(pr.producer(), 1<<31)
	netdev.WantIs(t, "kick", r.Kick(context.Background()), netdev.ErrRingIndex)
	if s := m.Stats(); s.TxPackets != 0 {
		t.Errorf("sent %d frames", s.TxPackets)
	}
	_, err := r.Wait(context.Background())
	netdev.WantIs(t, "wait", err, netdev.ErrRingIndex)
	atomic.StoreUint32(pr.producer(), 1)
	if err := r.Kick(context.Background()); err != nil {
		t.Fatalf("kick once the producer is sane: %v", err)
	}
}

// TestRxRingWait: Wait blocks until a frame arrives, counts those not
// consumed, stops at its context, and ends with io.EOF once the device is
// gone and the ring is empty.
func TestRxRingWait(t *testing.T) {
	p := netdev.NewTestPond(t, 256)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.RxRing)
	pr := newProgram(t, p, r)
	got := make(chan int, 1)
	go func() {
		n, _ := r.Wait(context.Background())
		got <- n
	}()
	select {
	case n := <-got:
		t.Fatalf("Wait returned %d on an empty ring", n)
	case <-time.After(20 * time.Millisecond):
	}
	m.inject(t, netdev.Numbered(1), netdev.Numbered(2))
	if n := <-got; n < 1 {
		t.Fatalf("Wait = %d", n)
	}
	netdev.WaitSeen(t, m.Port, 2)
	if n, err := r.Wait(context.Background()); n != 2 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	pr.consume()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Wait(ctx)
	netdev.WantIs(t, "cancelled Wait", err, context.Canceled)
	m.peer.Close()
	<-m.Done()
	_, err = r.Wait(context.Background())
	netdev.WantIs(t, "Wait after the device is gone", err, io.EOF)
}

// TestRingCloseEndsWait: closing a ring ends a Wait on it.
func TestRingCloseEndsWait(t *testing.T) {
	p := netdev.NewTestPond(t, 256)
	m := newMemPort(t, p, netdev.Config{})
	r := attach(t, m.Port, netdev.RxRing)
	errc := make(chan error, 1)
	go func() {
		_, err := r.Wait(context.Background())
		errc <- err
	}()
	r.Close()
	netdev.WantIs(t, "Wait", <-errc, netdev.ErrClosed)
}
