package netdev

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// A TAP follows its link as the kernel announces changes. At open it
// subscribes a NETLINK_ROUTE socket of the calling thread's network
// namespace (the TAP's) to RTMGRP_LINK, then reads the MTU once; from
// then on every change of the link (ip link set mtu, up or down) comes as
// an RTM_NEWLINK message, queued on the socket by the kernel before the
// command that made the change returns, and its deletion as an
// RTM_DELLINK. A goroutine applies them as they arrive; a frame too long
// for the limit it left is checked again against whatever is still queued
// (followLink), so a raise counts from the moment ip returns, and
// Port.SyncLink does the same for a lowering where it matters.
// MaxFrame is the one place the device's largest frame is kept; the
// receive path reads it before every read, tx and inject before every
// frame. The deletion needs no action here: the TAP's descriptor reports
// it (ErrDeviceGone).

// linkBufSize holds one datagram of link announcements; the kernel sends
// each change as a message of a few hundred bytes.
const linkBufSize = 32 << 10

// watchLink subscribes to the link's announcements, reads its MTU and
// starts the goroutine that follows it until Close.
func (t *TAP) watchLink() error {
	nl, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	t.nl = nl
	if err := unix.Bind(nl, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		return fmt.Errorf("subscribe to link changes: %w", err)
	}
	index, err := linkIndex(t.name)
	if err != nil {
		return err
	}
	t.index, t.linkBuf = index, make([]byte, linkBufSize)
	if err := t.refreshMTU(); err != nil {
		return err
	}
	if !t.enter() {
		return fmt.Errorf("watch link: %w", ErrClosed)
	}
	go t.followLinks()
	return nil
}

// followLinks applies the link's announcements as they arrive, until
// Close. It counts as a user of the TAP, so Close waits for it before it
// closes the socket.
func (t *TAP) followLinks() {
	defer t.leave()
	for t.wait(t.nl, unix.POLLIN) == nil {
		if err := t.followLink(); err != nil {
			return
		}
	}
}

// syncLink applies the announcements queued now, unless the TAP is
// closed.
func (t *TAP) syncLink() {
	if t.enter() {
		t.followLink()
		t.leave()
	}
}

// followLink applies every announcement queued on the netlink socket,
// without waiting for more. When the socket overflowed and some were
// lost, it reads the MTU again.
func (t *TAP) followLink() error {
	t.linkMu.Lock()
	defer t.linkMu.Unlock()
	for {
		n, _, err := unix.Recvfrom(t.nl, t.linkBuf, unix.MSG_DONTWAIT)
		switch {
		case err == nil:
			t.applyLinkMessages(t.linkBuf[:n])
		case errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.ENOBUFS):
			if err := t.refreshMTU(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("link changes of %s: %w", t.name, err)
		}
	}
}

// applyLinkMessages takes the MTU of every RTM_NEWLINK of the TAP's link
// in one datagram. Each length is checked against what holds it.
func (t *TAP) applyLinkMessages(b []byte) {
	for len(b) >= unix.SizeofNlMsghdr {
		n := int(binary.NativeEndian.Uint32(b))
		if n < unix.SizeofNlMsghdr || n > len(b) {
			return
		}
		typ, body := binary.NativeEndian.Uint16(b[4:]), b[unix.SizeofNlMsghdr:n]
		if typ == unix.RTM_NEWLINK && len(body) >= unix.SizeofIfInfomsg &&
			int32(binary.NativeEndian.Uint32(body[4:])) == t.index {
			if mtu, ok := linkAttrU32(body[unix.SizeofIfInfomsg:], unix.IFLA_MTU); ok {
				t.maxFrame.Store(int64(maxFrameFor(int(mtu))))
			}
		}
		b = b[min(nlAlign(n), len(b)):]
	}
}

// linkAttrU32 finds the 32-bit attribute typ among a link message's
// attributes.
func linkAttrU32(b []byte, typ uint16) (uint32, bool) {
	for len(b) >= unix.SizeofRtAttr {
		n := int(binary.NativeEndian.Uint16(b))
		if n < unix.SizeofRtAttr || n > len(b) {
			return 0, false
		}
		if binary.NativeEndian.Uint16(b[2:]) == typ && n >= unix.SizeofRtAttr+4 {
			return binary.NativeEndian.Uint32(b[unix.SizeofRtAttr:]), true
		}
		b = b[min(nlAlign(n), len(b)):]
	}
	return 0, false
}

// nlAlign rounds a netlink length up to the 4 bytes messages and
// attributes are aligned to.
func nlAlign(n int) int { return (n + 3) &^ 3 }

// refreshMTU reads the MTU with an ioctl and updates MaxFrame.
func (t *TAP) refreshMTU() error {
	mtu, err := linkMTU(t.name)
	if err != nil {
		return err
	}
	t.maxFrame.Store(int64(maxFrameFor(mtu)))
	return nil
}
