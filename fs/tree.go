package fs

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
)

// FSAccount is the name of the account that chains made through the tree
// are charged to. New makes it when the pond has none of that name.
const FSAccount = "fs"

// Options tune a Tree.
type Options struct {
	// Log receives one line per failed operation and per notable event
	// (the arena's mode at mount). Nil discards them.
	Log *log.Logger
	// FSLimit is the byte limit New gives the FSAccount when it makes it;
	// zero means half of the pond's arena max.
	FSLimit int64
	// NoZeroCopy serves the arena through the daemon even where FUSE
	// passthrough would map the pond's memory directly, so that the
	// fallback can be exercised on a kernel that has passthrough.
	NoZeroCopy bool
	// Ports are the devices shown under netdev/, one directory each, by
	// name. The caller owns them: it closes them after the tree is
	// unmounted, and may close one earlier (a device that went away).
	Ports []*netdev.Port
}

// Tree is the file tree of one pond, as README.md describes it. It owns no
// state the pond could own: every file reads the pond when it is opened.
type Tree struct {
	pond       *pond.Pond
	log        *log.Logger
	noZeroCopy bool
	uid, gid   uint32
	made       time.Time // the directories' times

	// zeroCopy is set once Mount has seen the kernel take the arena's memfd
	// as a passthrough backing file; arena opens read it. probing counts
	// Mount's probe while it runs: the tree already answers then.
	zeroCopy atomic.Bool
	probing  sync.WaitGroup

	// reg holds the chains of chains/, and hands every chain directory its
	// inode numbers.
	reg *chainRegistry
	// chainsNode is chains/, whose names a concat takes away.
	chainsNode *fs.Inode
	// concatMu runs one concat at a time; see chainDir.concat.
	concatMu sync.Mutex
	// send transmits a chain's bytes (layer 0) as one frame on the device
	// named ifName, for a chain directory's `send IF`. It borrows c: it
	// neither keeps nor frees it, and the chain directory consumes the chain
	// once send returns nil. A failed send must leave c as it was.
	send func(ifName string, c *chain.Chain) error
	// caches refreshes the page caches of open chain data files.
	caches *cacheRefresher

	// devices are the Ports of Options, in order, as netdev/ shows them.
	devices []*device
}

// New makes the tree of p and the FSAccount if p has none. It does not
// mount; see Mount.
func New(p *pond.Pond, opt Options) (*Tree, error) {
	if opt.Log == nil {
		opt.Log = log.New(io.Discard, "", 0)
	}
	limit := opt.FSLimit
	if limit == 0 {
		limit = p.ArenaMax() / 2
	}
	if _, err := p.NewAccount(FSAccount, limit); err != nil && !errors.Is(err, pond.ErrExists) {
		return nil, fmt.Errorf("new tree: %w", err)
	}
	devices, err := newDevices(opt.Ports)
	if err != nil {
		return nil, fmt.Errorf("new tree: %w", err)
	}
	return &Tree{
		pond:       p,
		log:        opt.Log,
		noZeroCopy: opt.NoZeroCopy,
		uid:        uint32(os.Geteuid()),
		gid:        uint32(os.Getegid()),
		made:       time.Now(),
		reg:        newChainRegistry(),
		caches:     newCacheRefresher(),
		send:       sender(devices),
		devices:    devices,
	}, nil
}

// ZeroCopy reports whether the arena file maps the pond's own memory (FUSE
// passthrough) rather than a copy served by the daemon. Asked while Mount
// probes the kernel, it waits for the answer: a program that opens the
// arena or a ring as soon as the tree answers must not get the copy, or
// EOPNOTSUPP, of a tree about to be zero copy.
func (t *Tree) ZeroCopy() bool {
	t.probing.Wait()
	return t.zeroCopy.Load()
}
