package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// treeState is what the tree figures share: pondd with a device, the
// reference file system, and the bench's own TAP for write() loops.
type treeState struct {
	pd, ref      *server
	devDir       string // pondd's netdev/<treeTAP>
	refFD        int    // refTAP, opened raw
	txN, injectN int    // frames per sample
}

// tree starts pondd with a TAP and the reference file system.
var tree = &setup{name: "tree", up: upTree}

func upTree(b *bench) (down func() error, err error) {
	t := &b.fs
	t.txN, t.injectN = b.sized(5000, 2000), b.sized(30000, 10000)
	var stops []func() error
	down = func() error {
		var err error
		for i := len(stops) - 1; i >= 0; i-- {
			err = errors.Join(err, stops[i]())
		}
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, down())
		}
	}()
	if err := makeTAP(refTAP, false, 1000); err != nil {
		return nil, err
	}
	stops = append(stops, func() error { return ip("link", "del", refTAP) })
	if t.refFD, err = openRawTAP(refTAP); err != nil {
		return nil, err
	}
	stops = append(stops, func() error { return unix.Close(t.refFD) })
	if t.pd, err = startPondd(b.cfg.pondd, filepath.Join(b.dir, "pond"), "--tap", treeTAP); err != nil {
		return nil, err
	}
	stops = append(stops, t.pd.stop)
	if t.ref, err = startMemfs(filepath.Join(b.dir, "ref")); err != nil {
		return nil, err
	}
	stops = append(stops, t.ref.stop)
	os.WriteFile("/proc/sys/net/ipv6/conf/"+treeTAP+"/disable_ipv6", []byte("1"), 0)
	t.devDir = filepath.Join(t.pd.dir, "netdev", treeTAP)
	if _, err := os.Stat(t.devDir); err != nil {
		return nil, fmt.Errorf("pondd shows no %s: %w", t.devDir, err)
	}
	stops = append(stops, func() error {
		stats, err := os.ReadFile(filepath.Join(t.devDir, "stats"))
		b.r.Note("%s stats after tx and inject: %s", treeTAP, strings.Join(strings.Fields(string(stats)), " "))
		return err
	})
	b.r.Note("tx: %d frames per sample; inject: %d frames per sample", t.txN, t.injectN)
	return down, nil
}

// shortReps is how many samples of each side a round takes of the
// figures whose samples take a fraction of a second: the more often the
// two sides take turns, the more alike the load on the machine they see.
const shortReps = 2

// catFile opens path, reads it to the end with buf and closes it, as cat
// does.
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
			break
		}
		total += n
	}
	return total, unix.Close(fd)
}

