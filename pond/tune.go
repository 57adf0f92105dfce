package pond

import "fmt"

// Size is the pool's buffer size in bytes.
func (c *Pool) Size() int { return c.size }

// SetMin sets how many buffers the pool keeps through Shrink, growing it
// to that many at once.
func (c *Pool) SetMin(n int) error {
	if err := c.checkCount("min", n, 0, c.max.Load()); err != nil {
		return err
	}
	old := c.min.Swap(int64(n))
	if err := c.ensureMin(); err != nil {
		c.min.CompareAndSwap(int64(n), old)
		return fmt.Errorf("pool %d: set min %d: %w", c.size, n, err)
	}
	return nil
}

// SetMax sets the most buffers the pool may hold, at most as many as the
// arena's maximum holds. Lowering it below what the pool holds takes
// nothing away; the pool simply stops growing.
func (c *Pool) SetMax(n int) error {
	if err := c.checkCount("max", n, max(1, c.min.Load()), c.capacity()); err != nil {
		return err
	}
	c.max.Store(int64(n))
	c.pond.wake()
	return nil
}

// SetGrowBy sets how many buffers the pool adds when it runs dry.
func (c *Pool) SetGrowBy(n int) error {
	if err := c.checkCount("grow_by", n, 1, c.capacity()); err != nil {
		return err
	}
	c.growBy.Store(int64(n))
	return nil
}

// Shrink gives every slab whose buffers are all free back to the operating
// system (its pages are punched out of the arena, so resident memory goes
// down), keeping at least min buffers. It returns how many buffers went.
func (c *Pool) Shrink() (int, error) {
	n, err := c.shrink()
	if err != nil {
		return int(n), fmt.Errorf("shrink pool %d: %w", c.size, err)
	}
	return int(n), nil
}

// Slab is one region of the arena that holds a pool's buffers.
type Slab struct {
	Offset, Bytes int64
}

// Slabs lists the pool's regions of the arena in ascending offset.
func (c *Pool) Slabs() []Slab {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Slab, len(c.slabs))
	for i, s := range c.slabs {
		out[i] = Slab{Offset: s.off, Bytes: s.count * int64(c.size)}
	}
	return out
}
