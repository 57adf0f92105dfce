package main

import (
	"fmt"
	"net"
	"os"
)

// notify sends state ("READY=1", "STOPPING=1") to the service manager
// when NOTIFY_SOCKET names one (systemd's Type=notify), and does nothing
// otherwise. An address that starts with @ is abstract; Go's net package
// maps it.
func notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify %s: %w", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify %s: %w", addr, err)
	}
	return nil
}
