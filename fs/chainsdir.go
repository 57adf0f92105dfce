package fs

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/chain"
)

// Chains made through the tree: no headroom to speak of (a user prepends
// rarely and the pond's small buffers stay whole), a bound on length that
// keeps one runaway write from taking the arena, and a short wait, so that
// ENOBUFS and EDQUOT mean the pond could not supply the buffers in time.
var fsChainOptions = chain.Options{
	Headroom: 64,
	MaxLen:   64 << 20,
	Wait:     100 * time.Millisecond,
}

// Chain names (mkdir chains/NAME): 1 to maxChainName bytes of
// [A-Za-z0-9._-], not starting with a dot.
const maxChainName = 64

// nameNew is chains/new, which no chain may be called.
const nameNew = "new"

// chainsDir is chains/: new, and one chain directory per chain the
// registry holds, listed in order of their names (numeric ids by value).
type chainsDir struct {
	fs.Inode
	t *Tree
}

var (
	_ fs.InodeEmbedder = (*chainsDir)(nil)
	_ fs.NodeOnAdder   = (*chainsDir)(nil)
	_ fs.NodeLookuper  = (*chainsDir)(nil)
	_ fs.NodeReaddirer = (*chainsDir)(nil)
	_ fs.NodeMkdirer   = (*chainsDir)(nil)
	_ fs.NodeRmdirer   = (*chainsDir)(nil)
	_ fs.NodeGetattrer = (*chainsDir)(nil)
)

// addChains adds chains/ to the root.
func (t *Tree) addChains(ctx context.Context, root *fs.Inode) {
	t.chainsNode = addDir(ctx, root, "chains", &chainsDir{t: t})
}

// chainDirOf is the directory of chains/name while the kernel knows it,
// or nil.
func (t *Tree) chainDirOf(name string) *chainDir {
	if ch := t.chainsNode.GetChild(name); ch != nil {
		if cd, ok := ch.Operations().(*chainDir); ok {
			return cd
		}
	}
	return nil
}

// forgetChainDir tells the kernel that chains/name is gone, once its
// chain has left the registry other than by rmdir.
func (t *Tree) forgetChainDir(name string) {
	if ch := t.chainsNode.GetChild(name); ch != nil {
		ch.RmAllChildren()
	}
	_ = t.chainsNode.NotifyEntry(name)
}

// FreeChains frees every chain in chains/, so that their buffers return to
// the pond. Call it once the tree is unmounted, before closing the pond.
func (t *Tree) FreeChains() { t.reg.freeAll() }

func (d *chainsDir) OnAdd(ctx context.Context) {
	addFile(ctx, &d.Inode, nameNew, &newFile{t: d.t})
}

func (d *chainsDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.t.dirAttr(out)
	return 0
}

// Lookup finds a chain. A missing one is not logged: the kernel looks
// names up on its own account.
func (d *chainsDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if name == nameNew {
		ch := d.GetChild(nameNew)
		return ch, entryAttr(ctx, ch.Operations(), out)
	}
	e := d.t.reg.get(name)
	if e == nil {
		return nil, syscall.ENOENT
	}
	return d.chainInode(ctx, e, out), 0
}

// chainInode is the inode of e's directory: the one the kernel knows when
// it knows one.
func (d *chainsDir) chainInode(ctx context.Context, e *chainEntry, out *fuse.EntryOut) *fs.Inode {
	var attr fuse.AttrOut
	d.t.dirAttr(&attr)
	out.Attr = attr.Attr
	cd := chainDirAt(d.t, e, e.inoBase)
	return d.NewInode(ctx, cd, cd.stableAttr())
}

// Readdir lists new and the chains.
func (d *chainsDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	names := d.t.reg.names()
	entries := make([]fuse.DirEntry, 0, len(names)+1)
	entries = append(entries, fuse.DirEntry{Name: nameNew, Mode: syscall.S_IFREG})
	for _, name := range names {
		entries = append(entries, fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR})
	}
	return fs.NewListDirStream(entries), 0
}

// Mkdir makes an empty chain called name.
func (d *chainsDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	op := "mkdir " + d.Path(nil) + "/" + name
	if err := checkChainName(name); err != nil {
		return nil, d.t.fail(op, err)
	}
	c, err := d.t.newChain()
	if err != nil {
		return nil, d.t.fail(op, err)
	}
	if err := d.t.reg.adoptAs(name, c); err != nil {
		c.Free()
		return nil, d.t.fail(op, err)
	}
	return d.chainInode(ctx, d.t.reg.get(name), out), 0
}

// Rmdir frees a chain; buffers a clone still shares stay with the clone.
func (d *chainsDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	op := "rmdir " + d.Path(nil) + "/" + name
	e := d.t.reg.get(name)
	if e == nil {
		return d.t.fail(op, fmt.Errorf("chain %q: %w", name, errNoChain))
	}
	if err := e.remove(); err != nil {
		return d.t.fail(op, err)
	}
	if ch := d.GetChild(name); ch != nil {
		ch.RmAllChildren()
	}
	return 0
}

// checkChainName accepts 1 to maxChainName bytes of [A-Za-z0-9._-], not
// starting with a dot.
func checkChainName(name string) error {
	if len(name) > maxChainName {
		return fmt.Errorf("chain name of %d bytes: %w", len(name), errNameTooLong)
	}
	if name == "" || name[0] == '.' {
		return fmt.Errorf("%w: a chain's name may not be empty or start with a dot", errInvalid)
	}
	for i := 0; i < len(name); i++ {
		if !chainNameByte(name[i]) {
			return fmt.Errorf("%w: a chain's name is made of A-Z a-z 0-9 . _ - (%q)", errInvalid, name)
		}
	}
	return nil
}

func chainNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-'
}

// newChain makes an empty chain charged to the FSAccount; the caller owns
// it.
func (t *Tree) newChain() (*chain.Chain, error) {
	acct, err := t.pond.Account(FSAccount)
	if err != nil {
		return nil, fmt.Errorf("new chain: %w", err)
	}
	return chain.New(t.pond, acct, fsChainOptions)
}
