#!/usr/bin/env bats
# TAP devices: --tap, netdev/<if>/ with its stats, tx, inject and capture,
# and a device deleted under the daemon. Received frames are 051's.

load helpers
load netdev

NETDEV_NAMES="rx_packets rx_bytes rx_dropped tx_packets tx_bytes tx_errors rx_queue rx_queue_max rx_filtered"

@test "--tap creates the TAP, shows it under netdev/ and accounts/, and removes it at exit" {
	start_pondd_taps --tap tap0 --rx-queue 32
	run_x ip -br link show dev tap0
	assert "$output" =~ ",UP," "the link, up"
	assert "$(cat "$PONDD_LOG")" =~ "created TAP tap0" "log"
	run_x ls "$MNT/netdev" "$MNT/netdev/tap0"
	assert "$(echo $output)" == "$MNT/netdev: tap0 $MNT/netdev/tap0: capture filter inject next rings rx stats tx" "netdev/"
	assert "$(awk '{ printf "%s ", $1 }' "$MNT/netdev/tap0/stats")" =~ "^$NETDEV_NAMES " "stats names, in README.md's order"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_queue_max)" -eq 32 "rx_queue_max"
	assert "$(stat_of "$MNT/netdev/tap0/stats" up)" -eq 1 "up"
	assert "$(stat -c %a "$MNT/netdev/tap0/tx") $(stat -c %a "$MNT/netdev/tap0/inject") $(stat -c %a "$MNT/netdev/tap0/capture")" == "200 200 400" "modes"
	run_x ls "$MNT/accounts"
	assert "$(echo $output)" == "fs rx.tap0" "accounts"
	run_x "$PYTHON3" "$BATS_TEST_DIRNAME/lib/promcheck.py" <"$MNT/metrics"
	assert "$output" =~ "pond_netdev_rx_queue_max\{device=\"tap0\"\} 32" "metrics"
	stop_pondd
	run_x 1 ip link show dev tap0
}

@test "--tap attaches to a persistent TAP, which outlives pondd" {
	ip tuntap add dev ptap0 mode tap
	PERSISTENT_TAPS=ptap0
	start_pondd_taps --tap ptap0
	assert "$(cat "$PONDD_LOG")" =~ "attached to TAP ptap0" "log"
	stop_pondd
	run_x ip link show dev ptap0
}

@test "a TAP that cannot be had: one line, exit 1, nothing mounted or created" {
	for taps in "--tap lo" "--tap ok0 --tap lo" "--tap a-name-far-too-long"; do
		run_x 1 "$PONDD" --mount "$MNT" $taps
		assert "${#lines[@]}" -eq 1 "lines on stderr for $taps"
		assert "$output" =~ "--tap " "the line names the flag"
		[ ! -e "$MNT" ] || die "$taps: the mount point was made"
		run_x 1 ip link show dev ok0
	done
	start_pondd_taps --tap tap0
	run_x 1 "$PONDD" --mount "$BATS_TEST_TMPDIR/mnt2" --tap tap0
	assert "${#lines[@]}" -eq 1 "lines on stderr"
	assert "$output" =~ "device busy" "a TAP another pondd holds"
	is_mounted "$BATS_TEST_TMPDIR/mnt2" && die "the second pondd mounted"
	return 0
}

@test "printf a frame into tx: the kernel's UDP socket gets it" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	receiver 7777 2
	# bash's printf writes a frame in pieces, one per newline byte in it
	# (10.x addresses have one): tx joins them.
	printf "$(frame_to_kernel tap0 7777 from-printf --printf)" >"$MNT/netdev/tap0/tx"
	frame_to_kernel tap0 7777 from-xxd | xxd -r -p >"$MNT/netdev/tap0/tx"
	assert "$(received 7777 | tr '\n' ' ')" == "from-printf from-xxd " "payloads"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 2 "tx_packets"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_bytes)" -eq $((2 * 42 + 11 + 8)) "tx_bytes"
}

