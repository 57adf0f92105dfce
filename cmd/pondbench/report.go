package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Side is which of a figure's two measurements a sample belongs to.
type Side int

// The two sides of every figure: pondfs, and the reference it is compared
// with, measured in the same run, alternately.
const (
	Pondfs Side = iota
	Reference
)

func (s Side) String() string {
	if s == Pondfs {
		return "pondfs"
	}
	return "reference"
}

// figure is one line of the table: a pondfs measurement beside its
// reference. ratio is always pondfs / reference in the figure's unit, so
// it reads "how pondfs compares"; the goal says which way is good.
type figure struct {
	*figDef
	samples [2][]float64
	na      string // why the figure could not be measured, if it could not
}

// Report collects the samples of every figure and writes each, as it
// comes, to the raw log. The harness's goroutine alone uses it.
type Report struct {
	figs   []*figure
	byID   map[string]*figure
	raw    io.Writer
	floors []*floor
}

// floor is a series of measurements noted beside a figure, not part of
// it: what the least of its kind costs, or a daemon's own CPU time.
type floor struct {
	fig         *figure
	label, unit string
	v           []float64
}

// NewReport makes a report of the figures in figures, in that order,
// logging raw samples to raw.
func NewReport(raw io.Writer) *Report {
	r := &Report{byID: map[string]*figure{}, raw: raw}
	for _, d := range figures {
		f := &figure{figDef: d}
		r.figs = append(r.figs, f)
		r.byID[d.id] = f
		fmt.Fprintf(raw, "figure\t%s\t%s\t%s\t%s\n", d.id, d.name, d.unit, d.goal)
	}
	return r
}

func (r *Report) fig(id string) *figure {
	f, ok := r.byID[id]
	if !ok {
		panic("pondbench: no figure " + id)
	}
	return f
}

// Sample records one measurement of figure id's side.
func (r *Report) Sample(id string, side Side, v float64) {
	f := r.fig(id)
	f.samples[side] = append(f.samples[side], v)
	fmt.Fprintf(r.raw, "sample\t%s\t%s\t%d\t%s\t%s\n", id, side, len(f.samples[side]), fmtNum(v), f.unit)
}

// NA marks each figure of ids that lacks samples of either side as not
// measured, for reason; a figure with both keeps them.
func (r *Report) NA(ids []string, reason string) {
	for _, id := range ids {
		f := r.fig(id)
		if len(f.samples[Pondfs]) > 0 && len(f.samples[Reference]) > 0 {
			continue
		}
		if f.na == "" {
			f.na = reason
		}
		fmt.Fprintf(r.raw, "na\t%s\t%s\n", id, reason)
	}
}

// Note writes a comment line to the raw log.
func (r *Report) Note(format string, args ...any) {
	fmt.Fprintf(r.raw, "# "+format+"\n", args...)
}

// Floor adds v to the series label noted beside figure id; unit "" is
// the figure's own, and the note then gives the series' median against
// the reference's.
func (r *Report) Floor(id, label, unit string, v float64) {
	fig := r.fig(id)
	i := slices.IndexFunc(r.floors, func(f *floor) bool { return f.fig == fig && f.label == label })
	if i < 0 {
		i = len(r.floors)
		r.floors = append(r.floors, &floor{fig: fig, label: label, unit: unit})
	}
	r.floors[i].v = append(r.floors[i].v, v)
}

// NoteFloors writes every floor series to the raw log.
func (r *Report) NoteFloors() {
	for _, f := range r.floors {
		vs := make([]string, len(f.v))
		for i, v := range f.v {
			vs[i] = fmtNum(v)
		}
		line := fmt.Sprintf("%s %s: median %s %s of %s", f.fig.id, f.label, fmtNum(median(f.v)), cmp.Or(f.unit, f.fig.unit), strings.Join(vs, " "))
		if ref := f.fig.samples[Reference]; f.unit == "" && len(ref) > 0 {
			line += fmt.Sprintf(", %.2fx the reference's median", median(f.v)/median(ref))
		}
		r.Note("%s", line)
	}
}

// header is the table's first line.
const header = "figure\tpondfs\treference\tunit\tratio\tgoal\tmet|MISSED"

// Table returns the table: the header and one tab-separated line per
// figure.
func (r *Report) Table() []string {
	lines := []string{header}
	for _, f := range r.figs {
		lines = append(lines, f.line())
	}
	return lines
}

// line renders one figure.
func (f *figure) line() string {
	p, q := f.samples[Pondfs], f.samples[Reference]
	if len(p) == 0 || len(q) == 0 {
		reason := f.na
		if reason == "" {
			reason = "not measured in this run"
		}
		return strings.Join([]string{f.name, "n/a", "n/a", f.unit, "n/a", f.goal, "n/a: " + reason}, "\t")
	}
	mp, mq := median(p), median(q)
	ratio := math.NaN()
	if mq != 0 {
		ratio = mp / mq
	}
	status := "MISSED"
	if met(f.goal, mp, ratio) {
		status = "met"
	}
	return strings.Join([]string{f.name, fmtNum(mp), fmtNum(mq), f.unit, fmtRatio(ratio), f.goal, status}, "\t")
}

// met reports whether goal holds for a figure whose pondfs median is v
// and whose ratio is ratio.
func met(goal string, v, ratio float64) bool {
	x := v
	if g, ok := strings.CutSuffix(goal, "x"); ok {
		goal, x = g, ratio
	}
	num := strings.TrimLeft(goal, "<>=")
	bound, err := strconv.ParseFloat(num, 64)
	if err != nil {
		panic("pondbench: bad goal " + goal)
	}
	switch strings.TrimSuffix(goal, num) {
	case "<=":
		return x <= bound
	case ">=":
		return x >= bound
	case "<":
		return x < bound
	case ">":
		return x > bound
	}
	panic("pondbench: bad goal " + goal)
}

// median is the middle sample (the mean of the two middle ones for an
// even count).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// fmtNum prints v with three significant digits or more, without
// exponent for the magnitudes the figures have.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 0.01 || a == 0:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// fmtRatio prints a ratio with two decimals.
func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}
