package netdev

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRxQueueModel runs random pushes, pops and removals on a small ring
// (so it wraps often) against a plain slice.
func TestRxQueueModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := newRxQueue(5)
	var model []uint64
	seq := uint64(0)
	for step := range 5000 {
		switch op := rng.IntN(3); {
		case op == 0 && !q.full():
			seq++
			f := q.newFrame()
			f.seq = seq
			q.pushBack(f)
			model = append(model, seq)
		case op == 1 && q.n > 0:
			f := q.popFront()
			if f.seq != model[0] {
				t.Fatalf("step %d: popFront %d, want %d", step, f.seq, model[0])
			}
			model = model[1:]
			q.recycle(f)
		case op == 2 && q.n > 0:
			want := model[rng.IntN(len(model))]
			i := q.find(want)
			if i < 0 {
				t.Fatalf("step %d: find(%d) missed; model %v", step, want, model)
			}
			if f := q.removeAt(i); f.seq != want {
				t.Fatalf("step %d: removeAt(%d) took %d, want %d", step, i, f.seq, want)
			}
			model = slices.DeleteFunc(model, func(s uint64) bool { return s == want })
		}
		var got []uint64
		for i := range q.n {
			got = append(got, q.at(i).seq)
		}
		if !slices.Equal(got, model) {
			t.Fatalf("step %d: queue %v, want %v", step, got, model)
		}
		if q.find(seq+1) >= 0 || q.find(0) >= 0 {
			t.Fatalf("step %d: found a frame never queued", step)
		}
	}
}
