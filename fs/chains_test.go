package fs

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pondfs/pondfs/chain"
)

// mountChains mounts a tree for a chains test. Chains a test leaves in
// chains/ are freed before the unmount, so that a failing test does not
// fail the pond's leak check too; tests that check buffers come back look
// at in_use themselves.
func mountChains(t *testing.T) *mounted {
	t.Helper()
	m := mountTree(t, Options{})
	t.Cleanup(m.tree.FreeChains)
	return m
}

// chainsPy is e2e/lib/chains.py, which drives chains from Python.
func chainsPy(t *testing.T) string {
	t.Helper()
	need(t, python3())
	path, err := filepath.Abs("../e2e/lib/chains.py")
	if err != nil {
		t.Fatal(err)
	}
	return python3() + " " + path
}

// inUse is how many buffers the pond has out.
func (m *mounted) inUse() uint64 { return m.pond.Stats().InUse }

// wantErr runs script, which must fail with an error message containing
// want (the strerror of an errno, as the shell prints it).
func (m *mounted) wantErr(t *testing.T, script, want string) {
	t.Helper()
	out, err := m.try(script)
	if err == nil || !strings.Contains(out, want) {
		t.Errorf("%s: err %v, output %q; want %q", script, err, out, want)
	}
}

func TestChainsNewMakesAChainAtEachRead(t *testing.T) {
	m := mountChains(t)
	if got := m.sh(t, "cat chains/new; cat chains/new; ls chains"); got != "1\n2\n1\n2\nnew\n" {
		t.Errorf("two reads of new, then ls: %q", got)
	}
	// One descriptor reads one id however it reads; an open that never
	// reads, a stat or a listing make nothing.
	got := m.sh(t, `exec 3<chains/new; read -r a <&3; cat <&3; exec 3<&-; exec 4<chains/new; exec 4<&-; stat chains/new >/dev/null; ls chains | wc -l; echo "$a"`)
	if got != "4\n3\n" {
		t.Errorf("one descriptor, an open without read: %q, want 3 chains listed (and new), id 3", got)
	}
	if got := statValue(t, m.sh(t, "cat stats"), "chains"); got != 3 {
		t.Errorf("stats chains = %d, want 3", got)
	}
	m.wantErr(t, "echo x > chains/new", "Permission denied")
}

func TestChainsMkdirNames(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/a chains/Z.9_x-y chains/10 chains/"+strings.Repeat("n", 64))
	for _, tc := range []struct{ name, want string }{
		{".hidden", "Invalid argument"},
		{"sp ace", "Invalid argument"},
		{"semi;colon", "Invalid argument"},
		{"tab\\tname", "Invalid argument"},
		{"ü", "Invalid argument"},
		{strings.Repeat("n", 65), "File name too long"},
		{"a", "File exists"},
		{"new", "File exists"},
	} {
		m.wantErr(t, "mkdir $'chains/"+tc.name+"'", tc.want)
	}
	// new hands out ids the names do not hold.
	for range 10 {
		m.sh(t, "cat chains/new >/dev/null")
	}
	got := strings.Fields(m.sh(t, "ls -f chains"))
	want := []string{"new", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "Z.9_x-y", "a", strings.Repeat("n", 64)}
	if !slices.Equal(got, want) {
		t.Errorf("listing in the directory's order:\n got %q\nwant %q", got, want)
	}
}

func TestChainsRmdirFreesBuffers(t *testing.T) {
	m := mountChains(t)
	before := m.inUse()
	used := func() uint64 { return statValue(t, m.sh(t, "cat accounts/fs/stats"), "used_bytes") }
	m.sh(t, "mkdir chains/c && head -c 100000 /dev/zero > chains/c/data")
	if m.inUse() == before || used() == 0 {
		t.Fatalf("100 kB in a chain took no buffers (in_use %d, fs used_bytes %d)", m.inUse(), used())
	}
	id := strings.TrimSpace(m.sh(t, "exec 3<>chains/c/ctl; echo clone >&3; cat <&3"))
	m.sh(t, "rmdir chains/c")
	if got := m.sh(t, "cat chains/"+id+"/data | wc -c"); strings.TrimSpace(got) != "100000" {
		t.Errorf("the clone after its original went: %s bytes", got)
	}
	if m.inUse() == before {
		t.Error("the clone's shared buffers went back with the original")
	}
	m.sh(t, "rmdir chains/"+id)
	if m.inUse() != before || used() != 0 {
		t.Errorf("after rmdir of both: in_use %d (was %d), fs used_bytes %d", m.inUse(), before, used())
	}
	if got := m.sh(t, "ls chains"); got != "new\n" {
		t.Errorf("chains after rmdir: %q", got)
	}
	m.wantErr(t, "rmdir chains/c", "No such file")
	m.wantErr(t, "cat chains/77/data", "No such file")
	m.wantErr(t, "rmdir chains/new", "Not a directory")
	m.wantErr(t, "cd chains/c", "No such file")
}

func TestChainFilesAndModes(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/x && echo 'push 0' > chains/x/ctl")
	got := strings.Fields(m.sh(t, `cd chains/x && find . | sort | while read -r f; do echo "$f:$(stat -c %a "$f")"; done`))
	want := []string{
		".:755", "./ctl:644", "./data:644",
		"./layers:755", "./layers/0:755", "./layers/0/data:644", "./layers/0/fragments:444", "./layers/0/info:444",
		"./layers/1:755", "./layers/1/data:644", "./layers/1/fragments:444", "./layers/1/info:444",
		"./segments:444", "./stats:444",
	}
	if !slices.Equal(got, want) {
		t.Errorf("chain directory:\n got %q\nwant %q", got, want)
	}
	for _, tc := range []struct{ script, want string }{
		{"echo x > chains/x/stats", "Permission denied"},
		{"echo x > chains/x/segments", "Permission denied"},
		{"echo x > chains/x/layers/0/info", "Permission denied"},
		{"rm chains/x/data", "Operation not permitted"},
		{"chmod 600 chains/x/data", "Operation not permitted"},
		{"touch chains/x/newfile", "Operation not permitted"},
	} {
		m.wantErr(t, tc.script, tc.want)
	}
}

// TestErrnoOfChains maps the chain package's sentinels and chains/' own
// as README.md's table says.
func TestErrnoOfChains(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("write chains/1/ctl: %w", err) }
	for _, tc := range []struct {
		err  error
		want syscall.Errno
	}{
		{wrap(chain.ErrRange), syscall.EINVAL},
		{wrap(chain.ErrNarrowView), syscall.EINVAL},
		{wrap(chain.ErrNoLayer), syscall.EINVAL},
		{wrap(chain.ErrInvalid), syscall.EINVAL},
		{wrap(chain.ErrTooLong), syscall.EFBIG},
		{wrap(errNoChain), syscall.ENOENT},
		{wrap(errLayerGone), syscall.ENOENT},
		{wrap(errChainExists), syscall.EEXIST},
		{wrap(errNameTooLong), syscall.ENAMETOOLONG},
		{wrap(errNoDevice), syscall.ENOENT},
	} {
		if got := errnoOf(tc.err); got != tc.want {
			t.Errorf("errnoOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
