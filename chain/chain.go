package chain

import (
	"fmt"
	"sync"
	"time"

	"github.com/pondfs/pondfs/pond"
)

// DefaultHeadroom is what Options.Headroom 0 reserves: room for Ethernet,
// VLAN, IPv6 and TCP headers with some to spare, so that a received frame
// can be re-framed or tunnelled without a buffer in front.
const DefaultHeadroom = 128

// MaxDepth is how many layers may be pushed on one chain. Real frames
// need fewer than ten; the bound keeps a runaway script from growing a
// chain's metadata without limit.
const MaxDepth = 64

// Options shape the allocations of one chain. Chains made from it by
// Split, Clone or SplitFragments inherit them.
type Options struct {
	// Headroom is how many bytes the first buffer of a chain keeps free in
	// front of the data, so that Prepend usually takes no buffer. 0 means
	// DefaultHeadroom; a negative value means none.
	Headroom int
	// MaxLen is the most bytes the chain (layer 0) may hold; growing past
	// it fails with ErrTooLong. 0, or more than the pond's arena, means the
	// arena's size.
	MaxLen int
	// Wait is how long an allocation may wait for buffers or quota before
	// it fails; 0 fails at once.
	Wait time.Duration
}

// HeadroomFor is the headroom Options.Headroom h reserves: DefaultHeadroom
// for 0, none for a negative h. A device that reads frames into buffers
// of its own sizes them by it.
func HeadroomFor(h int) int {
	switch {
	case h == 0:
		return DefaultHeadroom
	case h < 0:
		return 0
	}
	return h
}

// Inline capacities of a chain's metadata: a received frame has one
// segment and fewer than eight layers, so a pooled chain holds it without
// touching the heap.
const (
	inlineSegs   = 4
	inlineLayers = 8
	inlineRes    = 4
)

// Chain is a sequence of bytes held in pond buffers as a short list of
// segments, with a stack of layers that narrow what is seen.
// A chain is not safe for concurrent use; chains that share buffers
// (clones, the halves of a split) may be used from different goroutines.
type Chain struct {
	p    *pond.Pond // nil once freed
	acct *pond.Account
	opt  Options // resolved: Headroom >= 0, MaxLen > 0

	segs   []seg   // in order; none is empty
	layers []layer // layers[0] is the whole chain, the last is the view

	spare seg   // a buffer AppendSpace handed out, not yet committed
	grant grant // what AppendSpace handed out

	res  []pond.Buf // buffers taken for the operation in progress
	next int        // first of res not yet used
	cows []int      // the shared segments res[0:len(cows)] copy, in order

	segBuf   [inlineSegs]seg
	layerBuf [inlineLayers]layer
	resBuf   [inlineRes]pond.Buf
	cowBuf   [inlineRes]int
}

// chains recycles Chain structs so that building a frame costs no heap
// allocation; Free returns them.
var chains = sync.Pool{New: func() any { return new(Chain) }}

// New returns an empty chain whose buffers come from p, charged to acct.
// The caller owns the chain and releases it with Free.
func New(p *pond.Pond, acct *pond.Account, opt Options) (*Chain, error) {
	o, err := resolve(p, acct, opt)
	if err != nil {
		return nil, fmt.Errorf("new chain: %w", err)
	}
	c := chains.Get().(*Chain)
	c.init(p, acct, o)
	return c, nil
}

// NewFrom returns a chain holding length bytes at off in b, so a device
// can read(2) a frame straight into a buffer it took from p with
// headroom reserved, then wrap it. On success the chain owns the caller's
// reference to b (a zero length releases it at once); on error the caller
// keeps it.
func NewFrom(p *pond.Pond, acct *pond.Account, opt Options, b pond.Buf, off, length int) (*Chain, error) {
	bufs := [1]pond.Buf{b}
	return NewFromList(p, acct, opt, bufs[:], off, length)
}

// NewFromList returns a chain holding length bytes that start at off in
// bufs[0] and go on from the start of each further buffer in turn, so a
// device can readv(2) a frame larger than any one buffer straight into
// several. Every buffer must hold some of the bytes, except that a zero
// length in one buffer is allowed. On success the chain owns the caller's
// reference to each buffer (a zero length releases it at once); on error
// the caller keeps them. bufs itself is only borrowed.
func NewFromList(p *pond.Pond, acct *pond.Account, opt Options, bufs []pond.Buf, off, length int) (*Chain, error) {
	o, err := resolve(p, acct, opt)
	if err != nil {
		return nil, fmt.Errorf("new chain from buffers: %w", err)
	}
	if err := checkSpan(bufs, off, length); err != nil {
		return nil, err
	}
	if length > o.MaxLen {
		return nil, fmt.Errorf("new chain from %d buffers: %w: %d bytes (max %d)", len(bufs), ErrTooLong, length, o.MaxLen)
	}
	c := chains.Get().(*Chain)
	c.init(p, acct, o)
	if length == 0 {
		p.Put(bufs[0])
		return c, nil
	}
	c.layers[0].n = length
	for _, b := range bufs {
		n := min(length, b.Size()-off)
		c.segs = append(c.segs, bufSeg(b, off, n))
		length -= n
		off = 0
	}
	return c, nil
}

