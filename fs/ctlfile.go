package fs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// ctlFile is a file of line commands in the manner of Plan 9's ctl files.
// Each write is split into lines that exec runs in order; the first that
// fails fails the write with its errno, and the lines before it stay done.
// A read on the same open descriptor, at whatever offset, returns the
// outcome of the last command written through it: what exec returned (ok,
// a new id) or "error: <reason>". So a shell can
//
//	exec 3<>ctl; echo "split 5" >&3; read id <&3
type ctlFile struct {
	fs.Inode
	t    *Tree
	exec func(cmd string) (outcome string, err error)
}

var (
	_ fs.InodeEmbedder = (*ctlFile)(nil)
	_ fs.NodeOpener    = (*ctlFile)(nil)
	_ fs.NodeGetattrer = (*ctlFile)(nil)
	_ fs.NodeSetattrer = (*ctlFile)(nil)
	_ fs.FileReader    = (*ctlHandle)(nil)
	_ fs.FileWriter    = (*ctlHandle)(nil)
)

// Open gives each descriptor its own outcome. Direct I/O hands every read
// and write to the handle, with the descriptor's own offset.
func (n *ctlFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return &ctlHandle{n: n, base: -1}, fuse.FOPEN_DIRECT_IO, 0
}

func (n *ctlFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeWritable, 0)
	return 0
}

// Setattr lets a shell's `>` truncate; there is nothing to truncate.
func (n *ctlFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.t.checkSetattr(n.Path(nil), in, 0); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, f, out)
}

// ctlHandle is one open descriptor of a ctl file.
type ctlHandle struct {
	n *ctlFile

	mu   sync.Mutex // guards last and base, and runs one write at a time
	last []byte     // outcome of the last command, with its newline
	// base is the offset the outcome is read from: the offset of the first
	// read after the command, so that a read at any offset starts it and
	// the next read past it ends it. -1 until that read.
	base int64
}

func (h *ctlHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, line := range strings.Split(string(data), "\n") {
		cmd := strings.TrimSpace(line)
		if cmd == "" {
			continue
		}
		out, err := h.n.exec(cmd)
		if err != nil {
			h.setLast("error: " + err.Error())
			return 0, h.n.t.fail(fmt.Sprintf("write %s: %q", h.n.Path(nil), cmd), err)
		}
		h.setLast(out)
	}
	return uint32(len(data)), 0
}

func (h *ctlHandle) setLast(outcome string) {
	h.last = []byte(outcome + "\n")
	h.base = -1
}

// Read returns the last outcome from wherever the descriptor stands; a
// read before base (a seek back) reads it again from the start.
func (h *ctlHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.base < 0 || off < h.base {
		h.base = off
	}
	return fuse.ReadResultData(window(h.last, off-h.base, len(dest))), 0
}
