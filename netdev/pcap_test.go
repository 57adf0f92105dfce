package netdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// pcapStream builds a stream by hand, so that byte orders, magics and headers the writer
// never produces can be tested.
func pcapStream(order binary.AppendByteOrder, magic, snaplen, linkType uint32, recs ...[]byte) []byte {
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, pcapVersionMajor)
	b = order.AppendUint16(b, pcapVersionMinor)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, snaplen)
	b = order.AppendUint32(b, linkType)
	for i, rec := range recs {
		b = order.AppendUint32(b, uint32(1700000000+i))
		b = order.AppendUint32(b, uint32(i))
		b = order.AppendUint32(b, uint32(len(rec)))
		b = order.AppendUint32(b, uint32(len(rec)+i))
		b = append(b, rec...)
	}
	return b
}

// testRecords are frames of the sizes that matter: empty, tiny, minimum, jumbo.
func testRecords() [][]byte {
	var recs [][]byte
	for _, n := range []int{60, 0, 1, 1514, 9018, 42} {
		rec := make([]byte, n)
		for i := range rec {
			rec[i] = byte(n + i)
		}
		recs = append(recs, rec)
	}
	return recs
}

// A chunker splits a stream into the pieces a reader is fed.
type chunker struct {
	name  string
	split func(stream []byte) [][]byte
}

func chunkers() []chunker {
	fromReader := func(wrap func(io.Reader) io.Reader) func([]byte) [][]byte {
		return func(stream []byte) [][]byte {
			var chunks [][]byte
			r := wrap(bytes.NewReader(stream))
			for {
				buf := make([]byte, 4096)
				n, err := r.Read(buf)
				if n > 0 {
					chunks = append(chunks, buf[:n])
				}
				if err != nil {
					return chunks
				}
			}
		}
	}
	return []chunker{
		{"whole", func(stream []byte) [][]byte { return [][]byte{stream} }},
		{"one byte", fromReader(iotest.OneByteReader)},
		{"halves", fromReader(iotest.HalfReader)},
		{"random", func(stream []byte) [][]byte {
			rng := rand.New(rand.NewPCG(1, 2))
			var chunks [][]byte
			for len(stream) > 0 {
				n := min(len(stream), 1+rng.IntN(40))
				chunks, stream = append(chunks, stream[:n]), stream[n:]
			}
			return chunks
		}},
	}
}

// feed feeds chunks to r until an error and returns copies of the records emitted.
func feed(r *PcapReader, chunks [][]byte) ([][]byte, error) {
	var recs [][]byte
	emit := func(rec []byte) error {
		recs = append(recs, slices.Clone(rec))
		return nil
	}
	for _, c := range chunks {
		if err := r.Feed(c, emit); err != nil {
			return recs, err
		}
	}
	return recs, nil
}

