package netdev

// EthHeaderLen is the length of an Ethernet header, the shortest frame a
// device reads or sends.
const EthHeaderLen = ethHeaderLen

// MaxFrameLimit is the largest frame any device may carry: the largest MTU
// a TAP takes (65535) plus an Ethernet header.
const MaxFrameLimit = 65535 + EthHeaderLen

// Device is a source and sink of Ethernet frames, in the shape of
// wireguard-go's tun.Device: a TAP (OpenTAP) or an in-memory pair for
// tests (netdevtest.NewMemPair). Read and Writev may run concurrently with each other
// and with Close; two concurrent Reads (or Writevs) are allowed but gain
// nothing.
type Device interface {
	// Name is the interface name, e.g. "tap0".
	Name() string

	// MaxFrame is the largest frame the device carries now: its MTU plus
	// the Ethernet header and one VLAN tag, at most MaxFrameLimit. It can
	// grow while the device runs (ip link set mtu); Read reports a frame
	// that outgrew the caller's buffer rather than cutting it.
	MaxFrame() int

	// Read blocks until one frame arrives and copies it into p, returning
	// its length. The frame must be shorter than p: a frame that fills p
	// may have been cut, so it is dropped and Read returns ErrFrameSize
	// (the device keeps working; read again with a buffer of more than
	// MaxFrame bytes). After Close, Read returns ErrClosed; once the
	// device is removed it returns ErrDeviceGone. p is only borrowed for
	// the call.
	Read(p []byte) (int, error)

	// Writev sends one frame made of the concatenation of iov, in one
	// system call, and returns its length. A frame shorter than
	// EthHeaderLen or longer than MaxFrame fails with ErrFrameSize and
	// nothing is sent. iov is only borrowed for the call.
	Writev(iov [][]byte) (int, error)

	// Close releases the device and makes a pending Read return at once.
	// A TAP this process created goes away; one it attached to stays.
	Close() error
}

// Poller is a Device whose read is two steps: a read that never
// waits, and a wait for a frame that holds no buffer. The port receives
// through them, so that nothing it has lent to the device (a ring's slot)
// sits in a read waiting for traffic, and so that a ring attached while
// the device is idle takes the very next frame. TAP and
// netdevtest.MemDevice are Pollers; the port falls back to Read, and
// refuses rings, for another Device.
type Poller interface {
	// ReadNow reads one frame into p as Device.Read does, or returns
	// ErrNotReady at once when the device has none.
	ReadNow(p []byte) (int, error)
	// WaitFrame blocks until the device may have a frame, has failed
	// (the next ReadNow says how), or is closed (ErrClosed).
	WaitFrame() error
}
