package fs

import "encoding/binary"

// EtherTypes whose headers say how long the frame is, and the VLAN tags
// that may stand before them.
const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeVLAN = 0x8100
	etherTypeQinQ = 0x88a8
	etherTypeIPv6 = 0x86dd
	ethHeaderLen  = 14
	maxVLANTags   = 2
)

// frameShort reports whether b is certainly shorter than the frame it
// begins: shorter than an Ethernet header, or shorter than what the
// IPv4, IPv6 or ARP header in it says (after up to two VLAN tags),
// including a header not all there yet. A frame of another kind never
// counts as short: nothing in it says how long it is.
func frameShort(b []byte) bool {
	if len(b) < ethHeaderLen {
		return true
	}
	off, etherType := ethHeaderLen, binary.BigEndian.Uint16(b[ethHeaderLen-2:])
	for tags := 0; (etherType == etherTypeVLAN || etherType == etherTypeQinQ) && tags < maxVLANTags; tags++ {
		if len(b) < off+4 {
			return true
		}
		etherType = binary.BigEndian.Uint16(b[off+2:])
		off += 4
	}
	need, lenField := 0, 0 // the frame's length; where the header says it
	switch etherType {
	case etherTypeARP:
		need, lenField = off+28, off
	case etherTypeIPv4:
		lenField = off + 4
		if len(b) >= lenField {
			need = off + int(binary.BigEndian.Uint16(b[off+2:]))
		}
	case etherTypeIPv6:
		lenField = off + 6
		if len(b) >= lenField {
			need = off + 40 + int(binary.BigEndian.Uint16(b[off+4:]))
		}
	}
	return len(b) < lenField || len(b) < need
}
