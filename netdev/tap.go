package netdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/songgao/water"
	"golang.org/x/sys/unix"
)

// TAP is a Linux TAP device opened through github.com/songgao/water. It
// implements Device.
//
// Its descriptor is non-blocking, and read and written with raw system
// calls, not through the Go poller: a frame costs one read(2) or write(2),
// as in a C program's loop, without os.File's and the poller's
// bookkeeping or the scheduler's entersyscall and exitsyscall, which
// together cost about a seventh of a frame's time draining a TAP here,
// as much as the whole pond receive path. Only when the device has no
// frame (or no room) does a call wait, in poll(2) on the descriptor and
// on an eventfd that Close signals, so Close unblocks a pending Read at
// once. The price is one thread per waiting Read, as a blocking read(2)
// would take.
//
// water has traps that OpenTAP works around:
//   - it opens /dev/net/tun without close-on-exec: OpenTAP, holding
//     syscall.ForkLock so that no child started meanwhile inherits it,
//     duplicates the descriptor with close-on-exec through
//     SyscallConn().Control and closes water's. (File.Fd is never called:
//     it would put the descriptor in blocking mode.)
//   - it leaks the descriptor when the TUNSETIFF ioctl fails (a busy
//     name): OpenTAP closes it.
//   - it clears the device's persist flag unless told otherwise: OpenTAP
//     asks for persistence when the device already exists, so a TAP made
//     with "ip tuntap add … mode tap" outlives us, while one we create
//     goes away on Close.
type TAP struct {
	name    string
	fd      int // the TAP's descriptor, non-blocking; valid while users count it
	wake    int // eventfd that Close makes readable, waking every waiter
	created bool

	// maxFrame is the one home of the device's largest frame: set from
	// the MTU at open and from every change the kernel announces on nl
	// since (see followLink).
	maxFrame atomic.Int64
	nl       int   // netlink socket subscribed to link changes, non-blocking
	index    int32 // the link's interface index, to pick its announcements
	linkMu   sync.Mutex
	linkBuf  []byte // one datagram of announcements; guarded by linkMu

	// dropBase is the kernel's count of the device's transmit drops when
	// we opened it, which FilterDrops counts from.
	dropBase uint64
	filterMu sync.Mutex // serialises SetFilter and guards filter
	filter   Filter     // the program attached, nil when none

	// users counts the reads and writes using fd and the link watcher
	// using nl, with closedBit set once Close began: no call starts after
	// it, and the descriptors are closed only when the last one has left,
	// so a call never reaches a descriptor number that was reused
	// meanwhile.
	users     atomic.Int64
	idle      chan struct{} // closed when users falls to closedBit alone
	idleOnce  sync.Once
	closeOnce sync.Once
}

var (
	_ Device = (*TAP)(nil)
	_ Poller = (*TAP)(nil)
)

// closedBit marks TAP.users once Close has begun.
const closedBit = 1 << 62

// maxInlineIovecs is how many segments Writev passes to writev(2) from
// the stack; a frame of more costs an allocation.
const maxInlineIovecs = 16

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
	if err := t.watchLink(); err != nil {
		t.Close()
		return nil, fmt.Errorf("open tap %s: %w", name, err)
	}
	t.dropBase, _ = txDropped(name) // no counters: count from 0
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
	t, err := adopt(file)
	if err != nil {
		return nil, fmt.Errorf("open tap %s: %w", name, err)
	}
	t.name, t.created = ifce.Name(), !existed
	return t, nil
}

