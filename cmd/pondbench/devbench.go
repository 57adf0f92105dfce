package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
	"golang.org/x/sys/unix"
)

// The device figures compare a netdev.Port on a TAP with what a C program
// would do on the same kind of TAP: a plain blocking read() loop into one
// reused buffer, a plain write() loop of the frames the port sends. Both
// sides attach to the same persistent TAP, in turn; receivers are fed by
// the same kernel-side sender (a UDP socket whose datagrams leave through
// the TAP).

// TAP names, inside the bench's private network namespace.
const (
	rxTAP = "pbrx0"
	txTAP = "pbtx0"
)

// drainReps is how many samples of each side a round takes of the drain
// figures, turn about: theirs are the shortest samples of the device
// figures (a small fraction of a second) and vary the most from one to the
// next, so their medians need more of them.
const drainReps = 3

// frameSizes are the frame sizes of the device figures.
var frameSizes = []int{64, 1514}

// devBench runs the device figures: rounds rounds, each measuring every
// figure's pondfs side and reference side in turn (the order flips every
// round).
func devBench(ctx context.Context, r *Report, cfg runConfig) error {
	drainN, liveN, txN := 50000, 100000, 50000
	if cfg.quick {
		drainN, liveN, txN = 20000, 40000, 20000
	}
	if err := makeTAP(rxTAP, true, liveN+4096); err != nil {
		return err
	}
	defer ip("link", "del", rxTAP)
	if err := makeTAP(txTAP, false, 1000); err != nil {
		return err
	}
	defer ip("link", "del", txTAP)

	p, err := pond.New(pond.DefaultConfig())
	if err != nil {
		return err
	}
	defer p.Close()
	acct, err := p.NewAccount("bench.tx", 1<<30)
	if err != nil {
		return err
	}
	floorAcct, err := p.NewAccount("bench.floor", 1<<30)
	if err != nil {
		return err
	}
	r.Note("device figures: drain %d frames, live %d frames, tx %d frames per sample", drainN, liveN, txN)

	// A sample that fails is noted and the run goes on; a figure that
	// fails twice is given up (n/a, with its error).
	failures := map[string]int{}
	try := func(id string, side Side, fn func() error) {
		cpu := strings.Replace(id, ".live.", ".cpu.", 1)
		if failures[id] >= 2 || ctx.Err() != nil || !cfg.wantAny(id, cpu) {
			return
		}
		if err := fn(); err != nil {
			failures[id]++
			r.Note("%s %s: %v", id, side, err)
			r.NAAll([]string{id}, err.Error())
		}
	}
	// Not figures: the drain floors (see rxDrainFloor) and the tx loop on
	// one buffer (see txOneBuffer), beside the reference's rates of the
	// same rounds.
	floors, refDrains := map[int][]float64{}, map[int][]float64{}
	oneBuf, refTx := map[int][]float64{}, map[int][]float64{}
	defer func() {
		for _, size := range frameSizes {
			if len(floors[size]) > 0 && len(refDrains[size]) > 0 {
				r.Note("dev.rx.drain.%d floor: a read() loop into the %d pond buffers a full queue cycles through: median %.0f frames/s of %s, %.2fx the reference's median",
					size, netdev.DefaultRxQueue+1, median(floors[size]), fmtList(floors[size]), median(floors[size])/median(refDrains[size]))
			}
			if len(oneBuf[size]) > 0 && len(refTx[size]) > 0 {
				r.Note("dev.tx.%d one buffer: a write() loop of one buffer the caches keep: median %.0f frames/s of %s, %.2fx the reference's median",
					size, median(oneBuf[size]), fmtList(oneBuf[size]), median(oneBuf[size])/median(refTx[size]))
			}
		}
	}()
	for round := range cfg.rounds {
		sides := sidesFor(round)
		for _, size := range frameSizes {
			id := fmt.Sprintf("dev.rx.drain.%d", size)
			for rep := range drainReps {
				for _, side := range sidesFor(round*drainReps + rep) {
					try(id, side, func() error {
						rate, err := rxDrain(p, side, size, drainN)
						if err == nil {
							r.Sample(id, side, rate)
							if side == Reference {
								refDrains[size] = append(refDrains[size], rate)
							}
						}
						return err
					})
				}
				if cfg.wantAny(id) && ctx.Err() == nil {
					if rate, err := rxDrainFloor(p, floorAcct, size, drainN); err != nil {
						r.Note("%s floor: %v", id, err)
					} else {
						floors[size] = append(floors[size], rate)
					}
				}
			}
			id = fmt.Sprintf("dev.rx.live.%d", size)
			for _, side := range sides {
				try(id, side, func() error {
					rate, cpu, lost, err := rxLive(p, side, size, liveN)
					if err == nil {
						r.Sample(id, side, rate)
						r.Sample(fmt.Sprintf("dev.rx.cpu.%d", size), side, cpu)
						if lost > 0 {
							r.Note("%s %s: %d of %d frames lost (the reader fell %d frames behind the sender)", id, side, lost, liveN, liveN+4096)
						}
					} else {
						r.NAAll([]string{fmt.Sprintf("dev.rx.cpu.%d", size)}, err.Error())
					}
					return err
				})
			}
			id = fmt.Sprintf("dev.tx.%d", size)
			for _, side := range sides {
				try(id, side, func() error {
					rate, err := txFrames(p, acct, side, size, txN)
					if err == nil {
						r.Sample(id, side, rate)
						if side == Reference {
							refTx[size] = append(refTx[size], rate)
						}
					}
					return err
				})
			}
			if cfg.wantAny(id) && ctx.Err() == nil {
				if rate, err := txOneBuffer(size, txN); err != nil {
					r.Note("%s one buffer: %v", id, err)
				} else {
					oneBuf[size] = append(oneBuf[size], rate)
				}
			}
		}
	}
	return ctx.Err()
}

