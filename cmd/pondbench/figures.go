package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// figDef is one line of the table and the function that measures it.
// Adding a figure is a row here and its function.
type figDef struct {
	id, name, unit string
	// goal: an operator (<=, >=, <, >) and a number, with an "x" suffix
	// when it bounds the ratio (pondfs / reference), without one when it
	// bounds the pondfs value itself in the figure's unit.
	goal  string
	setup *setup // what it needs running first, shared with its neighbours; nil: nothing
	size  int    // the frame size of a device figure
	// sample takes one sample of one side. A round takes reps samples of
	// each side (one when 0), the sides taking turns (see sidesFor), and
	// then, when floor is set, one sample of the floor noted beside it.
	sample func(b *bench, f *figDef, side Side) (float64, error)
	reps   int
	floor  *floorDef
	// measure, for a figure whose sides come from one measurement, takes
	// a whole round of samples itself, of f and of the figures in also.
	measure func(b *bench, f *figDef, round int) error
	also    []string // other figures its sample or measure records
	once    bool     // measured in the first round only
}

// floorDef is what the raw file notes beside a figure: the least a
// program of its kind pays, measured the way the reference is.
type floorDef struct {
	label  string
	sample func(b *bench, f *figDef) (float64, error)
}

// figures is every line of the table, in order.
var figures = []*figDef{
	// pond: Go benchmarks of the get/put path (pond/bench_test.go).
	{id: "pond.getput.1g.syncpool", name: "2KiB get+put, 1 goroutine, vs sync.Pool", unit: "ns/op", goal: "<=1.5x", measure: goPair("BenchmarkGetPut2K", "BenchmarkRefSyncPool2K")},
	{id: "pond.getput.2g.syncpool", name: "2KiB get+put, 2 goroutines, vs sync.Pool", unit: "ns/op", goal: "<=1.5x", measure: goPair("BenchmarkGetPut2KParallel", "BenchmarkRefSyncPool2KParallel")},
	{id: "pond.getput.1g.mutex", name: "2KiB get+put, 1 goroutine, vs a mutex free list", unit: "ns/op", goal: "<=1.5x", measure: goPair("BenchmarkGetPut2K", "BenchmarkRefMutexFreeList2K")},
	{id: "pond.getput.2g.mutex", name: "2KiB get+put, 2 goroutines, vs a mutex free list", unit: "ns/op", goal: "<=1.5x", measure: goPair("BenchmarkGetPut2KParallel", "BenchmarkRefMutexFreeList2KParallel")},
	{id: "pond.meta", name: "metadata per 2KiB buffer, vs sync.Pool's", unit: "B/buffer", goal: "<=16", measure: goPair("BenchmarkMetaPerBuffer", "BenchmarkRefMetaSyncPool")},

	// chain: Go benchmarks (chain/bench_test.go).
	{id: "chain.frame1500", name: "1500-byte frame built in a chain and freed, vs make+copy", unit: "ns/op", goal: "<=1.2x", measure: goPair("BenchmarkFrame1500", "BenchmarkRefMakeCopy1500")},
	{id: "chain.prepend14", name: "prepend a 14-byte header, vs copying 14 bytes", unit: "ns/op", goal: "<10", measure: goPair("BenchmarkPrependHeader", "BenchmarkRefPrependCopy14")},
	{id: "chain.clone", name: "clone of a 64KiB chain, vs of a 1KiB chain", unit: "ns/op", goal: "<=1.2x", measure: goPair("BenchmarkClone/64KiB", "BenchmarkClone/1KiB")},
	{id: "chain.split", name: "split and rejoin of a 64KiB chain, vs of a 1KiB chain", unit: "ns/op", goal: "<=1.2x", measure: goPair("BenchmarkSplit/64KiB", "BenchmarkSplit/1KiB")},

	// netdev: a Port on a TAP against plain read()/write() loops.
	{id: "dev.rx.drain.64", name: "TAP receive into the pond, 64B, draining a full queue, vs read() loop", unit: "frames/s", goal: ">=0.95x", setup: devices, size: 64, sample: rxDrainSample, reps: drainReps, floor: drainFloor},
	{id: "dev.rx.drain.1514", name: "TAP receive into the pond, 1514B, draining a full queue, vs read() loop", unit: "frames/s", goal: ">=0.95x", setup: devices, size: 1514, sample: rxDrainSample, reps: drainReps, floor: drainFloor},
	{id: "dev.rx.live.64", name: "TAP receive into the pond, 64B, live kernel sender, vs read() loop", unit: "frames/s", goal: ">=0.95x", setup: devices, size: 64, sample: rxLiveSample, also: []string{"dev.rx.cpu.64"}},
	{id: "dev.rx.live.1514", name: "TAP receive into the pond, 1514B, live kernel sender, vs read() loop", unit: "frames/s", goal: ">=0.95x", setup: devices, size: 1514, sample: rxLiveSample, also: []string{"dev.rx.cpu.1514"}},
	{id: "dev.rx.cpu.64", name: "CPU per frame received into the pond, 64B, live sender, vs read() loop", unit: "us/frame", goal: "<=1.05x", setup: devices},
	{id: "dev.rx.cpu.1514", name: "CPU per frame received into the pond, 1514B, live sender, vs read() loop", unit: "us/frame", goal: "<=1.05x", setup: devices},
	{id: "dev.tx.64", name: "TAP send from chains (Port.Send, writev), 64B, vs write() loop", unit: "frames/s", goal: ">=0.95x", setup: devices, size: 64, sample: txSample, floor: txOneBuffer},
	{id: "dev.tx.1514", name: "TAP send from chains (Port.Send, writev), 1514B, vs write() loop", unit: "frames/s", goal: ">=0.95x", setup: devices, size: 1514, sample: txSample, floor: txOneBuffer},

	// Rings: this process, and a Python program, through pondd's rings.
	{id: "ring.rx.64", name: "receive ring drained by a Go program, 64B, fed by a full TAP queue, vs read() loop", unit: "frames/s", goal: ">=0.9x", setup: rings, size: 64, measure: ringRxFigure},
	{id: "ring.rx.1514", name: "receive ring drained by a Go program, 1514B, fed by a full TAP queue, vs read() loop", unit: "frames/s", goal: ">=0.9x", setup: rings, size: 1514, measure: ringRxFigure},
	{id: "ring.tx.64", name: "transmit ring, 64 frames produced a store, kicked from a 2nd goroutine, 64B, vs write() loop", unit: "frames/s", goal: ">=0.9x", setup: rings, size: 64, measure: ringTxFigure},
	{id: "ring.tx.1514", name: "transmit ring, 64 frames produced a store, kicked from a 2nd goroutine, 1514B, vs write() loop", unit: "frames/s", goal: ">=0.9x", setup: rings, size: 1514, measure: ringTxFigure},
	{id: "ring.py.rx", name: "Python consuming received frames through a receive ring, vs through rx/<seq>/data + rmdir", unit: "frames/s", goal: ">=50x", setup: rings, measure: ringPyFigure},

	// The mounted tree, driven by this process; pondd serves it.
	{id: "tree.inject.64", name: "netdev/IF/inject of a pcap stream, 64B frames, vs write() loop", unit: "frames/s", goal: ">=0.9x", setup: tree, size: 64, sample: injectSample},
	{id: "tree.inject.1514", name: "netdev/IF/inject of a pcap stream, 1514B frames, vs write() loop", unit: "frames/s", goal: ">=0.9x", setup: tree, size: 1514, sample: injectSample},
	{id: "tree.tx.64", name: "netdev/IF/tx, one write(2) per 64B frame, vs the same to a go-fuse file that keeps the bytes", unit: "frames/s", goal: ">=0.9x", setup: tree, size: 64, sample: txFileSample},
	{id: "tree.tx.1514", name: "netdev/IF/tx, one write(2) per 1514B frame, vs the same to a go-fuse file that keeps the bytes", unit: "frames/s", goal: ">=0.9x", setup: tree, size: 1514, sample: txFileSample},

	{id: "tree.arena", name: "read 64MiB through an mmap of arena, vs the memfd mapped directly", unit: "MB/s", goal: ">=0.9x", setup: tree, sample: arenaSample, reps: shortReps},
	{id: "tree.data.write", name: "chains/ID/data, sequential write of 64MiB, vs a go-fuse in-memory file", unit: "MB/s", goal: ">=0.8x", setup: tree, sample: dataSample, reps: shortReps},
	{id: "tree.data.read", name: "chains/ID/data, sequential read of 64MiB, vs a go-fuse in-memory file", unit: "MB/s", goal: ">=0.8x", setup: tree, sample: dataSample, reps: shortReps},
	{id: "tree.stats", name: "cat stats (open, read, close), vs a small go-fuse in-memory file", unit: "us", goal: "<=1.2x", setup: tree, sample: statsSample, reps: shortReps},
	{id: "tree.ls.10k", name: "ls chains/ with 10k chains, per chain, vs with 1k", unit: "us/chain", goal: "<=1.5x", measure: lsFigures, once: true, also: []string{"tree.ls.100k", "tree.ls.100k.total"}},
	{id: "tree.ls.100k", name: "ls chains/ with 100k chains, per chain, vs with 1k", unit: "us/chain", goal: "<=1.5x"},
	{id: "tree.ls.100k.total", name: "ls chains/ with 100k chains, whole listing, vs 100x the 1k listing", unit: "s", goal: "<=1"},
	{id: "tree.rss", name: "resident memory of an idle pondd, vs an idle go-fuse in-memory mount", unit: "MiB", goal: "<=30", sample: rssSample},
	{id: "tree.shrink", name: "memory returned by shrink, vs memory the pool grew by", unit: "MiB", goal: ">=0.9x", measure: shrinkFigure},
}

