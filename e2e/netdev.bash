# netdev.bash: what the netdev suites load after helpers (`load netdev`):
# TAP devices fed to pondd, the kernel's side of them, frames and pcap
# streams built by lib/net.py, and a teardown that gives the queued frames
# back before the leak check.
#
# Everything here happens in the private network namespace scripts/test
# runs bats in; FORWARD_NS, when a test makes it, is another one inside it.

NETPY=$BATS_TEST_DIRNAME/lib/net.py
# The kernel's side of tap0 and the peer it talks to, which pondd plays.
KERNEL_IP=10.99.0.1
PEER_IP=10.99.0.2
PEER_MAC=02:00:00:00:00:02

# setup_file: no IPv6 in this namespace, so that a new TAP gets no
# router solicitations or neighbour discovery the tests did not send.
setup_file() {
	sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# Keep helpers.bash's teardown as helpers_teardown, to run after ours.
eval "helpers_$(declare -f teardown)"

# teardown consumes every queued frame, so that the leak check sees only
# buffers nobody holds, then does what helpers.bash does; it also removes
# the forwarding namespace and persistent TAPs a test made.
teardown() {
	if [ -n "$PONDD_PID" ] && alive "$PONDD_PID" && [ -d "$MNT/netdev" ]; then
		drain_rx
	fi
	helpers_teardown
	[ -z "${FORWARD_NS:-}" ] || ip netns del "$FORWARD_NS"
	local tap
	for tap in ${PERSISTENT_TAPS:-}; do
		ip link del "$tap" 2>/dev/null || true
	done
}

# drain_rx consumes the frames queued on every device.
drain_rx() {
	local f
	for f in "$MNT"/netdev/*/rx/*; do
		[ -d "$f" ] && rmdir "$f" 2>/dev/null
	done
	return 0
}

# start_pondd_taps [FLAG...]: start_pondd, then wait until the receiver of
# each --tap has taken its spare buffer (it takes the next frame's buffer
# before the frame comes) and take the leak check's baseline again, with
# those buffers in it.
start_pondd_taps() {
	start_pondd "$@"
	local dev
	for dev in "$MNT"/netdev/*/; do
		wait_for 10 spare_taken "$(basename "$dev")"
	done
	record_baseline
}

# spare_taken IF: the receiver of IF holds a buffer.
spare_taken() {
	[ "$(stat_of "$MNT/accounts/rx.$1/stats" used_bytes)" -gt 0 ]
}

# kernel_side IF [ADDR [PEER]]: give the kernel's side of TAP IF an address
# (default $KERNEL_IP/24) and a static neighbour PEER with $PEER_MAC, so
# that traffic to PEER goes out through pondd without ARP.
kernel_side() {
	local dev=$1 addr=${2:-$KERNEL_IP/24} peer=${3:-$PEER_IP}
	ip link set "$dev" up
	ip addr add "$addr" dev "$dev"
	ip neigh replace "$peer" lladdr "$PEER_MAC" dev "$dev" nud permanent
}

# mac_of IF: the MAC address of IF (from ip: /sys shows the namespace
# that mounted it, not this one).
mac_of() { ip -br link show dev "$1" | awk '{ print $3 }'; }

# stat_is FILE NAME VALUE: NAME in stats FILE is VALUE now (for wait_for).
stat_is() { [ "$(stat_of "$1" "$2")" == "$3" ]; }

# stat_at_least FILE NAME VALUE: NAME in stats FILE is VALUE or more.
stat_at_least() { [ "$(stat_of "$1" "$2")" -ge "$3" ]; }

# udp_to_peer PAYLOAD [COUNT] [PORT]: the kernel sends COUNT datagrams
# (default 1) to the peer through tap0; {} in PAYLOAD is the number.
udp_to_peer() {
	"$PYTHON3" "$NETPY" send "$PEER_IP" "${3:-9999}" "${2:-1}" "$1"
}

# frame_to_kernel IF PORT PAYLOAD [--printf]: a frame from the peer to the
# kernel's side of IF, UDP to PORT, as hex or printf escapes.
frame_to_kernel() {
	"$PYTHON3" "$NETPY" frame "$(mac_of "$1")" "$PEER_IP" "$KERNEL_IP" "$2" "$3" ${4:-}
}

# receiver PORT COUNT: a UDP socket on the kernel's address, in the
# background, whose payloads go to $BATS_TEST_TMPDIR/recv.PORT; returns
# once it is bound. RECV_PID is its process.
receiver() {
	local ready=$BATS_TEST_TMPDIR/ready.$1
	"$PYTHON3" "$NETPY" recv "$KERNEL_IP" "$1" "$2" "$ready" >"$BATS_TEST_TMPDIR/recv.$1" 3>&- &
	RECV_PID=$!
	wait_for 10 test -e "$ready"
}

# received PORT: wait for the receiver on PORT to finish and print what it
# got.
received() {
	local rc=0
	wait "$RECV_PID" || rc=$?
	cat "$BATS_TEST_TMPDIR/recv.$1"
	[ "$rc" -eq 0 ] || die "the receiver on port $1 failed (exit $rc)"
}

# queued IF: how many frames rx/ of IF lists.
queued() { ls "$MNT/netdev/$1/rx" | wc -l; }

# holds_open PID FILE: PID has FILE open.
holds_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" == "$2" ] && return 0
	done
	return 1
}

# blocked_in_read PID: PID sleeps in read(2) (syscall 0 on x86-64, 63 on
# arm64) waiting for a FUSE answer, as a reader of capture does.
blocked_in_read() {
	local nr
	nr=$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null) || return 1
	{ [ "$nr" == 0 ] || [ "$nr" == 63 ]; } && [ "$(cat "/proc/$1/wchan" 2>/dev/null)" == request_wait_answer ]
}
