package fs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTreeLayoutAndModes(t *testing.T) {
	m := mountTree(t, Options{})
	got := strings.Fields(m.sh(t, `find . | sort | while read -r f; do echo "$f:$(stat -c %a "$f")"; done`))
	want := []string{
		".:755",
		"./README:444",
		"./accounts:755", "./accounts/fs:755", "./accounts/fs/limit:644", "./accounts/fs/stats:444",
		"./arena:600",
		"./chains:755", "./chains/new:444",
		"./metrics:444",
		"./netdev:755",
		"./pools:755",
		"./pools/128:755", "./pools/128/buffers:444", "./pools/128/ctl:644", "./pools/128/slabs:444", "./pools/128/stats:444",
		"./pools/2048:755", "./pools/2048/buffers:444", "./pools/2048/ctl:644", "./pools/2048/slabs:444", "./pools/2048/stats:444",
		"./stats:444",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tree:\n got %q\nwant %q", got, want)
	}
}

// statsNames are the names of a stats file, in order.
func statsNames(t *testing.T, text string) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("stats line %q is not \"name value\"", line)
		}
		if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
			t.Fatalf("stats line %q: value is not a decimal integer", line)
		}
		names = append(names, f[0])
	}
	return names
}

func TestStatsNamesAsSpec(t *testing.T) {
	m := mountTree(t, Options{})
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"stats", []string{"pools", "arena_bytes", "buffers", "free", "in_use", "bytes_in_use", "chains", "allocs", "fails", "arena_zero_copy"}},
		{"pools/2048/stats", []string{"buf_size", "buffers", "free", "in_use", "high_water", "min", "max", "grow_by", "allocs", "frees", "fails", "waits", "grows", "shrinks", "injected_fails"}},
		{"accounts/fs/stats", []string{"limit_bytes", "used_bytes", "high_water_bytes", "allocs", "fails", "waits"}},
	} {
		if got := statsNames(t, m.sh(t, "cat "+tc.file)); !slices.Equal(got, tc.want) {
			t.Errorf("%s names:\n got %q\nwant %q", tc.file, got, tc.want)
		}
	}
}

// statValue is the value of name in a stats file's text.
func statValue(t *testing.T, text, name string) uint64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			v, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s in %q", name, text)
	return 0
}

func TestStatsShowThePresentAtEachOpen(t *testing.T) {
	m := mountTree(t, Options{})
	a, err := m.pond.Account(FSAccount)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.pond.Get(a, 100)
	if err != nil {
		t.Fatal(err)
	}
	held := m.sh(t, "cat pools/128/stats")
	m.pond.Put(b)
	back := m.sh(t, "cat pools/128/stats")
	if got := statValue(t, held, "in_use"); got != 1 {
		t.Errorf("in_use while a buffer is held = %d, want 1", got)
	}
	if got := statValue(t, back, "in_use"); got != 0 {
		t.Errorf("in_use after it is put back = %d, want 0", got)
	}
	for _, text := range []string{held, back} {
		if statValue(t, text, "buffers") != statValue(t, text, "free")+statValue(t, text, "in_use") {
			t.Errorf("buffers != free + in_use in\n%s", text)
		}
	}
}

func TestSlabsCoverThePool(t *testing.T) {
	m := mountTree(t, Options{})
	var total uint64
	for _, line := range strings.Split(strings.TrimSpace(m.sh(t, "cat pools/2048/slabs")), "\n") {
		var off, n uint64
		if _, err := fmt.Sscan(line, &off, &n); err != nil {
			t.Fatalf("slabs line %q: %v", line, err)
		}
		if off+n > uint64(m.pond.ArenaBytes()) {
			t.Errorf("slab %q ends past the arena (%d bytes)", line, m.pond.ArenaBytes())
		}
		total += n
	}
	if want := statValue(t, m.sh(t, "cat pools/2048/stats"), "buffers") * 2048; total != want {
		t.Errorf("slabs hold %d bytes, want buffers*2048 = %d", total, want)
	}
}

func TestPoolCtl(t *testing.T) {
	m := mountTree(t, Options{})
	m.sh(t, `printf 'max 900\ngrow_by 32\nmin 100\n' > pools/2048/ctl`)
	st := m.sh(t, "cat pools/2048/stats")
	for name, want := range map[string]uint64{"max": 900, "grow_by": 32, "min": 100, "buffers": 100} {
		if got := statValue(t, st, name); got != want {
			t.Errorf("%s = %d after ctl, want %d", name, got, want)
		}
	}
	m.sh(t, `echo "min 0" > pools/2048/ctl && echo shrink > pools/2048/ctl`)
	if got := statValue(t, m.sh(t, "cat pools/2048/stats"), "buffers"); got != 0 {
		t.Errorf("buffers after min 0 and shrink = %d, want 0", got)
	}
}