// statsFigure times cat of pondd's stats against cat of a reference file
// holding the same bytes.
func statsFigure(b *bench, f *figDef, round int) error {
	t := &b.fs
	paths := [2]string{filepath.Join(t.pd.dir, "stats"), filepath.Join(t.ref.dir, "stats")}
	content, err := os.ReadFile(paths[Pondfs])
	if err != nil {
		return err
	}
	if err := os.WriteFile(paths[Reference], content, 0o644); err != nil {
		return err
	}
	iters := b.sized(500, 200)
	if round == 0 {
		b.r.Note("stats: %d bytes, %d opens per sample, %d samples a side per round", len(content), iters, shortReps)
	}
	buf := make([]byte, 128<<10)
	for rep := range shortReps {
		err := b.eachSide(f, round*shortReps+rep, func(side Side) (float64, error) {
			start := time.Now()
			for range iters {
				if _, err := catFile(paths[side], buf); err != nil {
					return 0, err
				}
			}
			return time.Since(start).Seconds() * 1e6 / float64(iters), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dataSize is how much the data figures write and read.
const dataSize = 64 << 20

// ioChunk is the size of each read(2) and write(2) of the data figures:
// what cat and cp use.
const ioChunk = 128 << 10

// dataFigures writes dataSize bytes sequentially into a chain's data
// (truncated first, as a shell's > does) and reads them back, against the
// same on the reference file, and notes each daemon's own CPU time: the
// part of the figure that is the daemon's work rather than the kernel's or
// waiting for a CPU. The first round warms both up, off the record.
func dataFigures(b *bench, f *figDef, round int) error {
	t := &b.fs
	chainDir := filepath.Join(t.pd.dir, "chains", "bench")
	if err := os.Mkdir(chainDir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	servers := [2]*server{t.pd, t.ref}
	paths := [2]string{filepath.Join(chainDir, "data"), filepath.Join(t.ref.dir, "data")}
	defer os.Truncate(paths[Pondfs], 0)
	defer os.Truncate(paths[Reference], 0)
	src := make([]byte, ioChunk)
	for i := range src {
		src[i] = byte(i * 7)
	}
	buf := make([]byte, ioChunk)
	write := func(side Side) (time.Duration, error) {
		return writeTimed(paths[side], unix.O_TRUNC, repeat(src, dataSize/ioChunk))
	}
	read := func(side Side) (time.Duration, error) {
		start := time.Now()
		n, err := catFile(paths[side], buf)
		if err == nil && n != dataSize {
			err = fmt.Errorf("read %d bytes of %s, want %d", n, paths[side], dataSize)
		}
		return time.Since(start), err
	}
	if round == 0 {
		for _, op := range []func(Side) (time.Duration, error){write, read} {
			for _, side := range sidesFor(0) {
				if _, err := op(side); err != nil {
					return err
				}
			}
		}
	}
	for rep := range shortReps {
		for i, op := range []func(Side) (time.Duration, error){write, read} {
			id := []string{"tree.data.write", "tree.data.read"}[i]
			for _, side := range sidesFor(round*shortReps + rep) {
				c0 := cpuOf(servers[side].pid())
				d, err := op(side)
				if err != nil {
					return fmt.Errorf("%s %s: %w", id, side, err)
				}
				b.r.Sample(id, side, dataSize/d.Seconds()/1e6)
				b.r.Floor(id, servers[side].name+" CPU per 64MiB", "ms", (cpuOf(servers[side].pid())-c0).Seconds()*1e3)
			}
		}
	}
	return nil
}

// arenaFigure reads the whole arena through an mmap of the tree's arena
// file (zero copy through FUSE passthrough, where the kernel has it),
// against an mmap of the memfd itself, opened through /proc. The first
// round gives the arena 64 MiB to read and checks that both maps show the
// same bytes.
func arenaFigure(b *bench, f *figDef, round int) error {
	t := &b.fs
	direct, err := arenaPath(t.pd.pid())
	if err != nil {
		return err
	}
	paths := [2]string{filepath.Join(t.pd.dir, "arena"), direct}
	if round == 0 {
		if err := writeCtl(filepath.Join(t.pd.dir, "pools", "65536", "ctl"), "min 1024"); err != nil {
			return err
		}
		var size [2]int64
		var sums [2]uint64
		for i, p := range paths {
			if size[i], sums[i], _, err = mmapRead(p); err != nil {
				return err
			}
		}
		if size[0] != size[1] || sums[0] != sums[1] {
			return fmt.Errorf("the arena file (%d bytes, sum %#x) and the memfd (%d bytes, sum %#x) differ", size[0], sums[0], size[1], sums[1])
		}
		b.r.Note("arena: %d bytes read per sample, %d samples a side per round", size[0], shortReps)
	}
	for rep := range shortReps {
		err := b.eachSide(f, round*shortReps+rep, func(side Side) (float64, error) {
			n, _, d, err := mmapRead(paths[side])
			return float64(n) / d.Seconds() / 1e6, err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// mmapRead opens path, maps all of it shared and read-only, reads every
// word, unmaps and closes it, and returns its size, the sum of its words
// and how long it took.
func mmapRead(path string) (int64, uint64, time.Duration, error) {
	start := time.Now()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, 0, 0, err
	}
	if st.Size == 0 {
		return 0, 0, 0, fmt.Errorf("%s is empty", path)
	}
	m, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("mmap %s: %w", path, err)
	}
	words := unsafe.Slice((*uint64)(unsafe.Pointer(&m[0])), len(m)/8)
	var s uint64
	for _, w := range words {
		s += w
	}
	if err := unix.Munmap(m); err != nil {
		return 0, 0, 0, err
	}
	return st.Size, s, time.Since(start), nil
}

// writeCtl writes one command to a ctl file, in one write(2).
func writeCtl(path, cmd string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(cmd + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("%s: %q: %w", path, cmd, err)
	}
	return f.Close()
}

// txFileFigure writes frames to netdev/IF/tx, one write(2) each, against
// the same writes to the reference file: the floor of any file written a
// frame at a time, a go-fuse file that only keeps the bytes.
func txFileFigure(b *bench, f *figDef, round int) error {
	t := &b.fs
	frame := ethFrame(f.size)
	paths := [2]string{filepath.Join(t.devDir, "tx"), filepath.Join(t.ref.dir, "data")}
	defer os.Truncate(paths[Reference], 0)
	return b.eachSide(f, round, func(side Side) (float64, error) {
		d, err := writeTimed(paths[side], 0, repeat(frame, t.txN))
		return float64(t.txN) / d.Seconds(), err
	})
}

// injectFigure writes a pcap stream to netdev/IF/inject, in pieces of
// the file's block size as cat writes it, against a plain write() loop of
// the same frames into a TAP of the bench's own.
func injectFigure(b *bench, f *figDef, round int) error {
	t := &b.fs
	frame := ethFrame(f.size)
	stream := netdevtest.PcapStream(binary.LittleEndian, false, 1, slices.Repeat([][]byte{frame}, t.injectN)...)
	inject := filepath.Join(t.devDir, "inject")
	var st unix.Stat_t
	if err := unix.Stat(inject, &st); err != nil {
		return err
	}
	return b.eachSide(f, round, func(side Side) (float64, error) {
		var d time.Duration
		var err error
		if side == Pondfs {
			d, err = writeTimed(inject, 0, slices.Chunk(stream, max(int(st.Blksize), ioChunk)))
		} else {
			d, err = writeRaw(t.refFD, frame, t.injectN)
		}
		return float64(t.injectN) / d.Seconds(), err
	})
}

// writeRaw writes frame to fd n times.
func writeRaw(fd int, frame []byte, n int) (time.Duration, error) {
	start := time.Now()
	for range n {
		if _, err := unix.Write(fd, frame); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
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
		for range n {
			if !yield(b) {
				return
			}
		}
	}
}

// lsSizes are the numbers of chains ls is timed at; the first is the
// reference of the others.
var lsSizes = []int{1000, 10000, 100000}

// lsFigures lists chains/ at each of lsSizes chains, growing the set to
// the largest size and shrinking it back, so that each size is measured
// twice, apart in time; the per-chain cost at each size is compared with
// that at the smallest. The quick run stops at the largest (the daemon
// frees the chains as it exits), since making and removing 100k chains is
// most of its time.
func lsFigures(b *bench, f *figDef, _ int) (err error) {
	pd, err := startPondd(b.cfg.pondd, filepath.Join(b.dir, "pond-ls"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pd.stop()) }()
	chains := filepath.Join(pd.dir, "chains")
	reps := b.sized(3, 2)
	order := slices.Clone(lsSizes)
	if !b.cfg.quick {
		order = append(order, lsSizes[1], lsSizes[0], 0)
	}
	have := 0
	var small []float64 // whole listings at lsSizes[0]
	for _, n := range order {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		if err := resizeChains(b.r, chains, have, n); err != nil {
			return err
		}
		have = n
		if n == 0 {
			break
		}
		for range reps {
			d, got, err := listDir(chains)
			if err != nil {
				return err
			}
			if got != n+1 { // the chains and chains/new
				return fmt.Errorf("ls %s: %d entries, want %d", chains, got, n+1)
			}
			per := d.Seconds() * 1e6 / float64(n)
			switch n {
			case lsSizes[0]:
				small = append(small, d.Seconds())
				b.r.Sample("tree.ls.10k", Reference, per)
				b.r.Sample("tree.ls.100k", Reference, per)
			case lsSizes[1]:
				b.r.Sample("tree.ls.10k", Pondfs, per)
			case lsSizes[2]:
				b.r.Sample("tree.ls.100k", Pondfs, per)
				b.r.Sample("tree.ls.100k.total", Pondfs, d.Seconds())
			}
		}
	}
	for _, s := range small {
		b.r.Sample("tree.ls.100k.total", Reference, s*float64(lsSizes[2])/float64(lsSizes[0]))
	}
	return lsFloor(b, reps)
}

// resizeChains makes or removes chains in dir, which has have of them,
// until it has n.
func resizeChains(r *Report, dir string, have, n int) error {
	start := time.Now()
	var err error
	if n > have {
		err = forRange(have, n, func(i int) error { return unix.Mkdir(filepath.Join(dir, chainName(i)), 0o755) })
	} else {
		err = forRange(n, have, func(i int) error { return unix.Rmdir(filepath.Join(dir, chainName(i))) })
	}
	if d := max(n-have, have-n); err == nil && d > 0 {
		r.Note("ls: %d chains to %d took %v (%.1f us each)", have, n, time.Since(start).Round(time.Millisecond), time.Since(start).Seconds()*1e6/float64(d))
	}
	return err
}

// forRange calls fn for every i in [from, to), from a few goroutines at
// once (making or removing 100k chains one FUSE request at a time is the
// slowest part of the ls figures), and returns the first error.
func forRange(from, to int, fn func(i int) error) error {
	const workers = 4
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := from + w; i < to; i += workers {
				if err := fn(i); err != nil {
					errs <- fmt.Errorf("chain %d: %w", i, err)
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// lsFloor notes how long listing a go-fuse directory of as many entries
// as the largest ls figure takes: the least any FUSE daemon of this kind
// pays (the reference file system's dir/, whose Readdir and Lookup work
// as chains/ does), with READDIRPLUS always on and off (pondd lets the
// kernel choose: READDIRPLUS_AUTO), so that the 1 s goal can be read
// against it.
func lsFloor(b *bench, reps int) error {
	n := lsSizes[len(lsSizes)-1]
	for _, mode := range []string{"on", "off"} {
		args := []string{strconv.Itoa(n)}
		if mode == "off" {
			args = append(args, "noplus")
		}
		times, err := listMemDir(filepath.Join(b.dir, "ref-ls"), n, reps, args)
		if err != nil {
			return fmt.Errorf("ls floor: %w", err)
		}
		for _, v := range times {
			b.r.Floor("tree.ls.100k.total", fmt.Sprintf("floor: listing a go-fuse directory of %d in-memory entries, READDIRPLUS %s", n, mode), "s", v)
		}
	}
	return nil
}

// listMemDir starts the reference file system with args and lists its dir/
// of n entries reps times.
func listMemDir(mnt string, n, reps int, args []string) (times []float64, err error) {
	ref, err := startMemfs(mnt, args...)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, ref.stop()) }()
	for range reps {
		d, got, err := listDir(filepath.Join(ref.dir, "dir"))
		if err != nil {
			return nil, err
		}
		if got != n {
			return nil, fmt.Errorf("%d entries, want %d", got, n)
		}
		times = append(times, d.Seconds())
	}
	return times, nil
}

// chainName is the name of the bench's i-th chain.
func chainName(i int) string { return "c" + strconv.Itoa(i) }

// listDir reads every name in dir, as ls does (no stat of each entry), and
// returns how long it took and how many names there were.
func listDir(dir string) (time.Duration, int, error) {
	start := time.Now()
	f, err := os.Open(dir)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for {
		names, err := f.Readdirnames(4096)
		n += len(names)
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return 0, 0, err
		}
	}
	if err := f.Close(); err != nil {
		return 0, 0, err
	}
	return time.Since(start), n, nil
}

// idleSettle is how long a server idles before its resident memory is
// read.
const idleSettle = 500 * time.Millisecond

// rssFigure starts pondd and the reference file system afresh, lets
// each idle, and reads its resident memory.
func rssFigure(b *bench, f *figDef, round int) error {
	return b.eachSide(f, round, func(side Side) (float64, error) {
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
		time.Sleep(idleSettle)
		rss, err := procStatus(s.pid(), "VmRSS")
		return float64(rss) / (1 << 20), errors.Join(err, s.stop())
	})
}

// shrinkPool is the pool the shrink figure grows and shrinks, and
// shrinkBuffers how many buffers it grows it to.
const (
	shrinkPool    = "2048"
	shrinkBuffers = 16384 // 32 MiB
)

// shrinkFigure grows a pool by tens of MiB, writes into every new slab
// through the arena (so that the memory is really there), and shrinks it
// back: the memory the memfd gave back is the pondfs side, the memory it
// had grown by the reference.
func shrinkFigure(b *bench, f *figDef, round int) (err error) {
	pd, err := startPondd(b.cfg.pondd, filepath.Join(b.dir, "pond-shrink"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pd.stop()) }()
	memfd, err := arenaPath(pd.pid())
	if err != nil {
		return err
	}
	pool := filepath.Join(pd.dir, "pools", shrinkPool)
	stats, err := os.ReadFile(filepath.Join(pool, "stats"))
	if err != nil {
		return err
	}
	min0 := statValue(string(stats), "min")
	if min0 == "" {
		return fmt.Errorf("%s/stats has no min", pool)
	}
	before, err := slabs(filepath.Join(pool, "slabs"))
	if err != nil {
		return err
	}
	a0, err := allocated(memfd)
	if err != nil {
		return err
	}
	if err := writeCtl(filepath.Join(pool, "ctl"), fmt.Sprintf("min %d", shrinkBuffers)); err != nil {
		return err
	}
	after, err := slabs(filepath.Join(pool, "slabs"))
	if err != nil {
		return err
	}
	if err := touchSlabs(filepath.Join(pd.dir, "arena"), after, before); err != nil {
		return err
	}
	a1, err := allocated(memfd)
	if err != nil {
		return err
	}
	for _, cmd := range []string{"min " + min0, "shrink"} {
		if err := writeCtl(filepath.Join(pool, "ctl"), cmd); err != nil {
			return err
		}
	}
	a2, err := allocated(memfd)
	if err != nil {
		return err
	}
	b.r.Sample(f.id, Reference, float64(a1-a0)/(1<<20))
	b.r.Sample(f.id, Pondfs, float64(a1-a2)/(1<<20))
	return nil
}

// statValue is the value of name in a stats file's text, or "".
func statValue(stats, name string) string {
	for _, line := range strings.Split(stats, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			return f[1]
		}
	}
	return ""
}

// slab is one "<arena_offset> <bytes>" line of a pool's slabs file.
type slab struct{ off, n int64 }

// slabs reads a pool's slabs file.
func slabs(path string) (map[slab]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[slab]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var s slab
		if _, err := fmt.Sscan(line, &s.off, &s.n); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		out[s] = true
	}
	return out, nil
}

// touchSlabs maps the arena and writes a byte into every page of the
// slabs in now that are not in before: the pool's free buffers, which
// nobody reads, so that the memfd holds their memory.
func touchSlabs(arena string, now, before map[slab]bool) error {
	fd, err := unix.Open(arena, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	m, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap %s: %w", arena, err)
	}
	defer unix.Munmap(m)
	page := int64(os.Getpagesize())
	for s := range now {
		if before[s] {
			continue
		}
		if s.off+s.n > int64(len(m)) {
			return fmt.Errorf("slab %d+%d past the arena's %d bytes", s.off, s.n, len(m))
		}
		for o := s.off; o < s.off+s.n; o += page {
			m[o] = 1
		}
	}
	// Through FUSE without passthrough the daemon learns of the writes
	// only at msync.
	return unix.Msync(m, unix.MS_SYNC)
}
