package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/chain"
)

// topLayer names the view, whichever layer is on top: the data file of a
// chain directory, as opposed to layers/<k>/data.
const topLayer = -1

// dataAttrTimeout is how long the kernel may trust a data file's size: as
// good as not at all, since ctl and other processes change it; the kernel
// counts it in clock ticks, and a zero would mean the mount's default.
const dataAttrTimeout = time.Nanosecond

// chainData is the bytes of one layer of a chain as a file: data (the
// view) or layers/<k>/data. Reads and writes go straight to the chain
// (direct I/O), at any offset; a write past the end extends the layer,
// truncate(2) shrinks it or extends it with zeros, and O_APPEND writes at
// the end the chain has when the write arrives. mmap(MAP_SHARED) is served
// from the kernel's page cache, kept coherent as chaindircache.go says.
type chainData struct {
	fs.Inode
	d     *chainDir
	layer int // topLayer, or k of layers/<k>/data
}

var (
	_ fs.InodeEmbedder = (*chainData)(nil)
	_ fs.NodeOpener    = (*chainData)(nil)
	_ fs.NodeGetattrer = (*chainData)(nil)
	_ fs.NodeSetattrer = (*chainData)(nil)
	_ fs.FileReader    = (*dataHandle)(nil)
	_ fs.FileWriter    = (*dataHandle)(nil)
	_ fs.FileFsyncer   = (*dataHandle)(nil)
	_ fs.FileReleaser  = (*dataHandle)(nil)
)

// Open asks for direct I/O, so that every read and write reaches the
// chain, which others change under the kernel's feet; mmap still works
// through the page cache (CAP_DIRECT_IO_ALLOW_MMAP).
func (n *chainData) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if err := n.with(func(c *chain.Chain) error { _, err := n.length(c); return err }); err != nil {
		return nil, 0, n.d.t.fail("open "+n.Path(nil), err)
	}
	n.d.t.caches.opened(n.EmbeddedInode())
	return &dataHandle{n: n, append: flags&syscall.O_APPEND != 0}, fuse.FOPEN_DIRECT_IO, 0
}

func (n *chainData) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	var size int
	err := n.with(func(c *chain.Chain) (err error) {
		size, err = n.length(c)
		return err
	})
	if err != nil {
		return n.d.t.fail("getattr "+n.Path(nil), err)
	}
	fileAttr(out, modeWritable, uint64(size))
	out.SetTimeout(dataAttrTimeout)
	return 0
}

// Setattr takes a new size (truncate(2), and the O_TRUNC of a shell's
// `>`) and lets the times through; it refuses any other change.
func (n *chainData) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	size, ok := in.GetSize()
	if errno := n.d.t.checkSetattr(n.Path(nil), in, size); errno != 0 {
		return errno
	}
	if ok {
		if size > maxCount {
			return n.d.t.fail(fmt.Sprintf("truncate %s to %d", n.Path(nil), size), fmt.Errorf("%w: past any chain's length", chain.ErrTooLong))
		}
		err := n.with(func(c *chain.Chain) error { return n.truncate(c, int(size)) })
		if err != nil {
			return n.d.t.fail(fmt.Sprintf("truncate %s to %d", n.Path(nil), size), err)
		}
		n.d.dropCaches(n.EmbeddedInode())
	}
	return n.Getattr(ctx, f, out)
}

// with lends the chain while the layer is there: a layer popped since
// the file was looked up is gone.
func (n *chainData) with(fn func(c *chain.Chain) error) error {
	return n.d.src.with(func(c *chain.Chain) error {
		if n.layer > c.Depth() {
			return fmt.Errorf("layer %d of a chain with %d: %w", n.layer, c.Depth(), errLayerGone)
		}
		return fn(c)
	})
}

// length is the layer's length now.
func (n *chainData) length(c *chain.Chain) (int, error) {
	if n.layer == topLayer {
		return c.Len(), nil
	}
	l, err := c.Layer(n.layer)
	return l.Length, err
}

func (n *chainData) readAt(c *chain.Chain, p []byte, off int64) (int, error) {
	if n.layer == topLayer {
		return c.ReadAt(p, off)
	}
	return c.ReadAtLayer(n.layer, p, off)
}

func (n *chainData) writeAt(c *chain.Chain, p []byte, off int64) (int, error) {
	if n.layer == topLayer {
		return c.WriteAt(p, off)
	}
	return c.WriteAtLayer(n.layer, p, off)
}

// truncate sets the layer's length. Only the view can be truncated: a
// layer beneath it would have to lose or gain bytes under the ones above.
func (n *chainData) truncate(c *chain.Chain, size int) error {
	if n.layer != topLayer && n.layer != c.Depth() {
		if l, err := c.Layer(n.layer); err != nil || l.Length == size {
			return err
		}
		return fmt.Errorf("%w: only the top layer (%d) can be truncated", chain.ErrNarrowView, c.Depth())
	}
	return c.Truncate(size)
}

// dataHandle is one open descriptor of a data file.
type dataHandle struct {
	n      *chainData
	append bool // O_APPEND: every write goes at the end
}

// Read copies the bytes at off; past the end it returns none, which the
// reader takes as the end of the file.
func (h *dataHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	var n int
	err := h.n.with(func(c *chain.Chain) (err error) {
		size, err := h.n.length(c)
		if err != nil || off >= int64(size) {
			return err
		}
		n, err = h.n.readAt(c, dest, off)
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, h.n.d.t.fail(fmt.Sprintf("read %s at %d", h.n.Path(nil), off), err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// Write overwrites from off and extends the layer past its end; with
// O_APPEND it writes at the end, which the kernel may not know yet.
func (h *dataHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	err := h.n.with(func(c *chain.Chain) error {
		if h.append {
			size, err := h.n.length(c)
			if err != nil {
				return err
			}
			off = int64(size)
		}
		_, err := h.n.writeAt(c, data, off)
		return err
	})
	if err != nil {
		return 0, h.n.d.t.fail(fmt.Sprintf("write %s: %d bytes at %d", h.n.Path(nil), len(data), off), err)
	}
	h.n.d.dropCaches(h.n.EmbeddedInode())
	return uint32(len(data)), 0
}

// Fsync has nothing to do: a write is in the chain when Write returns, and
// the kernel writes a mapping's dirty pages back before it asks (msync).
func (h *dataHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno { return 0 }

// Release ends the descriptor, and with the last mapping of the file, the
// refreshing of its page cache.
func (h *dataHandle) Release(ctx context.Context) syscall.Errno {
	h.n.d.t.caches.closed(h.n.EmbeddedInode())
	return 0
}
