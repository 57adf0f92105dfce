package netdev

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
	"golang.org/x/sys/unix"
)

// netnsEnv carries the parent's network namespace to the test binary it
// re-executes under unshare --net.
const netnsEnv = "NETDEV_TEST_PARENT_NETNS"

// TestTAP runs every test that needs a real TAP device in a child process
// in a private network namespace, so no device is made, and no packet
// sent, in the namespace the tests were started in. Everything it makes
// it removes, and the namespace goes away with the child.
func TestTAP(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	t.Run("Create", testTAPCreate)
	t.Run("CloseUnblocksRead", testTAPCloseUnblocksRead)
	t.Run("Persistent", testTAPPersistent)
	t.Run("ReceiveAndSend", testTAPReceiveAndSend)
	t.Run("DeviceGone", testTAPDeviceGone)
	t.Run("Filter", testTAPFilter)
	t.Run("MTUFollowedLargestClassBelowFrames", func(t *testing.T) { testTAPMTUFollowed(t, 2048) })
	t.Run("MTUFollowedLargestClass64KiB", func(t *testing.T) { testTAPMTUFollowed(t, pond.MaxBufSize) })
}

// inPrivateNetns reports whether the test runs in the child: then it has
// checked that the namespace is not its parent's. In the parent it runs
// the test in the child, reports its outcome, and returns false; it skips
// the test when not root or when unshare or /dev/net/tun is missing.
func inPrivateNetns(t *testing.T) bool {
	if parent := os.Getenv(netnsEnv); parent != "" {
		if netns(t) == parent {
			t.Fatalf("refusing to make devices: still in network namespace %s", parent)
		}
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, for a private network namespace and TAP devices")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare(1) (util-linux) for a private network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) (iproute2) to configure the TAP")
	}
	if _, err := os.Stat(tunPath); err != nil {
		t.Skipf("needs %s: %v", tunPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--net", os.Args[0],
		"-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), netnsEnv+"="+netns(t))
	out, err := cmd.CombinedOutput()
	// Each line is prefixed, so that tools counting "--- PASS" lines count
	// the child's subtests once, through this test.
	var log strings.Builder
	for line := range strings.Lines(string(out)) {
		log.WriteString("child| " + line)
	}
	t.Logf("in a private network namespace:\n%s", log.String())
	if err != nil {
		t.Fatalf("%v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatal("the test did not pass in the private namespace")
	}
	return false
}

// netns names the network namespace of the calling thread.
func netns(t *testing.T) string {
	t.Helper()
	ns, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// openTAP opens a TAP and closes it when the test ends.
func openTAP(t *testing.T, name string) *TAP {
	t.Helper()
	tap, err := OpenTAP(name)
	if err != nil {
		t.Fatalf("OpenTAP: %v", err)
	}
	t.Cleanup(func() { tap.Close() })
	return tap
}

func exists(t *testing.T, name string) bool {
	t.Helper()
	ok, err := linkExists(name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// fdFlags reads the open flags of the TAP's descriptor from
// /proc/self/fdinfo, as the kernel holds them.
func fdFlags(t *testing.T, tap *TAP) int64 {
	t.Helper()
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", tap.fd))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(info)) {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatal(err)
			}
			return flags
		}
	}
	t.Fatalf("no flags in fdinfo:\n%s", info)
	return 0
}

func testTAPCreate(t *testing.T) {
	before := len(tunFds())
	tap := openTAP(t, "ptest0")
	if !tap.Created() || tap.Name() != "ptest0" {
		t.Errorf("Created %v, Name %q", tap.Created(), tap.Name())
	}
	ifc, err := net.InterfaceByName("ptest0")
	if err != nil {
		t.Fatal(err)
	}
	if ifc.Flags&net.FlagUp == 0 {
		t.Errorf("link not up: %v", ifc.Flags)
	}
	if tap.MaxFrame() != ifc.MTU+EthHeaderLen+vlanTagLen {
		t.Errorf("MaxFrame %d with MTU %d", tap.MaxFrame(), ifc.MTU)
	}
	flags := fdFlags(t, tap)
	if flags&unix.O_CLOEXEC == 0 {
		t.Errorf("descriptor flags %#o: no O_CLOEXEC", flags)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Errorf("descriptor flags %#o: not non-blocking, so a raw read(2) could block its thread", flags)
	}

	_, err = OpenTAP("ptest0")
	wantIs(t, "second open", err, ErrBusy)
	if !strings.Contains(err.Error(), "ptest0") {
		t.Errorf("error %q does not name the device", err)
	}
	if n := len(tunFds()); n != before+1 {
		t.Errorf("%d descriptors of %s open, want %d: the failed open leaked one", n, tunPath, before+1)
	}

	_, err = OpenTAP("lo")
	if err == nil || !strings.Contains(err.Error(), "not a TAP") {
		t.Errorf("OpenTAP(lo): %v, want an error saying it is not a TAP", err)
	}
	if _, err := OpenTAP("a-name-far-too-long"); err == nil {
		t.Error("OpenTAP of a 19-byte name succeeded")
	}
	if n := len(tunFds()); n != before+1 {
		t.Errorf("%d descriptors of %s open after failed opens, want %d", n, tunPath, before+1)
	}

	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
	if exists(t, "ptest0") {
		t.Error("a TAP we created outlived Close")
	}
}

func testTAPCloseUnblocksRead(t *testing.T) {
	tap := openTAP(t, "ptest1")
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, tap.MaxFrame()+1)
		for { // the kernel sends frames of its own (IPv6 neighbour discovery)
			if _, err := tap.Readv([][]byte{buf}); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond) // let Read block in the poller
	tap.Close()
	select {
	case err := <-errc:
		wantIs(t, "Read pending at Close", err, ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

func testTAPPersistent(t *testing.T) {
	ip(t, "tuntap", "add", "dev", "ppers0", "mode", "tap", "user", strconv.Itoa(os.Getuid()))
	t.Cleanup(func() { exec.Command("ip", "tuntap", "del", "dev", "ppers0", "mode", "tap").Run() })
	for i := range 2 {
		tap := openTAP(t, "ppers0")
		if tap.Created() {
			t.Errorf("open %d: Created() on a persistent TAP", i+1)
		}
		if err := tap.Close(); err != nil {
			t.Fatal(err)
		}
		if !exists(t, "ppers0") {
			t.Fatalf("open %d: the persistent TAP went away on Close", i+1)
		}
	}
}

// kernelSide is the address the test gives the TAP in the namespace, and
// peerSide a neighbour on its link that the Port plays.
var (
	kernelSide = net.IPv4(10, 77, 0, 1).To4()
	peerSide   = net.IPv4(10, 77, 0, 2).To4()
	peerMAC    = net.HardwareAddr{0x02, 0, 0, 0, 0x77, 2}
)

func testTAPReceiveAndSend(t *testing.T) {
	tap := openTAP(t, "ptest2")
	ip(t, "addr", "add", "10.77.0.1/24", "dev", "ptest2")
	ip(t, "neigh", "add", peerSide.String(), "lladdr", peerMAC.String(), "dev", "ptest2", "nud", "permanent")
	p, err := pond.New(pond.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Errorf("pond Close: %v", err)
		}
	}()
	lb := &logBuf{}
	port, err := NewPort(p, tap, Config{Log: log.New(lb, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()

	// Kernel → Port: a datagram to the neighbour arrives as a frame whose
	// layers are ethernet, ipv4, udp and the payload.
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: peerSide, Port: 7777})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	payload := []byte("from the kernel to the pond")
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	seq := awaitUDP(t, port, payload)
	err = port.With(seq, func(c *chain.Chain) error {
		var protos []string
		for k := 0; k <= c.Depth(); k++ {
			info, _ := c.Layer(k)
			protos = append(protos, info.Proto)
		}
		if got := strings.Join(protos, " "); got != "ethernet ipv4 udp payload" {
			t.Errorf("layers %s", got)
		}
		frame := chainBytes(t, c, 0)
		if !bytes.Equal(frame[0:6], peerMAC) || !bytes.Equal(frame[30:34], peerSide) {
			t.Errorf("frame not addressed to the neighbour: %x", frame[:34])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Port → kernel: a frame sent through the Port reaches a socket.
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: kernelSide})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	tapMAC := tapAddr(t, "ptest2")
	out := []byte("from the pond to the kernel")
	frame := udpIPv4Frame(tapMAC, peerMAC, peerSide, kernelSide, 7777, uint16(sock.LocalAddr().(*net.UDPAddr).Port), out)
	fsAcct, err := p.NewAccount("fs", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// Header and rest in chains of their own, then joined: two segments,
	// so one writev of two iovecs.
	var parts [2]*chain.Chain
	for i, b := range [][]byte{frame[:14], frame[14:]} {
		if parts[i], err = chain.New(p, fsAcct, chain.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := parts[i].Append(b); err != nil {
			t.Fatal(err)
		}
	}
	c := parts[0]
	if err := c.AppendChain(parts[1]); err != nil || c.NumSegments() != 2 {
		t.Fatalf("AppendChain: %v, %d segments, want 2", err, c.NumSegments())
	}
	if err := port.Send(c); err != nil {
		t.Fatalf("Send: %v", err)
	}
	sock.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2000)
	n, _, err := sock.ReadFromUDP(buf)
	if err != nil || !bytes.Equal(buf[:n], out) {
		t.Fatalf("socket got %q (%v), want %q", buf[:n], err, out)
	}

	// The MTU grows while the receiver waits with buffers staged for the
	// old one: MaxFrame follows at once, and the first frame too long for
	// them is received whole all the same, as is the next.
	ip(t, "link", "set", "dev", "ptest2", "mtu", "9000")
	port.SyncLink()
	if port.MaxFrame() != 9000+EthHeaderLen+vlanTagLen {
		t.Errorf("MaxFrame %d once ip set the MTU to 9000", port.MaxFrame())
	}
	big := bytes.Repeat([]byte("j"), 8000)
	conn.Write(big)
	awaitUDP(t, port, big)
	conn.Write(big)
	awaitUDP(t, port, big)
	if s := port.Stats(); s.RxDropped != 0 {
		t.Errorf("%d frames dropped after the MTU grew", s.RxDropped)
	}
	if s := port.Stats(); s.TxPackets != 1 || s.TxErrors != 0 {
		t.Errorf("stats %+v", s)
	}
}

// awaitUDP waits for a queued frame whose top layer is payload (the
// kernel also sends frames of its own, IPv6 neighbour discovery, say),
// frees every other one, and returns its sequence number.
func awaitUDP(t *testing.T, port *Port, payload []byte) uint64 {
	t.Helper()
	var found uint64
	waitFor(t, "the datagram", func() bool {
		for _, seq := range port.Seqs(nil) {
			match := false
			port.With(seq, func(c *chain.Chain) error {
				info, _ := c.Layer(c.Depth())
				match = info.Proto == ProtoPayload && bytes.Equal(chainBytes(t, c, c.Depth()), payload)
				return nil
			})
			if match {
				found = seq
				return true
			}
			if c, err := port.Take(seq); err == nil {
				c.Free()
			}
		}
		return false
	})
	return found
}

func tapAddr(t *testing.T, name string) net.HardwareAddr {
	t.Helper()
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return ifc.HardwareAddr
}

// udpIPv4Frame builds an Ethernet frame of an IPv4 UDP datagram with a
// correct header checksum (the kernel checks it) and no UDP checksum.
func udpIPv4Frame(dstMAC, srcMAC net.HardwareAddr, src, dst net.IP, sport, dport uint16, payload []byte) []byte {
	b := append(append([]byte{}, dstMAC...), srcMAC...)
	b = binary.BigEndian.AppendUint16(b, etherTypeIPv4)
	ipStart := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(ipv4MinHeaderLen+udpHeaderLen+len(payload)))
	b = append(b, 0, 1, 0, 0, 64, ipProtoUDP, 0, 0)
	b = append(b, src...)
	b = append(b, dst...)
	var sum uint32
	for i := ipStart; i < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[ipStart+10:], ^uint16(sum))
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(udpHeaderLen+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}

func testTAPDeviceGone(t *testing.T) {
	p := newTestPond(t, 64)
	tap := openTAP(t, "ptest3")
	lb := &logBuf{}
	port, err := NewPort(p, tap, Config{Log: log.New(lb, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	ip(t, "link", "del", "ptest3")
	select {
	case <-port.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the port kept reading a deleted TAP")
	}
	wantIs(t, "Err", port.Err(), ErrDeviceGone)
	if n := lb.count("device is gone"); n != 1 {
		t.Errorf("logged %d lines about it, want 1:\n%s", n, lb)
	}
	wantIs(t, "SendBytes to a deleted TAP", port.SendBytes(numbered(1)), ErrDeviceGone)
	if err := port.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// testTAPMTUFollowed changes the MTU of a TAP while its port receives,
// and checks that sending and receiving act on the MTU from the moment ip
// returns: raised, a frame the old one refused goes out and the first
// frame the kernel sends past the old one comes in; lowered, a frame past
// the new one is refused. At the largest MTU a TAP takes (65521) every
// frame it carries comes in, 64 bytes or 65535, read into several buffers
// when the pond's largest (largest bytes) does not hold it.
func testTAPMTUFollowed(t *testing.T, largest int) {
	const name = "ptest4"
	tap := openTAP(t, name)
	ip(t, "addr", "add", "10.77.0.1/24", "dev", name)
	ip(t, "neigh", "add", peerSide.String(), "lladdr", peerMAC.String(), "dev", name, "nud", "permanent")
	p := newPondOf(t, pond.Config{Classes: []pond.ClassConfig{
		{Size: 128, Min: 0, Max: 1024, GrowBy: 64},
		{Size: largest, Min: 0, Max: (48 << 20) / largest, GrowBy: 8},
	}, ArenaMax: 64 << 20})
	port, err := NewPort(p, tap, Config{RxQueue: 16, AccountLimit: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: peerSide, Port: 7777})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tapMAC := tapAddr(t, name)
	frameOf := func(size int) []byte {
		return udpIPv4Frame(tapMAC, peerMAC, peerSide, kernelSide, 7777, 7777, bytes.Repeat([]byte{'f'}, size-42))
	}
	receive := func(size int) {
		t.Helper()
		payload := bytes.Repeat([]byte{byte(size)}, size-42)
		if _, err := conn.Write(payload); err != nil {
			t.Fatalf("send a %d-byte frame from the kernel: %v", size, err)
		}
		if c, err := port.Take(awaitUDP(t, port, payload)); err == nil {
			c.Free()
		}
	}

	ip(t, "link", "set", "dev", name, "mtu", "9000")
	if err := port.SendBytes(frameOf(3054)); err != nil {
		t.Errorf("a 3054-byte frame right after the MTU grew to 9000: %v", err)
	}
	receive(9000 + EthHeaderLen)

	ip(t, "link", "set", "dev", name, "mtu", "1000")
	port.SyncLink() // as tx and inject do at each write
	wantIs(t, "a frame of MTU + 19 bytes right after the MTU fell to 1000", port.SendBytes(frameOf(1019)), ErrFrameSize)
	if err := port.SendBytes(frameOf(1018)); err != nil {
		t.Errorf("a frame of MTU + 18 bytes: %v", err)
	}
	receive(1000 + EthHeaderLen)

	ip(t, "link", "set", "dev", name, "mtu", "65521")
	waitFor(t, "MaxFrame to follow the MTU to 65521", func() bool { return port.MaxFrame() == 65521+EthHeaderLen+vlanTagLen })
	receive(64)
	receive(65535)
	receive(64)
	if err := port.SendBytes(frameOf(65535)); err != nil {
		t.Errorf("a 65535-byte frame at MTU 65521: %v", err)
	}
	if s := port.Stats(); s.RxDropped != 0 || s.TxPackets != 3 {
		t.Errorf("stats %+v: want no frame dropped, 3 sent", s)
	}
}
