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

// ringTxFigure times this process sending through a transmit ring, 64
// frames a kick, against a write() loop of the same frames into a TAP of
// its own. The ring's slots hold the frame before the clock starts, as the
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

// mapped is a ring attached by this process, its arena mapped.
type mapped struct {
	f      *os.File
	layout map[string]int64
	arena  []byte
}

// openRing attaches the ring kind of pondd's device and maps the arena.
func (t *ringState) openRing(kind string) (*mapped, error) {
	f, err := os.OpenFile(filepath.Join(t.devDir, "rings", kind), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	m := &mapped{f: f, layout: map[string]int64{}}
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
			name, value, _ := strings.Cut(line, " ")
			m.layout[name], _ = strconv.ParseInt(value, 10, 64)
		}
		m.arena, err = mapFile(filepath.Join(t.pd.dir, "arena"), unix.PROT_READ|unix.PROT_WRITE)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return m, nil
}

func (m *mapped) close() error {
	return errors.Join(unix.Munmap(m.arena), m.f.Close())
}

func (m *mapped) field(name string) *uint32 {
	return (*uint32)(unsafe.Pointer(&m.arena[m.layout["header_offset"]+m.layout[name]]))
}

// desc is the arena offset of slot k's descriptor.
func (m *mapped) desc(k uint32) int64 {
	return m.layout["header_offset"] + m.layout["desc_offset"] + int64(k&uint32(m.layout["slots"]-1))*m.layout["desc_size"]
}

func (m *mapped) slot(k uint32) []byte {
	addr := int64(binary.LittleEndian.Uint64(m.arena[m.desc(k)+m.layout["desc_addr_offset"]:]))
	return m.arena[addr : addr+m.layout["slot_size"]]
}

func (m *mapped) length(k uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&m.arena[m.desc(k)+m.layout["desc_len_offset"]]))
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

// fillRing queues n frames of size bytes in ringTAP while pondd is
// stopped, lets pondd go on, and returns when it did. (The TAP's counters
// are read only while pondd runs: ip(8) waits on a stopped TAP reader.)
func (t *ringState) fillRing(size, n int) (begin time.Time, err error) {
	snd, err := newUDPSender(size)
	if err != nil {
		return time.Time{}, err
	}
	defer snd.Close()
	err = queueAll(ringTAP, n, func() (err error) {
		begin, err = t.pause(func() error { return snd.sendTo(ringPeerIP, n, benchPort) })
		return err
	})
	return begin, err
}

// ringDrain attaches a receive ring, has n frames queued in ringTAP while
// pondd is stopped, lets pondd go on and consumes frames from the ring as
// they come (reading each frame's length and first bytes, as a program
// that looks at them does; each must be a frame of the size sent) until n
// came or none came for 50 ms. It
// returns frames consumed per second from pondd's start, and how many the
// ring dropped.
func (t *ringState) ringDrain(size, n int) (rate float64, lost int, err error) {
	m, err := t.openRing("rx")
	if err != nil {
		return 0, 0, err
	}
	defer m.close()
	prodp, consp := m.field("producer_offset"), m.field("consumer_offset")
	cons := atomic.LoadUint32(consp)
	begin, err := t.fillRing(size, n)
	if err != nil {
		return 0, 0, err
	}
	got, wrong := 0, 0
	last := begin
	for spins := 0; got < n; spins++ {
		prod := atomic.LoadUint32(prodp)
		if prod == cons {
			if spins%1024 == 0 && time.Since(last) > 50*time.Millisecond {
				break
			}
			continue
		}
		for ; cons != prod; cons++ {
			frame := m.slot(cons)[:atomic.LoadUint32(m.length(cons))]
			if len(frame) != size || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
				wrong++
			}
			got++
		}
		atomic.StoreUint32(consp, cons)
		last = time.Now()
	}
	if wrong > 0 {
		return 0, 0, fmt.Errorf("%d of %d frames from the ring were not the IPv4 frames of %d bytes sent", wrong, got, size)
	}
	if got == 0 {
		return 0, n, errors.New("no frame came through the ring")
	}
	return float64(got) / last.Sub(begin).Seconds(), n - got, nil
}

// ringSend attaches a transmit ring, puts frame in every slot, then sends
// it n times, 64 frames a kick, and returns how long the sending took.
func (t *ringState) ringSend(frame []byte, n int) (time.Duration, error) {
	m, err := t.openRing("tx")
	if err != nil {
		return 0, err
	}
	defer m.close()
	slots := uint32(m.layout["slots"])
	for k := range slots {
		copy(m.slot(k), frame)
	}
	prodp := m.field("producer_offset")
	prod := atomic.LoadUint32(prodp)
	kick := []byte{'k'}
	start := time.Now()
	for sent := 0; sent < n; {
		batch := min(64, n-sent)
		for range batch {
			atomic.StoreUint32(m.length(prod), uint32(len(frame)))
			prod++
		}
		atomic.StoreUint32(prodp, prod)
		if _, err := unix.Write(int(m.f.Fd()), kick); err != nil {
			return 0, fmt.Errorf("kick: %w", err)
		}
		sent += batch
	}
	return time.Since(start), nil
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
