package fs

import (
	"fmt"
	"strings"

	"github.com/pondfs/pondfs/chain"
)

// outcomeOK is the outcome of a command that makes nothing new.
const outcomeOK = "ok"

// chainCommand is one command of a chain's ctl file (README.md's table):
// how many arguments it takes and what it does with the chain lent.
type chainCommand struct {
	minArgs, maxArgs int
	run              func(d *chainDir, c *chain.Chain, args []int) (outcome string, err error)
	// device: the one argument is a device's name, not a number.
	device bool
}

// chainCommands are the commands by name. send is apart: it consumes the
// chain (see exec).
var chainCommands = map[string]chainCommand{
	"push":       {minArgs: 1, maxArgs: 2, run: push},
	"pop":        {run: func(d *chainDir, c *chain.Chain, _ []int) (string, error) { return outcomeOK, c.Pop() }},
	"prepend":    {minArgs: 1, maxArgs: 1, run: withCount((*chain.Chain).Prepend)},
	"trim-front": {minArgs: 1, maxArgs: 1, run: withCount((*chain.Chain).TrimFront)},
	"trim-back":  {minArgs: 1, maxArgs: 1, run: withCount((*chain.Chain).TrimBack)},
	"pullup":     {minArgs: 1, maxArgs: 1, run: withCount((*chain.Chain).Pullup)},
	"split":      {minArgs: 1, maxArgs: 1, run: split},
	"clone":      {run: clone},
	"send":       {minArgs: 1, maxArgs: 1, device: true},
}

// exec runs one line written to ctl and returns its outcome. A mapping of
// data may hold bytes written into it and not yet written back; they are
// written back first, while the offsets they were written at still mean
// what they meant, and the page caches are dropped after, so a mapping
// shows the chain as the command left it.
func (d *chainDir) exec(line string) (string, error) {
	cmd, words, args, err := parseChainCommand(line)
	if err != nil {
		return "", err
	}
	if cmd.device {
		return d.send(words[0])
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

// parseChainCommand reads a line written to ctl: its command, its
// arguments, and their numbers unless the command takes a device's name.
func parseChainCommand(line string) (cmd chainCommand, words []string, args []int, err error) {
	name, words := splitCommand(line)
	cmd, ok := chainCommands[name]
	if !ok {
		return cmd, nil, nil, fmt.Errorf("%w: unknown command %q (push, pop, prepend, trim-front, trim-back, pullup, split, clone, send)", errInvalid, name)
	}
	if len(words) < cmd.minArgs || len(words) > cmd.maxArgs {
		return cmd, nil, nil, fmt.Errorf("%w: %s takes %s", errInvalid, name, argsWanted(cmd))
	}
	if !cmd.device {
		args, err = parseCounts(words)
	}
	return cmd, words, args, err
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
	switch {
	case cmd.device:
		return "a device's name"
	case cmd.maxArgs == 0:
		return "no argument"
	case cmd.minArgs == cmd.maxArgs:
		return "one number"
	default:
		return fmt.Sprintf("%d to %d numbers", cmd.minArgs, cmd.maxArgs)
	}
}

// push makes bytes OFF..OFF+LEN of the view the new view; without LEN, to
// the end of the view.
func push(d *chainDir, c *chain.Chain, args []int) (string, error) {
	off := args[0]
	length := c.Len() - off
	if len(args) == 2 {
		length = args[1]
	}
	if length < 0 {
		return "", fmt.Errorf("push at %d: %w (the view is %d bytes)", off, chain.ErrRange, c.Len())
	}
	return outcomeOK, c.Push(off, length, "")
}

// withCount adapts a chain operation of one count to a command.
func withCount(op func(c *chain.Chain, n int) error) func(*chainDir, *chain.Chain, []int) (string, error) {
	return func(d *chainDir, c *chain.Chain, args []int) (string, error) {
		return outcomeOK, op(c, args[0])
	}
}

// split moves bytes N.. of the view to a new chain in chains/; its id is
// the outcome.
func split(d *chainDir, c *chain.Chain, args []int) (string, error) {
	nc, err := c.Split(args[0])
	if err != nil {
		return "", err
	}
	return d.t.reg.adopt(nc), nil
}

// clone makes a chain in chains/ that shares every buffer of c; its id is
// the outcome.
func clone(d *chainDir, c *chain.Chain, _ []int) (string, error) {
	nc, err := c.Clone()
	if err != nil {
		return "", err
	}
	return d.t.reg.adopt(nc), nil
}

// send transmits the chain's bytes on device ifName and consumes the
// chain: its directory goes away. Until the frame is out, the chain is
// only lent, so a send that fails changes nothing.
func (d *chainDir) send(ifName string) (string, error) {
	d.dropCaches(nil)
	if err := d.src.with(func(c *chain.Chain) error { return d.t.send(ifName, c) }); err != nil {
		return "", err
	}
	d.gone()
	return outcomeOK, nil
}
