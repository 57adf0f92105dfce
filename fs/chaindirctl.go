package fs

import (
	"fmt"
	"strings"

	"github.com/pondfs/pondfs/chain"
)

// outcomeOK is the outcome of a command that makes nothing new.
const outcomeOK = "ok"

// chainCommand is one command of a chain's ctl file (README.md's table):
// how many arguments it takes and what it does. A command runs either
// with the chain lent (run), or, when it must handle the borrowing itself
// because it consumes the chain or takes others (send, concat), as the
// directory's (own).
type chainCommand struct {
	minArgs, maxArgs int    // maxArgs -1: no bound
	usage            string // the arguments, for the error a wrong count gets
	run              func(d *chainDir, c *chain.Chain, args []string) (outcome string, err error)
	own              func(d *chainDir, args []string) (outcome string, err error)
}

// chainCommands are the commands by name.
var chainCommands = map[string]chainCommand{
	"push":            {minArgs: 1, maxArgs: 2, usage: "OFF [LEN]", run: push},
	"pop":             {run: func(d *chainDir, c *chain.Chain, _ []string) (string, error) { return outcomeOK, c.Pop() }},
	"prepend":         {minArgs: 1, maxArgs: 1, usage: "N", run: withCount((*chain.Chain).Prepend)},
	"trim-front":      {minArgs: 1, maxArgs: 1, usage: "N", run: withCount((*chain.Chain).TrimFront)},
	"trim-back":       {minArgs: 1, maxArgs: 1, usage: "N", run: withCount((*chain.Chain).TrimBack)},
	"pullup":          {minArgs: 1, maxArgs: 1, usage: "N", run: withCount((*chain.Chain).Pullup)},
	"split":           {minArgs: 1, maxArgs: 1, usage: "N", run: split},
	"clone":           {run: clone},
	"split-fragments": {run: splitFragments},
	"send":            {minArgs: 1, maxArgs: 1, usage: "IF", own: (*chainDir).send},
	"concat":          {minArgs: 2, maxArgs: -1, usage: "PROTO ID...", own: (*chainDir).concat},
}

// exec runs one line written to ctl and returns its outcome. A mapping of
// data may hold bytes written into it and not yet written back; they are
// written back first, while the offsets they were written at still mean
// what they meant, and the page caches are dropped after, so a mapping
// shows the chain as the command left it.
func (d *chainDir) exec(line string) (string, error) {
	cmd, args, err := parseChainCommand(line)
	if err != nil {
		return "", err
	}
	if cmd.own != nil {
		return cmd.own(d, args)
	}
	d.dropCaches(nil)
	var outcome string
	err = d.src.with(func(c *chain.Chain) (err error) {
		outcome, err = cmd.run(d, c, args)
		return err
	})
	if err != nil {
		return "", err
	}
	d.dropCaches(nil)
	return outcome, nil
}

// parseChainCommand reads a line written to ctl: its command and its
// arguments, checked for number.
func parseChainCommand(line string) (cmd chainCommand, args []string, err error) {
	name, args := splitCommand(line)
	cmd, ok := chainCommands[name]
	if !ok {
		return cmd, nil, fmt.Errorf("%w: unknown command %q (push, pop, prepend, trim-front, trim-back, pullup, split, clone, send, concat, split-fragments)", errInvalid, name)
	}
	if len(args) < cmd.minArgs || cmd.maxArgs >= 0 && len(args) > cmd.maxArgs {
		return cmd, nil, fmt.Errorf("%w: %s takes %s", errInvalid, name, argsWanted(cmd))
	}
	return cmd, args, nil
}

// splitCommand is a line's command and its arguments, split at blanks.
func splitCommand(line string) (string, []string) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return "", nil
	}
	return words[0], words[1:]
}

func argsWanted(cmd chainCommand) string {
	if cmd.usage == "" {
		return "no argument"
	}
	return cmd.usage
}

// push makes bytes OFF..OFF+LEN of the view the new view; without LEN, to
// the end of the view.
func push(d *chainDir, c *chain.Chain, args []string) (string, error) {
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
	return outcomeOK, c.Push(off, length, "")
}

// withCount adapts a chain operation of one count to a command.
func withCount(op func(c *chain.Chain, n int) error) func(*chainDir, *chain.Chain, []string) (string, error) {
	return func(d *chainDir, c *chain.Chain, args []string) (string, error) {
		n, err := parseCount(args[0])
		if err != nil {
			return "", err
		}
		return outcomeOK, op(c, n)
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
