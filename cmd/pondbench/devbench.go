package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
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

// devState is what the device figures share: the pond their ports
// receive into and send from, and the frames per sample.
type devState struct {
	p                  *pond.Pond
	acct, floorAcct    *pond.Account
	drainN, liveN, txN int
}

// devices makes the TAPs of the device figures and a pond.
var devices = &setup{name: "device", up: upDevices}

func upDevices(b *bench) (func() error, error) {
	d := &b.dev
	d.drainN, d.liveN, d.txN = b.sized(50000, 20000), b.sized(100000, 40000), b.sized(50000, 20000)
	if err := makeTAP(rxTAP, true, d.liveN+4096); err != nil {
		return nil, err
	}
	var err error
	if err = makeTAP(txTAP, false, 1000); err == nil {
		d.p, err = pond.New(pond.DefaultConfig())
	}
	if err == nil {
		d.acct, err = d.p.NewAccount("bench.tx", 1<<30)
	}
	if err == nil {
		d.floorAcct, err = d.p.NewAccount("bench.floor", 1<<30)
	}
	down := func() error {
		if d.p != nil {
			d.p.Close()
		}
		return errors.Join(ip("link", "del", txTAP), ip("link", "del", rxTAP))
	}
	if err != nil {
		return nil, errors.Join(err, down())
	}
	b.r.Note("device figures: drain %d frames, live %d frames, tx %d frames per sample", d.drainN, d.liveN, d.txN)
	return down, nil
}

// rxDrain queues frames in rxTAP while nothing reads it, then times side
// reading them all, drainReps times a side; and, beside each pair, the
// drain floor (see rxDrainFloor).
func rxDrain(b *bench, f *figDef, round int) error {
	d := &b.dev
	for rep := range drainReps {
		err := b.eachSide(f, round*drainReps+rep, func(side Side) (float64, error) {
			return drain(d.p, side, f.size, d.drainN, [][]byte{make([]byte, 65536)})
		})
		if err != nil {
			return err
		}
		if rate, err := rxDrainFloor(d, f.size); err != nil {
			b.r.Note("%s floor: %v", f.id, err)
		} else {
			b.r.Floor(f.id, fmt.Sprintf("floor: a read() loop into the %d pond buffers a full queue cycles through", netdev.DefaultRxQueue+1), "", rate)
		}
	}
	return nil
}

// rxLive times side reading from rxTAP while a separate process sends
// frames through it as fast as the kernel lets it: frames per second, and
// this process's CPU time per frame (dev.rx.cpu.*).
func rxLive(b *bench, f *figDef, round int) error {
	d := &b.dev
	cpuID := fmt.Sprintf("dev.rx.cpu.%d", f.size)
	return b.eachSide(f, round, func(side Side) (float64, error) {
		rate, cpu, lost, err := liveSample(d.p, side, f.size, d.liveN)
		if err != nil {
			return 0, err
		}
		b.r.Sample(cpuID, side, cpu)
		if lost > 0 {
			b.r.Note("%s %s: %d of %d frames lost (the reader fell %d frames behind the sender)", f.id, side, lost, d.liveN, d.liveN+4096)
		}
		return rate, nil
	})
}

// reader is one side of a receive figure on rxTAP: a Port receiving into
// the pond (pondfs), or a blocking read() loop into one reused buffer
// (reference; for the drain floor, a ring of them) in a goroutine of its
// own, which ends at an end marker frame or after limit frames.
type reader struct {
	tap  *netdev.TAP // the pondfs side's, until start makes it a port
	port *netdev.Port
	fd   int // the reference side's
	n    atomic.Uint64
	done chan error // the read() loop's end, once started
}

// attach opens rxTAP for side without reading from it yet.
func attach(side Side) (*reader, error) {
	if side == Pondfs {
		tap, err := netdev.OpenTAP(rxTAP)
		return &reader{tap: tap, fd: -1}, err
	}
	fd, err := openRawTAP(rxTAP)
	return &reader{fd: fd}, err
}

// start starts reading: a port receiving into p, or the read() loop into
// bufs, each in turn, that stops after limit frames when limit > 0.
func (rd *reader) start(p *pond.Pond, limit uint64, bufs [][]byte) error {
	if rd.tap != nil {
		port, err := netdev.NewPort(p, rd.tap, netdev.Config{})
		if err != nil {
			return errors.Join(err, rd.stop())
		}
		rd.port = port
		return nil
	}
	rd.done = make(chan error, 1)
	go func() {
		for i := 0; ; i = (i + 1) % len(bufs) {
			n, err := unix.Read(rd.fd, bufs[i])
			if err != nil || isEndMarker(bufs[i][:n]) || rd.n.Add(1) == limit {
				rd.done <- err
				return
			}
		}
	}()
	return nil
}

