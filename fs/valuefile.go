package fs

import (
	"context"
	"fmt"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// valueFile holds one value that can be read and set, such as an account's
// limit: an open reads what get produces then, and each write is the whole
// new value, handed to set without surrounding blanks.
type valueFile struct {
	fs.Inode
	t   *Tree
	get func() []byte
	set func(value string) error
}

var (
	_ fs.InodeEmbedder = (*valueFile)(nil)
	_ fs.NodeOpener    = (*valueFile)(nil)
	_ fs.NodeGetattrer = (*valueFile)(nil)
	_ fs.NodeSetattrer = (*valueFile)(nil)
	_ fs.FileReader    = (*valueHandle)(nil)
	_ fs.FileWriter    = (*valueHandle)(nil)
)

func (n *valueFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return &valueHandle{n: n, snapshot: snapshot{data: n.get()}}, fuse.FOPEN_DIRECT_IO, 0
}

// Getattr reports a produced file's size.
func (n *valueFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	producedAttr(out, modeWritable)
	return 0
}

// Setattr lets a shell's `>` truncate: the write that follows replaces the
// value whole.
func (n *valueFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.t.checkSetattr(n.Path(nil), in, 0); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, f, out)
}

// valueHandle reads the value as it was at open.
type valueHandle struct {
	n *valueFile
	snapshot
}

func (h *valueHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	v := strings.TrimSpace(string(data))
	if err := h.n.set(v); err != nil {
		return 0, h.n.t.fail(fmt.Sprintf("write %s: %q", h.n.Path(nil), v), err)
	}
	return uint32(len(data)), 0
}
