# helpers.bash: what every e2e suite loads (`load helpers`). Shaped like
# podman's test/system helpers: run_x under a timeout, assert, die, bounded
# wait_for polling (never a bare sleep), a daemon per test on a temporary
# mount, and a leak check at teardown.
#
# scripts/test runs the suites as root inside `unshare --net --mount`, so
# mounts made here vanish with the namespace even if a test dies.

PONDD=${PONDD:?PONDD must name a built pondd binary}
# Seconds any one command may take before it counts as hung.
E2E_TIMEOUT=${E2E_TIMEOUT:-20}
# Debian's python3 where there is one: a version manager's shim on PATH can
# take seconds to start.
PYTHON3=python3
[ -x /usr/bin/python3 ] && PYTHON3=/usr/bin/python3

# die MESSAGE: fail the test with a visible banner.
die() {
	echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv" >&2
	echo "#| FAIL: $*" >&2
	echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^" >&2
	false
}

# run_x [RC] COMMAND...: run COMMAND under a timeout with bats' run, show
# it and its output, and fail unless it exits RC (default 0; "?" takes
# any). $status and $output are set as by run.
run_x() {
	local want=0
	if [[ $1 =~ ^([0-9]+|\?)$ ]]; then
		want=$1
		shift
	fi
	run timeout --kill-after=5 "$E2E_TIMEOUT" "$@"
	echo "\$ $*"
	[ -n "$output" ] && printf '%s\n' "$output"
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		die "timed out after ${E2E_TIMEOUT}s: $*"
	fi
	if [ "$want" != "?" ] && [ "$status" -ne "$want" ]; then
		die "exit status $status, expected $want: $*"
	fi
}

# assert ACTUAL OP EXPECTED [WHAT]: compare with one of == != =~ !~
# (strings, regexes) or -eq -ne -lt -le -gt -ge (integers).
assert() {
	local actual=$1 op=$2 expected=$3 what=${4:-value}
	local ok=1
	case $op in
	'==') [[ $actual == "$expected" ]] || ok=0 ;;
	'!=') [[ $actual != "$expected" ]] || ok=0 ;;
	'=~') [[ $actual =~ $expected ]] || ok=0 ;;
	'!~') [[ ! $actual =~ $expected ]] || ok=0 ;;
	-eq | -ne | -lt | -le | -gt | -ge) [ "$actual" "$op" "$expected" ] || ok=0 ;;
	*) die "assert: unknown operator $op" ;;
	esac
	[ "$ok" -eq 1 ] || die "$what: expected $op '$expected', got '$actual'"
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds; die after
# SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || die "gave up after waiting for: $*"
		sleep 0.05
	done
}

# is_mounted DIR: DIR is a mount point in this namespace.
is_mounted() {
	awk -v d="$1" '$5 == d { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# mount_line DIR: DIR's line of /proc/self/mountinfo.
mount_line() {
	awk -v d="$1" '$5 == d' /proc/self/mountinfo
}

# alive PID: the process still runs.
alive() { kill -0 "$1" 2>/dev/null; }

# exited PID: the process has gone (also a zombie not yet waited for).
exited() { ! alive "$1" || [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]]; }

# stat_of FILE NAME: the value of NAME in a stats file.
stat_of() {
	awk -v n="$2" '$1 == n { print $2; found = 1 } END { exit !found }' "$1"
}

# Per-test paths: MNT the mount point, PONDD_LOG the daemon's stderr;
# CLEANUP lists paths teardown removes.
setup() {
	MNT=$BATS_TEST_TMPDIR/mnt
	PONDD_LOG=$BATS_TEST_TMPDIR/pondd.log
	PONDD_PID=
	CLEANUP=()
	FUSE_BOUND=
	declare -gA IN_USE_BASELINE=()
}

# AS_NOBODY is a command prefix that runs the rest as the unprivileged
# user nobody (an array, so that run_x can run it under timeout).
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)

# nobody_setup: a copy of pondd and a mount point nobody can use, in a
# directory of their own (the bats temporary directories are root's
# alone); MNT moves there.
nobody_setup() {
	NOBODY_DIR=$(mktemp -d /tmp/pondfs-e2e.XXXXXX)
	CLEANUP+=("$NOBODY_DIR")
	chmod 755 "$NOBODY_DIR"
	cp "$PONDD" "$NOBODY_DIR/pondd"
	MNT=$NOBODY_DIR/mnt
	mkdir "$MNT"
	chown nobody "$MNT"
	fuse_for_users
}

