package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
)

// Removal. go-fuse takes an unlink or rmdir that a directory's node does
// not handle as done: it drops the entry from the tree, the kernel
// forgets it, and the file or directory is gone until the daemon
// restarts (a `rm -rf` of the mount would wipe its interface). So every
// directory of the tree handles both, and only two remove anything:
// rmdir of chains/<id> frees a chain and rmdir of netdev/<if>/rx/<seq>
// consumes a frame. Every other removal fails with EPERM, logged once,
// and changes nothing.

var (
	_ fs.NodeUnlinker = (*rootNode)(nil)
	_ fs.NodeRmdirer  = (*rootNode)(nil)
	_ fs.NodeUnlinker = (*dirNode)(nil)
	_ fs.NodeRmdirer  = (*dirNode)(nil)
	_ fs.NodeUnlinker = (*accountsDir)(nil)
	_ fs.NodeRmdirer  = (*accountsDir)(nil)
	_ fs.NodeUnlinker = (*chainsDir)(nil)
	_ fs.NodeRmdirer  = (*chainDir)(nil)
	_ fs.NodeUnlinker = (*layersDir)(nil)
	_ fs.NodeRmdirer  = (*layersDir)(nil)
	_ fs.NodeUnlinker = (*layerDir)(nil)
	_ fs.NodeRmdirer  = (*layerDir)(nil)
	_ fs.NodeUnlinker = (*rxDir)(nil)
)

// refuseRemoval logs and refuses op ("unlink" or "rmdir") of name in dir.
func (t *Tree) refuseRemoval(op string, dir *fs.Inode, name string) syscall.Errno {
	return t.fail(op+" "+dir.Path(nil)+"/"+name, errNotPermitted)
}

func (r *rootNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return r.t.refuseRemoval("unlink", &r.Inode, name)
}

func (r *rootNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	return r.t.refuseRemoval("rmdir", &r.Inode, name)
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("unlink", &d.Inode, name)
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("rmdir", &d.Inode, name)
}

func (d *accountsDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("unlink", &d.Inode, name)
}

// Rmdir refuses: an account lives as long as its pond.
func (d *accountsDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("rmdir", &d.Inode, name)
}

// Unlink refuses chains/new; chains themselves go by rmdir.
func (d *chainsDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("unlink", &d.Inode, name)
}

// Rmdir refuses layers/: a chain's layers go by pop.
func (d *chainDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("rmdir", &d.Inode, name)
}

func (l *layersDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return l.d.t.refuseRemoval("unlink", &l.Inode, name)
}

// Rmdir refuses: a layer goes by pop.
func (l *layersDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return l.d.t.refuseRemoval("rmdir", &l.Inode, name)
}

func (l *layerDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return l.d.t.refuseRemoval("unlink", &l.Inode, name)
}

func (l *layerDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return l.d.t.refuseRemoval("rmdir", &l.Inode, name)
}

// Unlink refuses: rx/ holds directories only, which rmdir consumes.
func (d *rxDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.t.refuseRemoval("unlink", &d.Inode, name)
}
