#!/usr/bin/env bats
# Received frames: netdev/<if>/rx/<seq>/ chain directories, the queue's
# bound, send from a chain's ctl, forwarding between two devices from the
# shell, and the receive side's quota.

load helpers
load netdev

# proto_of FILE: the proto line of a layer's info file.
proto_of() { awk '$1 == "proto" { print $2 }' "$1"; }

@test "UDP from the kernel lands in rx/<seq>/: data is the payload, each header a layer" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	echo -n hello >"/dev/udp/$PEER_IP/9999"
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_queue 1
	run_x ls "$MNT/netdev/tap0/rx"
	assert "$output" == "1" "rx/"
	f=$MNT/netdev/tap0/rx/1
	assert "$(cat "$f/data")" == "hello" "data"
	k=0
	for proto in ethernet ipv4 udp payload; do
		assert "$(proto_of "$f/layers/$k/info")" == "$proto" "layers/$k/info"
		k=$((k + 1))
	done
	[ ! -e "$f/layers/4" ] || die "a layer past the payload"
	assert "$(stat_of "$f/layers/1/info" offset) $(stat_of "$f/layers/1/info" length)" == "14 33" "the ipv4 layer"
	assert "$(stat -c %s "$f/layers/0/data")" -eq $((14 + 20 + 8 + 5)) "size of the frame"
	assert "$(od -An -tx1 -N6 "$f/layers/0/data" | tr -d ' ')" == "020000000002" "the frame's destination: the peer"
	run_x rmdir "$f"
	assert "$(queued tap0)" -eq 0 "frames after rmdir"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_queue)" -eq 0 "rx_queue"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_bytes)" -eq 47 "rx_bytes"
}

@test "ping's frames have an icmp layer" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	run_x 1 ping -c 1 -W 1 "$PEER_IP" # nobody answers: pondd only queues it
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_queue 1
	f=$MNT/netdev/tap0/rx/1
	assert "$(proto_of "$f/layers/2/info") $(proto_of "$f/layers/3/info")" == "icmp payload" "layers"
}

@test "--rx-queue 4: the oldest frames are dropped and counted; rx/ lists the newest, oldest first" {
	start_pondd_taps --tap tap0 --rx-queue 4
	kernel_side tap0
	udp_to_peer "n{}" 10
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets 10
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_queue)" -eq 4 "rx_queue"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_dropped)" -eq 6 "rx_dropped"
	run_x ls -v "$MNT/netdev/tap0/rx"
	assert "$(echo $output)" == "7 8 9 10" "rx/"
	assert "$(cat "$MNT/netdev/tap0/rx/7/data")" == "n7" "the oldest kept"
	run_x 1 cat "$MNT/netdev/tap0/rx/6/data"
	assert "$output" =~ "No such file" "a dropped frame"
}

@test "send IF in a frame's ctl transmits the whole frame and consumes it" {
	start_pondd_taps --tap tap0 --tap tap1
	kernel_side tap0
	udp_to_peer "out-and-back"
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_queue 1
	f=$MNT/netdev/tap0/rx/1
	run_x 1 bash -c 'echo "send nosuch0" >"$0"' "$f/ctl"
	assert "$output" =~ "No such file" "send on no such device"
	assert "$(queued tap0)" -eq 1 "a frame that could not be sent stays"
	echo "send tap1" >"$f/ctl"
	assert "$(queued tap0)" -eq 0 "a frame sent is consumed"
	assert "$(stat_of "$MNT/netdev/tap1/stats" tx_packets)" -eq 1 "tx_packets of tap1"
	assert "$(stat_of "$MNT/netdev/tap1/stats" tx_bytes)" -eq $((42 + 12)) "tx_bytes of tap1: layer 0, the whole frame"
}

@test "a chain made in chains/ and sent with send IF reaches the kernel" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	receiver 7777 1
	id=$(cat "$MNT/chains/new")
	frame_to_kernel tap0 7777 made-in-chains | xxd -r -p >"$MNT/chains/$id/data"
	echo "send tap0" >"$MNT/chains/$id/ctl"
	assert "$(received 7777)" == "made-in-chains" "payload"
	[ ! -e "$MNT/chains/$id" ] || die "the chain sent is still there"
}

