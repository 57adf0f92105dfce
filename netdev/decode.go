package netdev

import "encoding/binary"

// Layer names as they appear in the proto line of a received frame's layer info file.
const (
	ProtoEthernet = "ethernet"
	ProtoVLAN     = "vlan"
	ProtoARP      = "arp"
	ProtoIPv4     = "ipv4"
	ProtoIPv6     = "ipv6"
	ProtoICMP     = "icmp"
	ProtoICMPv6   = "icmpv6"
	ProtoUDP      = "udp"
	ProtoTCP      = "tcp"
	ProtoPayload  = "payload"
)

// maxVLANTags bounds a tag stack: QinQ needs two, and a deeper stack is far more likely
// garbage than a real frame. Bounding it is also what bounds MaxLayers.
const maxVLANTags = 4

// MaxLayers is the most layers Decode appends for one frame: ethernet, the VLAN tags, a
// network header, a transport header and its payload. A dst with this much spare capacity
// lets Decode run without allocating.
const MaxLayers = 1 + maxVLANTags + 3

// maxIPv6ExtHeaders bounds the extension-header walk, so a crafted chain cannot make
// Decode do unbounded work on a frame.
const maxIPv6ExtHeaders = 8

const (
	ethHeaderLen     = 14
	vlanTagLen       = 4 // TCI and the inner EtherType; the TPID sits in the outer EtherType
	arpFixedLen      = 8
	ipv4MinHeaderLen = 20
	ipv6HeaderLen    = 40
	ipv6FragLen      = 8
	udpHeaderLen     = 8
	tcpMinHeaderLen  = 20
	icmpHeaderLen    = 8
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeVLAN = 0x8100
	etherTypeQinQ = 0x88a8
	etherTypeIPv6 = 0x86dd
)

const (
	ipProtoHopByHop = 0
	ipProtoICMP     = 1
	ipProtoTCP      = 6
	ipProtoUDP      = 17
	ipProtoRouting  = 43
	ipProtoFragment = 44
	ipProtoICMPv6   = 58
	ipProtoDstOpts  = 60
)

// Layer is one decoded header: the Length bytes from Offset start with a Proto header and
// run to the end of what that protocol covers (an IPv4 layer ends where the IPv4 total
// length says, not at the frame's padding); a payload layer is the bytes a transport header
// carries. Offset is from the start of the frame, and each layer lies within the one before
// it, so layer k can be pushed as a narrower view of layer k-1.
type Layer struct {
	Proto  string
	Offset int
	Length int
}

// Decode appends to dst the layers found in frame and returns dst. Layer 0 is the whole
// frame (ethernet); a frame too short for an Ethernet header yields no layer at all. Decoding
// stops quietly at the first header that is truncated, malformed or not understood, keeping
// the layers before it: a frame is never rejected for what Decode cannot read. After a UDP,
// TCP, ICMP or ICMPv6 header a last payload layer follows, possibly empty.
//
// Decode only reads frame. It allocates nothing when dst has MaxLayers spare capacity, which
// is why it appends rather than returns a fresh slice: a frame's first use calls it.
func Decode(frame []byte, dst []Layer) []Layer {
	return decodeFrame(frame, len(frame), dst)
}

// decodeFrame is Decode of an n-byte frame of which head holds the start:
// all of it, or as much as the first of the buffers it was read into
// holds. Headers are read from head, and one that head does not hold
// stops the decoding as a truncated one would; lengths count to n. So a
// frame spread over buffers decodes as it would whole, as long as its
// headers lie in the first.
func decodeFrame(head []byte, n int, dst []Layer) []Layer {
	head = head[:min(len(head), n)]
	if n < ethHeaderLen || len(head) < ethHeaderLen {
		return dst
	}
	dst = append(dst, Layer{ProtoEthernet, 0, n})
	etherType := be16(head[ethHeaderLen-2:])
	off := ethHeaderLen
	for tags := 0; isVLAN(etherType) && tags < maxVLANTags; tags++ {
		if len(head)-off < vlanTagLen {
			return dst
		}
		dst = append(dst, Layer{ProtoVLAN, off, n - off})
		etherType = be16(head[off+2:])
		off += vlanTagLen
	}
	switch etherType {
	case etherTypeARP:
		return decodeARP(head[off:], n-off, off, dst)
	case etherTypeIPv4:
		return decodeIPv4(head[off:], n-off, off, dst)
	case etherTypeIPv6:
		return decodeIPv6(head[off:], n-off, off, dst)
	}
	return dst
}

