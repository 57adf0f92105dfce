// Package netdevtest helps the tests of code that moves frames through
// netdev, as wireguard-go's tun/tuntest does for its devices: frames built
// byte by byte, independently of netdev's own header code, so that a test
// checks netdev against what it builds here rather than against itself.
package netdevtest

import (
	"encoding/binary"
	"net"
)

// UDP describes an Ethernet frame that carries an IPv4 packet holding one
// UDP datagram.
type UDP struct {
	DstMAC, SrcMAC   net.HardwareAddr
	Src, Dst         net.IP // IPv4 addresses
	SrcPort, DstPort uint16
	Payload          []byte
}

// Frame builds the frame: the Ethernet header, an IPv4 header with its
// checksum (TTL 64, no options, not fragmented), the UDP header with no
// checksum (which IPv4 allows) and the payload. The caller owns the
// returned slice.
func (u UDP) Frame() []byte {
	const ethLen, ipLen, udpLen = 14, 20, 8
	f := make([]byte, ethLen+ipLen+udpLen+len(u.Payload))
	copy(f[0:6], u.DstMAC)
	copy(f[6:12], u.SrcMAC)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[ethLen : ethLen+ipLen]
	ip[0] = 0x45 // version 4, 5 words
	binary.BigEndian.PutUint16(ip[2:], uint16(len(f)-ethLen))
	ip[8] = 64
	ip[9] = 17 // UDP
	copy(ip[12:16], u.Src.To4())
	copy(ip[16:20], u.Dst.To4())
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	udp := f[ethLen+ipLen:]
	binary.BigEndian.PutUint16(udp[0:], u.SrcPort)
	binary.BigEndian.PutUint16(udp[2:], u.DstPort)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	copy(udp[udpLen:], u.Payload)
	return f
}

// checksum is the Internet checksum of h, an even number of bytes.
func checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
