package netdev

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// Frame builders. Each returns a fresh slice holding one header followed by its payload, so
// frames read inside out: ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(payload))).

func ether(etherType uint16, payload []byte) []byte {
	b := []byte{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2}
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, payload...)
}

// vlan is a tag as it follows the TPID: the TCI and then the inner EtherType.
func vlan(id, etherType uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, payload...)
}

func arp() []byte {
	b := []byte{0, 1, 0x08, 0x00, 6, 4, 0, 1}
	b = append(b, 0x02, 0, 0, 0, 0, 2, 10, 0, 0, 2) // sender
	b = append(b, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1)    // target
	return b
}

func ipv4(proto byte, payload []byte) []byte {
	return ipv4Opts(proto, nil, payload)
}

// ipv4Opts builds an IPv4 packet whose header carries opts (a multiple of 4 bytes).
func ipv4Opts(proto byte, opts, payload []byte) []byte {
	hlen := ipv4MinHeaderLen + len(opts)
	b := []byte{0x40 | byte(hlen/4), 0}
	b = binary.BigEndian.AppendUint16(b, uint16(hlen+len(payload)))
	b = append(b, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2)
	b = append(b, opts...)
	return append(b, payload...)
}

func ipv6(next byte, payload []byte) []byte {
	b := []byte{0x60, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	b = append(b, next, 64)
	b = append(b, make([]byte, 32)...) // addresses
	return append(b, payload...)
}

// ipv6Ext is a hop-by-hop, routing or destination options header of 8*(units+1) bytes.
func ipv6Ext(next byte, units int, payload []byte) []byte {
	b := []byte{next, byte(units)}
	b = append(b, make([]byte, 8*(units+1)-2)...)
	return append(b, payload...)
}

func ipv6Frag(next byte, offset uint16, payload []byte) []byte {
	b := []byte{next, 0}
	b = binary.BigEndian.AppendUint16(b, offset<<3|1)
	b = append(b, 0, 0, 0, 7)
	return append(b, payload...)
}

func udp(payload []byte) []byte {
	b := []byte{0x30, 0x39, 0x00, 0x35}
	b = binary.BigEndian.AppendUint16(b, uint16(udpHeaderLen+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}

// tcp builds a segment whose header is words 32-bit words long; words < 5 is malformed.
func tcp(words int, payload []byte) []byte {
	b := make([]byte, max(words*4, tcpMinHeaderLen))
	b[12] = byte(words << 4)
	return append(b, payload...)
}

func icmp(payload []byte) []byte {
	return append([]byte{8, 0, 0, 0, 0, 1, 0, 1}, payload...)
}

// padded extends a frame with zeros to the 60 bytes Ethernet requires before the FCS.
func padded(frame []byte) []byte {
	return append(frame, make([]byte, max(0, 60-len(frame)))...)
}

// with returns a copy of b with the bytes at off replaced by v.
func with(b []byte, off int, v ...byte) []byte {
	b = slices.Clone(b)
	copy(b[off:], v)
	return b
}

var hello = []byte("hello")

func TestDecode(t *testing.T) {
	udp4 := ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(hello)))
	tcp6 := ether(etherTypeIPv6, ipv6(ipProtoTCP, tcp(5, hello)))
	tests := []struct {
		name  string
		frame []byte
		want  []Layer
	}{
		{"empty", nil, nil},
		{"short of an ethernet header", make([]byte, 13), nil},
		{"bare ethernet", ether(etherTypeIPv4, nil), []Layer{{ProtoEthernet, 0, 14}}},
		{"unknown ethertype", padded(ether(0x88cc, hello)), []Layer{{ProtoEthernet, 0, 60}}},
		{"arp", padded(ether(etherTypeARP, arp())), []Layer{{ProtoEthernet, 0, 60}, {ProtoARP, 14, 28}}},
		{"arp truncated", ether(etherTypeARP, arp()[:27]), []Layer{{ProtoEthernet, 0, 41}}},
		{"arp fixed part truncated", ether(etherTypeARP, arp()[:7]), []Layer{{ProtoEthernet, 0, 21}}},
		{"ipv4 udp", udp4, []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}, {ProtoUDP, 34, 13}, {ProtoPayload, 42, 5}}},
		{"ipv4 udp padded", padded(udp4), []Layer{
			{ProtoEthernet, 0, 60}, {ProtoIPv4, 14, 33}, {ProtoUDP, 34, 13}, {ProtoPayload, 42, 5}}},
		{"ipv4 udp empty payload", ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(nil))), []Layer{
			{ProtoEthernet, 0, 42}, {ProtoIPv4, 14, 28}, {ProtoUDP, 34, 8}, {ProtoPayload, 42, 0}}},
		{"ipv4 udp length below header", with(udp4, 38, 0, 7), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}, {ProtoUDP, 34, 13}, {ProtoPayload, 42, 5}}},
		{"ipv4 udp length past packet", with(udp4, 38, 0, 14), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}, {ProtoUDP, 34, 13}, {ProtoPayload, 42, 5}}},
		{"ipv4 udp length short of packet", with(udp4, 38, 0, 10), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}, {ProtoUDP, 34, 10}, {ProtoPayload, 42, 2}}},
		{"ipv4 udp header truncated", ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(nil)[:7])), []Layer{
			{ProtoEthernet, 0, 41}, {ProtoIPv4, 14, 27}}},
		{"ipv4 total length past capture", with(udp4, 16, 0, 200), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}, {ProtoUDP, 34, 13}, {ProtoPayload, 42, 5}}},
		{"ipv4 total length cuts udp", with(udp4, 16, 0, 30), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 30}, {ProtoUDP, 34, 10}, {ProtoPayload, 42, 2}}},
		{"ipv4 total length below header", with(udp4, 16, 0, 19), []Layer{{ProtoEthernet, 0, 47}}},
		{"ipv4 bad version", with(udp4, 14, 0x65), []Layer{{ProtoEthernet, 0, 47}}},
		{"ipv4 ihl below 5", with(udp4, 14, 0x44), []Layer{{ProtoEthernet, 0, 47}}},
		{"ipv4 ihl past packet", with(udp4, 14, 0x4f), []Layer{{ProtoEthernet, 0, 47}}},
		{"ipv4 header truncated", ether(etherTypeIPv4, ipv4(ipProtoUDP, nil)[:19]), []Layer{{ProtoEthernet, 0, 33}}},
		{"ipv4 options", ether(etherTypeIPv4, ipv4Opts(ipProtoUDP, []byte{1, 1, 1, 0}, udp(hello))), []Layer{
			{ProtoEthernet, 0, 51}, {ProtoIPv4, 14, 37}, {ProtoUDP, 38, 13}, {ProtoPayload, 46, 5}}},
		{"ipv4 first fragment", with(udp4, 20, 0x20, 0), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}, {ProtoUDP, 34, 13}, {ProtoPayload, 42, 5}}},
		{"ipv4 later fragment", with(udp4, 20, 0x20, 0x01), []Layer{{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}}},
		{"ipv4 last fragment", with(udp4, 20, 0x10, 0), []Layer{{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}}},
		{"ipv4 unknown protocol", ether(etherTypeIPv4, ipv4(47, hello)), []Layer{
			{ProtoEthernet, 0, 39}, {ProtoIPv4, 14, 25}}},
		{"ipv4 icmp", ether(etherTypeIPv4, ipv4(ipProtoICMP, icmp(hello))), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}, {ProtoICMP, 34, 13}, {ProtoPayload, 42, 5}}},
		{"ipv4 icmp truncated", ether(etherTypeIPv4, ipv4(ipProtoICMP, icmp(nil)[:4])), []Layer{
			{ProtoEthernet, 0, 38}, {ProtoIPv4, 14, 24}}},
		{"ipv4 icmpv6 number", ether(etherTypeIPv4, ipv4(ipProtoICMPv6, icmp(hello))), []Layer{
			{ProtoEthernet, 0, 47}, {ProtoIPv4, 14, 33}}},
		{"ipv4 tcp", ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(5, hello))), []Layer{
			{ProtoEthernet, 0, 59}, {ProtoIPv4, 14, 45}, {ProtoTCP, 34, 25}, {ProtoPayload, 54, 5}}},
		{"ipv4 tcp options", ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(8, hello))), []Layer{
			{ProtoEthernet, 0, 71}, {ProtoIPv4, 14, 57}, {ProtoTCP, 34, 37}, {ProtoPayload, 66, 5}}},
		{"ipv4 tcp options fill segment", ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(15, nil))), []Layer{
			{ProtoEthernet, 0, 94}, {ProtoIPv4, 14, 80}, {ProtoTCP, 34, 60}, {ProtoPayload, 94, 0}}},
		{"ipv4 tcp data offset below 5", ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(4, hello))), []Layer{
			{ProtoEthernet, 0, 59}, {ProtoIPv4, 14, 45}}},
		{"ipv4 tcp header truncated", ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(5, nil)[:19])), []Layer{
			{ProtoEthernet, 0, 53}, {ProtoIPv4, 14, 39}}},
		{"ipv4 tcp options truncated", ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(8, nil)[:31])), []Layer{
			{ProtoEthernet, 0, 65}, {ProtoIPv4, 14, 51}}},
		{"ipv6 udp", ether(etherTypeIPv6, ipv6(ipProtoUDP, udp(hello))), []Layer{
			{ProtoEthernet, 0, 67}, {ProtoIPv6, 14, 53}, {ProtoUDP, 54, 13}, {ProtoPayload, 62, 5}}},
		{"ipv6 tcp", tcp6, []Layer{
			{ProtoEthernet, 0, 79}, {ProtoIPv6, 14, 65}, {ProtoTCP, 54, 25}, {ProtoPayload, 74, 5}}},
		{"ipv6 icmpv6", ether(etherTypeIPv6, ipv6(ipProtoICMPv6, icmp(hello))), []Layer{
			{ProtoEthernet, 0, 67}, {ProtoIPv6, 14, 53}, {ProtoICMPv6, 54, 13}, {ProtoPayload, 62, 5}}},
		{"ipv6 icmp number", ether(etherTypeIPv6, ipv6(ipProtoICMP, icmp(hello))), []Layer{
			{ProtoEthernet, 0, 67}, {ProtoIPv6, 14, 53}}},
		{"ipv6 no next header", ether(etherTypeIPv6, ipv6(59, nil)), []Layer{
			{ProtoEthernet, 0, 54}, {ProtoIPv6, 14, 40}}},
		{"ipv6 payload length below capture", padded(ether(etherTypeIPv6, ipv6(ipProtoUDP, nil))), []Layer{
			{ProtoEthernet, 0, 60}, {ProtoIPv6, 14, 40}}},
		{"ipv6 payload length past capture", with(tcp6, 18, 0xff), []Layer{
			{ProtoEthernet, 0, 79}, {ProtoIPv6, 14, 65}, {ProtoTCP, 54, 25}, {ProtoPayload, 74, 5}}},
		{"ipv6 payload length cuts tcp", with(tcp6, 18, 0, 22), []Layer{
			{ProtoEthernet, 0, 79}, {ProtoIPv6, 14, 62}, {ProtoTCP, 54, 22}, {ProtoPayload, 74, 2}}},
		{"ipv6 bad version", with(tcp6, 14, 0x40), []Layer{{ProtoEthernet, 0, 79}}},
		{"ipv6 header truncated", tcp6[:53], []Layer{{ProtoEthernet, 0, 53}}},
		{"ipv6 extension headers", ether(etherTypeIPv6, ipv6(ipProtoHopByHop,
			ipv6Ext(ipProtoDstOpts, 0,
				ipv6Ext(ipProtoRouting, 2,
					ipv6Ext(ipProtoFragment, 1,
						ipv6Frag(ipProtoUDP, 0, udp(hello))))))), []Layer{
			{ProtoEthernet, 0, 123}, {ProtoIPv6, 14, 109}, {ProtoUDP, 110, 13}, {ProtoPayload, 118, 5}}},
		{"ipv6 later fragment", ether(etherTypeIPv6, ipv6(ipProtoFragment, ipv6Frag(ipProtoUDP, 1, udp(hello)))), []Layer{
			{ProtoEthernet, 0, 75}, {ProtoIPv6, 14, 61}}},
		{"ipv6 extension truncated", ether(etherTypeIPv6, ipv6(ipProtoDstOpts, ipv6Ext(ipProtoUDP, 1, nil)[:15])), []Layer{
			{ProtoEthernet, 0, 69}, {ProtoIPv6, 14, 55}}},
		{"ipv6 extension below minimum", ether(etherTypeIPv6, ipv6(ipProtoDstOpts, ipv6Ext(ipProtoUDP, 0, nil)[:7])), []Layer{
			{ProtoEthernet, 0, 61}, {ProtoIPv6, 14, 47}}},
		{"ipv6 extension past payload length", with(ether(etherTypeIPv6, ipv6(ipProtoDstOpts, ipv6Ext(ipProtoUDP, 0, udp(nil)))), 18, 0, 7), []Layer{
			{ProtoEthernet, 0, 70}, {ProtoIPv6, 14, 47}}},
		{"ipv6 most extensions", ether(etherTypeIPv6, ipv6(ipProtoDstOpts, extChain(maxIPv6ExtHeaders, udp(hello)))), []Layer{
			{ProtoEthernet, 0, 195}, {ProtoIPv6, 14, 181}, {ProtoUDP, 182, 13}, {ProtoPayload, 190, 5}}},
		{"ipv6 too many extensions", ether(etherTypeIPv6, ipv6(ipProtoDstOpts, extChain(maxIPv6ExtHeaders+1, udp(hello)))), []Layer{
			{ProtoEthernet, 0, 211}, {ProtoIPv6, 14, 197}}},
		{"vlan", ether(etherTypeVLAN, vlan(7, etherTypeIPv4, ipv4(ipProtoUDP, udp(hello)))), []Layer{
			{ProtoEthernet, 0, 51}, {ProtoVLAN, 14, 37}, {ProtoIPv4, 18, 33}, {ProtoUDP, 38, 13}, {ProtoPayload, 46, 5}}},
		{"vlan arp", padded(ether(etherTypeVLAN, vlan(7, etherTypeARP, arp()))), []Layer{
			{ProtoEthernet, 0, 60}, {ProtoVLAN, 14, 46}, {ProtoARP, 18, 28}}},
		{"qinq", ether(etherTypeQinQ, vlan(100, etherTypeVLAN, vlan(7, etherTypeIPv6, ipv6(ipProtoICMPv6, icmp(hello))))), []Layer{
			{ProtoEthernet, 0, 75}, {ProtoVLAN, 14, 61}, {ProtoVLAN, 18, 57}, {ProtoIPv6, 22, 53},
			{ProtoICMPv6, 62, 13}, {ProtoPayload, 70, 5}}},
		{"vlan unknown inner", ether(etherTypeVLAN, vlan(7, 0x88cc, hello)), []Layer{
			{ProtoEthernet, 0, 23}, {ProtoVLAN, 14, 9}}},
		{"vlan truncated", ether(etherTypeVLAN, vlan(7, etherTypeIPv4, nil)[:3]), []Layer{{ProtoEthernet, 0, 17}}},
		{"vlan most tags", ether(etherTypeVLAN, tagStack(maxVLANTags, udp4[12:])), []Layer{
			{ProtoEthernet, 0, 63}, {ProtoVLAN, 14, 49}, {ProtoVLAN, 18, 45}, {ProtoVLAN, 22, 41}, {ProtoVLAN, 26, 37},
			{ProtoIPv4, 30, 33}, {ProtoUDP, 50, 13}, {ProtoPayload, 58, 5}}},
		{"vlan too many tags", ether(etherTypeVLAN, tagStack(maxVLANTags+1, udp4[12:])), []Layer{
			{ProtoEthernet, 0, 67}, {ProtoVLAN, 14, 53}, {ProtoVLAN, 18, 49}, {ProtoVLAN, 22, 45}, {ProtoVLAN, 26, 41}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decode(tt.frame, nil)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Decode:\n got %v\nwant %v", got, tt.want)
			}
			checkLayers(t, tt.frame, got)
		})
	}
}

