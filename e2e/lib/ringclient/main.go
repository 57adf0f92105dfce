// Command ringclient drives pondfs rings for the end-to-end suites, as a
// program in any language would: it opens a ring file, reads its layout,
// maps the arena and moves frames through the ring's slots in place.
//
//	ringclient rx MNT DEV COUNT      print COUNT received frames, in hex, one a line
//	ringclient tx MNT DEV            send each line of stdin (a frame in hex), 64 a kick
//	ringclient hold MNT DEV          attach both rings, print "attached, slots N", wait to
//	                                 be killed or for SIGTERM
//	ringclient hostile MNT DEV SEED  attach both rings, write random bytes over both
//	                                 headers and every slot, then kick and read; print
//	                                 what each answered
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// ring is one attached ring: its file, its layout, and the arena.
type ring struct {
	f      *os.File
	layout map[string]int64
	arena  []byte
}

// attach opens MNT/netdev/DEV/rings/KIND, reads its layout and maps the
// arena (after the open, so the ring lies within the mapping).
func attach(mnt, dev, kind string) (*ring, error) {
	f, err := os.OpenFile(filepath.Join(mnt, "netdev", dev, "rings", kind), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil {
		return nil, fmt.Errorf("read layout: %w", err)
	}
	r := &ring{f: f, layout: map[string]int64{}}
	for _, line := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
		name, value, _ := strings.Cut(line, " ")
		v, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("layout line %q: %w", line, err)
		}
		r.layout[name] = v
	}
	a, err := os.OpenFile(filepath.Join(mnt, "arena"), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	st, err := a.Stat()
	if err != nil {
		return nil, err
	}
	r.arena, err = syscall.Mmap(int(a.Fd()), 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap arena: %w", err)
	}
	return r, nil
}

func (r *ring) field(name string) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.arena[r.layout["header_offset"]+r.layout[name]]))
}

func (r *ring) desc(k uint32) int64 {
	return r.layout["header_offset"] + r.layout["desc_offset"] + int64(k&uint32(r.layout["slots"]-1))*r.layout["desc_size"]
}

// slot is slot k's buffer.
func (r *ring) slot(k uint32) []byte {
	addr := int64(binary.LittleEndian.Uint64(r.arena[r.desc(k)+r.layout["desc_addr_offset"]:]))
	return r.arena[addr : addr+r.layout["slot_size"]]
}

func (r *ring) length(k uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.arena[r.desc(k)+r.layout["desc_len_offset"]]))
}

// wait blocks in a read of the ring file until it has work, and returns
// how much; 0 once the device is gone.
func (r *ring) wait() (int, error) {
	buf := make([]byte, 32)
	n, err := r.f.Read(buf)
	if n == 0 {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(buf[:n])))
}

// receive prints count frames from a receive ring.
func receive(r *ring, count int) error {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	prodp, consp := r.field("producer_offset"), r.field("consumer_offset")
	for count > 0 {
		if n, err := r.wait(); n == 0 {
			return fmt.Errorf("ring ended with %d frames to go: %v", count, err)
		}
		prod, cons := atomic.LoadUint32(prodp), atomic.LoadUint32(consp)
		for ; cons != prod && count > 0; cons++ {
			fmt.Fprintln(out, hex.EncodeToString(r.slot(cons)[:atomic.LoadUint32(r.length(cons))]))
			count--
		}
		atomic.StoreUint32(consp, cons)
	}
	return nil
}

// transmit sends every frame of lines through a transmit ring, 64 a kick.
func transmit(r *ring, lines *bufio.Scanner) error {
	prodp := r.field("producer_offset")
	prod := atomic.LoadUint32(prodp)
	for more := true; more; {
		if _, err := r.wait(); err != nil {
			return err
		}
		batch := 0
		for batch < 64 {
			if more = lines.Scan(); !more {
				break
			}
			frame, err := hex.DecodeString(strings.TrimSpace(lines.Text()))
			if err != nil {
				return err
			}
			copy(r.slot(prod), frame)
			atomic.StoreUint32(r.length(prod), uint32(len(frame)))
			prod++
			batch++
		}
		atomic.StoreUint32(prodp, prod)
		if _, err := r.f.Write([]byte("kick")); err != nil {
			return fmt.Errorf("kick: %w", err)
		}
	}
	return nil
}

// scribble writes random bytes over the ring's header and every slot,
// then kicks (a transmit ring) and reads once, and prints the outcome.
func scribble(r *ring, kind string, rnd *rand.Rand) {
	hdr := r.arena[r.layout["header_offset"] : r.layout["header_offset"]+r.layout["header_bytes"]]
	slots := make([][]byte, r.layout["slots"])
	for i := range slots {
		slots[i] = r.slot(uint32(i))
	}
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
	}
	fill(hdr)
	for _, s := range slots {
		fill(s)
	}
	if kind == "tx" {
		_, err := r.f.Write([]byte("kick"))
		fmt.Printf("tx kick: %v\n", err)
	}
	done := make(chan string, 1)
	go func() {
		n, err := r.wait()
		done <- fmt.Sprintf("%s read: %d %v", kind, n, err)
	}()
	select {
	case s := <-done:
		fmt.Println(s)
	default:
		fmt.Printf("%s read: waits\n", kind)
	}
}

func run(args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("usage: ringclient rx|tx|hold|hostile MNT DEV [ARG]")
	}
	op, mnt, dev := args[0], args[1], args[2]
	switch op {
	case "rx":
		count, err := strconv.Atoi(args[3])
		if err != nil {
			return err
		}
		r, err := attach(mnt, dev, "rx")
		if err != nil {
			return err
		}
		return receive(r, count)
	case "tx":
		r, err := attach(mnt, dev, "tx")
		if err != nil {
			return err
		}
		return transmit(r, bufio.NewScanner(os.Stdin))
	case "hold", "hostile":
		rx, err := attach(mnt, dev, "rx")
		if err != nil {
			return err
		}
		tx, err := attach(mnt, dev, "tx")
		if err != nil {
			return err
		}
		if op == "hold" {
			fmt.Println("attached, slots", rx.layout["slots"])
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
			<-stop
			return nil
		}
		seed, err := strconv.ParseUint(args[3], 10, 64)
		if err != nil {
			return err
		}
		rnd := rand.New(rand.NewPCG(seed, seed))
		scribble(rx, "rx", rnd)
		scribble(tx, "tx", rnd)
		return nil
	}
	return fmt.Errorf("unknown operation %q", op)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ringclient:", err)
		os.Exit(1)
	}
}
