package fs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

// unsharedEnv marks a test binary that already runs in its own namespaces.
const unsharedEnv = "PONDFS_TEST_UNSHARED"

// TestMain runs the tests, as root, in private mount and network
// namespaces (the binary runs itself again under unshare), so that a mount
// a dying test leaves behind goes with the namespace. Then it fails the
// binary if a test left a buffer out of its pond.
func TestMain(m *testing.M) {
	if code, ok := runUnshared(); ok {
		os.Exit(code)
	}
	code := m.Run()
	if err := pond.AuditAll(); err != nil {
		fmt.Fprintln(os.Stderr, "leak check:", err)
		code = 1
	}
	os.Exit(code)
}

// runUnshared runs this test binary again inside unshare and returns its
// exit status; ok is false when this binary should run the tests itself:
// it is the one inside, or it is not root (the mount tests skip), or
// namespaces cannot be made here.
func runUnshared() (code int, ok bool) {
	ns := []string{"--mount", "--propagation", "private", "--net"}
	if os.Getenv(unsharedEnv) != "" || os.Geteuid() != 0 || exec.Command("unshare", append(ns, "true")...).Run() != nil {
		return 0, false
	}
	cmd := exec.Command("unshare", append(append(ns, os.Args[0]), os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), unsharedEnv+"=1")
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, true
	case errors.As(err, &exit):
		return exit.ExitCode(), true
	default:
		fmt.Fprintln(os.Stderr, "run tests in private namespaces:", err)
		return 1, true
	}
}