// adopt makes a TAP of a duplicate of file's descriptor, close-on-exec,
// and closes file. The caller holds syscall.ForkLock for reading, so no
// child inherits the descriptor before it is closed.
func adopt(file *os.File) (*TAP, error) {
	fd := -1
	conn, err := file.SyscallConn()
	if err == nil {
		var dupErr error
		err = conn.Control(func(raw uintptr) { fd, dupErr = dupNonblocking(int(raw)) })
		if err == nil {
			err = dupErr
		}
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &TAP{fd: fd, wake: wake, nl: -1, idle: make(chan struct{})}, nil
}

// dupNonblocking duplicates fd with close-on-exec, checking that it is
// non-blocking, as water opens it: Read and Writev make raw system calls
// that must never wait in the kernel.
func dupNonblocking(fd int) (int, error) {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return -1, fmt.Errorf("descriptor flags: %w", err)
	}
	if flags&unix.O_NONBLOCK == 0 {
		return -1, fmt.Errorf("water opened %s in blocking mode: %w", tunPath, unix.EINVAL)
	}
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("duplicate descriptor: %w", err)
	}
	return nfd, nil
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

// MaxFrame is the largest frame the TAP carries now: its MTU plus 18
// bytes (Ethernet header and one VLAN tag), as the kernel last announced
// it.
func (t *TAP) MaxFrame() int { return int(t.maxFrame.Load()) }

// Created reports whether OpenTAP made the device (it goes away on Close)
// rather than attaching to a persistent one (it stays).
func (t *TAP) Created() bool { return t.created }

// Readv reads one frame across iov; see Device.Readv.
func (t *TAP) Readv(iov [][]byte) (int, error) {
	for {
		n, err := t.ReadNow(iov)
		if !errors.Is(err, ErrNotReady) {
			return n, err
		}
		if err := t.WaitFrame(); err != nil {
			return 0, err
		}
	}
}

// ReadNow reads one frame across iov as Readv does, with one system call
// that never waits: ErrNotReady when the TAP holds no frame. The kernel
// cuts a frame longer than iov without saying so, which is why a frame
// that fills iov is reported as ErrFrameSize instead of being returned.
func (t *TAP) ReadNow(iov [][]byte) (int, error) {
	room := iovLen(iov)
	if room == 0 {
		return 0, fmt.Errorf("read %s: empty buffer: %w", t.name, ErrFrameSize)
	}
	if !t.enter() {
		return 0, fmt.Errorf("read %s: %w", t.name, ErrClosed)
	}
	n, err := t.rawIOV(unix.SYS_READ, unix.SYS_READV, iov)
	t.leave()
	switch {
	case err == unix.EAGAIN:
		return 0, ErrNotReady
	case err != nil:
		return 0, t.ioError("read", err)
	case n >= room:
		return 0, fmt.Errorf("read %s: frame of %d bytes or more, max frame %d: %w",
			t.name, n, t.MaxFrame(), ErrFrameSize)
	}
	return n, nil
}

// WaitFrame blocks until the TAP may hold a frame, or fails, or Close
// begins; see Poller.
func (t *TAP) WaitFrame() error {
	if !t.enter() {
		return fmt.Errorf("read %s: %w", t.name, ErrClosed)
	}
	err := t.wait(t.fd, unix.POLLIN)
	t.leave()
	if err != nil {
		return t.ioError("read", err)
	}
	return nil
}

// iovLen is the bytes iov holds.
func iovLen(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
}

// Writev sends one frame with one system call; see Device.Writev. A
// frame longer than MaxFrame is checked again against the announcements
// still waiting on the netlink socket: the MTU may have been raised an
// instant ago.
func (t *TAP) Writev(iov [][]byte) (int, error) {
	n := iovLen(iov)
	if !t.enter() {
		return 0, fmt.Errorf("write %s: %w", t.name, ErrClosed)
	}
	if n > t.MaxFrame() {
		t.followLink()
	}
	if n < EthHeaderLen || n > t.MaxFrame() {
		t.leave()
		return 0, fmt.Errorf("write %s: %d bytes, not %d to %d: %w",
			t.name, n, EthHeaderLen, t.MaxFrame(), ErrFrameSize)
	}
	n, err := t.rawIOV(unix.SYS_WRITE, unix.SYS_WRITEV, iov)
	for err == unix.EAGAIN {
		if err = t.wait(t.fd, unix.POLLOUT); err == nil {
			n, err = t.rawIOV(unix.SYS_WRITE, unix.SYS_WRITEV, iov)
		}
	}
	t.leave()
	if err != nil {
		return 0, t.ioError("write", err)
	}
	return n, nil
}

