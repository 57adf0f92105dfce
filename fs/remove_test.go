package fs

import (
	"strings"
	"testing"

	"github.com/pondfs/pondfs/netdev"
)

// listing is every path of the tree with its type, and every stats file's
// text: what a removal that changes nothing leaves as it was.
const listing = `find . -printf '%y %p\n' | sort; for f in stats pools/*/stats accounts/*/stats netdev/*/stats; do echo "$f"; cat "$f"; done`

func TestRemovalsTheTreeDoesNotTakeChangeNothing(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	m.receive(t, "mem0", udpFrame("kept"))
	m.sh(t, "mkdir chains/c && echo hello > chains/c/data")
	before := m.sh(t, listing)
	for _, cmd := range []string{
		"rm stats", "rm README", "rm metrics", "rm arena", "rm chains/new",
		"rm pools/128/ctl", "rm pools/128/stats", "rm accounts/fs/limit",
		"rmdir pools/2048", "rmdir pools", "rmdir accounts/fs", "rmdir accounts",
		"rmdir chains", "rmdir netdev", "rmdir netdev/mem0", "rmdir netdev/mem0/rx",
		"rm netdev/mem0/tx", "rm netdev/mem0/inject", "rm netdev/mem0/capture", "rm netdev/mem0/stats",
		"rmdir chains/c/layers", "rmdir chains/c/layers/0", "rm chains/c/layers/0/data",
		"rm chains/c/layers/0/info", "rm chains/c/ctl", "rm chains/c/data",
		"rmdir netdev/mem0/rx/1/layers", "rmdir netdev/mem0/rx/1/layers/0", "rm netdev/mem0/rx/1/layers/0/data",
		"rm netdev/mem0/rx/1/data",
	} {
		lines := len(m.log.lines())
		out, err := m.try(cmd)
		if err == nil || !strings.Contains(out, "Operation not permitted") {
			t.Errorf("%s: err %v, output %q; want EPERM", cmd, err, out)
		}
		if logged := m.log.lines()[lines:]; len(logged) != 1 {
			t.Errorf("%s: logged %q, want one line", cmd, logged)
		}
	}
	if after := m.sh(t, listing); after != before {
		t.Errorf("the refused removals changed the tree:\nbefore\n%s\nafter\n%s", before, after)
	}
	m.sh(t, "rmdir chains/c netdev/mem0/rx/1")
	if out, err := m.try("test -e chains/c || test -e netdev/mem0/rx/1"); err == nil {
		t.Errorf("rmdir of a chain and a frame left them: %q", out)
	}
}

func TestRmRfOfTheMountLeavesTheTree(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	before := m.sh(t, listing)
	if out, err := m.try("rm -rf ./*"); err == nil {
		t.Errorf("rm -rf of the mount succeeded: %q", out)
	}
	if after := m.sh(t, listing); after != before {
		t.Errorf("rm -rf changed the tree:\nbefore\n%s\nafter\n%s", before, after)
	}
}
