#!/usr/bin/env bats
# Waiting for frames and choosing them: netdev/<if>/next, a cursor over
# the received frames that a shell test blocks on, and netdev/<if>/filter,
# a classic BPF program the kernel runs on the TAP before pondd sees a
# frame.

load helpers
load netdev

# ms: milliseconds on the monotonic clock the shell sees.
ms() { echo $(($(date +%s%N) / 1000000)); }

@test "next: a cursor returns the seqs of the frames sent after the open, in order" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	exec 4<"$MNT/netdev/tap0/next"
	udp_to_peer "n{}" 3
	got=
	for _ in 1 2 3; do
		read -r -t 5 seq <&4 || die "no seq within 5 s (got: $got)"
		got="$got $seq"
	done
	assert "$got" == " 1 2 3" "seqs read"
	udp_to_peer "late" 1
	read -r -t 5 seq <&4 || die "no seq for the fourth frame"
	assert "$seq" == 4 "the cursor goes on"
	exec 4<&-
	run_x timeout 5 head -n1 "$MNT/netdev/tap0/next"
	assert "$output" == 1 "a new open starts before every queued frame (and head exits 0, silent)"
	run_x timeout 5 head -n2 "$MNT/netdev/tap0/next"
	assert "$(echo $output)" == "1 2" "head -n2"
	assert "$(cat "$MNT/netdev/tap0/rx/4/data")" == "late" "the frame of the seq"
}

@test "next: a wait ends on a signal when no frame comes; a frame wakes it" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	t0=$(ms)
	rc=0
	timeout 1 head -n1 "$MNT/netdev/tap0/next" || rc=$?
	took=$(($(ms) - t0))
	assert "$rc" -eq 124 "exit status of timeout 1 head -n1 next"
	assert "$took" -lt 2500 "milliseconds until timeout 1 gave up"
	head -n1 "$MNT/netdev/tap0/next" >"$BATS_TEST_TMPDIR/seq" 3>&- &
	waiter=$!
	wait_for 10 blocked_in_read "$waiter"
	udp_to_peer "wake" 1
	wait_for 5 exited "$waiter"
	wait "$waiter" || die "head on next failed"
	assert "$(cat "$BATS_TEST_TMPDIR/seq")" == 1 "seq of the frame that woke it"
}

@test "next: frames dropped before the cursor returned them are skipped" {
	start_pondd_taps --tap tap0 --rx-queue 2
	kernel_side tap0
	exec 4<"$MNT/netdev/tap0/next"
	udp_to_peer "n{}" 5
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets 5
	read -r -t 5 a <&4 && read -r -t 5 b <&4 || die "no seqs"
	assert "$a $b" == "4 5" "seqs after drops"
	exec 4<&-
	run_x 1 bash -c "echo x > $MNT/netdev/tap0/next"
}

@test "filter: with udp port 9999 only that frame comes; IPv6 chatter and port 9998 are filtered and counted" {
	start_pondd_taps --tap tap0
	f=$MNT/netdev/tap0/filter
	assert "$(cat "$f")" == "" "filter before any is set"
	tcpdump -ddd 'udp port 9999' 2>/dev/null >"$f"
	assert "$(cat "$f")" == "$(tcpdump -ddd 'udp port 9999' 2>/dev/null)" "filter read back"
	# The kernel's own IPv6 traffic (neighbour discovery, MLD) starts
	# when the link gets IPv6.
	sysctl -qw net.ipv6.conf.tap0.disable_ipv6=0
	kernel_side tap0
	wait_for 10 stat_at_least "$MNT/netdev/tap0/stats" rx_filtered 1
	chatter=$(stat_of "$MNT/netdev/tap0/stats" rx_filtered)
	udp_to_peer "not for us" 1 9998
	udp_to_peer "hello" 1 9999
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets 1
	wait_for 10 stat_at_least "$MNT/netdev/tap0/stats" rx_filtered $((chatter + 1))
	run_x ls "$MNT/netdev/tap0/rx"
	assert "$output" == "1" "rx/"
	assert "$(cat "$MNT/netdev/tap0/rx/1/data")" == "hello" "the one frame"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_packets)" -eq 1 "rx_packets"
}

@test "filter: bad programs fail with EINVAL, logged, and the old filter stays; an empty write removes it" {
	start_pondd_taps --tap tap0
	f=$MNT/netdev/tap0/filter
	tcpdump -ddd 'udp port 9999' 2>/dev/null >"$f"
	want=$(cat "$f")
	for bad in 'garbage\n' '1\n6 0 0 0\n6 0 0 0\n' '1\n6 0 0\n' '1\n0 0 0 0\n' '0\n' '1\n6 0 0 4294967296\n'; do
		run_x 1 bash -c "printf '$bad' > $f"
		assert "$output" =~ "Invalid argument" "error of: printf '$bad'"
		assert "$(cat "$f")" == "$want" "filter after printf '$bad'"
	done
	assert "$(grep -c "write netdev/tap0/filter" "$PONDD_LOG")" -eq 6 "log lines"
	grep -q "bad filter program" "$PONDD_LOG" || die "no reason logged"
	# A program cut short fails at close, where python sees it.
	run_x 1 "$PYTHON3" -c "f = open('$f', 'w'); f.write('2\n6 0 0 0\n'); f.close()"
	assert "$output" =~ "Invalid argument" "close of a program cut short"
	assert "$(cat "$f")" == "$want" "filter after a program cut short"
	echo >"$f"
	assert "$(cat "$f")" == "" "filter after an empty write"
	kernel_side tap0
	udp_to_peer "through" 1 9998
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets 1
}

@test "buffers names the frame holding a received buffer, and those staged for the next one as pond" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	udp_to_peer "hello" 1
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_queue 1
	run_x grep -h " rx tap0 1 " "$MNT"/pools/*/buffers
	assert "$(echo "$output" | wc -l)" -eq 1 "buffers of frame 1"
	assert "$(echo "$output" | awk '{ print $2, $3 }')" == "1 rx.tap0" "refs and account"
	assert "$(cat "$MNT/netdev/tap0/rx/1/data")" == "hello" "the frame, now a chain"
	run_x grep -h " rx tap0 1 " "$MNT"/pools/*/buffers
	assert "$(echo "$output" | wc -l)" -eq 1 "buffers of frame 1 as a chain"
	run_x grep -h " rx.tap0 pond " "$MNT"/pools/*/buffers
	assert "$(echo "$output" | wc -l)" -ge 1 "the buffers staged for the next frame (a list, when the pool's buffers are smaller than a frame)"
}
