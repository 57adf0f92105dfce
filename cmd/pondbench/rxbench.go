package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
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

// The receive figures: a Port and a read() loop on rxTAP, fed a full queue
// or by a live sender.

// rxDrainSample queues frames in rxTAP while nothing reads it, then times
// side reading them all (see drain).
func rxDrainSample(b *bench, f *figDef, side Side) (float64, error) {
	return drain(b.dev.p, side, f.size, b.dev.drainN, [][]byte{make([]byte, 65536)})
}

// drainFloor is the drain's reference reading into as many pond buffers
// as a port's full queue holds, one more for the frame coming in, each
// past the headroom a port leaves: the reference's loop, but writing each
// frame into memory a queue's length old, as any receiver that queues its
// frames must. Between it and the reference is what queueing itself
// costs; between pondfs and it, the pond and queue work of each frame.
var drainFloor = &floorDef{
	label:  fmt.Sprintf("floor: a read() loop into the %d pond buffers a full queue cycles through", netdev.DefaultRxQueue+1),
	sample: drainFloorSample,
}

// floorBufSize is what a port takes for each frame of the bench's TAPs
// (MTU 1500): its headroom, the largest frame with a VLAN tag, and the
// byte Device.Read needs to spare.
const floorBufSize = chain.DefaultHeadroom + 1500 + netdev.EthHeaderLen + 4 + 1

func drainFloorSample(b *bench, f *figDef) (float64, error) {
	d := &b.dev
	bufs := make([][]byte, netdev.DefaultRxQueue+1)
	for i := range bufs {
		buf, err := d.p.Get(d.acct, floorBufSize)
		if err != nil {
			return 0, fmt.Errorf("buffers for the floor: %w", err)
		}
		defer d.p.Put(buf)
		bufs[i] = buf.Bytes()[chain.DefaultHeadroom:]
	}
	return drain(d.p, Reference, f.size, d.drainN, bufs)
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
	if err == nil {
		defer snd.Close()
		err = queueAll(rxTAP, n, func() error { return snd.send(n, benchPort) })
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

// rxLiveSample times side reading from rxTAP while a separate process
// sends frames through it as fast as the kernel lets it: frames per second
// received (from the sender's start to the last frame), and the CPU time
// this process spent per frame meanwhile (dev.rx.cpu.*; the sender's is
// not in it). The TAP drops what it cannot queue when the reader falls
// behind; the raw file notes those losses.
func rxLiveSample(b *bench, f *figDef, side Side) (float64, error) {
	n := b.dev.liveN
	rd, err := attach(side)
	if err != nil {
		return 0, err
	}
	if err := rd.start(b.dev.p, uint64(n), [][]byte{make([]byte, 65536)}); err != nil {
		return 0, err
	}
	snd, err := startSender(f.size, n)
	if err != nil {
		return 0, errors.Join(err, rd.stop())
	}
	cpu0, begin := cpuTime(), time.Now()
	end, got := waitCount(rd, uint64(n), snd.done, 20*time.Second)
	cpu := cpuTime() - cpu0
	<-snd.done
	if err := errors.Join(snd.err, rd.stop()); err != nil {
		return 0, err
	}
	if got = min(got, uint64(n)); got == 0 {
		return 0, fmt.Errorf("received none of %d frames sent", n)
	}
	if lost := n - int(got); lost > 0 {
		b.r.Note("%s %s: %d of %d frames lost (the reader fell %d frames behind the sender)", f.id, side, lost, n, n+4096)
	}
	b.r.Sample(fmt.Sprintf("dev.rx.cpu.%d", f.size), side, cpu.Seconds()*1e6/float64(got))
	return float64(got) / end.Sub(begin).Seconds(), nil
}

// reader is one side of a receive figure on rxTAP: a Port receiving into
// the pond (pondfs), or a blocking read() loop (reference) in a goroutine
// of its own, which ends after limit frames or at an end marker frame.
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
// bufs, each in turn, that stops after limit frames.
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

// stop ends reading and detaches from the TAP.
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
	return errors.Join(rd.kick(), unix.Close(rd.fd))
}

// kick waits for the read() loop to end. A blocked read(2) of a TAP
// cannot be interrupted, so while the loop still waits (the TAP dropped
// frames it expected) this process sends it an end marker every few
// milliseconds, for at most 10 s.
func (rd *reader) kick() error {
	snd, err := newUDPSender(64)
	if err != nil {
		return err
	}
	defer snd.Close()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-rd.done:
			return err
		case <-deadline:
			return errors.New("the raw reader did not end: its read(2) is stuck")
		case <-tick.C:
			if err := snd.send(1, endPort); err != nil {
				return err
			}
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

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sender is a child process sending frames through rxTAP (see udpSend).
type sender struct {
	done chan struct{} // closed when it has exited
	err  error         // how it exited
}

// startSender starts the sender process of n frames of size bytes, and
// returns once it has its socket and starts sending.
func startSender(size, n int) (*sender, error) {
	cmd := exec.Command("/proc/self/exe", "udpsend", strconv.Itoa(size), strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "sending\n" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("sender did not start: %q %v", line, err)
	}
	s := &sender{done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// udpSend is the sender process: it makes its socket, says "sending",
// then sends n frames of size bytes to benchPort.
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
	fmt.Println("sending")
	return s.send(n, benchPort)
}
