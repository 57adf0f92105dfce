package pond

import (
	"sync"
	"testing"
)

// benchPond is a pond with one 2 KiB pool and an account without a real
// limit, as the get/put benchmarks need.
func benchPond(b *testing.B) (*Pond, *Account) {
	b.Helper()
	p, err := New(Config{Classes: []ClassConfig{{Size: 2048, Min: 1024, Max: 65536, GrowBy: 256}}, ArenaMax: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	a, err := p.NewAccount("bench", 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Close(); err != nil {
			b.Error(err)
		}
	})
	return p, a
}

func BenchmarkGetPut2K(b *testing.B) {
	p, a := benchPond(b)
	b.ReportAllocs()
	for b.Loop() {
		buf, err := p.Get(a, 2048)
		if err != nil {
			b.Fatal(err)
		}
		p.Put(buf)
	}
}

func BenchmarkGetPut2KParallel(b *testing.B) {
	p, a := benchPond(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			buf, err := p.Get(a, 2048)
			if err != nil {
				b.Error(err)
				return
			}
			p.Put(buf)
		}
	})
}

var refPool = sync.Pool{New: func() any { b := make([]byte, 2048); return &b }}

func BenchmarkRefSyncPool2K(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		v := refPool.Get().(*[]byte)
		refPool.Put(v)
	}
}

func BenchmarkRefSyncPool2KParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v := refPool.Get().(*[]byte)
			refPool.Put(v)
		}
	})
}

// refFreeList is the ArceOS design: one mutex over a slice of free indexes
// into one big allocation.
type refFreeList struct {
	mu   sync.Mutex
	free []int32
	mem  []byte
}

func (f *refFreeList) get() []byte {
	f.mu.Lock()
	i := f.free[len(f.free)-1]
	f.free = f.free[:len(f.free)-1]
	f.mu.Unlock()
	return f.mem[int(i)*2048 : int(i+1)*2048]
}

func (f *refFreeList) put(i int32) {
	f.mu.Lock()
	f.free = append(f.free, i)
	f.mu.Unlock()
}

func BenchmarkRefMutexFreeList2K(b *testing.B) {
	f := &refFreeList{mem: make([]byte, 1024*2048)}
	for i := range int32(1024) {
		f.free = append(f.free, i)
	}
	b.ReportAllocs()
	for b.Loop() {
		buf := f.get()
		buf[0] = 1
		f.put(0)
	}
}
