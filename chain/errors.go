package chain

import "errors"

// Sentinel errors. Operations wrap them, and the pond's own errors, with
// what was attempted; test with errors.Is. The errno each stands for in
// the file tree is README.md's: ErrRange, ErrNarrowView, ErrNoLayer and
// ErrInvalid are EINVAL, ErrTooLong is EFBIG, and the pond's ErrExhausted
// and ErrQuota (which come through as they are) are ENOBUFS and EDQUOT.
var (
	// ErrRange: an offset or length outside the view or layer it names.
	ErrRange = errors.New("chain: offset or length out of range")
	// ErrNarrowView: the operation would grow a view that does not show
	// the whole chain, which would put bytes among hidden ones.
	ErrNarrowView = errors.New("chain: a view narrower than the chain cannot grow")
	// ErrNoLayer: no such layer (Pop of a bare chain, a layer index past
	// the top), or the top layer is not made of fragments.
	ErrNoLayer = errors.New("chain: no such layer")
	// ErrTooLong: the chain would grow past its maximum length.
	ErrTooLong = errors.New("chain: chain would grow past its maximum length")
	// ErrInvalid: an argument that is neither an offset nor a length is
	// wrong: a nil or freed chain, a chain of another pond, bad options.
	ErrInvalid = errors.New("chain: invalid argument")
)
