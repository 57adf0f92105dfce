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
// that never reads makes nothing, so neither ls nor a stat makes chains;
// nor does one with O_NONBLOCK, whose reads fail with EAGAIN: that is how
// grep -r and tar open each file they walk past, and a walk must not leave
// a chain behind at every pass. cat, $(< new) and python's open() do not
// ask for it.
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
	return &newHandle{n: n, nonblock: flags&syscall.O_NONBLOCK != 0}, fuse.FOPEN_DIRECT_IO, 0
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
	n        *newFile
	nonblock bool // opened with O_NONBLOCK: makes no chain

	mu sync.Mutex // guards id
	id []byte     // "<id>\n" once the first read made the chain
}

func (h *newHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if h.nonblock {
		return nil, errnoOf(errWouldBlock)
	}
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
