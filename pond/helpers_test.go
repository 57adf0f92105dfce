package pond

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// unlimited is an account limit no test reaches.
const unlimited = 1 << 40

// newTestPond makes a pond for one test and closes it when the test ends;
// a Close that fails (ErrBusy: a buffer was not put back) fails the test.
func newTestPond(t testing.TB, cfg Config) *Pond {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// onePool is a config of a single class.
func onePool(size, minN, maxN, growBy int, arena int64) Config {
	return Config{Classes: []ClassConfig{{Size: size, Min: minN, Max: maxN, GrowBy: growBy}}, ArenaMax: arena}
}

func newAccount(t testing.TB, p *Pond, name string, limit int64) *Account {
	t.Helper()
	a, err := p.NewAccount(name, limit)
	if err != nil {
		t.Fatalf("NewAccount(%q, %d): %v", name, limit, err)
	}
	return a
}

func mustPool(t testing.TB, p *Pond, size int) *Pool {
	t.Helper()
	c, err := p.Pool(size)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustGet(t testing.TB, p *Pond, a *Account, size int) Buf {
	t.Helper()
	b, err := p.Get(a, size)
	if err != nil {
		t.Fatalf("Get(%s, %d): %v", a.Name(), size, err)
	}
	return b
}

// putAll puts one reference of every buffer in bs.
func putAll(p *Pond, bs []Buf) {
	for _, b := range bs {
		p.Put(b)
	}
}

// stamp writes id into the first and last 8 bytes of the buffer.
func stamp(b Buf, id uint64) {
	m := b.Bytes()
	binary.LittleEndian.PutUint64(m, id)
	binary.LittleEndian.PutUint64(m[len(m)-8:], ^id)
}

// stamped reports whether the buffer still carries stamp id.
func stamped(b Buf, id uint64) bool {
	m := b.Bytes()
	return binary.LittleEndian.Uint64(m) == id && binary.LittleEndian.Uint64(m[len(m)-8:]) == ^id
}

// checkInArena fails unless b lies inside the arena file and its bytes are
// the arena's bytes at its offset.
func checkInArena(t testing.TB, p *Pond, b Buf) {
	t.Helper()
	if err := inArena(p, b); err != nil {
		t.Error(err)
	}
}

func inArena(p *Pond, b Buf) error {
	off, size := b.Offset(), b.Size()
	if off < 0 || off%8 != 0 || off+int64(size) > p.ArenaBytes() {
		return fmt.Errorf("buffer %s: [%d, %d) outside the arena file of %d bytes", b, off, off+int64(size), p.ArenaBytes())
	}
	m := b.Bytes()
	if len(m) != size || cap(m) != size {
		return fmt.Errorf("buffer %s: Bytes has len %d cap %d, want %d", b, len(m), cap(m), size)
	}
	if &m[0] != &p.Arena()[off] || &m[size-1] != &p.Arena()[off+int64(size)-1] {
		return fmt.Errorf("buffer %s: Bytes does not alias Arena()[%d:]", b, off)
	}
	return nil
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkQuiet checks a pond nobody is using: Audit passes and every pool's
// in_use equals want (by size; pools not named must have none in use).
func checkQuiet(t testing.TB, p *Pond, want map[int]uint64) {
	t.Helper()
	if err := p.Audit(); err != nil {
		t.Errorf("Audit: %v", err)
	}
	for _, c := range p.Pools() {
		s := c.Stats()
		if s.InUse != want[c.Size()] {
			t.Errorf("pool %d: in_use %d, want %d", c.Size(), s.InUse, want[c.Size()])
		}
		if s.Buffers != s.Free+s.InUse {
			t.Errorf("pool %d: buffers %d != free %d + in_use %d", c.Size(), s.Buffers, s.Free, s.InUse)
		}
	}
}

// catch runs f and returns the message it panicked with ("" if none).
func catch(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if msg == "" {
				msg = "<empty panic>"
			}
		}
	}()
	f()
	return ""
}

// wantErr fails unless err wraps every one of targets.
func wantErr(t testing.TB, what string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, targets)
		return
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: error %q does not wrap %q", what, err, target)
		}
	}
}

// mentions fails unless msg contains every one of words.
func mentions(t testing.TB, what, msg string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: %q does not mention %q", what, msg, w)
		}
	}
}
