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

func TestReadFromOddSplits(t *testing.T) {
	f := defaultFixture(t)
	data := pattern(3, 7000)
	for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader} {
		c := f.filled(Options{}, pattern(4, 10))
		n, err := c.ReadFrom(wrap(bytes.NewReader(data)))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("ReadFrom: %d, %v", n, err)
		}
		checkView(t, f, c, append(pattern(4, 10), data...))
		c.Free()
	}
}

// What ReadFrom read before its reader failed stays appended.
func TestReadFromKeepsProgress(t *testing.T) {
	f := defaultFixture(t)
	c := f.chain(Options{})
	defer c.Free()
	data := pattern(5, 3000)
	n, err := c.ReadFrom(iotest.TimeoutReader(bytes.NewReader(data)))
	if !errors.Is(err, iotest.ErrTimeout) || n != readChunk {
		t.Fatalf("ReadFrom: %d, %v; want %d and ErrTimeout", n, err, readChunk)
	}
	checkView(t, f, c, data[:n])
	if _, err := c.ReadFrom(iotest.ErrReader(io.ErrUnexpectedEOF)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFrom(ErrReader): %v", err)
	}
	checkView(t, f, c, data[:n])
}

func TestReadFromMaxLen(t *testing.T) {
	f := defaultFixture(t)
	for _, n := range []int{2999, 3000, 3001} {
		c := f.chain(Options{MaxLen: 3000})
		data := pattern(6, n)
		got, err := c.ReadFrom(iotest.HalfReader(bytes.NewReader(data)))
		switch {
		case n <= 3000 && (err != nil || got != int64(n)):
			t.Fatalf("ReadFrom %d bytes: %d, %v", n, got, err)
		case n > 3000 && (!errors.Is(err, ErrTooLong) || got != 3000):
			t.Fatalf("ReadFrom %d bytes: %d, %v; want 3000 and ErrTooLong", n, got, err)
		}
		checkView(t, f, c, data[:got])
		c.Free()
	}
}

// A writer that takes less than it is given leaves the rest in the chain.
func TestWriteToShortWriter(t *testing.T) {
	f := defaultFixture(t)
	data := pattern(7, 5000)
	c := f.filled(Options{}, data)
	defer c.Free()
	var out bytes.Buffer
	w := &limitedWriter{w: &out, n: 3000}
	n, err := c.WriteTo(w)
	if err == nil || n != 3000 || !bytes.Equal(out.Bytes(), data[:3000]) {
		t.Fatalf("WriteTo: %d, %v", n, err)
	}
	checkView(t, f, c, data[3000:])
	if n, err := c.WriteTo(iotest.TruncateWriter(io.Discard, 100)); err != nil || n != 2000 || c.Len() != 0 {
		t.Fatalf("WriteTo(TruncateWriter): %d, %v, %d left", n, err, c.Len())
	}
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		n, _ := l.w.Write(p[:l.n])
		l.n = 0
		return n, io.ErrShortWrite
	}
	l.n -= len(p)
	return l.w.Write(p)
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
