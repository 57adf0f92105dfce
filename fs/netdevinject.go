package fs

import (
	"context"
	"fmt"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pondfs/pondfs/netdev"
)

// injectFile sends every record of a pcap stream written to it, in order,
// as frames on its device: `cat x.pcap > inject`. Each open is one stream,
// written in pieces of any size. A malformed stream (bad magic, a link
// type other than Ethernet, a record larger than the device takes or
// shorter than an Ethernet header) fails the write that carries it, with
// the records before it sent; every later write of that open fails the
// same way. A stream that stops inside a record is reported when it is
// closed.
//
// The records of one write are sent while the next write crosses FUSE
// (netdevinjectpipe.go), so the device is not left idle for a round trip per
// write. A write returns once its records are checked and queued; a
// record the device then refuses (it went away, or down) fails the next
// write, or the close, with nothing after it sent.
type injectFile struct {
	frameFile
}

var (
	_ fs.InodeEmbedder = (*injectFile)(nil)
	_ fs.NodeOpener    = (*injectFile)(nil)
	_ fs.NodeGetattrer = (*injectFile)(nil)
	_ fs.NodeSetattrer = (*injectFile)(nil)
	_ fs.FileWriter    = (*injectHandle)(nil)
	_ fs.FileFlusher   = (*injectHandle)(nil)
	_ fs.FileReleaser  = (*injectHandle)(nil)
)

// Open starts a stream. Records larger than any device carries are
// refused before any of their bytes are buffered; each record is checked
// against the device's largest frame as the write that carries it
// arrives, so an MTU changed while the stream is written counts from the
// next write on.
func (n *injectFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if errno := openWriteOnly(n.t, &n.Inode, flags); errno != 0 {
		return nil, 0, errno
	}
	return &injectHandle{n: n, r: netdev.NewPcapReader(netdev.MaxFrameLimit), reportedAt: -1}, fuse.FOPEN_DIRECT_IO, 0
}

// injectHandle is one open's stream.
type injectHandle struct {
	n *injectFile

	mu   sync.Mutex // guards the fields below; one write at a time
	r    *netdev.PcapReader
	pipe injectPipe
	fed  int64 // bytes of the stream written so far
	err  error // why a write or close failed; the stream is done
	// reportedAt is fed when a close last reported the stream cut short,
	// so that the release after a flush does not report it again; -1
	// before any report.
	reportedAt int64
}

// Write checks the records data completes and queues them to be sent
// after the previous write's. A bad record fails it once the records
// before it are sent; so does a record of an earlier write the device
// refused.
func (h *injectHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fed += int64(len(data))
	if h.err != nil {
		return 0, h.n.t.fail("write "+h.n.Path(nil), h.err)
	}
	h.n.port.SyncLink()
	batch := h.pipe.next()
	parseErr := h.r.Feed(data, func(rec []byte) error {
		if err := h.n.port.CheckFrameLen(len(rec)); err != nil {
			return err
		}
		batch.add(rec)
		return nil
	})
	err := h.pipe.wait()
	if err == nil && parseErr != nil {
		if err = batch.send(h.n.port.SendBytes); err == nil {
			err = parseErr
		}
	}
	if err != nil {
		h.err = err
		return 0, h.n.t.fail("write "+h.n.Path(nil), err)
	}
	h.pipe.start(batch, h.n.port.SendBytes)
	return uint32(len(data)), 0
}

// Flush waits until the records of the last write are sent and reports,
// to close(2), one the device refused, or a stream that stops inside a
// record. Each
// close of a descriptor flushes, also a copy a child process inherited,
// so a stream written by several processes in turn may be reported at a
// close between two of them; it goes on if more comes.
func (h *injectHandle) Flush(ctx context.Context) syscall.Errno {
	return h.reportCut("close")
}

// Release reports a stream cut short that no close reported: the last
// descriptor went without a flush (a process killed while writing).
func (h *injectHandle) Release(ctx context.Context) syscall.Errno {
	h.reportCut("release")
	return 0
}

// reportCut fails op when a record the last write queued could not be
// sent, or when the stream, as written so far, stops inside a header or
// record, unless a write already failed (and said so) or a close already
// reported the stream as it stands. Either way every queued record has
// been handed to the device, or refused, when it returns.
func (h *injectHandle) reportCut(op string) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.pipe.wait(); err != nil && h.err == nil {
		h.err = err
		return h.n.t.fail(fmt.Sprintf("%s %s", op, h.n.Path(nil)), err)
	}
	if h.err != nil || h.reportedAt == h.fed {
		return 0
	}
	err := h.r.End()
	if err == nil {
		return 0
	}
	h.reportedAt = h.fed
	return h.n.t.fail(fmt.Sprintf("%s %s after %d bytes", op, h.n.Path(nil), h.fed), err)
}
