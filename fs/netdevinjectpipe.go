package fs

import "fmt"

// injectPipe overlaps the two halves of inject: while a goroutine sends
// the records of one write, the next write crosses FUSE and is parsed into
// the other of two batches. At most one batch is in flight, so an open
// holds at most two writes' worth of records, and records go out in the
// order they were written.
//
// The caller (one write or close at a time, under its handle's lock) takes
// a batch with next, fills it, waits for the batch in flight, and starts
// the new one; wait also ends the stream at close.
type injectPipe struct {
	batches  [2]injectBatch
	fill     int        // the batch next hands out; the other may be in flight
	inFlight bool       // a goroutine is sending batches[1-fill]
	done     chan error // its result
	records  int        // records started so far, to number a failing one
}

// injectBatch is the records of one write, copied back to back: the
// write's buffer is FUSE's and is reused once the write returns.
type injectBatch struct {
	data  []byte
	lens  []int
	first int // records of the stream before this batch
}

// next empties the batch that is not in flight and hands it out.
func (p *injectPipe) next() *injectBatch {
	b := &p.batches[p.fill]
	b.data, b.lens, b.first = b.data[:0], b.lens[:0], p.records
	return b
}

// start sends b, the batch next handed out, in a goroutine of its own.
// The caller has waited for the batch before it.
func (p *injectPipe) start(b *injectBatch, send func([]byte) error) {
	p.records += len(b.lens)
	if len(b.lens) == 0 {
		return
	}
	if p.done == nil {
		p.done = make(chan error, 1)
	}
	p.inFlight = true
	p.fill ^= 1
	go func() { p.done <- b.send(send) }()
}

// wait waits until the batch in flight, if any, has been sent, and
// returns the error of its first record the device refused.
func (p *injectPipe) wait() error {
	if !p.inFlight {
		return nil
	}
	p.inFlight = false
	return <-p.done
}

// add copies rec to the end of the batch.
func (b *injectBatch) add(rec []byte) {
	b.data = append(b.data, rec...)
	b.lens = append(b.lens, len(rec))
}

// send sends the batch's records in order with send and stops at the
// first it refuses, whose error it returns with the record's number.
func (b *injectBatch) send(send func([]byte) error) error {
	off := 0
	for i, n := range b.lens {
		if err := send(b.data[off : off+n]); err != nil {
			return fmt.Errorf("record %d: %w", b.first+i+1, err)
		}
		off += n
	}
	return nil
}
