package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// goPair measures a figure of Go benchmarks: its pondfs and reference
// benchmarks, in the test binary of the package its id starts with, run
// one right after the other in one process per round, so that they see
// the same machine (Go runs them in source order). The figure's unit is
// the metric read; a metric other than ns/op is a measurement, not a
// timed loop, and runs one iteration.
func goPair(pondfs, ref string) func(b *bench, f *figDef, round int) error {
	return func(b *bench, f *figDef, round int) error {
		pkg, _, _ := strings.Cut(f.id, ".")
		benchtime := b.sized(100, 50)
		if round == 0 {
			b.r.Note("%s: %s against %s, -test.benchtime %dms -test.cpu 2, one process per round", f.id, pondfs, ref, benchtime)
		}
		bt := strconv.Itoa(benchtime) + "ms"
		if f.unit != "ns/op" {
			bt = "1x"
		}
		cmd := exec.Command(filepath.Join(b.cfg.tests, pkg+".test"),
			"-test.run", "^$", "-test.bench", benchPattern(pondfs, ref),
			"-test.benchtime", bt, "-test.count", "1", "-test.cpu", "2", "-test.benchmem")
		cmd.Dir = filepath.Join(b.cfg.src, pkg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %v\n%s", cmd.Args, err, out.String())
		}
		for side, name := range [2]string{pondfs, ref} {
			v, err := parseGoBenchmark(out.String(), name, f.unit)
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", name, err, out.String())
			}
			b.r.Sample(f.id, Side(side), v)
		}
		return nil
	}
}

// benchPattern is the -test.bench pattern that matches names alone. It
// takes one regexp per level of sub-benchmark, so names are either
// top-level benchmarks or sub-benchmarks of one.
func benchPattern(names ...string) string {
	var tops, subs []string
	for _, name := range names {
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
	return pattern
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
