package fs

// readmeText is the tree's README. It says what each entry is in plain
// words, with shell examples run from the top of the mount.
const readmeText = `This is a pond: packet-buffer memory, shown as files by pondd.

The pond holds pools of fixed-size buffers, all carved from one block of
shared memory (the arena). Every file here is made afresh when you open it,
so cat and watch always show the present. Text files end in a newline.
A stats file has one "name value" line per counter.

README      this text
stats       pond totals: pools, arena_bytes, buffers, free, in_use,
            bytes_in_use, chains, allocs, fails, arena_zero_copy
              cat stats
              watch -n1 cat stats
metrics     every counter in the Prometheus text format (pool sizes and
            account names are labels)
              grep '^pond_pool_in_use' metrics
arena       the pond's memory itself: read it, write it, mmap it
            (MAP_SHARED). arena_zero_copy 1 in stats means the mapping is
            the pond's own pages (FUSE passthrough); 0 means pondd serves
            a copy: reopen to see the newest bytes, msync to hand yours back.
              od -A d -t x1 -N 64 arena
pools/SIZE/ one directory per pool, named by its buffer size in bytes
  stats     buf_size, buffers, free, in_use, high_water, min, max, grow_by,
            allocs, frees, fails, waits, grows, shrinks
            (always buffers = free + in_use)
              awk '$1 == "in_use"' pools/2048/stats
  slabs     the pool's regions of the arena, one per line:
            "<arena_offset> <bytes>"
  ctl       write commands, one per line:
              echo "max 4096" > pools/2048/ctl     most buffers the pool may hold
              echo "min 512" > pools/2048/ctl      buffers it keeps (grows now)
              echo "grow_by 128" > pools/2048/ctl  buffers added when it runs dry
              echo shrink > pools/2048/ctl         give free slabs above min back
            reading ctl on the same descriptor tells how the last command went:
              exec 3<>pools/2048/ctl; echo "min 9999999" >&3; cat <&3
              error: pool 2048: set min 9999999 ...
accounts/NAME/
            one per quota: "fs" is charged for the chains made through
            these files (pondd starts its limit at half the arena's
            maximum); "rx.IF" for what each device receives
  stats     limit_bytes, used_bytes, high_water_bytes, allocs, fails, waits
  limit     the byte limit; read it, or write a new one:
              echo 64MiB > accounts/fs/limit
              cat accounts/fs/limit

A failed write says why in pondd's log, and returns a plain error:
  Invalid argument      a malformed command or number
  Permission denied     the file does not take writes (stats, metrics, ...)
  Operation not permitted  the file does not take that change (truncating arena)
  No such file          no such pool or account
`

// readme produces the tree's README.
func readme() []byte { return []byte(readmeText) }
