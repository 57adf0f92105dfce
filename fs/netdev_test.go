package fs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"github.com/pondfs/pondfs/pond"
)

func TestNetdevLayoutAndStats(t *testing.T) {
	m := mountDevices(t, netdev.Config{RxQueue: 8}, "mem0", "mem1")
	got := strings.Fields(m.sh(t, `cd netdev && find . | sort | while read -r f; do echo "$f:$(stat -c %a "$f")"; done`))
	var want []string
	want = append(want, ".:755")
	for _, d := range []string{"mem0", "mem1"} {
		want = append(want, "./"+d+":755", "./"+d+"/capture:400", "./"+d+"/filter:644", "./"+d+"/inject:200", "./"+d+"/next:444",
			"./"+d+"/rings:755", "./"+d+"/rings/rx:600", "./"+d+"/rings/tx:600",
			"./"+d+"/rx:755", "./"+d+"/stats:444", "./"+d+"/tx:200")
	}
	if !slices.Equal(got, want) {
		t.Errorf("netdev/:\n got %q\nwant %q", got, want)
	}
	stats := m.sh(t, "cat netdev/mem0/stats")
	names := []string{"rx_packets", "rx_bytes", "rx_dropped", "tx_packets", "tx_bytes", "tx_errors",
		"rx_queue", "rx_queue_max", "rx_filtered", "up", "capture_lost", "captures"}
	if got := statsNames(t, stats); !slices.Equal(got, names) {
		t.Errorf("stats names:\n got %q\nwant %q", got, names)
	}
	if statValue(t, stats, "rx_queue_max") != 8 || statValue(t, stats, "up") != 1 {
		t.Errorf("stats of a fresh device:\n%s", stats)
	}
	if got := m.sh(t, "ls accounts"); got != "fs\nrx.mem0\nrx.mem1\n" {
		t.Errorf("accounts: %q, want fs and one rx.<if> per device", got)
	}
}

func TestNetdevNamesMustBeUsable(t *testing.T) {
	p := newPond(t)
	var ports []*netdev.Port
	for _, name := range []string{"dup", "dup"} {
		dev, peer := netdevtest.NewMemPair(name, testMaxFrame, 4)
		port, err := netdev.NewPort(p, dev, netdev.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { port.Close(); peer.Close() })
		ports = append(ports, port)
	}
	if _, err := New(p, Options{Ports: ports}); !errors.Is(err, pond.ErrInvalid) {
		t.Errorf("New with one name twice: %v, want ErrInvalid", err)
	}
}

func TestNetdevRxListsOldestFirstAndRmdirConsumes(t *testing.T) {
	m := mountDevices(t, netdev.Config{RxQueue: 4}, "mem0")
	for i := range 6 {
		m.receive(t, "mem0", udpFrame(fmt.Sprintf("frame %d", i+1)))
	}
	if got := m.sh(t, "ls -f netdev/mem0/rx | grep -v '^\\.'"); got != "3\n4\n5\n6\n" {
		t.Errorf("rx after 6 frames into a queue of 4: %q, want 3 4 5 6", got)
	}
	stats := m.sh(t, "cat netdev/mem0/stats")
	if statValue(t, stats, "rx_dropped") != 2 || statValue(t, stats, "rx_queue") != 4 || statValue(t, stats, "rx_packets") != 6 {
		t.Errorf("stats:\n%s", stats)
	}
	m.sh(t, "rmdir netdev/mem0/rx/3 && rmdir netdev/mem0/rx/5")
	if got := m.sh(t, "ls netdev/mem0/rx"); got != "4\n6\n" {
		t.Errorf("rx after two rmdirs: %q", got)
	}
	for _, name := range []string{"3", "7", "04", "x"} {
		out, err := m.try("rmdir netdev/mem0/rx/" + name)
		if err == nil || !strings.Contains(out, "No such file") {
			t.Errorf("rmdir rx/%s: %v %q, want ENOENT", name, err, out)
		}
	}
	if out, err := m.try("test -e netdev/mem0/rx/5 || test -e netdev/mem0/rx/1"); err == nil {
		t.Errorf("consumed or dropped frames still there: %q", out)
	}
	m.sh(t, "rmdir netdev/mem0/rx/*")
	if st := m.ports["mem0"].Stats(); st.RxQueue != 0 {
		t.Errorf("rx_queue %d after consuming every frame", st.RxQueue)
	}
}