func isVLAN(etherType uint16) bool {
	return etherType == etherTypeVLAN || etherType == etherTypeQinQ
}

// The decoders below each take the packet at base in the frame: p holds
// its start (len(p) <= n), n is how many bytes of the frame it has.

// decodeARP decodes an ARP packet. Its length comes from the address sizes
// it declares, so Ethernet padding stays out of it.
func decodeARP(p []byte, n, base int, dst []Layer) []Layer {
	if len(p) < arpFixedLen {
		return dst
	}
	size := arpFixedLen + 2*(int(p[4])+int(p[5]))
	if size > n {
		return dst
	}
	return append(dst, Layer{ProtoARP, base, size})
}

// decodeIPv4 decodes an IPv4 packet.
func decodeIPv4(p []byte, n, base int, dst []Layer) []Layer {
	if len(p) < ipv4MinHeaderLen || p[0]>>4 != 4 {
		return dst
	}
	hlen := int(p[0]&0x0f) * 4
	total := int(be16(p[2:]))
	if hlen < ipv4MinHeaderLen || hlen > len(p) || total < hlen {
		return dst
	}
	n = min(total, n)
	p = p[:min(n, len(p))]
	dst = append(dst, Layer{ProtoIPv4, base, n})
	if be16(p[6:])&0x1fff != 0 {
		return dst // only the first fragment carries the transport header
	}
	return decodeTransport(ipv4Transport(p[9]), p[hlen:], n-hlen, base+hlen, dst)
}

// decodeIPv6 decodes an IPv6 packet. Extension headers get no layer of
// their own: the transport layer starts after them.
func decodeIPv6(p []byte, n, base int, dst []Layer) []Layer {
	if len(p) < ipv6HeaderLen || p[0]>>4 != 6 {
		return dst
	}
	n = min(ipv6HeaderLen+int(be16(p[4:])), n)
	p = p[:min(n, len(p))]
	dst = append(dst, Layer{ProtoIPv6, base, n})
	next, k, ok := skipIPv6Extensions(p[6], p[ipv6HeaderLen:])
	if !ok {
		return dst
	}
	off := ipv6HeaderLen + k
	return decodeTransport(ipv6Transport(next), p[off:], n-off, base+off, dst)
}

// skipIPv6Extensions walks the extension headers at the start of p, the first of type next.
// It returns the protocol that follows them and their total length; ok is false when a
// header is truncated, the chain is too long, or the packet is a non-first fragment.
func skipIPv6Extensions(next byte, p []byte) (proto byte, n int, ok bool) {
	for i := 0; ; i++ {
		if !isIPv6Extension(next) {
			return next, n, true
		}
		rest := p[n:]
		if i == maxIPv6ExtHeaders || len(rest) < ipv6FragLen {
			return 0, 0, false // every extension header is at least 8 bytes
		}
		size := ipv6FragLen
		if next == ipProtoFragment {
			if be16(rest[2:])>>3 != 0 {
				return 0, 0, false
			}
		} else {
			size = (int(rest[1]) + 1) * 8
		}
		if size > len(rest) {
			return 0, 0, false
		}
		next, n = rest[0], n+size
	}
}

