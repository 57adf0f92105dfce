package main

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMet(t *testing.T) {
	for _, tc := range []struct {
		goal     string
		v, ratio float64
		want     bool
	}{
		{"<=1.5x", 100, 1.5, true},
		{"<=1.5x", 1, 1.51, false},
		{">=0.95x", 1, 0.95, true},
		{">=0.95x", 1e9, 0.94, false},
		{"<10", 9.9, 100, true},
		{"<10", 10, 0.1, false},
		{"<=16", 16, 9, true},
		{">=0.9x", 1, math.NaN(), false},
	} {
		if got := met(tc.goal, tc.v, tc.ratio); got != tc.want {
			t.Errorf("met(%q, %v, %v) = %v, want %v", tc.goal, tc.v, tc.ratio, got, tc.want)
		}
	}
}

func TestReportLines(t *testing.T) {
	var raw bytes.Buffer
	r := NewReport(&raw)
	for _, v := range []float64{30, 10, 20} {
		r.Sample("pond.getput.1g.syncpool", Pondfs, v)
	}
	for _, v := range []float64{10, 12, 8} {
		r.Sample("pond.getput.1g.syncpool", Reference, v)
	}
	r.Sample("pond.meta", Pondfs, 16)
	r.NA([]string{"pond.meta", "pond.getput.1g.syncpool"}, "it broke")
	table := r.Table()
	if table[0] != header {
		t.Errorf("header %q", table[0])
	}
	want := "2KiB get+put, 1 goroutine, vs sync.Pool\t20.00\t10.00\tns/op\t2.00\t<=1.5x\tMISSED"
	if table[1] != want {
		t.Errorf("line\n%q, want\n%q", table[1], want)
	}
	var meta string
	for _, l := range table {
		if strings.HasPrefix(l, "metadata per") {
			meta = l
		}
	}
	if !strings.HasSuffix(meta, "\tn/a: it broke") || strings.Count(meta, "\t") != 6 {
		t.Errorf("metadata line %q: want 7 fields ending in the reason", meta)
	}
	if strings.Contains(raw.String(), "na\tpond.getput.1g.syncpool") {
		t.Errorf("a figure with both sides measured was marked n/a:\n%s", raw.String())
	}
	missed, na := 0, 0
	for _, l := range table[1:] {
		status := l[strings.LastIndexByte(l, '\t')+1:]
		switch {
		case status == "MISSED":
			missed++
		case strings.HasPrefix(status, "n/a"):
			na++
		}
	}
	if missed != 1 || na != len(figures)-1 {
		t.Errorf("%d missed, %d n/a; want 1 and %d", missed, na, len(figures)-1)
	}
}

// TestFigureTable checks the table: ids are unique, every figure is
// measured by its own row or named in the also of exactly one row, every
// id an also names is a figure, and a row has one way of measuring.
func TestFigureTable(t *testing.T) {
	rows := map[string]*figDef{}
	for _, f := range figures {
		if rows[f.id] != nil {
			t.Errorf("%s: two rows", f.id)
		}
		rows[f.id] = f
	}
	measuredBy := map[string]int{}
	for _, f := range figures {
		if f.sample != nil && f.measure != nil || f.measure != nil && (f.reps != 0 || f.floor != nil) {
			t.Errorf("%s: both a sample and a measure, or reps or a floor its measure ignores", f.id)
		}
		if !f.measured() {
			continue
		}
		for _, id := range f.ids() {
			if rows[id] == nil {
				t.Errorf("%s: also names %s, no figure", f.id, id)
			}
			measuredBy[id]++
		}
	}
	for _, f := range figures {
		if measuredBy[f.id] != 1 {
			t.Errorf("%s: measured by %d rows, want 1", f.id, measuredBy[f.id])
		}
	}
}

func TestParseGoBenchmark(t *testing.T) {
	out := "goos: linux\nBenchmarkClone/64KiB-2   \t 1000\t  56.28 ns/op\t 1.000 segments\t 0 B/op\t 0 allocs/op\n" +
		"BenchmarkMetaPerBuffer-2 1 17166979 ns/op 16.38 B/buffer 559248 B/op 149 allocs/op\n"
	if v, err := parseGoBenchmark(out, "BenchmarkClone/64KiB", "ns/op"); err != nil || v != 56.28 {
		t.Errorf("Clone/64KiB: %v, %v", v, err)
	}
	if v, err := parseGoBenchmark(out, "BenchmarkMetaPerBuffer", "B/buffer"); err != nil || v != 16.38 {
		t.Errorf("MetaPerBuffer: %v, %v", v, err)
	}
	if _, err := parseGoBenchmark(out, "BenchmarkClone/1KiB", "ns/op"); err == nil {
		t.Error("found a benchmark that is not there")
	}
}

// TestMeasureRound checks one round of a sampled figure: the sides take
// turns in the order sidesFor gives each rep, and each pair is followed
// by a sample of the floor, noted beside the figure.
func TestMeasureRound(t *testing.T) {
	var raw bytes.Buffer
	b := &bench{r: NewReport(&raw)}
	var order []Side
	f := &figDef{id: "tree.stats", unit: "us", reps: 2,
		sample: func(_ *bench, _ *figDef, side Side) (float64, error) {
			order = append(order, side)
			return float64(len(order)), nil
		},
		floor: &floorDef{label: "floor: test", sample: func(*bench, *figDef) (float64, error) { return 7, nil }},
	}
	if err := b.measureRound(f, 1); err != nil {
		t.Fatal(err)
	}
	if want := []Side{Pondfs, Reference, Reference, Pondfs}; !slices.Equal(order, want) {
		t.Errorf("sides %v, want %v", order, want)
	}
	b.r.NoteFloors()
	if want := "# tree.stats floor: test: median 7.000 us of 7.000 7.000, 2.80x the reference's median\n"; !strings.Contains(raw.String(), want) {
		t.Errorf("raw file\n%s\nlacks %q", raw.String(), want)
	}
	f.sample = func(*bench, *figDef, Side) (float64, error) { return 0, errors.New("broke") }
	if err := b.measureRound(f, 0); err == nil || err.Error() != "pondfs: broke" {
		t.Errorf("a failing sample: %v, want pondfs: broke", err)
	}
}
