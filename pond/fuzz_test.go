package pond

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
)

// fuzzConfig is small enough that a short script reaches every bound: each
// pool's max, the 1 MiB arena (the 65536 pool alone could fill it) and the
// accounts' limits.
func fuzzConfig() Config {
	return Config{Classes: []ClassConfig{
		{Size: 64, Min: 0, Max: 24, GrowBy: 8},
		{Size: 512, Min: 4, Max: 16, GrowBy: 4},
		{Size: 4096, Min: 0, Max: 8, GrowBy: 3},
		{Size: 65536, Min: 0, Max: 16, GrowBy: 2},
	}, ArenaMax: 1 << 20}
}

// heldBuf is one buffer the script holds: refs references, stamped with id,
// charged to account acct.
type heldBuf struct {
	b    Buf
	refs int
	id   uint64
	acct int
}

// pondModel runs a script against a pond and checks it against what a
// simple model says after every step.
type pondModel struct {
	t      *testing.T
	p      *Pond
	pools  []*Pool
	accts  []*Account
	refs   []*heldBuf         // one entry per reference held; clones repeat
	bufs   map[int64]*heldBuf // distinct buffers held, by arena offset
	used   []int64            // bytes charged per account
	nextID uint64
	log    []string // the steps so far, for failure messages
}

func FuzzPondOps(f *testing.F) {
	f.Add([]byte{0, 0x01, 0, 0, 0x11, 10, 2, 0, 0, 3, 0, 1, 2, 0, 0, 2, 0, 0})
	f.Add([]byte{0, 0x03, 0, 0, 0x03, 0, 0, 0x03, 0, 0, 0x13, 0, 0, 0x13, 0, 4, 3, 0, 2, 0, 0, 2, 0, 1, 4, 3, 0})
	f.Add([]byte{1, 0x02, 0x40, 1, 0x12, 0xff, 3, 0, 0, 2, 0, 0, 2, 0, 1, 5, 0, 1, 1, 0x01, 0x80})
	f.Add([]byte{5, 0, 1, 0, 0x01, 0, 0, 0x01, 0, 5, 0, 0, 2, 0, 0, 0, 0x01, 0})
	f.Add([]byte{7, 1, 12, 6, 1, 5, 6, 3, 20, 7, 3, 17, 0, 0x13, 0, 4, 1, 0, 7, 0, 30})
	f.Add([]byte{0, 0x13, 0, 0, 0x13, 0, 0, 0x13, 0, 0, 0x13, 0, 6, 3, 2, 4, 3, 0, 0, 0x13, 0, 2, 0, 0, 4, 3, 0})
	f.Fuzz(func(t *testing.T, script []byte) {
		p := newTestPond(t, fuzzConfig())
		m := &pondModel{
			t: t, p: p, pools: p.Pools(),
			accts: []*Account{newAccount(t, p, "a", 64<<10), newAccount(t, p, "b", 1<<20)},
			bufs:  make(map[int64]*heldBuf),
			used:  make([]int64, 2),
		}
		defer m.drain()
		for i := 0; i+3 <= len(script) && i < 3*300; i += 3 {
			m.step(script[i], script[i+1], script[i+2])
			m.check()
			if t.Failed() {
				return
			}
		}
	})
}

func (m *pondModel) fail(format string, args ...any) {
	m.t.Helper()
	tail := m.log[max(0, len(m.log)-12):]
	m.t.Fatalf("step %d: %s\nlast steps:\n  %s", len(m.log), fmt.Sprintf(format, args...), joinLines(tail))
}

