package fs

import (
	"fmt"
	"slices"
	"strings"
)

// Every ctl file (pools/<size>/ctl, chains/<id>/ctl and a received
// frame's) reads a line the same way: a command name, then arguments
// separated by blanks, looked up in the file's table of commands, the
// number of arguments checked there, and each number read by parseCount.

// command is one command of a ctl file whose commands act on a T.
type command[T any] struct {
	minArgs, maxArgs int    // maxArgs -1: no bound
	usage            string // the arguments, for the error a wrong count gets
	run              func(target T, args []string) (outcome string, err error)
}

// commands are a ctl file's commands by name.
type commands[T any] map[string]command[T]

// exec runs line on target.
func (cs commands[T]) exec(target T, line string) (string, error) {
	cmd, args, err := cs.parse(line)
	if err != nil {
		return "", err
	}
	return cmd.run(target, args)
}

// parse reads line: the command it names and its arguments, checked for
// number.
func (cs commands[T]) parse(line string) (command[T], []string, error) {
	words := strings.Fields(line)
	if len(words) == 0 {
		words = []string{""}
	}
	name, args := words[0], words[1:]
	cmd, ok := cs[name]
	if !ok {
		return cmd, nil, fmt.Errorf("%w: unknown command %q (%s)", errInvalid, name, strings.Join(cs.names(), ", "))
	}
	if len(args) < cmd.minArgs || cmd.maxArgs >= 0 && len(args) > cmd.maxArgs {
		return cmd, nil, fmt.Errorf("%w: %s takes %s", errInvalid, name, cmd.wanted())
	}
	return cmd, args, nil
}

func (cs commands[T]) names() []string {
	names := make([]string, 0, len(cs))
	for name := range cs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (c command[T]) wanted() string {
	if c.usage == "" {
		return "no argument"
	}
	return c.usage
}

// outcomeOK is the outcome of a command that makes nothing new.
const outcomeOK = "ok"

// outcome is the outcome of a command that makes nothing: "ok" or err.
func outcome(err error) (string, error) {
	if err != nil {
		return "", err
	}
	return outcomeOK, nil
}
