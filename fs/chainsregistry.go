package fs

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pondfs/pondfs/chain"
)

// firstChainIno is the first inode number of chain directories' blocks:
// far below go-fuse's automatic numbers (from 1<<63), which the static
// skeleton uses, and far above any count of blocks handed out.
const firstChainIno = 1 << 62

// chainRegistry holds the chains of chains/, by name: the tree owns them,
// and frees one at rmdir or when `send` consumes it. A chain made by split
// or clone on any chain directory (a received frame's too) lands here.
type chainRegistry struct {
	inoBlocks atomic.Uint64 // chain directories' blocks of inode numbers handed out

	mu      sync.Mutex // guards entries and lastID
	entries map[string]*chainEntry
	lastID  uint64 // the last numeric id handed out
}

func newChainRegistry() *chainRegistry {
	return &chainRegistry{entries: make(map[string]*chainEntry)}
}

// inoBlock hands out the first inode number of a new block of
// inoBlockSize for one chain directory.
func (r *chainRegistry) inoBlock() uint64 {
	return firstChainIno + (r.inoBlocks.Add(1)-1)*inoBlockSize
}

// count is how many chains the registry holds.
func (r *chainRegistry) count() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return uint64(len(r.entries))
}

// adopt takes c under the next free numeric id and returns the id. The
// registry owns c from then on.
func (r *chainRegistry) adopt(c *chain.Chain) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		r.lastID++
		id := strconv.FormatUint(r.lastID, 10)
		if _, taken := r.entries[id]; !taken && id != nameNew {
			r.entries[id] = r.newEntry(id, c)
			return id
		}
	}
}

// adoptAs takes c under name, which must be free (errChainExists). On
// error the caller keeps c.
func (r *chainRegistry) adoptAs(name string, c *chain.Chain) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.entries[name]; taken || name == nameNew {
		return fmt.Errorf("chain %q: %w", name, errChainExists)
	}
	r.entries[name] = r.newEntry(name, c)
	return nil
}

func (r *chainRegistry) newEntry(name string, c *chain.Chain) *chainEntry {
	return &chainEntry{reg: r, name: name, c: c, inoBase: r.inoBlock()}
}

// get is the entry named name, or nil.
func (r *chainRegistry) get(name string) *chainEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entries[name]
}

// lookup is the entries named by names, in order: errNoChain for a name
// not in chains/, errInvalid for one given twice.
func (r *chainRegistry) lookup(names []string) ([]*chainEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	entries := make([]*chainEntry, len(names))
	for i, name := range names {
		e := r.entries[name]
		switch {
		case e == nil:
			return nil, fmt.Errorf("chain %q: %w", name, errNoChain)
		case slices.Contains(entries[:i], e):
			return nil, fmt.Errorf("%w: chain %q named twice", errInvalid, name)
		}
		entries[i] = e
	}
	return entries, nil
}

// names lists the chains: numeric ids in numeric order, then other names
// in byte order.
func (r *chainRegistry) names() []string {
	r.mu.Lock()
	names := make([]string, 0, len(r.entries))
	for name := range r.entries {
		names = append(names, name)
	}
	r.mu.Unlock()
	slices.SortFunc(names, compareNames)
	return names
}

func compareNames(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(na, nb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

// drop forgets e, if it is still the entry of its name.
func (r *chainRegistry) drop(e *chainEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries[e.name] == e {
		delete(r.entries, e.name)
	}
}

// freeAll frees every chain and empties the registry.
func (r *chainRegistry) freeAll() {
	r.mu.Lock()
	entries := r.entries
	r.entries = make(map[string]*chainEntry)
	r.mu.Unlock()
	for _, e := range entries {
		// Another goroutine may hold an entry it looked up: remove waits
		// for it and frees once.
		_ = e.remove()
	}
}

// chainEntry is one chain of chains/ and the source of its directory.
type chainEntry struct {
	reg     *chainRegistry
	name    string
	inoBase uint64 // its directory's block of inode numbers, the same at every lookup

	mu sync.Mutex   // serialises every operation on c
	c  *chain.Chain // nil once removed
}

var _ chainSource = (*chainEntry)(nil)

func (e *chainEntry) with(fn func(c *chain.Chain) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return fmt.Errorf("chain %s: %w", e.name, errNoChain)
	}
	return fn(e.c)
}

func (e *chainEntry) remove() error {
	e.mu.Lock()
	c := e.c
	e.c = nil
	e.mu.Unlock()
	if c == nil {
		return fmt.Errorf("chain %s: %w", e.name, errNoChain)
	}
	e.reg.drop(e)
	c.Free()
	return nil
}
