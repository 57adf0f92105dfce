package fs

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
)

func TestErrnoOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("write pools/128/ctl: %w", err) }
	for _, tc := range []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{wrap(pond.ErrInvalid), syscall.EINVAL},
		{wrap(errInvalid), syscall.EINVAL},
		{wrap(pond.ErrExhausted), syscall.ENOBUFS},
		{wrap(pond.ErrQuota), syscall.EDQUOT},
		{wrap(pond.ErrNotFound), syscall.ENOENT},
		{wrap(pond.ErrExists), syscall.EEXIST},
		{wrap(pond.ErrTooLarge), syscall.EFBIG},
		{wrap(errReadOnly), syscall.EACCES},
		{wrap(errNotPermitted), syscall.EPERM},
		{wrap(fmt.Errorf("%w (%w)", pond.ErrExhausted, pond.ErrInjected)), syscall.ENOBUFS},
		{wrap(netdev.ErrBadFilter), syscall.EINVAL},
		{wrap(netdev.ErrFilterIncomplete), syscall.EINVAL},
		{wrap(errors.ErrUnsupported), syscall.EOPNOTSUPP},
		{wrap(&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOSPC}), syscall.ENOSPC},
		{wrap(errors.New("something else")), syscall.EIO},
	} {
		if got := errnoOf(tc.err); got != tc.want {
			t.Errorf("errnoOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
