package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unsafe"

	"github.com/pondfs/pondfs/netdev/netdevtest"
	"golang.org/x/sys/unix"
)

// The tree figures: pondd serves its tree, the reference file system
// serves its in-memory files, and this process drives both mounts in turn.

// treeTAP is the TAP pondd creates for the tx and inject figures;
// refTAP the one the bench writes into with a plain write() loop.
const (
	treeTAP = "pbtree0"
	refTAP  = "pbref0"
)

// dataSize is how much the data figures write and read, and ioChunk the
// size of each read(2) and write(2): what cat and cp use.
const (
	dataSize = 64 << 20
	ioChunk  = 128 << 10
)

// treeState is what the tree figures share: pondd with a device, the
// reference file system, and the bench's own TAP for write() loops.
type treeState struct {
	pd, ref      *server
	devDir       string // pondd's netdev/<treeTAP>
	memfd        string // pondd's arena memfd, through /proc
	injectChunk  int    // what cat writes to inject at a time: its block size
	refFD        int    // refTAP, opened raw
	txN, injectN int    // frames per sample
	statsN       int    // opens of stats per sample
}

// tree starts pondd with a TAP and the reference file system, gives
// pondd's arena 64 MiB to read, and writes and reads each data file once
// (the data figures' warm-up, off the record).
var tree = &setup{name: "tree", up: upTree}

func upTree(b *bench, u *undo) (err error) {
	t := &b.fs
	t.txN, t.injectN, t.statsN = b.sized(5000, 2000), b.sized(30000, 10000), b.sized(500, 200)
	if err := makeTAP(u, refTAP, 1000, nil, nil); err != nil {
		return err
	}
	if t.refFD, err = openRawTAP(refTAP); err != nil {
		return err
	}
	u.push(func() error { return unix.Close(t.refFD) })
	if t.pd, err = startPondd(b.cfg.pondd, filepath.Join(b.dir, "pond"), "--tap", treeTAP); err != nil {
		return err
	}
	u.push(t.pd.stop)
	if t.ref, err = startMemfs(filepath.Join(b.dir, "ref")); err != nil {
		return err
	}
	u.push(t.ref.stop)
	os.WriteFile("/proc/sys/net/ipv6/conf/"+treeTAP+"/disable_ipv6", []byte("1"), 0)
	t.devDir = filepath.Join(t.pd.dir, "netdev", treeTAP)
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(t.devDir, "inject"), &st); err != nil {
		return fmt.Errorf("pondd shows no %s: %w", t.devDir, err)
	}
	t.injectChunk = max(int(st.Blksize), ioChunk)
	u.push(func() error {
		stats, err := os.ReadFile(filepath.Join(t.devDir, "stats"))
		b.r.Note("%s stats after tx and inject: %s", treeTAP, oneLine(stats))
		return err
	})
	if err := t.prepareArena(b.r); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(t.pd.dir, "chains", "bench"), 0o755); err != nil {
		return err
	}
	for _, write := range []bool{true, false} {
		for _, side := range sidesFor(0) {
			if _, _, err := t.dataOp(write, side); err != nil {
				return err
			}
		}
	}
	stats, err := os.ReadFile(filepath.Join(t.pd.dir, "stats"))
	b.r.Note("tx: %d frames per sample; inject: %d frames per sample; stats: %d bytes, %d opens per sample", t.txN, t.injectN, len(stats), t.statsN)
	return err
}

// prepareArena gives the arena 64 MiB (a 64 KiB pool's min) and checks
// that the arena file and the memfd show the same bytes.
func (t *treeState) prepareArena(r *Report) (err error) {
	if t.memfd, err = arenaPath(t.pd.pid()); err != nil {
		return err
	}
	if err := writeCtl(filepath.Join(t.pd.dir, "pools", "65536", "ctl"), "min 1024"); err != nil {
		return err
	}
	var size [2]int64
	var sums [2]uint64
	for side, p := range []string{filepath.Join(t.pd.dir, "arena"), t.memfd} {
		if size[side], sums[side], _, err = mmapRead(p); err != nil {
			return err
		}
	}
	if size[0] != size[1] || sums[0] != sums[1] {
		return fmt.Errorf("the arena file (%d bytes, sum %#x) and the memfd (%d bytes, sum %#x) differ", size[0], sums[0], size[1], sums[1])
	}
	r.Note("arena: %d bytes read per sample", size[0])
	return nil
}