func isIPv6Extension(next byte) bool {
	switch next {
	case ipProtoHopByHop, ipProtoRouting, ipProtoFragment, ipProtoDstOpts:
		return true
	}
	return false
}

// ipv4Transport names the layer for an IPv4 protocol number; "" when Decode stops there.
func ipv4Transport(proto byte) string {
	switch proto {
	case ipProtoICMP:
		return ProtoICMP
	case ipProtoTCP:
		return ProtoTCP
	case ipProtoUDP:
		return ProtoUDP
	}
	return ""
}

// ipv6Transport names the layer for an IPv6 next header; "" when Decode stops there.
func ipv6Transport(next byte) string {
	switch next {
	case ipProtoICMPv6:
		return ProtoICMPv6
	case ipProtoTCP:
		return ProtoTCP
	case ipProtoUDP:
		return ProtoUDP
	}
	return ""
}

// decodeTransport appends the transport layer named proto, and then its
// payload layer.
func decodeTransport(proto string, p []byte, n, base int, dst []Layer) []Layer {
	var hlen int
	switch proto {
	case ProtoUDP:
		p, n = udpExtent(p, n)
		hlen = udpHeaderLen
	case ProtoTCP:
		hlen = tcpHeaderLen(p)
	case ProtoICMP, ProtoICMPv6:
		hlen = icmpHeaderLen
	default:
		return dst
	}
	if hlen == 0 || hlen > len(p) {
		return dst
	}
	return append(dst, Layer{proto, base, n}, Layer{ProtoPayload, base + hlen, n - hlen})
}

// udpExtent trims the datagram to its own length when that length is
// plausible. An implausible one (below the header size, or past the IP
// packet) is ignored rather than trusted: the IP layer already bounds the
// datagram.
func udpExtent(p []byte, n int) ([]byte, int) {
	if len(p) < udpHeaderLen {
		return p, n
	}
	if size := int(be16(p[4:])); size >= udpHeaderLen && size <= n {
		return p[:min(size, len(p))], size
	}
	return p, n
}

// tcpHeaderLen returns the header length a TCP segment declares, or 0 when it is too short
// to say or declares less than the minimum header.
func tcpHeaderLen(p []byte) int {
	if len(p) < tcpMinHeaderLen {
		return 0
	}
	n := int(p[12]>>4) * 4
	if n < tcpMinHeaderLen {
		return 0
	}
	return n
}

func be16(b []byte) uint16 {
	return binary.BigEndian.Uint16(b)
}

// FrameShort reports whether b is certainly shorter than the frame it
// begins: shorter than an Ethernet header, or shorter than what the IPv4,
// IPv6 or ARP header in it says (after up to maxVLANTags VLAN tags),
// including a header not all there yet. A frame of another kind never
// counts as short: nothing in it says how long it is. A writer that gets
// frames in pieces (a shell's printf stops at each newline) holds a short
// one for the rest.
func FrameShort(b []byte) bool {
	if len(b) < ethHeaderLen {
		return true
	}
	off, etherType := ethHeaderLen, be16(b[ethHeaderLen-2:])
	for tags := 0; isVLAN(etherType) && tags < maxVLANTags; tags++ {
		if len(b) < off+vlanTagLen {
			return true
		}
		etherType = be16(b[off+2:])
		off += vlanTagLen
	}
	need, lenField := 0, 0 // the frame's length; where the header says it
	switch etherType {
	case etherTypeARP:
		lenField = off + 6
		if len(b) >= lenField {
			need = off + arpFixedLen + 2*(int(b[off+4])+int(b[off+5]))
		}
	case etherTypeIPv4:
		lenField = off + 4
		if len(b) >= lenField {
			need = off + int(be16(b[off+2:]))
		}
	case etherTypeIPv6:
		lenField = off + 6
		if len(b) >= lenField {
			need = off + ipv6HeaderLen + int(be16(b[off+4:]))
		}
	}
	return len(b) < lenField || len(b) < need
}
