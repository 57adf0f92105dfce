package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

// TestMain fails the binary if a pond a test made through run was left
// open with a buffer out or an invariant broken.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := pond.AuditAll(); err != nil {
		fmt.Fprintln(os.Stderr, "leak check:", err)
		code = 1
	}
	os.Exit(code)
}