// injectSample writes a pcap stream to netdev/IF/inject, in pieces of the
// file's block size as cat writes it, against a plain write() loop of the
// same frames into a TAP of the bench's own.
func injectSample(b *bench, f *figDef, side Side) (float64, error) {
	t := &b.fs
	frame := ethFrame(f.size)
	var d time.Duration
	var err error
	if side == Pondfs {
		stream := netdevtest.PcapStream(binary.LittleEndian, false, 1, slices.Repeat([][]byte{frame}, t.injectN)...)
		d, err = writeTimed(filepath.Join(t.devDir, "inject"), 0, slices.Chunk(stream, t.injectChunk))
	} else {
		d, err = writeRaw(t.refFD, frame, t.injectN)
	}
	return float64(t.injectN) / d.Seconds(), err
}

// txFileSample writes frames to netdev/IF/tx, one write(2) each, against
// the same writes to a reference file: the floor of any file written a
// frame at a time, a go-fuse file that only keeps the bytes.
func txFileSample(b *bench, f *figDef, side Side) (float64, error) {
	t := &b.fs
	path := filepath.Join(t.devDir, "tx")
	if side == Reference {
		path = filepath.Join(t.ref.dir, "tx")
		defer os.Truncate(path, 0)
	}
	d, err := writeTimed(path, 0, repeat(ethFrame(f.size), t.txN))
	return float64(t.txN) / d.Seconds(), err
}

// arenaSample reads the whole arena through an mmap of the tree's arena
// file (zero copy through FUSE passthrough, where the kernel has it),
// against an mmap of the memfd itself, opened through /proc.
func arenaSample(b *bench, f *figDef, side Side) (float64, error) {
	path := filepath.Join(b.fs.pd.dir, "arena")
	if side == Reference {
		path = b.fs.memfd
	}
	n, _, d, err := mmapRead(path)
	return float64(n) / d.Seconds() / 1e6, err
}

// dataSample writes dataSize bytes sequentially into a chain's data
// (truncated first, as a shell's > does), or reads them back (the
// tree.data.read figure), against the same on the reference file, and
// notes each daemon's own CPU time: the part of the figure that is the
// daemon's work rather than the kernel's or waiting for a CPU.
func dataSample(b *bench, f *figDef, side Side) (float64, error) {
	d, cpu, err := b.fs.dataOp(f.id == "tree.data.write", side)
	b.r.Floor(f.id, b.fs.server(side).name+" CPU per 64MiB", "ms", cpu.Seconds()*1e3)
	return dataSize / d.Seconds() / 1e6, err
}

// dataOp is one write, or one read, of a data figure, timed, with the CPU
// time the daemon spent meanwhile.
func (t *treeState) dataOp(write bool, side Side) (d, cpu time.Duration, err error) {
	s := t.server(side)
	path := filepath.Join(s.dir, "data")
	if side == Pondfs {
		path = filepath.Join(s.dir, "chains", "bench", "data")
	}
	cpu0 := cpuOf(s.pid())
	if write {
		src := make([]byte, ioChunk)
		for i := range src {
			src[i] = byte(i * 7)
		}
		d, err = writeTimed(path, unix.O_TRUNC, repeat(src, dataSize/ioChunk))
	} else {
		start := time.Now()
		var n int
		if n, err = catFile(path, make([]byte, ioChunk)); err == nil && n != dataSize {
			err = fmt.Errorf("read %d bytes of %s, want %d", n, path, dataSize)
		}
		d = time.Since(start)
	}
	return d, cpuOf(s.pid()) - cpu0, err
}