@test "tx refuses a frame of a bad size with EINVAL, logged once" {
	start_pondd_taps --tap tap0
	lines_before=$(wc -l <"$PONDD_LOG")
	run_x 1 bash -c 'printf short >"$0"' "$MNT/netdev/tap0/tx"
	assert "$output" =~ "Invalid argument" "a 5-byte frame"
	run_x 1 bash -c 'head -c 1519 /dev/zero >"$0"' "$MNT/netdev/tap0/tx"
	assert "$output" =~ "Invalid argument" "a frame over the MTU"
	run_x 1 cat "$MNT/netdev/tap0/tx"
	assert "$output" =~ "Permission denied" "reading tx"
	assert "$(($(wc -l <"$PONDD_LOG") - lines_before))" -eq 3 "log lines"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 0 "tx_packets"
}

@test "cat x.pcap > inject sends every record, in order, in any chunking" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	receiver 7777 12
	frames=()
	for i in 1 2 3; do frames+=("$(frame_to_kernel tap0 7777 "record-$i")"); done
	pcap=$BATS_TEST_TMPDIR/x.pcap
	"$PYTHON3" "$NETPY" pcap "${frames[@]}" >"$pcap"
	cat "$pcap" >"$MNT/netdev/tap0/inject"
	"$PYTHON3" "$NETPY" pcap --be --nano "${frames[@]}" | dd of="$MNT/netdev/tap0/inject" bs=7 status=none
	"$PYTHON3" "$NETPY" pcap --nano "${frames[@]}" | dd of="$MNT/netdev/tap0/inject" bs=1 status=none
	"$PYTHON3" "$NETPY" pcap --be "${frames[@]}" >"$MNT/netdev/tap0/inject"
	assert "$(received 7777 | tr '\n' ' ')" == "$(for i in 1 2 3 4; do printf 'record-1 record-2 record-3 '; done)" "payloads"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 12 "tx_packets"
}

@test "inject takes the link-type fields libpcap takes, FCS bits and all, and refuses the others" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	frame=$(frame_to_kernel tap0 7777 flagged)
	for field in 0x30000001 0x34000001 0xf4000001; do
		"$PYTHON3" "$NETPY" pcap --linktype $((field)) "$frame" >"$BATS_TEST_TMPDIR/$field.pcap"
		run_x tcpdump -nr "$BATS_TEST_TMPDIR/$field.pcap"
	done
	receiver 7777 3
	for field in 0x30000001 0x34000001 0xf4000001; do
		cat "$BATS_TEST_TMPDIR/$field.pcap" >"$MNT/netdev/tap0/inject" || die "inject of a capture whose link-type field is $field"
	done
	assert "$(received 7777 | tr '\n' ' ')" == "flagged flagged flagged " "payloads"
	pcap=$BATS_TEST_TMPDIR/refused.pcap
	for field in 0x00010001 0x02000001 0x30000071; do
		"$PYTHON3" "$NETPY" pcap --linktype $((field)) "$frame" >"$pcap"
		run_x ? tcpdump -nr "$pcap"
		assert "$output" !~ "EN10MB" "libpcap reads link-type field $field as something other than Ethernet"
		before=$(wc -l <"$PONDD_LOG")
		run_x 1 bash -c 'cat "$0" >"$1"' "$pcap" "$MNT/netdev/tap0/inject"
		assert "$output" =~ "Invalid argument" "inject of link-type field $field"
		assert "$(($(wc -l <"$PONDD_LOG") - before))" -eq 1 "log lines for $field"
		assert "$(tail -1 "$PONDD_LOG")" =~ "$(printf '%#010x' $((field)))" "the log names the field"
	done
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 3 "tx_packets"
}

