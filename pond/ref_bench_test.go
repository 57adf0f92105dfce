package pond

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
)

// BenchmarkRefMutexFreeList2KParallel is the reference for
// BenchmarkGetPut2KParallel that BenchmarkRefMutexFreeList2K is for
// BenchmarkGetPut2K: every goroutine takes a buffer from one free list
// under one mutex and gives the same buffer back.
func BenchmarkRefMutexFreeList2KParallel(b *testing.B) {
	f := &refFreeList{mem: make([]byte, 1024*2048)}
	for i := range int32(1024) {
		f.free = append(f.free, i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.mu.Lock()
			i := f.free[len(f.free)-1]
			f.free = f.free[:len(f.free)-1]
			f.mu.Unlock()
			f.mem[int(i)*2048] = 1
			f.put(i)
		}
	})
}

// metaBuffers is how many 2 KiB buffers the metadata benchmarks hold.
const metaBuffers = 32768

// liveHeap collects garbage and returns the bytes of live heap objects.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMetaPerBuffer measures what a pond spends on each buffer
// beside its bytes: a 2 KiB pool tuned as the built-in one (grown 64
// buffers at a time) grows by metaBuffers buffers as they are taken, and
// once they are all back the growth of the live Go heap, plus the arena
// bytes that are not buffers, is divided by the number of buffers added.
// It reports B/buffer; run it with -benchtime 1x (each iteration is one
// measurement).
func BenchmarkMetaPerBuffer(b *testing.B) {
	b.ReportAllocs()
	var perBuf float64
	held := make([]Buf, metaBuffers)
	for b.Loop() {
		cfg := DefaultClass(2048)
		cfg.Max = 2 * metaBuffers
		p, err := New(Config{Classes: []ClassConfig{cfg}, ArenaMax: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		a, err := p.NewAccount("meta", 1<<40)
		if err != nil {
			b.Fatal(err)
		}
		pool, err := p.Pool(2048)
		if err != nil {
			b.Fatal(err)
		}
		bufs0, arena0 := pool.Stats().Buffers, p.ArenaBytes()
		heap0 := liveHeap()
		for i := range held {
			if held[i], err = p.Get(a, 2048); err != nil {
				b.Fatal(err)
			}
		}
		for i, buf := range held {
			p.Put(buf)
			held[i] = Buf{}
		}
		heap1 := liveHeap()
		grown := int64(pool.Stats().Buffers - bufs0)
		if grown < metaBuffers-int64(bufs0) {
			b.Fatalf("pool grew by %d buffers, want %d", grown, metaBuffers-int64(bufs0))
		}
		notBuffers := p.ArenaBytes() - arena0 - grown*2048
		perBuf = (float64(heap1) - float64(heap0) + float64(notBuffers)) / float64(grown)
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(perBuf, "B/buffer")
}

// BenchmarkRefMetaSyncPool is the reference for BenchmarkMetaPerBuffer:
// what a sync.Pool of *[]byte spends on each of metaBuffers 2 KiB buffers
// it holds beside their bytes (the slice header each *[]byte points to,
// and the pool's own slots). The garbage collector is held off while the
// pool fills, since a collection would empty it. Run with -benchtime 1x.
func BenchmarkRefMetaSyncPool(b *testing.B) {
	b.ReportAllocs()
	var perBuf float64
	held := make([]*[]byte, metaBuffers)
	for b.Loop() {
		pool := &sync.Pool{New: func() any { buf := make([]byte, 2048); return &buf }}
		heap0 := liveHeap()
		old := debug.SetGCPercent(-1)
		for i := range held {
			held[i] = pool.Get().(*[]byte)
		}
		for i, buf := range held {
			pool.Put(buf)
			held[i] = nil
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		debug.SetGCPercent(old)
		perBuf = (float64(ms.HeapAlloc) - float64(heap0) - metaBuffers*2048) / metaBuffers
		runtime.KeepAlive(pool)
	}
	b.ReportMetric(perBuf, "B/buffer")
}
