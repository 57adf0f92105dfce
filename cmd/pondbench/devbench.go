package main

import (
	"errors"
	"fmt"
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
	acct               *pond.Account
	drainN, liveN, txN int
}

// devices makes the TAPs of the device figures and a pond.
var devices = &setup{name: "device", up: upDevices}

func upDevices(b *bench, u *undo) error {
	d := &b.dev
	d.drainN, d.liveN, d.txN = b.sized(50000, 20000), b.sized(100000, 40000), b.sized(50000, 20000)
	if err := makeTAP(u, rxTAP, d.liveN+4096, kernelIP, peerIP); err != nil {
		return err
	}
	if err := makeTAP(u, txTAP, 1000, nil, nil); err != nil {
		return err
	}
	p, err := pond.New(pond.DefaultConfig())
	if err != nil {
		return err
	}
	u.push(p.Close)
	d.p = p
	if d.acct, err = p.NewAccount("bench", 1<<30); err != nil {
		return err
	}
	b.r.Note("device figures: drain %d frames, live %d frames, tx %d frames per sample", d.drainN, d.liveN, d.txN)
	return nil
}

// txBatch is how many chains are built (off the clock) before each run of
// timed sends.
const txBatch = 1000

// txSample sends frames of the figure's size out of txTAP and returns
// frames per second. Both sides send the same frames from the same memory
// in the same state: chains built off the clock, txBatch at a time, each
// frame in one pond buffer. The pondfs side sends each chain with
// Port.Send (one writev, then the chain's free); the reference write()s
// each chain's bytes in a plain loop and frees the chains off the clock.
// So between the two is Port.Send's own work, and not where the frames
// lie: txOneBuffer is the loop on one buffer the caches keep.
func txSample(b *bench, f *figDef, side Side) (float64, error) {
	d := &b.dev
	var port *netdev.Port
	fd := -1
	if side == Pondfs {
		tap, err := netdev.OpenTAP(txTAP)
		if err != nil {
			return 0, err
		}
		if port, err = netdev.NewPort(d.p, tap, netdev.Config{}); err != nil {
			return 0, errors.Join(err, tap.Close())
		}
		defer func() { port.Close(); <-port.Done() }()
	} else {
		var err error
		if fd, err = openRawTAP(txTAP); err != nil {
			return 0, err
		}
		defer unix.Close(fd)
	}
	frame := ethFrame(f.size)
	batch := make([]*chain.Chain, 0, txBatch)
	frames := make([][]byte, 0, txBatch)
	var elapsed time.Duration
	for sent := 0; sent < d.txN; sent += len(batch) {
		batch = batch[:0]
		for len(batch) < min(txBatch, d.txN-sent) {
			c, err := chain.New(d.p, d.acct, chain.Options{})
			if err == nil {
				batch = append(batch, c)
				err = c.Append(frame)
			}
			if err != nil {
				freeAll(batch)
				return 0, err
			}
		}
		took, err := sendBatch(port, fd, batch, frames)
		if err != nil {
			return 0, err
		}
		elapsed += took
	}
	return float64(d.txN) / elapsed.Seconds(), nil
}

// sendBatch sends every chain of batch on txTAP, with port's Send or,
// when port is nil, with a write() of its bytes (gathered into frames
// first) to fd; frees them all; and returns how long the sending took.
func sendBatch(port *netdev.Port, fd int, batch []*chain.Chain, frames [][]byte) (time.Duration, error) {
	if port != nil {
		start := time.Now()
		for i, c := range batch {
			batch[i] = nil
			if err := port.Send(c); err != nil {
				freeAll(batch[i+1:])
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	defer freeAll(batch)
	defer clear(frames[:len(batch)]) // the chains' buffers go back to the pond
	for i, c := range batch {
		if frames = c.Iovecs(frames[:i]); len(frames) != i+1 {
			return 0, fmt.Errorf("a frame in %d segments, not one", len(frames)-i)
		}
	}
	start := time.Now()
	for _, f := range frames {
		if _, err := unix.Write(fd, f); err != nil {
			return 0, fmt.Errorf("write %s: %w", txTAP, err)
		}
	}
	return time.Since(start), nil
}

// freeAll frees the chains of batch.
func freeAll(batch []*chain.Chain) {
	for _, c := range batch {
		if c != nil {
			c.Free()
		}
	}
}

// txOneBuffer is the send loop at its cheapest: a write() loop of one
// buffer holding the frame, which never leaves the caches. Noted beside
// the tx figures for what sending frames the caches lost costs both sides.
var txOneBuffer = &floorDef{
	label: "one buffer: a write() loop of one buffer the caches keep",
	sample: func(b *bench, f *figDef) (float64, error) {
		fd, err := openRawTAP(txTAP)
		if err != nil {
			return 0, err
		}
		defer unix.Close(fd)
		d, err := writeRaw(fd, ethFrame(f.size), b.dev.txN)
		return float64(b.dev.txN) / d.Seconds(), err
	},
}