@test "bad pcap streams: EINVAL; the records before the bad one stay sent" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	good=$(frame_to_kernel tap0 7777 good)
	pcap() { "$PYTHON3" "$NETPY" pcap "$@" >"$BATS_TEST_TMPDIR/bad.pcap"; }
	inject_bad() {
		run_x 1 bash -c 'cat "$0" >"$1"' "$BATS_TEST_TMPDIR/bad.pcap" "$MNT/netdev/tap0/inject"
		assert "$output" =~ "Invalid argument" "$1"
		assert "$(tail -1 "$PONDD_LOG")" =~ "$2" "log of $1"
	}
	pcap --linktype 101 "$good"
	inject_bad "link type 101" "link type 101"
	printf 'not a pcap stream at all' >"$BATS_TEST_TMPDIR/bad.pcap"
	inject_bad "bad magic" "magic"
	pcap "$good" "$(head -c 1519 /dev/zero | xxd -p | tr -d '\n')" "$good"
	inject_bad "a record over the MTU" "1519 bytes, not 14 to 1518"
	pcap "$good" 0102 "$good"
	inject_bad "a 2-byte record" "frame size"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 2 "tx_packets: the good records before the bad ones"

	# head reports the failed close(2) of its output.
	pcap "$good" "$good"
	run_x 1 bash -c 'head -c -3 "$0" >"$1"' "$BATS_TEST_TMPDIR/bad.pcap" "$MNT/netdev/tap0/inject"
	assert "$output" =~ "Invalid argument" "close of a cut stream"
	assert "$(tail -1 "$PONDD_LOG")" =~ "stream ends inside a record" "log of a cut stream"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 3 "tx_packets: the whole record of a cut stream"
	assert "$(grep -c "stream ends inside" "$PONDD_LOG")" -eq 1 "a cut stream is logged once"
}

@test "capture: tcpdump -r reads a pcap stream of the frames received and sent after the open" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	udp_to_peer before-the-open
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets 1
	tcpdump -n -c 2 -r "$MNT/netdev/tap0/capture" >"$BATS_TEST_TMPDIR/dump" 2>&1 3>&- &
	dump=$!
	wait_for 10 holds_open "$dump" "$MNT/netdev/tap0/capture"
	udp_to_peer received
	printf "$(frame_to_kernel tap0 7777 sent --printf)" >"$MNT/netdev/tap0/tx"
	wait_for 10 exited "$dump"
	wait "$dump" || die "tcpdump failed: $(cat "$BATS_TEST_TMPDIR/dump")"
	cat "$BATS_TEST_TMPDIR/dump"
	run_x grep -c UDP "$BATS_TEST_TMPDIR/dump"
	assert "$output" -eq 2 "frames in the capture"
	assert "$(grep UDP "$BATS_TEST_TMPDIR/dump" | sed -n 1p)" =~ "$KERNEL_IP\.[0-9]+ > $PEER_IP\.9999: UDP, length 8" "the received frame"
	assert "$(grep UDP "$BATS_TEST_TMPDIR/dump" | sed -n 2p)" =~ "$PEER_IP\.12345 > $KERNEL_IP\.7777: UDP, length 4" "the sent frame"
	run_x "$PYTHON3" "$NETPY" seek "$MNT/netdev/tap0/capture"
	assert "$output" == "ESPIPE" "lseek on capture"
}

@test "capture: Ctrl-C ends a read that waits for frames, at once" {
	start_pondd_taps --tap tap0
	# Background jobs of a script ignore SIGINT; env gives cat it back.
	env --default-signal=INT cat "$MNT/netdev/tap0/capture" >/dev/null 3>&- &
	reader=$!
	wait_for 10 blocked_in_read "$reader"
	kill -INT "$reader"
	wait_for 3 exited "$reader"
	rc=0
	wait "$reader" || rc=$?
	assert "$rc" -eq $((128 + 2)) "cat's exit status: killed by SIGINT"
	env --default-signal=INT tcpdump -n -r "$MNT/netdev/tap0/capture" >/dev/null 2>&1 3>&- &
	reader=$!
	wait_for 10 blocked_in_read "$reader"
	kill -INT "$reader"
	wait_for 3 exited "$reader"
	wait "$reader" || true
	assert "$(grep -c "capture: .*context canceled" "$PONDD_LOG")" -eq 2 "interrupted reads logged"
}

