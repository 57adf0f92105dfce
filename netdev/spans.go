package netdev

// spans are a frame's decoded layers as the receive path keeps them until
// the frame is made a chain: a protocol number and two 32-bit bounds each,
// 12 bytes and no pointer, where a Layer takes 32 bytes with a string. The
// receiver decodes every frame, and a queued frame holds its layers, so
// this is what each frame writes and each queued frame keeps.
type spans struct {
	s [MaxLayers]span
	n int
}

// span is one layer of spans: a Layer with its Proto as a proto. A frame
// is at most MaxFrameLimit bytes, so its bounds fit 32 bits.
type span struct {
	off, n uint32
	proto  proto
}

// proto is a layer's protocol as a number: an index into protoNames.
type proto uint8

const (
	protoNone proto = iota
	protoEthernet
	protoVLAN
	protoARP
	protoIPv4
	protoIPv6
	protoICMP
	protoICMPv6
	protoUDP
	protoTCP
	protoPayload
)

// protoNames are the Proto names of the protos, in their order.
var protoNames = [...]string{
	protoNone: "", protoEthernet: ProtoEthernet, protoVLAN: ProtoVLAN, protoARP: ProtoARP,
	protoIPv4: ProtoIPv4, protoIPv6: ProtoIPv6, protoICMP: ProtoICMP, protoICMPv6: ProtoICMPv6,
	protoUDP: ProtoUDP, protoTCP: ProtoTCP, protoPayload: ProtoPayload,
}

func (p proto) String() string { return protoNames[p] }

// add appends a layer; decoding never adds more than MaxLayers.
func (d *spans) add(p proto, off, n int) {
	d.s[d.n] = span{uint32(off), uint32(n), p}
	d.n++
}

// layers are d's layers.
func (d *spans) layers() []span { return d.s[:d.n] }

// appendTo appends d's layers to dst as Layers and returns dst.
func (d *spans) appendTo(dst []Layer) []Layer {
	for _, s := range d.layers() {
		dst = append(dst, Layer{s.proto.String(), int(s.off), int(s.n)})
	}
	return dst
}
