package pond

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestAccountsIsolate: a full account fails with ErrQuota while another
// account keeps allocating from the same pool; limit changes take effect
// at once; the account's stats follow.
func TestAccountsIsolate(t *testing.T) {
	const size = 2048
	p := newTestPond(t, onePool(size, 0, 64, 16, 4<<20))
	a := newAccount(t, p, "a", 4*size)
	b := newAccount(t, p, "b", unlimited)
	var heldA, heldB []Buf
	defer func() { putAll(p, heldA); putAll(p, heldB) }()
	var allocs, fails uint64

	getA := func(wantOK bool) {
		t.Helper()
		buf, err := p.Get(a, size)
		switch {
		case wantOK && err != nil:
			t.Fatalf("Get for a (holding %d, limit %d): %v", len(heldA), a.Limit(), err)
		case !wantOK && err == nil:
			heldA = append(heldA, buf)
			t.Fatalf("Get for a (holding %d, limit %d) succeeded past the limit", len(heldA)-1, a.Limit())
		case !wantOK:
			wantErr(t, "Get for a at its limit", err, ErrQuota)
			mentions(t, "quota error", err.Error(), "a")
			fails++
		default:
			allocs++
			heldA = append(heldA, buf)
		}
	}
	checkA := func(used, highWater uint64) {
		t.Helper()
		s := a.Stats()
		want := AccountStats{LimitBytes: uint64(a.Limit()), UsedBytes: used, HighWaterBytes: highWater, Allocs: allocs, Fails: fails}
		if s != want {
			t.Fatalf("a's stats %+v, want %+v", s, want)
		}
	}

	for range 4 {
		getA(true)
	}
	getA(false)
	checkA(4*size, 4*size)
	// b is not limited by a being full.
	for range 20 {
		heldB = append(heldB, mustGet(t, p, b, size))
	}
	if s := b.Stats(); s.UsedBytes != 20*size || s.Allocs != 20 || s.Fails != 0 {
		t.Errorf("b's stats %+v, want used %d allocs 20 fails 0", s, 20*size)
	}
	getA(false)

	// Raise: a allocates again, up to the new limit.
	if err := a.SetLimit(6 * size); err != nil {
		t.Fatal(err)
	}
	getA(true)
	getA(true)
	getA(false)
	checkA(6*size, 6*size)

	putAll(p, heldA)
	putAll(p, heldB)
	heldA, heldB = nil, nil
	checkA(0, 6*size)
	if s := b.Stats(); s.UsedBytes != 0 || s.HighWaterBytes != 20*size || s.Allocs != 20 {
		t.Errorf("b's stats %+v, want used 0, high water %d, allocs 20", s, 20*size)
	}
	checkQuiet(t, p, nil)
}

// TestAccountLimitLowered: lowering a limit below what the account uses
// takes nothing back, and every charge fails until use drops below it.
func TestAccountLimitLowered(t *testing.T) {
	const size = 2048
	p := newTestPond(t, onePool(size, 0, 64, 16, 4<<20))
	a := newAccount(t, p, "a", 6*size)
	var held []Buf
	defer func() { putAll(p, held) }()
	for range 6 {
		held = append(held, mustGet(t, p, a, size))
	}
	tryGet := func(wantOK bool) {
		t.Helper()
		b, err := p.Get(a, size)
		if err == nil {
			held = append(held, b)
		}
		switch {
		case wantOK && err != nil:
			t.Fatalf("Get holding %d under limit %d: %v", len(held), a.Limit(), err)
		case !wantOK && err == nil:
			t.Fatalf("Get holding %d under limit %d succeeded past the limit", len(held)-1, a.Limit())
		case !wantOK:
			wantErr(t, "Get over the limit", err, ErrQuota)
		}
	}
	if err := a.SetLimit(2 * size); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.UsedBytes != 6*size || s.LimitBytes != 2*size {
		t.Fatalf("after lowering: used %d limit %d, want %d and %d", s.UsedBytes, s.LimitBytes, 6*size, 2*size)
	}
	tryGet(false)
	for len(held) > 2 {
		p.Put(held[len(held)-1])
		held = held[:len(held)-1]
		tryGet(false)
	}
	p.Put(held[0])
	held = held[1:]
	tryGet(true)
	tryGet(false)
	if s := a.Stats(); s.UsedBytes != 2*size || s.HighWaterBytes != 6*size || s.Allocs != 7 || s.Fails != 6 {
		t.Errorf("stats %+v, want used %d high water %d allocs 7 fails 6", s, 2*size, 6*size)
	}
	if err := a.SetLimit(-1); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetLimit(-1): %v, want ErrInvalid", err)
	}
	if a.Limit() != 2*size {
		t.Errorf("refused SetLimit changed the limit to %d", a.Limit())
	}
}

