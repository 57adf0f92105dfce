package chain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

// TestMain fails the binary if any pond a test left open still has a
// buffer out or breaks an invariant.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := pond.AuditAll(); err != nil {
		fmt.Fprintln(os.Stderr, "leak check:", err)
		code = 1
	}
	os.Exit(code)
}

// unlimited is an account limit no test reaches.
const unlimited = 1 << 40

// classes is the test pond's shape: three size classes, so that chains
// cross class boundaries and the largest buffer is small enough that
// multi-buffer chains are cheap.
var classes = []pond.ClassConfig{
	{Size: 128, Min: 16, Max: 4096, GrowBy: 64},
	{Size: 512, Min: 8, Max: 1024, GrowBy: 32},
	{Size: 2048, Min: 8, Max: 1024, GrowBy: 16},
}

// fixture is a pond and an account for one test; the pond is closed when
// the test ends, and a Close that fails (a buffer not put back) fails it.
type fixture struct {
	t    testing.TB
	p    *pond.Pond
	acct *pond.Account
}

func newFixture(t testing.TB, cls []pond.ClassConfig, limit int64) *fixture {
	t.Helper()
	p, err := pond.New(pond.Config{Classes: cls, ArenaMax: 64 << 20})
	if err != nil {
		t.Fatalf("pond.New: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("pond.Close: %v", err)
		}
	})
	a, err := p.NewAccount("test", limit)
	if err != nil {
		t.Fatalf("NewAccount: %v", err)
	}
	return &fixture{t: t, p: p, acct: a}
}

func defaultFixture(t testing.TB) *fixture { return newFixture(t, classes, unlimited) }

// chain makes an empty chain; the test frees it (or hands it on).
func (f *fixture) chain(opt Options) *Chain {
	f.t.Helper()
	c, err := New(f.p, f.acct, opt)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c
}

// filled makes a chain holding data, appended in one go.
func (f *fixture) filled(opt Options, data []byte) *Chain {
	f.t.Helper()
	c := f.chain(opt)
	if err := c.Append(data); err != nil {
		f.t.Fatalf("Append(%d bytes): %v", len(data), err)
	}
	return c
}

// inUse is how many buffers of the pond are out.
func (f *fixture) inUse() uint64 { return f.p.Stats().InUse }

// pattern is n bytes that differ from their neighbours and from other
// patterns with another seed, so a misplaced byte shows.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i/251)
	}
	return b
}

// viewBytes reads the whole view through ReadAt.
func viewBytes(t testing.TB, c *Chain) []byte {
	t.Helper()
	b := make([]byte, c.Len())
	n, err := c.ReadAt(b, 0)
	if n != len(b) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt whole view: %d of %d, %v", n, len(b), err)
	}
	return b
}

// checkView checks the view holds want through three read paths — ReadAt
// (whole and from odd offsets), Read of a clone to its end, and the iovecs — and
// that the segments agree with the iovecs and the pond is sound.
func checkView(t testing.TB, f *fixture, c *Chain, want []byte) {
	t.Helper()
	if c.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", c.Len(), len(want))
	}
	if got := viewBytes(t, c); !bytes.Equal(got, want) {
		t.Fatalf("ReadAt: view differs from the model at byte %d (len %d)", firstDiff(got, want), len(want))
	}
	for _, off := range []int{1, len(want) / 3, len(want) - 1} {
		if off <= 0 || off >= len(want) {
			continue
		}
		got := make([]byte, len(want)-off+5)
		n, err := c.ReadAt(got, int64(off))
		if n != len(want)-off || err != io.EOF || !bytes.Equal(got[:n], want[off:]) {
			t.Fatalf("ReadAt(%d): %d, %v; want %d bytes and io.EOF", off, n, err, len(want)-off)
		}
	}
	cl, err := c.Clone()
	if err != nil {
		t.Fatalf("Clone: %v", err)
	}
	out, err := io.ReadAll(cl)
	if err != nil || !bytes.Equal(out, want) || cl.Len() != 0 {
		t.Fatalf("Read of clone: %d bytes, %v, equal %v, left %d", len(out), err, bytes.Equal(out, want), cl.Len())
	}
	cl.Free()
	iov := c.Iovecs(nil)
	segs := c.Segments(nil)
	if len(iov) != len(segs) || len(iov) != c.NumSegments() {
		t.Fatalf("%d iovecs, %d segments, NumSegments %d", len(iov), len(segs), c.NumSegments())
	}
	arena := f.p.Arena()
	for i, v := range iov {
		s := segs[i]
		if len(v) == 0 || s.Length != len(v) || s.Refs < 1 {
			t.Fatalf("segment %d: %+v, iovec of %d bytes", i, s, len(v))
		}
		if !bytes.Equal(arena[s.ArenaOffset:s.ArenaOffset+int64(s.Length)], v) {
			t.Fatalf("segment %d: arena bytes at %d differ from its iovec", i, s.ArenaOffset)
		}
	}
	if got := slices.Concat(iov...); !bytes.Equal(got, want) && len(want) > 0 {
		t.Fatalf("iovecs: view differs from the model at byte %d", firstDiff(got, want))
	}
	if err := f.p.Audit(); err != nil {
		t.Fatalf("Audit: %v", err)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// mustErr fails the test unless err wraps want.
func mustErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
