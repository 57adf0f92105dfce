package main

import "strings"

// figDef declares one line of the table. The goal bounds the ratio
// (pondfs / reference) when it ends in "x", else the pondfs value.
type figDef struct {
	id, name, unit, goal string
}

// figures is every line of the table, in order.
var figures = []figDef{
	// pond: Go benchmarks of the get/put path (pond/bench_test.go).
	{"pond.getput.1g.syncpool", "2KiB get+put, 1 goroutine, vs sync.Pool", "ns/op", "<=1.5x"},
	{"pond.getput.2g.syncpool", "2KiB get+put, 2 goroutines, vs sync.Pool", "ns/op", "<=1.5x"},
	{"pond.getput.1g.mutex", "2KiB get+put, 1 goroutine, vs a mutex free list", "ns/op", "<=1.5x"},
	{"pond.getput.2g.mutex", "2KiB get+put, 2 goroutines, vs a mutex free list", "ns/op", "<=1.5x"},
	{"pond.meta", "metadata per 2KiB buffer, vs sync.Pool's", "B/buffer", "<=16"},

	// chain: Go benchmarks (chain/bench_test.go).
	{"chain.frame1500", "1500-byte frame built in a chain and freed, vs make+copy", "ns/op", "<=1.2x"},
	{"chain.prepend14", "prepend a 14-byte header, vs copying 14 bytes", "ns/op", "<10"},
	{"chain.clone", "clone of a 64KiB chain, vs of a 1KiB chain", "ns/op", "<=1.2x"},
	{"chain.split", "split and rejoin of a 64KiB chain, vs of a 1KiB chain", "ns/op", "<=1.2x"},

	// netdev: a Port on a TAP against plain read()/write() loops.
	{"dev.rx.drain.64", "TAP receive into the pond, 64B, draining a full queue, vs read() loop", "frames/s", ">=0.95x"},
	{"dev.rx.drain.1514", "TAP receive into the pond, 1514B, draining a full queue, vs read() loop", "frames/s", ">=0.95x"},
	{"dev.rx.live.64", "TAP receive into the pond, 64B, live kernel sender, vs read() loop", "frames/s", ">=0.95x"},
	{"dev.rx.live.1514", "TAP receive into the pond, 1514B, live kernel sender, vs read() loop", "frames/s", ">=0.95x"},
	{"dev.rx.cpu.64", "CPU per frame received into the pond, 64B, live sender, vs read() loop", "us/frame", "<=1.05x"},
	{"dev.rx.cpu.1514", "CPU per frame received into the pond, 1514B, live sender, vs read() loop", "us/frame", "<=1.05x"},
	{"dev.tx.64", "TAP send from chains (Port.Send, writev), 64B, vs write() loop", "frames/s", ">=0.95x"},
	{"dev.tx.1514", "TAP send from chains (Port.Send, writev), 1514B, vs write() loop", "frames/s", ">=0.95x"},

	// The mounted tree, driven by this process; pondd serves it.
	{"tree.inject.64", "netdev/IF/inject of a pcap stream, 64B frames, vs write() loop", "frames/s", ">=0.9x"},
	{"tree.inject.1514", "netdev/IF/inject of a pcap stream, 1514B frames, vs write() loop", "frames/s", ">=0.9x"},
	{"tree.tx.64", "netdev/IF/tx, one write(2) per 64B frame, vs the same to a go-fuse file that keeps the bytes", "frames/s", ">=0.9x"},
	{"tree.tx.1514", "netdev/IF/tx, one write(2) per 1514B frame, vs the same to a go-fuse file that keeps the bytes", "frames/s", ">=0.9x"},
	{"tree.arena", "read 64MiB through an mmap of arena, vs the memfd mapped directly", "MB/s", ">=0.9x"},
	{"tree.data.write", "chains/ID/data, sequential write of 64MiB, vs a go-fuse in-memory file", "MB/s", ">=0.8x"},
	{"tree.data.read", "chains/ID/data, sequential read of 64MiB, vs a go-fuse in-memory file", "MB/s", ">=0.8x"},
	{"tree.stats", "cat stats (open, read, close), vs a small go-fuse in-memory file", "us", "<=1.2x"},
	{"tree.ls.10k", "ls chains/ with 10k chains, per chain, vs with 1k", "us/chain", "<=1.5x"},
	{"tree.ls.100k", "ls chains/ with 100k chains, per chain, vs with 1k", "us/chain", "<=1.5x"},
	{"tree.ls.100k.total", "ls chains/ with 100k chains, whole listing, vs 100x the 1k listing", "s", "<=1"},
	{"tree.rss", "resident memory of an idle pondd, vs an idle go-fuse in-memory mount", "MiB", "<=30"},
	{"tree.shrink", "memory returned by shrink, vs memory the pool grew by", "MiB", ">=0.9x"},
}

// figIDs lists the ids of figures whose id starts with one of prefixes.
func figIDs(prefixes ...string) []string {
	var ids []string
	for _, f := range figures {
		for _, p := range prefixes {
			if strings.HasPrefix(f.id, p) {
				ids = append(ids, f.id)
				break
			}
		}
	}
	return ids
}
