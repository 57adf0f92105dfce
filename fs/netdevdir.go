package fs

import (
	"context"
	"fmt"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/pond"
	"github.com/pondfs/pondfs/pond/stats"
)

// Modes of a device's files: tx and inject only take frames, and capture
// shows every frame the device carries, so only the owner reads it.
const (
	modeWriteOnly = 0o200
	modeCapture   = 0o400
)

// device is one port as netdev/<if>/ shows it; the port keeps every
// counter.
type device struct {
	port *netdev.Port
}

// newDevices wraps ports, which must have names that can be directory
// entries, each once.
func newDevices(ports []*netdev.Port) ([]*device, error) {
	devices := make([]*device, 0, len(ports))
	seen := map[string]bool{}
	for _, p := range ports {
		if !validName(p.Name()) || seen[p.Name()] {
			return nil, fmt.Errorf("device name %q empty, unusable as a file name or given twice: %w", p.Name(), pond.ErrInvalid)
		}
		seen[p.Name()] = true
		devices = append(devices, &device{port: p})
	}
	return devices, nil
}

// addNetdev adds netdev/<if>/{stats,tx,inject,capture,next,filter,rx/,rings/} for every
// device. The devices are fixed when the tree is made, so this part of the
// skeleton is static; a device that goes away keeps its directory.
func (t *Tree) addNetdev(ctx context.Context, dir *fs.Inode) {
	for _, d := range t.devices {
		dd := addDir(ctx, dir, d.port.Name(), &dirNode{t: t})
		addFile(ctx, dd, "stats", &dynFile{t: t, produce: func() []byte { return renderStats(d.fields()) }})
		addFile(ctx, dd, "tx", &txFile{frameFile{t: t, port: d.port}})
		addFile(ctx, dd, "inject", &injectFile{frameFile{t: t, port: d.port}})
		addFile(ctx, dd, "capture", &captureFile{t: t, dev: d})
		addFile(ctx, dd, "next", &nextFile{t: t, port: d.port})
		addFile(ctx, dd, "filter", &filterFile{t: t, port: d.port})
		addDir(ctx, dd, "rx", newRxDir(t, d.port))
		rings := addDir(ctx, dd, "rings", &dirNode{t: t})
		addFile(ctx, rings, "rx", &ringFile{t: t, port: d.port, kind: netdev.RxRing})
		addFile(ctx, rings, "tx", &ringFile{t: t, port: d.port, kind: netdev.TxRing})
	}
}

// fields are the device's stats.
func (d *device) fields() []stats.Field { return d.port.Stats().Fields() }
