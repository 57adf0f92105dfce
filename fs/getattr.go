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

// producedAttr fills out for a file whose content is produced at each
// open (stats, metrics, README, a limit): size 0, as procfs reports. Any
// size it could report would be a guess that the next open may prove
// wrong, and the kernel keeps attributes for a second: a stale size larger
// than the content makes grep call a text file binary, a smaller one makes
// a reader that trusts stat(2) stop short. With size 0, tools read to the
// end of file, which direct I/O lets them reach.
func producedAttr(out *fuse.AttrOut, mode uint32) {
	fileAttr(out, mode, 0)
}

// dirAttr fills out for a directory: its times are when the tree was made.
func (t *Tree) dirAttr(out *fuse.AttrOut) {
	out.Mode = modeDir
	out.Nlink = 2
	out.SetTimes(&t.made, &t.made, &t.made)
}
