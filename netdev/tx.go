package netdev

import (
	"errors"
	"fmt"

	"github.com/pondfs/pondfs/chain"
)

// Send transmits all of c's bytes (layer 0, whatever layers are pushed)
// as one frame, with a single writev(2) of its segments: no copy. The
// frame must be EthHeaderLen to MaxFrame bytes long, else Send fails with
// ErrFrameSize. A device error is counted in tx_errors and returned (it
// wraps ErrDeviceGone once the device is removed, ErrClosed after Close).
//
// Send consumes c: it is freed whether or not the frame went out, except
// when c is nil or already freed (an error wrapping chain.ErrInvalid).
func (p *Port) Send(c *chain.Chain) error {
	if _, err := c.Layer(0); err != nil {
		return fmt.Errorf("send on %s: %w", p.Name(), err)
	}
	defer c.Free()
	for c.Depth() > 0 {
		if err := c.Pop(); err != nil {
			return fmt.Errorf("send on %s: %w", p.Name(), err)
		}
	}
	if p.tap != nil {
		var inline [maxInlineIovecs][]byte
		return p.transmitTAP(c.Iovecs(inline[:0]), c.ChainLen())
	}
	p.txMu.Lock()
	defer p.txMu.Unlock()
	p.txIov = c.Iovecs(p.txIov[:0])
	err := p.transmit(p.txIov, c.ChainLen())
	clear(p.txIov) // keep no slice of a buffer about to be freed
	return err
}

// SendBytes transmits frame as one frame, as Send does; frame is only
// borrowed for the call.
func (p *Port) SendBytes(frame []byte) error {
	if p.tap != nil {
		iov := [1][]byte{frame}
		return p.transmitTAP(iov[:], len(frame))
	}
	p.txMu.Lock()
	defer p.txMu.Unlock()
	p.txIov = append(p.txIov[:0], frame)
	err := p.transmit(p.txIov, len(frame))
	clear(p.txIov)
	return err
}

// CheckFrameLen reports whether the device takes a frame of n bytes now
// (EthHeaderLen to MaxFrame, with the MTU as the kernel last announced
// it), the check Send makes before it writes: nil,
// or an error wrapping ErrFrameSize. A caller that queues frames to send
// them later checks each as it queues it, so that a frame of a bad size
// is refused to whoever handed it over, not found out afterwards.
func (p *Port) CheckFrameLen(n int) error {
	if n > p.dev.MaxFrame() {
		p.SyncLink() // the MTU may have been raised an instant ago
	}
	if n < EthHeaderLen || n > p.dev.MaxFrame() {
		return fmt.Errorf("send on %s: %d bytes, not %d to %d: %w", p.Name(), n, EthHeaderLen, p.dev.MaxFrame(), ErrFrameSize)
	}
	return nil
}

// transmitTAP writes the n bytes of iov as one frame on the port's TAP.
// TAP.Writev, called directly rather than through Device, keeps nothing
// of iov, so the caller's iovec can live on its stack: a TAP port sends
// with no lock and no allocation.
func (p *Port) transmitTAP(iov [][]byte, n int) error {
	shown := p.showOutgoing(iov, n)
	_, err := p.tap.Writev(iov)
	return p.sent(iov, n, shown, err)
}

// transmit writes the n bytes of iov as one frame through the Device.
// The caller holds txMu, which guards the iovec it reuses.
func (p *Port) transmit(iov [][]byte, n int) error {
	shown := p.showOutgoing(iov, n)
	_, err := p.dev.Writev(iov)
	return p.sent(iov, n, shown, err)
}

// showOutgoing shows a frame about to be written to the captures and
// reports whether it did. It shows it before the write, as Linux shows an
// outgoing frame to its packet taps before the driver transmits it: the
// kernel answers a frame written to a TAP (an ICMP error, an ARP reply)
// within the write, and the receiver could otherwise put the answer in a
// capture ahead of the frame that caused it. A frame of a size the device
// will refuse is not shown; one larger than MaxFrame is shown after the
// write, if the device took it after all (its MTU grew).
func (p *Port) showOutgoing(iov [][]byte, n int) bool {
	if n < EthHeaderLen || n > p.dev.MaxFrame() {
		return false
	}
	p.publishv(iov, n)
	return true
}

// sent counts the frame of n bytes in iov that the device took (err nil)
// or refused, and shows a frame sent to the captures unless showOutgoing
// did already.
func (p *Port) sent(iov [][]byte, n int, shown bool, err error) error {
	if err != nil {
		if !errors.Is(err, ErrFrameSize) {
			p.stats.txErrors.Add(1)
		}
		return err
	}
	p.stats.txPackets.Add(1)
	p.stats.txBytes.Add(uint64(n))
	if !shown {
		p.publishv(iov, n)
	}
	return nil
}