// sidesFor is the order of the two sides in a round: pondfs first in even
// rounds, the reference first in odd ones, so that neither always runs on
// a machine warmed (or disturbed) by the other.
func sidesFor(round int) []Side {
	if round%2 == 0 {
		return []Side{Pondfs, Reference}
	}
	return []Side{Reference, Pondfs}
}

// rxReader is one side of a receive figure, reading from rxTAP.
type rxReader interface {
	// received counts the frames read so far (a Port: queued in the pond).
	received() uint64
	// stop ends reading and detaches from the TAP.
	stop() error
}

// portReader is the pondfs side: a netdev.Port receiving into the pond.
type portReader struct{ port *netdev.Port }

func (pr *portReader) received() uint64 { return pr.port.Stats().RxPackets }
func (pr *portReader) stop() error {
	err := pr.port.Close()
	<-pr.port.Done()
	return err
}

// rawReader is the reference side: a blocking read() loop into one reused
// buffer (or, for the drain floor, a ring of them), in its own goroutine,
// stopped by an end marker frame or after limit frames.
type rawReader struct {
	fd    int
	n     atomic.Uint64
	done  chan error
	limit uint64
}

// startRawReader starts reading from fd into bufs, each in turn; it stops
// at the first end marker frame, or after limit frames when limit > 0.
func startRawReader(fd int, limit uint64, bufs [][]byte) *rawReader {
	rr := &rawReader{fd: fd, done: make(chan error, 1), limit: limit}
	go func() {
		for i := 0; ; i = (i + 1) % len(bufs) {
			buf := bufs[i]
			n, err := unix.Read(fd, buf)
			if err != nil {
				rr.done <- err
				return
			}
			if isEndMarker(buf[:n]) {
				rr.done <- nil
				return
			}
			if rr.n.Add(1) == rr.limit {
				rr.done <- nil
				return
			}
		}
	}()
	return rr
}

func (rr *rawReader) received() uint64 { return rr.n.Load() }

// stop waits for the reader to end. A blocked read(2) of a TAP cannot be
// interrupted, so when the reader is still waiting (it lost the sender's
// end markers, or fewer frames came than it expected) this process sends
// it end markers until it ends.
func (rr *rawReader) stop() error {
	var err error
	select {
	case err = <-rr.done:
	case <-time.After(100 * time.Millisecond):
		err = rr.kick()
	}
	if cerr := unix.Close(rr.fd); err == nil {
		err = cerr
	}
	return err
}

