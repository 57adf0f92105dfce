#!/usr/bin/env bats
# Rings: netdev/<if>/rings/rx and rings/tx, driven by lib/ringclient (a
# Go program that maps the arena) and by the README's Python loops, run
# as printed.

load helpers
load netdev

eval "netdev_$(declare -f setup_file)"

# setup_file builds the ring client, then does what netdev.bash does.
setup_file() {
	netdev_setup_file
	(cd "$BATS_TEST_DIRNAME/.." && go build -o "$BATS_FILE_TMPDIR/ringclient" ./e2e/lib/ringclient)
}

RINGCLIENT=$BATS_FILE_TMPDIR/ringclient

eval "netdev_$(declare -f teardown)"

# teardown ends a ring holder a failed test left, so that the leak check
# sees its rings given back, then does what netdev.bash does.
teardown() {
	if [ -n "${HOLD_PID:-}" ]; then
		kill "$HOLD_PID" 2>/dev/null || true
		wait "$HOLD_PID" 2>/dev/null || true
		wait_for 10 test "$(stat_of "$MNT/accounts/fs/stats" used_bytes)" -eq 0 || true
	fi
	netdev_teardown
}

# readme_python NAME: the fenced python block that follows the README's
# line naming NAME, as printed.
readme_python() {
	awk -v name="$1" '
		index($0, name) && !seen { seen = 1; next }
		seen == 1 && /^```python$/ { seen = 2; next }
		seen == 2 && /^```$/ { exit }
		seen == 2 { print }
	' "$BATS_TEST_DIRNAME/../README.md"
}

# pcap_hex FILE: each record of a pcap file, in hex, one a line.
pcap_hex() {
	"$PYTHON3" -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
i = 24
while i < len(d):
    n = struct.unpack_from("<I", d, i + 8)[0]
    print(d[i + 16:i + 16 + n].hex())
    i += 16 + n
' "$1"
}

# hold_rings: a ringclient holding both rings of tap0 in the background;
# HOLD_PID is its process.
hold_rings() {
	"$RINGCLIENT" hold "$MNT" tap0 >"$BATS_TEST_TMPDIR/hold" 3>&- &
	HOLD_PID=$!
	wait_for 10 grep -q attached "$BATS_TEST_TMPDIR/hold"
}

# frames_to_kernel IF PORT PREFIX COUNT: COUNT frames as frame_to_kernel
# makes them, one a line in hex, carrying PREFIX1 .. PREFIXCOUNT.
frames_to_kernel() {
	"$PYTHON3" -c '
import sys
sys.path.insert(0, sys.argv[1])
import net
mac, port, prefix, count = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
for i in range(1, count + 1):
    print(net.frame(mac, "'"$PEER_IP"'", "'"$KERNEL_IP"'", port, f"{prefix}{i}".encode()).hex())
' "$BATS_TEST_DIRNAME/lib" "$(mac_of "$1")" "$2" "$3" "$4"
}

