package chain_test

import (
	"fmt"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// A frame is read into space with headroom reserved, decoded into layers,
// and re-framed with a header prepended into the headroom.
func Example() {
	p, _ := pond.New(pond.DefaultConfig())
	defer p.Close()
	acct, _ := p.NewAccount("rx", 1<<20)

	c, _ := chain.New(p, acct, chain.Options{})
	space, _ := c.AppendSpace(1514)
	n := copy(space, "ETHERNET-HDR..IPV4-HEADER-20-BYTESUDP-HDR.hello")
	_ = c.Commit(n)
	_ = c.SetProto("ethernet")
	_ = c.Push(14, c.Len()-14, "ipv4")
	_ = c.Push(20, c.Len()-20, "udp")
	_ = c.Push(8, c.Len()-8, "payload")

	payload := make([]byte, c.Len())
	_, _ = c.ReadAt(payload, 0)
	for k := 0; k <= c.Depth(); k++ {
		l, _ := c.Layer(k)
		fmt.Printf("layer %d: %-8s offset %2d length %2d\n", k, l.Proto, l.Offset, l.Length)
	}
	fmt.Printf("payload %q\n", payload)

	for c.Depth() > 0 {
		_ = c.Pop()
	}
	_ = c.Prepend(4) // an outer header, from the headroom
	fmt.Println("headroom left:", c.Headroom(), "segments:", c.NumSegments())
	c.Free()
	// Output:
	// layer 0: ethernet offset  0 length 47
	// layer 1: ipv4     offset 14 length 33
	// layer 2: udp      offset 20 length 13
	// layer 3: payload  offset  8 length  5
	// payload "hello"
	// headroom left: 124 segments: 1
}
