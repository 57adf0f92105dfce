package fs

import (
	"context"
	"errors"
	"syscall"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
)

// The tree's own failures, for the cases no lower package names. They are
// mapped to errno by errnoOf like every other error.
var (
	// errInvalid: a malformed command, number or offset in a write.
	errInvalid = errors.New("invalid argument")
	// errReadOnly: a write to a file that only reads.
	errReadOnly = errors.New("read-only file")
	// errNotPermitted: an operation the file never takes (truncating the
	// arena, changing a mode).
	errNotPermitted = errors.New("operation not permitted on this file")
	// errWriteOnly: a read of a file that only takes writes (netdev's tx
	// and inject).
	errWriteOnly = errors.New("write-only file")
	// errNoDevice: no device of that name under netdev/.
	errNoDevice = errors.New("no such device")
	// errNoChain: no chain of that name in chains/, or it is gone.
	errNoChain = errors.New("no such chain")
	// errChainExists: mkdir of a chain name in use.
	errChainExists = errors.New("chain name in use")
	// errNameTooLong: a chain name longer than chains/ takes.
	errNameTooLong = errors.New("chain name too long")
	// errLayerGone: a file of layers/<k>/ after layer k was popped.
	errLayerGone = errors.New("no such layer")
	// errWouldBlock: a read of a descriptor opened with O_NONBLOCK that
	// would wait, or make something (chains/new). Not a failure: it is not
	// logged.
	errWouldBlock = errors.New("would block")
)

// errnoOf is the one place an error becomes an errno. It looks through
// wrapping with errors.Is, because go-fuse's ToErrno does not.
func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pond.ErrInvalid), errors.Is(err, errInvalid):
		return syscall.EINVAL
	case errors.Is(err, pond.ErrExhausted):
		return syscall.ENOBUFS
	case errors.Is(err, pond.ErrQuota):
		return syscall.EDQUOT
	case errors.Is(err, pond.ErrNotFound):
		return syscall.ENOENT
	case errors.Is(err, pond.ErrExists):
		return syscall.EEXIST
	case errors.Is(err, pond.ErrTooLarge):
		return syscall.EFBIG
	case errors.Is(err, errReadOnly):
		return syscall.EACCES
	case errors.Is(err, errNotPermitted):
		return syscall.EPERM
	// The chain sentinels and the netdev ones join
	// the cases above; the errno for each is in README.md's table of errors.
	case errors.Is(err, chain.ErrRange), errors.Is(err, chain.ErrNarrowView),
		errors.Is(err, chain.ErrNoLayer), errors.Is(err, chain.ErrInvalid):
		return syscall.EINVAL
	case errors.Is(err, chain.ErrTooLong):
		return syscall.EFBIG
	case errors.Is(err, errNoChain), errors.Is(err, errLayerGone):
		return syscall.ENOENT
	case errors.Is(err, errChainExists):
		return syscall.EEXIST
	case errors.Is(err, errNameTooLong):
		return syscall.ENAMETOOLONG
	case errors.Is(err, netdev.ErrFrameSize), errors.Is(err, netdev.ErrPcapFormat),
		errors.Is(err, netdev.ErrBadFilter), errors.Is(err, netdev.ErrFilterIncomplete),
		errors.Is(err, netdev.ErrRingIndex):
		return syscall.EINVAL
	case errors.Is(err, errors.ErrUnsupported):
		return syscall.EOPNOTSUPP
	case errors.Is(err, netdev.ErrNoFrame), errors.Is(err, errNoDevice):
		return syscall.ENOENT
	case errors.Is(err, netdev.ErrBusy):
		return syscall.EBUSY
	case errors.Is(err, netdev.ErrNotSupported):
		return syscall.EOPNOTSUPP
	case errors.Is(err, netdev.ErrDeviceGone), errors.Is(err, netdev.ErrClosed):
		return syscall.EIO
	case errors.Is(err, errWriteOnly):
		return syscall.EACCES
	case errors.Is(err, errWouldBlock):
		return syscall.EAGAIN
	// A FUSE request the kernel interrupted (a signal to the reader of
	// capture) ends with EINTR, as go-fuse asks of a node that honours it.
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	case errors.As(err, &errno):
		return errno
	default:
		return syscall.EIO
	}
}

// fail logs one line naming the operation and the reason, and returns the
// errno the caller hands to the kernel. Every failed operation of the tree
// goes through it, so each failure is logged exactly once.
func (t *Tree) fail(op string, err error) syscall.Errno {
	t.log.Printf("%s: %v", op, err)
	return errnoOf(err)
}
