package fs

import (
	"context"
	"fmt"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// arenaFile is the pond's memory. Where the kernel allows it (FUSE
// passthrough, Linux 6.9 and root), an open is backed by the pond's own
// memfd: read, write and mmap go straight to the pond's pages with no
// copy and no round trip through the daemon. Elsewhere the daemon serves
// reads and writes from its mapping of the arena and the kernel keeps a
// page cache for mmap; that cache is dropped at each open, so a new
// mapping sees the present, and it is written back to the pond on msync
// and munmap.
type arenaFile struct {
	fs.Inode
	t *Tree
}

var (
	_ fs.InodeEmbedder       = (*arenaFile)(nil)
	_ fs.NodeOpener          = (*arenaFile)(nil)
	_ fs.NodeGetattrer       = (*arenaFile)(nil)
	_ fs.NodeSetattrer       = (*arenaFile)(nil)
	_ fs.FileReader          = (*arenaHandle)(nil)
	_ fs.FileWriter          = (*arenaHandle)(nil)
	_ fs.FileFsyncer         = (*arenaHandle)(nil)
	_ fs.FilePassthroughFder = (*passthroughHandle)(nil)
	_ fs.FileReader          = (*passthroughHandle)(nil)
)

// Open returns a handle go-fuse passes through when Mount found the kernel
// willing. Neither kind asks for FOPEN_DIRECT_IO: mmap needs the page
// cache, and without FOPEN_KEEP_CACHE the kernel drops it at each open.
func (n *arenaFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	h := &arenaHandle{n: n}
	if n.t.ZeroCopy() {
		return &passthroughHandle{h}, 0, 0
	}
	return h, 0, 0
}

func (n *arenaFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeArena, uint64(n.t.pond.ArenaBytes()))
	return 0
}

// Setattr refuses any change of size: the arena's size is the pond's.
func (n *arenaFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.t.checkSetattr(n.Path(nil), in, uint64(n.t.pond.ArenaBytes())); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, f, out)
}

// arenaHandle serves the arena through the daemon: reads and writes land in
// the pond's own mapping, bounded by the arena file's size (past it the
// mapping has no pages and a touch would fault).
type arenaHandle struct {
	n *arenaFile
}

// Read hands the kernel the pond's bytes themselves, without a copy in the
// daemon.
func (h *arenaHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	mem := h.n.t.pond.Arena()[:h.n.t.pond.ArenaBytes()]
	return fuse.ReadResultData(window(mem, off, len(dest))), 0
}

// Write stores what fits below the arena's end and fails a write that
// starts at or past it.
func (h *arenaHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	size := h.n.t.pond.ArenaBytes()
	if off < 0 || off >= size {
		return 0, h.n.t.fail(fmt.Sprintf("write arena at %d", off), fmt.Errorf("%w: offset past the arena's end %d", errInvalid, size))
	}
	return uint32(copy(h.n.t.pond.Arena()[off:size], data)), 0
}

// Fsync has nothing to do: a write is in the pond when Write returns. The
// kernel writes an mmap's dirty pages back before it asks.
func (h *arenaHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno { return 0 }

// passthroughHandle asks go-fuse to back the open with the pond's memfd.
// The reads and writes it inherits serve only an open the kernel did not
// pass through.
type passthroughHandle struct {
	*arenaHandle
}

// PassthroughFd lends go-fuse the pond's memfd. The kernel takes its own
// reference when it registers the backing file and go-fuse does not close
// the descriptor, so the pond keeps it.
func (h *passthroughHandle) PassthroughFd() (int, bool) { return h.n.t.pond.Fd(), true }