func joinLines(s []string) string {
	out := ""
	for i, l := range s {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}

func (m *pondModel) step(op, x, y byte) {
	m.t.Helper()
	switch op % 8 {
	case 0:
		ci, ai := int(x&3), int(x>>4)&1
		size := m.pools[ci].Size() - int(y)*m.pools[ci].Size()/512
		if y == 0xff {
			size = m.p.MaxBuf() + 1
		}
		m.get(ai, size)
	case 1:
		n := 1 + (int(x)<<8|int(y))*4%(3*65536)
		m.getList(int(x>>7), n)
	case 2:
		if len(m.refs) > 0 {
			m.put(int(x)<<8 | int(y))
		}
	case 3:
		if len(m.refs) > 0 {
			h := m.refs[(int(x)<<8|int(y))%len(m.refs)]
			m.log = append(m.log, fmt.Sprintf("ref %s", h.b))
			h.b.Ref()
			h.refs++
			m.refs = append(m.refs, h)
		}
	case 4:
		m.shrink(int(x & 3))
	case 5:
		ai, limit := int(x&1), int64(y)*4096
		m.log = append(m.log, fmt.Sprintf("set limit of %s to %d (uses %d)", m.accts[ai].Name(), limit, m.used[ai]))
		if err := m.accts[ai].SetLimit(limit); err != nil {
			m.fail("SetLimit(%d): %v", limit, err)
		}
	case 6:
		m.setMax(int(x&3), int(y%40))
	case 7:
		m.setMin(int(x&3), int(y%40))
	}
}

// fit is the index of the smallest pool holding size bytes, or -1.
func (m *pondModel) fit(size int) int {
	for i, c := range m.pools {
		if size >= 0 && c.Size() >= size {
			return i
		}
	}
	return -1
}

// arenaFits reports whether the arena can hand out n more bytes: the live
// slabs plus the page-rounded n stay within the memory bound, and a gap
// between slabs below the file's end holds it, or the reservation has room
// past the file's end.
func (m *pondModel) arenaFits(n int64) bool {
	n = roundUp(n, pageSize)
	var used []Slab
	live := int64(0)
	for _, c := range m.pools {
		for _, s := range c.Slabs() {
			used = append(used, s)
			live += roundUp(s.Bytes, pageSize)
		}
	}
	if live+n > m.p.ArenaMax() {
		return false
	}
	sort.Slice(used, func(i, j int) bool { return used[i].Offset < used[j].Offset })
	end := int64(0)
	for _, s := range used {
		if s.Offset-end >= n {
			return true
		}
		end = s.Offset + roundUp(s.Bytes, pageSize)
	}
	top := m.p.ArenaBytes()
	if top-end >= n {
		return true
	}
	return int64(len(m.p.Arena()))-top >= n
}

// canServe reports whether pool ci can hand out a buffer now: it has a free
// one, or it may grow a slab and the arena has room for it.
func (m *pondModel) canServe(ci int) bool {
	s := m.pools[ci].Stats()
	if s.Free > 0 {
		return true
	}
	n := min(int64(s.GrowBy), int64(s.Max)-int64(s.Buffers))
	return n > 0 && m.arenaFits(n*int64(s.BufSize))
}

// predictGet is what Get must do: the size of the buffer it hands out, or
// its error.
func (m *pondModel) predictGet(ai, size int) (int, error) {
	ci := m.fit(size)
	if ci < 0 {
		return 0, ErrTooLarge
	}
	for cj := ci; cj < len(m.pools); cj++ {
		n := m.pools[cj].Size()
		if m.used[ai]+int64(n) > m.accts[ai].Limit() {
			return 0, ErrQuota
		}
		if m.canServe(cj) {
			return n, nil
		}
	}
	return 0, ErrExhausted
}

func (m *pondModel) get(ai, size int) {
	m.t.Helper()
	wantSize, wantErr := m.predictGet(ai, size)
	m.log = append(m.log, fmt.Sprintf("get %d for %s: want %d, %v", size, m.accts[ai].Name(), wantSize, wantErr))
	b, err := m.p.Get(m.accts[ai], size)
	switch {
	case err == nil && wantErr != nil:
		m.add(b, ai)
		m.fail("Get(%d) for %s = %s, want %v (account uses %d of %d)", size, m.accts[ai].Name(), b, wantErr, m.used[ai]-int64(b.Size()), m.accts[ai].Limit())
	case err != nil && !errors.Is(err, wantErr):
		m.fail("Get(%d) for %s: %v, want %s", size, m.accts[ai].Name(), err, describe(wantSize, wantErr))
	case err == nil:
		m.add(b, ai)
		if b.Size() != wantSize {
			m.fail("Get(%d) = %s, want a buffer of %d", size, b, wantSize)
		}
	}
}

func describe(size int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("a buffer of %d", size)
}

func (m *pondModel) getList(ai, n int) {
	m.t.Helper()
	// A list that fits one buffer is that buffer when Get can take it.
	var wantSize int
	var wantErr error
	single := n <= m.p.MaxBuf()
	if single {
		wantSize, wantErr = m.predictGet(ai, n)
	}
	m.log = append(m.log, fmt.Sprintf("get list %d for %s", n, m.accts[ai].Name()))
	sentinel := Buf{}
	bs, err := m.p.GetList(m.accts[ai], n, []Buf{sentinel})
	if err != nil {
		if len(bs) != 1 || bs[0] != sentinel {
			m.fail("GetList(%d) failed (%v) but changed dst to %v", n, err, bs)
		}
		if !errors.Is(err, ErrQuota) && !errors.Is(err, ErrExhausted) {
			m.fail("GetList(%d): %v, want ErrQuota or ErrExhausted", n, err)
		}
		if single && (wantErr == nil || wantErr == ErrQuota && !errors.Is(err, ErrQuota)) {
			m.fail("GetList(%d): %v, want %s", n, err, describe(wantSize, wantErr))
		}
		return
	}
	if len(bs) < 2 || bs[0] != sentinel {
		m.fail("GetList(%d) = %v, want the sentinel followed by buffers", n, bs)
	}
	total := 0
	for _, b := range bs[1:] {
		total += b.Size()
		m.add(b, ai)
	}
	if total < n {
		m.fail("GetList(%d) took %v: only %d bytes", n, sizesOf(bs[1:]), total)
	}
	if single && wantErr == nil && (len(bs) != 2 || bs[1].Size() != wantSize) {
		m.fail("GetList(%d) took %v, want one buffer of %d", n, sizesOf(bs[1:]), wantSize)
	}
	if single && wantErr == ErrQuota {
		m.fail("GetList(%d) took %v, want ErrQuota", n, sizesOf(bs[1:]))
	}
	if m.used[ai] > m.accts[ai].Limit() {
		m.fail("GetList(%d) for %s took %d bytes past its limit %d", n, m.accts[ai].Name(), m.used[ai]-m.accts[ai].Limit(), m.accts[ai].Limit())
	}
}

// add records a buffer the pond handed out, after checking that it lies in
// the arena and overlaps no buffer already held, and stamps it.
func (m *pondModel) add(b Buf, ai int) {
	m.t.Helper()
	if err := inArena(m.p, b); err != nil {
		m.fail("%v", err)
	}
	if b.Refs() != 1 {
		m.fail("new buffer %s has %d references", b, b.Refs())
	}
	for _, h := range m.bufs {
		if b.Offset() < h.b.Offset()+int64(h.b.Size()) && h.b.Offset() < b.Offset()+int64(b.Size()) {
			m.fail("new buffer %s overlaps held buffer %s", b, h.b)
		}
	}
	m.nextID++
	h := &heldBuf{b: b, refs: 1, id: m.nextID, acct: ai}
	stamp(b, h.id)
	m.refs = append(m.refs, h)
	m.bufs[b.Offset()] = h
	m.used[ai] += int64(b.Size())
}

func (m *pondModel) put(i int) {
	m.t.Helper()
	i %= len(m.refs)
	h := m.refs[i]
	m.log = append(m.log, fmt.Sprintf("put %s (refs %d)", h.b, h.refs))
	m.refs = slices.Delete(m.refs, i, i+1)
	m.p.Put(h.b)
	h.refs--
	if h.refs == 0 {
		delete(m.bufs, h.b.Offset())
		m.used[h.acct] -= int64(h.b.Size())
	}
}

// predictShrink is how many buffers Shrink of pool ci must release: whole
// slabs with no buffer held, newest first, keeping min.
func (m *pondModel) predictShrink(ci int) int {
	c := m.pools[ci]
	s := c.Stats()
	buffers, released := int64(s.Buffers), int64(0)
	slabs := c.Slabs()
	for i := len(slabs) - 1; i >= 0; i-- {
		sl := slabs[i]
		count := sl.Bytes / int64(c.Size())
		busy := false
		for _, h := range m.bufs {
			busy = busy || h.b.Size() == c.Size() && h.b.Offset() >= sl.Offset && h.b.Offset() < sl.Offset+sl.Bytes
		}
		if busy || buffers-released-count < int64(s.Min) {
			continue
		}
		released += count
	}
	return int(released)
}

func (m *pondModel) shrink(ci int) {
	m.t.Helper()
	c := m.pools[ci]
	want := m.predictShrink(ci)
	before := c.Stats()
	m.log = append(m.log, fmt.Sprintf("shrink %d: want %d", c.Size(), want))
	n, err := c.Shrink()
	if err != nil {
		m.fail("Shrink of pool %d: %v", c.Size(), err)
	}
	after := c.Stats()
	if n != want || after.Buffers != before.Buffers-uint64(n) {
		m.fail("Shrink of pool %d released %d buffers (%d → %d), want %d", c.Size(), n, before.Buffers, after.Buffers, want)
	}
}

func (m *pondModel) setMax(ci, v int) {
	m.t.Helper()
	c := m.pools[ci]
	before := c.Stats()
	bad := v < 1 || uint64(v) < before.Min || int64(v) > m.p.ArenaMax()/int64(c.Size())
	m.log = append(m.log, fmt.Sprintf("set max of %d to %d (min %d)", c.Size(), v, before.Min))
	err := c.SetMax(v)
	after := c.Stats()
	switch {
	case bad && !errors.Is(err, ErrInvalid):
		m.fail("SetMax(%d) with min %d: %v, want ErrInvalid", v, before.Min, err)
	case !bad && err != nil:
		m.fail("SetMax(%d) with min %d: %v", v, before.Min, err)
	case bad && after.Max != before.Max, !bad && after.Max != uint64(v):
		m.fail("SetMax(%d) (error %v): max %d → %d", v, err, before.Max, after.Max)
	case after.Buffers != before.Buffers:
		m.fail("SetMax(%d) changed the pool's buffers from %d to %d", v, before.Buffers, after.Buffers)
	}
}

func (m *pondModel) setMin(ci, v int) {
	m.t.Helper()
	c := m.pools[ci]
	before := c.Stats()
	var wantErr error
	switch {
	case uint64(v) > before.Max:
		wantErr = ErrInvalid
	case uint64(v) > before.Buffers && !m.arenaFits(int64(uint64(v)-before.Buffers)*int64(c.Size())):
		wantErr = ErrExhausted
	}
	m.log = append(m.log, fmt.Sprintf("set min of %d to %d (max %d, buffers %d): want %v", c.Size(), v, before.Max, before.Buffers, wantErr))
	err := c.SetMin(v)
	after := c.Stats()
	switch {
	case wantErr == nil && err != nil, wantErr != nil && !errors.Is(err, wantErr):
		m.fail("SetMin(%d) with max %d, buffers %d: %v, want %v", v, before.Max, before.Buffers, err, wantErr)
	case wantErr != nil && (after.Min != before.Min || after.Buffers != before.Buffers):
		m.fail("refused SetMin(%d) (%v) changed min %d → %d, buffers %d → %d", v, err, before.Min, after.Min, before.Buffers, after.Buffers)
	case wantErr == nil && (after.Min != uint64(v) || after.Buffers < uint64(v)):
		m.fail("SetMin(%d): min %d buffers %d", v, after.Min, after.Buffers)
	}
}

// check compares the pond with the model.
func (m *pondModel) check() {
	m.t.Helper()
	if err := m.p.Audit(); err != nil {
		m.fail("Audit: %v", err)
	}
	perPool := map[int]uint64{}
	for _, h := range m.bufs {
		perPool[h.b.Size()]++
		if h.b.Refs() != h.refs {
			m.fail("buffer %s has %d references, model %d", h.b, h.b.Refs(), h.refs)
		}
		if !stamped(h.b, h.id) {
			m.fail("buffer %s lost its stamp %d", h.b, h.id)
		}
	}
	if s := m.p.Stats(); s.InUse != uint64(len(m.bufs)) || s.Buffers != s.Free+s.InUse {
		m.fail("pond stats %+v, model holds %d buffers", s, len(m.bufs))
	}
	for _, c := range m.pools {
		s := c.Stats()
		if s.InUse != perPool[c.Size()] {
			m.fail("pool %d: in_use %d, model %d", c.Size(), s.InUse, perPool[c.Size()])
		}
		if err := checkPoolStats(s); err != nil {
			m.fail("%v", err)
		}
	}
	for i, a := range m.accts {
		if s := a.Stats(); s.UsedBytes != uint64(m.used[i]) || s.HighWaterBytes < s.UsedBytes {
			m.fail("account %s: used_bytes %d high_water_bytes %d, model uses %d", a.Name(), s.UsedBytes, s.HighWaterBytes, m.used[i])
		}
	}
}

// drain puts every reference back and checks that nothing is in use.
func (m *pondModel) drain() {
	for len(m.refs) > 0 {
		h := m.refs[len(m.refs)-1]
		m.refs = m.refs[:len(m.refs)-1]
		m.p.Put(h.b)
	}
	m.bufs = map[int64]*heldBuf{}
	m.used = make([]int64, len(m.accts))
	if m.t.Failed() {
		return
	}
	m.check()
	if s := m.p.Stats(); s.InUse != 0 {
		m.t.Errorf("after putting everything back: in_use %d", s.InUse)
	}
}