// extChain is n destination-options headers of 16 bytes each, the last followed by UDP.
func extChain(n int, payload []byte) []byte {
	for i := range n {
		next := byte(ipProtoDstOpts)
		if i == 0 {
			next = ipProtoUDP
		}
		payload = ipv6Ext(next, 1, payload)
	}
	return payload
}

// tagStack is n VLAN tags (each after its TPID), followed by inner: an EtherType and its
// payload.
func tagStack(n int, inner []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, 7)
	for range n - 1 {
		b = binary.BigEndian.AppendUint16(b, etherTypeVLAN)
		b = binary.BigEndian.AppendUint16(b, 7)
	}
	return append(b, inner...)
}

func TestDecodePayload(t *testing.T) {
	frames := map[string][]byte{
		"ipv4 udp":    padded(ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(hello)))),
		"ipv4 tcp":    ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(6, hello))),
		"ipv4 icmp":   ether(etherTypeIPv4, ipv4(ipProtoICMP, icmp(hello))),
		"ipv6 udp":    ether(etherTypeIPv6, ipv6(ipProtoHopByHop, ipv6Ext(ipProtoUDP, 0, udp(hello)))),
		"ipv6 icmpv6": ether(etherTypeVLAN, vlan(1, etherTypeIPv6, ipv6(ipProtoICMPv6, icmp(hello)))),
	}
	for name, frame := range frames {
		layers := Decode(frame, nil)
		last := layers[len(layers)-1]
		if last.Proto != ProtoPayload {
			t.Errorf("%s: last layer %v, want payload", name, last)
			continue
		}
		if got := frame[last.Offset : last.Offset+last.Length]; !bytes.Equal(got, hello) {
			t.Errorf("%s: payload %q, want %q", name, got, hello)
		}
	}
}

