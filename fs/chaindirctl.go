package fs

import (
	"fmt"
	"strings"

	"github.com/pondfs/pondfs/chain"
)

// chainCommands are the commands of a chain's ctl file (README.md's
// table). Most edit the chain lent to them (lent); send and concat, which
// consume the chain or take others, borrow chains themselves.
var chainCommands = commands[*chainDir]{
	"push":            {minArgs: 1, maxArgs: 2, usage: "OFF [LEN]", run: lent(push)},
	"pop":             {run: lent(func(c *chain.Chain, _ []string) (string, error) { return outcome(c.Pop()) })},
	"prepend":         {minArgs: 1, maxArgs: 1, usage: "N", run: lent(withCount((*chain.Chain).Prepend))},
	"trim-front":      {minArgs: 1, maxArgs: 1, usage: "N", run: lent(withCount((*chain.Chain).TrimFront))},
	"trim-back":       {minArgs: 1, maxArgs: 1, usage: "N", run: lent(withCount((*chain.Chain).TrimBack))},
	"pullup":          {minArgs: 1, maxArgs: 1, usage: "N", run: lent(withCount((*chain.Chain).Pullup))},
	"split":           {minArgs: 1, maxArgs: 1, usage: "N", run: lentTo(split)},
	"clone":           {run: lentTo(clone)},
	"split-fragments": {run: lentTo(splitFragments)},
	"send":            {minArgs: 1, maxArgs: 1, usage: "IF", run: (*chainDir).send},
	"concat":          {minArgs: 2, maxArgs: -1, usage: "PROTO ID...", run: (*chainDir).concat},
}

// exec runs one line written to ctl and returns its outcome.
func (d *chainDir) exec(line string) (string, error) { return chainCommands.exec(d, line) }

// lent adapts an operation on the chain alone to a command that runs with
// the chain lent. A mapping of data may hold bytes written into it and not
// yet written back; they are written back first, while the offsets they
// were written at still mean what they meant, and the page caches are
// dropped after, so a mapping shows the chain as the command left it.
func lent(op func(c *chain.Chain, args []string) (string, error)) func(*chainDir, []string) (string, error) {
	return lentTo(func(_ *chainDir, c *chain.Chain, args []string) (string, error) { return op(c, args) })
}

// lentTo is lent for an operation that also needs the directory (to put
// the chains it makes in chains/).
func lentTo(op func(d *chainDir, c *chain.Chain, args []string) (string, error)) func(*chainDir, []string) (string, error) {
	return func(d *chainDir, args []string) (string, error) {
		d.dropCaches(nil)
		var out string
		err := d.src.with(func(c *chain.Chain) (err error) {
			out, err = op(d, c, args)
			return err
		})
		if err != nil {
			return "", err
		}
		d.dropCaches(nil)
		return out, nil
	}
}

// push makes bytes OFF..OFF+LEN of the view the new view; without LEN, to
// the end of the view.
func push(c *chain.Chain, args []string) (string, error) {
	nums, err := parseCounts(args)
	if err != nil {
		return "", err
	}
	off := nums[0]
	length := c.Len() - off
	if len(nums) == 2 {
		length = nums[1]
	}
	if length < 0 {
		return "", fmt.Errorf("push at %d: %w (the view is %d bytes)", off, chain.ErrRange, c.Len())
	}
	return outcome(c.Push(off, length, ""))
}

// withCount adapts a chain operation of one count to a command.
func withCount(op func(c *chain.Chain, n int) error) func(*chain.Chain, []string) (string, error) {
	return func(c *chain.Chain, args []string) (string, error) {
		n, err := parseCount(args[0])
		if err != nil {
			return "", err
		}
		return outcome(op(c, n))
	}
}

// split moves bytes N.. of the view to a new chain in chains/; its id is
// the outcome.
func split(d *chainDir, c *chain.Chain, args []string) (string, error) {
	n, err := parseCount(args[0])
	if err != nil {
		return "", err
	}
	nc, err := c.Split(n)
	if err != nil {
		return "", err
	}
	return d.t.reg.adopt(nc), nil
}

// clone makes a chain in chains/ that shares every buffer of c; its id is
// the outcome.
func clone(d *chainDir, c *chain.Chain, _ []string) (string, error) {
	nc, err := c.Clone()
	if err != nil {
		return "", err
	}
	return d.t.reg.adopt(nc), nil
}

// splitFragments undoes a concat: it pops the top layer, and each of its
// fragments after the first becomes a chain in chains/; their ids, in
// order, are the outcome.
func splitFragments(d *chainDir, c *chain.Chain, _ []string) (string, error) {
	parts, err := c.SplitFragments(nil)
	if err != nil {
		return "", err
	}
	if len(parts) == 0 {
		return outcomeOK, nil
	}
	ids := make([]string, len(parts))
	for i, nc := range parts {
		ids[i] = d.t.reg.adopt(nc)
	}
	return strings.Join(ids, " "), nil
}

// send transmits the chain's bytes on device ifName and consumes the
// chain: its directory goes away. Until the frame is out, the chain is
// only lent, so a send that fails changes nothing.
func (d *chainDir) send(args []string) (string, error) {
	d.dropCaches(nil)
	if err := d.src.with(func(c *chain.Chain) error { return d.t.send(args[0], c) }); err != nil {
		return "", err
	}
	d.gone()
	return outcomeOK, nil
}
