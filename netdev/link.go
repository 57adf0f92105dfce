package netdev

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// The interface ioctls a TAP needs beside its own descriptor: whether a
// link exists, bringing it up, and its MTU. Each goes through a datagram
// socket of the calling thread's network namespace, so a TAP made inside
// a private namespace is seen there, not in the host's (as /sys/class/net
// of a namespace that did not remount /sys would show).

// withCtlSocket runs fn with a fresh control socket and closes it.
func withCtlSocket(fn func(fd int) error) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer unix.Close(fd)
	return fn(fd)
}

// linkExists reports whether an interface of that name exists.
func linkExists(name string) (bool, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return false, err
	}
	err = withCtlSocket(func(fd int) error { return unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr) })
	if errors.Is(err, unix.ENODEV) {
		return false, nil
	}
	return err == nil, err
}

// linkIndex is the interface's index, as netlink names it.
func linkIndex(name string) (int32, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	err = withCtlSocket(func(fd int) error { return unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr) })
	if err != nil {
		return 0, fmt.Errorf("SIOCGIFINDEX: %w", err)
	}
	return int32(ifr.Uint32()), nil
}

// linkUp sets the interface administratively up, like ip link set NAME up.
func linkUp(name string) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	return withCtlSocket(func(fd int) error {
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return fmt.Errorf("SIOCGIFFLAGS: %w", err)
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			return fmt.Errorf("SIOCSIFFLAGS: %w", err)
		}
		return nil
	})
}

// linkMTU reads the interface's MTU.
func linkMTU(name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	err = withCtlSocket(func(fd int) error { return unix.IoctlIfreq(fd, unix.SIOCGIFMTU, ifr) })
	if err != nil {
		return 0, fmt.Errorf("SIOCGIFMTU: %w", err)
	}
	return int(ifr.Uint32()), nil
}

// maxFrameFor is the largest frame of a link of that MTU: the MTU plus an
// Ethernet header and one VLAN tag, at most MaxFrameLimit.
func maxFrameFor(mtu int) int {
	return min(mtu+EthHeaderLen+vlanTagLen, MaxFrameLimit)
}