// shortReps is how many samples of each side a round takes of the
// figures whose samples take a fraction of a second: the more often the
// two sides take turns, the more alike the load on the machine they see.
const shortReps = 2

// setup is what some figures need running while they are measured:
// devices, daemons. up starts it in b, pushing onto u what undoes each
// step; u runs when the figures are done, or when up fails.
type setup struct {
	name string
	up   func(b *bench, u *undo) error
}

// undo is a stack of what undoes the steps of a setup.
type undo []func() error

// push adds fn, to run before everything pushed so far.
func (u *undo) push(fn func() error) { *u = append(*u, fn) }

// run runs every step, the last pushed first, and joins their errors.
func (u undo) run() error {
	var err error
	for i := len(u) - 1; i >= 0; i-- {
		err = errors.Join(err, u[i]())
	}
	return err
}

// bench is what measure functions share: the run's configuration and
// report, and what the current setup started.
type bench struct {
	ctx  context.Context
	cfg  runConfig
	r    *Report
	dir  string // a temporary directory for mounts
	dev  devState
	fs   treeState
	ring ringState
}

// ids is the figure's id and those its measure samples too.
func (f *figDef) ids() []string { return append([]string{f.id}, f.also...) }

// measured reports whether f's own row measures it.
func (f *figDef) measured() bool { return f.sample != nil || f.measure != nil }

