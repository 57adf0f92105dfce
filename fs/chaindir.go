package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/chain"
)

// chainSource gives a chain directory its chain. The directory never owns
// the chain: it borrows it for one operation at a time, so that whoever
// keeps the chain (the chains/ registry, a device's receive queue) decides
// how long it lives and serialises the operations on it.
type chainSource interface {
	// with runs fn with the chain lent, serialised with every other
	// operation on the same chain; fn must neither keep nor free it. When
	// the chain is gone, with fails without calling fn, with an error
	// errnoOf maps to ENOENT.
	with(fn func(c *chain.Chain) error) error
	// remove takes the chain out of the tree and frees it (rmdir, and a
	// chain that `send` consumed).
	remove() error
}

// Entries of a chain directory, in listing order.
const (
	nameData      = "data"
	nameCtl       = "ctl"
	nameSegments  = "segments"
	nameStats     = "stats"
	nameLayers    = "layers"
	nameInfo      = "info"
	nameFragments = "fragments"
)

// chainDir is a chain as a directory: data, ctl, segments, stats and
// layers/<k>/{data,info}, over any chainSource. Its entries are made on
// lookup rather than kept, so a directory the kernel forgets leaves
// nothing behind; each has a fixed inode number within the directory's
// block (see chainIno), so the kernel's page cache of data stays with the
// one inode that the directory invalidates when the chain changes.
//
// A source shown by two chainDirs at once has two sets of page caches, and
// a change made through one leaves the other's mappings stale: show each
// source through one chainDir.
type chainDir struct {
	fs.Inode
	t       *Tree
	src     chainSource
	inoBase uint64 // first of this directory's block of inode numbers
}

var (
	_ fs.InodeEmbedder = (*chainDir)(nil)
	_ fs.NodeLookuper  = (*chainDir)(nil)
	_ fs.NodeReaddirer = (*chainDir)(nil)
	_ fs.NodeGetattrer = (*chainDir)(nil)
	_ fs.NodeUnlinker  = (*chainDir)(nil)
	_ fs.NodeCreater   = (*chainDir)(nil)
)

// chainDirAt makes a directory of src over the block of inode numbers at
// inoBase (from chainRegistry.inoBlock); add it with stableAttr. A source
// that keeps its block, and is looked up again, gets the inode the kernel
// already knows, whose data files' page caches are the ones its changes
// drop.
func chainDirAt(t *Tree, src chainSource, inoBase uint64) *chainDir {
	return &chainDir{t: t, src: src, inoBase: inoBase}
}

// stableAttr is the identity the directory's inode must be made with.
func (d *chainDir) stableAttr() fs.StableAttr {
	return fs.StableAttr{Mode: syscall.S_IFDIR, Ino: d.ino(inoDir)}
}

// Inode numbers within a chain directory's block: the directory, its four
// files and layers/, then four per layer (its directory, data, info and
// fragments).
const (
	inoDir = iota
	inoData
	inoCtl
	inoSegments
	inoStats
	inoLayers
	inoFirstLayer
	inosPerLayer = 4
	// inoBlockSize covers every layer a chain can have.
	inoBlockSize = 512
)

// Every layer fits the block.
const _ = uint(inoBlockSize - inoFirstLayer - (chain.MaxDepth+1)*inosPerLayer)

func (d *chainDir) ino(i int) uint64 { return d.inoBase + uint64(i) }

func (d *chainDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.t.dirAttr(out)
	return 0
}

// Lookup makes the entry asked for. A missing name is not logged: the
// kernel looks names up on its own account.
func (d *chainDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	node, i, mode := d.entry(name)
	if node == nil {
		return nil, syscall.ENOENT
	}
	if errno := entryAttr(ctx, node, out); errno != 0 {
		return nil, errno
	}
	return d.NewInode(ctx, node, fs.StableAttr{Mode: mode, Ino: d.ino(i)}), 0
}

// entryAttr fills a lookup's attributes from the node's own Getattr, with
// its attribute timeout, so that a lookup and a stat agree.
func entryAttr(ctx context.Context, node fs.InodeEmbedder, out *fuse.EntryOut) syscall.Errno {
	var attr fuse.AttrOut
	if errno := node.(fs.NodeGetattrer).Getattr(ctx, nil, &attr); errno != 0 {
		return errno
	}
	out.Attr = attr.Attr
	out.SetAttrTimeout(attr.Timeout())
	return 0
}

// entry is the node named name, its inode index and its mode; nil when
// there is no such entry.
func (d *chainDir) entry(name string) (fs.InodeEmbedder, int, uint32) {
	switch name {
	case nameData:
		return &chainData{d: d, layer: topLayer}, inoData, syscall.S_IFREG
	case nameCtl:
		return &ctlFile{t: d.t, exec: d.exec}, inoCtl, syscall.S_IFREG
	case nameSegments:
		return &chainText{d: d, produce: segmentsText}, inoSegments, syscall.S_IFREG
	case nameStats:
		return &chainText{d: d, produce: statsText}, inoStats, syscall.S_IFREG
	case nameLayers:
		return &layersDir{d: d}, inoLayers, syscall.S_IFDIR
	}
	return nil, 0, 0
}

// Readdir lists the entries in a fixed order.
func (d *chainDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	return fs.NewListDirStream([]fuse.DirEntry{
		{Name: nameData, Mode: syscall.S_IFREG, Ino: d.ino(inoData)},
		{Name: nameCtl, Mode: syscall.S_IFREG, Ino: d.ino(inoCtl)},
		{Name: nameSegments, Mode: syscall.S_IFREG, Ino: d.ino(inoSegments)},
		{Name: nameStats, Mode: syscall.S_IFREG, Ino: d.ino(inoStats)},
		{Name: nameLayers, Mode: syscall.S_IFDIR, Ino: d.ino(inoLayers)},
	}), 0
}

// Unlink refuses: a chain's files are the chain; rmdir of the directory
// frees it.
func (d *chainDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("unlink", &d.Inode, name)
}

// Create refuses: a chain directory holds the chain's files and no others.
func (d *chainDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, d.t.fail("create "+d.Path(nil)+"/"+name, errNotPermitted)
}
