package fs

import (
	"fmt"

	"github.com/pondfs/pondfs/chain"
)

// concat runs `concat PROTO ID...`: the chains of chains/ named by the ids
// move to the end of this one under a new top layer named PROTO, in which
// this chain's former bytes and each named chain are one fragment each;
// the named chains leave chains/. All or nothing: on error every chain
// stays as it was.
//
// It holds the named chains' locks while it borrows its own chain. Another
// operation holds one chain's lock at a time, and concats run one at a
// time (concatMu), so two concats that name each other's chain cannot each
// hold one lock and wait for the other.
func (d *chainDir) concat(args []string) (string, error) {
	proto, ids := args[0], args[1:]
	d.t.concatMu.Lock()
	defer d.t.concatMu.Unlock()
	entries, err := d.t.reg.lookup(ids)
	if err != nil {
		return "", fmt.Errorf("concat: %w", err)
	}
	for i, e := range entries {
		if chainSource(e) == d.src {
			return "", fmt.Errorf("concat: %w: chain %s cannot take itself", errInvalid, ids[i])
		}
	}
	// Bytes written through a mapping and not yet written back move with
	// their chain: write them back while the offsets still mean the same.
	d.dropCaches(nil)
	for _, e := range entries {
		if cd := d.t.chainDirOf(e.name); cd != nil {
			cd.dropCaches(nil)
		}
	}
	others, unlock, err := lockAll(entries)
	if err != nil {
		return "", fmt.Errorf("concat: %w", err)
	}
	err = d.src.with(func(c *chain.Chain) error { return c.Concat(proto, others...) })
	if err == nil {
		for _, e := range entries {
			e.c = nil
			e.reg.drop(e)
		}
	}
	unlock()
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		d.t.forgetChainDir(e.name)
	}
	d.dropCaches(nil)
	return outcomeOK, nil
}

// lockAll locks every entry and returns their chains and the function that
// unlocks them; it fails, locking none, when a chain is gone.
func lockAll(entries []*chainEntry) ([]*chain.Chain, func(), error) {
	cs := make([]*chain.Chain, 0, len(entries))
	unlock := func() {
		for _, e := range entries[:len(cs)] {
			e.mu.Unlock()
		}
	}
	for _, e := range entries {
		e.mu.Lock()
		if e.c == nil {
			e.mu.Unlock()
			unlock()
			return nil, nil, fmt.Errorf("chain %s: %w", e.name, errNoChain)
		}
		cs = append(cs, e.c)
	}
	return cs, unlock, nil
}