// TestDecodeTruncated cuts valid frames at every length: decoding must never fail hard, and a
// longer prefix may only add layers, never lose or rename one.
func TestDecodeTruncated(t *testing.T) {
	frames := [][]byte{
		padded(ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(hello)))),
		ether(etherTypeIPv4, ipv4Opts(ipProtoTCP, []byte{1, 1, 1, 0}, tcp(7, hello))),
		ether(etherTypeQinQ, vlan(1, etherTypeVLAN, vlan(2, etherTypeIPv4, ipv4(ipProtoICMP, icmp(hello))))),
		ether(etherTypeIPv6, ipv6(ipProtoHopByHop, ipv6Ext(ipProtoFragment, 1, ipv6Frag(ipProtoTCP, 0, tcp(5, hello))))),
		padded(ether(etherTypeARP, arp())),
	}
	for _, full := range frames {
		want := Decode(full, nil)
		var prev []Layer
		for n := range len(full) + 1 {
			got := Decode(full[:n], nil)
			checkLayers(t, full[:n], got)
			if len(got) < len(prev) {
				t.Fatalf("frame cut to %d bytes has %d layers, one byte less had %d", n, len(got), len(prev))
			}
			for i, l := range got {
				if l.Proto != want[i].Proto || l.Offset != want[i].Offset {
					t.Fatalf("frame cut to %d bytes: layer %d is %v, whole frame has %v", n, i, l, want[i])
				}
			}
			prev = got
		}
	}
}

