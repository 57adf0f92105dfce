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
	// the Ethernet header and one VLAN tag, at most MaxFrameLimit. It
	// follows the device while it runs (ip link set mtu), up or down.
	MaxFrame() int

	// Readv blocks until one frame arrives and copies it across iov, in
	// order, returning its length. The frame must be shorter than iov: a
	// frame that fills iov may have been cut, so it is dropped and Readv
	// returns ErrFrameSize (the device keeps working; an iov of more than
	// MaxFrameLimit bytes never cuts one). After Close, Readv returns
	// ErrClosed; once the device is removed it returns ErrDeviceGone. iov
	// is only borrowed for the call.
	Readv(iov [][]byte) (int, error)

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
	// ReadNow reads one frame across iov as Device.Readv does, or returns
	// ErrNotReady at once when the device has none.
	ReadNow(iov [][]byte) (int, error)
	// WaitFrame blocks until the device may have a frame, has failed
	// (the next ReadNow says how), or is closed (ErrClosed).
	WaitFrame() error
}