@test "two devices forward to each other from the shell" {
	start_pondd_taps --tap tapa --tap tapb
	kernel_side tapa
	# tapb's kernel side is the peer, in a namespace of its own.
	FORWARD_NS=pondfs-fwd-$$
	ip netns add "$FORWARD_NS"
	in_ns() { ip netns exec "$FORWARD_NS" "$@"; }
	in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link set tapb netns "$FORWARD_NS"
	in_ns ip link set lo up
	in_ns ip link set tapb address "$PEER_MAC" up
	in_ns ip addr add "$PEER_IP/24" dev tapb
	in_ns ip neigh replace "$KERNEL_IP" lladdr "$(mac_of tapa)" dev tapb nud permanent

	ready=$BATS_TEST_TMPDIR/ready.ns
	in_ns "$PYTHON3" "$NETPY" recv "$PEER_IP" 9999 3 "$ready" >"$BATS_TEST_TMPDIR/recv.ns" 3>&- &
	ns_recv=$!
	wait_for 10 test -e "$ready"
	udp_to_peer "there-{}" 3
	wait_for 10 stat_is "$MNT/netdev/tapa/stats" rx_queue 3
	cd "$MNT/netdev"
	for f in tapa/rx/*; do echo "send tapb" >"$f/ctl"; done
	wait "$ns_recv" || die "the receiver in $FORWARD_NS failed"
	assert "$(cat "$BATS_TEST_TMPDIR/recv.ns" | tr '\n' ' ')" == "there-1 there-2 there-3 " "payloads across"

	# Only the datagram crosses back: whatever else tapb's kernel side
	# says (IPv6 it may bring up on its move) stays out of rx/.
	tcpdump -ddd 'udp port 7777' 2>/dev/null >"$MNT/netdev/tapb/filter"
	receiver 7777 1
	in_ns "$PYTHON3" "$NETPY" send "$KERNEL_IP" 7777 1 back-again
	wait_for 10 stat_is "$MNT/netdev/tapb/stats" rx_queue 1
	for f in tapb/rx/*; do echo "send tapa" >"$f/ctl"; done
	assert "$(received 7777)" == "back-again" "payload back"
	cd /
}

@test "a flood that exhausts rx.tap0 drops frames, and chains can still be made" {
	start_pondd_taps --tap tap0 --pools 128,2048
	kernel_side tap0
	echo 8192 >"$MNT/accounts/rx.tap0/limit" # four 2048-byte buffers
	udp_to_peer "flood-{}" 200
	wait_for 10 rx_seen tap0 200
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_dropped)" -gt 0 "rx_dropped"
	assert "$(stat_of "$MNT/accounts/rx.tap0/stats" fails)" -gt 0 "fails of rx.tap0"
	assert "$(stat_of "$MNT/accounts/rx.tap0/stats" used_bytes)" -le 8192 "used_bytes of rx.tap0"
	id=$(cat "$MNT/chains/new")
	head -c 5000 /dev/zero | tr '\0' y >"$MNT/chains/$id/data"
	assert "$(stat -c %s "$MNT/chains/$id/data")" -eq 5000 "a chain of 5000 bytes, made meanwhile"
	assert "$(stat_of "$MNT/accounts/fs/stats" used_bytes)" -gt 0 "used_bytes of fs"
	rmdir "$MNT/chains/$id"
	drain_rx
	udp_to_peer after-the-flood
	wait_for 10 rx_seen tap0 201
	assert "$(cat "$MNT/netdev/tap0/rx/$(ls -v "$MNT/netdev/tap0/rx" | tail -1)/data")" == "after-the-flood" "a frame once there is room"
}

# rx_seen IF N: IF has received N frames, queued or dropped.
rx_seen() {
	local st=$MNT/netdev/$1/stats
	[ $(($(stat_of "$st" rx_packets) + $(stat_of "$st" rx_dropped))) -ge "$2" ]
}
