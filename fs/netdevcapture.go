package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/netdev"
)

// captureFile gives each open a pcap stream of every frame its device
// receives or sends from the open on: `tcpdump -r capture`. A read blocks
// until there is more and ends at once, with EINTR, when the reader is
// interrupted (Ctrl-C): the kernel then sends FUSE INTERRUPT, which
// go-fuse turns into the cancellation of the read's context. The stream
// ends (a read returns 0) when the device is gone or pondd stops.
//
// Each open has a bounded ring of its own (netdev.Capture), so a reader
// that falls behind loses frames, counted in the device's capture_lost,
// and never slows the device or another reader.
type captureFile struct {
	fs.Inode
	t   *Tree
	dev *device
}

var (
	_ fs.InodeEmbedder = (*captureFile)(nil)
	_ fs.NodeOpener    = (*captureFile)(nil)
	_ fs.NodeGetattrer = (*captureFile)(nil)
	_ fs.NodeSetattrer = (*captureFile)(nil)
	_ fs.FileReader    = (*captureHandle)(nil)
	_ fs.FileReleaser  = (*captureHandle)(nil)
)

// Open subscribes a capture. The stream has no offsets to seek to, so the
// open is a stream (FOPEN_STREAM, FOPEN_NONSEEKABLE), and direct I/O
// sends every read here instead of to a cache. An open with O_NONBLOCK
// never waits (nonblock.go).
func (n *captureFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, n.t.fail("open "+n.Path(nil)+" for writing", errReadOnly)
	}
	c, err := n.dev.capture()
	if err != nil {
		return nil, 0, n.t.fail("open "+n.Path(nil), err)
	}
	h := &captureHandle{n: n, c: c, turn: make(chan struct{}, 1), nonblock: flags&syscall.O_NONBLOCK != 0}
	return h, fuse.FOPEN_DIRECT_IO | fuse.FOPEN_STREAM | fuse.FOPEN_NONSEEKABLE, 0
}

func (n *captureFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeCapture, 0)
	return 0
}

// Setattr refuses: a stream has no size, mode or times to set.
func (n *captureFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.t.fail("setattr "+n.Path(nil), errNotPermitted)
}

// captureHandle is one open's stream.
type captureHandle struct {
	n *captureFile
	c *netdev.Capture
	// turn is held by the read in progress: a capture takes one reader at
	// a time, and threads sharing a descriptor may read at once. A channel
	// rather than a mutex, so that a read waiting its turn can be
	// interrupted too.
	turn chan struct{}
	// nonblock: the descriptor was opened with O_NONBLOCK, so a read
	// that would wait fails with EAGAIN instead.
	nonblock bool
}

// Read returns the next bytes of the stream, waiting for some; the offset
// means nothing in a stream.
func (h *captureHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.read(ctx, dest)
	switch {
	case errors.Is(err, io.EOF):
		return fuse.ReadResultData(nil), 0
	case errors.Is(err, errWouldBlock):
		return nil, errnoOf(err)
	case err != nil:
		return nil, h.n.t.fail("read "+h.n.Path(nil), err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *captureHandle) read(ctx context.Context, dest []byte) (int, error) {
	select {
	case h.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for another read of the same descriptor: %w", ctx.Err())
	}
	defer func() { <-h.turn }()
	if !h.nonblock {
		return h.c.ReadContext(ctx, dest)
	}
	n, err := h.c.ReadContext(ended(ctx), dest)
	return n, wouldBlock(ctx, err)
}

// Release unsubscribes, and says how many frames the reader lost.
func (h *captureHandle) Release(ctx context.Context) syscall.Errno {
	if lost := h.n.dev.closeCapture(h.c); lost > 0 {
		h.n.t.log.Printf("%s: a reader lost %d frames: it read more slowly than they came", h.n.Path(nil), lost)
	}
	return 0
}

// capture subscribes a new capture.
func (d *device) capture() (*netdev.Capture, error) { return d.port.Capture(0) }

// closeCapture closes c and returns its count of lost frames, which the
// port keeps counting in capture_lost.
func (d *device) closeCapture(c *netdev.Capture) uint64 {
	c.Close()
	return c.Lost()
}
