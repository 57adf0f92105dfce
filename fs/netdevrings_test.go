package fs

import (
	"strings"
	"testing"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
)

// TestRingLayoutAndBusy: the first read of a ring gives its layout in the
// stats format; a second open of the same kind fails with EBUSY while the
// first is open, and succeeds once it is closed.
func TestRingLayoutAndBusy(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	base := stagedBase(t, m)
	out := m.sh(t, `exec 3<>netdev/mem0/rings/rx 4<>netdev/mem0/rings/tx
		dd bs=4096 count=1 status=none <&3
		exec 5<>netdev/mem0/rings/rx 2>&1 || true
		exec 5<>netdev/mem0/rings/tx 2>&1 || true`)
	for _, want := range []string{"magic 1196315216\n", "version 1\n", "slots ", "slot_size 2048\n",
		"producer_offset 64\n", "consumer_offset 128\n", "desc_offset 192\n", "desc_size 16\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("layout lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "Device or resource busy"); n != 2 {
		t.Errorf("second opens: %q, want EBUSY twice", out)
	}
	waitFor(t, "the rings' buffers back", func() bool { return m.pond.Stats().InUse == base })
	// close(2) returns before the kernel releases the file: an open right
	// after must not find the ring still attached.
	m.sh(t, `for i in $(seq 200); do exec 3<>netdev/mem0/rings/rx 4<>netdev/mem0/rings/tx || exit 1; exec 3<&- 4<&-; done`)
}

// stagedBase is the pond's buffers in use once the port's receiver holds
// the buffer it stages for the next frame, as it does while it waits.
func stagedBase(t *testing.T, m *netMounted) uint64 {
	t.Helper()
	waitFor(t, "the receiver to stage a buffer", func() bool { return m.pond.Stats().InUse > 0 })
	return m.pond.Stats().InUse
}

// TestRingKilledHolderGivesBack: a process holding both rings, killed
// with SIGKILL, gives every buffer back.
func TestRingKilledHolderGivesBack(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	base := stagedBase(t, m)
	cmd := m.start(t, `exec 3<>netdev/mem0/rings/rx 4<>netdev/mem0/rings/tx; echo attached; read -r line`)
	waitFor(t, "the rings attached", func() bool { return m.pond.Stats().InUse > base+2 })
	cmd.Process.Kill()
	waitExit(t, cmd)
	waitFor(t, "every buffer back", func() bool { return m.pond.Stats().InUse == base })
	if err := m.pond.Audit(); err != nil {
		t.Error(err)
	}
}

// TestRingWithoutZeroCopy: where the arena is a copy, a ring cannot be
// opened (EOPNOTSUPP), and the log says why.
func TestRingWithoutZeroCopy(t *testing.T) {
	m := &netMounted{mounted: newMounted(t)}
	dev, peer := netdevtest.NewMemPair("mem0", testMaxFrame, 8)
	port, err := netdev.NewPort(m.pond, dev, netdev.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		port.Close()
		peer.Close()
	})
	m.mount(t, Options{Ports: []*netdev.Port{port}, NoZeroCopy: true})
	out, err := m.try(`exec 3<>netdev/mem0/rings/rx`)
	if err == nil || !strings.Contains(out, "Operation not supported") {
		t.Errorf("open: %v %q, want EOPNOTSUPP", err, out)
	}
	if log := strings.Join(m.log.lines(), "\n"); !strings.Contains(log, "arena_zero_copy 0") {
		t.Errorf("log %q says not why", log)
	}
}
