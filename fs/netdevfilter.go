package fs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/netdev"
)

// filterFile is a device's classic BPF receive filter, run by the kernel
// on the TAP: written and read as `tcpdump -ddd EXPR` prints it, so
//
//	tcpdump -ddd 'udp port 9999' > netdev/tap0/filter
//
// attaches one. A read gives the program attached at open, empty when
// none. An open's writes add up to one program, attached when the file is
// closed: the writer may send it in pieces (bash's printf writes a line at
// a time), so only the close knows it is whole. Each write that ends a
// line checks what came so far, and one that makes it malformed (a bad
// line, more lines than the count, a program the kernel's checker
// refuses) fails at once with EINVAL, as does every later write of that
// open; nothing is attached then. A program still short of its count at
// close fails the close with EINVAL. The old filter stays in every case.
// Writing only blanks (`echo > filter`) removes the filter; a truncation
// alone changes nothing, since the kernel does not say which open made it.
type filterFile struct {
	fs.Inode
	t    *Tree
	port *netdev.Port
}

var (
	_ fs.InodeEmbedder = (*filterFile)(nil)
	_ fs.NodeOpener    = (*filterFile)(nil)
	_ fs.NodeGetattrer = (*filterFile)(nil)
	_ fs.NodeSetattrer = (*filterFile)(nil)
	_ fs.FileReader    = (*filterHandle)(nil)
	_ fs.FileWriter    = (*filterHandle)(nil)
	_ fs.FileFlusher   = (*filterHandle)(nil)
)

func (n *filterFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return &filterHandle{n: n, snapshot: snapshot{data: n.port.Filter().Text()}}, fuse.FOPEN_DIRECT_IO, 0
}

func (n *filterFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeWritable, uint64(len(n.port.Filter().Text())))
	return 0
}

// Setattr lets a shell's `>` truncate: what the open writes decides.
func (n *filterFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.t.checkSetattr(n.Path(nil), in, 0); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, f, out)
}

// filterHandle is one open: the program as it was at open, for reading,
// and the text written through it, attached at close.
type filterHandle struct {
	n *filterFile
	snapshot

	mu      sync.Mutex // guards the fields below
	pending []byte     // written, to be attached at close
	written bool       // something was written (maybe only blanks)
	refused error      // why a write failed: the open attaches nothing
}

// Write adds data to the open's program, checking it at each line's end.
func (h *filterHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refused != nil {
		return 0, h.n.t.fail("write "+h.n.Path(nil), fmt.Errorf("an earlier write of this open failed: %w", h.refused))
	}
	h.pending = append(h.pending, data...)
	h.written = true
	if !strings.HasSuffix(string(h.pending), "\n") {
		return uint32(len(data)), 0 // the last line may go on
	}
	f, err := netdev.ParseFilter(h.pending)
	if err == nil {
		err = f.Check()
	}
	if err != nil && !errors.Is(err, netdev.ErrFilterIncomplete) {
		h.refused = fmt.Errorf("%q: %w", firstLine(h.pending), err)
		h.pending = nil
		return 0, h.n.t.fail("write "+h.n.Path(nil), h.refused)
	}
	return uint32(len(data)), 0
}

// Flush attaches the open's program at close; a program still short of
// its count fails. Only the first close of the open does anything.
func (h *filterHandle) Flush(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refused != nil || !h.written {
		return 0
	}
	text := h.pending
	h.pending, h.written = nil, false
	f, err := netdev.ParseFilter(text)
	if err == nil {
		err = h.n.port.SetFilter(f)
	}
	if err != nil {
		return h.n.t.fail("close "+h.n.Path(nil), fmt.Errorf("%q: %w", firstLine(text), err))
	}
	return 0
}

// firstLine is the start of a program's text, for a log line.
func firstLine(text []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(text)), "\n")
	return line
}