func equalRecords(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

func TestPcapRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, 65535)
	if err != nil {
		t.Fatal(err)
	}
	want := testRecords()
	for _, rec := range want {
		if err := w.WritePacket(time.Unix(1700000000, 123456789), rec, len(rec)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chunkers() {
		r := NewPcapReader(9018)
		got, err := feed(r, c.split(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !equalRecords(got, want) {
			t.Errorf("%s: read %d records, want %d as written", c.name, len(got), len(want))
		}
		if err := r.End(); err != nil {
			t.Errorf("%s: End: %v", c.name, err)
		}
	}
}

func TestPcapWriterFormat(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, 4)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(0x01020304, 5006007)
	if err := w.WritePacket(ts, []byte{1, 2, 3, 4, 5, 6}, 3); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(ts, []byte{7}, 60); err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0,
		4, 3, 2, 1, 0x8e, 0x13, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 1, 2, 3, 4, // cut to snaplen
		4, 3, 2, 1, 0x8e, 0x13, 0, 0, 1, 0, 0, 0, 60, 0, 0, 0, 7,
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("stream\n% x\nwant\n% x", buf.Bytes(), want)
	}
}

func TestPcapWriterError(t *testing.T) {
	broken := errors.New("broken")
	if _, err := NewPcapWriter(&limitWriter{err: broken}, 0); !errors.Is(err, broken) {
		t.Errorf("NewPcapWriter on a failing writer: %v, want %v wrapped", err, broken)
	}
	w, err := NewPcapWriter(&limitWriter{n: PcapFileHeaderLen, err: broken}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(time.Now(), []byte{1}, 1); !errors.Is(err, broken) {
		t.Errorf("WritePacket on a failing writer: %v, want %v wrapped", err, broken)
	}
}

// limitWriter accepts n bytes, then fails with err.
type limitWriter struct {
	n   int
	err error
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestAppendPcapRecordHeaderAllocs(t *testing.T) {
	var hdr [PcapRecordHeaderLen]byte
	ts := time.Now()
	allocs := testing.AllocsPerRun(100, func() {
		if len(AppendPcapRecordHeader(hdr[:0], ts, 60, 60)) != PcapRecordHeaderLen {
			t.Fatal("header of the wrong size")
		}
	})
	if allocs != 0 {
		t.Errorf("AppendPcapRecordHeader allocates %v times into a caller's array, want 0", allocs)
	}
}

func TestPcapReaderFormats(t *testing.T) {
	want := testRecords()
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, magic := range []uint32{pcapMagicMicro, pcapMagicNano} {
			stream := pcapStream(order, magic, 65535, linkTypeEthernet, want...)
			for _, c := range chunkers() {
				r := NewPcapReader(9018)
				got, err := feed(r, c.split(stream))
				if err != nil || !equalRecords(got, want) || r.End() != nil {
					t.Errorf("%v magic %#x, %s: %d records, %v; want %d", order, magic, c.name, len(got), err, len(want))
				}
			}
		}
	}
}

func TestPcapReaderSnaplenZero(t *testing.T) {
	want := testRecords()
	r := NewPcapReader(9018)
	got, err := feed(r, [][]byte{pcapStream(binary.LittleEndian, pcapMagicMicro, 0, linkTypeEthernet, want...)})
	if err != nil || !equalRecords(got, want) {
		t.Errorf("snaplen 0: %d records, %v; want %d", len(got), err, len(want))
	}
}

func TestPcapReaderErrors(t *testing.T) {
	le := binary.LittleEndian
	good := [][]byte{{1, 2, 3}, {4, 5}}
	valid := pcapStream(le, pcapMagicMicro, 100, linkTypeEthernet, good...)
	tests := []struct {
		name   string
		stream []byte
		want   int // records emitted before the error
	}{
		{"bad magic", pcapStream(le, 0xa1b2c3d5, 100, linkTypeEthernet, good...), 0},
		{"pcapng", pcapStream(le, 0x0a0d0d0a, 100, linkTypeEthernet, good...), 0},
		{"version", with(valid, 4, 1), 0},
		{"link type", pcapStream(le, pcapMagicMicro, 100, 101, good...), 0},
		{"link type other order", pcapStream(binary.BigEndian, pcapMagicMicro, 100, 1<<24, good...), 0},
		{"over snaplen", pcapStream(le, pcapMagicMicro, 3, linkTypeEthernet, append(good, make([]byte, 4))...), 2},
		{"over max", pcapStream(le, pcapMagicMicro, 0, linkTypeEthernet, append(good, make([]byte, 65), good[0])...), 2},
		{"length of 4 GiB", append(valid, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), 2},
	}
	for _, tt := range tests {
		for _, c := range chunkers() {
			r := NewPcapReader(64)
			got, err := feed(r, c.split(tt.stream))
			if !errors.Is(err, ErrPcapFormat) {
				t.Errorf("%s, %s: error %v, want ErrPcapFormat", tt.name, c.name, err)
			}
			if !equalRecords(got, good[:tt.want]) {
				t.Errorf("%s, %s: %d records before the error, want %d", tt.name, c.name, len(got), tt.want)
			}
			if again := r.Feed(valid, func([]byte) error { t.Fatal("record after an error"); return nil }); again != err {
				t.Errorf("%s, %s: Feed after error %v returned %v", tt.name, c.name, err, again)
			}
			if end := r.End(); end != err {
				t.Errorf("%s, %s: End after error %v returned %v", tt.name, c.name, err, end)
			}
		}
	}
}

// TestPcapReaderLinkTypeFlags: the link-type field is read as libpcap
// reads it. FCS bits above the link type are accepted and the records
// come out as they are; reserved bits or another link type are refused,
// naming the field's value.
func TestPcapReaderLinkTypeFlags(t *testing.T) {
	recs := [][]byte{{1, 2, 3, 4}, {5, 6}}
	for _, tc := range []struct {
		field uint32
		ok    bool
	}{
		{0x00000001, true},
		{0x30000001, true}, // FCS length 3, as tcpdump's tests carry
		{0x04000001, true}, // FCS length present, 0
		{0xf4000001, true},
		{0x48000001, true}, // bit 27 is not reserved
		{0x00010001, false},
		{0x02000001, false},
		{0x03ff0001, false},
		{0x00000071, false}, // Linux cooked capture
		{0x30000071, false},
		{0x00000000, false},
	} {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			got, err := feed(NewPcapReader(64), [][]byte{pcapStream(order.(binary.AppendByteOrder), pcapMagicMicro, 0, tc.field, recs...)})
			switch {
			case tc.ok && (err != nil || !equalRecords(got, recs)):
				t.Errorf("field %#08x (%v): %d records, error %v; want both records", tc.field, order, len(got), err)
			case !tc.ok && !errors.Is(err, ErrPcapFormat):
				t.Errorf("field %#08x (%v): error %v, want ErrPcapFormat", tc.field, order, err)
			case !tc.ok && !strings.Contains(err.Error(), fmt.Sprintf("0x%08x", tc.field)):
				t.Errorf("field %#08x: error %q does not name the field", tc.field, err)
			}
		}
	}
}

// TestPcapReaderTruncated ends a valid stream at every byte: End must complain unless the cut
// falls between records, and every record before the cut must have been emitted.
func TestPcapReaderTruncated(t *testing.T) {
	recs := [][]byte{{1, 2, 3}, {}, {4, 5, 6, 7}}
	stream := pcapStream(binary.BigEndian, pcapMagicNano, 100, linkTypeEthernet, recs...)
	boundaries := map[int]int{0: 0} // stream length -> records complete in it
	n := PcapFileHeaderLen
	boundaries[n] = 0
	for i, rec := range recs {
		n += PcapRecordHeaderLen + len(rec)
		boundaries[n] = i + 1
	}
	complete := 0
	for cut := range len(stream) + 1 {
		if c, ok := boundaries[cut]; ok {
			complete = c
		}
		r := NewPcapReader(100)
		got, err := feed(r, [][]byte{stream[:cut]})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if !equalRecords(got, recs[:complete]) {
			t.Errorf("cut at %d: %d records, want %d", cut, len(got), complete)
		}
		_, clean := boundaries[cut]
		if err := r.End(); clean && err != nil || !clean && !errors.Is(err, ErrPcapFormat) {
			t.Errorf("cut at %d: End %v, clean cut %v", cut, err, clean)
		}
	}
}

func TestPcapReaderEmitError(t *testing.T) {
	full := errors.New("queue full")
	stream := pcapStream(binary.LittleEndian, pcapMagicMicro, 100, linkTypeEthernet, []byte{1}, []byte{2}, []byte{3})
	for _, c := range chunkers() {
		r := NewPcapReader(100)
		var got []byte
		emit := func(rec []byte) error {
			got = append(got, rec...)
			if rec[0] == 2 {
				return full
			}
			return nil
		}
		var err error
		for _, chunk := range c.split(stream) {
			if err = r.Feed(chunk, emit); err != nil {
				break
			}
		}
		if !errors.Is(err, full) || errors.Is(err, ErrPcapFormat) {
			t.Errorf("%s: error %v, want %v wrapped", c.name, err, full)
		}
		if !bytes.Equal(got, []byte{1, 2}) {
			t.Errorf("%s: emitted %v, want the records up to the failing one", c.name, got)
		}
		if end := r.End(); end != err {
			t.Errorf("%s: End after error %v returned %v", c.name, err, end)
		}
	}
}

// TestPcapReaderBounded checks that however a stream is cut, the reader buffers no more than
// one header or one record.
func TestPcapReaderBounded(t *testing.T) {
	const maxRecord = 100
	recs := [][]byte{make([]byte, maxRecord), make([]byte, 3), make([]byte, maxRecord)}
	stream := pcapStream(binary.LittleEndian, pcapMagicMicro, 0, linkTypeEthernet, recs...)
	for _, c := range chunkers() {
		r := NewPcapReader(maxRecord)
		for _, chunk := range c.split(stream) {
			if err := r.Feed(chunk, func([]byte) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if cap(r.pending) > maxRecord {
				t.Fatalf("%s: reader holds %d bytes, want at most %d", c.name, cap(r.pending), maxRecord)
			}
		}
	}
}

func TestPcapReaderEmptyRecordAtEnd(t *testing.T) {
	r := NewPcapReader(100)
	got, err := feed(r, [][]byte{pcapStream(binary.LittleEndian, pcapMagicMicro, 100, linkTypeEthernet, nil)})
	if err != nil || len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("stream of one empty record: %v, %v", got, err)
	}
	if err := r.End(); err != nil {
		t.Errorf("End: %v", err)
	}
}

func FuzzPcapReader(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	recs := [][]byte{{1, 2, 3}, {}, make([]byte, 64)}
	f.Add(pcapStream(le, pcapMagicMicro, 100, linkTypeEthernet, recs...), []byte{1})
	f.Add(pcapStream(be, pcapMagicNano, 0, linkTypeEthernet, recs...), []byte{3, 17, 250})
	f.Add(pcapStream(be, pcapMagicMicro, 10, linkTypeEthernet, recs...), []byte{24, 16})
	f.Add(pcapStream(le, pcapMagicNano, 100, 101, recs...), []byte{})
	f.Add(pcapStream(le, pcapMagicMicro, 100, linkTypeEthernet, make([]byte, 65)), []byte{40})
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		const maxRecord = 64
		whole := NewPcapReader(maxRecord)
		want, wantErr := feed(whole, [][]byte{stream})
		for _, rec := range want {
			if len(rec) > maxRecord {
				t.Fatalf("emitted a %d-byte record, over the limit of %d", len(rec), maxRecord)
			}
		}

		var chunks [][]byte
		for i := 0; len(stream) > 0; i++ {
			n := len(stream)
			if len(cuts) > 0 {
				n = min(n, 1+int(cuts[i%len(cuts)]))
			}
			chunks, stream = append(chunks, stream[:n]), stream[n:]
		}
		pieces := NewPcapReader(maxRecord)
		got, gotErr := feed(pieces, chunks)
		if !equalRecords(got, want) || errors.Is(gotErr, ErrPcapFormat) != errors.Is(wantErr, ErrPcapFormat) {
			t.Fatalf("in pieces: %d records, %v; whole: %d records, %v", len(got), gotErr, len(want), wantErr)
		}
		if (pieces.End() == nil) != (whole.End() == nil) {
			t.Fatalf("End in pieces %v, whole %v", pieces.End(), whole.End())
		}
	})
}
