package main

import (
	"fmt"
	"log"
	"sync"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
)

// devices are the ports of the --tap devices, which pondd owns: it opens
// them before it mounts, so that a TAP that cannot be had stops it before
// anything is mounted, and closes them when it stops.
type devices struct {
	ports []*netdev.Port
	once  sync.Once
}

// openDevices opens (creates, or attaches to) each TAP of cfg and starts a
// port on it. When one fails it closes those it opened, so a TAP it
// created goes away again, and returns why.
func openDevices(cfg config, p *pond.Pond, logger *log.Logger) (*devices, error) {
	d := &devices{}
	var opened []string // what to log once all are open: a failure is one line
	for _, name := range cfg.taps {
		port, how, err := openPort(name, cfg, p, logger)
		if err != nil {
			d.close(logger)
			return nil, err
		}
		d.ports = append(d.ports, port)
		opened = append(opened, fmt.Sprintf("%s TAP %s (max frame %d, rx queue %d, account %s limit %s)",
			how, name, port.MaxFrame(), cfg.rxQueue, port.Account().Name(), formatSize(port.Account().Limit())))
	}
	for i, port := range d.ports {
		logger.Print(opened[i])
		go watch(port, logger)
	}
	return d, nil
}

// openPort opens TAP name and starts its port; how says whether the TAP
// was created or attached to.
func openPort(name string, cfg config, p *pond.Pond, logger *log.Logger) (port *netdev.Port, how string, err error) {
	tap, err := netdev.OpenTAP(name)
	if err != nil {
		return nil, "", fmt.Errorf("--tap %s: %w", name, err)
	}
	port, err = netdev.NewPort(p, tap, netdev.Config{RxQueue: cfg.rxQueue, Log: logger})
	if err != nil {
		tap.Close()
		return nil, "", fmt.Errorf("--tap %s: %w", name, err)
	}
	if tap.Created() {
		return port, "created", nil
	}
	return port, "attached to", nil
}

// watch waits for port to stop receiving. When its device went away (ip
// link del) rather than being closed, it closes the port, so that readers
// of its capture see their streams end and its queued frames go back to
// the pond; its directory stays, with its stats.
func watch(port *netdev.Port, logger *log.Logger) {
	<-port.Done()
	if err := port.Err(); err != nil {
		logger.Printf("netdev/%s is down: %v; its queued frames are freed and its captures end; "+
			"stats stay, and tx, inject and send fail with EIO", port.Name(), err)
		port.Close()
	}
}

// close closes every port, once: frames still queued go back to the pond,
// captures end, and TAPs pondd created go away.
func (d *devices) close(logger *log.Logger) {
	d.once.Do(func() {
		for _, port := range d.ports {
			if err := port.Close(); err != nil {
				logger.Printf("close %s: %v", port.Name(), err)
			}
		}
	})
}
