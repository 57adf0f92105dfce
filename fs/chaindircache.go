package fs

import (
	"github.com/hanwen/go-fuse/v2/fs"
)

// The page caches of a chain's data files. data and layers/<k>/data are
// opened with direct I/O, so read(2) and write(2) always reach the chain;
// only mmap uses the kernel's page cache (the mount offers
// CAP_DIRECT_IO_ALLOW_MMAP). The kernel keeps that cache in step with
// writes made through the same file; every other change to the chain
// (ctl, truncate, a write through another of its data files) drops the
// caches here, so that a mapping faults the present bytes back in.
//
// A write into the pond's memory through a zero-copy arena never reaches
// the daemon, which therefore cannot drop a cache when it happens: the
// cacheRefresher drops the caches of open data files every refreshEvery
// instead (and the kernel drops a file's cache at each open of it).

// dataInodes are the data files of d that the kernel knows now; only they
// can have cached pages.
func (d *chainDir) dataInodes() []*fs.Inode {
	var out []*fs.Inode
	if ch := d.GetChild(nameData); ch != nil {
		out = append(out, ch)
	}
	if layers := d.GetChild(nameLayers); layers != nil {
		for _, layer := range layers.Children() {
			if ch := layer.GetChild(nameData); ch != nil {
				out = append(out, ch)
			}
		}
	}
	return out
}

// dropCaches drops the cached pages and attributes of every data file of
// d but except, whose own request the kernel is serving: it keeps that
// file's cache itself, and a drop of it from inside the request would wait
// on the request. Dirty pages of a mapping are written back first. It must
// be called with the chain not borrowed: the write-back is a request that
// borrows it.
func (d *chainDir) dropCaches(except *fs.Inode) {
	for _, n := range d.dataInodes() {
		if n != except {
			// An error means the kernel has forgotten the inode, and with
			// it every page.
			_ = n.NotifyContent(0, 0)
		}
	}
}

// gone removes the chain from the tree once it has been consumed, and
// tells the kernel to forget the directory's name.
func (d *chainDir) gone() {
	if err := d.src.remove(); err != nil {
		// Removed by someone else meanwhile: gone all the same.
		d.t.log.Printf("remove %s after send: %v", d.Path(nil), err)
	}
	name, parent := d.Parent()
	d.RmAllChildren()
	if parent != nil {
		_ = parent.NotifyEntry(name)
	}
}
