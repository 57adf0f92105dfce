package netdev

import "errors"

// Sentinel errors. Operations wrap them with the device and what was
// attempted; test with errors.Is. The errno each stands for in the file
// tree (README.md's table of errors) is given beside it.
var (
	// ErrDeviceGone: the device was removed under us (ip link del), so it
	// will never read or send again. EIO.
	ErrDeviceGone = errors.New("netdev: device is gone")
	// ErrFrameSize: a frame shorter than an Ethernet header (14 bytes) or
	// longer than the device's MaxFrame, or one that did not fit the
	// buffer it was read into. EINVAL.
	ErrFrameSize = errors.New("netdev: frame size out of range")
	// ErrBusy: another process (or another open in this one) holds the
	// device. EBUSY.
	ErrBusy = errors.New("netdev: device busy")
	// ErrClosed: the device, port or capture was closed by its owner. EIO.
	ErrClosed = errors.New("netdev: closed")
	// ErrNoFrame: no received frame of that sequence number is queued
	// (never received, consumed, or dropped). ENOENT.
	ErrNoFrame = errors.New("netdev: no such frame")
	// ErrBadFilter: a filter program that is malformed or that the kernel
	// refuses. EINVAL.
	ErrBadFilter = errors.New("netdev: bad filter program")
	// ErrFilterIncomplete: a filter program with fewer instructions than
	// its count line says. EINVAL once no more can come.
	ErrFilterIncomplete = errors.New("netdev: filter program cut short")
)

// ErrNotReady is what a Poller's ReadNow returns when the device holds
// no frame; it is never a failure.
var ErrNotReady = errors.New("netdev: no frame ready")

// Ring errors. Each stands for the errno beside it.
var (
	// ErrNotSupported: the device cannot carry a ring. EOPNOTSUPP.
	ErrNotSupported = errors.New("netdev: not supported")
	// ErrRingIndex: a ring's index, as the program wrote it, is further
	// from pondd's than the ring has slots. EINVAL.
	ErrRingIndex = errors.New("netdev: ring index out of range")
)
