package pond

import (
	"fmt"
	"os"
	"testing"
)

// TestMain fails the binary if any pond a test left open still has a
// buffer out or breaks an invariant.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := AuditAll(); err != nil {
		fmt.Fprintln(os.Stderr, "leak check:", err)
		code = 1
	}
	os.Exit(code)
}
