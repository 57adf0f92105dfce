#!/usr/bin/env bats
# MTUs: a TAP at the largest MTU a TAP takes, and MTUs raised and lowered
# under pondd while tx, inject and rx run. scripts/test runs the netdev
# suites twice: with the pond's default pools, whose largest buffer holds
# a 1500-MTU frame (but not a 65521-MTU one), and with --pools 128,512,
# whose largest holds neither, so that frames are read into several.

load helpers
load netdev

# rep N CHAR: N bytes of CHAR.
rep() { head -c "$1" /dev/zero | tr '\0' "$2"; }

# proto_of INFO: the proto line of a layer's info file.
proto_of() { awk '$1 == "proto" { print $2 }' "$1"; }

# frame_of_size IF SIZE: a SIZE-byte frame from the peer to the kernel's
# side of IF, UDP to port 7777, as hex.
frame_of_size() { frame_to_kernel "$1" 7777 "$(rep $(($2 - 42)) f)"; }

@test "a TAP at MTU 65521 receives every frame it carries, 64 bytes or 65535, whole, in rx/ and capture" {
	ip tuntap add dev pj0 mode tap
	PERSISTENT_TAPS=pj0
	ip link set pj0 mtu 65521 up
	start_pondd_taps --tap pj0
	kernel_side pj0
	tcpdump -n -c 2 -r "$MNT/netdev/pj0/capture" >"$BATS_TEST_TMPDIR/dump" 2>&1 3>&- &
	dump=$!
	wait_for 10 holds_open "$dump" "$MNT/netdev/pj0/capture"
	udp_to_peer "$(rep 22 s)"
	wait_for 10 stat_is "$MNT/netdev/pj0/stats" rx_packets 1
	udp_to_peer "$(rep 65493 b)"
	wait_for 10 stat_is "$MNT/netdev/pj0/stats" rx_packets 2
	wait_for 10 exited "$dump"
	wait "$dump" || die "tcpdump failed: $(cat "$BATS_TEST_TMPDIR/dump")"
	cat "$BATS_TEST_TMPDIR/dump"
	assert "$(stat_of "$MNT/netdev/pj0/stats" rx_dropped)" -eq 0 "rx_dropped"
	assert "$(stat -c %s "$MNT/netdev/pj0/rx/1/layers/0/data") $(stat -c %s "$MNT/netdev/pj0/rx/2/layers/0/data")" == "64 65535" "frame sizes"
	assert "$(cat "$MNT/netdev/pj0/rx/1/data")" == "$(rep 22 s)" "the small frame's payload"
	assert "$(cat "$MNT/netdev/pj0/rx/2/data")" == "$(rep 65493 b)" "the large frame's payload"
	assert "$(proto_of "$MNT/netdev/pj0/rx/2/layers/3/info")" == "payload" "the large frame's layers"
	assert "$(grep -c 'UDP, length 22$' "$BATS_TEST_TMPDIR/dump") $(grep -c 'UDP, length 65493$' "$BATS_TEST_TMPDIR/dump")" == "1 1" "frames in the capture"
}

@test "an MTU raised and lowered under pondd: tx, inject and rx act on it at once" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	pcap=$BATS_TEST_TMPDIR/x.pcap
	receiver 7777 4

	ip link set tap0 mtu 9000
	frame_of_size tap0 3054 | xxd -r -p >"$MNT/netdev/tap0/tx" || die "tx of 3054 bytes at MTU 9000"
	"$PYTHON3" "$NETPY" pcap "$(frame_of_size tap0 60)" "$(frame_of_size tap0 3054)" >"$pcap"
	cat "$pcap" >"$MNT/netdev/tap0/inject" || die "inject of a 3054-byte record at MTU 9000"
	udp_to_peer "$(rep 8972 j)"
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets 1
	assert "$(stat -c %s "$MNT/netdev/tap0/rx/1/layers/0/data")" -eq 9014 "the first frame past the old MTU, received whole"

	ip link set tap0 mtu 1000
	before=$(wc -l <"$PONDD_LOG")
	run_x ? bash -c 'xxd -r -p >"$0"' "$MNT/netdev/tap0/tx" <<<"$(frame_of_size tap0 1019)"
	assert "$status" -ne 0 "exit status of xxd"
	assert "$output" =~ "Invalid argument" "tx of MTU + 19 bytes at MTU 1000"
	"$PYTHON3" "$NETPY" pcap "$(frame_of_size tap0 1019)" >"$pcap"
	run_x 1 bash -c 'cat "$0" >"$1"' "$pcap" "$MNT/netdev/tap0/inject"
	assert "$output" =~ "Invalid argument" "inject of MTU + 19 bytes at MTU 1000"
	assert "$(($(wc -l <"$PONDD_LOG") - before))" -eq 2 "log lines"
	frame_of_size tap0 1018 | xxd -r -p >"$MNT/netdev/tap0/tx" || die "tx of MTU + 18 bytes at MTU 1000"
	udp_to_peer "$(rep 972 s)"
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets 2
	assert "$(stat -c %s "$MNT/netdev/tap0/rx/2/layers/0/data")" -eq 1014 "a frame at the lowered MTU"

	assert "$(received 7777 | awk '{ print length($0) }' | tr '\n' ' ')" == "3012 18 3012 976 " "datagrams the kernel got"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_dropped)" -eq 0 "rx_dropped"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 4 "tx_packets"
}
