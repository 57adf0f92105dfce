package pond

import (
	"sync/atomic"
	"time"
)

// clockTick is the resolution of the pond's coarse clock.
const clockTick = 10 * time.Millisecond

// clock is a pond's coarse monotonic clock: milliseconds since the pond
// was made, advanced every clockTick by a goroutine of its own. Get stamps
// each buffer with it, which costs one load of a word that changes a
// hundred times a second, where reading a real clock would cost as much
// as the rest of Get. 32 bits of milliseconds wrap after 49 days; ages
// are differences, so only an age beyond that is wrong.
type clock struct {
	now   atomic.Uint32
	epoch time.Time
	stop  chan struct{}
}

// start sets the clock at zero and starts its goroutine. The clock lives
// inside its Pond, so that Get reaches the word it loads without going
// through a pointer.
func (c *clock) start() {
	c.epoch, c.stop = time.Now(), make(chan struct{})
	go c.run()
}

func (c *clock) run() {
	t := time.NewTicker(clockTick)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.now.Store(uint32(time.Since(c.epoch).Milliseconds()))
		}
	}
}

// ageMs is how long ago, in milliseconds, a stamp of this clock was taken.
func (c *clock) ageMs(stamp uint32) uint64 { return uint64(c.now.Load() - stamp) }

// close stops the clock's goroutine.
func (c *clock) close() { close(c.stop) }
