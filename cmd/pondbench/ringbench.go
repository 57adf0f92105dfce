package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The ring figures: this process, and a Python program, move frames
// through pondd's rings (netdev/IF/rings/rx and tx, the arena mapped),
// against what a C program does on a TAP of its own: a read() loop
// draining a full queue, a write() loop; and the Python program against
// itself consuming through rx/<seq>/data and rmdir.

// ringTAP is the TAP pondd receives into its ring from and sends on, in a
// subnet of its own so that the reference's rxTAP can live beside it;
// ringRefTAP is the one the write() loop writes into.
const (
	ringTAP    = "pbring0"
	ringRefTAP = "pbringref0"
)

var (
	ringKernelIP = net.IPv4(10, 78, 0, 1).To4()
	ringPeerIP   = net.IPv4(10, 78, 0, 2).To4()
)

// ringState is what the ring figures share.
type ringState struct {
	pd            *server
	devDir        string // pondd's netdev/<ringTAP>
	refFD         int    // ringRefTAP, opened raw
	rxN, txN, pyN int    // frames per sample
}

// rings starts pondd on ringTAP, and makes the reference's TAPs.
var rings = &setup{name: "ring", up: upRings}

func upRings(b *bench, u *undo) (err error) {
	t := &b.ring
	t.rxN, t.txN, t.pyN = b.sized(50000, 20000), b.sized(50000, 20000), b.sized(20000, 10000)
	if err := makeTAP(u, rxTAP, t.rxN+4096, kernelIP, peerIP); err != nil {
		return err
	}
	if err := makeTAP(u, ringTAP, t.rxN+4096, ringKernelIP, ringPeerIP); err != nil {
		return err
	}
	if err := makeTAP(u, ringRefTAP, 1000, nil, nil); err != nil {
		return err
	}
	if t.refFD, err = openRawTAP(ringRefTAP); err != nil {
		return err
	}
	u.push(func() error { return unix.Close(t.refFD) })
	if t.pd, err = startPondd(b.cfg.pondd, filepath.Join(b.dir, "ringpond"), "--tap", ringTAP); err != nil {
		return err
	}
	u.push(t.pd.stop)
	t.devDir = filepath.Join(t.pd.dir, "netdev", ringTAP)
	u.push(func() error {
		stats, err := os.ReadFile(filepath.Join(t.devDir, "stats"))
		b.r.Note("%s stats after the ring figures: %s", ringTAP, oneLine(stats))
		return err
	})
	b.r.Note("ring figures: rx %d, tx %d, python %d frames per sample", t.rxN, t.txN, t.pyN)
	return nil
}

