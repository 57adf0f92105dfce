package chain

import (
	"slices"
)

// model is what a chain should hold, kept the plain way: its bytes in one
// slice and its layers as absolute ranges. The fuzz target applies every
// operation to both and compares.
type model struct {
	data   []byte
	layers []mlayer
	maxLen int
	maxBuf int
}

type mlayer struct {
	off, n int
	proto  string
	frags  []int
}

func newModel(maxLen, maxBuf int) *model {
	return &model{layers: []mlayer{{}}, maxLen: maxLen, maxBuf: maxBuf}
}

func (m *model) top() *mlayer { return &m.layers[len(m.layers)-1] }

func (m *model) clone() *model {
	n := &model{data: slices.Clone(m.data), layers: slices.Clone(m.layers), maxLen: m.maxLen, maxBuf: m.maxBuf}
	for i := range n.layers {
		n.layers[i].frags = slices.Clone(n.layers[i].frags)
	}
	return n
}

// growErr is the error growing through layer k by n bytes must give.
func (m *model) growErr(k, n int) error {
	if l := m.layers[k]; l.off != 0 || l.n != len(m.data) {
		return ErrNarrowView
	}
	if len(m.data)+n > m.maxLen {
		return ErrTooLong
	}
	return nil
}

// addBack appends p through layer k: layers 0..k take the bytes, and the
// last fragment of each.
func (m *model) addBack(k int, p []byte) {
	m.data = append(m.data, p...)
	for i := 0; i <= k; i++ {
		l := &m.layers[i]
		l.n += len(p)
		if len(l.frags) > 0 {
			l.frags[len(l.frags)-1] += len(p)
		}
	}
}

func (m *model) addFront(n int) {
	m.data = append(make([]byte, n), m.data...)
	for i := range m.layers {
		l := &m.layers[i]
		l.n += n
		if len(l.frags) > 0 {
			l.frags[0] += n
		}
	}
}

// overlap is how many of [a, a+k) lie in [lo, hi).
func overlap(a, k, lo, hi int) int { return max(0, min(a+k, hi)-max(a, lo)) }

// remove drops bytes [a, a+k): every range loses what it had of them, and
// moves down by what lay before it.
func (m *model) remove(a, k int) {
	m.data = slices.Delete(m.data, a, a+k)
	for i := range m.layers {
		l := &m.layers[i]
		at := l.off
		for j, n := range l.frags {
			l.frags[j] = n - overlap(a, k, at, at+n)
			at += n
		}
		l.n -= overlap(a, k, l.off, l.off+l.n)
		l.off -= overlap(a, k, 0, l.off)
	}
}

// write puts p at off of layer k, which may grow it.
func (m *model) write(k, off int, p []byte) error {
	l := m.layers[k]
	if end := off + len(p); len(p) > 0 && end > l.n {
		if err := m.growErr(k, end-l.n); err != nil {
			return err
		}
		m.addBack(k, make([]byte, end-l.n))
	}
	copy(m.data[m.layers[k].off+off:], p)
	return nil
}

func (m *model) push(off, n int, proto string) error {
	t := m.top()
	if off < 0 || n < 0 || off+n > t.n || len(m.layers) > MaxDepth {
		return ErrRange
	}
	m.layers = append(m.layers, mlayer{off: t.off + off, n: n, proto: proto})
	return nil
}

func (m *model) pop() error {
	if len(m.layers) == 1 {
		return ErrNoLayer
	}
	m.layers = m.layers[:len(m.layers)-1]
	return nil
}

// split moves view bytes n.. to a new bare model.
func (m *model) split(n int) (*model, error) {
	t := *m.top()
	if n < 0 || n > t.n {
		return nil, ErrRange
	}
	nm := newModel(m.maxLen, m.maxBuf)
	nm.data = slices.Clone(m.data[t.off+n : t.off+t.n])
	nm.layers[0].n = len(nm.data)
	m.remove(t.off+n, t.n-n)
	return nm, nil
}

func (m *model) concat(proto string, others []*model) error {
	total := 0
	for _, o := range others {
		total += len(o.data)
	}
	if err := m.growErr(len(m.layers)-1, total); err != nil {
		return err
	}
	if len(m.layers) > MaxDepth {
		return ErrRange
	}
	frags := []int{len(m.data)}
	for _, o := range others {
		frags = append(frags, len(o.data))
		m.addBack(len(m.layers)-1, o.data)
	}
	m.layers = append(m.layers, mlayer{n: len(m.data), proto: proto, frags: frags})
	return nil
}

func (m *model) splitFragments() ([]*model, error) {
	t := *m.top()
	if len(t.frags) == 0 {
		return nil, ErrNoLayer
	}
	m.layers = m.layers[:len(m.layers)-1]
	var out []*model
	at := t.off + len(m.data[t.off:t.off+t.n])
	for j := len(t.frags) - 1; j > 0; j-- {
		at -= t.frags[j]
		nm := newModel(m.maxLen, m.maxBuf)
		nm.data = slices.Clone(m.data[at : at+t.frags[j]])
		nm.layers[0].n = len(nm.data)
		m.remove(at, t.frags[j])
		out = append([]*model{nm}, out...)
	}
	return out, nil
}
