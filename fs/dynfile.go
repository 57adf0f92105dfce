package fs

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/pond/stats"
)

// Modes of the tree's files: what only reads, what takes commands or
// values from root, and the arena, which is the owner's memory.
const (
	modeReadOnly = 0o444
	modeWritable = 0o644
	modeArena    = 0o600
	modeDir      = 0o755
)

// dynFile is a read-only file whose content is produced afresh by produce
// at each open. The open descriptor keeps that one snapshot, so a reader
// that takes several reads (awk, a small buffer) sees a consistent whole,
// and the next open sees the present. Every stats, metrics, slabs, info and
// README file is one.
type dynFile struct {
	fs.Inode
	t       *Tree
	produce func() []byte
}

var (
	_ fs.InodeEmbedder = (*dynFile)(nil)
	_ fs.NodeOpener    = (*dynFile)(nil)
	_ fs.NodeGetattrer = (*dynFile)(nil)
	_ fs.NodeSetattrer = (*dynFile)(nil)
	_ fs.FileReader    = (*snapshot)(nil)
)

// Open takes the snapshot. Direct I/O keeps the kernel from caching one
// open's content for the next.
func (n *dynFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, n.t.fail("open "+n.Path(nil)+" for writing", errReadOnly)
	}
	return &snapshot{data: n.produce()}, fuse.FOPEN_DIRECT_IO, 0
}

// Getattr reports a produced file's size: none.
func (n *dynFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	producedAttr(out, modeReadOnly)
	return 0
}

// Setattr refuses: a produced file has no size, mode or times to set.
func (n *dynFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.t.fail("setattr "+n.Path(nil), errNotPermitted)
}

// snapshot is one open's content.
type snapshot struct {
	data []byte
}

func (s *snapshot) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return fuse.ReadResultData(window(s.data, off, len(dest))), 0
}

// window is the part of data a read of n bytes at off sees: empty past the
// end, which the reader takes as end of file.
func window(data []byte, off int64, n int) []byte {
	if off < 0 || off >= int64(len(data)) {
		return nil
	}
	return data[off:min(off+int64(n), int64(len(data)))]
}

// renderStats writes fields as a stats file: one "name value" line each,
// in the order given.
func renderStats(fields []stats.Field) []byte {
	var b bytes.Buffer
	for _, f := range fields {
		b.WriteString(f.Name)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(f.Value, 10))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// renderLines writes one line per item, formatted by line.
func renderLines[T any](items []T, line func(T) string) []byte {
	var b bytes.Buffer
	for _, it := range items {
		fmt.Fprintln(&b, line(it))
	}
	return b.Bytes()
}