// measureAll measures every figure asked for, the figures of one setup
// together, round after round; a figure that fails twice, or whose setup
// fails, is marked n/a with its error.
func measureAll(ctx context.Context, r *Report, cfg runConfig) error {
	dir, err := os.MkdirTemp("", "pondbench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{ctx: ctx, cfg: cfg, r: r, dir: dir}
	for i := 0; i < len(figures); {
		j := i + 1
		for j < len(figures) && figures[j].setup == figures[i].setup {
			j++
		}
		b.measureGroup(figures[i:j])
		i = j
	}
	r.NoteFloors()
	return nil
}

// measureGroup measures figures, which share one setup.
func (b *bench) measureGroup(figs []*figDef) {
	var todo []*figDef
	for _, f := range figs {
		if !b.cfg.want(f.id) {
			b.r.NA([]string{f.id}, "not asked for (--only)")
		}
		if f.measured() && slices.ContainsFunc(f.ids(), b.cfg.want) {
			todo = append(todo, f)
		}
	}
	if len(todo) == 0 {
		return
	}
	if s := figs[0].setup; s != nil {
		start := time.Now()
		fmt.Fprintf(os.Stderr, "pondbench: %s figures ...\n", s.name)
		var u undo
		defer func() {
			if err := u.run(); err != nil {
				b.note("%s: %v", s.name, err)
			}
			b.r.Note("%s figures took %v", s.name, time.Since(start).Round(time.Millisecond))
		}()
		if err := s.up(b, &u); err != nil {
			b.failAll(todo, fmt.Errorf("%s: %w", s.name, err))
			return
		}
	}
	failures := map[*figDef]int{}
	for round := range b.cfg.rounds {
		for _, f := range todo {
			if b.ctx.Err() != nil || failures[f] >= 2 || f.once && round > 0 {
				continue
			}
			if err := b.measureRound(f, round); err != nil {
				failures[f]++
				b.note("%s: %v", f.id, err)
				b.r.NA(f.ids(), err.Error())
			}
		}
	}
	if err := b.ctx.Err(); err != nil {
		b.failAll(todo, err)
	}
}

// measureRound takes one round's samples of f: its sides in turn, reps
// times, each pair followed by its floor.
func (b *bench) measureRound(f *figDef, round int) error {
	if f.measure != nil {
		return f.measure(b, f, round)
	}
	for rep := range max(f.reps, 1) {
		err := b.eachSide(f, round*max(f.reps, 1)+rep, func(side Side) (float64, error) { return f.sample(b, f, side) })
		if err != nil {
			return err
		}
		if f.floor == nil {
			continue
		}
		if v, err := f.floor.sample(b, f); err != nil {
			b.r.Note("%s floor: %v", f.id, err)
		} else {
			b.r.Floor(f.id, f.floor.label, "", v)
		}
	}
	return nil
}

// note tells both stderr and the raw file.
func (b *bench) note(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pondbench: "+format+"\n", args...)
	b.r.Note(format, args...)
}

// failAll marks every figure of figs not fully measured n/a for err.
func (b *bench) failAll(figs []*figDef, err error) {
	fmt.Fprintf(os.Stderr, "pondbench: %v\n", err)
	for _, f := range figs {
		b.r.NA(f.ids(), err.Error())
	}
}

// sidesFor is the order of the two sides in a round: pondfs first in even
// rounds, the reference first in odd ones, so that neither always runs on
// a machine warmed (or disturbed) by the other.
func sidesFor(round int) []Side {
	if round%2 == 0 {
		return []Side{Pondfs, Reference}
	}
	return []Side{Reference, Pondfs}
}

// eachSide takes one sample of each of f's sides with sample, in the
// order of round.
func (b *bench) eachSide(f *figDef, round int, sample func(Side) (float64, error)) error {
	for _, side := range sidesFor(round) {
		v, err := sample(side)
		if err != nil {
			return fmt.Errorf("%s: %w", side, err)
		}
		b.r.Sample(f.id, side, v)
	}
	return nil
}

// sized is n for a full run and quickN for a quick one.
func (b *bench) sized(n, quickN int) int {
	if b.cfg.quick {
		return quickN
	}
	return n
}
