package fs

import (
	"fmt"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// setattrAccepted are the attribute changes a file that takes writes lets
// through as no-ops: the truncation and time stamps that a shell's `>`
// (O_TRUNC) sends before the write, and the handle and lock owner the
// kernel sends along with them.
const setattrAccepted = fuse.FATTR_ATIME | fuse.FATTR_MTIME | fuse.FATTR_ATIME_NOW |
	fuse.FATTR_MTIME_NOW | fuse.FATTR_CTIME | fuse.FATTR_FH | fuse.FATTR_LOCKOWNER |
	fuse.FATTR_KILL_SUIDGID | fuse.FATTR_SIZE

// checkSetattr lets a change of in through when it is one a shell makes
// in passing and a size, when given, is allowSize; anything else (a mode, an
// owner, another size) fails with EPERM.
func (t *Tree) checkSetattr(path string, in *fuse.SetAttrIn, allowSize uint64) syscall.Errno {
	if in.Valid&^setattrAccepted != 0 {
		return t.fail("setattr "+path, fmt.Errorf("%w: only the size and times may be set", errNotPermitted))
	}
	if size, ok := in.GetSize(); ok && size != allowSize {
		return t.fail("setattr "+path, fmt.Errorf("%w: size %d (only %d is taken)", errNotPermitted, size, allowSize))
	}
	return 0
}
