package fs

import (
	"strings"
	"syscall"
	"testing"

	"github.com/pondfs/pondfs/chain"
)

// edgeNumbers are numbers near the edges of int64 and uint64, and of the
// bounds the ctl files keep, as a user might write them.
var edgeNumbers = []string{
	"0", "1", "-1", "16", "17", "1099511627776", "1099511627777",
	"4611686018427387904", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"18446744073709551615", "18446744073709551616", "99999999999999999999999", "1e3", "0x10", "+5",
}

// ctlLine makes the line op writes, of every command of every ctl file
// that takes numbers, with a and b as its numbers.
func ctlLine(op uint8, a, b string) (file, line string) {
	pool := []string{"min ", "max ", "grow_by ", "fail-after "}
	chain := []string{"push ", "prepend ", "trim-front ", "trim-back ", "pullup ", "split "}
	switch n := int(op) % ctlLines; {
	case n < len(pool):
		return "pool", pool[n] + a
	case n < len(pool)+len(chain):
		return "chain", chain[n-len(pool)] + a
	case n == len(pool)+len(chain):
		return "chain", "push " + a + " " + b
	case n == len(pool)+len(chain)+1:
		return "pool", "fail-after " + a + " " + b
	default:
		return "limit", a
	}
}

// ctlLines is how many lines ctlLine makes.
const ctlLines = 4 + 6 + 3

// FuzzCtlNumbers writes numbers near every edge to every ctl command that
// takes one: each is done or refused with the errno of the contract, and
// none makes a pool hold more than the arena can (a count whose byte
// count overflowed once grew the daemon until the kernel killed it).
func FuzzCtlNumbers(f *testing.F) {
	for i := range ctlLines {
		for _, a := range edgeNumbers {
			f.Add(uint8(i), a, edgeNumbers[(i*7)%len(edgeNumbers)])
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, a, b string) {
		p := newPond(t)
		tree, err := New(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer tree.FreeChains()
		file, line := ctlLine(op, a, b)
		switch file {
		case "pool":
			for _, pl := range p.Pools() {
				_, err = poolCommand(pl, line)
				checkCtlErrno(t, line, err, syscall.EINVAL, syscall.ENOBUFS)
			}
		case "limit":
			acct, aerr := p.Account(FSAccount)
			if aerr != nil {
				t.Fatal(aerr)
			}
			checkCtlErrno(t, "limit "+line, setLimit(acct, line), syscall.EINVAL)
		case "chain":
			checkCtlErrno(t, line, runChainLine(t, tree, line), syscall.EINVAL, syscall.EFBIG, syscall.ENOBUFS, syscall.EDQUOT)
		}
		for _, pl := range p.Pools() {
			s := pl.Stats()
			if limit := uint64(p.ArenaMax()) / s.BufSize; s.Max > limit || s.Min > s.Max || s.GrowBy > limit || s.Buffers > limit {
				t.Errorf("after %q: pool %d has min %d max %d grow_by %d buffers %d; the arena holds %d",
					line, s.BufSize, s.Min, s.Max, s.GrowBy, s.Buffers, limit)
			}
		}
		if p.ArenaBytes() > p.ArenaMax() {
			t.Errorf("after %q: arena %d bytes, over its max %d", line, p.ArenaBytes(), p.ArenaMax())
		}
	})
}

// runChainLine runs line as a chain's ctl does, on a chain of 3000 bytes.
func runChainLine(t *testing.T, tree *Tree, line string) error {
	t.Helper()
	c, err := tree.newChain()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	if err := c.Append([]byte(strings.Repeat("x", 3000))); err != nil {
		t.Fatal(err)
	}
	_, err = (&chainDir{t: tree, src: lentChain{c}}).exec(line)
	return err
}

// lentChain is a chainSource that lends one chain the test owns.
type lentChain struct{ c *chain.Chain }

func (l lentChain) with(fn func(c *chain.Chain) error) error { return fn(l.c) }
func (l lentChain) remove() error                            { return nil }

// checkCtlErrno fails the test unless err is nil or maps to one of want.
func checkCtlErrno(t *testing.T, line string, err error, want ...syscall.Errno) {
	t.Helper()
	if err == nil {
		return
	}
	got := errnoOf(err)
	for _, w := range want {
		if got == w {
			return
		}
	}
	t.Errorf("%q: %v (%v), want one of %v", line, err, got, want)
}
