package netdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// ErrPcapFormat reports a stream that is not a classic pcap stream of Ethernet frames this
// package accepts: a bad header, a record too large, or a stream cut short.
var ErrPcapFormat = errors.New("netdev: bad pcap stream")

// Sizes of the two headers of the classic libpcap format: one file header opens the stream,
// and a record header precedes each record's captured bytes.
const (
	PcapFileHeaderLen   = 24
	PcapRecordHeaderLen = 16
)

const (
	pcapMagicMicro   = 0xa1b2c3d4
	pcapMagicNano    = 0xa1b23c4d
	pcapVersionMajor = 2
	pcapVersionMinor = 4
	linkTypeEthernet = 1
)

// AppendPcapFileHeader appends the file header of a stream of Ethernet frames with
// microsecond timestamps, in little-endian (the byte order readers find most often), whose
// records hold at most snaplen bytes each. A snaplen of 0 means no limit, as libpcap reads it.
func AppendPcapFileHeader(dst []byte, snaplen uint32) []byte {
	le := binary.LittleEndian
	dst = le.AppendUint32(dst, pcapMagicMicro)
	dst = le.AppendUint16(dst, pcapVersionMajor)
	dst = le.AppendUint16(dst, pcapVersionMinor)
	dst = le.AppendUint32(dst, 0) // thiszone: timestamps are UTC
	dst = le.AppendUint32(dst, 0) // sigfigs: every writer leaves it 0
	dst = le.AppendUint32(dst, snaplen)
	return le.AppendUint32(dst, linkTypeEthernet)
}

// AppendPcapRecordHeader appends the header of a record that holds capLen bytes of a frame
// of origLen bytes, in the format AppendPcapFileHeader announces. With dst a slice of a
// caller's [PcapRecordHeaderLen]byte it allocates nothing, so a record can be sent as two
// iovecs: this header and the frame's own buffers.
func AppendPcapRecordHeader(dst []byte, ts time.Time, capLen, origLen int) []byte {
	le := binary.LittleEndian
	dst = le.AppendUint32(dst, uint32(ts.Unix()))
	dst = le.AppendUint32(dst, uint32(ts.Nanosecond()/int(time.Microsecond)))
	dst = le.AppendUint32(dst, uint32(capLen))
	return le.AppendUint32(dst, uint32(origLen))
}

// PcapWriter writes a pcap stream of Ethernet frames to an io.Writer. It is not safe for
// concurrent use.
type PcapWriter struct {
	w       io.Writer
	snaplen int
	buf     []byte // one record, reused: each record reaches w in a single Write
}

// NewPcapWriter writes the file header to w and returns a writer of records whose captured
// bytes are cut to snaplen (0: never cut).
func NewPcapWriter(w io.Writer, snaplen uint32) (*PcapWriter, error) {
	if _, err := w.Write(AppendPcapFileHeader(nil, snaplen)); err != nil {
		return nil, fmt.Errorf("netdev: pcap file header: %w", err)
	}
	return &PcapWriter{w: w, snaplen: int(snaplen)}, nil
}

// WritePacket writes one record of data, seen at ts, cut to the writer's snaplen. origLen is
// the frame's length on the wire; a value below len(data) is taken as len(data), since a
// record cannot hold more than the frame had. The whole record goes to the underlying
// writer in one Write, so a reader on a pipe never sees a header without its bytes.
func (pw *PcapWriter) WritePacket(ts time.Time, data []byte, origLen int) error {
	origLen = max(origLen, len(data))
	if pw.snaplen > 0 && len(data) > pw.snaplen {
		data = data[:pw.snaplen]
	}
	pw.buf = AppendPcapRecordHeader(pw.buf[:0], ts, len(data), origLen)
	pw.buf = append(pw.buf, data...)
	if _, err := pw.w.Write(pw.buf); err != nil {
		return fmt.Errorf("netdev: pcap record: %w", err)
	}
	return nil
}

// pcapStage is what a PcapReader expects next.
type pcapStage int

const (
	stageFileHeader pcapStage = iota
	stageRecordHeader
	stageRecord
)

func (s pcapStage) String() string {
	switch s {
	case stageFileHeader:
		return "file header"
	case stageRecordHeader:
		return "record header"
	}
	return "record"
}

// PcapReader parses a pcap stream that arrives in pieces of any size, such as the writes to
// a file, handing out each record as soon as its last byte arrives. It accepts microsecond
// and nanosecond timestamps in either byte order, but only Ethernet frames. Timestamps are
// not reported: the reader exists to replay frames, not to study when they were seen.
//
// A PcapReader holds at most one partial header or record between calls, copying only what
// straddles two pieces. Once it returns an error it is done: every later call returns the
// same error, since the bytes after a failure cannot be trusted to start a record. It is not
// safe for concurrent use. The zero value is not usable; call NewPcapReader.
type PcapReader struct {
	maxRecord int
	order     binary.ByteOrder
	snaplen   uint32
	stage     pcapStage
	recordLen int    // of the record whose header was parsed, in stageRecord
	pending   []byte // the start of the next header or record, when a piece ended inside it
	records   int    // emitted so far, to name a failing record
	err       error
}

// NewPcapReader returns a reader that rejects records of more than maxRecord bytes (and
// of more than the snaplen the stream declares), so that buffering stays bounded whatever
// the stream says.
func NewPcapReader(maxRecord int) *PcapReader {
	return &PcapReader{maxRecord: maxRecord}
}

