package pond

import (
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// pageSize aligns slabs so that a released slab's pages can be punched out
// without touching a neighbour.
const pageSize = 4096

// arena is one memfd mapped MAP_SHARED at its whole reserved size. Ranges
// are handed out page-aligned; the file is extended to cover them and never
// shrunk (it is sealed against that), and released ranges are punched out
// and kept for reuse.
type arena struct {
	fd  int
	mem []byte // the whole reservation; borrowed by every buffer

	mu    sync.Mutex // guards the fields below
	top   int64      // end of the highest range ever handed out
	size  int64      // current file size (>= top)
	holes []span     // released ranges below top, sorted by offset
}

// span is a range of the arena.
type span struct{ off, len int64 }

func newArena(reserve int64) (*arena, error) {
	reserve = roundUp(reserve, pageSize)
	fd, err := unix.MemfdCreate("pond", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("create arena memfd: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, int(reserve), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("map arena of %d bytes: %w", reserve, err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK); err != nil {
		unix.Munmap(mem)
		unix.Close(fd)
		return nil, fmt.Errorf("seal arena: %w", err)
	}
	return &arena{fd: fd, mem: mem}, nil
}

func (a *arena) close() error {
	err := unix.Munmap(a.mem)
	if cerr := unix.Close(a.fd); err == nil {
		err = cerr
	}
	return err
}

// alloc hands out n bytes (rounded up to pages): a released range that fits
// first, else fresh space at the top, extending the file. It reports false
// when the reservation is full.
func (a *arena) alloc(n int64) (int64, bool, error) {
	n = roundUp(n, pageSize)
	a.mu.Lock()
	defer a.mu.Unlock()
	if off, ok := a.takeHoleLocked(n); ok {
		return off, true, nil
	}
	if a.top+n > int64(len(a.mem)) {
		return 0, false, nil
	}
	off := a.top
	if end := off + n; end > a.size {
		if err := a.extendLocked(end); err != nil {
			return 0, false, err
		}
	}
	a.top += n
	return off, true, nil
}

// extendLocked makes the file at least end bytes long. Another process that
// maps or writes the memfd (the mount's arena file, by passthrough) may have
// made it longer already, and the shrink seal forbids truncating it back,
// so the file's own size decides.
func (a *arena) extendLocked(end int64) error {
	var st unix.Stat_t
	if err := unix.Fstat(a.fd, &st); err != nil {
		return fmt.Errorf("extend arena: %w", err)
	}
	if st.Size < end {
		if err := unix.Ftruncate(a.fd, end); err != nil {
			return fmt.Errorf("extend arena to %d bytes: %w", end, err)
		}
	}
	a.size = max(end, st.Size)
	return nil
}

func (a *arena) takeHoleLocked(n int64) (int64, bool) {
	for i, h := range a.holes {
		if h.len < n {
			continue
		}
		if h.len == n {
			a.holes = append(a.holes[:i], a.holes[i+1:]...)
		} else {
			a.holes[i] = span{h.off + n, h.len - n}
		}
		return h.off, true
	}
	return 0, false
}

// release punches the range out of the file, so its pages stop counting as
// resident memory in every process that maps the arena, and keeps it for
// reuse. The range reads as zeros afterwards.
func (a *arena) release(off, n int64) error {
	n = roundUp(n, pageSize)
	if err := unix.Fallocate(a.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n); err != nil {
		return fmt.Errorf("punch arena range %d+%d: %w", off, n, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.holes = append(a.holes, span{off, n})
	sort.Slice(a.holes, func(i, j int) bool { return a.holes[i].off < a.holes[j].off })
	a.holes = mergeSpans(a.holes)
	return nil
}

// mergeSpans joins adjacent sorted spans so large requests can reuse them.
func mergeSpans(s []span) []span {
	out := s[:0]
	for _, h := range s {
		if k := len(out) - 1; k >= 0 && out[k].off+out[k].len == h.off {
			out[k].len += h.len
			continue
		}
		out = append(out, h)
	}
	return out
}

// fileSize is the current size of the arena file.
func (a *arena) fileSize() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.size
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }
