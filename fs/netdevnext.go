package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/netdev"
)

// nextFile lets a shell wait for received frames: each open is a cursor,
// and a read returns "<seq>\n" for every queued frame that open has not
// returned yet, oldest first, blocking while there is none. A signal ends
// the wait at once (EINTR): the kernel sends FUSE INTERRUPT, which go-fuse
// turns into the cancellation of the read's context. So
//
//	seq=$(timeout 5 head -n1 netdev/tap0/next)
//
// waits at most five seconds for a frame. The stream ends (a read returns
// 0) once the device is gone and nothing newer is queued.
//
// The open is seekable, within the last lines it returned: head and
// bash's read take more than they use from a regular file and seek back
// to the end of what they used (head fails if it cannot), so a read at an
// offset already returned gives those bytes again, and only a read at the
// end waits for new frames.
type nextFile struct {
	fs.Inode
	t    *Tree
	port *netdev.Port
}

var (
	_ fs.InodeEmbedder = (*nextFile)(nil)
	_ fs.NodeOpener    = (*nextFile)(nil)
	_ fs.NodeGetattrer = (*nextFile)(nil)
	_ fs.NodeSetattrer = (*nextFile)(nil)
	_ fs.FileReader    = (*nextHandle)(nil)
)

// Open starts a cursor before every queued frame. Direct I/O sends every
// read here, with its offset, instead of to a cache.
func (n *nextFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, n.t.fail("open "+n.Path(nil)+" for writing", errReadOnly)
	}
	h := &nextHandle{n: n, turn: make(chan struct{}, 1), nonblock: flags&syscall.O_NONBLOCK != 0}
	return h, fuse.FOPEN_DIRECT_IO, 0
}

func (n *nextFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeReadOnly, 0)
	return 0
}

// Setattr refuses: a stream has no size, mode or times to set.
func (n *nextFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.t.fail("setattr "+n.Path(nil), errNotPermitted)
}

// nextHistory is how many bytes of lines an open keeps for reading again
// after a seek back: far more than head or bash's read ever give back.
const nextHistory = 64 << 10

// nextHandle is one open's cursor and the lines it returned lately.
type nextHandle struct {
	n *nextFile
	// turn is held by the read in progress, which alone uses the fields
	// below: a channel rather than a mutex, so that a read waiting its
	// turn can be interrupted too.
	turn chan struct{}
	// nonblock: opened with O_NONBLOCK, so a read that would wait fails
	// with EAGAIN instead (nonblock.go).
	nonblock bool
	last     uint64 // the newest frame turned into a line
	out      []byte // the latest lines returned, ending at the open's end
	base     int64  // the offset of out[0]
}

// Read returns the open's lines from off, waiting for a frame when off is
// at their end.
func (h *nextHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	out, err := h.read(ctx, dest, off)
	switch {
	case errors.Is(err, errWouldBlock):
		return nil, errnoOf(err)
	case errors.Is(err, io.EOF):
		return fuse.ReadResultData(nil), 0
	case err != nil:
		return nil, h.n.t.fail("read "+h.n.Path(nil), err)
	}
	return fuse.ReadResultData(out), 0
}

func (h *nextHandle) read(ctx context.Context, dest []byte, off int64) ([]byte, error) {
	select {
	case h.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for another read of the same descriptor: %w", ctx.Err())
	}
	defer func() { <-h.turn }()
	end := h.base + int64(len(h.out))
	if off < h.base || off > end {
		return nil, fmt.Errorf("%w: offset %d outside the lines kept, %d to %d", errInvalid, off, h.base, end)
	}
	if off == end {
		if err := h.more(ctx); err != nil {
			return nil, err
		}
	}
	return window(h.out, off-h.base, len(dest)), nil
}

// more waits for frames after the cursor and adds their lines, dropping
// the oldest lines beyond nextHistory.
func (h *nextHandle) more(ctx context.Context) error {
	wait := ctx
	if h.nonblock {
		wait = ended(ctx)
	}
	seqs, err := h.n.port.SeqsAfter(wait, h.last, nil)
	if err != nil {
		return wouldBlock(ctx, err)
	}
	if drop := len(h.out) - nextHistory; drop > 0 {
		h.out = h.out[:copy(h.out, h.out[drop:])]
		h.base += int64(drop)
	}
	for _, s := range seqs {
		h.out = strconv.AppendUint(h.out, s, 10)
		h.out = append(h.out, '\n')
		h.last = s
	}
	return nil
}
