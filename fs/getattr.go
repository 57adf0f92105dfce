package fs

import (
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// fileAttr fills out for a file: its mode and size, one link, and the
// present as its times, since every file shows the pond as it is now.
func fileAttr(out *fuse.AttrOut, mode uint32, size uint64) {
	out.Mode = mode
	out.Size = size
	out.Nlink = 1
	now := time.Now()
	out.SetTimes(&now, &now, &now)
}

// dirAttr fills out for a directory: its times are when the tree was made.
func (t *Tree) dirAttr(out *fuse.AttrOut) {
	out.Mode = modeDir
	out.Nlink = 2
	out.SetTimes(&t.made, &t.made, &t.made)
}