@test "capture: a slow reader loses frames, counted, and the device loses none" {
	start_pondd_taps --tap tap0 --rx-queue 16
	kernel_side tap0
	exec 4<"$MNT/netdev/tap0/capture"
	payload=$(head -c 1400 /dev/zero | tr '\0' x)
	# In batches the TAP's own queue (500 frames) holds, so that the kernel
	# drops none of them.
	for n in 100 200 300 400 500 600 700 800 900; do
		udp_to_peer "$payload" 100
		wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets $n
	done
	assert "$(stat_of "$MNT/netdev/tap0/stats" capture_lost)" -gt 0 "capture_lost"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_dropped)" -eq $((900 - 16)) "rx_dropped: only what the queue of 16 could not keep"
	# What the capture kept is a well-formed stream.
	timeout 5 head -c $((24 + 16 * (16 + 1442))) <&4 >"$BATS_TEST_TMPDIR/kept.pcap"
	exec 4<&-
	run_x tcpdump -n -r "$BATS_TEST_TMPDIR/kept.pcap"
	assert "${#lines[@]}" -eq 17 "16 frames and tcpdump's header line"
	wait_for 10 grep -q "capture: a reader lost [0-9]* frames" "$PONDD_LOG"
}

@test "ip link del under pondd: logged, marked down, its reads end; everything else goes on" {
	start_pondd_taps --tap tap0 --tap tap1
	kernel_side tap1 10.98.0.1/24 10.98.0.2
	cat "$MNT/netdev/tap0/capture" >"$BATS_TEST_TMPDIR/cap" 3>&- &
	reader=$!
	wait_for 10 blocked_in_read "$reader"
	ip link del tap0
	wait_for 10 grep -q "netdev/tap0 is down" "$PONDD_LOG"
	wait_for 10 exited "$reader"
	wait "$reader" || die "cat of the capture of a deleted device failed"
	assert "$(stat -c %s "$BATS_TEST_TMPDIR/cap")" -eq 24 "the capture: a pcap header, then the end"
	assert "$(stat_of "$MNT/netdev/tap0/stats" up)" -eq 0 "up"
	run_x 1 bash -c 'printf "$0" >"$1"' "$(frame_to_kernel tap1 7777 x --printf)" "$MNT/netdev/tap0/tx"
	assert "$output" =~ "Input/output error" "tx of a deleted device"
	run_x 1 cat "$MNT/netdev/tap0/capture"
	assert "$output" =~ "Input/output error" "capture of a deleted device"
	assert "$(queued tap0)" -eq 0 "frames of a deleted device"
	"$PYTHON3" "$NETPY" send 10.98.0.2 9999 1 still-here
	wait_for 10 stat_is "$MNT/netdev/tap1/stats" rx_packets 1
	assert "$(stat_of "$MNT/netdev/tap1/stats" up)" -eq 1 "the other device"
	run_x cat "$MNT/stats"
	stop_pondd
}

@test "SIGTERM while a capture reader waits: its stream ends, pondd unmounts and exits 0" {
	start_pondd_taps --tap tap0
	cat "$MNT/netdev/tap0/capture" >"$BATS_TEST_TMPDIR/cap" 3>&- &
	reader=$!
	wait_for 10 blocked_in_read "$reader"
	stop_pondd TERM
	wait_for 10 exited "$reader"
	wait "$reader" || die "the capture reader failed"
	assert "$(stat -c %s "$BATS_TEST_TMPDIR/cap")" -eq 24 "the capture: a pcap header, then the end"
	assert "$(cat "$PONDD_LOG")" !~ "detaching it lazily" "log"
	run_x 1 ip link show dev tap0
}
