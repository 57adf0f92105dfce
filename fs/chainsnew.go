package fs

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// newFile is chains/new: each descriptor's first read makes an empty chain
// in chains/ and returns "<id>\n"; reading on returns the same id. An open
// that never reads makes nothing, so neither ls nor a stat makes chains.
type newFile struct {
	fs.Inode
	t *Tree
}

var (
	_ fs.InodeEmbedder = (*newFile)(nil)
	_ fs.NodeOpener    = (*newFile)(nil)
	_ fs.NodeGetattrer = (*newFile)(nil)
	_ fs.NodeSetattrer = (*newFile)(nil)
	_ fs.FileReader    = (*newHandle)(nil)
)

func (n *newFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, n.t.fail("open "+n.Path(nil)+" for writing", errReadOnly)
	}
	return &newHandle{n: n}, fuse.FOPEN_DIRECT_IO, 0
}

// Getattr reports an empty file: its content exists only once read.
func (n *newFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeReadOnly, 0)
	return 0
}

// Setattr refuses: new has nothing to set.
func (n *newFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.t.fail("setattr "+n.Path(nil), errNotPermitted)
}

// newHandle is one open descriptor of chains/new.
type newHandle struct {
	n *newFile

	mu sync.Mutex // guards id
	id []byte     // "<id>\n" once the first read made the chain
}

func (h *newHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.id == nil {
		c, err := h.n.t.newChain()
		if err != nil {
			return nil, h.n.t.fail("read "+h.n.Path(nil), err)
		}
		h.id = []byte(h.n.t.reg.adopt(c) + "\n")
	}
	return fuse.ReadResultData(window(h.id, off, len(dest))), 0
}