// rawIOV makes one system call on the non-empty iov, again when a signal
// interrupts it: trap1 (read or write) for one segment, which costs less
// than trapv (readv or writev) for more. It never waits: EAGAIN when the
// device has no frame or no room. The caller has entered.
func (t *TAP) rawIOV(trap1, trapv uintptr, iov [][]byte) (int, error) {
	trap, buf, n := trap1, unsafe.Pointer(unsafe.SliceData(iov[0])), len(iov[0])
	var inline [maxInlineIovecs]unix.Iovec
	if len(iov) > 1 {
		vec := inline[:0]
		for _, b := range iov {
			v := unix.Iovec{Base: unsafe.SliceData(b)}
			v.SetLen(len(b))
			vec = append(vec, v)
		}
		trap, buf, n = trapv, unsafe.Pointer(unsafe.SliceData(vec)), len(vec)
	}
	for {
		r, _, errno := unix.RawSyscall(trap, uintptr(t.fd), uintptr(buf), uintptr(n))
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR:
		default:
			return 0, errno
		}
	}
}

// wait blocks until descriptor fd is ready for events, or fails it, or
// Close begins (ErrClosed). It is a blocking system call the scheduler
// knows of, so it ties up a thread and nothing else.
func (t *TAP) wait(fd int, events int16) error {
	fds := [2]unix.PollFd{{Fd: int32(fd), Events: events}, {Fd: int32(t.wake), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds[:], -1)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("poll: %w", err)
		case fds[1].Revents != 0:
			return ErrClosed
		}
		// Ready, or an error (the device deleted) that the next call
		// reports.
		return nil
	}
}

// enter counts a call that is about to use the descriptor; false means
// the TAP is closed and the call must not.
func (t *TAP) enter() bool {
	if t.users.Add(1)&closedBit != 0 {
		t.leave()
		return false
	}
	return true
}

// leave ends what enter began; the last call to leave a closing TAP lets
// Close close the descriptor.
func (t *TAP) leave() {
	if t.users.Add(-1) == closedBit {
		t.idleOnce.Do(func() { close(t.idle) })
	}
}

// ioError maps an error of the TAP's descriptor to the package's
// sentinels: EBADFD is what the kernel answers once the device was
// deleted under us.
func (t *TAP) ioError(op string, err error) error {
	switch {
	case errors.Is(err, ErrClosed):
		return fmt.Errorf("%s %s: %w", op, t.name, ErrClosed)
	case errors.Is(err, unix.EBADFD):
		return fmt.Errorf("%s %s: %w (%v)", op, t.name, ErrDeviceGone, err)
	}
	return fmt.Errorf("%s %s: %w", op, t.name, err)
}

// Close closes the TAP's descriptor, unblocking a pending Read at once:
// it wakes every waiting call, and closes the descriptor when the last
// has returned. A TAP that OpenTAP created goes away with it; a
// persistent one stays. Closing a closed TAP fails with ErrClosed.
func (t *TAP) Close() error {
	err := fmt.Errorf("close %s: %w", t.name, ErrClosed)
	t.closeOnce.Do(func() {
		err = nil
		if t.users.Or(closedBit) != 0 {
			// Calls are under way: wake those that wait, then let the
			// last one out say so.
			var one [8]byte
			binary.NativeEndian.PutUint64(one[:], 1)
			unix.Write(t.wake, one[:])
			if t.users.Load() != closedBit {
				<-t.idle
			}
		}
		if cerr := unix.Close(t.fd); cerr != nil {
			err = fmt.Errorf("close %s: %w", t.name, cerr)
		}
		if t.nl >= 0 {
			unix.Close(t.nl)
		}
		unix.Close(t.wake)
	})
	return err
}
