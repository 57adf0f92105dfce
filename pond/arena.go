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

// arena is one memfd mapped MAP_SHARED once over a reservation of address
// space. Ranges are handed out page-aligned; the file is extended to cover
// them and never shrunk (it is sealed against that), and released ranges
// are punched out and kept for reuse.
//
// The memory bound (max) limits the bytes of live ranges, not how high
// they reach: pools that grow and shrink in turn leave holes of many sizes,
// and a pool may find no hole its slab fits although little is in use. So
// the reservation is a few times the bound (address space under
// MAP_NORESERVE costs nothing until touched), and holes are reused best
// fit, so fragmentation costs address space rather than usable memory.
type arena struct {
	fd  int
	mem []byte // the whole reservation; borrowed by every buffer
	max int64  // the memory bound: bytes of live ranges

	mu    sync.Mutex // guards the fields below
	live  int64      // bytes of ranges handed out and not released
	top   int64      // end of the highest range ever handed out
	size  int64      // current file size (>= top)
	holes []span     // released ranges below top, sorted by offset
}

// reserveFactor is how much address space the arena reserves per byte of
// its memory bound; see arena.
const reserveFactor = 4

// span is a range of the arena.
type span struct{ off, len int64 }

func newArena(max int64) (*arena, error) {
	max = roundUp(max, pageSize)
	reserve := min(reserveFactor*max, maxArena)
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
	return &arena{fd: fd, mem: mem, max: max}, nil
}

func (a *arena) close() error {
	err := unix.Munmap(a.mem)
	if cerr := unix.Close(a.fd); err == nil {
		err = cerr
	}
	return err
}

// alloc hands out n bytes (rounded up to pages): the released range that
// fits best, else fresh space at the top, extending the file. It reports
// false when the memory bound or the reservation would be passed.
func (a *arena) alloc(n int64) (int64, bool, error) {
	n = roundUp(n, pageSize)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.live+n > a.max {
		return 0, false, nil
	}
	off, ok := a.takeHoleLocked(n)
	if !ok {
		if a.top+n > int64(len(a.mem)) {
			return 0, false, nil
		}
		off = a.top
		if end := off + n; end > a.size {
			if err := a.extendLocked(end); err != nil {
				return 0, false, err
			}
		}
		a.top += n
	}
	a.live += n
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

// takeHoleLocked takes n bytes from the smallest hole that holds them.
func (a *arena) takeHoleLocked(n int64) (int64, bool) {
	best := -1
	for i, h := range a.holes {
		if h.len >= n && (best < 0 || h.len < a.holes[best].len) {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	h := a.holes[best]
	if h.len == n {
		a.holes = append(a.holes[:best], a.holes[best+1:]...)
	} else {
		a.holes[best] = span{h.off + n, h.len - n}
	}
	return h.off, true
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
	a.live -= n
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
