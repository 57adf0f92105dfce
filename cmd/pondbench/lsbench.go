package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// lsSizes are the numbers of chains ls is timed at; the first is the
// reference of the others.
var lsSizes = []int{1000, 10000, 100000}

// lsFigures lists chains/ of a pondd of its own at each of lsSizes
// chains, made with mkdir. A full run grows the set to the largest size
// and shrinks it back, so that each smaller size is measured twice, apart
// in time; a quick one stops at the largest, since making 100k chains is
// most of its time. The per-chain cost at each size is compared with that
// at the smallest, and the whole largest listing with 100 of the smallest.
func lsFigures(b *bench, _ *figDef, _ int) (err error) {
	pd, err := startPondd(b.cfg.pondd, filepath.Join(b.dir, "pond-ls"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pd.stop()) }()
	chains := filepath.Join(pd.dir, "chains")
	reps := b.sized(3, 2)
	order := slices.Clone(lsSizes)
	if !b.cfg.quick {
		order = append(order, lsSizes[1], lsSizes[0])
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
		for range reps {
			d, err := listDir(chains, n+1) // the chains and chains/new
			if err != nil {
				return err
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
// until it has n, from a few goroutines at once (one FUSE request per
// chain is the slowest part of the ls figures).
func resizeChains(r *Report, dir string, have, n int) error {
	const workers = 4
	op, from, to := unix.Mkdir, have, n
	if n < have {
		op, from, to = func(path string, _ uint32) error { return unix.Rmdir(path) }, n, have
	}
	start := time.Now()
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := from + w; i < to; i += workers {
				if err := op(filepath.Join(dir, chainName(i)), 0o755); err != nil {
					errs <- fmt.Errorf("chain %d: %w", i, err)
					return
				}
			}
			errs <- nil
		}()
	}
	var err error
	for range workers {
		err = errors.Join(err, <-errs)
	}
	if err == nil && to > from {
		took := time.Since(start)
		r.Note("ls: %d chains to %d took %v (%.1f us each)", have, n, took.Round(time.Millisecond), took.Seconds()*1e6/float64(to-from))
	}
	return err
}

// lsFloor notes how long listing a go-fuse directory of as many entries
// as the largest ls figure takes: the least any FUSE daemon of this kind
// pays (the reference file system's dir/, whose Readdir and Lookup work
// as chains/ does), so that the 1 s goal can be read against it.
func lsFloor(b *bench, reps int) (err error) {
	n := lsSizes[len(lsSizes)-1]
	ref, err := startMemfs(filepath.Join(b.dir, "ref-ls"), strconv.Itoa(n))
	if err != nil {
		return fmt.Errorf("ls floor: %w", err)
	}
	defer func() { err = errors.Join(err, ref.stop()) }()
	for range reps {
		d, err := listDir(filepath.Join(ref.dir, "dir"), n)
		if err != nil {
			return fmt.Errorf("ls floor: %w", err)
		}
		b.r.Floor("tree.ls.100k.total", fmt.Sprintf("floor: listing a go-fuse directory of %d in-memory entries, READDIRPLUS on", n), "s", d.Seconds())
	}
	return nil
}

// chainName is the name of the bench's i-th chain.
func chainName(i int) string { return "c" + strconv.Itoa(i) }

// listDir reads every name in dir, as ls does (no stat of each entry),
// checks there were want, and returns how long it took.
func listDir(dir string, want int) (time.Duration, error) {
	start := time.Now()
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for err == nil {
		var names []string
		names, err = f.Readdirnames(4096)
		n += len(names)
	}
	if err == io.EOF {
		err = nil
	}
	err = errors.Join(err, f.Close())
	d := time.Since(start)
	if err == nil && n != want {
		err = fmt.Errorf("ls %s: %d entries, want %d", dir, n, want)
	}
	return d, err
}