// kick sends end markers through rxTAP every few milliseconds until the
// reader ends, for at most 10 s.
func (rr *rawReader) kick() error {
	snd, err := newUDPSender(64)
	if err != nil {
		return err
	}
	defer snd.Close()
	deadline := time.After(10 * time.Second)
	for {
		if err := snd.send(1, endPort); err != nil {
			return err
		}
		select {
		case err := <-rr.done:
			return err
		case <-deadline:
			return errors.New("the raw reader did not end: its read(2) is stuck")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// isEndMarker reports whether frame is a UDP datagram to endPort.
func isEndMarker(frame []byte) bool {
	return len(frame) >= 38 && binary.BigEndian.Uint16(frame[36:]) == endPort
}

// attach opens rxTAP for side without reading from it yet: the Port's
// device, or a raw descriptor.
func attach(side Side) (tap *netdev.TAP, fd int, err error) {
	if side == Pondfs {
		tap, err = netdev.OpenTAP(rxTAP)
		return tap, -1, err
	}
	fd, err = openRawTAP(rxTAP)
	return nil, fd, err
}

// startReading starts side's reader on what attach opened.
func startReading(p *pond.Pond, tap *netdev.TAP, fd int, limit uint64) (rxReader, error) {
	if tap == nil {
		return startRawReader(fd, limit, [][]byte{make([]byte, 65536)}), nil
	}
	port, err := netdev.NewPort(p, tap, netdev.Config{})
	if err != nil {
		tap.Close()
		return nil, err
	}
	return &portReader{port: port}, nil
}

// detach closes what attach opened when reading never started.
func detach(tap *netdev.TAP, fd int) {
	if tap != nil {
		tap.Close()
	} else {
		unix.Close(fd)
	}
}

// pollInterval is how often the bench looks at a reader's count. Both
// sides are watched the same way, so the delay it adds is the same.
const pollInterval = 500 * time.Microsecond

// rxDrain queues n frames of size bytes in rxTAP while nothing reads it
// (the TAP's queue is longer than n), then reads them all as fast as side
// can, and returns frames per second.
func rxDrain(p *pond.Pond, side Side, size, n int) (float64, error) {
	return drain(side, size, n, func(tap *netdev.TAP, fd int) (rxReader, error) {
		return startReading(p, tap, fd, uint64(n))
	})
}

// rxDrainFloor is rxDrain for a read() loop that cycles through as many
// pond buffers as a port's full queue holds, one more for the frame
// coming in, each read at the headroom a port leaves: the reference's
// loop, but writing each frame into memory a queue's length old, as any
// receiver that queues its frames must. Between it and the reference is
// what queueing itself costs; between pondfs and it, the pond and queue
// work of each frame.
func rxDrainFloor(p *pond.Pond, acct *pond.Account, size, n int) (float64, error) {
	bufs, release, err := queueBuffers(p, acct, netdev.DefaultRxQueue+1)
	if err != nil {
		return 0, fmt.Errorf("buffers for the floor: %w", err)
	}
	defer release()
	return drain(Reference, size, n, func(_ *netdev.TAP, fd int) (rxReader, error) {
		return startRawReader(fd, uint64(n), bufs), nil
	})
}

// floorBufSize is what a port takes for each frame of the bench's TAPs
// (MTU 1500): its headroom, the largest frame with a VLAN tag, and the
// byte Device.Read needs to spare.
const floorBufSize = chain.DefaultHeadroom + 1500 + netdev.EthHeaderLen + 4 + 1

// queueBuffers takes k pond buffers of floorBufSize and returns each past
// the port's headroom, with a function that gives them back.
func queueBuffers(p *pond.Pond, acct *pond.Account, k int) ([][]byte, func(), error) {
	var held []pond.Buf
	release := func() {
		for _, b := range held {
			p.Put(b)
		}
	}
	var bufs [][]byte
	for range k {
		b, err := p.Get(acct, floorBufSize)
		if err != nil {
			release()
			return nil, nil, err
		}
		held = append(held, b)
		bufs = append(bufs, b.Bytes()[chain.DefaultHeadroom:])
	}
	return bufs, release, nil
}

// drain queues n frames of size bytes in rxTAP while nothing reads it
// (the TAP's queue is longer than n), then starts a reader on side's
// attachment with start, which reads them all as fast as it can, and
// returns frames per second.
func drain(side Side, size, n int, start func(tap *netdev.TAP, fd int) (rxReader, error)) (float64, error) {
	tap, fd, err := attach(side)
	if err != nil {
		return 0, err
	}
	snd, err := newUDPSender(size)
	if err != nil {
		detach(tap, fd)
		return 0, err
	}
	defer snd.Close()
	dropped0, err := tapCounter(rxTAP, "tx_dropped")
	if err == nil {
		err = snd.send(n, benchPort)
	}
	var dropped1 uint64
	if err == nil {
		dropped1, err = tapCounter(rxTAP, "tx_dropped")
	}
	if err == nil && dropped1 != dropped0 {
		err = fmt.Errorf("the TAP dropped %d of the %d frames queued", dropped1-dropped0, n)
	}
	if err != nil {
		detach(tap, fd)
		return 0, err
	}
	begin := time.Now()
	rd, err := start(tap, fd)
	if err != nil {
		return 0, err
	}
	end, got := waitCount(rd, uint64(n), nil, 10*time.Second)
	if err := rd.stop(); err != nil {
		return 0, err
	}
	if got < uint64(n) {
		return 0, fmt.Errorf("read %d of %d queued frames in 10s", got, n)
	}
	return float64(n) / end.Sub(begin).Seconds(), nil
}

// waitCount polls rd until it has read want frames, or senderDone is
// closed and nothing more arrived for a while, or timeout passes. It
// returns when the last frame was seen and the count then.
func waitCount(rd rxReader, want uint64, senderDone <-chan struct{}, timeout time.Duration) (time.Time, uint64) {
	deadline := time.Now().Add(timeout)
	last, lastAt := rd.received(), time.Now()
	for {
		time.Sleep(pollInterval)
		now := time.Now()
		got := rd.received()
		if got != last {
			last, lastAt = got, now
		}
		if got >= want || now.After(deadline) {
			return lastAt, got
		}
		if senderDone != nil && now.Sub(lastAt) > 50*time.Millisecond {
			select {
			case <-senderDone:
				return lastAt, got
			default:
			}
		}
	}
}

// rxLive reads from rxTAP while a separate process sends n frames of size
// bytes through it as fast as the kernel lets it, and returns the frames
// per second received (from the sender's start to the last frame) and the
// CPU time this process spent per frame meanwhile (the sender's is not in
// it), and how many frames were lost (the TAP drops what it cannot queue
// when the reader falls behind).
func rxLive(p *pond.Pond, side Side, size, n int) (rate, usPerFrame float64, lost int, err error) {
	tap, fd, err := attach(side)
	if err != nil {
		return 0, 0, 0, err
	}
	rd, err := startReading(p, tap, fd, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	stopped := false
	defer func() {
		if !stopped {
			rd.stop()
		}
	}()
	snd, err := startSender(size, n)
	if err != nil {
		return 0, 0, 0, err
	}
	cpu0 := cpuTime()
	start := time.Now()
	if err := snd.start(); err != nil {
		return 0, 0, 0, err
	}
	// The Port counts the end marker too: wait for one frame more.
	want := uint64(n)
	if side == Pondfs {
		want++
	}
	end, got := waitCount(rd, want, snd.done, 20*time.Second)
	cpu := cpuTime() - cpu0
	if err := snd.wait(); err != nil {
		return 0, 0, 0, err
	}
	stopped = true
	if err := rd.stop(); err != nil {
		return 0, 0, 0, err
	}
	got = min(got, uint64(n))
	if got == 0 {
		return 0, 0, 0, fmt.Errorf("received none of %d frames sent", n)
	}
	return float64(got) / end.Sub(start).Seconds(), cpu.Seconds() * 1e6 / float64(got), n - int(got), nil
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sender is a child process sending frames through rxTAP (see udpSend).
type sender struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	done chan struct{}
	err  error
}

// startSender starts the sender process and waits until it is ready to
// send n frames of size bytes.
func startSender(size, n int) (*sender, error) {
	cmd := exec.Command("/proc/self/exe", "udpsend", strconv.Itoa(size), strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &sender{cmd: cmd, in: in, done: make(chan struct{})}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("sender did not start: %q %v", line, err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// start tells the sender to start sending.
func (s *sender) start() error {
	_, err := s.in.Write([]byte("go\n"))
	return err
}

// wait waits for the sender to finish.
func (s *sender) wait() error {
	s.in.Close()
	<-s.done
	return s.err
}

// udpSend is the sender process: it makes its socket, says "ready", waits
// for a line on stdin, then sends n frames of size bytes to benchPort and
// a few end markers, a millisecond apart, to endPort.
func udpSend(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: pondbench udpsend SIZE COUNT")
	}
	size, err1 := strconv.Atoi(args[0])
	n, err2 := strconv.Atoi(args[1])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	s, err := newUDPSender(size)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	if err := s.send(n, benchPort); err != nil {
		return err
	}
	for range 5 {
		time.Sleep(time.Millisecond)
		if err := s.send(1, endPort); err != nil {
			return err
		}
	}
	return nil
}

// txBatch is how many chains are built (off the clock) before each run of
// timed sends.
const txBatch = 1000

// txFrames sends n frames of size bytes out of txTAP and returns frames per
// second. Both sides send the same frames from the same memory in the same
// state: chains built off the clock, txBatch at a time, each frame in one
// pond buffer. The pondfs side sends each chain with Port.Send (one writev,
// then the chain's free); the reference write()s each chain's bytes in a
// plain loop and frees the chains off the clock. So between the two is
// Port.Send's own work, and not where the frames lie: txOneBuffer is the
// loop on one buffer the caches keep.
func txFrames(p *pond.Pond, acct *pond.Account, side Side, size, n int) (float64, error) {
	send, closeFn, err := txSender(p, side)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	frame := ethFrame(size)
	batch := make([]*chain.Chain, 0, txBatch)
	defer func() { freeUnsent(batch) }()
	var elapsed time.Duration
	for sent := 0; sent < n; {
		for len(batch) < min(txBatch, n-sent) {
			c, err := chain.New(p, acct, chain.Options{})
			if err != nil {
				return 0, err
			}
			batch = append(batch, c)
			if err := c.Append(frame); err != nil {
				return 0, err
			}
		}
		took, err := send(batch)
		if err != nil {
			return 0, err
		}
		elapsed += took
		sent += len(batch)
		freeUnsent(batch)
		batch = batch[:0]
	}
	return float64(n) / elapsed.Seconds(), nil
}

// freeUnsent frees the chains of batch that a sender left (the
// reference's, or those after a failed send) and clears their places.
func freeUnsent(batch []*chain.Chain) {
	for i, c := range batch {
		if c != nil {
			c.Free()
			batch[i] = nil
		}
	}
}

// txSender opens txTAP for side and returns what sends a batch of chains
// on it and how long that took, and what closes it. The pondfs sender
// consumes the chains it sends and sets their places in the batch to nil;
// the reference's leaves them to the caller.
func txSender(p *pond.Pond, side Side) (send func([]*chain.Chain) (time.Duration, error), closeFn func(), err error) {
	if side == Reference {
		fd, err := openRawTAP(txTAP)
		if err != nil {
			return nil, nil, err
		}
		frames := make([][]byte, 0, txBatch)
		send = func(batch []*chain.Chain) (time.Duration, error) {
			frames = frames[:0]
			for _, c := range batch {
				iov := c.Iovecs(nil)
				if len(iov) != 1 {
					return 0, fmt.Errorf("a frame in %d segments, not one", len(iov))
				}
				frames = append(frames, iov[0])
			}
			start := time.Now()
			for _, f := range frames {
				if _, err := unix.Write(fd, f); err != nil {
					return 0, fmt.Errorf("write %s: %w", txTAP, err)
				}
			}
			took := time.Since(start)
			clear(frames) // the chains' buffers go back to the pond next
			return took, nil
		}
		return send, func() { unix.Close(fd) }, nil
	}
	tap, err := netdev.OpenTAP(txTAP)
	if err != nil {
		return nil, nil, err
	}
	port, err := netdev.NewPort(p, tap, netdev.Config{})
	if err != nil {
		tap.Close()
		return nil, nil, err
	}
	send = func(batch []*chain.Chain) (time.Duration, error) {
		start := time.Now()
		for i, c := range batch {
			batch[i] = nil
			if err := port.Send(c); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	return send, func() { port.Close(); <-port.Done() }, nil
}

// txOneBuffer write()s one buffer holding a frame of size bytes n times
// to txTAP and returns frames per second: the send loop at its cheapest,
// the frame never leaving the caches. Not a figure; a note beside the tx
// figures, for what sending frames the caches lost costs both sides.
func txOneBuffer(size, n int) (float64, error) {
	fd, err := openRawTAP(txTAP)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	frame := ethFrame(size)
	start := time.Now()
	for range n {
		if _, err := unix.Write(fd, frame); err != nil {
			return 0, fmt.Errorf("write %s: %w", txTAP, err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
