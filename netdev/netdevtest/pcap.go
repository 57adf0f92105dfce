package netdevtest

import "encoding/binary"

// PcapStream builds a classic pcap stream of frames, one record each,
// written independently of netdev's pcap code: in byte order bo, with
// nanosecond timestamps when nano, link type linkType (1 is Ethernet) and
// a snaplen of 65535. The caller owns the returned slice.
func PcapStream(bo binary.AppendByteOrder, nano bool, linkType uint32, frames ...[]byte) []byte {
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	size := 24
	for _, f := range frames {
		size += 16 + len(f)
	}
	s := bo.AppendUint32(make([]byte, 0, size), magic)
	s = bo.AppendUint16(s, 2) // version 2.4
	s = bo.AppendUint16(s, 4)
	s = bo.AppendUint32(s, 0) // UTC
	s = bo.AppendUint32(s, 0)
	s = bo.AppendUint32(s, 65535)
	s = bo.AppendUint32(s, linkType)
	for i, f := range frames {
		s = bo.AppendUint32(s, uint32(1700000000+i))
		s = bo.AppendUint32(s, 0)
		s = bo.AppendUint32(s, uint32(len(f)))
		s = bo.AppendUint32(s, uint32(len(f)))
		s = append(s, f...)
	}
	return s
}
