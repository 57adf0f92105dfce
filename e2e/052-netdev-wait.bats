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
	seq=$(timeout 5 head -n1 "$MNT/netdev/tap0/next")
	assert "$seq" == 1 "a new open starts before every queued frame"
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
