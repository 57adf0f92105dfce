package chain

import "testing"

// BenchmarkRefPrependCopy14 is the reference for BenchmarkPrependHeader:
// the least any prepend costs, zeroing the 14 bytes in front of bytes
// already in a buffer that has room before them.
func BenchmarkRefPrependCopy14(b *testing.B) {
	buf := make([]byte, 60100)
	off := len(buf) - 100
	b.ReportAllocs()
	for b.Loop() {
		if off < 14 {
			off = len(buf) - 100
		}
		off -= 14
		clear(buf[off : off+14])
	}
	sink = buf
}
