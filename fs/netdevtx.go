package fs

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/netdev"
)

// frameBlksize is the block size tx and inject report. Buffered writers
// (stdio, so xxd and printf) size their buffer by it, so a frame up to
// the largest a device takes leaves them in one write(2), which tx needs;
// cat writes in pieces of it, so a stream reaches inject in requests as
// large as the kernel passes.
const frameBlksize = maxWrite

// txFile sends each write(2) as one Ethernet frame on its device, as a
// Plan 9 data file does: `xxd -r -p frame.hex > tx`. A frame of a size the
// device does not take fails the write with EINVAL; a device that is gone
// fails it with EIO.
//
// One exception keeps `printf '\x..' > tx` working: bash line-buffers its
// standard output, so its printf writes a frame in pieces, each ending
// just after a newline byte (0x0a, as in every 10.x address). A write
// that ends in a newline byte and is shorter than the frame its headers
// announce (netdev.FrameShort) is held, and the next write on the same
// descriptor continues that frame. A frame still held at close is sent
// then, and its failure fails the close.
type txFile struct {
	frameFile
}

var (
	_ fs.InodeEmbedder = (*txFile)(nil)
	_ fs.NodeOpener    = (*txFile)(nil)
	_ fs.NodeGetattrer = (*txFile)(nil)
	_ fs.NodeSetattrer = (*txFile)(nil)
	_ fs.FileWriter    = (*txHandle)(nil)
	_ fs.FileFlusher   = (*txHandle)(nil)
	_ fs.FileReleaser  = (*txHandle)(nil)
)

// Open takes writers only. Direct I/O hands each write(2) to Write whole,
// which is what makes it one frame.
func (n *txFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if errno := openWriteOnly(n.t, &n.Inode, flags); errno != 0 {
		return nil, 0, errno
	}
	return &txHandle{n: n}, fuse.FOPEN_DIRECT_IO, 0
}

// txHandle is one open of tx, with the start of a frame a line-buffered
// writer has not finished.
type txHandle struct {
	n *txFile

	mu   sync.Mutex // guards held; one write at a time
	held []byte
}

// Write sends data, after what is held, as one frame, unless it looks
// like a line-buffered piece of one; the device only borrows the bytes.
func (h *txHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n.port.SyncLink()
	frame := data
	if len(h.held) > 0 {
		h.held = append(h.held, data...)
		frame = h.held
	}
	if bytes.HasSuffix(data, []byte("\n")) && netdev.FrameShort(frame) && len(frame) <= h.n.port.MaxFrame() {
		if len(h.held) == 0 {
			h.held = append(h.held, data...)
		}
		return uint32(len(data)), 0
	}
	h.held = h.held[:0]
	if err := h.n.port.SendBytes(frame); err != nil {
		return 0, h.n.t.fail("write "+h.n.Path(nil), err)
	}
	return uint32(len(data)), 0
}

// Flush sends a frame still held, and fails the close(2) when the device
// refuses it.
func (h *txHandle) Flush(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.held) == 0 {
		return 0
	}
	frame := h.held
	h.held = nil
	if err := h.n.port.SendBytes(frame); err != nil {
		return h.n.t.fail(fmt.Sprintf("close %s with a frame of %d bytes held", h.n.Path(nil), len(frame)), err)
	}
	return 0
}

// Release sends a frame still held that no close flushed.
func (h *txHandle) Release(ctx context.Context) syscall.Errno {
	h.Flush(ctx)
	return 0
}

// frameFile is what tx and inject share: a write-only device file that
// reads as empty, with a block size that keeps buffered writers from
// cutting a frame.
type frameFile struct {
	fs.Inode
	t    *Tree
	port *netdev.Port
}

var (
	_ fs.NodeGetattrer = (*frameFile)(nil)
	_ fs.NodeSetattrer = (*frameFile)(nil)
)

func (n *frameFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeWriteOnly, 0)
	out.Blksize = frameBlksize
	return 0
}

// Setattr lets a shell's `>` truncate; there is nothing to truncate.
func (n *frameFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.t.checkSetattr(n.Path(nil), in, 0); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, f, out)
}

// openWriteOnly refuses an open that would read the write-only file n.
// Root passes the mode bits, so the file itself has to say no.
func openWriteOnly(t *Tree, n *fs.Inode, flags uint32) syscall.Errno {
	if flags&syscall.O_ACCMODE != syscall.O_WRONLY {
		return t.fail("open "+n.Path(nil)+" for reading", errWriteOnly)
	}
	return 0
}
