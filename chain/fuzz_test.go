package chain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/pondfs/pondfs/pond"
)

// fuzzClasses is a pond small enough that multi-buffer operations run out
// of buffers or quota now and then, so the fuzzer also checks that a
// failed operation changes nothing.
var fuzzClasses = []pond.ClassConfig{
	{Size: 128, Min: 0, Max: 48, GrowBy: 16},
	{Size: 512, Min: 0, Max: 12, GrowBy: 4},
	{Size: 2048, Min: 0, Max: 6, GrowBy: 2},
}

const (
	fuzzLimit  = 16 << 10 // account limit, below what the pools hold
	fuzzMaxLen = 9000     // chains' MaxLen
	fuzzChains = 8        // most chains alive at once
	fuzzSteps  = 100      // most operations per input
)

// script reads operations and their arguments from fuzz input; past its
// end it reads zeros.
type script struct {
	b []byte
}

func (s *script) byte() int {
	if len(s.b) == 0 {
		return 0
	}
	v := s.b[0]
	s.b = s.b[1:]
	return int(v)
}

// size is a length, often one at a buffer boundary.
func (s *script) size() int {
	sizes := []int{0, 1, 14, 127, 128, 129, 511, 512, 513, 2047, 2048, 2049, 4097}
	if v := s.byte(); v < 128 {
		return sizes[v%len(sizes)]
	}
	return (s.byte()<<8 | s.byte()) % 5000
}

// arg is an offset or length within n, now and then just outside it.
func (s *script) arg(n int) int {
	switch v := s.byte(); {
	case v < 8:
		return -1 - v
	case v < 16:
		return n + v - 7
	case v < 48:
		return n
	}
	return (s.byte()<<8 | s.byte()) % (n + 1)
}

type pair struct {
	c *Chain
	m *model
}

type fuzzRun struct {
	t     *testing.T
	f     *fixture
	s     *script
	pairs []pair
	seed  byte
}

func FuzzChainOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 200, 5, 0, 8, 0, 9, 1, 0, 20, 0, 200, 6, 0, 1})
	f.Add([]byte{0, 0, 1, 0, 130, 20, 0, 10, 0, 60, 1, 9, 1, 2, 57, 0, 200, 3, 0, 30, 11, 0, 12, 0, 3})
	f.Add([]byte{0, 0, 1, 0, 11, 8, 0, 7, 0, 1, 5, 0, 20, 0, 10, 15, 0, 1, 19, 0, 1, 60, 0, 1, 100})
	f.Add([]byte{0, 1, 1, 0, 12, 0, 1, 1, 7, 1, 1, 0, 16, 0, 15, 1, 12, 200, 30, 29, 9, 0, 60, 0, 5, 5, 5})
	f.Add([]byte{0, 0, 20, 0, 200, 19, 100, 16, 0, 12, 20, 0, 8, 0, 21, 1, 9, 1, 70, 0, 4, 9, 0, 70, 20, 29, 5})
	f.Add([]byte{0, 0, 1, 0, 4, 0, 0, 0, 1, 1, 4, 6, 0, 0, 12, 0, 20})
	f.Add([]byte{0, 4, 1, 0, 200, 200, 200, 8, 0, 9, 0, 20, 200, 100, 100, 1, 1, 200, 50, 50, 9, 1, 20, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzRun{t: t, f: newFixture(t, fuzzClasses, fuzzLimit), s: &script{b: data}}
		for step := 0; step < fuzzSteps && len(r.s.b) > 0; step++ {
			r.step(step)
			r.verify(step)
		}
		r.finish()
	})
}

// ops are the operations of the script, by its first byte.
var ops = []struct {
	name string
	do   func(r *fuzzRun, i int)
}{
	{"new", (*fuzzRun).opNew},
	{"append", (*fuzzRun).opAppend},
	{"prepend", (*fuzzRun).opPrepend},
	{"trim-front", (*fuzzRun).opTrimFront},
	{"trim-back", (*fuzzRun).opTrimBack},
	{"split", (*fuzzRun).opSplit},
	{"append-chain", (*fuzzRun).opAppendChain},
	{"concat", (*fuzzRun).opConcat},
	{"clone", (*fuzzRun).opClone},
	{"write", (*fuzzRun).opWrite},
	{"push", (*fuzzRun).opPush},
	{"pop", (*fuzzRun).opPop},
	{"pullup", (*fuzzRun).opPullup},
	{"free", (*fuzzRun).opFree},
	{"truncate", (*fuzzRun).opTruncate},
	{"split-fragments", (*fuzzRun).opSplitFragments},
	{"append-space", (*fuzzRun).opAppendSpace},
	{"read", (*fuzzRun).opRead},
	{"write-layer", (*fuzzRun).opWriteLayer},
}

