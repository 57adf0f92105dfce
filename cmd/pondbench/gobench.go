package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// goBenchmark is one Go benchmark the Go figures sample: run as its
// package's test binary with -test.bench matching it alone.
type goBenchmark struct {
	pkg    string // package directory and test binary name (pkg.test)
	name   string // full name, e.g. BenchmarkClone/64KiB
	metric string // the unit whose value is the sample: ns/op, B/buffer
	// once: a measurement, not a timed loop: run one iteration.
	once bool
}

var goBenchmarks = map[string]goBenchmark{}

func init() {
	for _, b := range []goBenchmark{
		{pkg: "pond", name: "BenchmarkGetPut2K", metric: "ns/op"},
		{pkg: "pond", name: "BenchmarkRefSyncPool2K", metric: "ns/op"},
		{pkg: "pond", name: "BenchmarkRefMutexFreeList2K", metric: "ns/op"},
		{pkg: "pond", name: "BenchmarkGetPut2KParallel", metric: "ns/op"},
		{pkg: "pond", name: "BenchmarkRefSyncPool2KParallel", metric: "ns/op"},
		{pkg: "pond", name: "BenchmarkRefMutexFreeList2KParallel", metric: "ns/op"},
		{pkg: "pond", name: "BenchmarkMetaPerBuffer", metric: "B/buffer", once: true},
		{pkg: "pond", name: "BenchmarkRefMetaSyncPool", metric: "B/buffer", once: true},
		{pkg: "chain", name: "BenchmarkFrame1500", metric: "ns/op"},
		{pkg: "chain", name: "BenchmarkRefMakeCopy1500", metric: "ns/op"},
		{pkg: "chain", name: "BenchmarkPrependHeader", metric: "ns/op"},
		{pkg: "chain", name: "BenchmarkRefPrependCopy14", metric: "ns/op"},
		{pkg: "chain", name: "BenchmarkClone/64KiB", metric: "ns/op"},
		{pkg: "chain", name: "BenchmarkClone/1KiB", metric: "ns/op"},
		{pkg: "chain", name: "BenchmarkSplit/64KiB", metric: "ns/op"},
		{pkg: "chain", name: "BenchmarkSplit/1KiB", metric: "ns/op"},
	} {
		goBenchmarks[b.name] = b
	}
}

// goFigures are the figures of Go benchmarks; each group's benchmarks
// run one after another in each round, in an order that flips every round.
var goFigures = []struct {
	id, pondfs, ref string
}{
	{"pond.getput.1g.syncpool", "BenchmarkGetPut2K", "BenchmarkRefSyncPool2K"},
	{"pond.getput.1g.mutex", "BenchmarkGetPut2K", "BenchmarkRefMutexFreeList2K"},
	{"pond.getput.2g.syncpool", "BenchmarkGetPut2KParallel", "BenchmarkRefSyncPool2KParallel"},
	{"pond.getput.2g.mutex", "BenchmarkGetPut2KParallel", "BenchmarkRefMutexFreeList2KParallel"},
	{"pond.meta", "BenchmarkMetaPerBuffer", "BenchmarkRefMetaSyncPool"},
	{"chain.frame1500", "BenchmarkFrame1500", "BenchmarkRefMakeCopy1500"},
	{"chain.prepend14", "BenchmarkPrependHeader", "BenchmarkRefPrependCopy14"},
	{"chain.clone", "BenchmarkClone/64KiB", "BenchmarkClone/1KiB"},
	{"chain.split", "BenchmarkSplit/64KiB", "BenchmarkSplit/1KiB"},
}

