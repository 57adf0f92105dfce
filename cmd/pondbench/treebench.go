package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/pondfs/pondfs/netdev"
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

// treeBench runs every tree figure, each group on a daemon of its own.
func treeBench(ctx context.Context, r *Report, cfg runConfig) error {
	dir, err := os.MkdirTemp("", "pondbench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	step := func(ids []string, fn func() error) {
		if !cfg.wantAny(ids...) {
			return
		}
		if ctx.Err() != nil {
			r.NAAll(ids, "interrupted")
			return
		}
		if err := fn(); err != nil {
			fmt.Fprintf(os.Stderr, "pondbench: %v\n", err)
			r.NAAll(ids, err.Error())
		}
	}
	step([]string{"tree.stats", "tree.data.write", "tree.data.read", "tree.arena", "tree.tx.64", "tree.tx.1514", "tree.inject.64", "tree.inject.1514"},
		func() error { return filesBench(ctx, r, cfg, dir) })
	step(figIDs("tree.ls."), func() error { return lsBench(ctx, r, cfg, dir) })
	step([]string{"tree.rss"}, func() error { return rssBench(r, cfg, dir) })
	step([]string{"tree.shrink"}, func() error { return shrinkBench(r, cfg, dir) })
	// Each step marked what it could not measure, with its error.
	return nil
}

// filesBench measures the figures of the files a running daemon serves:
// stats, a chain's data, arena, and a device's tx and inject.
func filesBench(ctx context.Context, r *Report, cfg runConfig, dir string) (err error) {
	if err := makeTAP(refTAP, false, 1000); err != nil {
		return err
	}
	defer ip("link", "del", refTAP)
	pd, err := startPondd(cfg.pondd, filepath.Join(dir, "pond"), "--tap", treeTAP)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pd.stop()) }()
	ref, err := startMemfs(filepath.Join(dir, "ref"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, ref.stop()) }()
	os.WriteFile("/proc/sys/net/ipv6/conf/"+treeTAP+"/disable_ipv6", []byte("1"), 0)

	for _, g := range []struct {
		ids []string
		fn  func(*Report, runConfig, *server, *server) error
	}{
		{[]string{"tree.stats"}, statsFigure},
		{[]string{"tree.data.write", "tree.data.read"}, dataFigures},
		{[]string{"tree.arena"}, arenaFigure},
		{[]string{"tree.tx.64", "tree.tx.1514", "tree.inject.64", "tree.inject.1514"}, deviceFileFigures},
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !cfg.wantAny(g.ids...) {
			continue
		}
		if err := g.fn(r, cfg, pd, ref); err != nil {
			r.NAAll(g.ids, err.Error())
		}
	}
	return nil
}

