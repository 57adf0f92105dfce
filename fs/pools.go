package fs

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pondfs/pondfs/pond"
)

// addPools adds pools/<size>/{stats,slabs,buffers,ctl} for every pool. A pond's
// pools are fixed when it is made, so this part of the skeleton is static.
func (t *Tree) addPools(ctx context.Context, dir *fs.Inode) {
	for _, p := range t.pond.Pools() {
		d := addDir(ctx, dir, strconv.Itoa(p.Size()), &dirNode{t: t})
		addFile(ctx, d, "stats", &dynFile{t: t, produce: func() []byte { return renderStats(p.Stats().Fields()) }})
		addFile(ctx, d, "slabs", &dynFile{t: t, produce: func() []byte { return renderLines(p.Slabs(), slabLine) }})
		addFile(ctx, d, "buffers", &dynFile{t: t, produce: func() []byte { return t.poolBuffers(p) }})
		addFile(ctx, d, "ctl", &ctlFile{t: t, exec: func(cmd string) (string, error) { return poolCommand(p, cmd) }})
	}
}

// slabLine is one line of slabs: "<arena_offset> <bytes>".
func slabLine(s pond.Slab) string { return fmt.Sprintf("%d %d", s.Offset, s.Bytes) }

// poolCommands are the commands of pools/<size>/ctl; each outcome is "ok".
var poolCommands = commands[*pond.Pool]{
	"min":        {minArgs: 1, maxArgs: 1, usage: "N", run: withPoolCount((*pond.Pool).SetMin)},
	"max":        {minArgs: 1, maxArgs: 1, usage: "N", run: withPoolCount((*pond.Pool).SetMax)},
	"grow_by":    {minArgs: 1, maxArgs: 1, usage: "N", run: withPoolCount((*pond.Pool).SetGrowBy)},
	"shrink":     {run: shrink},
	"fail-after": {minArgs: 1, maxArgs: 2, usage: "N [COUNT], or off", run: failAfter},
}

// poolCommand runs one line written to pools/<size>/ctl.
func poolCommand(p *pond.Pool, line string) (string, error) {
	return poolCommands.exec(p, line)
}

// withPoolCount adapts a pool setting of one count to a command.
func withPoolCount(set func(p *pond.Pool, n int) error) func(*pond.Pool, []string) (string, error) {
	return func(p *pond.Pool, args []string) (string, error) {
		n, err := parseCount(args[0])
		if err != nil {
			return "", err
		}
		return outcome(set(p, n))
	}
}

func shrink(p *pond.Pool, _ []string) (string, error) {
	_, err := p.Shrink()
	return outcome(err)
}

// failAfter runs "fail-after N [COUNT]" (COUNT defaults to 1) or
// "fail-after off".
func failAfter(p *pond.Pool, args []string) (string, error) {
	if len(args) == 1 && args[0] == "off" {
		return outcome(p.FailAfter(0, 0))
	}
	counts, err := parseCounts(args)
	if err != nil {
		return "", fmt.Errorf("fail-after: %w", err)
	}
	if len(counts) == 1 {
		counts = append(counts, 1)
	}
	if counts[1] == 0 {
		return "", fmt.Errorf("%w: fail-after: COUNT must be at least 1 (fail-after off cancels)", errInvalid)
	}
	return outcome(p.FailAfter(counts[0], counts[1]))
}