// goGroups are the benchmarks run together, in one process of their
// package's test binary per round: the two sides of a figure run one
// right after the other, in the same process, so that they see the same
// machine. (Go runs them in source order; the groups' order flips every
// round.)
var goGroups = [][]string{
	{"BenchmarkGetPut2K", "BenchmarkRefSyncPool2K", "BenchmarkRefMutexFreeList2K"},
	{"BenchmarkGetPut2KParallel", "BenchmarkRefSyncPool2KParallel", "BenchmarkRefMutexFreeList2KParallel"},
	{"BenchmarkMetaPerBuffer", "BenchmarkRefMetaSyncPool"},
	{"BenchmarkFrame1500", "BenchmarkRefMakeCopy1500"},
	{"BenchmarkPrependHeader", "BenchmarkRefPrependCopy14"},
	{"BenchmarkClone/1KiB", "BenchmarkClone/64KiB"},
	{"BenchmarkSplit/1KiB", "BenchmarkSplit/64KiB"},
}

// goBench runs every group of Go benchmarks once per round and records
// each figure's two sides.
func goBench(ctx context.Context, r *Report, cfg runConfig) error {
	benchtime := "100ms"
	if cfg.quick {
		benchtime = "50ms"
	}
	r.Note("go benchmarks: -test.benchtime %s -test.cpu 2, one process per group per round", benchtime)
	var groups [][]string
	for _, g := range goGroups {
		for _, f := range goFigures {
			if cfg.want(f.id) && (slices.Contains(g, f.pondfs) || slices.Contains(g, f.ref)) {
				groups = append(groups, g)
				break
			}
		}
	}
	for round := range cfg.rounds {
		order := slices.Clone(groups)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		results := map[string]float64{}
		for _, g := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := runGoGroup(cfg, g, benchtime, results); err != nil {
				return err
			}
		}
		for _, f := range goFigures {
			if !cfg.want(f.id) {
				continue
			}
			r.Sample(f.id, Pondfs, results[f.pondfs])
			r.Sample(f.id, Reference, results[f.ref])
		}
	}
	return nil
}

// runGoGroup runs the benchmarks of one group in their package's test
// binary and adds the value of each one's metric to results.
func runGoGroup(cfg runConfig, group []string, benchtime string, results map[string]float64) error {
	b0 := goBenchmarks[group[0]]
	if b0.once {
		benchtime = "1x"
	}
	// -test.bench takes one regexp per level of sub-benchmark; a group is
	// either top-level benchmarks or sub-benchmarks of one.
	var tops, subs []string
	for _, name := range group {
		top, sub, _ := strings.Cut(name, "/")
		if !slices.Contains(tops, regexp.QuoteMeta(top)) {
			tops = append(tops, regexp.QuoteMeta(top))
		}
		if sub != "" {
			subs = append(subs, regexp.QuoteMeta(sub))
		}
	}
	pattern := "^(" + strings.Join(tops, "|") + ")$"
	if len(subs) > 0 {
		pattern += "/^(" + strings.Join(subs, "|") + ")$"
	}
	cmd := exec.Command(filepath.Join(cfg.tests, b0.pkg+".test"),
		"-test.run", "^$", "-test.bench", pattern,
		"-test.benchtime", benchtime, "-test.count", "1", "-test.cpu", "2", "-test.benchmem")
	cmd.Dir = filepath.Join(cfg.src, b0.pkg)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", b0.pkg, pattern, err, out.String())
	}
	for _, name := range group {
		v, err := parseGoBenchmark(out.String(), name, goBenchmarks[name].metric)
		if err != nil {
			return fmt.Errorf("%s %s: %w\n%s", b0.pkg, name, err, out.String())
		}
		results[name] = v
	}
	return nil
}

// parseGoBenchmark finds the result line of benchmark name in go test's
// output and returns the value given in unit.
func parseGoBenchmark(out, name, unit string) (float64, error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || trimProcs(f[0]) != name {
			continue
		}
		// name, iterations, then value-unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			if f[i+1] == unit {
				return strconv.ParseFloat(f[i], 64)
			}
		}
		return 0, fmt.Errorf("no %s in %q", unit, line)
	}
	return 0, fmt.Errorf("no result line for %s", name)
}

// trimProcs drops the -GOMAXPROCS suffix go test adds to a benchmark name.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}