// received counts the frames read so far (a port's: queued in the pond).
func (rd *reader) received() uint64 {
	if rd.port != nil {
		return rd.port.Stats().RxPackets
	}
	return rd.n.Load()
}

// stop ends reading and detaches from the TAP. A blocked read(2) of a TAP
// cannot be interrupted, so when the read() loop still waits (it lost the
// sender's end markers, or fewer frames came than it expected) this
// process sends it end markers until it ends.
func (rd *reader) stop() error {
	switch {
	case rd.port != nil:
		err := rd.port.Close()
		<-rd.port.Done()
		return err
	case rd.tap != nil:
		return rd.tap.Close()
	case rd.done == nil:
		return unix.Close(rd.fd)
	}
	var err error
	select {
	case err = <-rd.done:
	case <-time.After(100 * time.Millisecond):
		err = rd.kick()
	}
	return errors.Join(err, unix.Close(rd.fd))
}

// kick sends end markers through rxTAP every few milliseconds until the
// read() loop ends, for at most 10 s.
func (rd *reader) kick() error {
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
		case err := <-rd.done:
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

// pollInterval is how often the bench looks at a reader's count. Both
// sides are watched the same way, so the delay it adds is the same.
const pollInterval = 500 * time.Microsecond

// rxDrainFloor is rxDrain for a read() loop that cycles through as many
// pond buffers as a port's full queue holds, one more for the frame
// coming in, each read at the headroom a port leaves: the reference's
// loop, but writing each frame into memory a queue's length old, as any
// receiver that queues its frames must. Between it and the reference is
// what queueing itself costs; between pondfs and it, the pond and queue
// work of each frame.
func rxDrainFloor(d *devState, size int) (float64, error) {
	n := d.drainN
	bufs, release, err := queueBuffers(d.p, d.floorAcct, netdev.DefaultRxQueue+1)
	if err != nil {
		return 0, fmt.Errorf("buffers for the floor: %w", err)
	}
	defer release()
	return drain(d.p, Reference, size, n, bufs)
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
// (the TAP's queue is longer than n), then has side read them all as fast
// as it can (the reference into bufs, in turn), and returns frames per
// second.
func drain(p *pond.Pond, side Side, size, n int, bufs [][]byte) (float64, error) {
	rd, err := attach(side)
	if err != nil {
		return 0, err
	}
	snd, err := newUDPSender(size)
	if err != nil {
		return 0, errors.Join(err, rd.stop())
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
		return 0, errors.Join(err, rd.stop())
	}
	begin := time.Now()
	if err := rd.start(p, uint64(n), bufs); err != nil {
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
func waitCount(rd *reader, want uint64, senderDone <-chan struct{}, timeout time.Duration) (time.Time, uint64) {
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

// liveSample reads from rxTAP while a separate process sends n frames of size
// bytes through it as fast as the kernel lets it, and returns the frames
// per second received (from the sender's start to the last frame) and the
// CPU time this process spent per frame meanwhile (the sender's is not in
// it), and how many frames were lost (the TAP drops what it cannot queue
// when the reader falls behind).
func liveSample(p *pond.Pond, side Side, size, n int) (rate, usPerFrame float64, lost int, err error) {
	rd, err := attach(side)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := rd.start(p, 0, [][]byte{make([]byte, 65536)}); err != nil {
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

// txFrames sends frames of the figure's size out of txTAP, each side in
// turn (see txSample), and beside them the same write() loop on one
// buffer (see txOneBuffer).
func txFrames(b *bench, f *figDef, round int) error {
	d := &b.dev
	err := b.eachSide(f, round, func(side Side) (float64, error) {
		return txSample(d.p, d.acct, side, f.size, d.txN)
	})
	if err != nil {
		return err
	}
	if rate, err := txOneBuffer(f.size, d.txN); err != nil {
		b.r.Note("%s one buffer: %v", f.id, err)
	} else {
		b.r.Floor(f.id, "one buffer: a write() loop of one buffer the caches keep", "", rate)
	}
	return nil
}

// txSample sends n frames of size bytes out of txTAP and returns frames per
// second. Both sides send the same frames from the same memory in the same
// state: chains built off the clock, txBatch at a time, each frame in one
// pond buffer. The pondfs side sends each chain with Port.Send (one writev,
// then the chain's free); the reference write()s each chain's bytes in a
// plain loop and frees the chains off the clock. So between the two is
// Port.Send's own work, and not where the frames lie: txOneBuffer is the
// loop on one buffer the caches keep.
func txSample(p *pond.Pond, acct *pond.Account, side Side, size, n int) (float64, error) {
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
	d, err := writeRaw(fd, ethFrame(size), n)
	return float64(n) / d.Seconds(), err
}