# fuse_for_users: fusermount3 opens /dev/fuse as the calling user, and
# Debian makes it 0666; where it is root's alone, bind a node anyone may
# open over it, in this mount namespace only, until teardown.
fuse_for_users() {
	"${AS_NOBODY[@]}" test -r /dev/fuse -a -w /dev/fuse && return 0
	mknod -m 666 "$NOBODY_DIR/fuse" c 10 229
	mount --bind "$NOBODY_DIR/fuse" /dev/fuse
	FUSE_BOUND=1
}

# start_pondd_as_nobody [FLAG...]: start_pondd for nobody_setup's copy,
# run as nobody, which alone can see into the tree.
start_pondd_as_nobody() {
	"${AS_NOBODY[@]}" "$NOBODY_DIR/pondd" --mount "$MNT" "$@" 2>"$PONDD_LOG" 3>&- &
	PONDD_PID=$!
	wait_for 10 nobody_ready_or_gone "$MNT" "$PONDD_PID"
	exited "$PONDD_PID" && die "pondd exited while starting: $(cat "$PONDD_LOG")"
	return 0
}

nobody_ready_or_gone() {
	"${AS_NOBODY[@]}" head -c1 "$1/stats" >/dev/null 2>&1 || exited "$2"
}

# start_pondd [FLAG...]: start pondd on $MNT in the background (fd 3
# closed, or bats would wait for it) and wait until the tree answers.
start_pondd() {
	"$PONDD" --mount "$MNT" "$@" 2>"$PONDD_LOG" 3>&- &
	PONDD_PID=$!
	wait_for 10 ready_or_gone "$MNT" "$PONDD_PID"
	exited "$PONDD_PID" && die "pondd exited while starting: $(cat "$PONDD_LOG")"
	record_baseline
}

# ready_or_gone DIR PID: the tree at DIR answers, or the daemon that was
# to serve it has exited (no use waiting longer). It reads stats rather
# than stat it: the kernel answers a stat from its cache even for a stale
# mount whose daemon died, but an open has to reach a daemon.
ready_or_gone() {
	{ read -r _ <"$1/stats"; } 2>/dev/null || exited "$2"
}

# stop_pondd [SIGNAL]: signal pondd (TERM), wait for it, and check that it
# exited 0 and left nothing mounted.
stop_pondd() {
	local sig=${1:-TERM} rc=0
	kill -"$sig" "$PONDD_PID"
	wait_for 15 exited "$PONDD_PID"
	wait "$PONDD_PID" || rc=$?
	PONDD_PID=
	cat "$PONDD_LOG"
	assert "$rc" -eq 0 "pondd's exit status after SIG$sig"
	is_mounted "$MNT" && die "$MNT still mounted after SIG$sig"
	return 0
}

# record_baseline notes each pool's in_use, for the leak check.
record_baseline() {
	local d
	IN_USE_BASELINE=()
	for d in "$MNT"/pools/*/; do
		IN_USE_BASELINE[$d]=$(stat_of "$d/stats" in_use)
	done
}

# check_leaks fails when a pool has more buffers in use than at start.
check_leaks() {
	local d now
	for d in "${!IN_USE_BASELINE[@]}"; do
		now=$(stat_of "$d/stats" in_use)
		[ "$now" -le "${IN_USE_BASELINE[$d]}" ] ||
			die "leak: $d in_use $now, was ${IN_USE_BASELINE[$d]} at start"
	done
}

# teardown checks for leaks while the daemon runs, then stops it and
# makes sure nothing stays mounted.
teardown() {
	local leaked=0
	if [ -n "$PONDD_PID" ] && alive "$PONDD_PID"; then
		if [ -f "$MNT/stats" ]; then
			check_leaks || leaked=1
		fi
		kill -TERM "$PONDD_PID"
		wait_for 15 exited "$PONDD_PID" || kill -KILL "$PONDD_PID"
		wait "$PONDD_PID" || true
	fi
	if is_mounted "$MNT"; then
		umount -l "$MNT"
		die "$MNT was left mounted"
	fi
	[ -z "$FUSE_BOUND" ] || umount /dev/fuse
	rm -rf "${CLEANUP[@]}"
	[ "$leaked" -eq 0 ] || die "leak check failed"
}