// checkSpan checks that length bytes from off in bufs[0], then on through
// the further buffers, fit them and reach into the last.
func checkSpan(bufs []pond.Buf, off, length int) error {
	if len(bufs) == 0 || !bufs[0].Valid() || off < 0 || off > bufs[0].Size() || length < 0 {
		return fmt.Errorf("new chain from %d buffers at %d length %d: %w", len(bufs), off, length, ErrRange)
	}
	room := bufs[0].Size() - off
	for _, b := range bufs[1:] {
		if !b.Valid() || length <= room {
			return fmt.Errorf("new chain from buffers: %s holds none of %d bytes at %d: %w", b, length, off, ErrRange)
		}
		room += b.Size()
	}
	if length > room {
		return fmt.Errorf("new chain from %d buffers at %d: %d bytes, room for %d: %w", len(bufs), off, length, room, ErrRange)
	}
	return nil
}

// resolve checks the arguments of New and fills in the defaults.
func resolve(p *pond.Pond, acct *pond.Account, opt Options) (Options, error) {
	switch {
	case p == nil || acct == nil:
		return opt, fmt.Errorf("%w: nil pond or account", ErrInvalid)
	case opt.MaxLen < 0 || opt.Wait < 0:
		return opt, fmt.Errorf("%w: negative MaxLen %d or Wait %v", ErrInvalid, opt.MaxLen, opt.Wait)
	case opt.Headroom > p.MaxBuf():
		return opt, fmt.Errorf("%w: headroom %d exceeds the largest buffer %d", ErrInvalid, opt.Headroom, p.MaxBuf())
	}
	opt.Headroom = HeadroomFor(opt.Headroom)
	if arena := p.ArenaMax(); opt.MaxLen == 0 || int64(opt.MaxLen) > arena {
		opt.MaxLen = int(arena)
	}
	return opt, nil
}

func (c *Chain) init(p *pond.Pond, acct *pond.Account, opt Options) {
	c.p, c.acct, c.opt = p, acct, opt
	c.segs = c.segBuf[:0]
	c.layers = append(c.layerBuf[:0], layer{})
	c.res = c.resBuf[:0]
	c.cows = c.cowBuf[:0]
}

// sibling is a new empty chain drawing on the same pond, account and
// options, for the chains that Split, Clone and SplitFragments return.
func (c *Chain) sibling() *Chain {
	nc := chains.Get().(*Chain)
	nc.init(c.p, c.acct, c.opt)
	return nc
}

// Free releases every buffer reference the chain holds, and any space
// AppendSpace handed out. The chain must not be used after: its struct is
// recycled for the next New. Freeing a freed chain panics when the struct
// has not been reused yet. Once reused, the pointer is the new chain's as
// well, and nothing the old holder has could tell the two apart without a
// heap allocation per chain (which would cost ten times the work of
// building a frame); so race builds, where the tests run, never reuse a
// struct, and there a second Free always panics.
func (c *Chain) Free() {
	if c.p == nil {
		panic("chain: Free of a freed chain")
	}
	for i := range c.segs {
		c.drop(&c.segs[i])
	}
	c.recycle()
}

// recycle gives back the space AppendSpace handed out, forgets the
// segments without releasing them (the caller released or moved them),
// and returns the struct to the pool.
func (c *Chain) recycle() {
	c.dropSpare()
	// Stale entries would keep a closed pond and fragment lists alive: clear
	// what was used, and the inline arrays too once the slices outgrew them.
	clear(c.segs)
	if cap(c.segs) > inlineSegs {
		clear(c.segBuf[:])
	}
	clear(c.layers)
	if cap(c.layers) > inlineLayers {
		clear(c.layerBuf[:])
	}
	c.p, c.acct = nil, nil
	c.segs, c.layers, c.res, c.cows = nil, nil, nil, nil
	if !raceEnabled {
		chains.Put(c)
	}
}

// live reports an error if the chain was freed, so that a use after Free
// fails instead of dereferencing nothing. It is small enough to inline:
// every operation pays for it.
func (c *Chain) live(op string) error {
	if c == nil || c.p == nil {
		return freed(op)
	}
	return nil
}

func freed(op string) error { return fmt.Errorf("%s: %w: chain is nil or freed", op, ErrInvalid) }

// Len is the length of the view (the top layer).
func (c *Chain) Len() int {
	if c.p == nil {
		return 0
	}
	return c.top().n
}

// ChainLen is the length of the whole chain (layer 0).
func (c *Chain) ChainLen() int {
	if c.p == nil {
		return 0
	}
	return c.size()
}

func (c *Chain) size() int { return c.layers[0].n }

// Options returns the chain's options with the defaults filled in.
func (c *Chain) Options() Options { return c.opt }
