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

// Open starts a cursor before every queued frame. Like capture, the open
// is a stream with nothing cached.
func (n *nextFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, n.t.fail("open "+n.Path(nil)+" for writing", errReadOnly)
	}
	h := &nextHandle{n: n, turn: make(chan struct{}, 1)}
	return h, fuse.FOPEN_DIRECT_IO | fuse.FOPEN_STREAM | fuse.FOPEN_NONSEEKABLE, 0
}

func (n *nextFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeReadOnly, 0)
	return 0
}

// Setattr refuses: a stream has no size, mode or times to set.
func (n *nextFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.t.fail("setattr "+n.Path(nil), errNotPermitted)
}

// nextHandle is one open's cursor.
type nextHandle struct {
	n *nextFile
	// turn is held by the read in progress, which alone moves last: a
	// channel rather than a mutex, so that a read waiting its turn can be
	// interrupted too.
	turn    chan struct{}
	last    uint64 // the newest frame turned into lines
	pending []byte // lines made and not yet read (bash's read takes a byte at a time)
}

// Read returns the lines of the frames after the cursor that fit in dest,
// waiting for one; the offset means nothing in a stream.
func (h *nextHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	out, err := h.read(ctx, dest)
	switch {
	case errors.Is(err, io.EOF):
		return fuse.ReadResultData(nil), 0
	case err != nil:
		return nil, h.n.t.fail("read "+h.n.Path(nil), err)
	}
	return fuse.ReadResultData(out), 0
}

func (h *nextHandle) read(ctx context.Context, dest []byte) ([]byte, error) {
	select {
	case h.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for another read of the same descriptor: %w", ctx.Err())
	}
	defer func() { <-h.turn }()
	if len(h.pending) == 0 {
		seqs, err := h.n.port.SeqsAfter(ctx, h.last, nil)
		if err != nil {
			return nil, err
		}
		for _, s := range seqs {
			h.pending = strconv.AppendUint(h.pending, s, 10)
			h.pending = append(h.pending, '\n')
			h.last = s
		}
	}
	n := copy(dest, h.pending)
	h.pending = h.pending[:copy(h.pending, h.pending[n:])]
	return dest[:n], nil
}
