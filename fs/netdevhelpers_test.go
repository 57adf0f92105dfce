package fs

import (
	"encoding/binary"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
)

// testMaxFrame is what the memory devices carry: an MTU of 1500 with the
// Ethernet header and a VLAN tag.
const testMaxFrame = 1518

// netMounted is a tree with memory devices, and the far end of each: what
// the port sends the test reads there, and what the test writes there the
// port receives. No kernel device is made, so nothing needs a namespace
// beyond the mount's.
type netMounted struct {
	*mounted
	ports map[string]*netdev.Port
	peers map[string]*netdevtest.MemDevice
}

// mountDevices mounts a tree of a new pond with one memory device per
// name, whose ports take cfg, and tears it all down when the test ends:
// unmount, then the ports, then (newPond's cleanup) the pond.
func mountDevices(t *testing.T, cfg netdev.Config, names ...string) *netMounted {
	t.Helper()
	m := &netMounted{
		mounted: newMounted(t),
		ports:   map[string]*netdev.Port{},
		peers:   map[string]*netdevtest.MemDevice{},
	}
	cfg.Log = log.New(m.log, "", 0)
	var ports []*netdev.Port
	for _, name := range names {
		dev, peer := netdevtest.NewMemPair(name, testMaxFrame, 1024)
		port, err := netdev.NewPort(m.pond, dev, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			port.Close()
			peer.Close()
		})
		m.ports[name], m.peers[name] = port, peer
		ports = append(ports, port)
	}
	m.mount(t, Options{Ports: ports})
	return m
}

// receive has the far end of dev send frames, for the port to receive,
// and waits until the port has queued them all.
func (m *netMounted) receive(t *testing.T, dev string, frames ...[]byte) {
	t.Helper()
	want := m.ports[dev].Stats().RxPackets + uint64(len(frames))
	for _, f := range frames {
		if _, err := m.peers[dev].Writev([][]byte{f}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, fmt.Sprintf("%s to receive %d frames", dev, len(frames)), func() bool {
		return m.ports[dev].Stats().RxPackets >= want
	})
}

// sent reads the next frame dev sent, from its far end.
func (m *netMounted) sent(t *testing.T, dev string) []byte {
	t.Helper()
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, netdev.MaxFrameLimit+1)
		n, err := m.peers[dev].Readv([][]byte{buf})
		if err != nil {
			got <- nil
			return
		}
		got <- buf[:n]
	}()
	select {
	case f := <-got:
		if f == nil {
			t.Fatalf("%s sent nothing: its far end is closed", dev)
		}
		return f
	case <-time.After(10 * time.Second):
		t.Fatalf("%s sent nothing in 10s", dev)
	}
	return nil
}

// nothingSent checks that dev sent no frame the far end has not read.
func (m *netMounted) nothingSent(t *testing.T, dev string) {
	t.Helper()
	if st := m.ports[dev].Stats(); st.TxPackets != 0 {
		t.Errorf("%s sent %d frames, want none", dev, st.TxPackets)
	}
}

// file writes data to a file of the test's temporary directory, for a
// shell to read, and returns its path.
func file(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs script with bash in the background, from the top of the
// mount, and kills it if the test ends first. Its stdin is a pipe that
// stays open until then, so a read of it waits.
func (m *netMounted) start(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("bash", "-c", `cd "$MNT" && `+script)
	cmd.Env = append(os.Environ(), "MNT="+m.dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		stdin.Close()
	})
	return cmd
}

// waitFor polls cond until it holds, and fails the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// waitExit waits for cmd, at most 10s, and returns its error.
func waitExit(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%v still runs after 10s", cmd.Args)
	}
	return nil
}

// captures is how many captures of the tree's device dev are open.
func (m *netMounted) captures(dev string) int {
	return int(m.ports[dev].Stats().Captures)
}

// udpFrame is an Ethernet/IPv4/UDP frame carrying payload.
func udpFrame(payload string) []byte {
	return netdevtest.UDP{
		DstMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}, SrcMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02},
		Src: net.IPv4(10, 99, 0, 2), Dst: net.IPv4(10, 99, 0, 1),
		SrcPort: 12345, DstPort: 9999, Payload: []byte(payload),
	}.Frame()
}

// pcapRecords parses a little-endian microsecond pcap stream, as capture
// writes it, into its records' bytes.
func pcapRecords(t *testing.T, s []byte) [][]byte {
	t.Helper()
	if len(s) < 24 || binary.LittleEndian.Uint32(s) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(s[20:]) != 1 {
		t.Fatalf("not a pcap stream of Ethernet frames: % x", s[:min(len(s), 24)])
	}
	var recs [][]byte
	for s = s[24:]; len(s) > 0; {
		if len(s) < 16 {
			t.Fatalf("stream ends inside a record header: % x", s)
		}
		n := int(binary.LittleEndian.Uint32(s[8:]))
		if len(s) < 16+n {
			t.Fatalf("stream ends inside a record of %d bytes", n)
		}
		recs = append(recs, s[16:16+n])
		s = s[16+n:]
	}
	return recs
}