// Feed parses p, the next bytes of the stream, and calls emit with the captured bytes of
// each record completed by them, in order. rec is borrowed: it is valid only during the
// call. Records emitted before an error stay emitted. Feed returns an error wrapping
// ErrPcapFormat when the stream is malformed, or wrapping the error emit returned, which
// stops it at once.
func (r *PcapReader) Feed(p []byte, emit func(rec []byte) error) error {
	for r.err == nil && len(p) > 0 {
		var unit []byte
		var ok bool
		unit, p, ok = r.next(p)
		if ok {
			r.err = r.consume(unit, emit)
		}
	}
	return r.err
}

// End reports whether the stream, now that no more of it will come, ended cleanly: it
// returns an error wrapping ErrPcapFormat when the stream stops inside a header or a record,
// or the error Feed returned. A stream with no bytes at all is clean, as nothing in it was
// lost.
func (r *PcapReader) End() error {
	if r.err != nil {
		return r.err
	}
	if len(r.pending) > 0 || r.stage == stageRecord {
		return fmt.Errorf("%w: stream ends inside a %v", ErrPcapFormat, r.stage)
	}
	return nil
}

// next splits the next header or record off p. It uses p in place when p holds all of it;
// otherwise it gathers the bytes in r.pending, and ok is false until they are complete.
func (r *PcapReader) next(p []byte) (unit, rest []byte, ok bool) {
	need := r.need()
	if len(r.pending) == 0 {
		if len(p) >= need {
			return p[:need], p[need:], true
		}
		if cap(r.pending) < need {
			r.pending = make([]byte, 0, need)
		}
	}
	n := min(need-len(r.pending), len(p))
	r.pending = append(r.pending, p[:n]...)
	if len(r.pending) < need {
		return nil, nil, false
	}
	unit, r.pending = r.pending, r.pending[:0]
	return unit, p[n:], true
}

func (r *PcapReader) need() int {
	switch r.stage {
	case stageFileHeader:
		return PcapFileHeaderLen
	case stageRecordHeader:
		return PcapRecordHeaderLen
	}
	return r.recordLen
}

// consume acts on one complete header or record.
func (r *PcapReader) consume(unit []byte, emit func(rec []byte) error) error {
	switch r.stage {
	case stageFileHeader:
		return r.parseFileHeader(unit)
	case stageRecordHeader:
		return r.parseRecordHeader(unit, emit)
	}
	r.stage = stageRecordHeader
	return r.emit(unit, emit)
}

func (r *PcapReader) parseFileHeader(h []byte) error {
	switch magic := binary.LittleEndian.Uint32(h); magic {
	case pcapMagicMicro, pcapMagicNano:
		r.order = binary.LittleEndian
	case bits.ReverseBytes32(pcapMagicMicro), bits.ReverseBytes32(pcapMagicNano):
		r.order = binary.BigEndian
	default:
		return fmt.Errorf("%w: magic %#08x", ErrPcapFormat, magic)
	}
	if v := r.order.Uint16(h[4:]); v != pcapVersionMajor {
		return fmt.Errorf("%w: version %d, want %d", ErrPcapFormat, v, pcapVersionMajor)
	}
	if err := checkLinkType(r.order.Uint32(h[20:])); err != nil {
		return err
	}
	r.snaplen = r.order.Uint32(h[16:])
	r.stage = stageRecordHeader
	return nil
}

// The link-type field of a file header, as libpcap and Wireshark read it:
// the low 16 bits are the link type; bits 16 to 25 are reserved and must
// be zero; bit 26 says that bits 28 to 31 give the length of the frame
// check sequence each record ends with. Such a file is read as the link
// type it names, and its records are sent as they are, FCS and all.
const (
	linkTypeMask     = 0x0000ffff
	linkTypeReserved = 0x03ff0000
)

// checkLinkType accepts a link-type field that libpcap reads as Ethernet.
func checkLinkType(field uint32) error {
	switch {
	case field&linkTypeReserved != 0:
		return fmt.Errorf("%w: link-type field 0x%08x has reserved bits (16 to 25) set", ErrPcapFormat, field)
	case field&linkTypeMask != linkTypeEthernet:
		return fmt.Errorf("%w: link-type field 0x%08x: link type %d, want Ethernet (%d)",
			ErrPcapFormat, field, field&linkTypeMask, linkTypeEthernet)
	}
	return nil
}

// parseRecordHeader checks a record's size before any of its bytes are buffered. An empty
// record is emitted at once, as no byte will come to complete it.
func (r *PcapReader) parseRecordHeader(h []byte, emit func(rec []byte) error) error {
	n := r.order.Uint32(h[8:])
	if r.snaplen != 0 && n > r.snaplen {
		return fmt.Errorf("%w: record %d: %d bytes, over the snaplen of %d", ErrPcapFormat, r.records+1, n, r.snaplen)
	}
	if int64(n) > int64(r.maxRecord) {
		return fmt.Errorf("%w: record %d: %d bytes, over the limit of %d", ErrPcapFormat, r.records+1, n, r.maxRecord)
	}
	if n == 0 {
		return r.emit(h[:0], emit)
	}
	r.recordLen = int(n)
	r.stage = stageRecord
	return nil
}

func (r *PcapReader) emit(rec []byte, emit func(rec []byte) error) error {
	r.records++
	if err := emit(rec); err != nil {
		return fmt.Errorf("netdev: pcap record %d: %w", r.records, err)
	}
	return nil
}
