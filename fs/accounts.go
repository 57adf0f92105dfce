package fs

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/pond"
)

// accountsDir lists the pond's accounts. Accounts are made while the
// daemon runs (one per TAP device's receive side) and never go away, so
// each gets a persistent directory the first time the tree sees it.
type accountsDir struct {
	fs.Inode
	t *Tree

	mu sync.Mutex // serialises adding account directories
}

var (
	_ fs.InodeEmbedder = (*accountsDir)(nil)
	_ fs.NodeLookuper  = (*accountsDir)(nil)
	_ fs.NodeReaddirer = (*accountsDir)(nil)
	_ fs.NodeGetattrer = (*accountsDir)(nil)
)

func (d *accountsDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.t.dirAttr(out)
	return 0
}

// Lookup finds an account's directory. A missing name is not logged: the
// kernel looks names up on its own account (completion, probing).
func (d *accountsDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.sync(ctx)
	ch := d.GetChild(name)
	if ch == nil {
		return nil, syscall.ENOENT
	}
	var attr fuse.AttrOut
	d.t.dirAttr(&attr)
	out.Attr = attr.Attr
	return ch, 0
}

// Readdir lists the accounts sorted by name.
func (d *accountsDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	d.sync(ctx)
	children := d.Children()
	names := make([]string, 0, len(children))
	for name := range children {
		names = append(names, name)
	}
	sort.Strings(names)
	entries := make([]fuse.DirEntry, len(names))
	for i, name := range names {
		entries[i] = fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR, Ino: children[name].StableAttr().Ino}
	}
	return fs.NewListDirStream(entries), 0
}

// sync adds a directory for every account made since the last call.
func (d *accountsDir) sync(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.t.pond.Accounts() {
		if validName(a.Name()) && d.GetChild(a.Name()) == nil {
			d.t.addAccount(ctx, &d.Inode, a)
		}
	}
}

// validName reports whether name can be a directory entry.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.Contains(name, "/")
}

// addAccount adds accounts/<name>/{stats,limit}.
func (t *Tree) addAccount(ctx context.Context, dir *fs.Inode, a *pond.Account) {
	d := addDir(ctx, dir, a.Name(), &dirNode{t: t})
	addFile(ctx, d, "stats", &dynFile{t: t, produce: func() []byte { return renderStats(a.Stats().Fields()) }})
	addFile(ctx, d, "limit", &valueFile{
		t:   t,
		get: func() []byte { return []byte(strconv.FormatInt(a.Limit(), 10) + "\n") },
		set: func(v string) error { return setLimit(a, v) },
	})
}

// setLimit sets a's limit from a byte count such as "1048576" or "64MiB".
func setLimit(a *pond.Account, v string) error {
	n, err := pond.ParseSize(v)
	if err != nil {
		return fmt.Errorf("set limit of account %s: %w", a.Name(), err)
	}
	return a.SetLimit(n)
}
