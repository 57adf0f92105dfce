package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The reference file system: a go-fuse tree of in-memory files, mounted by
// a process of its own, with the mount options pondd uses (fs/mount.go),
// so that a figure against it measures what pondd does per request and
// not a difference of kernel caching. Its files are opened with direct
// I/O, as pondd's stats and data files are: the kernel's page cache would
// otherwise answer reads without asking the daemon at all, which a file
// whose content changes under the kernel cannot allow.

// memFile is a file held in memory. It differs from go-fuse's
// MemRegularFile in two ways only: Open asks for direct I/O, and a write
// past the end grows the slice as append does rather than copying the
// whole file each time (MemRegularFile's growth is quadratic in the number
// of writes, which would make a sequential write of 64 MiB a strawman).
type memFile struct {
	fs.Inode
	mu   sync.Mutex
	data []byte
}

var (
	_ fs.NodeOpener    = (*memFile)(nil)
	_ fs.NodeReader    = (*memFile)(nil)
	_ fs.NodeWriter    = (*memFile)(nil)
	_ fs.NodeGetattrer = (*memFile)(nil)
	_ fs.NodeSetattrer = (*memFile)(nil)
	_ fs.NodeFlusher   = (*memFile)(nil)
)

func (f *memFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, fuse.FOPEN_DIRECT_IO, 0
}

func (f *memFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	off = min(off, int64(len(f.data)))
	end := min(off+int64(len(dest)), int64(len(f.data)))
	return fuse.ReadResultData(f.data[off:end]), 0
}

func (f *memFile) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resizeLocked(max(len(f.data), int(off)+len(data)))
	copy(f.data[off:], data)
	return uint32(len(data)), 0
}

// resizeLocked sets the file's length, zero-filling what it adds;
// append grows the slice geometrically.
func (f *memFile) resizeLocked(n int) {
	if n > len(f.data) {
		f.data = append(f.data, make([]byte, n-len(f.data))...)
	}
	f.data = f.data[:n]
}

func (f *memFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	out.Mode = syscall.S_IFREG | 0o644
	out.Size = uint64(len(f.data))
	return 0
}

func (f *memFile) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	if sz, ok := in.GetSize(); ok {
		f.resizeLocked(int(sz))
	}
	f.mu.Unlock()
	return f.Getattr(ctx, fh, out)
}

func (f *memFile) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return 0 }

// memRoot is the reference tree: stats (a small file the bench fills with
// a copy of pondd's stats), data and tx (empty until written), and dir, a
// directory of entries names.
type memRoot struct {
	fs.Inode
	entries int
}

var _ fs.NodeOnAdder = (*memRoot)(nil)

func (r *memRoot) OnAdd(ctx context.Context) {
	for _, name := range []string{"stats", "data", "tx"} {
		ch := r.NewPersistentInode(ctx, &memFile{}, fs.StableAttr{Mode: syscall.S_IFREG})
		r.AddChild(name, ch, false)
	}
	ch := r.NewPersistentInode(ctx, &memDir{n: r.entries}, fs.StableAttr{Mode: syscall.S_IFDIR})
	r.AddChild("dir", ch, false)
}

// memDir is a directory of n empty directories, c0 to c<n-1>, listed and
// looked up the way pondd's chains/ is: Readdir makes the sorted list
// afresh at each open, and Lookup makes an inode for the name asked for.
// Listing it is the least a go-fuse directory of n entries costs.
type memDir struct {
	fs.Inode
	n int
}

var (
	_ fs.NodeReaddirer = (*memDir)(nil)
	_ fs.NodeLookuper  = (*memDir)(nil)
)

func (d *memDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	names := make([]string, d.n)
	for i := range names {
		names[i] = chainName(i)
	}
	slices.Sort(names)
	entries := make([]fuse.DirEntry, len(names))
	for i, name := range names {
		entries[i] = fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR}
	}
	return fs.NewListDirStream(entries), 0
}

func (d *memDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	i, err := strconv.Atoi(strings.TrimPrefix(name, "c"))
	if err != nil || !strings.HasPrefix(name, "c") || i < 0 || i >= d.n || chainName(i) != name {
		return nil, syscall.ENOENT
	}
	out.Mode = syscall.S_IFDIR | 0o755
	return d.NewInode(ctx, &fs.Inode{}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: uint64(i) + 1<<32}), 0
}

// memfs serves the reference tree on the directory args[0] until SIGTERM
// or SIGINT, then unmounts it; args[1], if given, is how many entries dir
// has.
func memfs(args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return errors.New("usage: pondbench memfs DIR [ENTRIES]")
	}
	dir := args[0]
	entries := 0
	if len(args) >= 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 {
			return fmt.Errorf("entries %q: want a count", args[1])
		}
		entries = n
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The same options as pondd's mount (fs/mount.go), less its logger.
	timeout := time.Second
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			FsName:            "pondbench",
			Name:              "pondbench",
			Options:           []string{"nosuid", "nodev", "default_permissions"},
			DirectMountStrict: os.Geteuid() == 0,
			DisableXAttrs:     true,
			ExtraCapabilities: fuse.CAP_DIRECT_IO_ALLOW_MMAP,
		},
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
	}
	server, err := fs.Mount(dir, &memRoot{entries: entries}, opts)
	if err != nil {
		return fmt.Errorf("mount %s: %w", dir, err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		server.Unmount()
	}()
	server.Wait()
	return nil
}
