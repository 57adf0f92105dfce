#!/usr/bin/env bats
# The arena: the pond's memory, mapped MAP_SHARED by another process.
# "The daemon's own view" is pondd's memfd, reached through /proc/PID/fd:
# the very pages the pond hands out as buffers.

load helpers

ARENA_PY=$BATS_TEST_DIRNAME/lib/arena.py

# daemon_memfd PID: the path of PID's arena memfd under /proc.
daemon_memfd() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		if [[ $(readlink "$fd") == /memfd:pond* ]]; then
			echo "$fd"
			return 0
		fi
	done
	die "pondd $1 holds no memfd:pond"
}

# daemon_put OFF TEXT and daemon_get OFF N write and read the daemon's own
# memory. They never write past the end: that would grow the memfd.
daemon_put() { printf '%s' "$2" | dd of="$(daemon_memfd "$PONDD_PID")" bs=1 seek="$1" conv=notrunc status=none; }
daemon_get() { dd if="$(daemon_memfd "$PONDD_PID")" bs=1 skip="$1" count="$2" status=none; }

@test "arena size, mode and zero-copy state are reported, the mode logged once" {
	start_pondd
	assert "$(stat -c %s "$MNT/arena")" -eq "$(stat_of "$MNT/stats" arena_bytes)" "size"
	zc=$(stat_of "$MNT/stats" arena_zero_copy)
	assert "$zc" =~ "^[01]$" "arena_zero_copy"
	assert "$(grep -c '^pondd: arena: ' "$PONDD_LOG")" -eq 1 "arena lines in the log"
	if [ "$zc" -eq 1 ]; then
		assert "$(cat "$PONDD_LOG")" =~ "arena: zero copy" "log"
	else
		assert "$(cat "$PONDD_LOG")" =~ "arena: served through the daemon" "log"
	fi
}

@test "bytes written through a mapping are in the daemon's memory" {
	start_pondd
	run_x "$PYTHON3" "$ARENA_PY" "$MNT/arena" put 4096 "through-the-mapping"
	assert "$(daemon_get 4096 19)" == "through-the-mapping" "daemon's view"
}

@test "bytes the daemon's memory holds are read through a mapping" {
	start_pondd
	daemon_put 8192 "from-the-pond"
	run_x "$PYTHON3" "$ARENA_PY" "$MNT/arena" get 8192 13
	assert "$output" == "from-the-pond" "mapping's view"
}

@test "read(2) and write(2) of arena reach the same memory" {
	start_pondd
	printf 'by-write' | dd of="$MNT/arena" bs=1 seek=12288 conv=notrunc status=none
	assert "$(daemon_get 12288 8)" == "by-write" "daemon's view of write(2)"
	daemon_put 16384 "for-read"
	assert "$(dd if="$MNT/arena" bs=1 skip=16384 count=8 status=none)" == "for-read" "read(2)"
}

@test "with zero copy an open mapping sees the daemon's writes at once" {
	start_pondd
	[ "$(stat_of "$MNT/stats" arena_zero_copy)" -eq 1 ] || skip "no FUSE passthrough here (arena_zero_copy 0)"
	fifo=$BATS_TEST_TMPDIR/go out=$BATS_TEST_TMPDIR/out
	mkfifo "$fifo"
	exec 5<>"$fifo"
	"$PYTHON3" "$ARENA_PY" "$MNT/arena" hold 20480 4 <"$fifo" >"$out" 3>&- 5>&- &
	holder=$!
	wait_for 10 grep -q mapped "$out"
	daemon_put 20480 "live"
	echo >&5
	wait "$holder"
	exec 5>&-
	assert "$(tail -c4 "$out")" == "live" "the held mapping"
}

@test "served by the daemon (as another user): mapped bytes reach the pond and back" {
	command -v fusermount3 >/dev/null || skip "fusermount3 (Debian fuse3) not installed"
	nobody_setup
	cp "$ARENA_PY" "$NOBODY_DIR/arena.py"
	start_pondd_as_nobody
	run_x "${AS_NOBODY[@]}" cat "$MNT/stats"
	assert "$(grep arena_zero_copy <<<"$output")" == "arena_zero_copy 0" "mode"
	run_x "${AS_NOBODY[@]}" "$PYTHON3" "$NOBODY_DIR/arena.py" "$MNT/arena" put 4096 "user-mapped"
	assert "$(daemon_get 4096 11)" == "user-mapped" "daemon's view"
	daemon_put 8192 "pond-wrote"
	run_x "${AS_NOBODY[@]}" "$PYTHON3" "$NOBODY_DIR/arena.py" "$MNT/arena" get 8192 10
	assert "$output" == "pond-wrote" "a new mapping's view"
}