func TestDecodeAppends(t *testing.T) {
	before := Layer{"mark", 1, 2}
	got := Decode(ether(etherTypeARP, arp()), []Layer{before})
	want := []Layer{before, {ProtoEthernet, 0, 42}, {ProtoARP, 14, 28}}
	if !slices.Equal(got, want) {
		t.Errorf("Decode:\n got %v\nwant %v", got, want)
	}
}

func TestDecodeAllocs(t *testing.T) {
	frame := ether(etherTypeQinQ, tagStack(maxVLANTags, ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(hello)))[12:]))
	dst := make([]Layer, 0, MaxLayers)
	if n := len(Decode(frame, dst)); n != MaxLayers {
		t.Fatalf("frame decodes to %d layers, want the most, %d", n, MaxLayers)
	}
	if allocs := testing.AllocsPerRun(100, func() { Decode(frame, dst) }); allocs != 0 {
		t.Errorf("Decode allocates %v times per frame, want 0", allocs)
	}
}

// checkLayers asserts what Decode promises of any frame: layer 0 is the whole frame, each layer
// lies within the one before, names are known, and a payload layer comes last.
func checkLayers(t *testing.T, frame []byte, layers []Layer) {
	t.Helper()
	if len(frame) < ethHeaderLen {
		if len(layers) != 0 {
			t.Fatalf("%d-byte frame decoded to %v, want nothing", len(frame), layers)
		}
		return
	}
	if len(layers) == 0 || layers[0] != (Layer{ProtoEthernet, 0, len(frame)}) {
		t.Fatalf("%d-byte frame decoded to %v, want ethernet first", len(frame), layers)
	}
	known := []string{ProtoVLAN, ProtoARP, ProtoIPv4, ProtoIPv6, ProtoICMP, ProtoICMPv6, ProtoUDP, ProtoTCP, ProtoPayload}
	if len(layers) > MaxLayers {
		t.Fatalf("%d layers, more than MaxLayers", len(layers))
	}
	for i, l := range layers[1:] {
		prev := layers[i]
		if !slices.Contains(known, l.Proto) || prev.Proto == ProtoPayload {
			t.Fatalf("layer %d %v follows %v", i+1, l, prev)
		}
		if l.Length < 0 || l.Offset < prev.Offset || l.Offset+l.Length > prev.Offset+prev.Length {
			t.Fatalf("layer %d %v is not within %v", i+1, l, prev)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(padded(ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(hello)))))
	f.Add(ether(etherTypeIPv4, ipv4(ipProtoTCP, tcp(6, hello))))
	f.Add(ether(etherTypeIPv4, ipv4(ipProtoICMP, icmp(hello))))
	f.Add(padded(ether(etherTypeARP, arp())))
	f.Add(ether(etherTypeIPv6, ipv6(ipProtoHopByHop, ipv6Ext(ipProtoFragment, 0, ipv6Frag(ipProtoUDP, 0, udp(hello))))))
	f.Add(ether(etherTypeIPv6, ipv6(ipProtoICMPv6, icmp(hello))))
	f.Add(ether(etherTypeQinQ, vlan(1, etherTypeVLAN, vlan(2, etherTypeIPv6, ipv6(ipProtoTCP, tcp(5, hello))))))
	f.Fuzz(func(t *testing.T, frame []byte) {
		layers := Decode(frame, nil)
		checkLayers(t, frame, layers)
		if again := Decode(frame, make([]Layer, 0, MaxLayers)); !slices.Equal(again, layers) {
			t.Fatalf("Decode is not deterministic: %v then %v", layers, again)
		}
		checkHeadDecodes(t, frame, layers)
	})
}

