package fs

import (
	"context"
	"errors"
)

// A read of a stream (capture, next) on a descriptor opened with
// O_NONBLOCK takes what is there and fails with EAGAIN where it would
// wait, as a pipe's does. grep -r and tar open every file they walk past
// that way, so a walk of the tree passes the streams instead of waiting on
// them for good; cat, head, tcpdump and python's open() never ask for it.

// ended is ctx already ended: a wait given it takes what is ready and
// gives up at once where it would wait.
func ended(ctx context.Context) context.Context {
	c, cancel := context.WithCancel(ctx)
	cancel()
	return c
}

// wouldBlock is the error of a wait given ended(ctx): errWouldBlock when
// it gave up for want of anything ready rather than because the reader was
// interrupted (ctx itself ended), else err.
func wouldBlock(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return errWouldBlock
	}
	return err
}
