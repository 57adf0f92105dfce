package fs

import (
	"context"
	"strconv"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/chain"
)

// uncachedEntry is how long the kernel may keep a name that can vanish
// behind its back (a layer a pop takes away, a frame the rx queue drops):
// as good as not at all. It counts in clock ticks, and go-fuse replaces a
// zero with the mount's default, hence one nanosecond. A file under a name
// gone meanwhile answers ENOENT.
const uncachedEntry = time.Nanosecond

// layersDir is a chain's layers/: one directory per layer, 0 (the whole
// chain) to the depth (the view). Layers come and go with push and pop, so
// each lookup asks the chain and no entry is cached.
type layersDir struct {
	fs.Inode
	d *chainDir
}

var (
	_ fs.InodeEmbedder = (*layersDir)(nil)
	_ fs.NodeLookuper  = (*layersDir)(nil)
	_ fs.NodeReaddirer = (*layersDir)(nil)
	_ fs.NodeGetattrer = (*layersDir)(nil)
	_ fs.InodeEmbedder = (*layerDir)(nil)
	_ fs.NodeLookuper  = (*layerDir)(nil)
	_ fs.NodeReaddirer = (*layerDir)(nil)
	_ fs.NodeGetattrer = (*layerDir)(nil)
)

func (l *layersDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	l.d.t.dirAttr(out)
	return 0
}

// Lookup finds layer k while the chain has it. A missing one is not
// logged: the kernel looks names up on its own account.
func (l *layersDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	k, err := strconv.Atoi(name)
	if err != nil || k < 0 || k > chain.MaxDepth || strconv.Itoa(k) != name || l.depth() < k {
		return nil, syscall.ENOENT
	}
	var attr fuse.AttrOut
	l.d.t.dirAttr(&attr)
	out.Attr = attr.Attr
	out.SetEntryTimeout(uncachedEntry)
	return l.NewInode(ctx, &layerDir{d: l.d, k: k}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: l.d.ino(layerIno(k))}), 0
}

// Readdir lists the layers from 0 up.
func (l *layersDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	depth := l.depth()
	entries := make([]fuse.DirEntry, 0, depth+1)
	for k := 0; k <= depth; k++ {
		entries = append(entries, fuse.DirEntry{Name: strconv.Itoa(k), Mode: syscall.S_IFDIR, Ino: l.d.ino(layerIno(k))})
	}
	return fs.NewListDirStream(entries), 0
}

// depth is the chain's depth; -1 once it is gone.
func (l *layersDir) depth() int {
	depth := -1
	_ = l.d.src.with(func(c *chain.Chain) error {
		depth = c.Depth()
		return nil
	})
	return depth
}

// layerIno is the index of layers/<k>/ in its chain directory's block;
// its data, info and fragments follow.
func layerIno(k int) int { return inoFirstLayer + k*inosPerLayer }

// layerDir is layers/<k>/: data, info and fragments of layer k.
type layerDir struct {
	fs.Inode
	d *chainDir
	k int
}

func (l *layerDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	l.d.t.dirAttr(out)
	return 0
}

func (l *layerDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var node fs.InodeEmbedder
	switch name {
	case nameData:
		node = &chainData{d: l.d, layer: l.k}
	case nameInfo:
		node = &chainText{d: l.d, produce: infoText(l.k)}
	case nameFragments:
		node = &chainText{d: l.d, produce: fragmentsText(l.k)}
	default:
		return nil, syscall.ENOENT
	}
	if errno := entryAttr(ctx, node, out); errno != 0 {
		return nil, errno
	}
	return l.NewInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFREG, Ino: l.d.ino(l.fileIno(name))}), 0
}

func (l *layerDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	return fs.NewListDirStream([]fuse.DirEntry{
		{Name: nameData, Mode: syscall.S_IFREG, Ino: l.d.ino(l.fileIno(nameData))},
		{Name: nameInfo, Mode: syscall.S_IFREG, Ino: l.d.ino(l.fileIno(nameInfo))},
		{Name: nameFragments, Mode: syscall.S_IFREG, Ino: l.d.ino(l.fileIno(nameFragments))},
	}), 0
}

// fileIno is the index of layers/<k>/data, info or fragments.
func (l *layerDir) fileIno(name string) int {
	switch name {
	case nameData:
		return layerIno(l.k) + 1
	case nameInfo:
		return layerIno(l.k) + 2
	}
	return layerIno(l.k) + 3
}