func TestCtlOutcomeOnTheSameDescriptor(t *testing.T) {
	m := mountTree(t, Options{})
	out := m.sh(t, `exec 3<>pools/128/ctl; echo "max 500" >&3; read -r a <&3; echo "min nope" >&3 2>/dev/null; read -r b <&3; echo "$a|$b"`)
	a, b, _ := strings.Cut(strings.TrimSpace(out), "|")
	if a != "ok" {
		t.Errorf("outcome after max 500 = %q, want ok", a)
	}
	if !strings.HasPrefix(b, "error: ") || !strings.Contains(b, "nope") {
		t.Errorf("outcome after a bad command = %q, want error: <reason>", b)
	}
}

func TestCtlStopsAtTheFirstFailingLine(t *testing.T) {
	m := mountTree(t, Options{})
	// One write(2) of three lines: cat writes a small regular file whole.
	out, err := m.try(`f=$(mktemp) && printf 'max 700\nfrob\nmax 800\n' > "$f" && cat "$f" > pools/128/ctl; rc=$?; rm -f "$f"; exit $rc`)
	if err == nil || !strings.Contains(out, "Invalid argument") {
		t.Errorf("bad line: err %v, output %q; want EINVAL", err, out)
	}
	if got := statValue(t, m.sh(t, "cat pools/128/stats"), "max"); got != 700 {
		t.Errorf("max = %d, want 700 (the line before the bad one done, the one after not)", got)
	}
}

func TestAccountLimitRoundTrip(t *testing.T) {
	m := mountTree(t, Options{})
	if got := strings.TrimSpace(m.sh(t, "echo 1MiB > accounts/fs/limit && cat accounts/fs/limit")); got != "1048576" {
		t.Errorf("limit after writing 1MiB reads %q", got)
	}
	if got := statValue(t, m.sh(t, "cat accounts/fs/stats"), "limit_bytes"); got != 1<<20 {
		t.Errorf("limit_bytes = %d, want %d", got, 1<<20)
	}
	if out, err := m.try("echo -5 > accounts/fs/limit"); err == nil || !strings.Contains(out, "Invalid argument") {
		t.Errorf("negative limit: err %v, output %q; want EINVAL", err, out)
	}
}

func TestAccountsAppearAsTheyAreMade(t *testing.T) {
	m := mountTree(t, Options{})
	m.sh(t, "ls accounts") // the directory is known before the account is made
	if _, err := m.pond.NewAccount("rx.tap0", 1<<20); err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(m.sh(t, "ls accounts")); !slices.Equal(got, []string{"fs", "rx.tap0"}) {
		t.Errorf("accounts = %q, want fs and rx.tap0", got)
	}
	if got := strings.TrimSpace(m.sh(t, "cat accounts/rx.tap0/limit")); got != "1048576" {
		t.Errorf("rx.tap0 limit = %q", got)
	}
	if _, err := m.try("cat accounts/nope/stats"); err == nil {
		t.Error("an account that does not exist could be read")
	}
}

func TestRefusedOperations(t *testing.T) {
	m := mountTree(t, Options{})
	for _, tc := range []struct{ script, want string }{
		{"echo x > stats", "Permission denied"},
		{"echo x > metrics", "Permission denied"},
		{"echo x > README", "Permission denied"},
		{"echo x > pools/128/slabs", "Permission denied"},
		{"echo x > accounts/fs/stats", "Permission denied"},
		{"truncate -s 0 arena", "Operation not permitted"},
		{"chmod 666 pools/128/ctl", "Operation not permitted"},
		{"echo 'min' > pools/128/ctl", "Invalid argument"},
		{"echo 'grow_by 0' > pools/128/ctl", "Invalid argument"},
		{"echo 'max -1' > pools/128/ctl", "Invalid argument"},
		{"echo 'max 9223372036854775807' > pools/2048/ctl", "Invalid argument"},
		{"echo 'min 4611686018427387904' > pools/2048/ctl", "Invalid argument"},
		{"echo 'max 8193' > pools/2048/ctl", "Invalid argument"},
		{"cat pools/4096/stats", "No such file"},
	} {
		before := len(m.log.lines())
		out, err := m.try(tc.script)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%s: err %v, output %q; want %s", tc.script, err, out, tc.want)
		}
		if tc.want == "No such file" {
			continue // a lookup of a missing name is the kernel asking; not logged
		}
		if logged := len(m.log.lines()) - before; logged != 1 {
			t.Errorf("%s: logged %d lines, want 1: %q", tc.script, logged, m.log.lines()[before:])
		}
	}
}