func TestNetdevTxSendsEachWriteAsAFrame(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	frame := udpFrame("hello")
	hex := fmt.Sprintf("%x", frame)
	m.sh(t, "printf '"+escaped(frame)+"' > netdev/mem0/tx")
	if got := m.sent(t, "mem0"); !bytes.Equal(got, frame) {
		t.Errorf("printf > tx sent % x\nwant % x", got, frame)
	}
	m.sh(t, "echo "+hex+" | xxd -r -p > netdev/mem0/tx")
	if got := m.sent(t, "mem0"); !bytes.Equal(got, frame) {
		t.Errorf("xxd -r -p > tx sent % x\nwant % x", got, frame)
	}
	big := bytes.Repeat([]byte{0xab}, testMaxFrame)
	m.sh(t, "cat "+file(t, "big", big)+" > netdev/mem0/tx")
	if got := m.sent(t, "mem0"); !bytes.Equal(got, big) {
		t.Errorf("cat of a %d-byte frame > tx sent %d bytes", len(big), len(got))
	}
	st := m.ports["mem0"].Stats()
	if st.TxPackets != 3 || st.TxBytes != uint64(2*len(frame)+len(big)) {
		t.Errorf("tx_packets %d tx_bytes %d", st.TxPackets, st.TxBytes)
	}
}

// escaped writes b as printf escapes.
func escaped(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, `\x%02x`, c)
	}
	return s.String()
}

func TestNetdevTxRefusesBadFrames(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	for _, tc := range []struct{ script, errno string }{
		{"printf 'short' > netdev/mem0/tx", "Invalid argument"},
		{"head -c 1519 /dev/zero > netdev/mem0/tx", "Invalid argument"},
		{"cat netdev/mem0/tx", "Permission denied"},
		{"cat netdev/mem0/inject", "Permission denied"},
		{"echo x > netdev/mem0/capture", "Permission denied"},
		{"echo x > netdev/mem0/stats", "Permission denied"},
	} {
		before := len(m.log.lines())
		out, err := m.try(tc.script)
		if err == nil || !strings.Contains(out, tc.errno) {
			t.Errorf("%s: %v %q, want %s", tc.script, err, out, tc.errno)
		}
		if n := len(m.log.lines()) - before; n != 1 {
			t.Errorf("%s logged %d lines, want 1", tc.script, n)
		}
	}
	m.nothingSent(t, "mem0")
}

func TestNetdevInjectSendsEveryRecord(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	frames := [][]byte{udpFrame("one"), udpFrame("two"), udpFrame(strings.Repeat("3", 1400))}
	for _, tc := range []struct {
		name string
		bo   binary.AppendByteOrder
		nano bool
		cmd  string
	}{
		{"little-endian µs, cat", binary.LittleEndian, false, "cat %s > netdev/mem0/inject"},
		{"big-endian ns, 7-byte writes", binary.BigEndian, true, "dd if=%s of=netdev/mem0/inject bs=7 status=none"},
		{"little-endian ns, 1-byte writes", binary.LittleEndian, true, "dd if=%s of=netdev/mem0/inject bs=1 status=none"},
		{"big-endian µs, 4096-byte writes", binary.BigEndian, false, "dd if=%s of=netdev/mem0/inject bs=4096 status=none"},
	} {
		path := file(t, "x.pcap", netdevtest.PcapStream(tc.bo, tc.nano, 1, frames...))
		m.sh(t, fmt.Sprintf(tc.cmd, path))
		for i, want := range frames {
			if got := m.sent(t, "mem0"); !bytes.Equal(got, want) {
				t.Errorf("%s: frame %d: got % x\nwant % x", tc.name, i, got, want)
			}
		}
	}
}

