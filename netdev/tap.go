package netdev

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/songgao/water"
	"golang.org/x/sys/unix"
)

// TAP is a Linux TAP device opened through github.com/songgao/water. It
// implements Device. Its descriptor is non-blocking and served by the Go
// poller, so Close unblocks a pending Read at once.
//
// water has traps that OpenTAP works around:
//   - it opens /dev/net/tun without close-on-exec: OpenTAP sets the flag
//     through SyscallConn().Control while holding syscall.ForkLock, so no
//     child started meanwhile inherits the descriptor. (File.Fd is never
//     called: it would put the descriptor in blocking mode, and Close
//     could no longer unblock a Read.)
//   - it leaks the descriptor when the TUNSETIFF ioctl fails (a busy
//     name): OpenTAP closes it.
//   - it clears the device's persist flag unless told otherwise: OpenTAP
//     asks for persistence when the device already exists, so a TAP made
//     with "ip tuntap add … mode tap" outlives us, while one we create
//     goes away on Close.
type TAP struct {
	name    string
	file    *os.File
	conn    syscall.RawConn
	created bool

	maxFrame atomic.Int64

	wmu sync.Mutex // one frame write at a time; guards w
	w   frameWrite
	// wdo is w.do as a func value, made once: a closure per frame would
	// cost a heap allocation on the send path.
	wdo func(fd uintptr) bool
}

var _ Device = (*TAP)(nil)

// frameWrite is one frame's write on the raw descriptor, for the Go
// poller to retry until the device takes it.
type frameWrite struct {
	iov [][]byte
	n   int
	err error
}

// do writes the frame: write(2) for one segment, which costs less than
// writev(2) on this path, else writev(2). It reports done unless the
// device's queue was full.
func (w *frameWrite) do(fd uintptr) bool {
	if len(w.iov) == 1 {
		w.n, w.err = unix.Write(int(fd), w.iov[0])
	} else {
		w.n, w.err = unix.Writev(int(fd), w.iov)
	}
	return w.err != unix.EAGAIN
}

// tunPath is the clone device every TAP is opened through.
const tunPath = "/dev/net/tun"

// openMu serialises OpenTAP, so that a descriptor water leaves behind on
// failure is the only new one of /dev/net/tun this package opened.
var openMu sync.Mutex

// OpenTAP creates the TAP device name, or attaches to it when it exists
// (a persistent TAP that no process holds), in the calling thread's
// network namespace. A TAP it creates is brought up and goes away on
// Close; one it attaches to keeps its persistence and its link state,
// which its owner chose. It fails with ErrBusy when another descriptor
// holds the device. The caller owns the TAP and must Close it.
func OpenTAP(name string) (*TAP, error) {
	if name == "" || len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("open tap %q: name must be 1 to %d bytes", name, unix.IFNAMSIZ-1)
	}
	existed, err := linkExists(name)
	if err != nil {
		return nil, fmt.Errorf("open tap %s: %w", name, err)
	}
	t, err := openWater(name, existed)
	if err != nil {
		return nil, err
	}
	if !existed {
		if err := linkUp(name); err != nil {
			t.Close()
			return nil, fmt.Errorf("open tap %s: bring link up: %w", name, err)
		}
	}
	if err := t.refreshMTU(); err != nil {
		t.Close()
		return nil, fmt.Errorf("open tap %s: %w", name, err)
	}
	return t, nil
}

// openWater opens the device through water and makes its descriptor
// close-on-exec before any fork can see it.
func openWater(name string, existed bool) (*TAP, error) {
	openMu.Lock()
	defer openMu.Unlock()
	before := tunFds()
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	ifce, err := water.New(water.Config{
		DeviceType: water.TAP,
		PlatformSpecificParams: water.PlatformSpecificParams{
			Name: name,
			// water sets or clears the persist flag at every open. An
			// existing TAP we can attach to is persistent (a non-persistent
			// one is held, so busy), and must stay so.
			Persist: existed,
		},
	})
	if err != nil {
		closeNewFds(before)
		return nil, openError(name, existed, err)
	}
	file, ok := ifce.ReadWriteCloser.(*os.File)
	if !ok {
		ifce.Close()
		return nil, fmt.Errorf("open tap %s: water returned a %T, not a file", name, ifce.ReadWriteCloser)
	}
	conn, err := file.SyscallConn()
	if err == nil {
		err = conn.Control(func(fd uintptr) { unix.CloseOnExec(int(fd)) })
	}
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("open tap %s: %w", name, err)
	}
	t := &TAP{name: ifce.Name(), file: file, conn: conn, created: !existed}
	t.wdo = t.w.do
	return t, nil
}

