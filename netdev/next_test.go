package netdev_test

import (
	"context"
	"errors"
	"github.com/pondfs/pondfs/netdev"
	"io"
	"slices"
	"testing"
	"time"
)

// TestSeqsAfterCursor: a cursor sees every queued frame newer than it,
// oldest first; frames dropped or taken before it looked are skipped.
func TestSeqsAfterCursor(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{RxQueue: 4})
	ctx := t.Context()
	m.inject(t, netdev.Numbered(1), netdev.Numbered(2))
	netdev.WaitSeen(t, m.Port, 2)
	got, err := m.SeqsAfter(ctx, 0, nil)
	if err != nil || !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("SeqsAfter(0) = %v, %v; want [1 2]", got, err)
	}
	m.inject(t, netdev.Numbered(3), netdev.Numbered(4), netdev.Numbered(5), netdev.Numbered(6), netdev.Numbered(7))
	netdev.WaitSeen(t, m.Port, 7)
	c, err := m.Take(5)
	if err != nil {
		t.Fatal(err)
	}
	c.Free()
	got, err = m.SeqsAfter(ctx, 2, []uint64{99})
	if err != nil || !slices.Equal(got, []uint64{99, 4, 6, 7}) {
		t.Fatalf("SeqsAfter(2) = %v, %v; want [99 4 6 7]: 3 dropped, 5 taken", got, err)
	}
	netdev.TakeAll(t, m.Port)
}

// TestSeqsAfterWaits: with nothing newer queued, SeqsAfter blocks until a
// frame comes, ends with ctx, and reports io.EOF once the port stops.
func TestSeqsAfterWaits(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	m := newMemPort(t, p, netdev.Config{})
	type result struct {
		seqs []uint64
		err  error
	}
	res := make(chan result, 1)
	go func() {
		s, err := m.SeqsAfter(context.Background(), 0, nil)
		res <- result{s, err}
	}()
	select {
	case r := <-res:
		t.Fatalf("SeqsAfter returned %v, %v with nothing queued", r.seqs, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	m.inject(t, netdev.Numbered(1))
	if r := <-res; r.err != nil || !slices.Equal(r.seqs, []uint64{1}) {
		t.Fatalf("SeqsAfter = %v, %v; want [1]", r.seqs, r.err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s, err := m.SeqsAfter(ctx, 1, nil)
		res <- result{s, err}
	}()
	cancel()
	if r := <-res; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("SeqsAfter after cancel: %v, %v", r.seqs, r.err)
	}

	go func() {
		s, err := m.SeqsAfter(context.Background(), 1, nil)
		res <- result{s, err}
	}()
	netdev.TakeAll(t, m.Port)
	m.Close()
	if r := <-res; !errors.Is(r.err, io.EOF) {
		t.Fatalf("SeqsAfter on a closed port: %v, %v; want io.EOF", r.seqs, r.err)
	}
}
