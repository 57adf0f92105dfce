// Package netdev moves Ethernet frames between network devices and the
// pond without copying them: received frames become chains in a bounded
// queue, and chains are sent with one writev(2) of their segments.
//
// # Receiving
//
//	device (TAP, or netdevtest.MemDevice in tests)
//	  │ read(2) straight into a pond buffer, charged to account rx.<if>
//	  ▼
//	┌──────────┬────────────────────── frame ───────────────────┬─────────┐
//	│ headroom │ eth │ ipv4 │ udp │ payload                       │ (spare) │
//	└──────────┴────────────────────────────────────────────────┴─────────┘
//	  │
//	  ▼
//	rx queue: seq 41, 42, … 296 (at most Config.RxQueue; when full the
//	  │       oldest is dropped, counted in rx_dropped, and its buffer
//	  │       is read into next unless its chain was made)
//	  ▼
//	consumer: Port.With lends a queued frame's chain, Port.Take hands it
//	          over; at the first of them a chain wraps the buffer (no
//	          copy), Decode finds the headers (0 ethernet ⊇ 1 ipv4 ⊇
//	          2 udp ⊇ 3 payload) and each becomes a pushed layer
//
// A frame is queued as its buffer, and decoded and made a chain when it
// is first used: most frames of a busy device are dropped from the queue
// unread, and decoding each and making its chain would be the larger part
// of the receive path's work. Nothing writes a queued frame's buffer
// before its chain exists, so what a consumer sees is the same either
// way.
//
// A Port owns one Device and runs its receive goroutine. For each frame
// it takes a pond buffer big enough for the device's largest frame plus
// headroom, without waiting: when the pond or the port's account has none,
// the frame is read into a scratch buffer and dropped (rx_dropped), so the
// receiver never blocks on memory and never takes memory charged to
// another account. A frame dropped unread from a full queue lends its
// buffer to the next frame instead, as drivers recycle receive buffers:
// the pond round trip would be a large part of the work of a frame. The frame is read into the buffer after the headroom,
// so headers can later be prepended in place. Each queued frame gets a
// sequence number counting from 1 per port.
//
// # Sending
//
// Port.Send takes a chain and writes all of its bytes (layer 0) as one
// frame with a single writev(2) of its segments, then frees the chain;
// Port.SendBytes sends a plain byte slice. Both check the frame's size
// against the device (EthHeaderLen to MaxFrame bytes, else ErrFrameSize).
//
// # Capturing
//
// Port.Capture subscribes a reader to every frame received or sent from
// then on, as a pcap stream. Each capture copies frames into a ring of its
// own; a slow reader loses frames (counted per capture) and never slows the
// device or holds a pond buffer.
//
// # Devices
//
// Device is small, in the shape of wireguard-go's tun.Device: Read one
// frame into a caller's buffer, Writev one frame from segments, Close to
// unblock a pending Read. OpenTAP opens a Linux TAP through
// github.com/songgao/water (see TAP for the traps it avoids); package
// netdevtest's NewMemPair makes an in-memory pair for tests that need
// neither root nor a kernel.
//
// # Who owns what
//
// Every function that hands out memory says who releases it. In short: a
// Port owns its Device and the chains in its queue; Take moves a chain to
// its caller; Send consumes the chain it is given; captures hold copies,
// never pond buffers.
//
// # Errors
//
// Errors wrap the package's sentinels (ErrDeviceGone, ErrFrameSize,
// ErrBusy, ErrClosed, ErrNoFrame) and the pond's and chain's, with the
// device and the operation; test with errors.Is.
package netdev
