package pond

import "errors"

// Sentinel errors. Operations wrap them with what was attempted; test with
// errors.Is.
var (
	// ErrExhausted: no pool that could serve the request has a free buffer
	// and none may grow (each is at its max, or the arena is full).
	ErrExhausted = errors.New("pond: no buffers available")
	// ErrInjected: the allocation failed on purpose (Pool.FailAfter). It
	// comes with ErrExhausted, which it imitates; nothing waits on it.
	ErrInjected = errors.New("pond: failure injected")
	// ErrQuota: the account the allocation is charged to is at its limit.
	ErrQuota = errors.New("pond: account at its limit")
	// ErrTooLarge: the request can never be served by this pond.
	ErrTooLarge = errors.New("pond: request larger than the pond can serve")
	// ErrInvalid: a malformed configuration, number or argument.
	ErrInvalid = errors.New("pond: invalid argument")
	// ErrNotFound: no such pool or account.
	ErrNotFound = errors.New("pond: not found")
	// ErrExists: an account of that name already exists.
	ErrExists = errors.New("pond: already exists")
	// ErrBusy: the pond still has buffers in use.
	ErrBusy = errors.New("pond: buffers still in use")
	// ErrClosed: the pond has been closed.
	ErrClosed = errors.New("pond: closed")
	// ErrAudit: an invariant of the pond does not hold.
	ErrAudit = errors.New("pond: audit failed")
)