# pools_in_use: the in_use of every pool, on one line.
pools_in_use() {
	local d
	for d in "$MNT"/pools/*/; do printf '%s ' "$(stat_of "$d/stats" in_use)"; done
}

@test "frames from the kernel arrive in a receive ring byte-for-byte and in order; rx/ sees none" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	"$RINGCLIENT" rx "$MNT" tap0 20 >"$BATS_TEST_TMPDIR/ring" 3>&- &
	local client=$!
	timeout 20 tcpdump -r "$MNT/netdev/tap0/capture" -c 20 -w "$BATS_TEST_TMPDIR/cap.pcap" 2>/dev/null 3>&- &
	local dump=$!
	wait_for 10 stat_of_ring_attached
	udp_to_peer "ring{}" 20
	wait "$client" || die "ringclient rx failed"
	wait "$dump" || die "tcpdump of capture failed"
	run_x cat "$BATS_TEST_TMPDIR/ring"
	assert "$(wc -l <"$BATS_TEST_TMPDIR/ring")" -eq 20 "frames from the ring"
	assert "$(pcap_hex "$BATS_TEST_TMPDIR/cap.pcap")" == "$(cat "$BATS_TEST_TMPDIR/ring")" "the ring's frames against the capture's"
	local i=1 line
	while read -r line; do
		assert "$line" =~ "$(printf "ring$i" | od -An -tx1 | tr -d ' \n')\$" "frame $i's payload"
		i=$((i + 1))
	done <"$BATS_TEST_TMPDIR/ring"
	assert "$(queued tap0)" -eq 0 "frames in rx/"
	assert "$(stat_of "$MNT/netdev/tap0/stats" rx_packets)" -eq 20 "rx_packets"
}

# stat_of_ring_attached: the fs account holds a ring (its buffers).
stat_of_ring_attached() { [ "$(stat_of "$MNT/accounts/fs/stats" used_bytes)" -gt 0 ]; }

@test "the README's receive loop, run as printed, prints the frames of tap0" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	readme_python ring_rx.py >"$BATS_TEST_TMPDIR/ring_rx.py"
	[ -s "$BATS_TEST_TMPDIR/ring_rx.py" ] || die "no ring_rx.py in README.md"
	(cd "$MNT" && exec timeout 20 "$PYTHON3" "$BATS_TEST_TMPDIR/ring_rx.py" tap0 5 >"$BATS_TEST_TMPDIR/out" 3>&-) &
	local py=$!
	wait_for 10 stat_of_ring_attached
	udp_to_peer "py{}" 5
	wait "$py" || die "ring_rx.py failed"
	run_x cat "$BATS_TEST_TMPDIR/out"
	assert "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 5 "frames printed"
	assert "$(tail -1 "$BATS_TEST_TMPDIR/out")" =~ "$(printf py5 | od -An -tx1 | tr -d ' \n')\$" "the last frame"
}

@test "frames produced in a transmit ring reach a UDP socket on the kernel's side, in order" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	frames_to_kernel tap0 7001 go 100 >"$BATS_TEST_TMPDIR/frames"
	receiver 7001 100
	run_x "$RINGCLIENT" tx "$MNT" tap0 <"$BATS_TEST_TMPDIR/frames"
	received 7001 >"$BATS_TEST_TMPDIR/got"
	output=$(cat "$BATS_TEST_TMPDIR/got")
	assert "$(echo $output)" == "$(for i in $(seq 1 100); do printf 'go%s ' "$i"; done | sed 's/ $//')" "datagrams"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_packets)" -eq 100 "tx_packets"
}

@test "the README's send loop, run as printed, sends to the kernel" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	readme_python ring_tx.py >"$BATS_TEST_TMPDIR/ring_tx.py"
	[ -s "$BATS_TEST_TMPDIR/ring_tx.py" ] || die "no ring_tx.py in README.md"
	frames_to_kernel tap0 7002 py 300 >"$BATS_TEST_TMPDIR/frames"
	receiver 7002 300
	run_x bash -c 'cd "$1" && exec "$2" "$3" <"$4"' _ "$MNT" "$PYTHON3" "$BATS_TEST_TMPDIR/ring_tx.py" "$BATS_TEST_TMPDIR/frames"
	received 7002 >"$BATS_TEST_TMPDIR/got"
	output=$(cat "$BATS_TEST_TMPDIR/got")
	assert "$(echo "$output" | head -1) $(echo "$output" | tail -1) $(echo "$output" | wc -l)" == "py1 py300 300" "datagrams"
}

@test "a kick with a slot length out of range sends the rest and fails with EINVAL" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	{
		frame_to_kernel tap0 7003 one
		echo 0011223344
		frame_to_kernel tap0 7003 two
	} >"$BATS_TEST_TMPDIR/frames"
	receiver 7003 2
	run_x 1 "$RINGCLIENT" tx "$MNT" tap0 <"$BATS_TEST_TMPDIR/frames"
	assert "$output" =~ "invalid argument" "the kick's error"
	received 7003 >"$BATS_TEST_TMPDIR/got"
	output=$(cat "$BATS_TEST_TMPDIR/got")
	assert "$(echo $output)" == "one two" "datagrams"
	assert "$(stat_of "$MNT/netdev/tap0/stats" tx_errors)" -eq 1 "tx_errors"
}

@test "a full receive ring drops the new frames and counts them" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	hold_rings
	local slots
	slots=$(awk '{ print $3 }' "$BATS_TEST_TMPDIR/hold")
	ip link set tap0 txqueuelen $((slots + 100)) # the kernel's queue drops none of the burst
	udp_to_peer "f{}" $((slots + 10))
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_packets "$slots"
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_dropped 10
	assert "$(queued tap0)" -eq 0 "frames in rx/"
}

# ring_buffers KIND: the lines of the pools' buffers files that name
# tap0's KIND ring, held once, charged to fs.
ring_buffers() { cat "$MNT"/pools/*/buffers | grep " 1 fs ring tap0 $1 " || true; }

