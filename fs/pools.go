package fs

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pondfs/pondfs/pond"
)

// addPools adds pools/<size>/{stats,slabs,ctl} for every pool. A pond's
// pools are fixed when it is made, so this part of the skeleton is static.
func (t *Tree) addPools(ctx context.Context, dir *fs.Inode) {
	for _, p := range t.pond.Pools() {
		d := addDir(ctx, dir, strconv.Itoa(p.Size()), &dirNode{t: t})
		addFile(ctx, d, "stats", &dynFile{t: t, produce: func() []byte { return renderStats(p.Stats().Fields()) }})
		addFile(ctx, d, "slabs", &dynFile{t: t, produce: func() []byte { return renderLines(p.Slabs(), slabLine) }})
		addFile(ctx, d, "ctl", &ctlFile{t: t, exec: func(cmd string) (string, error) { return poolCommand(p, cmd) }})
	}
}

// slabLine is one line of slabs: "<arena_offset> <bytes>".
func slabLine(s pond.Slab) string { return fmt.Sprintf("%d %d", s.Offset, s.Bytes) }

// poolCommand runs one line written to pools/<size>/ctl: "min N", "max N",
// "grow_by N", "shrink", "fail-after N [COUNT]" or "fail-after off". Its
// outcome is "ok".
func poolCommand(p *pond.Pool, cmd string) (string, error) {
	words := strings.Fields(cmd)
	if len(words) == 1 && words[0] == "shrink" {
		_, err := p.Shrink()
		return outcome(err)
	}
	if first(words) == "fail-after" {
		return failAfterCommand(p, cmd, words[1:])
	}
	setters := map[string]func(int) error{"min": p.SetMin, "max": p.SetMax, "grow_by": p.SetGrowBy}
	set, ok := setters[first(words)]
	if !ok || len(words) != 2 {
		return "", fmt.Errorf("%w: command %q (want min N, max N, grow_by N, shrink or fail-after)", errInvalid, cmd)
	}
	n, err := parseCount(words[1])
	if err != nil {
		return "", fmt.Errorf("command %q: %w", cmd, err)
	}
	return outcome(set(n))
}

// failAfterCommand runs "fail-after N [COUNT]" (COUNT defaults to 1) or
// "fail-after off", given the words after "fail-after".
func failAfterCommand(p *pond.Pool, cmd string, args []string) (string, error) {
	if len(args) == 1 && args[0] == "off" {
		return outcome(p.FailAfter(0, 0))
	}
	if len(args) < 1 || len(args) > 2 {
		return "", fmt.Errorf("%w: command %q (want fail-after N [COUNT] or fail-after off)", errInvalid, cmd)
	}
	counts, err := parseCounts(args)
	if err != nil {
		return "", fmt.Errorf("command %q: %w", cmd, err)
	}
	if len(counts) == 1 {
		counts = append(counts, 1)
	}
	if counts[1] == 0 {
		return "", fmt.Errorf("%w: command %q: COUNT must be at least 1 (fail-after off cancels)", errInvalid, cmd)
	}
	return outcome(p.FailAfter(counts[0], counts[1]))
}

// outcome is the outcome of a command that makes nothing: "ok" or err.
func outcome(err error) (string, error) {
	if err != nil {
		return "", err
	}
	return "ok", nil
}

// first is the first word, or "" when there is none.
func first(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return words[0]
}