func (r *fuzzRun) step(step int) {
	op := ops[r.s.byte()%len(ops)]
	if len(r.pairs) == 0 {
		r.opNew(0)
		return
	}
	i := r.s.byte() % len(r.pairs)
	r.t.Logf("step %d: %s on chain %d (view %d of %d bytes, depth %d)", step, op.name, i,
		r.pairs[i].c.Len(), r.pairs[i].c.ChainLen(), r.pairs[i].c.Depth())
	op.do(r, i)
}

// fresh is new content for a write, different at every call.
func (r *fuzzRun) fresh(n int) []byte {
	r.seed += 31
	return pattern(r.seed, n)
}

// snapshot is what a failed operation must leave as it was, beyond what
// the model holds: the view's segments and the buffers in use.
type snapshot struct {
	segs  []Segment
	inUse uint64
}

func (r *fuzzRun) snap(c *Chain) snapshot {
	return snapshot{segs: c.Segments(nil), inUse: r.f.inUse()}
}

// outcome compares a chain operation's error with the model's and
// reports whether the operation happened. An error the model cannot
// foresee (the pond out of buffers or quota) must leave the chain as it
// was.
func (r *fuzzRun) outcome(c *Chain, before snapshot, got, want error) bool {
	r.t.Helper()
	switch {
	case want != nil:
		if !errors.Is(got, want) {
			r.t.Fatalf("error %v, want %v", got, want)
		}
		return false
	case got == nil:
		return true
	case !errors.Is(got, pond.ErrExhausted) && !errors.Is(got, pond.ErrQuota):
		r.t.Fatalf("unexpected error %v", got)
	}
	if after := r.snap(c); !slices.Equal(after.segs, before.segs) || after.inUse != before.inUse {
		r.t.Fatalf("failed operation (%v) changed the chain: segments %v -> %v, in use %d -> %d",
			got, before.segs, after.segs, before.inUse, after.inUse)
	}
	return false
}

func (r *fuzzRun) opNew(int) {
	if len(r.pairs) >= fuzzChains {
		return
	}
	v := r.s.byte()
	opt := Options{Headroom: []int{0, -1, 20, 600}[v%4], MaxLen: fuzzMaxLen}
	if v&4 != 0 {
		opt.Wait = 100 * time.Microsecond
	}
	c := r.f.chain(opt)
	r.pairs = append(r.pairs, pair{c, newModel(fuzzMaxLen, r.f.p.MaxBuf())})
}

func (r *fuzzRun) opAppend(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	p := r.fresh(r.s.size())
	var want error
	if len(p) > 0 {
		want = m.growErr(len(m.layers)-1, len(p))
	}
	if r.outcome(c, r.snap(c), c.Append(p), want) {
		m.addBack(len(m.layers)-1, p)
	}
}

func (r *fuzzRun) opPrepend(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	n := r.s.arg(r.s.size())
	var want error
	switch {
	case n < 0:
		want = ErrRange
	case n > 0:
		want = m.growErr(len(m.layers)-1, n)
	}
	if r.outcome(c, r.snap(c), c.Prepend(n), want) && n > 0 {
		m.addFront(n)
	}
}

func (r *fuzzRun) opTrimFront(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	t := *m.top()
	n := r.s.arg(t.n)
	if r.outcome(c, r.snap(c), c.TrimFront(n), rangeErr(n, t.n)) {
		m.remove(t.off, n)
	}
}

func (r *fuzzRun) opTrimBack(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	t := *m.top()
	n := r.s.arg(t.n)
	if r.outcome(c, r.snap(c), c.TrimBack(n), rangeErr(n, t.n)) {
		m.remove(t.off+t.n-n, n)
	}
}

// rangeErr is ErrRange unless 0 <= n <= max.
func rangeErr(n, max int) error {
	if n < 0 || n > max {
		return ErrRange
	}
	return nil
}

func (r *fuzzRun) opSplit(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	n := r.s.arg(m.top().n)
	nc, err := c.Split(n)
	if !r.outcome(c, r.snap(c), err, rangeErr(n, m.top().n)) {
		return
	}
	nm, _ := m.split(n)
	r.pairs = append(r.pairs, pair{nc, nm})
}

// other picks a second chain for i, or -1 when there is none.
func (r *fuzzRun) other(i int) int {
	if len(r.pairs) < 2 {
		return -1
	}
	j := r.s.byte() % (len(r.pairs) - 1)
	if j >= i {
		j++
	}
	return j
}

