package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
)

// modeRing: a ring is the owner's, as the arena it lives in is.
const modeRing = 0o600

// ringFile attaches a ring of its kind to its device at each open; the
// ring lives as long as the open file description (go-fuse's file handle,
// released when the last descriptor of it closes, the program's death
// included). The first read of an open gives the ring's layout in the
// stats format; each later read blocks until the ring has work and
// returns "<n>\n" (frames waiting, or free slots), and ends with EINTR at
// a signal, as capture's does. A write to a transmit ring, whatever its
// bytes, is a kick: every frame produced since the last one is sent.
type ringFile struct {
	fs.Inode
	t    *Tree
	port *netdev.Port
	kind netdev.RingKind

	mu     sync.Mutex  // guards holder
	holder *ringHandle // the open the ring is attached to, nil when none
}

// releaseWait bounds how long an open waits for a closed holder's
// release; see attach.
const releaseWait = time.Second

var (
	_ fs.InodeEmbedder = (*ringFile)(nil)
	_ fs.NodeOpener    = (*ringFile)(nil)
	_ fs.NodeGetattrer = (*ringFile)(nil)
	_ fs.NodeSetattrer = (*ringFile)(nil)
	_ fs.FileReader    = (*ringHandle)(nil)
	_ fs.FileWriter    = (*ringHandle)(nil)
	_ fs.FileReleaser  = (*ringHandle)(nil)
	_ fs.FileFlusher   = (*ringHandle)(nil)
)

// errNoZeroCopy: a ring asked for where the arena is a copy, in which the
// program would never see a frame arrive.
var errNoZeroCopy = fmt.Errorf("arena_zero_copy 0: without FUSE passthrough of the arena (pondd not root, or Linux before 6.9) a program's mapping is a copy, and frames could not reach it in place: %w", netdev.ErrNotSupported)

// Open attaches the ring, charged to the FSAccount: the rings are the
// tree's, opened by programs, and must not take the memory the device's
// receive queue counts on.
func (n *ringFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	op := "open " + n.Path(nil)
	// Only an open for reading and writing attaches a ring: grep -r and
	// other walks open every file read-only, and must not take a device's
	// frames from rx/ as they pass.
	if flags&syscall.O_ACCMODE != syscall.O_RDWR {
		return nil, 0, n.t.fail(op, fmt.Errorf("a ring is opened for reading and writing: %w", errNotPermitted))
	}
	if !n.t.ZeroCopy() {
		return nil, 0, n.t.fail(op, errNoZeroCopy)
	}
	acct, err := n.t.pond.Account(FSAccount)
	if err != nil {
		return nil, 0, n.t.fail(op, err)
	}
	h, err := n.attach(ctx, acct)
	if err != nil {
		return nil, 0, n.t.fail(op, err)
	}
	return h, fuse.FOPEN_DIRECT_IO | fuse.FOPEN_STREAM | fuse.FOPEN_NONSEEKABLE, 0
}

// attach attaches a ring to the device and makes the open that holds it.
// close(2) returns once the kernel has flushed the file, before it
// releases it, which it does on its own time: an open right after the
// last descriptor of the holder closed would find the old ring still
// attached. So when the holder has been flushed, the open waits for its
// release (at most releaseWait, and no longer than the caller does) and
// tries again. A holder never flushed is open for sure: EBUSY at once.
func (n *ringFile) attach(ctx context.Context, acct *pond.Account) (*ringHandle, error) {
	timer := time.NewTimer(releaseWait)
	defer timer.Stop()
	for {
		h, old, err := n.tryAttach(acct)
		if !errors.Is(err, netdev.ErrBusy) || old == nil || !old.flushed.Load() {
			return h, err
		}
		select {
		case <-old.released:
		case <-ctx.Done():
			return nil, err
		case <-timer.C:
			return nil, err
		}
	}
}

// tryAttach attaches a ring and makes its open the holder, or, when one
// is attached, returns the holder. n.mu makes the two one step: a ring is
// attached exactly while holder is set (Release detaches before it
// clears holder).
func (n *ringFile) tryAttach(acct *pond.Account) (h, old *ringHandle, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, err := n.port.AttachRing(n.kind, acct)
	if err != nil {
		return nil, n.holder, err
	}
	n.holder = &ringHandle{n: n, r: r, layout: renderStats(r.Layout().Fields()), released: make(chan struct{})}
	return n.holder, nil, nil
}

func (n *ringFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fileAttr(out, modeRing, 0)
	return 0
}

// Setattr refuses: a ring has no size, mode or times to set.
func (n *ringFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.t.fail("setattr "+n.Path(nil), errNotPermitted)
}

// ringHandle is one open: one attached ring.
type ringHandle struct {
	n *ringFile
	r *netdev.Ring

	mu     sync.Mutex // guards layout
	layout []byte     // what of the layout the reads have not yet returned

	flushed  atomic.Bool   // a descriptor of this open has been closed
	released chan struct{} // closed once the ring is detached
}

// Read returns the rest of the layout, or, once it is all read, waits for
// work and says how much.
func (h *ringHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if part := h.layoutPart(len(dest)); part != nil {
		return fuse.ReadResultData(part), 0
	}
	n, err := h.r.Wait(ctx)
	switch {
	case errors.Is(err, io.EOF):
		return fuse.ReadResultData(nil), 0
	case err != nil:
		return nil, h.n.t.fail("read "+h.n.Path(nil), err)
	}
	return fuse.ReadResultData(append(strconv.AppendInt(dest[:0], int64(n), 10), '\n')), 0
}

// layoutPart takes up to size bytes of the layout not yet read; nil once
// all of it has been.
func (h *ringHandle) layoutPart(size int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.layout) == 0 {
		return nil
	}
	k := min(size, len(h.layout))
	part := h.layout[:k]
	h.layout = h.layout[k:]
	return part
}

// Write kicks a transmit ring; a receive ring takes no writes.
func (h *ringHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	op := "write " + h.n.Path(nil)
	if h.n.kind != netdev.TxRing {
		return 0, h.n.t.fail(op, fmt.Errorf("a receive ring takes no writes: %w", errNotPermitted))
	}
	if err := h.r.Kick(ctx); err != nil {
		return 0, h.n.t.fail(op, err)
	}
	return uint32(len(data)), 0
}

// Flush notes a close(2) of one of the open's descriptors; the open
// lives on until Release (see ringFile.attach).
func (h *ringHandle) Flush(ctx context.Context) syscall.Errno {
	h.flushed.Store(true)
	return 0
}

// Release detaches the ring: its buffers go back to the pond.
func (h *ringHandle) Release(ctx context.Context) syscall.Errno {
	h.r.Close()
	n := h.n
	n.mu.Lock()
	if n.holder == h {
		n.holder = nil
	}
	n.mu.Unlock()
	close(h.released)
	return 0
}
