package netdev

import (
	"bytes"
	"errors"
	"log"
	"net"
	"testing"
	"time"

	"github.com/pondfs/pondfs/pond"
)

// testTAPFilter: the kernel takes every program tcpdump printed; with
// "udp port 9999" attached, a datagram to 9998 never reaches the port and
// is counted as filtered, one to 9999 does; a program the kernel refuses
// leaves the old filter working; removing the filter lets 9998 through.
func testTAPFilter(t *testing.T) {
	tap := openTAP(t, "ptest3")
	ip(t, "addr", "add", "10.78.0.1/24", "dev", "ptest3")
	peer := net.IPv4(10, 78, 0, 2).To4()
	ip(t, "neigh", "add", peer.String(), "lladdr", peerMAC.String(), "dev", "ptest3", "nud", "permanent")
	p, err := pond.New(pond.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Errorf("pond Close: %v", err)
		}
	}()
	port, err := NewPort(p, tap, Config{Log: log.New(&logBuf{}, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	progs := tcpdumpPrograms(t)
	for name, text := range progs {
		f, err := ParseFilter(text)
		if err != nil {
			t.Fatal(err)
		}
		if err := port.SetFilter(f); err != nil {
			t.Errorf("the kernel refused %s: %v", name, err)
		}
	}
	udp9999, _ := ParseFilter(progs["udp-port-9999"])
	if err := port.SetFilter(udp9999); err != nil {
		t.Fatal(err)
	}
	send := func(port int, payload string) {
		conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: peer, Port: port})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	filtered := port.Stats().RxFiltered
	send(9998, "not for us")
	send(9999, "for us")
	takeUntil(t, port, "for us", "not for us")
	waitFor(t, "rx_filtered to count the datagram to 9998", func() bool { return port.Stats().RxFiltered > filtered })

	bad, _ := ParseFilter([]byte("1\n0 0 0 0\n")) // a load with no return: the kernel refuses it
	if err := port.SetFilter(bad); !errors.Is(err, ErrBadFilter) {
		t.Errorf("SetFilter of a program without return: %v, want ErrBadFilter", err)
	}
	if !bytes.Equal(port.Filter().Text(), progs["udp-port-9999"]) {
		t.Errorf("filter after a refusal:\n%s", port.Filter().Text())
	}
	send(9998, "still not for us")
	send(9999, "still for us")
	takeUntil(t, port, "still for us", "still not for us")

	if err := port.SetFilter(nil); err != nil || port.Filter() != nil {
		t.Fatalf("removing the filter: %v, %v left", err, port.Filter())
	}
	send(9998, "now for us")
	takeUntil(t, port, "now for us", "")
}

// takeUntil waits for a queued frame whose payload is want, failing if
// one carrying never comes before it, and frees every frame up to it.
func takeUntil(t *testing.T, port *Port, want, never string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, seq := range port.Seqs(nil) {
			c, err := port.Take(seq)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := c.Layer(c.Depth())
			got := string(chainBytes(t, c, c.Depth()))
			c.Free()
			if info.Proto != ProtoPayload {
				continue
			}
			if never != "" && got == never {
				t.Fatalf("the filter let %q through", got)
			}
			if got == want {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no frame with %q", want)
}
