package fs

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/netdev"
)

// rxDir is netdev/<if>/rx/: one chain directory per received frame still
// queued, named by its sequence number, listed oldest first. The port owns
// the queue, so the directory asks it at every lookup and listing rather
// than keeping entries that a full queue drops under it; rmdir consumes a
// frame, as a `send` from its ctl does.
type rxDir struct {
	fs.Inode
	t    *Tree
	port *netdev.Port

	// inos holds the block of inode numbers of each frame looked up, so
	// that every lookup of a frame finds the inode (and the page caches)
	// the kernel knows. Entries go when their frame is consumed, or once
	// the queue has moved past them.
	mu   sync.Mutex
	inos map[uint64]uint64
}

var (
	_ fs.InodeEmbedder = (*rxDir)(nil)
	_ fs.NodeLookuper  = (*rxDir)(nil)
	_ fs.NodeReaddirer = (*rxDir)(nil)
	_ fs.NodeRmdirer   = (*rxDir)(nil)
	_ fs.NodeGetattrer = (*rxDir)(nil)
)

func newRxDir(t *Tree, port *netdev.Port) *rxDir {
	return &rxDir{t: t, port: port, inos: map[uint64]uint64{}}
}

func (d *rxDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.t.dirAttr(out)
	return 0
}

// Lookup finds a queued frame. A missing one is not logged: the kernel
// looks names up on its own account. The entry is not cached, since the
// queue may drop the frame at any moment.
func (d *rxDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	seq, ok := parseSeq(name)
	if !ok || !d.port.Queued(seq) {
		return nil, syscall.ENOENT
	}
	var attr fuse.AttrOut
	d.t.dirAttr(&attr)
	out.Attr = attr.Attr
	out.SetEntryTimeout(uncachedEntry)
	cd := chainDirAt(d.t, &rxFrame{dir: d, seq: seq}, d.inoBase(seq))
	return d.NewInode(ctx, cd, cd.stableAttr()), 0
}

// Readdir lists the queued frames, oldest first.
func (d *rxDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	seqs := d.port.Seqs(nil)
	entries := make([]fuse.DirEntry, len(seqs))
	for i, seq := range seqs {
		entries[i] = fuse.DirEntry{Name: strconv.FormatUint(seq, 10), Mode: syscall.S_IFDIR}
	}
	return fs.NewListDirStream(entries), 0
}

// Rmdir consumes a frame: it leaves the queue and its buffers go back to
// the pond (those a clone shares stay with the clone).
func (d *rxDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	op := "rmdir " + d.Path(nil) + "/" + name
	seq, ok := parseSeq(name)
	if !ok {
		return d.t.fail(op, fmt.Errorf("%q is not a frame's number: %w", name, netdev.ErrNoFrame))
	}
	if err := (&rxFrame{dir: d, seq: seq}).remove(); err != nil {
		return d.t.fail(op, err)
	}
	if ch := d.GetChild(name); ch != nil {
		ch.RmAllChildren()
	}
	return 0
}

// inoBase is frame seq's block of inode numbers: the one it was given at
// its first lookup, or a new one. Giving a new one is the moment to forget
// the blocks of frames the queue has dropped since: they are the oldest.
func (d *rxDir) inoBase(seq uint64) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if base, ok := d.inos[seq]; ok {
		return base
	}
	if oldest := d.port.Seqs(nil); len(oldest) > 0 {
		for s := range d.inos {
			if s < oldest[0] {
				delete(d.inos, s)
			}
		}
	}
	base := d.t.reg.inoBlock()
	d.inos[seq] = base
	return base
}

// forget drops frame seq's block: the frame is consumed.
func (d *rxDir) forget(seq uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inos, seq)
}

// parseSeq reads a frame's name: a sequence number as the directory
// writes it, so that "07" is not frame 7.
func parseSeq(name string) (uint64, bool) {
	seq, err := strconv.ParseUint(name, 10, 64)
	return seq, err == nil && strconv.FormatUint(seq, 10) == name
}

// rxFrame is one queued frame as the source of a chain directory. The
// port keeps the frame's chain and serialises the operations on it: with
// lends it for one operation (netdev's ErrNoFrame, ENOENT, once it is
// gone), and remove takes it out of the queue and frees it.
type rxFrame struct {
	dir *rxDir
	seq uint64
}

var _ chainSource = (*rxFrame)(nil)

func (f *rxFrame) with(fn func(c *chain.Chain) error) error {
	return f.dir.port.With(f.seq, fn)
}

func (f *rxFrame) remove() error {
	c, err := f.dir.port.Take(f.seq)
	if err != nil {
		return err
	}
	f.dir.forget(f.seq)
	c.Free()
	return nil
}
