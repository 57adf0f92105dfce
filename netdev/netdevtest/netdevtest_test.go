package netdevtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
)

// TestMain fails the binary if a pond a test left open still has a
// buffer out.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := pond.AuditAll(); err != nil {
		fmt.Fprintln(os.Stderr, "leak check:", err)
		code = 1
	}
	os.Exit(code)
}

var testUDP = UDP{
	DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
	Src: net.IPv4(10, 99, 0, 2), Dst: net.IPv4(10, 99, 0, 1),
	SrcPort: 12345, DstPort: 9999, Payload: []byte("hello"),
}

// TestUDPFrame checks the frame against netdev's decoder and the IPv4
// header checksum by the receiver's rule: the sum over the header is 0.
func TestUDPFrame(t *testing.T) {
	f := testUDP.Frame()
	want := []netdev.Layer{
		{Proto: netdev.ProtoEthernet, Offset: 0, Length: 47}, {Proto: netdev.ProtoIPv4, Offset: 14, Length: 33},
		{Proto: netdev.ProtoUDP, Offset: 34, Length: 13}, {Proto: netdev.ProtoPayload, Offset: 42, Length: 5},
	}
	if got := netdev.Decode(f, nil); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	if c := checksum(f[14:34]); c != 0 {
		t.Errorf("IPv4 header sums to %#x, want 0", ^c)
	}
	if !bytes.Equal(f[:6], testUDP.DstMAC) || !bytes.Equal(f[26:30], []byte{10, 99, 0, 2}) || binary.BigEndian.Uint16(f[36:]) != 9999 {
		t.Errorf("addresses or ports misplaced: % x", f)
	}
}

// TestPcapStream reads each byte order and timestamp size back with
// netdev's reader.
func TestPcapStream(t *testing.T) {
	frames := [][]byte{testUDP.Frame(), bytes.Repeat([]byte{7}, 60)}
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{false, true} {
			var got [][]byte
			r := netdev.NewPcapReader(netdev.MaxFrameLimit)
			err := r.Feed(PcapStream(bo, nano, 1, frames...), func(rec []byte) error {
				got = append(got, bytes.Clone(rec))
				return nil
			})
			if err != nil || r.End() != nil || len(got) != 2 || !bytes.Equal(got[0], frames[0]) || !bytes.Equal(got[1], frames[1]) {
				t.Errorf("%v nano=%v: %v %v, records % x", bo, nano, err, r.End(), got)
			}
		}
	}
}

// testMaxFrame is what the memory devices of the tests carry: an MTU of
// 1500 with the Ethernet header and a VLAN tag.
const testMaxFrame = 1518

// udpFrame is testUDP carrying payload.
func udpFrame(payload []byte) []byte {
	u := testUDP
	u.Payload = payload
	return u.Frame()
}

// numbered is a UDP frame whose payload names i.
func numbered(i int) []byte {
	return udpFrame([]byte{'#', byte(i >> 8), byte(i)})
}

func wantIs(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}
