package fs

import (
	"fmt"
	"slices"

	"github.com/pondfs/pondfs/chain"
)

// sender is the Tree's send hook over devices: it transmits the chain it
// is lent on the device named ifName. Port.Send consumes the chain it is
// given and pops its layers, so it gets a clone, which shares every buffer
// (no copy), and the chain lent stays as it was, sent or not.
func sender(devices []*device) func(ifName string, c *chain.Chain) error {
	return func(ifName string, c *chain.Chain) error {
		i := slices.IndexFunc(devices, func(d *device) bool { return d.port.Name() == ifName })
		if i < 0 {
			return fmt.Errorf("send on %s: %w", ifName, errNoDevice)
		}
		clone, err := c.Clone()
		if err != nil {
			return fmt.Errorf("send on %s: %w", ifName, err)
		}
		devices[i].port.SyncLink()
		return devices[i].port.Send(clone)
	}
}