// openError names why water could not open the device.
func openError(name string, existed bool, err error) error {
	switch {
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("open tap %s: %w: another process holds it", name, ErrBusy)
	case existed && errors.Is(err, unix.EINVAL):
		return fmt.Errorf("open tap %s: an interface of that name exists and is not a TAP: %w", name, err)
	}
	return fmt.Errorf("open tap %s: %w", name, err)
}

// tunFds lists this process's descriptors of /dev/net/tun.
func tunFds() map[string]bool {
	fds := map[string]bool{}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fds
	}
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == tunPath {
			fds[e.Name()] = true
		}
	}
	return fds
}

// closeNewFds closes the descriptors of /dev/net/tun that are not in
// before: the one a failed water.New left open. The caller holds openMu,
// so no other open of this package made them.
func closeNewFds(before map[string]bool) {
	for name := range tunFds() {
		if before[name] {
			continue
		}
		var fd int
		if _, err := fmt.Sscan(name, &fd); err == nil {
			unix.Close(fd)
		}
	}
}

// Name is the interface name.
func (t *TAP) Name() string { return t.name }

// MaxFrame is the largest frame the TAP carries: its MTU plus 18 bytes
// (Ethernet header and one VLAN tag), read at open and again whenever a
// frame does not fit.
func (t *TAP) MaxFrame() int { return int(t.maxFrame.Load()) }

// Created reports whether OpenTAP made the device (it goes away on Close)
// rather than attaching to a persistent one (it stays).
func (t *TAP) Created() bool { return t.created }

// refreshMTU reads the MTU again and updates MaxFrame.
func (t *TAP) refreshMTU() error {
	mtu, err := linkMTU(t.name)
	if err != nil {
		return err
	}
	t.maxFrame.Store(int64(maxFrameFor(mtu)))
	return nil
}

// Read reads one frame into p; see Device.Read. The kernel cuts a frame
// longer than p without saying so, which is why a frame that fills p is
// reported as ErrFrameSize (and MaxFrame is read again, in case the MTU
// grew) instead of being returned.
func (t *TAP) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, fmt.Errorf("read %s: empty buffer: %w", t.name, ErrFrameSize)
	}
	n, err := t.file.Read(p)
	if err != nil {
		return 0, t.ioError("read", err)
	}
	if n >= len(p) {
		t.refreshMTU()
		return 0, fmt.Errorf("read %s: frame of %d bytes or more, max frame %d: %w",
			t.name, n, t.MaxFrame(), ErrFrameSize)
	}
	return n, nil
}

// Writev sends one frame with a single writev(2) of iov on the TAP's
// descriptor, through the Go poller; see Device.Writev.
func (t *TAP) Writev(iov [][]byte) (int, error) {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	if n > t.MaxFrame() {
		t.refreshMTU()
	}
	if n < EthHeaderLen || n > t.MaxFrame() {
		return 0, fmt.Errorf("write %s: %d bytes, not %d to %d: %w",
			t.name, n, EthHeaderLen, t.MaxFrame(), ErrFrameSize)
	}
	t.wmu.Lock()
	t.w = frameWrite{iov: iov}
	err := t.conn.Write(t.wdo)
	written := t.w.n
	if err == nil {
		err = t.w.err
	}
	t.w = frameWrite{}
	t.wmu.Unlock()
	if err != nil {
		return 0, t.ioError("write", err)
	}
	return written, nil
}

// ioError maps an error of the TAP's descriptor to the package's
// sentinels: a closed file is ErrClosed, and EBADFD is what the kernel
// answers once the device was deleted under us.
func (t *TAP) ioError(op string, err error) error {
	switch {
	case errors.Is(err, os.ErrClosed):
		return fmt.Errorf("%s %s: %w", op, t.name, ErrClosed)
	case errors.Is(err, unix.EBADFD):
		return fmt.Errorf("%s %s: %w (%v)", op, t.name, ErrDeviceGone, err)
	}
	return fmt.Errorf("%s %s: %w", op, t.name, err)
}

// Close closes the TAP's descriptor, unblocking a pending Read. A TAP that
// OpenTAP created goes away with it; a persistent one stays.
func (t *TAP) Close() error {
	if err := t.file.Close(); err != nil {
		return t.ioError("close", err)
	}
	return nil
}
