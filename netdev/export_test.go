package netdev

import "github.com/pondfs/pondfs/pond"

// What netdev's external tests (package netdev_test, which run ports on
// netdevtest's memory devices) need of the package's internals and of the
// helpers of its in-package tests.

var (
	NewTestPond = newTestPond
	NewPondOf   = newPondOf
	WaitFor     = waitFor
	WaitSeen    = waitSeen
	UDPFrame    = udpFrame
	Numbered    = numbered
	ChainBytes  = chainBytes
	TakeAll     = takeAll
	WantIs      = wantIs
	Hello       = hello

	Ether  = ether
	VLAN   = vlan
	ARP    = arp
	IPv4   = ipv4
	IPv6   = ipv6
	UDP    = udp
	TCP    = tcp
	ICMP   = icmp
	Padded = padded
)

const (
	EtherTypeARP  = etherTypeARP
	EtherTypeIPv4 = etherTypeIPv4
	EtherTypeIPv6 = etherTypeIPv6
	EtherTypeVLAN = etherTypeVLAN
	IPProtoICMP   = ipProtoICMP
	IPProtoICMPv6 = ipProtoICMPv6
	IPProtoTCP    = ipProtoTCP
)

// LogBuf is logBuf, for a port's log a test reads.
type LogBuf = logBuf

// Count is how many logged lines contain s.
func (l *logBuf) Count(s string) int { return l.count(s) }

// NewManualPort is a port whose receive goroutine never runs: the test
// calls ReceiveOne itself, so that it knows what has been received.
func NewManualPort(p *pond.Pond, dev Device, cfg Config) (*Port, error) {
	return newPort(p, dev, cfg)
}

// ReceiveOne receives one frame, as the receive goroutine would.
func (p *Port) ReceiveOne() error { return p.receiveOne() }

// ReceiverDone does what the receive goroutine does as it ends.
func (p *Port) ReceiverDone() { p.receiverDone() }

// Capacity is how many frames the queue holds.
func (p *Port) Capacity() int { return p.capacity }

// StagedSize is the size of the first buffer staged for the next frame.
func (p *Port) StagedSize() int { return p.staged[0].Size() }

// MadeChains reports, for each queued frame, whether its chain was made.
func (p *Port) MadeChains() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var made []bool
	for i := range p.q.n {
		f := p.q.at(i)
		f.mu.Lock()
		made = append(made, f.c != nil)
		f.mu.Unlock()
	}
	return made
}

// LastSeq is the sequence number of the newest frame queued.
func (p *Port) LastSeq() uint64 { return p.seq }

// The ring layout's fields, for the tests' own ring program to check
// against what the ring file says.
const (
	RingMagic       = ringMagic
	RingVersion     = ringVersion
	RingMagicOff    = ringMagicOff
	RingVersionOff  = ringVersionOff
	RingProducerOff = ringProducerOff
	RingConsumerOff = ringConsumerOff
	RingDescOff     = ringDescOff
	RingDescSize    = ringDescSize
	RingDescAddrOff = ringDescAddrOff
	RingDescLenOff  = ringDescLenOff

	// DefaultRingSlots and TxPublishEvery, for a test that watches a
	// kick publish its progress.
	DefaultRingSlots = defaultRingSlots
	TxPublishEvery   = txPublishEvery
)

// PondOf is the pond the port allocates from.
func (p *Port) PondOf() *pond.Pond { return p.pond }
