package fs

import (
	"context"
	"fmt"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond/stats"
)

// chainText is a read-only text file describing a chain (segments, stats,
// layers/<k>/info): produced from the chain at each open and kept for that
// descriptor, as dynFile does, but failing with ENOENT once the chain is
// gone.
type chainText struct {
	fs.Inode
	d       *chainDir
	produce func(c *chain.Chain) ([]byte, error)
}

var (
	_ fs.InodeEmbedder = (*chainText)(nil)
	_ fs.NodeOpener    = (*chainText)(nil)
	_ fs.NodeGetattrer = (*chainText)(nil)
	_ fs.NodeSetattrer = (*chainText)(nil)
)

func (n *chainText) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, n.d.t.fail("open "+n.Path(nil)+" for writing", errReadOnly)
	}
	data, err := n.text()
	if err != nil {
		return nil, 0, n.d.t.fail("open "+n.Path(nil), err)
	}
	return &snapshot{data: data}, fuse.FOPEN_DIRECT_IO, 0
}

// Getattr reports a produced file's size, or ENOENT once the chain is
// gone.
func (n *chainText) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if _, err := n.text(); err != nil {
		return n.d.t.fail("getattr "+n.Path(nil), err)
	}
	producedAttr(out, modeReadOnly)
	return 0
}

// Setattr refuses: a produced file has no size, mode or times to set.
func (n *chainText) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.d.t.fail("setattr "+n.Path(nil), errNotPermitted)
}

func (n *chainText) text() (data []byte, err error) {
	err = n.d.src.with(func(c *chain.Chain) error {
		data, err = n.produce(c)
		return err
	})
	return data, err
}

// segmentsText is the view as "<buf_size> <arena_offset> <length> <refs>"
// lines: with the arena mapped, what another process needs to reach the
// bytes in place.
func segmentsText(c *chain.Chain) ([]byte, error) {
	return renderLines(c.Segments(nil), func(s chain.Segment) string {
		return fmt.Sprintf("%d %d %d %d", s.BufSize, s.ArenaOffset, s.Length, s.Refs)
	}), nil
}

// statsText is the chain's stats file.
func statsText(c *chain.Chain) ([]byte, error) {
	return renderStats([]stats.Field{
		{Name: "length", Value: uint64(c.Len())},
		{Name: "chain_length", Value: uint64(c.ChainLen())},
		{Name: "segments", Value: uint64(c.NumSegments())},
		{Name: "layers", Value: uint64(c.Depth())},
		{Name: "headroom", Value: uint64(c.Headroom())},
		{Name: "tailroom", Value: uint64(c.Tailroom())},
	}), nil
}

// infoText is layer k's info file: its offset in the layer beneath, its
// length, and its protocol when it has one.
func infoText(k int) func(c *chain.Chain) ([]byte, error) {
	return func(c *chain.Chain) ([]byte, error) {
		if k > c.Depth() {
			return nil, fmt.Errorf("layer %d of a chain with %d: %w", k, c.Depth(), errLayerGone)
		}
		l, err := c.Layer(k)
		if err != nil {
			return nil, err
		}
		b := renderStats([]stats.Field{
			{Name: "offset", Value: uint64(l.Offset)},
			{Name: "length", Value: uint64(l.Length)},
		})
		if l.Proto != "" {
			b = fmt.Appendf(b, "proto %s\n", l.Proto)
		}
		return b, nil
	}
}

// fragmentsText is layer k's fragments file: one "<offset> <length>" line
// per fragment a concat made, offsets within the layer; empty for a layer
// without fragments.
func fragmentsText(k int) func(c *chain.Chain) ([]byte, error) {
	return func(c *chain.Chain) ([]byte, error) {
		if k > c.Depth() {
			return nil, fmt.Errorf("layer %d of a chain with %d: %w", k, c.Depth(), errLayerGone)
		}
		lengths, err := c.Fragments(k, nil)
		if err != nil {
			return nil, err
		}
		var b []byte
		off := 0
		for _, n := range lengths {
			b = fmt.Appendf(b, "%d %d\n", off, n)
			off += n
		}
		return b, nil
	}
}