func TestNetdevInjectRefusesBadStreams(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	good := udpFrame("good")
	badMagic := netdevtest.PcapStream(binary.LittleEndian, false, 1, good)
	binary.LittleEndian.PutUint32(badMagic, 0xdeadbeef)
	oversized := netdevtest.PcapStream(binary.LittleEndian, false, 1, good, bytes.Repeat([]byte{1}, testMaxFrame+1), good)
	tiny := netdevtest.PcapStream(binary.BigEndian, false, 1, good, good[:10], good)
	for _, tc := range []struct {
		name   string
		stream []byte
		sent   int // records sent before the bad one
	}{
		{"bad magic", badMagic, 0},
		{"link type 101 (raw IP)", netdevtest.PcapStream(binary.LittleEndian, false, 101, good), 0},
		{"a record larger than the device's frames", oversized, 1},
		{"a record shorter than an Ethernet header", tiny, 1},
	} {
		before := len(m.log.lines())
		out, err := m.try("cat " + file(t, "bad.pcap", tc.stream) + " > netdev/mem0/inject")
		if err == nil || !strings.Contains(out, "Invalid argument") {
			t.Errorf("%s: %v %q, want EINVAL", tc.name, err, out)
		}
		if n := len(m.log.lines()) - before; n != 1 {
			t.Errorf("%s: logged %d lines, want 1:\n%s", tc.name, n, strings.Join(m.log.lines()[before:], "\n"))
		}
		for range tc.sent {
			if got := m.sent(t, "mem0"); !bytes.Equal(got, good) {
				t.Errorf("%s: sent % x, want the record before the bad one", tc.name, got)
			}
		}
	}
	if st := m.ports["mem0"].Stats(); st.TxPackets != 2 {
		t.Errorf("tx_packets %d, want 2: nothing after a bad record", st.TxPackets)
	}
}

// TestNetdevInjectKeepsOrderAcrossWrites sends enough records, in writes
// that end inside records, for each write to be parsed while the one
// before it is sent: every record arrives, once, in order.
func TestNetdevInjectKeepsOrderAcrossWrites(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	var frames [][]byte
	for i := range 300 {
		frames = append(frames, udpFrame(fmt.Sprintf("record-%03d-%s", i, strings.Repeat("x", i%7*150))))
	}
	path := file(t, "x.pcap", netdevtest.PcapStream(binary.LittleEndian, false, 1, frames...))
	m.sh(t, "dd if="+path+" of=netdev/mem0/inject bs=5000 status=none")
	for i, want := range frames {
		if got := m.sent(t, "mem0"); !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got % x\nwant % x", i, got, want)
		}
	}
	if st := m.ports["mem0"].Stats(); st.TxPackets != uint64(len(frames)) {
		t.Errorf("tx_packets %d, want %d", st.TxPackets, len(frames))
	}
}

// TestNetdevInjectRefusesAShortRecordInItsWrite checks that a record too
// short to be a frame fails the very write that carries it, though
// records are sent after their write returns, with the record before it
// sent by then.
func TestNetdevInjectRefusesAShortRecordInItsWrite(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	good := udpFrame("good")
	stream := netdevtest.PcapStream(binary.LittleEndian, false, 1, good, good[:10], good)
	out := m.sh(t, python3()+` -c '
import os, sys
fd = os.open("netdev/mem0/inject", os.O_WRONLY)
try:
    os.write(fd, open(sys.argv[1], "rb").read())
    print("written")
except OSError as e:
    print(e.strerror)
os.close(fd)
' `+file(t, "short.pcap", stream))
	if out != "Invalid argument\n" {
		t.Errorf("write of a stream with a short record: %q, want Invalid argument", out)
	}
	if st := m.ports["mem0"].Stats(); st.TxPackets != 1 {
		t.Errorf("tx_packets %d, want 1: the record before the short one", st.TxPackets)
	}
}