// ringRxFigure times this process draining a receive ring that pondd
// fills from a full TAP queue, against the drain figures' read() loop on
// a full queue of rxTAP.
func ringRxFigure(b *bench, f *figDef, round int) error {
	t := &b.ring
	for rep := range drainReps {
		err := b.eachSide(f, round*drainReps+rep, func(side Side) (float64, error) {
			if side == Reference {
				return drain(nil, Reference, f.size, t.rxN, [][]byte{make([]byte, 65536)})
			}
			rate, lost, err := t.ringDrain(f.size, t.rxN)
			if lost > 0 {
				b.r.Note("%s: the ring dropped %d of %d frames (the program fell a ring behind)", f.id, lost, t.rxN)
			}
			return rate, err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ringTxFigure times this process sending through a transmit ring (see
// ringSend) against a write() loop of the same frames into a TAP of its
// own. The ring's slots hold the frame before the clock starts, as the
// reference's one buffer does; per frame the program writes its length.
func ringTxFigure(b *bench, f *figDef, round int) error {
	t := &b.ring
	frame := ethFrame(f.size)
	return b.eachSide(f, round, func(side Side) (float64, error) {
		var d time.Duration
		var err error
		if side == Pondfs {
			d, err = t.ringSend(frame, t.txN)
		} else {
			d, err = writeRaw(t.refFD, frame, t.txN)
		}
		return float64(t.txN) / d.Seconds(), err
	})
}

// ringPyFigure times one Python program consuming received frames through
// a receive ring, and through rx/<seq>/data and rmdir.
func ringPyFigure(b *bench, f *figDef, round int) error {
	t := &b.ring
	return b.eachSide(f, round, func(side Side) (float64, error) {
		mode := "ring"
		if side == Reference {
			mode = "rx"
		}
		return t.pySample(mode, 64)
	})
}

// mapped is a ring attached by this process, its arena mapped, its
// layout resolved once into pointers, as a program that uses a ring for
// long does: per frame it then reads a length and the frame, nothing
// more.
type mapped struct {
	f                  *os.File
	arena              []byte
	producer, consumer *uint32
	mask               uint32
	slots              [][]byte  // slot i's buffer
	lens               []*uint32 // slot i's descriptor length
}

// openRing attaches the ring kind of pondd's device, maps the arena and
// resolves the layout the ring file gives.
func (t *ringState) openRing(kind string) (*mapped, error) {
	f, err := os.OpenFile(filepath.Join(t.devDir, "rings", kind), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	m := &mapped{f: f}
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err == nil {
		m.arena, err = mapFile(filepath.Join(t.pd.dir, "arena"), unix.PROT_READ|unix.PROT_WRITE)
	}
	if err == nil {
		err = m.resolve(buf[:n])
	}
	if err != nil {
		f.Close()
		if m.arena != nil {
			unix.Munmap(m.arena)
		}
		return nil, err
	}
	return m, nil
}

// resolve reads the layout text and points m's fields at the ring.
func (m *mapped) resolve(text []byte) error {
	L := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		name, value, _ := strings.Cut(line, " ")
		L[name], _ = strconv.ParseInt(value, 10, 64)
	}
	hdr, n := L["header_offset"], L["slots"]
	if n <= 0 || n&(n-1) != 0 || hdr+L["header_bytes"] > int64(len(m.arena)) {
		return fmt.Errorf("ring layout out of the arena's %d bytes: %q", len(m.arena), text)
	}
	m.producer = m.u32(hdr + L["producer_offset"])
	m.consumer = m.u32(hdr + L["consumer_offset"])
	m.mask = uint32(n - 1)
	for i := range n {
		desc := hdr + L["desc_offset"] + i*L["desc_size"]
		addr := int64(binary.LittleEndian.Uint64(m.arena[desc+L["desc_addr_offset"]:]))
		m.slots = append(m.slots, m.arena[addr:addr+L["slot_size"]])
		m.lens = append(m.lens, m.u32(desc+L["desc_len_offset"]))
	}
	return nil
}

func (m *mapped) close() error {
	return errors.Join(unix.Munmap(m.arena), m.f.Close())
}

// u32 is the field at arena offset off.
func (m *mapped) u32(off int64) *uint32 {
	return (*uint32)(unsafe.Pointer(&m.arena[off]))
}

// pause stops pondd (SIGSTOP) while fill runs, so frames queue in its
// TAP, then lets it go on; it returns when pondd was let go.
func (t *ringState) pause(fill func() error) (time.Time, error) {
	pid := t.pd.pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return time.Time{}, err
	}
	err := fill()
	begin := time.Now()
	return begin, errors.Join(err, syscall.Kill(pid, syscall.SIGCONT))
}

// ringDrain attaches a receive ring, has n frames queued in ringTAP while
// pondd is stopped, lets pondd go on and consumes frames from the ring as
// they come (reading each frame's length and first bytes, as a program
// that looks at them does; each must be a frame of the size sent) until n
// came or none came for 50 ms. It returns frames consumed per second from
// pondd's start to the last frame (the 50 ms are not in it), and how many
// the ring dropped.
//
// Nothing else runs on the clock: the TAP's drop counter, which tells
// whether the queue held all n frames, is read (queueAll) before the
// frames are queued and after the last is consumed. (Read between the
// two it ran ip(8) while pondd filled the ring and nobody consumed: a few
// milliseconds, more than the ring's 2048 frames hold, and the ring
// dropped up to a fifth of the frames of a sample.)
func (t *ringState) ringDrain(size, n int) (rate float64, lost int, err error) {
	m, err := t.openRing("rx")
	if err != nil {
		return 0, 0, err
	}
	defer m.close()
	snd, err := newUDPSender(size)
	if err != nil {
		return 0, 0, err
	}
	defer snd.Close()
	cons := atomic.LoadUint32(m.consumer)
	var begin, last time.Time
	var got, wrong int
	err = queueAll(ringTAP, n, func() error {
		var err error
		begin, err = t.pause(func() error { return snd.sendTo(ringPeerIP, n, benchPort) })
		if err == nil {
			got, wrong, last = m.consume(cons, size, n, begin)
		}
		return err
	})
	switch {
	case err != nil:
		return 0, 0, err
	case wrong > 0:
		return 0, 0, fmt.Errorf("%d of %d frames from the ring were not the IPv4 frames of %d bytes sent", wrong, got, size)
	case got == 0:
		return 0, n, errors.New("no frame came through the ring")
	}
	return float64(got) / last.Sub(begin).Seconds(), n - got, nil
}

// consumeSpins is how many times in a row the consumer finds the ring
// empty before it sleeps for consumeNap. A consumer that only spins is,
// on a machine busy with other work, the task the scheduler takes the CPU
// from for milliseconds at a time, and the ring overflows meanwhile; one
// that sleeps while the ring is empty is woken ahead of busier tasks,
// and leaves pondd's receiver the CPU meanwhile. The ring holds 2048
// frames, 4 ms of the TAP's queue: far more than a nap.
const (
	consumeSpins = 256
	consumeNap   = 20 * time.Microsecond
)

// consume consumes frames from the receive ring m, from index cons, as
// they come until n came or none came for 50 ms after the last (or after
// begin). It returns how many came, how many were not IPv4 frames of
// size bytes, and when the last came.
func (m *mapped) consume(cons uint32, size, n int, begin time.Time) (got, wrong int, last time.Time) {
	last = begin
	for empty := 0; got < n; {
		prod := atomic.LoadUint32(m.producer)
		if prod == cons {
			if empty++; empty%consumeSpins == 0 {
				if time.Since(last) > 50*time.Millisecond {
					break
				}
				time.Sleep(consumeNap)
			}
			continue
		}
		empty = 0
		for ; cons != prod; cons++ {
			slot := cons & m.mask
			frame := m.slots[slot][:atomic.LoadUint32(m.lens[slot])]
			if len(frame) != size || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
				wrong++
			}
			got++
		}
		atomic.StoreUint32(m.consumer, cons)
		last = time.Now()
	}
	return got, wrong, last
}

// ringTxBatch is how many frames the transmit ring's program produces
// with one store of its producer index.
const ringTxBatch = 64

// ringSend attaches a transmit ring, puts frame in every slot, then sends
// it n times, and returns how long the sending took. It works as a
// program that keeps a device busy does (as with AF_XDP): this goroutine
// produces frames ringTxBatch at a time into the free slots, and another
// kicks whenever frames were produced; a kick also sends what is produced
// while it runs, so the program's producing and pondd's sending overlap.
func (t *ringState) ringSend(frame []byte, n int) (time.Duration, error) {
	m, err := t.openRing("tx")
	if err != nil {
		return 0, err
	}
	defer m.close()
	for _, slot := range m.slots {
		copy(slot, frame)
	}
	fd := int(m.f.Fd())
	prod := atomic.LoadUint32(m.producer)
	kicks := make(chan struct{}, 1)
	kicked := make(chan error, 1)
	var failed atomic.Bool
	start := time.Now()
	go func() {
		err := kicker(fd, kicks)
		failed.Store(err != nil)
		kicked <- err
	}()
	produceErr := m.produceAll(&prod, uint32(len(frame)), n, kicks, &failed)
	close(kicks)
	if err := errors.Join(produceErr, <-kicked); err != nil {
		return 0, err
	}
	d := time.Since(start)
	if c := atomic.LoadUint32(m.consumer); c != prod {
		return 0, fmt.Errorf("the kicks returned with %d frames unsent", prod-c)
	}
	return d, nil
}

// produceAll produces n frames of size bytes in the transmit ring m from
// *prod on, ringTxBatch at a time, into the slots pondd has freed, and
// tells the kicker after each batch. While no slot is free it naps (see
// consumeNap) rather than wait in a read(2) of the ring file: each such
// read is a FUSE round trip that pondd serves beside its sending. It
// stops when failed says the kicker stopped.
func (m *mapped) produceAll(prod *uint32, size uint32, n int, kicks chan<- struct{}, failed *atomic.Bool) error {
	slots := uint32(len(m.slots))
	for sent := 0; sent < n; {
		free := slots - (*prod - atomic.LoadUint32(m.consumer))
		if failed.Load() {
			return nil
		}
		if free == 0 {
			time.Sleep(consumeNap)
			continue
		}
		batch := min(ringTxBatch, free, uint32(n-sent))
		for range batch {
			atomic.StoreUint32(m.lens[*prod&m.mask], size)
			*prod++
		}
		atomic.StoreUint32(m.producer, *prod)
		sent += int(batch)
		select {
		case kicks <- struct{}{}:
		default: // a kick is already due, and will send these too
		}
	}
	return nil
}

// kicker kicks the ring fd once per word on kicks, until it is closed.
// A word that comes while a kick runs waits for it to end, so the frames
// produced last are sent by a kick that began after they were.
func kicker(fd int, kicks <-chan struct{}) error {
	kick := []byte{'k'}
	for range kicks {
		_, err := unix.Write(fd, kick)
		for err == unix.EINTR { // interrupted before pondd took it
			_, err = unix.Write(fd, kick)
		}
		if err != nil {
			for range kicks { // let the producer finish
			}
			return fmt.Errorf("kick: %w", err)
		}
	}
	return nil
}

// fillOnly sends n frames of size bytes through ringTAP.
func fillOnly(size, n int) error {
	snd, err := newUDPSender(size)
	if err != nil {
		return err
	}
	defer snd.Close()
	return snd.sendTo(ringPeerIP, n, benchPort)
}

// pyConsumer is the Python program of ring.py.rx: it consumes received
// frames, reading each, through a receive ring (mode ring) or through
// rx/<seq>/layers/0/data and rmdir (mode rx), until none came for 0.2 s,
// and prints how many it consumed and CLOCK_MONOTONIC at the last one.
const pyConsumer = `
import mmap, os, struct, sys, time
mode, dev, arena_path = sys.argv[1:4]
got, last = 0, 0.0
if mode == "ring":
    ring = os.open(dev + "/rings/rx", os.O_RDWR)
    L = {k: int(v) for k, v in (line.split() for line in os.read(ring, 4096).decode().splitlines())}
    fd = os.open(arena_path, os.O_RDWR)
    arena = mmap.mmap(fd, os.fstat(fd).st_size)
    hdr, mask = L["header_offset"], L["slots"] - 1
    prod_at, cons_at = hdr + L["producer_offset"], hdr + L["consumer_offset"]
    cons, = struct.unpack_from("<I", arena, cons_at)
print("ready", flush=True)
idle = time.monotonic()
while time.monotonic() - idle < 0.2:
    if mode == "ring":
        prod, = struct.unpack_from("<I", arena, prod_at)
        if cons == prod:
            continue
        while cons != prod:
            desc = hdr + L["desc_offset"] + (cons & mask) * L["desc_size"]
            addr, = struct.unpack_from("<Q", arena, desc + L["desc_addr_offset"])
            n, = struct.unpack_from("<I", arena, desc + L["desc_len_offset"])
            frame = arena[addr:addr + n]
            cons, got = (cons + 1) & 0xFFFFFFFF, got + 1
        struct.pack_into("<I", arena, cons_at, cons)
    else:
        names = os.listdir(dev + "/rx")
        if not names:
            continue
        for seq in sorted(names, key=int):
            try:  # the full queue may drop it meanwhile
                with open(f"{dev}/rx/{seq}/layers/0/data", "rb") as f:
                    frame = f.read()
                os.rmdir(f"{dev}/rx/{seq}")
            except FileNotFoundError:
                continue
            got += 1
    last = time.clock_gettime(time.CLOCK_MONOTONIC)
    idle = time.monotonic()
print(got, last)
`

// pySample runs pyConsumer in mode, fills ringTAP with frames of size
// bytes while pondd is stopped, lets pondd go on, and returns the frames
// per second the program consumed from then to its last one.
func (t *ringState) pySample(mode string, size int) (float64, error) {
	py := "python3"
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		py = "/usr/bin/python3"
	}
	cmd := exec.Command(py, "-c", pyConsumer, mode, t.devDir, filepath.Join(t.pd.dir, "arena"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		return 0, fmt.Errorf("the python consumer did not start: %q", lines.Text())
	}
	var begin unix.Timespec
	_, err = t.pause(func() error { return fillOnly(size, t.pyN) })
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &begin)
	if err != nil {
		cmd.Process.Kill()
		return 0, err
	}
	if !lines.Scan() {
		return 0, errors.New("the python consumer said nothing")
	}
	var got int
	var last float64
	if _, err := fmt.Sscan(lines.Text(), &got, &last); err != nil || got == 0 {
		return 0, fmt.Errorf("python consumer: %q: %v", lines.Text(), err)
	}
	return float64(got) / (last - float64(begin.Nano())/1e9), nil
}
