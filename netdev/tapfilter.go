package netdev

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A TAP's filter runs in the kernel (TUNATTACHFILTER attaches it to the
// socket behind our descriptor), on each frame the kernel sends out of the
// device, before the frame is queued for us to read. The kernel drops a
// frame it rejects and counts it as the device's tx_dropped: the kernel
// sends what we receive, so its transmit drops are frames we never see.

var _ [unsafe.Sizeof(BPFInstruction{}) - unsafe.Sizeof(unix.SockFilter{})]struct{} // same layout
var _ [unsafe.Sizeof(unix.SockFilter{}) - unsafe.Sizeof(BPFInstruction{})]struct{}

// SetFilter attaches f to the TAP in the kernel, replacing the filter it
// had; an empty f removes it. The kernel checks the program: one it
// refuses fails with an error wrapping ErrBadFilter, and the filter
// attached before stays. The filter lasts until the next SetFilter or
// Close. f is copied by the kernel; the TAP keeps f to show it (Filter).
func (t *TAP) SetFilter(f Filter) error {
	t.filterMu.Lock()
	defer t.filterMu.Unlock()
	if !t.enter() {
		return t.ioError("set filter on", ErrClosed)
	}
	defer t.leave()
	if len(f) == 0 {
		if err := t.ioctlFilter(unix.TUNDETACHFILTER, nil); err != nil {
			return t.ioError("remove filter of", err)
		}
		t.filter = nil
		return nil
	}
	if err := t.ioctlFilter(unix.TUNATTACHFILTER, f); err != nil {
		// The kernel keeps the program it was given as the one to attach
		// to further queues even when it refused it: give it back the
		// old one.
		if len(t.filter) > 0 {
			t.ioctlFilter(unix.TUNATTACHFILTER, t.filter)
		}
		return fmt.Errorf("attach filter of %d instructions to %s: %w (%v)", len(f), t.name, ErrBadFilter, err)
	}
	t.filter = f
	return nil
}

// Filter is the filter attached to the TAP, nil when none. The caller
// must not change it.
func (t *TAP) Filter() Filter {
	t.filterMu.Lock()
	defer t.filterMu.Unlock()
	return t.filter
}

// Check asks the kernel whether it takes f as a socket filter, without
// attaching it anywhere that matters: it attaches f to a socket made for
// the purpose, through the same checker a TAP's filter goes through. A
// program it refuses fails with an error wrapping ErrBadFilter.
func (f Filter) Check() error {
	if len(f) == 0 {
		return nil
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("check filter: socket: %w", err)
	}
	defer unix.Close(fd)
	prog := unix.SockFprog{Len: uint16(len(f)), Filter: (*unix.SockFilter)(unsafe.Pointer(&f[0]))}
	err = unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
	runtime.KeepAlive(f)
	if err != nil {
		return fmt.Errorf("the kernel refuses the filter of %d instructions: %w (%v)", len(f), ErrBadFilter, err)
	}
	return nil
}

// ioctlFilter attaches f (TUNATTACHFILTER) or detaches the filter
// (TUNDETACHFILTER, f nil) through the TAP's descriptor; the caller has
// entered.
func (t *TAP) ioctlFilter(req uint, f Filter) error {
	var prog unix.SockFprog
	if len(f) > 0 {
		prog = unix.SockFprog{Len: uint16(len(f)), Filter: (*unix.SockFilter)(unsafe.Pointer(&f[0]))}
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(t.fd), uintptr(req), uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(f)
	if e != 0 {
		return e
	}
	return nil
}

// FilterDrops counts the frames the kernel dropped before the TAP could
// read them since it was opened: every frame the filter rejected, and any
// that found the TAP's kernel queue full. It reads the device's tx_dropped
// from /proc/self/net/dev, which shows this process's network namespace
// (unlike /sys/class/net, which shows the namespace that mounted sysfs).
// 0 when the device is gone.
func (t *TAP) FilterDrops() uint64 {
	now, err := txDropped(t.name)
	if err != nil || now < t.dropBase {
		return 0
	}
	return now - t.dropBase
}

// procNetDev is the kernel's table of this network namespace's devices.
const procNetDev = "/proc/self/net/dev"

// txDropped reads the tx_dropped counter of device name.
func txDropped(name string) (uint64, error) {
	data, err := os.ReadFile(procNetDev)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", procNetDev, err)
	}
	return parseTxDropped(data, name)
}

// txDropField is where tx_dropped is among a /proc/net/dev line's counters:
// after eight receive counters, tx bytes, packets and errs.
const txDropField = 11

// parseTxDropped finds device name's line in /proc/net/dev's text and
// returns its transmit drop count.
func parseTxDropped(data []byte, name string) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		dev, counters, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(dev) != name {
			continue
		}
		f := strings.Fields(counters)
		if len(f) <= txDropField {
			break
		}
		return strconv.ParseUint(f[txDropField], 10, 64)
	}
	return 0, fmt.Errorf("%s: no counters for %s", procNetDev, name)
}
