package chain

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"
)

// ReadAt over a multi-buffer chain passes the standard reader tests,
// through a section reader (the chain's own Read consumes, like
// bytes.Buffer's, so it is tested apart).
func TestReadAtIotest(t *testing.T) {
	f := defaultFixture(t)
	for _, n := range []int{0, 1, 127, 2048, 5000} {
		data := pattern(1, n)
		c := f.filled(Options{}, data)
		if err := iotest.TestReader(io.NewSectionReader(c, 0, int64(c.Len())), data); err != nil {
			t.Errorf("%d bytes: %v", n, err)
		}
		c.Free()
	}
}

func TestReadConsumesOddSplits(t *testing.T) {
	f := defaultFixture(t)
	data := pattern(2, 5000)
	for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader} {
		c := f.filled(Options{}, data)
		got, err := io.ReadAll(wrap(c))
		if err != nil || !bytes.Equal(got, data) || c.Len() != 0 {
			t.Fatalf("ReadAll: %d bytes, %v, %d left", len(got), err, c.Len())
		}
		c.Free()
	}
}

func TestReadWriteAtBounds(t *testing.T) {
	f := defaultFixture(t)
	c := f.filled(Options{MaxLen: 1000}, pattern(8, 100))
	defer c.Free()
	if _, err := c.ReadAt(make([]byte, 1), -1); !errors.Is(err, ErrRange) {
		t.Fatalf("ReadAt(-1): %v", err)
	}
	if n, err := c.ReadAt(make([]byte, 1), 100); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end: %d, %v", n, err)
	}
	if n, err := c.ReadAt(nil, 100); n != 0 || err != nil {
		t.Fatalf("empty ReadAt at the end: %d, %v", n, err)
	}
	if _, err := c.WriteAt([]byte{1}, -1); !errors.Is(err, ErrRange) {
		t.Fatalf("WriteAt(-1): %v", err)
	}
	if _, err := c.WriteAt([]byte{1}, 1000); !errors.Is(err, ErrTooLong) {
		t.Fatalf("WriteAt past MaxLen: %v", err)
	}
	if _, err := c.WriteAt([]byte{1}, 1<<40); !errors.Is(err, ErrTooLong) {
		t.Fatalf("WriteAt far past MaxLen: %v", err)
	}
	if n, err := c.WriteAt(nil, 500); n != 0 || err != nil || c.Len() != 100 {
		t.Fatalf("empty WriteAt past the end: %d, %v, len %d", n, err, c.Len())
	}
	// A write past the end fills the gap with zeros.
	_, err := c.WriteAt([]byte{9}, 200)
	must(t, err)
	want := append(append(pattern(8, 100), make([]byte, 100)...), 9)
	checkView(t, f, c, want)
	if n, err := c.Write([]byte{1, 2}); n != 2 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	checkView(t, f, c, append(slices.Clone(want), 1, 2))
}
