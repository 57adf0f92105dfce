package fs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// MountOptions tune Mount.
type MountOptions struct {
	// AllowOther lets users other than the mounter use the tree (the
	// allow_other mount option; a user who is not root needs
	// user_allow_other in /etc/fuse.conf).
	AllowOther bool
}

// FsName and Subtype name pondfs mounts in /proc/self/mountinfo: source
// "pond", type "fuse.pond".
const (
	FsName  = "pond"
	Subtype = "pond"
)

// maxWrite is the largest write(2) the kernel passes to the tree in one
// request, as large as Linux allows (256 pages). Each request is a round
// trip between the writer and the daemon, so a stream written to inject
// in pieces this large pays a round trip per 1 MiB, not per 128 KiB, the
// default. Reads are capped the same way (max_read).
const maxWrite = 1 << 20

// cacheTimeout is how long the kernel may keep names and attributes. The
// skeleton does not change, and every dynamic file is read with direct I/O,
// so a second of attribute caching shows nothing stale.
const cacheTimeout = time.Second

// Mount mounts the tree on dir and serves it until it is unmounted; the
// returned server's Wait returns then. As root it mounts with mount(2)
// itself; as another user through fusermount3, and it says so when that is
// missing. Once the tree answers, it learns whether the kernel passes the
// arena through (zero copy) and logs which way the arena is served.
//
// The daemon must not touch its own mount. The one exception is go-fuse's
// own: WaitMount opens a name go-fuse answers itself, never a node of the
// tree, so that the kernel learns POLL is not implemented before anything
// else could make it ask.
func (t *Tree) Mount(dir string, mo MountOptions) (*fuse.Server, error) {
	direct := os.Geteuid() == 0
	if !direct {
		if _, err := fusermount(); err != nil {
			return nil, fmt.Errorf("mount %s: not root, so mounting needs fusermount3 (Debian package fuse3): %w", dir, err)
		}
	}
	timeout := cacheTimeout
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			FsName:            FsName,
			Name:              Subtype,
			Options:           []string{"nosuid", "nodev", "default_permissions"},
			AllowOther:        mo.AllowOther,
			DirectMountStrict: direct,
			DisableXAttrs:     true,
			MaxWrite:          maxWrite,
			Logger:            t.log,
			// A chain's data file is read and written with direct I/O and
			// still mapped with mmap(MAP_SHARED) through the page cache
			// (chaindircache.go); without this the kernel refuses the map.
			// READDIRPLUS_AUTO lets the kernel list a directory with plain
			// READDIR unless the lister looks entries up (ls -l): with
			// READDIRPLUS always on, a plain ls of 100k chains made an
			// inode for each and took twice as long.
			ExtraCapabilities: fuse.CAP_DIRECT_IO_ALLOW_MMAP | fuse.CAP_READDIRPLUS_AUTO,
		},
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		UID:          t.uid,
		GID:          t.gid,
		Logger:       t.log,
	}
	t.probing.Add(1)
	defer t.probing.Done()
	server, err := fs.Mount(dir, &rootNode{t: t}, opts)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	t.probeZeroCopy(server)
	return server, nil
}

// fusermount finds the helper go-fuse mounts through when not root, where
// go-fuse looks for it.
func fusermount() (string, error) {
	if p, err := exec.LookPath("fusermount3"); err == nil {
		return p, nil
	}
	return exec.LookPath("/bin/fusermount3")
}

// probeZeroCopy registers the pond's memfd as a passthrough backing file
// and drops it again. The kernel takes it only where passthrough was
// negotiated at mount and the daemon may use it (CAP_SYS_ADMIN), which is
// exactly when an open of the arena will be passed through.
func (t *Tree) probeZeroCopy(server *fuse.Server) {
	if t.noZeroCopy {
		t.log.Printf("arena: served through the daemon (zero copy turned off)")
		return
	}
	id, errno := server.RegisterBackingFd(&fuse.BackingMap{Fd: int32(t.pond.Fd())})
	if errno != 0 {
		t.log.Printf("arena: served through the daemon (no zero copy: %s)", passthroughRefusal(errno))
		return
	}
	if errno := server.UnregisterBackingFd(id); errno != 0 {
		t.log.Printf("arena: unregister probe backing file %d: %v", id, errno)
	}
	t.zeroCopy.Store(true)
	t.log.Printf("arena: zero copy (FUSE passthrough maps the pond's memory)")
}

// passthroughRefusal says why the kernel would not take a backing file.
func passthroughRefusal(errno syscall.Errno) string {
	switch {
	case errors.Is(errno, syscall.EPERM):
		return "FUSE passthrough not granted: it needs root and a kernel that offers it"
	case errors.Is(errno, syscall.ENOTTY), errors.Is(errno, syscall.EINVAL), errors.Is(errno, syscall.EOPNOTSUPP):
		return "this kernel has no FUSE passthrough (Linux 6.9 or later)"
	default:
		return fmt.Sprintf("kernel refused the arena as a passthrough backing file: %v", errno)
	}
}
