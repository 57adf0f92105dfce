package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTAPThatCannotBeHad needs no device and makes none: the name is
// refused before the kernel is asked. pondd says why in one line, exits
// 1, and makes no mount point.
func TestTAPThatCannotBeHad(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "mnt")
	var out, errb bytes.Buffer
	code := run([]string{"--mount", mnt, "--tap", "a-name-far-too-long"}, &out, &errb)
	lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "--tap a-name-far-too-long") || out.Len() > 0 {
		t.Errorf("exit %d\nstdout %q\nstderr %q; want exit 1 and one line naming the TAP", code, out.String(), errb.String())
	}
	if _, err := os.Stat(mnt); !os.IsNotExist(err) {
		t.Errorf("mount point made: %v", err)
	}
}
