package fs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pondfs/pondfs/pond"
	"github.com/pondfs/pondfs/pond/stats"
)

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"$`)
)

// parseExposition is a strict reader of the Prometheus text format as
// pondfs writes it: HELP and TYPE once per name and before its samples,
// each family's samples together, counters named _total, no series twice,
// a newline at the end. It returns each series' value by "name{labels}".
func parseExposition(text string) (map[string]float64, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("no final newline")
	}
	series := map[string]float64{}
	help, typ, done := map[string]bool{}, map[string]string{}, map[string]bool{}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		bad := func(format string, a ...any) error {
			return fmt.Errorf("line %d %q: %s", i+1, line, fmt.Sprintf(format, a...))
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kind, rest, _ := strings.Cut(rest, " ")
			name, arg, _ := strings.Cut(rest, " ")
			switch {
			case !metricName.MatchString(name):
				return nil, bad("bad metric name")
			case kind == "HELP" && (help[name] || arg == ""):
				return nil, bad("HELP twice or empty")
			case kind == "HELP":
				help[name] = true
			case kind == "TYPE" && typ[name] != "":
				return nil, bad("TYPE twice")
			case kind == "TYPE" && arg != "counter" && arg != "gauge":
				return nil, bad("type %q", arg)
			case kind == "TYPE" && (arg == "counter") != strings.HasSuffix(name, "_total"):
				return nil, bad("counters, and only they, end in _total")
			case kind == "TYPE" && done[name]:
				return nil, bad("TYPE after samples")
			case kind == "TYPE":
				typ[name] = arg
			default:
				return nil, bad("unknown comment")
			}
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			return nil, bad("not a sample")
		}
		name, labels, value := m[1], m[2], m[3]
		if typ[name] == "" || !help[name] {
			return nil, bad("sample without HELP and TYPE")
		}
		if name != current && done[name] {
			return nil, bad("family %s split", name)
		}
		current, done[name] = name, true
		if labels != "" {
			for _, pair := range strings.Split(strings.Trim(labels, "{}"), ",") {
				if !labelPair.MatchString(pair) {
					return nil, bad("bad label %q", pair)
				}
			}
		}
		if _, dup := series[name+labels]; dup {
			return nil, bad("series twice")
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, bad("value: %v", err)
		}
		series[name+labels] = v
	}
	return series, nil
}

func TestMetricsParseStrictly(t *testing.T) {
	p := newPond(t)
	if _, err := p.NewAccount(`odd "name" \ here`, 4096); err != nil {
		t.Fatal(err)
	}
	tree, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := string(tree.metrics())
	series, err := parseExposition(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for name, want := range map[string]float64{
		`pond_pools`:                                               2,
		`pond_chains`:                                              0,
		`pond_pool_buffers{size="128"}`:                            float64(pond.DefaultClass(128).Min),
		`pond_pool_max{size="2048"}`:                               1024,
		`pond_pool_allocs_total{size="2048"}`:                      0,
		`pond_account_limit_bytes{account="fs"}`:                   float64(p.ArenaMax() / 2),
		`pond_account_limit_bytes{account="odd \"name\" \\ here"}`: 4096,
	} {
		if got, ok := series[name]; !ok || got != want {
			t.Errorf("%s = %v (present %t), want %v", name, got, ok, want)
		}
	}
	for _, g := range tree.metricGroups() {
		for _, f := range firstFields(g) {
			if f.Help == "" {
				t.Errorf("%s%s has no HELP text of its own", g.prefix, f.Name)
			}
		}
	}
}

func TestParseExpositionRefuses(t *testing.T) {
	for _, text := range []string{
		"# HELP a x\n# TYPE a gauge\na 1",               // no final newline
		"# HELP a x\n# TYPE a counter\na 1\n",           // counter without _total
		"# HELP a x\n# TYPE a gauge\n# HELP a y\na 1\n", // HELP twice
		"a 1\n", // no HELP or TYPE
		"# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na 2\n", // split family
		"# HELP a x\n# TYPE a gauge\na{l=\"1\"} 1\na{l=\"1\"} 2\n",                // series twice
		"# HELP a x\n# TYPE a gauge\na{l=1} 1\n",                                  // unquoted label
	} {
		if _, err := parseExposition(text); err == nil {
			t.Errorf("accepted %q", text)
		}
	}
}

func TestStatsRenderAndWindow(t *testing.T) {
	got := string(renderStats([]stats.Field{{Name: "a", Value: 1}, {Name: "b_c", Value: 18446744073709551615}}))
	if want := "a 1\nb_c 18446744073709551615\n"; got != want {
		t.Errorf("renderStats = %q, want %q", got, want)
	}
	data := []byte("hello\n")
	for _, tc := range []struct {
		off  int64
		n    int
		want string
	}{{0, 100, "hello\n"}, {2, 2, "ll"}, {6, 10, ""}, {99, 1, ""}, {-1, 1, ""}} {
		if got := string(window(data, tc.off, tc.n)); got != tc.want {
			t.Errorf("window(%d, %d) = %q, want %q", tc.off, tc.n, got, tc.want)
		}
	}
}