// server is the daemon of side.
func (t *treeState) server(side Side) *server {
	if side == Pondfs {
		return t.pd
	}
	return t.ref
}

// statsSample times cat of pondd's stats against cat of a reference file
// given the same bytes first.
func statsSample(b *bench, f *figDef, side Side) (float64, error) {
	path := filepath.Join(b.fs.server(side).dir, "stats")
	if side == Reference {
		content, err := os.ReadFile(filepath.Join(b.fs.pd.dir, "stats"))
		if err == nil {
			err = os.WriteFile(path, content, 0o644)
		}
		if err != nil {
			return 0, err
		}
	}
	buf := make([]byte, 128<<10)
	start := time.Now()
	for range b.fs.statsN {
		if _, err := catFile(path, buf); err != nil {
			return 0, err
		}
	}
	return time.Since(start).Seconds() * 1e6 / float64(b.fs.statsN), nil
}

// rssSample starts pondd or the reference file system afresh, lets it
// idle half a second, and reads its resident memory.
func rssSample(b *bench, f *figDef, side Side) (float64, error) {
	var s *server
	var err error
	if side == Pondfs {
		s, err = startPondd(b.cfg.pondd, filepath.Join(b.dir, "pond-rss"))
	} else {
		s, err = startMemfs(filepath.Join(b.dir, "ref-rss"))
	}
	if err != nil {
		return 0, err
	}
	time.Sleep(500 * time.Millisecond)
	rss, err := residentMiB(s.pid())
	return rss, errors.Join(err, s.stop())
}

// catFile opens path, reads it to the end with buf and closes it, as cat
// does, and returns how many bytes it read.
func catFile(path string, buf []byte) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			unix.Close(fd)
			return total, err
		}
		if n == 0 {
			return total, unix.Close(fd)
		}
		total += n
	}
}

// writeTimed opens path with flags, writes pieces to it in order, one
// write(2) each, closes it, and returns how long that took, close
// included (inject's close waits until every frame is sent).
func writeTimed(path string, flags int, pieces iter.Seq[[]byte]) (time.Duration, error) {
	start := time.Now()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return 0, err
	}
	for p := range pieces {
		if _, err := unix.Write(fd, p); err != nil {
			unix.Close(fd)
			return 0, err
		}
	}
	err = unix.Close(fd)
	return time.Since(start), err
}

// repeat yields b n times.
func repeat(b []byte, n int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for i := 0; i < n && yield(b); i++ {
		}
	}
}

// mmapRead maps all of path, reads every word and unmaps it, and returns
// its size, the sum of its words and how long that took.
func mmapRead(path string) (size int64, sum uint64, d time.Duration, err error) {
	start := time.Now()
	m, err := mapFile(path, unix.PROT_READ)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, w := range unsafe.Slice((*uint64)(unsafe.Pointer(&m[0])), len(m)/8) {
		sum += w
	}
	err = unix.Munmap(m)
	return int64(len(m)), sum, time.Since(start), err
}

// mapFile maps all of the file at path, shared, with prot (PROT_READ,
// with PROT_WRITE or not). The caller unmaps it.
func mapFile(path string, prot int) ([]byte, error) {
	mode := unix.O_RDONLY
	if prot&unix.PROT_WRITE != 0 {
		mode = unix.O_RDWR
	}
	fd, err := unix.Open(path, mode|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Size == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	m, err := unix.Mmap(fd, 0, int(st.Size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	return m, nil
}

// writeCtl writes commands to a ctl file, one write(2) each.
func writeCtl(path string, cmds ...string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	for _, cmd := range cmds {
		if _, err := f.WriteString(cmd + "\n"); err != nil {
			f.Close()
			return fmt.Errorf("%s: %q: %w", path, cmd, err)
		}
	}
	return f.Close()
}
