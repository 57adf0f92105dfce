package fs

import (
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
)

// refreshEvery is how often the page caches of open data files are
// dropped; it bounds how long a mapping of data shows bytes from before a
// write through a zero-copy arena, which the daemon never sees.
const refreshEvery = 100 * time.Millisecond

// cacheRefresher drops the page caches of every open data file of every
// chain directory, every refreshEvery, while any is open. A mapping holds
// its file open, so every mapping is covered; a dirty page of one is
// written back first, so the pond also sees a mapping's writes within that
// time, msync or not.
type cacheRefresher struct {
	mu   sync.Mutex        // guards open and stop
	open map[*fs.Inode]int // open descriptors (and so mappings) per data file
	stop chan struct{}     // closed to end the goroutine; nil while none runs
}

func newCacheRefresher() *cacheRefresher {
	return &cacheRefresher{open: make(map[*fs.Inode]int)}
}

// opened counts a descriptor of n, and starts the refreshing with the
// first.
func (r *cacheRefresher) opened(n *fs.Inode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open[n]++
	if r.stop == nil {
		r.stop = make(chan struct{})
		go r.run(r.stop)
	}
}

// closed uncounts a descriptor of n, and stops the refreshing with the
// last.
func (r *cacheRefresher) closed(n *fs.Inode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open[n]--; r.open[n] <= 0 {
		delete(r.open, n)
	}
	if len(r.open) == 0 && r.stop != nil {
		close(r.stop)
		r.stop = nil
	}
}

func (r *cacheRefresher) run(stop <-chan struct{}) {
	tick := time.NewTicker(refreshEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			for _, n := range r.files() {
				// The kernel may have let go of it meanwhile: nothing cached.
				_ = n.NotifyContent(0, 0)
			}
		}
	}
}

// files are the open data files now. The drops happen outside the lock:
// one writes dirty pages back through a request that may open or close.
func (r *cacheRefresher) files() []*fs.Inode {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*fs.Inode, 0, len(r.open))
	for n := range r.open {
		out = append(out, n)
	}
	return out
}