# no_ring_buffers: no buffers line names a ring.
no_ring_buffers() { ! grep -q " ring " "$MNT"/pools/*/buffers; }

@test "buffers names the header and every slot of each ring attached, until it is closed" {
	start_pondd_taps --tap tap0
	no_ring_buffers || die "a ring's buffers before any ring is attached"
	hold_rings
	local slots kind
	slots=$(awk '{ print $3 }' "$BATS_TEST_TMPDIR/hold")
	for kind in rx tx; do
		assert "$(ring_buffers "$kind" | grep -c .)" -eq $((slots + 1)) "buffers of the $kind ring: its header and $slots slots"
	done
	kill "$HOLD_PID"
	wait "$HOLD_PID" || true
	wait_for 10 no_ring_buffers
}

@test "a second ring of the same kind fails with EBUSY; closing the first makes room" {
	start_pondd_taps --tap tap0
	hold_rings
	run_x 1 bash -c 'exec 4<>"$1"' _ "$MNT/netdev/tap0/rings/rx"
	assert "$output" =~ "Device or resource busy" "a second rx ring"
	run_x 1 bash -c 'exec 4<>"$1"' _ "$MNT/netdev/tap0/rings/tx"
	assert "$output" =~ "Device or resource busy" "a second tx ring"
	grep -q 'rings/rx: .*one is attached' "$PONDD_LOG" || die "no log line for EBUSY"
	kill "$HOLD_PID"
	wait "$HOLD_PID" || true
	wait_for 10 bash -c 'exec 4<>"$1"' _ "$MNT/netdev/tap0/rings/rx"
}

@test "kill -9 of a program holding both rings gives every buffer back" {
	start_pondd_taps --tap tap0
	local before
	before=$(pools_in_use)
	hold_rings
	assert "$(pools_in_use)" != "$before" "pools' in_use with both rings attached"
	kill -9 "$HOLD_PID"
	wait "$HOLD_PID" || true
	wait_for 10 test "$(pools_in_use)" == "$before"
	assert "$(stat_of "$MNT/accounts/fs/stats" used_bytes)" -eq 0 "accounts/fs used_bytes"
}

@test "a signal interrupts a read waiting on a ring at once" {
	start_pondd_taps --tap tap0
	local t0=$SECONDS rc=0
	timeout -s INT 1 "$RINGCLIENT" rx "$MNT" tap0 1 3>&- || rc=$?
	assert "$rc" -eq 124 "exit status of the interrupted reader"
	assert $((SECONDS - t0)) -le 3 "seconds until it ended"
	alive "$PONDD_PID" || die "pondd died"
}

@test "a ring on a device deleted under it ends cleanly" {
	start_pondd_taps --tap tap0
	"$RINGCLIENT" rx "$MNT" tap0 5 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local client=$!
	wait_for 10 stat_of_ring_attached
	ip link del tap0
	local rc=0
	wait "$client" || rc=$?
	assert "$rc" -eq 1 "ringclient's exit status"
	assert "$(cat "$BATS_TEST_TMPDIR/out")" =~ "ring ended" "ringclient's last words"
	wait_for 10 test "$(stat_of "$MNT/accounts/fs/stats" used_bytes)" -eq 0
	assert "$(stat_of "$MNT/netdev/tap0/stats" up)" -eq 0 "up"
	alive "$PONDD_PID" || die "pondd died"
}

@test "random bytes over both rings, header and slots, do no harm" {
	start_pondd_taps --tap tap0
	kernel_side tap0
	local seed
	for seed in $(seq 1 20); do
		run_x "$RINGCLIENT" hostile "$MNT" tap0 "$seed"
	done
	alive "$PONDD_PID" || die "pondd died"
	echo -n after >"/dev/udp/$PEER_IP/9999"
	wait_for 10 stat_is "$MNT/netdev/tap0/stats" rx_queue 1
	assert "$(cat "$MNT/netdev/tap0/rx/1/data")" == "after" "a frame after the rings are gone"
	wait_for 10 test "$(stat_of "$MNT/accounts/fs/stats" used_bytes)" -eq 0
}
