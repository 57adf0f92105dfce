package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/pondfs/pondfs/netdev/netdevtest"
	"golang.org/x/sys/unix"
)

// The kernel's side of the TAP devices the device figures use. Every
// address here lives in the bench's private network namespace.
var (
	// kernelIP is the address the kernel sends from; peerIP the neighbour
	// it sends to, which the reader of the TAP plays; peerMAC the
	// neighbour's static link address, so that no ARP is needed.
	kernelIP = net.IPv4(10, 77, 0, 1).To4()
	peerIP   = net.IPv4(10, 77, 0, 2).To4()
	peerMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0x77, 0x02}
	// otherMAC is where frames written into a TAP are addressed: nobody
	// in the namespace, so the kernel drops them as soon as it has
	// received them, the same way for every writer.
	otherMAC = net.HardwareAddr{0x02, 0, 0, 0, 0x77, 0x99}
)

// benchPort is the UDP port the sender sends to; endPort marks the last
// frames of a run.
const (
	benchPort = 9
	endPort   = 10
)

// ip runs ip(8) with args and names the command in its error.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// makeTAP creates the persistent TAP name, IPv6 off, with a transmit queue
// of qlen frames and, when kernel is set, the kernel's side: the address
// kernel/24 and the static neighbour peer at peerMAC. It pushes the TAP's
// deletion onto u.
func makeTAP(u *undo, name string, qlen int, kernel, peer net.IP) error {
	if err := ip("tuntap", "add", name, "mode", "tap"); err != nil {
		return err
	}
	u.push(func() error { return ip("link", "del", name) })
	os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", []byte("1"), 0)
	if err := ip("link", "set", name, "txqueuelen", fmt.Sprint(qlen), "up"); err != nil || kernel == nil {
		return err
	}
	if err := ip("addr", "add", kernel.String()+"/24", "dev", name); err != nil {
		return err
	}
	return ip("neigh", "replace", peer.String(), "lladdr", peerMAC.String(), "dev", name, "nud", "permanent")
}

// openRawTAP attaches a plain blocking descriptor to the TAP name, as a
// C program would: open /dev/net/tun and TUNSETIFF, nothing more.
func openRawTAP(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err == nil {
		ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
		err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("attach to tap %s: %w", name, err)
	}
	return fd, nil
}

// tapDropped is how many frames the kernel dropped rather than queue them
// for the TAP's reader (its tx_dropped counter).
func tapDropped(name string) (uint64, error) {
	// /sys/class/net shows the namespace that mounted /sys; ip shows ours.
	out, err := exec.Command("ip", "-s", "-j", "link", "show", "dev", name).Output()
	if err != nil {
		return 0, fmt.Errorf("ip -s link show %s: %w", name, err)
	}
	var links []struct {
		Stats64 struct{ Tx struct{ Dropped uint64 } } `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return 0, fmt.Errorf("ip -s link show %s: %q: %v", name, out, err)
	}
	return links[0].Stats64.Tx.Dropped, nil
}

// udpPayloadFor is the UDP payload that makes an Ethernet frame of size
// bytes: Ethernet (14), IPv4 (20) and UDP (8) headers come first.
func udpPayloadFor(size int) int { return size - 14 - 20 - 8 }

// ethFrame is a size-byte IPv4/UDP frame to otherMAC, as a writer into a
// TAP sends it.
func ethFrame(size int) []byte {
	return netdevtest.UDP{
		DstMAC: otherMAC, SrcMAC: peerMAC, Src: peerIP, Dst: kernelIP,
		SrcPort: 40000, DstPort: benchPort, Payload: make([]byte, udpPayloadFor(size)),
	}.Frame()
}

// writeRaw writes frame to fd n times and returns how long that took.
func writeRaw(fd int, frame []byte, n int) (time.Duration, error) {
	start := time.Now()
	for range n {
		if _, err := unix.Write(fd, frame); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// udpSender sends datagrams that leave through the TAP as frames of a
// given size: the kernel-side sender every receive figure shares.
type udpSender struct {
	fd      int
	payload []byte
}

// newUDPSender makes a sender of frames of size bytes.
func newUDPSender(size int) (*udpSender, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("udp socket: %w", err)
	}
	// Frames queued in the TAP are no longer charged to the socket (the
	// TAP orphans them), but a large buffer keeps a burst from waiting.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 64<<20)
	return &udpSender{fd: fd, payload: make([]byte, udpPayloadFor(size))}, nil
}

// send sends n datagrams to peerIP's port.
func (s *udpSender) send(n, port int) error { return s.sendTo(peerIP, n, port) }

// sendTo sends n datagrams to addr's port.
func (s *udpSender) sendTo(addr net.IP, n, port int) error {
	to := &unix.SockaddrInet4{Port: port}
	copy(to.Addr[:], addr)
	for range n {
		if err := unix.Sendto(s.fd, s.payload, 0, to); err != nil {
			return fmt.Errorf("send to %s:%d: %w", addr, port, err)
		}
	}
	return nil
}

// Close closes the socket.
func (s *udpSender) Close() error { return unix.Close(s.fd) }

// queueAll runs send, which queues n frames in the TAP name, and fails
// when the TAP dropped any of them.
func queueAll(name string, n int, send func() error) error {
	before, err := tapDropped(name)
	if err != nil {
		return err
	}
	if err := send(); err != nil {
		return err
	}
	after, err := tapDropped(name)
	if err == nil && after != before {
		err = fmt.Errorf("the TAP dropped %d of the %d frames queued", after-before, n)
	}
	return err
}