func (r *fuzzRun) opAppendChain(i int) {
	j := r.other(i)
	if j < 0 {
		mustErr(r.t, r.pairs[i].c.AppendChain(r.pairs[i].c), ErrInvalid)
		return
	}
	c, m, o := r.pairs[i].c, r.pairs[i].m, r.pairs[j]
	want := m.growErr(len(m.layers)-1, len(o.m.data))
	if r.outcome(c, r.snap(c), c.AppendChain(o.c), want) {
		m.addBack(len(m.layers)-1, o.m.data)
		r.pairs = slices.Delete(r.pairs, j, j+1)
	}
}

func (r *fuzzRun) opConcat(i int) {
	j := r.other(i)
	if j < 0 {
		return
	}
	c, m := r.pairs[i].c, r.pairs[i].m
	others, idx := []*Chain{r.pairs[j].c}, []int{j}
	if k := r.other(i); k >= 0 && k != j {
		others, idx = append(others, r.pairs[k].c), append(idx, k)
	}
	var oms []*model
	for _, k := range idx {
		oms = append(oms, r.pairs[k].m)
	}
	proto := fmt.Sprintf("frag%d", r.s.byte())
	if !r.outcome(c, r.snap(c), c.Concat(proto, others...), m.concat(proto, oms)) {
		return
	}
	slices.Sort(idx)
	for k := len(idx) - 1; k >= 0; k-- {
		r.pairs = slices.Delete(r.pairs, idx[k], idx[k]+1)
	}
}

func (r *fuzzRun) opClone(i int) {
	if len(r.pairs) >= fuzzChains {
		return
	}
	nc, err := r.pairs[i].c.Clone()
	must(r.t, err)
	r.pairs = append(r.pairs, pair{nc, r.pairs[i].m.clone()})
}

func (r *fuzzRun) opWrite(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	off, p := r.s.arg(m.top().n), r.fresh(r.s.size())
	r.tryWrite(c, m, len(m.layers)-1, off, p)
}

// modelWrite applies a write to the model and returns the error the
// chain must give; on error the model is unchanged.
func modelWrite(m *model, k, off int, p []byte) error {
	switch {
	case off < 0:
		return ErrRange
	case len(p) == 0:
		return nil
	case off > m.maxLen:
		return ErrTooLong
	}
	return m.write(k, off, p)
}

// tryWrite writes through the chain and the model; when the pond fails
// the chain's write, the model's is undone.
func (r *fuzzRun) tryWrite(c *Chain, m *model, k, off int, p []byte) {
	before, saved := r.snap(c), m.clone()
	_, err := c.WriteAtLayer(k, p, int64(off))
	want := modelWrite(m, k, off, p)
	if !r.outcome(c, before, err, want) && want == nil {
		*m = *saved
	}
}

func (r *fuzzRun) opPush(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	n := m.top().n
	off := r.s.arg(n)
	length := r.s.arg(max(0, n-off))
	proto := fmt.Sprintf("p%d", r.s.byte())
	want := m.push(off, length, proto)
	r.outcome(c, r.snap(c), c.Push(off, length, proto), want)
}

func (r *fuzzRun) opPop(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	r.outcome(c, r.snap(c), c.Pop(), m.pop())
}

func (r *fuzzRun) opPullup(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	n := r.s.arg(min(m.top().n, r.f.p.MaxBuf()))
	want := rangeErr(n, min(m.top().n, r.f.p.MaxBuf()))
	if r.outcome(c, r.snap(c), c.Pullup(n), want) && n > 0 {
		if iov := c.Iovecs(nil); len(iov[0]) < n {
			r.t.Fatalf("pullup %d: first run %d bytes", n, len(iov[0]))
		}
	}
}

func (r *fuzzRun) opFree(i int) {
	r.pairs[i].c.Free()
	r.pairs = slices.Delete(r.pairs, i, i+1)
}

func (r *fuzzRun) opTruncate(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	t := *m.top()
	n := r.s.arg(t.n + r.s.size())
	var want error
	switch {
	case n < 0:
		want = ErrRange
	case n > t.n:
		want = m.growErr(len(m.layers)-1, n-t.n)
	}
	if !r.outcome(c, r.snap(c), c.Truncate(n), want) {
		return
	}
	if n <= t.n {
		m.remove(t.off+n, t.n-n)
	} else {
		m.addBack(len(m.layers)-1, make([]byte, n-t.n))
	}
}

func (r *fuzzRun) opSplitFragments(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	parts, err := c.SplitFragments(nil)
	nms, want := m.splitFragments()
	if !r.outcome(c, r.snap(c), err, want) {
		return
	}
	if len(parts) != len(nms) {
		r.t.Fatalf("SplitFragments gave %d chains, want %d", len(parts), len(nms))
	}
	for k := range parts {
		r.pairs = append(r.pairs, pair{parts[k], nms[k]})
	}
}

