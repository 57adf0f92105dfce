package fs

// readmeText is the tree's README. It says what each entry is in plain
// words, with shell examples run from the top of the mount.
const readmeText = `This is a pond: packet-buffer memory, shown as files by pondd.

The pond holds pools of fixed-size buffers, all carved from one block of
shared memory (the arena). Every file here is made afresh when you open it,
so cat and watch always show the present; like the files of /proc, such a
file says its size is 0, and a read gets all of it. Text files end in a
newline.
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
            allocs, frees, fails, waits, grows, shrinks, injected_fails
            (always buffers = free + in_use)
              awk '$1 == "in_use"' pools/2048/stats
  slabs     the pool's regions of the arena, one per line:
            "<arena_offset> <bytes>"
  buffers   one line per buffer in use, oldest first (equal ages by
            offset), empty when none is:
            "<arena_offset> <refs> <account> <holder> <age_ms>"; holder is
            "chain ID", "rx IF SEQ" (a received frame), "ring IF rx" or
            "ring IF tx" (a ring's header or a slot), or "pond" (kept by
            pondd itself: a device's buffer for its next frame, or one an
            operation holds for an instant); a buffer clones share names
            one holder; the holder takes one to three words, so age_ms is
            the last field: ms since the buffer was taken (a received
            frame's: since it arrived), to about 10 ms
              head -3 pools/2048/buffers                 the oldest
              awk '$NF > 60000' pools/2048/buffers       held over a minute
  ctl       write commands, one per line:
              echo "max 4096" > pools/2048/ctl     most buffers the pool may hold
              echo "min 512" > pools/2048/ctl      buffers it keeps (grows now)
              echo "grow_by 128" > pools/2048/ctl  buffers added when it runs dry
              echo shrink > pools/2048/ctl         give free slabs above min back
            no count may exceed the buffers of that size the arena's max holds
              echo "fail-after 2" > pools/2048/ctl  after 2 more allocations
                        succeed, the next fails (No buffer space), as if the
                        pool were at its max; "fail-after N COUNT" fails
                        COUNT in a row; "fail-after off" cancels. Counted in
                        fails and injected_fails
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
chains/     packet buffers: each chain a directory of files
  new       each read makes an empty chain and prints its id
              id=$(cat chains/new)
            (an open with O_NONBLOCK, as grep -r and tar make, reads
            "Resource temporarily unavailable" and makes nothing)
            or make one with a name (A-Z a-z 0-9 . _ -, up to 64 bytes,
            not starting with a dot), and free it with rmdir:
              mkdir chains/pkt
              rmdir chains/pkt
  ID/data   the chain's bytes (the top layer) as a plain file:
              echo hello > chains/$id/data        replace
              echo more >> chains/$id/data        append
              printf X | dd of=chains/$id/data bs=1 seek=3 conv=notrunc
              truncate -s 100 chains/$id/data     shrink or zero-extend
              cp big.bin chains/$id/data; cmp big.bin chains/$id/data
            mmap(MAP_SHARED) works for reading and writing (msync hands
            writes over at once). A mapping sees changes made through data,
            ctl and layers/ at once, and writes made straight into arena
            within a tenth of a second: pondd never sees those, so it
            refreshes the mappings of open data files ten times a second.
            msync before changing a mapped chain through ctl.
  ID/ctl    one command per line; the first that fails fails the write
            and the lines before it stay done:
              push OFF [LEN]  show bytes OFF..OFF+LEN of the view as a new
                              top layer (LEN: to the end)
              pop             drop the top layer
              prepend N       N zero bytes in front
              trim-front N    drop N bytes from the front
              trim-back N     drop N bytes from the back
              pullup N        make the first N bytes one buffer
              split N         bytes N.. move to a new chain (no copy)
              clone           a new chain sharing every buffer (a write
                              to either copies first)
              send IF         send the whole chain on device IF; the
                              chain is used up
              concat PROTO ID...  chains ID... move to the end of this
                              one (no copy) and leave chains/; a new top
                              layer PROTO covers it all, this chain's
                              bytes and each ID one fragment of it
              split-fragments undo a concat: pop its layer; each fragment
                              after the first becomes a new chain
            reading ctl on the same descriptor gives the outcome of the
            last command: ok, error: <reason>, or the new chains' ids
              exec 3<>chains/$id/ctl; echo "split 5" >&3; read new <&3
  ID/segments  the view's runs of pond memory, one per line:
            "<buf_size> <arena_offset> <length> <refs>"; map arena and
            read or write length bytes at each arena_offset: no copy at
            all (refs above 1: other chains share that buffer and see
            what you write there)
  ID/stats  length (of the view), chain_length, segments, layers,
            headroom, tailroom
  ID/layers/K/  K = 0 (the whole chain) up to the top layer
    data    the bytes of layer K; writes land in the chain
    info    offset and length of layer K inside layer K-1, and proto when
            it has one
    fragments  the fragments a concat made layer K of, one per line:
            "<offset> <length>"; empty when none
            a layer narrower than the one beneath cannot grow: a write
            past its end fails (Invalid argument) rather than put bytes
            among ones it hides
            chains made here are charged to accounts/fs, keep 64 bytes of
            headroom, grow to at most 64 MiB, and wait at most 0.1 s for
            buffers
netdev/IF/  one per TAP device pondd feeds (pondd --tap IF)
  stats     rx_packets, rx_bytes, rx_dropped, tx_packets, tx_bytes,
            tx_errors, rx_queue, rx_queue_max, rx_filtered (frames the
            kernel dropped before pondd read them: rejected by filter, or
            the TAP's queue was full), up (0 once the device is
            gone), capture_lost, captures (open now)
  rx/SEQ/   each received frame still queued, oldest first, numbered from 1;
            a chain directory like those in chains/: data is the innermost
            payload, layers/0/data the whole frame, layers/K/info names each
            header it recognised (ethernet, vlan, arp, ipv4, ipv6, icmp,
            icmpv6, udp, tcp, payload)
              cat netdev/tap0/rx/7/data
              cat netdev/tap0/rx/7/layers/1/info
            rmdir consumes a frame; when the queue is full the oldest is
            dropped and counted in rx_dropped
              rmdir netdev/tap0/rx/7
            send a frame on another device (it is consumed):
              echo "send tap1" > netdev/tap0/rx/7/ctl
            forward everything queued:
              for f in netdev/tap0/rx/*; do echo "send tap1" > $f/ctl; done
  next      each open is a cursor: a read returns the SEQ of every queued
            frame this open has not returned yet, one per line, oldest
            first, and waits while there is none (Ctrl-C or timeout ends
            the wait); frames dropped before it returned them are skipped;
            an open with O_NONBLOCK (grep -r) reads what is there, then
            "Resource temporarily unavailable"
              seq=$(timeout 5 head -n1 netdev/tap0/next)
              exec 4<netdev/tap0/next; read -t 5 seq <&4
  filter    the device's receive filter, run by the kernel on the TAP, as
            tcpdump -ddd prints it; frames it rejects never reach the pond
              tcpdump -ddd 'udp port 9999' > netdev/tap0/filter
              cat netdev/tap0/filter              the program, empty if none
              echo > netdev/tap0/filter           remove it
            it is attached when the file is closed; a bad program fails
            (Invalid argument) and the old filter stays
  tx        each write is one Ethernet frame, sent on the device; at most
            the device's MTU + 18 bytes, as the MTU is at that moment
              cat netdev/tap0/rx/7/layers/0/data > netdev/tap0/tx
  inject    write a pcap stream: every record is sent, in order
              tcpdump -c 10 -r netdev/tap0/capture -w /tmp/ten.pcap
              cat /tmp/ten.pcap > netdev/tap0/inject
  capture   each open reads a pcap stream of every frame received or sent
            from then on; a read waits for the next frame (Ctrl-C stops it)
            and the stream ends when the device goes away
              tcpdump -n -r netdev/tap0/capture
            a reader slower than the frames loses some, counted in
            capture_lost; the device never waits for it; an open with
            O_NONBLOCK (grep -r) reads what is there, then "Resource
            temporarily unavailable"
  rings/rx  open (read-write) to attach a zero-copy receive ring, rings/tx
  rings/tx  a transmit ring; the ring lives until the file is closed (or
            its program dies), one of each kind per device (Device or
            resource busy), only with arena_zero_copy 1 (else Operation
            not supported); the first read gives the ring's layout in the
            arena (header_offset, slots, slot_size, each field's offset);
            later reads wait for work and say how much ("<n>": frames to
            consume on rx, free slots on tx); a write to rings/tx sends
            every frame produced since the last, and those produced while
            it sends; see README.md, "Rings"

A failed write says why in pondd's log, and returns a plain error:
  Invalid argument      a malformed command or number
  Permission denied     the file does not take writes (stats, metrics, ...)
  Operation not permitted  the file does not take that change (truncating arena;
                        rm or rmdir of anything but a chain or a received frame)
  No such file          no such pool, account, chain, layer, device or frame
  File exists           a chain of that name is there already
  File too large        a chain would grow past 64 MiB
  No buffer space       the pond could not supply buffers in time
  Disk quota exceeded   the account (accounts/fs for chains) is at its limit
  Input/output error    the device is gone, or refused the frame
  Device or resource busy  a ring of that kind is attached to the device
  Operation not supported  a ring without zero copy (arena_zero_copy 0)
  Resource temporarily unavailable
                        a read that would wait, or make a chain, on a
                        descriptor opened with O_NONBLOCK
`

// readme produces the tree's README.
func readme() []byte { return []byte(readmeText) }
