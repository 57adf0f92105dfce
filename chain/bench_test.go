package chain

import (
	"fmt"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

// benchFixture is a pond of the built-in shape with an account no
// benchmark reaches the limit of.
func benchFixture(b *testing.B) *fixture {
	b.Helper()
	return newFixture(b, pond.DefaultConfig().Classes, unlimited)
}

var sink []byte

// BenchmarkFrame1500 builds a 1500-byte frame in a new chain (with the
// default headroom) and frees it.
func BenchmarkFrame1500(b *testing.B) {
	f := benchFixture(b)
	frame := pattern(1, 1500)
	b.ReportAllocs()
	b.SetBytes(1500)
	for b.Loop() {
		c, err := New(f.p, f.acct, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Append(frame); err != nil {
			b.Fatal(err)
		}
		c.Free()
	}
}

// BenchmarkRefMakeCopy1500 is the reference for BenchmarkFrame1500: the
// same bytes in a fresh Go slice.
func BenchmarkRefMakeCopy1500(b *testing.B) {
	frame := pattern(1, 1500)
	b.ReportAllocs()
	b.SetBytes(1500)
	for b.Loop() {
		buf := make([]byte, len(frame))
		copy(buf, frame)
		sink = buf
	}
}

// BenchmarkRefCopyOnly1500 is a stricter reference: the copy alone, into
// memory already allocated, which is the least any way of holding the
// frame costs.
func BenchmarkRefCopyOnly1500(b *testing.B) {
	frame, buf := pattern(1, 1500), make([]byte, 1500)
	b.ReportAllocs()
	b.SetBytes(1500)
	for b.Loop() {
		copy(buf, frame)
	}
	sink = buf
}

// BenchmarkReceive1500 is the device's receive path: space for a frame,
// the frame read into it, committed, decoded into three layers, freed.
func BenchmarkReceive1500(b *testing.B) {
	f := benchFixture(b)
	frame := pattern(1, 1500)
	b.ReportAllocs()
	b.SetBytes(1500)
	for b.Loop() {
		c, _ := New(f.p, f.acct, Options{})
		space, err := c.AppendSpace(1514)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Commit(copy(space, frame))
		_ = c.SetProto("ethernet")
		_ = c.Push(14, c.Len()-14, "ipv4")
		_ = c.Push(20, c.Len()-20, "udp")
		_ = c.Push(8, c.Len()-8, "payload")
		c.Free()
	}
}

// BenchmarkPrependHeader puts a 14-byte header into the headroom. The
// chain has enough headroom for thousands of headers; it is reset, off
// the clock, before it runs out.
func BenchmarkPrependHeader(b *testing.B) {
	f := benchFixture(b)
	c := f.filled(Options{Headroom: 60000}, pattern(1, 100))
	defer c.Free()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n++; n == 4000 {
			b.StopTimer()
			must(b, c.TrimFront(c.Len()-100))
			n = 1
			b.StartTimer()
		}
		if err := c.Prepend(14); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrependTrimHeader pushes a 14-byte header into the headroom and
// takes it off again, as forwarding a frame does.
func BenchmarkPrependTrimHeader(b *testing.B) {
	f := benchFixture(b)
	c := f.filled(Options{}, pattern(1, 1500))
	defer c.Free()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Prepend(14); err != nil {
			b.Fatal(err)
		}
		if err := c.TrimFront(14); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSizes: a cost independent of the chain's length shows as equal
// figures for 1 KiB and 64 KiB (one buffer each: the chains take no
// headroom, which would put 64 KiB in two); 1 MiB (16 buffers) shows that
// the cost grows with segments, not bytes.
var benchSizes = []int{1 << 10, 64 << 10, 1 << 20}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// BenchmarkClone clones a chain and frees the clone.
func BenchmarkClone(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			f := benchFixture(b)
			c := f.filled(Options{Headroom: -1}, pattern(1, n))
			defer c.Free()
			b.ReportAllocs()
			for b.Loop() {
				cl, err := c.Clone()
				if err != nil {
					b.Fatal(err)
				}
				cl.Free()
			}
			b.ReportMetric(float64(c.NumSegments()), "segments")
		})
	}
}

// BenchmarkSplit splits a chain in the middle (sharing the buffer that
// straddles the cut) and appends the second half back, which joins the
// shared buffer's two segments again.
func BenchmarkSplit(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			f := benchFixture(b)
			c := f.filled(Options{Headroom: -1}, pattern(1, n))
			defer c.Free()
			b.ReportAllocs()
			for b.Loop() {
				nc, err := c.Split(n / 2)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.AppendChain(nc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(c.NumSegments()), "segments")
		})
	}
}

// BenchmarkRefCopy is the reference for Clone and Split: copying the
// bytes instead of sharing them.
func BenchmarkRefCopy(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			src := pattern(1, n)
			b.ReportAllocs()
			for b.Loop() {
				buf := make([]byte, n)
				copy(buf, src)
				sink = buf
			}
		})
	}
}