func (r *fuzzRun) opAppendSpace(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	n := r.s.size()
	var want error
	if n > r.f.p.MaxBuf() {
		want = ErrRange
	} else {
		want = m.growErr(len(m.layers)-1, n)
	}
	space, err := c.AppendSpace(n)
	if !r.outcome(c, r.snap(c), err, want) {
		return
	}
	if len(space) != n {
		r.t.Fatalf("AppendSpace(%d): %d bytes", n, len(space))
	}
	p := r.fresh(max(0, min(n, r.s.arg(n))))
	copy(space, p)
	must(r.t, c.Commit(len(p)))
	m.addBack(len(m.layers)-1, p)
}

func (r *fuzzRun) opRead(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	t := *m.top()
	got := make([]byte, r.s.size())
	n, _ := c.Read(got)
	if n != min(len(got), t.n) || !bytes.Equal(got[:n], m.data[t.off:t.off+n]) {
		r.t.Fatalf("Read(%d): %d bytes, want %d", len(got), n, min(len(got), t.n))
	}
	m.remove(t.off, n)
}

func (r *fuzzRun) opWriteLayer(i int) {
	c, m := r.pairs[i].c, r.pairs[i].m
	k := r.s.byte() % (len(m.layers) + 1)
	p := r.fresh(r.s.size())
	if k == len(m.layers) {
		_, err := c.WriteAtLayer(k, p, 0)
		mustErr(r.t, err, ErrNoLayer)
		return
	}
	r.tryWrite(c, m, k, r.s.arg(m.layers[k].n), p)
}

// verify compares every chain with its model: lengths, every layer's
// place, name, fragments and bytes, the view's iovecs; and audits the pond.
func (r *fuzzRun) verify(step int) {
	r.t.Helper()
	for i, p := range r.pairs {
		if err := checkModel(p.c, p.m); err != nil {
			r.t.Fatalf("after step %d, chain %d: %v", step, i, err)
		}
	}
	if err := r.f.p.Audit(); err != nil {
		r.t.Fatalf("after step %d: %v", step, err)
	}
}

func checkModel(c *Chain, m *model) error {
	t := m.top()
	if c.Len() != t.n || c.ChainLen() != len(m.data) || c.Depth() != len(m.layers)-1 {
		return fmt.Errorf("len %d, chain len %d, depth %d; want %d, %d, %d",
			c.Len(), c.ChainLen(), c.Depth(), t.n, len(m.data), len(m.layers)-1)
	}
	for k, l := range m.layers {
		want := LayerInfo{Length: l.n, Proto: l.proto}
		if k > 0 {
			want.Offset = l.off - m.layers[k-1].off
		}
		if got, err := c.Layer(k); err != nil || got != want {
			return fmt.Errorf("layer %d: %+v, %v; want %+v", k, got, err, want)
		}
		if frags, _ := c.Fragments(k, nil); !slices.Equal(frags, l.frags) {
			return fmt.Errorf("layer %d: fragments %v, want %v", k, frags, l.frags)
		}
		got := make([]byte, l.n)
		if n, err := c.ReadAtLayer(k, got, 0); n != l.n || (err != nil && l.n > 0) {
			return fmt.Errorf("layer %d: read %d of %d: %v", k, n, l.n, err)
		}
		if !bytes.Equal(got, m.data[l.off:l.off+l.n]) {
			return fmt.Errorf("layer %d: bytes differ at %d", k, firstDiff(got, m.data[l.off:l.off+l.n]))
		}
	}
	if iov := slices.Concat(c.Iovecs(nil)...); !bytes.Equal(iov, m.data[t.off:t.off+t.n]) {
		return fmt.Errorf("iovecs differ from the view at %d", firstDiff(iov, m.data[t.off:t.off+t.n]))
	}
	return nil
}

// finish drains each chain through Read of a clone, frees everything,
// and checks that every buffer came back.
func (r *fuzzRun) finish() {
	for _, p := range r.pairs {
		cl, err := p.c.Clone()
		must(r.t, err)
		if out, err := io.ReadAll(cl); err != nil || !bytes.Equal(out, p.m.data[p.m.top().off:][:p.m.top().n]) {
			r.t.Fatalf("Read of a clone: %v", err)
		}
		cl.Free()
		p.c.Free()
	}
	r.pairs = nil
	if n := r.f.inUse(); n != 0 {
		r.t.Fatalf("%d buffers in use after every chain was freed", n)
	}
}
