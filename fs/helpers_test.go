package fs

import (
	"bytes"
	"log"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

// syncBuffer is a log sink the serving goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSuffix(s.b.String(), "\n"), "\n")
}

// newPond makes a small pond of two pools that the test closes.
func newPond(t *testing.T) *pond.Pond {
	t.Helper()
	classes, err := pond.ParseClasses("128,2048:64:1024")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pond.New(pond.Config{Classes: classes, ArenaMax: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close pond: %v", err)
		}
	})
	return p
}

// mounted is a tree mounted for a test, with what the test inspects.
type mounted struct {
	dir  string
	pond *pond.Pond
	tree *Tree
	log  *syncBuffer
}

// mountTree mounts a tree of a new pond on a temporary directory, and
// unmounts it when the test ends.
func mountTree(t *testing.T, opt Options) *mounted {
	t.Helper()
	m := newMounted(t)
	m.mount(t, opt)
	return m
}

// newMounted makes the pond and directory of a mount to come. It skips
// when mounting is impossible here: FUSE needs /dev/fuse, and mount(2)
// root.
func newMounted(t *testing.T) *mounted {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting the tree needs root (mount(2) without fusermount3)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE here: %v", err)
	}
	return &mounted{dir: t.TempDir(), pond: newPond(t), log: &syncBuffer{}}
}

// mount mounts the tree of m's pond, logging to m.log, and unmounts it
// when the test ends (before the pond's cleanup closes the pond).
func (m *mounted) mount(t *testing.T, opt Options) {
	t.Helper()
	opt.Log = log.New(m.log, "", 0)
	tree, err := New(m.pond, opt)
	if err != nil {
		t.Fatal(err)
	}
	m.tree = tree
	server, err := tree.Mount(m.dir, MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
}

// sh runs script with bash in a child process, from the top of the mount;
// the test process itself must never touch its own mount. It returns
// stdout and fails the test on a non-zero exit.
func (m *mounted) sh(t *testing.T, script string) string {
	t.Helper()
	out, err := m.try(script)
	if err != nil {
		t.Fatalf("sh -c %q: %v\n%s", script, err, out)
	}
	return out
}

// try runs script like sh and returns its output (stdout and stderr) and
// error.
func (m *mounted) try(script string) (string, error) {
	// cd inside the script: a child's chdir before exec would ask the
	// serving process, which is waiting for that exec (go-fuse's deadlock 1a).
	cmd := exec.Command("bash", "-c", `cd "$MNT" && `+script)
	cmd.Env = append(os.Environ(), "MNT="+m.dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// python3 is Debian's python3 where there is one: a version manager's shim
// on PATH can take seconds to start.
func python3() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// need skips the test when a command it runs is missing.
func need(t *testing.T, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not installed", c)
		}
	}
}
