package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

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
func shrinkFigure(b *bench, f *figDef, _ int) (err error) {
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
	min0, err := statValue(filepath.Join(pool, "stats"), "min")
	if err != nil {
		return err
	}
	before, err := slabs(pool)
	if err != nil {
		return err
	}
	ctl := filepath.Join(pool, "ctl")
	mem0, err := allocated(memfd)
	if err != nil {
		return err
	}
	if err := writeCtl(ctl, fmt.Sprintf("min %d", shrinkBuffers)); err != nil {
		return err
	}
	if err := touchNewSlabs(filepath.Join(pd.dir, "arena"), pool, before); err != nil {
		return err
	}
	grown, err := allocated(memfd)
	if err != nil {
		return err
	}
	if err := writeCtl(ctl, "min "+min0, "shrink"); err != nil {
		return err
	}
	kept, err := allocated(memfd)
	if err != nil {
		return err
	}
	b.r.Sample(f.id, Reference, float64(grown-mem0)/(1<<20))
	b.r.Sample(f.id, Pondfs, float64(grown-kept)/(1<<20))
	return nil
}

// statValue is the value of name in the stats file at path.
func statValue(path, name string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s has no %s", path, name)
}

// slab is one "<arena_offset> <bytes>" line of a pool's slabs file.
type slab struct{ off, n int64 }

// slabs reads the slabs file of the pool directory pool.
func slabs(pool string) (map[slab]bool, error) {
	data, err := os.ReadFile(filepath.Join(pool, "slabs"))
	if err != nil {
		return nil, err
	}
	out := map[slab]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var s slab
		if _, err := fmt.Sscan(line, &s.off, &s.n); err != nil {
			return nil, fmt.Errorf("%s/slabs: %q: %w", pool, line, err)
		}
		out[s] = true
	}
	return out, nil
}

// touchNewSlabs maps the arena and writes a byte into every page of the
// pool's slabs that are not in before: its free buffers, which nobody
// reads, so that the memfd holds their memory.
func touchNewSlabs(arena, pool string, before map[slab]bool) error {
	now, err := slabs(pool)
	if err != nil {
		return err
	}
	m, err := mapFile(arena, unix.PROT_READ|unix.PROT_WRITE)
	if err != nil {
		return err
	}
	defer unix.Munmap(m)
	for s := range now {
		if before[s] {
			continue
		}
		if s.off+s.n > int64(len(m)) {
			return fmt.Errorf("slab %d+%d past the arena's %d bytes", s.off, s.n, len(m))
		}
		for o := s.off; o < s.off+s.n; o += int64(os.Getpagesize()) {
			m[o] = 1
		}
	}
	// Through FUSE without passthrough the daemon learns of the writes
	// only at msync.
	return unix.Msync(m, unix.MS_SYNC)
}