// shortRounds is the number of rounds of the figures whose samples take
// a fraction of a second: twice the others', since the more often the two
// sides take turns, the more alike the load on the machine they see.
func shortRounds(cfg runConfig) int { return 2 * cfg.rounds }

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
func statsFigure(r *Report, cfg runConfig, pd, ref *server) error {
	content, err := os.ReadFile(filepath.Join(pd.dir, "stats"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(ref.dir, "stats"), content, 0o644); err != nil {
		return err
	}
	iters := 500
	if cfg.quick {
		iters = 200
	}
	buf := make([]byte, 128<<10)
	r.Note("stats: %d bytes, %d opens per sample, %d rounds", len(content), iters, shortRounds(cfg))
	for round := range shortRounds(cfg) {
		for _, side := range sidesFor(round) {
			path := filepath.Join(pd.dir, "stats")
			if side == Reference {
				path = filepath.Join(ref.dir, "stats")
			}
			start := time.Now()
			for range iters {
				if _, err := catFile(path, buf); err != nil {
					return err
				}
			}
			r.Sample("tree.stats", side, time.Since(start).Seconds()*1e6/float64(iters))
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
// same on the reference file.
func dataFigures(r *Report, cfg runConfig, pd, ref *server) error {
	chainDir := filepath.Join(pd.dir, "chains", "bench")
	if err := os.Mkdir(chainDir, 0o755); err != nil {
		return err
	}
	defer os.Remove(chainDir)
	defer os.Truncate(filepath.Join(chainDir, "data"), 0)
	defer os.Truncate(filepath.Join(ref.dir, "data"), 0)
	src := make([]byte, ioChunk)
	for i := range src {
		src[i] = byte(i * 7)
	}
	buf := make([]byte, ioChunk)
	servers := [2]*server{pd, ref}
	paths := [2]string{filepath.Join(chainDir, "data"), filepath.Join(ref.dir, "data")}
	// The daemons' own CPU time per sample, for the raw log: the part of
	// each figure that is the daemon's work rather than the kernel's or
	// waiting for a CPU.
	var cpu [2][2][]float64                              // [write, read][side]
	for round := -1; round < shortRounds(cfg); round++ { // round -1 warms up, off the record
		for _, side := range sidesFor(max(round, 0)) {
			c0 := cpuOf(servers[side].pid())
			d, err := writeFile(paths[side], src, dataSize)
			if err != nil {
				return fmt.Errorf("write %s: %w", paths[side], err)
			}
			if round >= 0 {
				r.Sample("tree.data.write", side, dataSize/d.Seconds()/1e6)
				cpu[0][side] = append(cpu[0][side], (cpuOf(servers[side].pid())-c0).Seconds()*1e3)
			}
		}
		for _, side := range sidesFor(max(round, 0)) {
			c0 := cpuOf(servers[side].pid())
			start := time.Now()
			n, err := catFile(paths[side], buf)
			if err != nil {
				return fmt.Errorf("read %s: %w", paths[side], err)
			}
			if n != dataSize {
				return fmt.Errorf("read %d bytes of %s, want %d", n, paths[side], dataSize)
			}
			if round >= 0 {
				r.Sample("tree.data.read", side, dataSize/time.Since(start).Seconds()/1e6)
				cpu[1][side] = append(cpu[1][side], (cpuOf(servers[side].pid())-c0).Seconds()*1e3)
			}
		}
	}
	for i, op := range []string{"write", "read"} {
		r.Note("tree.data.%s: daemon CPU ms per 64MiB, median pondd %s (%s), reference %s (%s)", op,
			fmtNum(median(cpu[i][Pondfs])), fmtList(cpu[i][Pondfs]), fmtNum(median(cpu[i][Reference])), fmtList(cpu[i][Reference]))
	}
	return nil
}

// writeFile truncates path and writes n bytes to it, chunk at a time, and
// returns how long that took, close included.
func writeFile(path string, chunk []byte, n int) (time.Duration, error) {
	start := time.Now()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	for done := 0; done < n; {
		w, err := unix.Write(fd, chunk[:min(len(chunk), n-done)])
		if err != nil {
			unix.Close(fd)
			return 0, err
		}
		done += w
	}
	if err := unix.Close(fd); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// arenaFigure reads the whole arena through an mmap of the tree's arena
// file (zero copy through FUSE passthrough, where the kernel has it),
// against an mmap of the memfd itself, opened through /proc.
func arenaFigure(r *Report, cfg runConfig, pd, _ *server) error {
	// Give the arena 64 MiB to read, whatever the data figures left.
	if err := writeCtl(filepath.Join(pd.dir, "pools", "65536", "ctl"), "min 1024"); err != nil {
		return err
	}
	direct, err := arenaPath(pd.pid())
	if err != nil {
		return err
	}
	paths := [2]string{filepath.Join(pd.dir, "arena"), direct}
	// Fault every page in once, off the clock, and check that both maps
	// show the same bytes.
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
	r.Note("arena: %d bytes read per sample, %d rounds", size[0], shortRounds(cfg))
	for round := range shortRounds(cfg) {
		for _, side := range sidesFor(round) {
			n, _, d, err := mmapRead(paths[side])
			if err != nil {
				return err
			}
			r.Sample("tree.arena", side, float64(n)/d.Seconds()/1e6)
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

// deviceFileFigures sends frames through netdev/IF/tx, one write(2) per
// frame, against the same writes to the reference go-fuse file, and
// through netdev/IF/inject (a pcap stream) against a plain write() loop
// of the same frames into a TAP of the bench's own.
func deviceFileFigures(r *Report, cfg runConfig, pd, ref *server) error {
	txN, injectN := 5000, 30000
	if cfg.quick {
		txN, injectN = 2000, 10000
	}
	fd, err := openRawTAP(refTAP)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	devDir := filepath.Join(pd.dir, "netdev", treeTAP)
	if _, err := os.Stat(devDir); err != nil {
		return fmt.Errorf("pondd shows no %s: %w", devDir, err)
	}
	r.Note("tx: %d frames per sample; inject: %d frames per sample", txN, injectN)
	// tx's reference is the floor of any file written one frame per
	// write(2): a go-fuse file that only keeps the bytes.
	floor := filepath.Join(ref.dir, "data")
	for round := range cfg.rounds {
		for _, size := range frameSizes {
			frame := ethFrame(size)
			for _, side := range sidesFor(round) {
				if !cfg.want(fmt.Sprintf("tree.tx.%d", size)) {
					break
				}
				path := filepath.Join(devDir, "tx")
				if side == Reference {
					path = floor
				}
				d, err := writeEach(path, frame, txN)
				if err != nil {
					return fmt.Errorf("tx %dB %s: %w", size, side, err)
				}
				r.Sample(fmt.Sprintf("tree.tx.%d", size), side, float64(txN)/d.Seconds())
				os.Truncate(floor, 0)
			}
			stream := pcapStream(frame, injectN)
			for _, side := range sidesFor(round) {
				if !cfg.want(fmt.Sprintf("tree.inject.%d", size)) {
					break
				}
				var d time.Duration
				var err error
				if side == Pondfs {
					d, err = writeStream(filepath.Join(devDir, "inject"), stream)
				} else {
					d, err = writeRaw(fd, frame, injectN)
				}
				if err != nil {
					return fmt.Errorf("inject %dB %s: %w", size, side, err)
				}
				r.Sample(fmt.Sprintf("tree.inject.%d", size), side, float64(injectN)/d.Seconds())
			}
		}
	}
	stats, err := os.ReadFile(filepath.Join(devDir, "stats"))
	if err == nil {
		r.Note("%s stats after tx and inject: %s", treeTAP, strings.Join(strings.Fields(string(stats)), " "))
	}
	return err
}

// writeEach opens path and writes frame to it n times, one write(2) each.
func writeEach(path string, frame []byte, n int) (time.Duration, error) {
	start := time.Now()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	for range n {
		if _, err := unix.Write(fd, frame); err != nil {
			unix.Close(fd)
			return 0, err
		}
	}
	if err := unix.Close(fd); err != nil {
		return 0, err
	}
	return time.Since(start), nil
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

// pcapStream is a pcap stream of n copies of frame.
func pcapStream(frame []byte, n int) []byte {
	out := netdev.AppendPcapFileHeader(make([]byte, 0, netdev.PcapFileHeaderLen+n*(netdev.PcapRecordHeaderLen+len(frame))), 0)
	ts := time.Unix(1700000000, 0)
	for range n {
		out = netdev.AppendPcapRecordHeader(out, ts, len(frame), len(frame))
		out = append(out, frame...)
	}
	return out
}

// writeStream opens path, writes stream in pieces of the file's block
// size (as cat does: the larger of it and 128 KiB), closes it and returns
// how long that took.
func writeStream(path string, stream []byte) (time.Duration, error) {
	start := time.Now()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return 0, err
	}
	piece := max(int(st.Blksize), ioChunk)
	for off := 0; off < len(stream); off += piece {
		if _, err := unix.Write(fd, stream[off:min(off+piece, len(stream))]); err != nil {
			unix.Close(fd)
			return 0, err
		}
	}
	if err := unix.Close(fd); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// lsSizes are the numbers of chains ls is timed at; the first is the
// reference of the others.
var lsSizes = []int{1000, 10000, 100000}

// lsBench lists chains/ at each of lsSizes chains, growing the set to the
// largest size and shrinking it back, so that each size is measured twice,
// apart in time; the per-chain cost at each size is compared with that at
// the smallest.
func lsBench(ctx context.Context, r *Report, cfg runConfig, dir string) (err error) {
	pd, err := startPondd(cfg.pondd, filepath.Join(dir, "pond-ls"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pd.stop()) }()
	chains := filepath.Join(pd.dir, "chains")
	reps := 3
	if cfg.quick {
		reps = 2
	}
	have := 0
	var small []float64 // whole listings at lsSizes[0]
	measure := func(n int) error {
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
				r.Sample("tree.ls.10k", Reference, per)
				r.Sample("tree.ls.100k", Reference, per)
			case 10000:
				r.Sample("tree.ls.10k", Pondfs, per)
			case 100000:
				r.Sample("tree.ls.100k", Pondfs, per)
				r.Sample("tree.ls.100k.total", Pondfs, d.Seconds())
			}
		}
		return nil
	}
	resize := func(n int) error {
		start, was := time.Now(), have
		var err error
		if n > have {
			err = forRange(have, n, func(i int) error {
				return unix.Mkdir(filepath.Join(chains, chainName(i)), 0o755)
			})
		} else {
			err = forRange(n, have, func(i int) error {
				return unix.Rmdir(filepath.Join(chains, chainName(i)))
			})
		}
		have = n
		if err != nil {
			return err
		}
		if d := max(n-was, was-n); d > 0 {
			r.Note("ls: %d chains to %d took %v (%.1f us each)", was, n, time.Since(start).Round(time.Millisecond), time.Since(start).Seconds()*1e6/float64(d))
		}
		return nil
	}
	// The full run shrinks the set back, measuring each size again; the
	// quick one stops at the largest (the daemon frees the chains as it
	// exits), since making and removing 100k chains is most of its time.
	order := slices.Clone(lsSizes)
	if !cfg.quick {
		order = append(order, lsSizes[1], lsSizes[0])
	}
	for _, n := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := resize(n); err != nil {
			return err
		}
		if err := measure(n); err != nil {
			return err
		}
	}
	for _, s := range small {
		r.Sample("tree.ls.100k.total", Reference, s*float64(lsSizes[2])/float64(lsSizes[0]))
	}
	if err := lsFloor(r, dir, reps); err != nil {
		r.Note("ls floor: %v", err)
	}
	if cfg.quick {
		return nil
	}
	return resize(0)
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

// lsFloor notes, for the raw log, how long listing a go-fuse directory of
// as many entries as the largest ls figure takes: the least any FUSE
// daemon of this kind pays (the reference file system's dir/, whose
// Readdir and Lookup work as chains/ does), with READDIRPLUS always on and
// off (pondd lets the kernel choose: READDIRPLUS_AUTO), so that the 1 s
// goal can be read against it.
func lsFloor(r *Report, dir string, reps int) error {
	n := lsSizes[len(lsSizes)-1]
	for _, mode := range []string{"", "noplus"} {
		args := []string{strconv.Itoa(n)}
		what := "READDIRPLUS on"
		if mode != "" {
			args = append(args, mode)
			what = "READDIRPLUS off"
		}
		times, err := listMemDir(filepath.Join(dir, "ref-ls"), n, reps, args)
		if err != nil {
			return err
		}
		r.Note("ls floor: listing a go-fuse directory of %d in-memory entries (%s): median %s s of %s", n, what, fmtNum(median(times)), fmtList(times))
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

// rssBench starts pondd and the reference file system afresh each round,
// lets each idle, and reads its resident memory.
func rssBench(r *Report, cfg runConfig, dir string) error {
	for round := range cfg.rounds {
		for _, side := range sidesFor(round) {
			var s *server
			var err error
			if side == Pondfs {
				s, err = startPondd(cfg.pondd, filepath.Join(dir, "pond-rss"))
			} else {
				s, err = startMemfs(filepath.Join(dir, "ref-rss"))
			}
			if err != nil {
				return err
			}
			time.Sleep(idleSettle)
			rss, err := procStatus(s.pid(), "VmRSS")
			err = errors.Join(err, s.stop())
			if err != nil {
				return err
			}
			r.Sample("tree.rss", side, float64(rss)/(1<<20))
		}
	}
	return nil
}

// shrinkPool is the pool the shrink figure grows and shrinks, and
// shrinkBuffers how many buffers it grows it to.
const (
	shrinkPool    = "2048"
	shrinkBuffers = 16384 // 32 MiB
)

// shrinkBench grows a pool by tens of MiB, writes into every new slab
// through the arena (so that the memory is really there), and shrinks it
// back: the memory the memfd gave back is the pondfs side, the memory it
// had grown by the reference.
func shrinkBench(r *Report, cfg runConfig, dir string) (err error) {
	pd, err := startPondd(cfg.pondd, filepath.Join(dir, "pond-shrink"))
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
	for range cfg.rounds {
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
		if err := writeCtl(filepath.Join(pool, "ctl"), "min "+min0); err != nil {
			return err
		}
		if err := writeCtl(filepath.Join(pool, "ctl"), "shrink"); err != nil {
			return err
		}
		a2, err := allocated(memfd)
		if err != nil {
			return err
		}
		r.Sample("tree.shrink", Reference, float64(a1-a0)/(1<<20))
		r.Sample("tree.shrink", Pondfs, float64(a1-a2)/(1<<20))
	}
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
