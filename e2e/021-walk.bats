#!/usr/bin/env bats
# What common tools make of the tree as a whole: files produced at each
# open read whole whatever their size was a moment ago, and a recursive
# walk (grep -r) neither waits on a stream nor makes chains as it passes.

load helpers
load netdev

# in_use_128: the line of metrics for the 128-byte pool's buffers in use.
in_use_128() { grep '^pond_pool_in_use{size="128"}' "$MNT/metrics"; }

@test "a produced file that just shrank reads as text, whole, by grep, cp and python" {
	start_pondd
	for i in $(seq 10); do
		mkdir "$MNT/chains/c$i"
		echo x >"$MNT/chains/c$i/data"
	done
	assert "$(in_use_128)" == 'pond_pool_in_use{size="128"} 10' "metrics with ten chains"
	# stat(2) first: the kernel keeps what it says for a second, so a size
	# reported here would still be believed after the file shrinks.
	stat "$MNT/metrics" >/dev/null
	rmdir "$MNT/chains/c10"
	run_x grep '^pond_pool_in_use{size="128"}' "$MNT/metrics"
	assert "$output" == 'pond_pool_in_use{size="128"} 9' "grep of metrics that shrank"
	run_x cp "$MNT/metrics" "$BATS_TEST_TMPDIR/m"
	assert "$(tail -c1 "$BATS_TEST_TMPDIR/m" | od -An -c | tr -d ' ')" == '\n' "last byte of the copy"
	run_x grep -c . "$BATS_TEST_TMPDIR/m"
	run_x "$PYTHON3" -c '
import sys
text = open(sys.argv[1]).read()
assert text.endswith("\n"), repr(text[-20:])
assert "\0" not in text
print(len(text.splitlines()))
' "$MNT/metrics"
	assert "$output" -eq "$(grep -c . "$BATS_TEST_TMPDIR/m")" "lines python read"
	for i in $(seq 9); do rmdir "$MNT/chains/c$i"; done
}

@test "grep -r over the whole tree finishes and makes no chain" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	# A capture reader that waits, as tcpdump does, still waits: only a
	# walk's non-blocking open is told there is nothing yet.
	head -c 25 "$MNT/netdev/tap0/capture" >"$BATS_TEST_TMPDIR/head" 3>&- &
	local head_pid=$!
	wait_for 10 blocked_in_read "$head_pid"
	run_x 2 grep -r arena_zero_copy "$MNT"
	assert "$output" =~ "$MNT/stats:arena_zero_copy " "match in stats"
	assert "$output" =~ "$MNT/netdev/tap0/capture: Resource temporarily unavailable" "capture skipped"
	assert "$output" =~ "$MNT/chains/new: Resource temporarily unavailable" "chains/new skipped"
	assert "$output" =~ "$MNT/netdev/tap0/next: Resource temporarily unavailable" "next skipped"
	assert "$output" =~ "$MNT/netdev/tap0/rings/rx: Operation not permitted" "no ring attached by the walk"
	assert "$(stat_of "$MNT/stats" chains)" -eq 0 "chains after the walk"
	assert "$(ls "$MNT/chains")" == new "chains/"
	udp_to_peer hello
	wait "$head_pid"
	assert "$(od -An -t x1 -N4 "$BATS_TEST_TMPDIR/head" | tr -d ' ')" =~ "^(d4c3b2a1|4d3cb2a1)$" "pcap magic read by head"
	run_x cat "$MNT/chains/new"
	assert "$output" == 1 "cat chains/new still makes a chain"
	rmdir "$MNT/chains/1"
}
