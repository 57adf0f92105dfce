package pond

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Pond is one arena and its pools and accounts. All methods are safe for
// concurrent use.
type Pond struct {
	arena  *arena
	pools  []*Pool // ascending size; fixed at New
	sizes  []int   // pools' buffer sizes, for turning counts into bytes
	locals locals

	mu       sync.Mutex // guards accounts and byName
	accounts [maxAccounts]*Account
	tight    [maxAccounts]atomic.Bool // each account's tight flag; see Account
	byName   map[string]*Account
	naccts   atomic.Int32

	waitMu  sync.Mutex // guards waiters
	waiters []*waiter
	nwait   atomic.Int32 // len(waiters), read without the lock by Put
	wakeups atomic.Bool  // a wake is pending; see wake

	clock clock // stamps buffers as Get hands them out

	closed atomic.Bool
}

// New makes a pond: it validates cfg, reserves the arena and carves every
// pool's min buffers. Close it when done.
func New(cfg Config) (*Pond, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new pond: %w", err)
	}
	if len(cfg.Classes) > maxClasses {
		return nil, fmt.Errorf("new pond: %w: %d pools (at most %d)", ErrInvalid, len(cfg.Classes), maxClasses)
	}
	a, err := newArena(cfg.ArenaMax)
	if err != nil {
		return nil, fmt.Errorf("new pond: %w", err)
	}
	p := &Pond{arena: a, locals: newLocals(), byName: make(map[string]*Account)}
	p.clock.start()
	for i, cc := range cfg.Classes {
		p.pools = append(p.pools, newPool(p, i, cc))
		p.sizes = append(p.sizes, cc.Size)
	}
	for _, c := range p.pools {
		if err := c.ensureMin(); err != nil {
			a.close()
			p.clock.close()
			return nil, fmt.Errorf("new pond: %w", err)
		}
	}
	register(p)
	return p, nil
}

// Close releases the arena. Every buffer must be back (ErrBusy otherwise,
// and the pond stays usable); the pond must not be used after a nil return.
func (p *Pond) Close() error {
	if n := p.Stats().InUse; n != 0 {
		return fmt.Errorf("close pond: %d buffers in use: %w", n, ErrBusy)
	}
	if p.closed.Swap(true) {
		return fmt.Errorf("close pond: %w", ErrClosed)
	}
	unregister(p)
	p.clock.close()
	return p.arena.close()
}

// Fd is the arena's memfd, for another process or FUSE passthrough to map.
// The pond owns it: do not close it.
func (p *Pond) Fd() int { return p.arena.fd }

// Arena borrows the whole arena mapping, a reservation a few times
// ArenaMax; a buffer's bytes are at [Offset, Offset+Size). Valid until
// Close.
func (p *Pond) Arena() []byte { return p.arena.mem }

// ArenaBytes is the current size of the arena file.
func (p *Pond) ArenaBytes() int64 { return p.arena.fileSize() }

// ArenaMax is the pond's upper bound: the most bytes its pools may hold.
func (p *Pond) ArenaMax() int64 { return p.arena.max }

// Pools returns the pools in ascending size. The slice is the caller's.
func (p *Pond) Pools() []*Pool { return append([]*Pool(nil), p.pools...) }

// Pool returns the pool of buffers of exactly size bytes.
func (p *Pond) Pool(size int) (*Pool, error) {
	for _, c := range p.pools {
		if c.size == size {
			return c, nil
		}
	}
	return nil, fmt.Errorf("pool %d: %w", size, ErrNotFound)
}

// MaxBuf is the size of the largest buffer.
func (p *Pond) MaxBuf() int { return p.pools[len(p.pools)-1].size }

// NewAccount makes an account with a byte limit.
func (p *Pond) NewAccount(name string, limit int64) (*Account, error) {
	if name == "" || limit < 0 {
		return nil, fmt.Errorf("new account %q limit %d: %w", name, limit, ErrInvalid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.byName[name]; ok {
		return nil, fmt.Errorf("new account %q: %w", name, ErrExists)
	}
	n := int(p.naccts.Load())
	if n == maxAccounts {
		return nil, fmt.Errorf("new account %q: %w: at most %d accounts", name, ErrInvalid, maxAccounts)
	}
	a := &Account{pond: p, name: name, idx: n, tight: &p.tight[n]}
	a.limit.Store(limit)
	p.accounts[n] = a
	p.byName[name] = a
	p.naccts.Store(int32(n + 1))
	return a, nil
}

// Account returns the account of that name.
func (p *Pond) Account(name string) (*Account, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.byName[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("account %q: %w", name, ErrNotFound)
}

// Accounts returns every account sorted by name. The slice is the caller's.
func (p *Pond) Accounts() []*Account {
	p.mu.Lock()
	out := append([]*Account(nil), p.accounts[:p.naccts.Load()]...)
	p.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