func TestAccountNames(t *testing.T) {
	p := newTestPond(t, onePool(2048, 0, 8, 8, 1<<20))
	a := newAccount(t, p, "fs", 100)
	newAccount(t, p, "rx.tap0", 100)
	if _, err := p.NewAccount("fs", 5); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate account: %v, want ErrExists", err)
	}
	for _, bad := range []struct {
		name  string
		limit int64
	}{{"", 5}, {"x", -1}} {
		if _, err := p.NewAccount(bad.name, bad.limit); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewAccount(%q, %d): %v, want ErrInvalid", bad.name, bad.limit, err)
		}
	}
	if got, err := p.Account("fs"); err != nil || got != a {
		t.Errorf("Account(fs) = %v, %v", got, err)
	}
	if _, err := p.Account("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Account(nope): %v, want ErrNotFound", err)
	}
	var names []string
	for _, acc := range p.Accounts() {
		names = append(names, acc.Name())
	}
	if fmt.Sprint(names) != "[fs rx.tap0]" {
		t.Errorf("Accounts() = %v", names)
	}
	for i := len(names); i < maxAccounts; i++ {
		newAccount(t, p, fmt.Sprint("acct", i), 1)
	}
	if _, err := p.NewAccount("one-too-many", 1); err == nil {
		t.Errorf("NewAccount beyond %d accounts succeeded", maxAccounts)
	}
}

// TestAccountExactLimit: with limit k*2048, after many get/put cycles on
// several goroutines (which scatter the account's credit over the CPUs),
// exactly k gets of 2048 bytes succeed.
func TestAccountExactLimit(t *testing.T) {
	const size, k = 2048, 16
	p := newTestPond(t, onePool(size, 0, 256, 32, 4<<20))
	a := newAccount(t, p, "a", k*size)
	other := newAccount(t, p, "other", unlimited)
	check := func(when string) {
		t.Helper()
		var held []Buf
		defer func() { putAll(p, held) }()
		for i := range k {
			b, err := p.Get(a, size)
			if err != nil {
				t.Fatalf("%s: Get #%d of %d under limit %d: %v", when, i+1, k, k*size, err)
			}
			held = append(held, b)
		}
		if b, err := p.Get(a, size); !errors.Is(err, ErrQuota) {
			if err == nil {
				held = append(held, b)
			}
			t.Fatalf("%s: Get #%d under limit %d: %v, want ErrQuota", when, k+1, k*size, err)
		}
		if s := a.Stats(); s.UsedBytes != k*size {
			t.Errorf("%s: used_bytes %d, want %d", when, s.UsedBytes, k*size)
		}
	}
	check("fresh")
	for round := range 5 {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				var held []Buf
				for range 2000 {
					if len(held) < k/4 && r.IntN(2) == 0 {
						if b, err := p.Get(a, size); err == nil {
							held = append(held, b)
						}
					} else if len(held) > 0 {
						i := r.IntN(len(held))
						p.Put(held[i])
						held = append(held[:i], held[i+1:]...)
					}
					if r.IntN(8) == 0 {
						p.Put(mustGetNoT(p, other, size))
						runtime.Gosched()
					}
				}
				putAll(p, held)
			}()
		}
		wg.Wait()
		check(fmt.Sprintf("after round %d", round))
	}
	checkQuiet(t, p, nil)
}

// mustGetNoT is Get for goroutines that are not the test's: it panics on
// error, which fails the whole binary loudly.
func mustGetNoT(p *Pond, a *Account, size int) Buf {
	b, err := p.Get(a, size)
	if err != nil {
		panic(fmt.Sprintf("Get(%s, %d): %v", a.Name(), size, err))
	}
	return b
}

// TestAccountLimitReachableConcurrent: an account's limit is exact under
// concurrency too. Goroutines that together never hold more than the limit
// minus one buffer must never see ErrQuota, however the account's credit
// is spread over the CPUs.
func TestAccountLimitReachableConcurrent(t *testing.T) {
	for _, procs := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			const size, goroutines, each = 2048, 8, 4
			// Room for exactly goroutines*each buffers.
			p := newTestPond(t, onePool(size, 0, 1024, 64, 8<<20))
			a := newAccount(t, p, "a", goroutines*each*size)
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(procs), uint64(g)))
					var held []Buf
					defer func() { putAll(p, held) }()
					for i := range 5000 {
						// Holding fewer than each when calling Get,
						// the total held is below the limit.
						if len(held) < each && (len(held) == 0 || r.IntN(2) == 0) {
							b, err := p.Get(a, size)
							if err != nil {
								errs <- fmt.Errorf("goroutine %d op %d: Get holding %d of %d: %w", g, i, len(held), each, err)
								return
							}
							held = append(held, b)
							continue
						}
						k := r.IntN(len(held))
						p.Put(held[k])
						held = append(held[:k], held[k+1:]...)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			checkQuiet(t, p, nil)
			if s := a.Stats(); s.UsedBytes != 0 || s.HighWaterBytes > goroutines*each*size {
				t.Errorf("after the run: used_bytes %d high_water_bytes %d (limit %d)", s.UsedBytes, s.HighWaterBytes, goroutines*each*size)
			}
		})
	}
}