// TestNetdevInjectReportsARefusedRecordLater has the device go away
// between two writes. The second write's record is refused once it is
// sent, after that write returned: the next write, or else the close,
// fails with EIO, and so does every later write, each logged; nothing
// after the refused record is sent.
func TestNetdevInjectReportsARefusedRecordLater(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0", "mem1")
	good := udpFrame("good")
	stream := netdevtest.PcapStream(binary.LittleEndian, false, 1, good, good, good)
	first := len(stream) - 2*(16+len(good))
	for _, tc := range []struct {
		dev, then, want string
		logged          int // lines: one per failed write or close
	}{
		{"mem0", `step("third write", lambda: os.write(fd, rest[len(rest)//2:]))
step("fourth write", lambda: os.write(fd, rest))`,
			"second write ok\nthird write Input/output error\nfourth write Input/output error\nclose ok\n", 2},
		{"mem1", "", "second write ok\nclose Input/output error\n", 1},
	} {
		dir := t.TempDir()
		flag, outPath := filepath.Join(dir, "gone"), filepath.Join(dir, "out")
		cmd := m.start(t, python3()+` -c '
import os, sys, time
def step(name, f):
    try:
        f()
        print(name, "ok")
    except OSError as e:
        print(name, e.strerror)
data = open(sys.argv[1], "rb").read()
first, flag = int(sys.argv[2]), sys.argv[3]
fd = os.open("netdev/`+tc.dev+`/inject", os.O_WRONLY)
os.write(fd, data[:first])
while not os.path.exists(flag):
    time.sleep(0.005)
rest = data[first:]
step("second write", lambda: os.write(fd, rest[:len(rest)//2]))
`+tc.then+`
step("close", lambda: os.close(fd))
' `+fmt.Sprintf("%s %d %s > %s", file(t, "x.pcap", stream), first, flag, outPath))
		port := m.ports[tc.dev]
		waitFor(t, "the first record to be sent", func() bool { return port.Stats().TxPackets == 1 })
		before := len(m.log.lines())
		m.peers[tc.dev].Close()
		if err := os.WriteFile(flag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := waitExit(t, cmd); err != nil {
			t.Fatalf("%s: %v", tc.dev, err)
		}
		out, err := os.ReadFile(outPath)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != tc.want {
			t.Errorf("%s: %q, want %q", tc.dev, out, tc.want)
		}
		if st := port.Stats(); st.TxPackets != 1 || st.TxErrors != 1 {
			t.Errorf("%s: tx_packets %d tx_errors %d, want 1 and 1: nothing tried after the refused record", tc.dev, st.TxPackets, st.TxErrors)
		}
		var lines []string
		for _, l := range m.log.lines()[before:] {
			if strings.Contains(l, "inject") {
				lines = append(lines, l)
			}
		}
		if len(lines) != tc.logged || !strings.Contains(strings.Join(lines, "\n"), "record 2") {
			t.Errorf("%s: log %q, want %d lines about record 2", tc.dev, lines, tc.logged)
		}
	}
}

// TestNetdevInjectReportsACutStreamAtClose writes a stream that stops
// inside its second record: the first is sent, and close(2) fails with
// EINVAL, logged once (not again at release).
func TestNetdevInjectReportsACutStreamAtClose(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	good := udpFrame("good")
	stream := netdevtest.PcapStream(binary.LittleEndian, false, 1, good, good)
	path := file(t, "cut.pcap", stream[:len(stream)-5])
	before := len(m.log.lines())
	out := m.sh(t, python3()+` -c '
import os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open("netdev/mem0/inject", os.O_WRONLY)
os.write(fd, data)
try:
    os.close(fd)
    print("closed")
except OSError as e:
    print(e.strerror)
' `+path)
	if out != "Invalid argument\n" {
		t.Errorf("close of a cut stream: %q, want Invalid argument", out)
	}
	if got := m.sent(t, "mem0"); !bytes.Equal(got, good) {
		t.Errorf("sent % x, want the whole first record", got)
	}
	waitFor(t, "the release", func() bool { return len(m.log.lines())-before >= 1 })
	lines := m.log.lines()[before:]
	if len(lines) != 1 || !strings.Contains(lines[0], "stream ends inside a record") {
		t.Errorf("log: %q, want one line about the cut stream", lines)
	}
}

func TestNetdevCaptureStreamsReceivedAndSentFrames(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	out := filepath.Join(t.TempDir(), "x.pcap")
	in, tx := udpFrame("received"), udpFrame("sent")
	size := 24 + 16 + len(in) + 16 + len(tx)
	cmd := m.start(t, fmt.Sprintf("head -c %d netdev/mem0/capture > %s", size, out))
	waitFor(t, "the capture to open", func() bool { return m.captures("mem0") == 1 })
	m.receive(t, "mem0", in)
	m.sh(t, "cat "+file(t, "tx", tx)+" > netdev/mem0/tx")
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("head of capture: %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recs := pcapRecords(t, data)
	if len(recs) != 2 || !bytes.Equal(recs[0], in) || !bytes.Equal(recs[1], tx) {
		t.Errorf("records % x, want the received frame then the sent one", recs)
	}
	waitFor(t, "the capture to close", func() bool { return m.captures("mem0") == 0 })
	seek := m.sh(t, python3()+` -c '
import os
f = os.open("netdev/mem0/capture", os.O_RDONLY)
try:
    os.lseek(f, 10, os.SEEK_SET)
    print("seeked")
except OSError as e:
    print(e.strerror)
'`)
	if seek != "Illegal seek\n" {
		t.Errorf("lseek on capture: %q, want ESPIPE", seek)
	}
}

// TestNetdevCaptureReadEndsOnInterrupt blocks a reader of capture, with
// nothing to read, and sends it SIGINT: the kernel interrupts the FUSE
// read, and the reader dies at once.
func TestNetdevCaptureReadEndsOnInterrupt(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	cmd := m.start(t, "exec cat netdev/mem0/capture > /dev/null")
	waitFor(t, "the capture to open", func() bool { return m.captures("mem0") == 1 })
	waitFor(t, "cat to block in read", func() bool { return blockedInRead(cmd.Process.Pid) })
	// The kernel sends INTERRUPT only for a request pondd has taken; one
	// still queued it withdraws on its own.
	waitFor(t, "the read to reach the capture", func() bool { return waitingIn("netdev.(*Capture).ReadContext") })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := waitExit(t, cmd)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("cat ended with %v, want death by SIGINT", err)
	}
	waitFor(t, "the capture to close", func() bool { return m.captures("mem0") == 0 })
	if !slices.ContainsFunc(m.log.lines(), func(l string) bool { return strings.Contains(l, "context canceled") }) {
		t.Errorf("log %q does not show the interrupted read", m.log.lines())
	}
}

// waitingIn reports whether a goroutine of this process is in fn.
func waitingIn(fn string) bool {
	buf := make([]byte, 1<<20)
	return bytes.Contains(buf[:runtime.Stack(buf, true)], []byte(fn+"("))
}

// blockedInRead reports whether pid sleeps in a read(2) that waits for
// the answer of a FUSE server.
func blockedInRead(pid int) bool {
	syscallLine, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	if err != nil || !strings.HasPrefix(string(syscallLine), fmt.Sprint(syscall.SYS_READ)+" ") {
		return false
	}
	wchan, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
	return err == nil && string(wchan) == "request_wait_answer"
}

// TestNetdevCaptureSlowReaderLoses opens a capture that reads nothing
// while more frames arrive than its ring holds: it loses some, counted,
// and the device receives every one.
func TestNetdevCaptureSlowReaderLoses(t *testing.T) {
	m := mountDevices(t, netdev.Config{RxQueue: 16}, "mem0")
	cmd := m.start(t, "exec 3<netdev/mem0/capture; read -r _")
	waitFor(t, "the capture to open", func() bool { return m.captures("mem0") == 1 })
	frame := udpFrame(strings.Repeat("x", 1400))
	n := netdev.DefaultCaptureBytes/len(frame) + 100
	for range n / 50 {
		frames := make([][]byte, 50)
		for i := range frames {
			frames[i] = frame
		}
		m.receive(t, "mem0", frames...)
	}
	stats := m.sh(t, "cat netdev/mem0/stats")
	if lost := statValue(t, stats, "capture_lost"); lost == 0 || statValue(t, stats, "rx_packets") != uint64(n/50*50) {
		t.Errorf("after %d frames past an idle capture:\n%s", n, stats)
	}
	cmd.Process.Kill()
	waitExit(t, cmd) // killed: its error says so

	waitFor(t, "the capture to close", func() bool { return m.captures("mem0") == 0 })
	if after := statValue(t, m.sh(t, "cat netdev/mem0/stats"), "capture_lost"); after != statValue(t, stats, "capture_lost") {
		t.Errorf("capture_lost changed from %d to %d when the capture closed", statValue(t, stats, "capture_lost"), after)
	}
	if !slices.ContainsFunc(m.log.lines(), func(l string) bool { return strings.Contains(l, "lost") }) {
		t.Errorf("log %q does not say the reader lost frames", m.log.lines())
	}
}

// TestNetdevDeviceGone closes the far end, as ip link del does to a TAP,
// then the port, as pondd does when it sees that: the directory stays
// with its stats, tx fails with EIO, and a capture's stream ends.
func TestNetdevDeviceGone(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0", "mem1")
	m.receive(t, "mem0", udpFrame("before"))
	out := filepath.Join(t.TempDir(), "x.pcap")
	cmd := m.start(t, "cat netdev/mem0/capture > "+out)
	waitFor(t, "the capture to open", func() bool { return m.captures("mem0") == 1 })
	m.peers["mem0"].Close()
	<-m.ports["mem0"].Done()
	if !errors.Is(m.ports["mem0"].Err(), netdev.ErrDeviceGone) {
		t.Fatalf("port error %v, want ErrDeviceGone", m.ports["mem0"].Err())
	}
	if up := statValue(t, m.sh(t, "cat netdev/mem0/stats"), "up"); up != 0 {
		t.Errorf("up %d after the device went", up)
	}
	m.ports["mem0"].Close()
	if err := waitExit(t, cmd); err != nil {
		t.Errorf("cat of the capture of a closed port: %v", err)
	}
	if data, err := os.ReadFile(out); err != nil || len(pcapRecords(t, data)) != 0 {
		t.Errorf("capture of a device gone: %v, %d bytes", err, len(data))
	}
	for _, script := range []string{"printf '" + escaped(udpFrame("x")) + "' > netdev/mem0/tx", "cat netdev/mem0/capture"} {
		if out, err := m.try(script); err == nil || !strings.Contains(out, "Input/output error") {
			t.Errorf("%s on a device gone: %v %q, want EIO", script, err, out)
		}
	}
	if got := m.sh(t, "ls netdev/mem0/rx | wc -l"); got != "0\n" {
		t.Errorf("frames of a closed port still listed: %s", got)
	}
	m.receive(t, "mem1", udpFrame("still"))
	m.sh(t, "cat netdev/mem1/stats && ls netdev/mem1/rx/1")
}

func TestNetdevMetrics(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0", "mem1")
	m.receive(t, "mem1", udpFrame("x"), udpFrame("y"))
	series, err := parseExposition(m.sh(t, "cat metrics"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		`pond_netdev_rx_packets_total{device="mem1"}`: 2,
		`pond_netdev_rx_packets_total{device="mem0"}`: 0,
		`pond_netdev_rx_queue_max{device="mem0"}`:     netdev.DefaultRxQueue,
		`pond_netdev_up{device="mem0"}`:               1,
	} {
		if got, ok := series[name]; !ok || got != want {
			t.Errorf("%s = %v (present %t), want %v", name, got, ok, want)
		}
	}
}

func TestNetdevErrnos(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("write netdev/tap0/tx: %w", err) }
	for _, tc := range []struct {
		err  error
		want syscall.Errno
	}{
		{wrap(netdev.ErrFrameSize), syscall.EINVAL},
		{wrap(netdev.ErrPcapFormat), syscall.EINVAL},
		{wrap(netdev.ErrNoFrame), syscall.ENOENT},
		{wrap(errNoDevice), syscall.ENOENT},
		{wrap(netdev.ErrBusy), syscall.EBUSY},
		{wrap(netdev.ErrDeviceGone), syscall.EIO},
		{wrap(netdev.ErrClosed), syscall.EIO},
		{wrap(errWriteOnly), syscall.EACCES},
	} {
		if got := errnoOf(tc.err); got != tc.want {
			t.Errorf("errnoOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestNetdevTxJoinsLineBufferedPieces writes frames the way bash's printf
// does, in pieces that end after each newline byte, and the way a program
// does, a whole frame per write(2) on one descriptor.
func TestNetdevTxJoinsLineBufferedPieces(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	nl := udpFrame("ends in a newline\n")
	m.sh(t, "printf '"+escaped(nl)+"' > netdev/mem0/tx")
	if got := m.sent(t, "mem0"); !bytes.Equal(got, nl) {
		t.Errorf("printf of a frame ending in a newline sent % x\nwant % x", got, nl)
	}
	frames := [][]byte{udpFrame("a\n"), udpFrame("b"), udpFrame("\n\n")}
	m.sh(t, python3()+` -c '
import os, sys
fd = os.open("netdev/mem0/tx", os.O_WRONLY)
for f in sys.argv[1:]:
    os.write(fd, bytes.fromhex(f))
os.close(fd)
' `+fmt.Sprintf("%x %x %x", frames[0], frames[1], frames[2]))
	for i, want := range frames {
		if got := m.sent(t, "mem0"); !bytes.Equal(got, want) {
			t.Errorf("write %d of one descriptor sent % x\nwant % x", i, got, want)
		}
	}
	// A frame whose IPv4 header claims more than it holds is held at its
	// newline, and sent as it is when the descriptor closes.
	cut := udpFrame("cut\n")
	cut[17]++
	m.sh(t, "printf '"+escaped(cut)+"' > netdev/mem0/tx")
	if got := m.sent(t, "mem0"); !bytes.Equal(got, cut) {
		t.Errorf("a held frame sent at close: % x\nwant % x", got, cut)
	}
	if st := m.ports["mem0"].Stats(); st.TxPackets != 5 {
		t.Errorf("tx_packets %d, want 5", st.TxPackets)
	}
}

// TestNetdevRxFrameIsAChainDirectory reads a received frame through its
// chain directory: the payload in data, each header a layer.
func TestNetdevRxFrameIsAChainDirectory(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0")
	frame := udpFrame("hello")
	m.receive(t, "mem0", frame)
	if got := m.sh(t, "cat netdev/mem0/rx/1/data"); got != "hello" {
		t.Errorf("rx/1/data = %q, want the payload", got)
	}
	for k, proto := range []string{"ethernet", "ipv4", "udp", "payload"} {
		info := m.sh(t, fmt.Sprintf("cat netdev/mem0/rx/1/layers/%d/info", k))
		if !strings.Contains(info, "proto "+proto+"\n") {
			t.Errorf("layers/%d/info:\n%s\nwant proto %s", k, info, proto)
		}
	}
	if got := m.sh(t, "cat netdev/mem0/rx/1/layers/0/data"); got != string(frame) {
		t.Errorf("layers/0/data = % x\nwant the frame % x", got, frame)
	}
	if got := m.sh(t, "ls netdev/mem0/rx/1"); got != "ctl\ndata\nlayers\nsegments\nstats\n" {
		t.Errorf("rx/1 holds %q", got)
	}
	// The same inode at every lookup: the kernel's caches stay coherent.
	if got := m.sh(t, "stat -c %i netdev/mem0/rx/1/data; stat -c %i netdev/mem0/rx/1/data"); len(strings.Fields(got)) != 2 ||
		strings.Fields(got)[0] != strings.Fields(got)[1] {
		t.Errorf("inode numbers of rx/1/data at two lookups: %q", got)
	}
}

func TestNetdevSendFromCtlConsumesTheFrame(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0", "mem1")
	frame := udpFrame("forward me")
	m.receive(t, "mem0", frame, udpFrame("second"))
	out, err := m.try(`echo "send nosuch0" > netdev/mem0/rx/1/ctl`)
	if err == nil || !strings.Contains(out, "No such file") {
		t.Errorf("send on no such device: %v %q, want ENOENT", err, out)
	}
	m.sh(t, "echo pop > netdev/mem0/rx/1/ctl && echo 'send mem1' > netdev/mem0/rx/1/ctl")
	if got := m.sent(t, "mem1"); !bytes.Equal(got, frame) {
		t.Errorf("mem1 sent % x\nwant the whole frame % x", got, frame)
	}
	if got := m.sh(t, "ls netdev/mem0/rx"); got != "2\n" {
		t.Errorf("rx after a send: %q, want the frame consumed", got)
	}
	m.sh(t, `for f in netdev/mem0/rx/*; do echo "send mem1" > $f/ctl; done`)
	if got := m.sent(t, "mem1"); !bytes.Equal(got, udpFrame("second")) {
		t.Errorf("the shell's forwarding loop sent % x", got)
	}
	id := strings.TrimSpace(m.sh(t, "cat chains/new"))
	m.sh(t, "cat "+file(t, "f", frame)+" > chains/"+id+"/data && echo 'send mem0' > chains/"+id+"/ctl")
	if got := m.sent(t, "mem0"); !bytes.Equal(got, frame) {
		t.Errorf("a chain of chains/ sent % x", got)
	}
	if out, err := m.try("test -e chains/" + id); err == nil {
		t.Errorf("chains/%s still there after send: %q", id, out)
	}
}

// TestNetdevSendOnADeviceGoneKeepsTheChain: a send that fails leaves the
// chain as it was.
func TestNetdevSendOnADeviceGoneKeepsTheChain(t *testing.T) {
	m := mountDevices(t, netdev.Config{}, "mem0", "mem1")
	m.receive(t, "mem0", udpFrame("stays"))
	m.peers["mem1"].Close()
	out, err := m.try(`echo "send mem1" > netdev/mem0/rx/1/ctl`)
	if err == nil || !strings.Contains(out, "Input/output error") {
		t.Errorf("send on a device gone: %v %q, want EIO", err, out)
	}
	if got := m.sh(t, "cat netdev/mem0/rx/1/data"); got != "stays" {
		t.Errorf("the frame after a failed send: %q", got)
	}
}
