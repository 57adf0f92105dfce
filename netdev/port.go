package netdev

import (
	"errors"
	"fmt"
	"io"
	"log"
	"sync"
	"sync/atomic"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// DefaultRxQueue is the number of received frames a port keeps when
// Config.RxQueue is 0, as pondd's --rx-queue default.
const DefaultRxQueue = 256

// AccountPrefix starts the name of the account a port's received frames
// are charged to: "rx." and the device's name.
const AccountPrefix = "rx."

// Config tunes a Port.
type Config struct {
	// RxQueue is how many received frames the port keeps before it drops
	// the oldest (--rx-queue). 0 means DefaultRxQueue.
	RxQueue int
	// Headroom is how many bytes each received frame's buffer keeps free
	// in front of the frame, as chain.Options.Headroom: 0 means
	// chain.DefaultHeadroom, negative none. A frame that would not fit in
	// the pond's largest buffer with all of it gets less, unless it is
	// larger than that buffer and takes several.
	Headroom int
	// AccountLimit is the byte limit NewPort gives the port's account when
	// it makes it. 0 means room for twice RxQueue frames of the device's
	// MaxFrame (with headroom, in the buffers that would hold them): a
	// full queue, and as many frames taken from it and not yet freed.
	AccountLimit int64
	// Log receives one line per notable event: the device gone, a receive
	// error, the start of a run of drops. Nil discards them.
	Log *log.Logger
}

// Port joins a Device to a pond. A receive goroutine reads each frame
// straight into a pond buffer charged to the port's account (into
// several with one readv, when the device's largest frame is larger than
// the pond's largest buffer) and queues it; consumers see it as a chain with its decoded headers as layers.
// Send transmits chains. All methods are safe for concurrent use.
//
// # Who owns what
//
//   - The Port owns its Device from NewPort on and closes it in Close.
//   - A received frame belongs to the queue: its buffer, and its chain
//     once made. With lends the chain to a callback; Take hands it to the
//     caller, who then frees it (chain Free) or passes it on (Send). A
//     frame dropped from a full queue, or still queued at Close, is freed
//     by the port (by its last borrower if one is using it then); the
//     buffer of one dropped unread goes to the next frame received.
//   - Send and SendBytes only borrow memory during the call, except that
//     Send consumes its chain: it is freed whether or not the frame went
//     out.
//   - A Capture owns copies of frames, never pond buffers.
//   - The receive goroutine takes its next buffers before the frame
//     arrives, so the account is charged for one frame's buffers more
//     than the queue holds while the port waits.
type Port struct {
	pond     *pond.Pond
	dev      Device
	acct     *pond.Account
	log      *log.Logger
	headroom int
	maxBuf   int // the pond's largest buffer, fixed for its life
	chainOpt chain.Options
	capacity int

	stats counters

	// Receive goroutine state: used only by receive, until done closes
	// (restage, which the receiver calls, runs under mu).
	scratch    []byte     // where a frame goes when no pond buffer is to be had, and the tail of every read
	scratchIov [1][]byte  // scratch, as an iovec
	next       *frame     // the struct the next frame received is queued in
	staged     []pond.Buf // the buffers the next frame is read into, in order
	iov        [][]byte   // the next read: staged from plan.room on, then scratch
	plan       stagePlan  // what stage takes, for the device's largest frame then
	dropping   bool       // a run of drops has been logged

	done chan struct{} // closed when the receive goroutine ends
	err  error         // why it ended; written before done closes

	// mu guards the queue and the sequence numbers. It is held only for
	// queue bookkeeping and chain frees, never for I/O or a callback.
	mu   sync.Mutex
	q    rxQueue
	seq  uint64 // of the newest frame queued
	qcnt queueCounters
	// arrived is closed by the next frame queued, to wake SeqsAfter; nil
	// while nobody waits (see next.go).
	arrived chan struct{}

	// tap is dev when it is a TAP, which Send calls directly; see
	// transmitTAP.
	tap *TAP
	// poll is dev when it reads in two steps (a TAP, a MemDevice): the
	// receiver then waits for frames holding no buffer, and rings work.
	poll Poller
	// rings are the rings attached, by RingKind; nil when none is.
	rings [ringKinds]atomic.Pointer[Ring]

	txMu  sync.Mutex
	txIov [][]byte // Send's iovec for devices other than a TAP; guarded by txMu

	capMu     sync.Mutex                 // serialises changes to caps
	caps      atomic.Pointer[[]*Capture] // the captures; replaced, never changed
	capsEnded bool                       // the port closed; guarded by capMu
	capsOpen  map[*Capture]struct{}      // every capture not yet closed, ended or not; guarded by capMu
	capsLost  uint64                     // frames lost by captures now closed; guarded by capMu

	closeOnce sync.Once
	closeErr  error
}

// NewPort starts receiving frames from dev into p. The port's account is
// "rx.<name>" (AccountPrefix and dev's name): NewPort makes it with
// cfg.AccountLimit, or uses the pond's account of that name if it already
// has one (accounts live as long as their pond, so a device reopened under
// the same name reuses it, keeping any limit set since). On success the
// port owns dev; on error the caller keeps it. Close the port when done.
func NewPort(p *pond.Pond, dev Device, cfg Config) (*Port, error) {
	port, err := newPort(p, dev, cfg)
	if err != nil {
		return nil, err
	}
	go port.receive()
	return port, nil
}

// newPort makes the port without starting its receive goroutine.
func newPort(p *pond.Pond, dev Device, cfg Config) (*Port, error) {
	if cfg.RxQueue < 0 || cfg.AccountLimit < 0 {
		return nil, fmt.Errorf("new port %s: negative RxQueue %d or AccountLimit %d: %w",
			dev.Name(), cfg.RxQueue, cfg.AccountLimit, pond.ErrInvalid)
	}
	if cfg.RxQueue == 0 {
		cfg.RxQueue = DefaultRxQueue
	}
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	port := &Port{
		pond:     p,
		dev:      dev,
		log:      cfg.Log,
		headroom: chain.HeadroomFor(cfg.Headroom),
		maxBuf:   p.MaxBuf(),
		chainOpt: chain.Options{Headroom: cfg.Headroom},
		capacity: cfg.RxQueue,
		scratch:  make([]byte, MaxFrameLimit+1),
		next:     new(frame),
		plan:     stagePlan{maxFrame: -1},
		done:     make(chan struct{}),
		q:        newRxQueue(cfg.RxQueue),
		capsOpen: map[*Capture]struct{}{},
	}
	port.scratchIov[0] = port.scratch
	port.tap, _ = dev.(*TAP)
	port.poll, _ = dev.(Poller)
	if port.headroom > port.maxBuf {
		return nil, fmt.Errorf("new port %s: headroom %d exceeds the largest buffer %d: %w",
			dev.Name(), port.headroom, port.maxBuf, pond.ErrInvalid)
	}
	acct, err := port.account(cfg)
	if err != nil {
		return nil, fmt.Errorf("new port %s: %w", dev.Name(), err)
	}
	port.acct = acct
	return port, nil
}

// account makes the port's account, or finds it.
func (p *Port) account(cfg Config) (*pond.Account, error) {
	name := AccountPrefix + p.dev.Name()
	limit := cfg.AccountLimit
	if limit == 0 {
		limit = 2 * int64(cfg.RxQueue) * int64(p.planFor(p.dev.MaxFrame()).bytes())
	}
	a, err := p.pond.NewAccount(name, limit)
	if errors.Is(err, pond.ErrExists) {
		return p.pond.Account(name)
	}
	return a, err
}

// Name is the device's name.
func (p *Port) Name() string { return p.dev.Name() }

// MaxFrame is the largest frame the device carries now, as
// Device.MaxFrame: the bound Send checks, and the one the receiver stages
// buffers for before each read.
func (p *Port) MaxFrame() int { return p.dev.MaxFrame() }

// SyncLink applies the changes of the device's link that the kernel has
// announced and the port has not yet followed, so that what the caller
// does next acts on the device as it is at this instant: an MTU lowered
// by a command that has just returned, say. Changes are followed as they
// come without it, a moment later; a raise counts at once anyway. It
// costs a system call on a TAP, so the file tree makes it once per write
// that sends, not per frame.
func (p *Port) SyncLink() {
	if p.tap != nil {
		p.tap.syncLink()
	}
}

// Account is the account received frames are charged to; it lives as
// long as the pond.
func (p *Port) Account() *pond.Account { return p.acct }

// Done is closed when the port stops receiving: after Close, or once the
// device is gone or failed (see Err).
func (p *Port) Done() <-chan struct{} { return p.done }

// Err is why the port stopped receiving once Done is closed: an error
// wrapping ErrDeviceGone when the device was removed, another device
// error, or nil after Close. While the port receives it is nil.
func (p *Port) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Stats snapshots the port's counters.
func (p *Port) Stats() Stats {
	p.mu.Lock()
	queued, q := p.q.n, p.qcnt
	p.mu.Unlock()
	captures, lost := p.captureCounts()
	return Stats{
		RxPackets: q.packets + p.stats.rxRingPackets.Load(), RxBytes: q.bytes + p.stats.rxRingBytes.Load(),
		RxDropped: p.stats.rxDropped.Load() + q.dropped,
		TxPackets: p.stats.txPackets.Load(), TxBytes: p.stats.txBytes.Load(),
		TxErrors: p.stats.txErrors.Load(),
		RxQueue:  uint64(queued), RxQueueMax: uint64(p.capacity),
		RxFiltered: p.filterDrops(),
		Up:         p.up(), CaptureLost: lost, Captures: captures,
	}
}

// up is 1 while the port receives, 0 once its device is gone or closed.
func (p *Port) up() uint64 {
	select {
	case <-p.done:
		return 0
	default:
		return 1
	}
}

// Close stops the port: it closes the device (which ends the receive
// goroutine at once), frees every queued frame and ends every capture's
// stream (its reader gets io.EOF after the frames it holds). A frame
// borrowed through With at that moment is freed when With returns;
// chains handed out by Take stay their owner's. Rings still attached are
// closed (their buffers go back to the pond). Close is idempotent and
// returns the device's Close error.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		p.closeErr = p.dev.Close()
		<-p.done
		p.mu.Lock()
		for p.q.n > 0 {
			p.releaseLocked(p.q.popFront())
		}
		p.mu.Unlock()
		p.endCaptures()
		for i := range p.rings {
			if r := p.rings[i].Load(); r != nil {
				r.Close()
			}
		}
	})
	return p.closeErr
}