// checkHeadDecodes decodes frame from every head a first buffer could
// hold: the layers are those of the whole frame, or fewer of them when
// the head cuts a header, never others.
func checkHeadDecodes(t *testing.T, frame []byte, whole []Layer) {
	t.Helper()
	for k := range len(frame) {
		got := decodeFrame(frame[:k], len(frame), nil)
		if len(got) > len(whole) || !slices.Equal(got, whole[:len(got)]) {
			t.Fatalf("head of %d bytes of %x: layers %v, want a prefix of %v", k, frame, got, whole)
		}
	}
}

// A frame spread over buffers decodes as it does whole once its headers
// lie in the first: the layers of a UDP datagram whose payload runs past
// the head still count to the frame's end.
func TestDecodeFromHead(t *testing.T) {
	frame := ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(bytes.Repeat([]byte{'p'}, 3000))))
	whole := Decode(frame, nil)
	if got := decodeFrame(frame[:64], len(frame), nil); !slices.Equal(got, whole) || len(got) != 4 {
		t.Errorf("layers from a 64-byte head %v, want %v", got, whole)
	}
	checkHeadDecodes(t, frame[:200], Decode(frame[:200], nil))
}

// FrameShort holds back every prefix of a frame whose header gives its
// length, and nothing else.
func TestFrameShort(t *testing.T) {
	ipv4 := udpFrame([]byte("payload"))
	vlan := append(append(append([]byte{}, ipv4[:12]...), 0x81, 0x00, 0x00, 0x07), ipv4[12:]...)
	arp := append(append([]byte{}, ipv4[:12]...), 0x08, 0x06)
	arp = append(arp, 0, 1, 8, 0, 6, 4, 0, 1) // Ethernet, IPv4, request
	arp = append(arp, make([]byte, 20)...)
	ipv6 := append(append([]byte{}, ipv4[:12]...), 0x86, 0xdd, 0x60, 0, 0, 0, 0, 4, 17, 64)
	ipv6 = append(append(ipv6, make([]byte, 32)...), 1, 2, 3, 4)
	other := append(append([]byte{}, ipv4[:12]...), 0x88, 0xb5, 1)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{{"ipv4", ipv4}, {"vlan ipv4", vlan}, {"arp", arp}, {"ipv6", ipv6}} {
		for n := range len(tc.frame) {
			if !FrameShort(tc.frame[:n]) {
				t.Errorf("%s: %d of %d bytes not short", tc.name, n, len(tc.frame))
			}
		}
		if FrameShort(tc.frame) || FrameShort(append(tc.frame, 0, 0)) {
			t.Errorf("%s: the whole frame, or it padded, is short", tc.name)
		}
	}
	if FrameShort(other) || !FrameShort(other[:13]) {
		t.Error("a frame of an EtherType with no length: short only below a header")
	}
}

// BenchmarkDecodeUDP is the decoding of a small UDP frame that a queued
// frame's first use pays, into layers on the stack.
func BenchmarkDecodeUDP(b *testing.B) {
	frame := padded(ether(etherTypeIPv4, ipv4(ipProtoUDP, udp(hello))))
	var buf [MaxLayers]Layer
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		Decode(frame, buf[:0])
	}
}
