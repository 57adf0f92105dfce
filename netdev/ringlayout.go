package netdev

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/pondfs/pondfs/pond"
	"github.com/pondfs/pondfs/pond/stats"
)

// A ring's header, in one pond buffer, version 1. Every field is
// little-endian and naturally aligned; offsets are from the header's
// start:
//
//	 0  u32 magic      ringMagic ("PRNG")                  pondd, at attach
//	 4  u16 version    ringVersion                         pondd, at attach
//	 6  u16 kind       0 receive, 1 transmit               pondd, at attach
//	 8  u32 slots      slot count, a power of two          pondd, at attach
//	12  u32 slot_size bytes of each slot's buffer          pondd, at attach
//	64  u32 producer   frames produced, ever (wraps)       rx: pondd; tx: program
//	128 u32 consumer   frames consumed, ever (wraps)       rx: program; tx: pondd
//	192 desc[slots], 16 bytes each, slot i = index & (slots-1):
//	     0 u64 addr    arena offset of the slot's buffer   pondd, at attach
//	     8 u32 len     the frame's length in the slot      rx: pondd; tx: program
//	    12 u32 (zero, reserved)
//
// The producer and consumer each sit alone in a 64-byte cache line, so
// the two sides never write the same line. pondd reads back only what
// the program writes (rx: consumer; tx: producer and len), each once per
// use, and trusts none of it; everything else it keeps to itself.
const (
	ringMagic        = 0x474e5250 // "PRNG" in little-endian bytes
	ringVersion      = 1
	ringMagicOff     = 0
	ringVersionOff   = 4
	ringKindOff      = 6
	ringSlotsOff     = 8
	ringSlotSizeOff  = 12
	ringProducerOff  = 64
	ringConsumerOff  = 128
	ringDescOff      = 192
	ringDescSize     = 16
	ringDescAddrOff  = 0
	ringDescLenOff   = 8
	defaultRingSlots = 2048
)

// ringHeaderBytes is the size of the header of a ring of slots slots.
func ringHeaderBytes(slots int) int { return ringDescOff + slots*ringDescSize }

// ringSlotsFor is the slot count of a ring in pd: defaultRingSlots, or
// the most (a power of two) whose header fits pd's largest buffer.
func ringSlotsFor(pd *pond.Pond) int {
	slots := defaultRingSlots
	for slots > 1 && ringHeaderBytes(slots) > pd.MaxBuf() {
		slots /= 2
	}
	return slots
}

// RingLayout is where a ring lies in the arena and where its fields are,
// as the ring file's first read gives it: enough for a program that maps
// the arena to use the ring without a number of its own.
type RingLayout struct {
	HeaderOffset int64 // arena offset of the header
	HeaderBytes  int   // the header's length, descriptors included
	Slots        int   // slot count, a power of two
	SlotSize     int   // bytes of each slot's buffer
}

// Fields lists the layout in the stats format: the ring's own numbers,
// then the offset of each field (header fields from the header's start,
// descriptor fields from the descriptor's).
func (l RingLayout) Fields() []stats.Field {
	return []stats.Field{
		{Name: "magic", Value: ringMagic}, {Name: "version", Value: ringVersion},
		{Name: "header_offset", Value: uint64(l.HeaderOffset)}, {Name: "header_bytes", Value: uint64(l.HeaderBytes)},
		{Name: "slots", Value: uint64(l.Slots)}, {Name: "slot_size", Value: uint64(l.SlotSize)},
		{Name: "magic_offset", Value: ringMagicOff}, {Name: "version_offset", Value: ringVersionOff},
		{Name: "kind_offset", Value: ringKindOff}, {Name: "slots_offset", Value: ringSlotsOff},
		{Name: "slot_size_offset", Value: ringSlotSizeOff},
		{Name: "producer_offset", Value: ringProducerOff}, {Name: "consumer_offset", Value: ringConsumerOff},
		{Name: "desc_offset", Value: ringDescOff}, {Name: "desc_size", Value: ringDescSize},
		{Name: "desc_addr_offset", Value: ringDescAddrOff}, {Name: "desc_len_offset", Value: ringDescLenOff},
	}
}

// nativeLE reports whether this machine stores integers little-endian,
// as the ring's fields are: then an atomic load or store of a field is
// the field itself.
var nativeLE = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// le32 turns a little-endian field's bits into its value and back.
func le32(v uint32) uint32 {
	if nativeLE {
		return v
	}
	return bits.ReverseBytes32(v)
}

// field32 is the u32 at off in mem, which the caller has checked is in
// range and 4-byte aligned (the header's buffer is 8-aligned in the
// arena).
func field32(mem []byte, off int) *uint32 {
	return (*uint32)(unsafe.Pointer(&mem[off : off+4][0]))
}

// load32 reads the u32 at p once, with acquire order: what the other
// side wrote before it stored this field is visible after.
func load32(p *uint32) uint32 { return le32(atomic.LoadUint32(p)) }

// store32 writes v at p with release order: what this side wrote before
// is visible to whoever loads the new value.
func store32(p *uint32, v uint32) { atomic.StoreUint32(p, le32(v)) }
