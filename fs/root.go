package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/pond/stats"
)

// rootNode is the top of the tree. Its skeleton is static, built once in
// OnAdd; the directories whose entries come and go (accounts/) list them
// themselves.
type rootNode struct {
	fs.Inode
	t *Tree
}

var (
	_ fs.InodeEmbedder = (*rootNode)(nil)
	_ fs.NodeOnAdder   = (*rootNode)(nil)
	_ fs.NodeGetattrer = (*rootNode)(nil)
)

func (r *rootNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.t.dirAttr(out)
	return 0
}

// OnAdd builds the skeleton.
func (r *rootNode) OnAdd(ctx context.Context) {
	t := r.t
	addFile(ctx, &r.Inode, "README", &dynFile{t: t, produce: readme})
	addFile(ctx, &r.Inode, "stats", &dynFile{t: t, produce: func() []byte { return renderStats(t.totals()) }})
	addFile(ctx, &r.Inode, "metrics", &dynFile{t: t, produce: t.metrics})
	addFile(ctx, &r.Inode, "arena", &arenaFile{t: t})
	t.addPools(ctx, addDir(ctx, &r.Inode, "pools", &dirNode{t: t}))
	addDir(ctx, &r.Inode, "accounts", &accountsDir{t: t})
	t.addChains(ctx, &r.Inode)
	t.addNetdev(ctx, addDir(ctx, &r.Inode, "netdev", &dirNode{t: t}))
}

// totals are the top-level stats: the pond's totals with the tree's chain
// count before allocs (README's order), then whether the arena is
// zero-copy.
func (t *Tree) totals() []stats.Field {
	var out []stats.Field
	for _, f := range t.pond.Stats().Fields() {
		if f.Name == "allocs" {
			out = append(out, stats.Field{Name: "chains", Kind: stats.Gauge, Help: "Chains the file tree holds.", Value: t.reg.count()})
		}
		out = append(out, f)
	}
	return append(out, stats.Field{Name: "arena_zero_copy", Kind: stats.Gauge,
		Help: "1 when the arena file maps the pond's memory (FUSE passthrough), 0 when the daemon serves it.", Value: boolValue(t.ZeroCopy())})
}

func boolValue(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// addFile adds a persistent regular file to parent.
func addFile(ctx context.Context, parent *fs.Inode, name string, node fs.InodeEmbedder) {
	parent.AddChild(name, parent.NewPersistentInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFREG}), false)
}

// addDir adds a persistent directory to parent and returns its inode.
func addDir(ctx context.Context, parent *fs.Inode, name string, node fs.InodeEmbedder) *fs.Inode {
	ch := parent.NewPersistentInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFDIR})
	parent.AddChild(name, ch, false)
	return ch
}

// dirNode is a directory of the static skeleton (pools/, pools/<size>/,
// accounts/<name>/).
type dirNode struct {
	fs.Inode
	t *Tree
}

var (
	_ fs.InodeEmbedder = (*dirNode)(nil)
	_ fs.NodeGetattrer = (*dirNode)(nil)
)

func (d *dirNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.t.dirAttr(out)
	return 0
}
