// Package pond is the memory under pondfs: one shared-memory arena carved
// into size-class pools of fixed-size buffers, with accounts that keep one
// subsystem from starving another.
//
// # The model
//
//	arena (one memfd, mapped MAP_SHARED once at its reserved size)
//	┌───────────────┬──────────────────┬───────────┬──────────────┬─────────┐
//	│ slab 2048 × 64│ slab 128 × 256   │ slab 9216 │ slab 2048 ×64│ (unused)│
//	└───────────────┴──────────────────┴───────────┴──────────────┴─────────┘
//	 ▲ offset 0                                          file size ▲  reserved ▲
//
//	class 2048: slabs → buffers; free buffers sit in per-CPU magazines or the
//	            class depot; a buffer in use is charged to one account.
//
//	account "fs" (limit 64 MiB)  account "rx.tap0" (limit 16 MiB)
//
// The arena is a memfd. It is mapped once at its full reserved size (the
// pond's upper bound) so buffers never move: every buffer has a stable
// offset in the arena, which another process that maps the same memfd (the
// `arena` file of the mount) can use to reach the bytes with zero copies. The
// file grows as pools grow and is sealed against shrinking, so no other
// holder can pull pages from under the pond; memory given back by Shrink is
// returned with hole punching, which lowers resident memory without changing
// the file's size.
//
// A class (a pool) holds buffers of one size. It grows by grow_by buffers
// (one slab) when it runs dry, never past max buffers or the arena bound, and
// Shrink gives whole free slabs above min back to the operating system.
//
// An account is a named byte limit. Every allocation is charged to exactly
// one account with the full size of the buffers it takes; a full account
// fails (or, in the blocking form, waits) without delaying allocations
// charged to any other account.
//
// # Who owns what
//
// Get and GetList hand the caller one reference to each buffer. The caller
// owns that reference until it passes it to Put. Ref adds a reference (for
// clones); the buffer returns to its pool when the last one is put. Bytes
// borrows the buffer's memory: the slice is valid while the caller holds a
// reference and must not be retained after Put. Releasing a buffer twice,
// or to a pond it does not belong to, panics with a message naming the
// buffer, because such a bug corrupts memory that other owners still use.
//
// # Cost
//
// Each buffer costs 12 bytes of metadata outside its own bytes (its meta:
// arena offset, the coarse time it was handed out, and one word holding
// its reference count and account while in use, its free-list link while
// free). Get and Put
// take a buffer from, or return it to, a small magazine owned by the current
// CPU, so the common path touches no shared cache line; the class's depot
// is reached only when a magazine runs empty or full. A hard max stays hard:
// when the depot is empty the allocating CPU steals from the other CPUs'
// magazines before it reports exhaustion. The get/put path takes no locked
// instruction at all on amd64: see local_fast.go for the asymmetric
// barrier that lets a CPU own its magazines while a stealer can still
// reach them.
//
// # Stats
//
// Counters live per CPU and are summed when read, so reading stats never
// stops allocation. A snapshot sums every CPU's allocations before every
// CPU's frees: under concurrent use it may understate what is in use,
// never overstate it, and buffers == free + in_use holds in every
// snapshot. High-water marks are raised from such snapshots, taken on
// every slow path and every stats read, so they never exceed a real peak
// but can miss one that came and went between two of them.
package pond
