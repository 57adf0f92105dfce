package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	pfs "github.com/pondfs/pondfs/fs"
	"golang.org/x/sys/unix"
)

// staleLimit bounds how many stale mounts stacked on one directory are
// detached before pondd gives up.
const staleLimit = 8

// answerTimeout is how long a pondfs mount already at the mount point has
// to answer a stat before pondd takes it as hung, and leaves it alone.
const answerTimeout = 3 * time.Second

// mountPoint is where the tree goes: its absolute path, and whether pondd
// made the directory (and so removes it when done).
type mountPoint struct {
	path string
	made bool
}

// prepareMountPoint makes dir ready to mount on: it detaches the stale
// mounts of pondfs daemons that died, refuses a live pondfs mount or any
// other mount there, and makes the directory when it is missing (its
// parent must exist).
func prepareMountPoint(dir string, logger *log.Logger) (mountPoint, error) {
	path, err := resolveMountPoint(dir)
	if err != nil {
		return mountPoint{}, err
	}
	if err := clearStale(path, logger); err != nil {
		return mountPoint{}, err
	}
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.Mkdir(path, 0o755); err != nil {
			return mountPoint{}, fmt.Errorf("make mount point: %w", err)
		}
		return mountPoint{path: path, made: true}, nil
	case err != nil:
		return mountPoint{}, fmt.Errorf("mount point: %w", err)
	case !st.IsDir():
		return mountPoint{}, fmt.Errorf("mount point %s is not a directory", path)
	}
	return mountPoint{path: path}, nil
}

// resolveMountPoint makes dir absolute with its parent's symlinks
// resolved, as /proc/self/mountinfo names mount points. dir itself is not
// resolved: a stale mount there cannot even be stat'ed.
func resolveMountPoint(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("mount point %s: %w", dir, err)
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("mount point %s: parent directory: %w", abs, err)
	}
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return "", fmt.Errorf("mount point %s: parent %s is not a directory", abs, parent)
	}
	return filepath.Join(parent, filepath.Base(abs)), nil
}

// clearStale detaches every dead pondfs mount on path, top first, and
// fails on a live one or a mount of anything else.
func clearStale(path string, logger *log.Logger) error {
	for range staleLimit {
		m, ok, err := topMount(path)
		if err != nil || !ok {
			return err
		}
		if m.fstype != "fuse."+pfs.Subtype {
			return fmt.Errorf("%s is already a mount point (%s from %s); choose another --mount", path, m.fstype, m.source)
		}
		if err := checkStale(path); err != nil {
			return err
		}
		if err := detach(path); err != nil {
			return fmt.Errorf("detach stale pondfs mount at %s: %w", path, err)
		}
		logger.Printf("detached a stale pondfs mount at %s (its daemon is gone)", path)
	}
	return fmt.Errorf("%s: more than %d stale pondfs mounts stacked; detach them with umount -l", path, staleLimit)
}

// checkStale returns nil when the pondfs mount at path has lost its
// daemon: the kernel answers ENOTCONN for a connection whose daemon died.
// Any other answer, or none in time, means a daemon still holds it. It asks
// with statfs(2), which the kernel always passes to the daemon; a stat(2)
// can be answered from cached attributes of a dead mount.
func checkStale(path string) error {
	done := make(chan error, 1)
	go func() {
		var st unix.Statfs_t
		done <- unix.Statfs(path, &st)
	}()
	select {
	case err := <-done:
		if errors.Is(err, unix.ENOTCONN) || errors.Is(err, unix.ECONNABORTED) {
			return nil
		}
		return fmt.Errorf("a live pondfs mount is already at %s (another pondd serves it); stop it or choose another --mount", path)
	case <-time.After(answerTimeout):
		return fmt.Errorf("a pondfs mount at %s does not answer; unmount it (umount -l %s) or choose another --mount", path, path)
	}
}

// mountEntry is one line of /proc/self/mountinfo, the fields pondd uses.
type mountEntry struct {
	point, fstype, source string
}

// topMount is the last (uppermost) mount on path, if any.
func topMount(path string) (mountEntry, bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return mountEntry{}, false, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	entries, err := parseMountinfo(f)
	if err != nil {
		return mountEntry{}, false, fmt.Errorf("read mounts: %w", err)
	}
	var top mountEntry
	found := false
	for _, e := range entries {
		if e.point == path {
			top, found = e, true
		}
	}
	return top, found, nil
}

// parseMountinfo reads proc(5)'s mountinfo format: the mount point is the
// fifth field, and the file system type and source follow the "-" that
// ends the optional fields.
func parseMountinfo(r io.Reader) ([]mountEntry, error) {
	var out []mountEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("malformed mountinfo line %q", sc.Text())
		}
		out = append(out, mountEntry{point: unescapeOctal(f[4]), fstype: f[sep+1], source: unescapeOctal(f[sep+2])})
	}
	return out, sc.Err()
}

// unescapeOctal undoes the kernel's \ooo escaping of blanks and
// backslashes in mountinfo.
func unescapeOctal(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// detach lazily unmounts path: it leaves the tree at once, and the kernel
// lets go of it when its last user does.
func detach(path string) error {
	if os.Geteuid() == 0 {
		return unix.Unmount(path, unix.MNT_DETACH)
	}
	out, err := exec.Command("fusermount3", "-u", "-z", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fusermount3 -u -z: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// unmountTries and unmountPause bound how long pondd waits for the open
// files of its tree to close before it detaches it lazily.
const (
	unmountTries = 4
	unmountPause = 250 * time.Millisecond
)

// unmount takes the tree off path. A file still open keeps the mount busy;
// after a bounded retry pondd detaches it lazily, and the open files fail
// from then on (ENOTCONN) because the daemon that served them exits.
// served is closed when the server has stopped serving (someone else
// unmounted it meanwhile). It reports whether it detached.
func unmount(server *fuse.Server, path string, served <-chan struct{}, logger *log.Logger) (detached bool, err error) {
	for range unmountTries {
		if err = server.Unmount(); err == nil {
			return false, nil
		}
		select {
		case <-served:
			return false, nil
		case <-time.After(unmountPause):
		}
	}
	logger.Printf("unmount %s: %v; detaching it lazily (files still open there will fail)", path, err)
	if err := detach(path); err != nil {
		return true, fmt.Errorf("detach %s: %w", path, err)
	}
	return true, nil
}
