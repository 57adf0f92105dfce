package pond

import "fmt"

// Size is the pool's buffer size in bytes.
func (c *Pool) Size() int { return c.size }

// SetMin sets how many buffers the pool keeps through Shrink, growing it
// to that many at once.
func (c *Pool) SetMin(n int) error {
	if n < 0 || int64(n) > c.max.Load() {
		return fmt.Errorf("pool %d: set min %d (want 0..max %d): %w", c.size, n, c.max.Load(), ErrInvalid)
	}
	old := c.min.Swap(int64(n))
	if err := c.ensureMin(); err != nil {
		c.min.CompareAndSwap(int64(n), old)
		return fmt.Errorf("pool %d: set min %d: %w", c.size, n, err)
	}
	return nil
}

// SetMax sets the most buffers the pool may hold. Lowering it below what
// the pool holds takes nothing away; the pool simply stops growing.
func (c *Pool) SetMax(n int) error {
	if n < 1 || int64(n) < c.min.Load() {
		return fmt.Errorf("pool %d: set max %d (want >= 1 and >= min %d): %w", c.size, n, c.min.Load(), ErrInvalid)
	}
	c.max.Store(int64(n))
	c.pond.wake()
	return nil
}

// SetGrowBy sets how many buffers the pool adds when it runs dry.
func (c *Pool) SetGrowBy(n int) error {
	if n < 1 {
		return fmt.Errorf("pool %d: set grow_by %d (want >= 1): %w", c.size, n, ErrInvalid)
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
