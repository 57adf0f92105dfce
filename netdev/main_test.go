package netdev

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/pondfs/pondfs/pond"
)

// TestMain fails the binary if any pond a test left open still has a
// buffer out or breaks an invariant, or if a port's receive goroutine
// outlived its test.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := pond.AuditAll(); err != nil {
		fmt.Fprintln(os.Stderr, "leak check:", err)
		code = 1
	}
	if stacks := leakedReceivers(); stacks != "" {
		fmt.Fprintln(os.Stderr, "goroutine leak check: receive goroutines still running:\n"+stacks)
		code = 1
	}
	os.Exit(code)
}

// leakedReceivers returns the stacks of ports' receive goroutines still
// running after a grace period for those that are just ending.
func leakedReceivers() string {
	var stacks []byte
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = buf[:runtime.Stack(buf, true)]
		if !bytes.Contains(stacks, []byte("netdev.(*Port).receive(")) || time.Now().After(deadline) {
			break
		}
	}
	var leaked []byte
	for g := range bytes.SplitSeq(stacks, []byte("\n\n")) {
		if bytes.Contains(g, []byte("netdev.(*Port).receive(")) {
			leaked = append(append(leaked, g...), '\n')
		}
	}
	return string(leaked)
}
