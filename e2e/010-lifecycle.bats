#!/usr/bin/env bats
# The daemon's life: mounting, signals, umount, stale and busy mount points,
# systemd readiness, and mounting as a user who is not root.

load helpers

@test "SIGTERM unmounts and exits 0" {
	start_pondd
	is_mounted "$MNT" || die "not mounted"
	stop_pondd TERM
	assert "$(cat "$PONDD_LOG")" =~ "unmounted $MNT" "log"
}

@test "SIGINT unmounts and exits 0" {
	start_pondd
	stop_pondd INT
}

@test "umount by anyone makes pondd exit 0" {
	start_pondd
	run_x umount "$MNT"
	wait_for 10 exited "$PONDD_PID"
	rc=0
	wait "$PONDD_PID" || rc=$?
	PONDD_PID=
	assert "$rc" -eq 0 "exit status after umount"
	assert "$(cat "$PONDD_LOG")" =~ "was unmounted; exiting" "log"
}

@test "SIGTERM while tail -f holds a file open still unmounts and exits 0" {
	start_pondd
	tail -f "$MNT/stats" >/dev/null 2>&1 3>&- &
	tail_pid=$!
	wait_for 10 holds_open "$tail_pid" "$MNT/stats"
	stop_pondd TERM
	assert "$(cat "$PONDD_LOG")" =~ "detaching it lazily" "log"
	kill "$tail_pid" 2>/dev/null || true # tail may have stopped when its file went away
	wait "$tail_pid" || true
}

# holds_open PID FILE: PID has FILE open.
holds_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" == "$2" ] && return 0
	done
	return 1
}

@test "after SIGKILL a new pondd detaches the stale mount and mounts" {
	start_pondd
	kill -KILL "$PONDD_PID"
	wait "$PONDD_PID" || true
	is_mounted "$MNT" || die "the killed daemon's mount is gone already"
	run_x 2 ls "$MNT/pools"
	assert "$output" =~ "not connected" "listing the stale mount"
	start_pondd
	assert "$(cat "$PONDD_LOG")" =~ "detached a stale pondfs mount at $MNT" "log"
	run_x cat "$MNT/stats"
	stop_pondd
}

@test "a live pondfs mount is refused in one line, and keeps working" {
	start_pondd
	run_x 1 "$PONDD" --mount "$MNT"
	assert "${#lines[@]}" -eq 1 "lines on stderr"
	assert "$output" =~ "live pondfs mount is already at $MNT" "refusal"
	run_x cat "$MNT/stats"
	assert "$(mount_line "$MNT" | wc -l)" -eq 1 "mounts at $MNT"
}

@test "a missing parent, a file or another mount: one line, exit 1, nothing mounted" {
	run_x 1 "$PONDD" --mount "$BATS_TEST_TMPDIR/no/such/dir"
	assert "${#lines[@]}" -eq 1 "lines"
	assert "$output" =~ "parent directory" "missing parent"
	[ ! -e "$BATS_TEST_TMPDIR/no" ] || die "the missing parent was made"

	touch "$BATS_TEST_TMPDIR/file"
	run_x 1 "$PONDD" --mount "$BATS_TEST_TMPDIR/file"
	assert "${#lines[@]}" -eq 1 "lines"
	assert "$output" =~ "is not a directory" "file"

	mkdir "$MNT"
	mount -t tmpfs scratch "$MNT"
	run_x 1 "$PONDD" --mount "$MNT"
	umount "$MNT"
	assert "${#lines[@]}" -eq 1 "lines"
	assert "$output" =~ "already a mount point \(tmpfs" "foreign mount"
	is_mounted "$MNT" && die "something was left mounted"
	return 0
}

@test "the mount point is made when missing and removed at exit" {
	[ ! -e "$MNT" ] || die "test setup: $MNT exists"
	start_pondd
	stop_pondd
	[ ! -e "$MNT" ] || die "pondd left the directory it made"
	mkdir "$MNT"
	start_pondd
	stop_pondd
	[ -d "$MNT" ] || die "pondd removed a directory it did not make"
}

@test "mount options: pond, fuse.pond, nosuid, nodev, default_permissions; --allow-other" {
	start_pondd
	line=$(mount_line "$MNT")
	echo "$line"
	assert "$line" =~ " - fuse\.pond pond " "type and source"
	assert "$line" =~ "nosuid" "nosuid"
	assert "$line" =~ "nodev" "nodev"
	assert "$line" =~ "default_permissions" "default_permissions"
	assert "$line" !~ "allow_other" "allow_other without the flag"
	stop_pondd
	start_pondd --allow-other
	assert "$(mount_line "$MNT")" =~ "allow_other" "allow_other with the flag"
	stop_pondd
}

@test "NOTIFY_SOCKET gets READY=1 once the tree answers, STOPPING=1 at the end" {
	sock=$BATS_TEST_TMPDIR/notify.sock
	got=$BATS_TEST_TMPDIR/notify.got
	"$PYTHON3" -c '
import os, socket, sys
sock, got, mnt = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
while True:
    msg = s.recv(4096).decode()
    answers = os.path.isfile(mnt + "/stats")
    with open(got, "a") as f:
        f.write("%s answers=%s\n" % (msg, answers))
' "$sock" "$got" "$MNT" 3>&- &
	listener=$!
	wait_for 10 test -S "$sock"
	NOTIFY_SOCKET=$sock start_pondd
	wait_for 10 grep -q READY=1 "$got"
	assert "$(cat "$got")" == "READY=1 answers=True" "notifications"
	stop_pondd
	wait_for 10 grep -q STOPPING=1 "$got"
	kill "$listener"
	wait "$listener" || true
}

@test "SIGHUP does not stop pondd" {
	start_pondd
	kill -HUP "$PONDD_PID"
	wait_for 10 grep -q "SIGHUP ignored" "$PONDD_LOG"
	alive "$PONDD_PID" || die "pondd died of SIGHUP"
	run_x cat "$MNT/stats"
	stop_pondd
}

@test "as another user pondd mounts through fusermount3; SIGTERM and fusermount3 -u stop it" {
	command -v fusermount3 >/dev/null || skip "fusermount3 (Debian fuse3) not installed"
	nobody_setup
	start_pondd_as_nobody
	run_x "${AS_NOBODY[@]}" cat "$MNT/stats"
	assert "$(grep arena_zero_copy <<<"$output")" == "arena_zero_copy 0" "zero copy for a user"
	assert "$(mount_line "$MNT")" =~ "user_id=65534" "mounted for nobody"
	assert "$(cat "$PONDD_LOG")" =~ "served through the daemon" "arena mode logged"
	stop_pondd TERM
	start_pondd_as_nobody
	run_x "${AS_NOBODY[@]}" fusermount3 -u "$MNT"
	wait_for 10 exited "$PONDD_PID"
	rc=0
	wait "$PONDD_PID" || rc=$?
	PONDD_PID=
	assert "$rc" -eq 0 "exit status after fusermount3 -u"
}

@test "as another user without fusermount3 pondd says so and exits 1" {
	nobody_setup
	# Hide fusermount3 in a mount namespace of this command alone.
	run_x 1 unshare --mount --propagation private bash -c '
		for f in /usr/bin/fusermount3 /bin/fusermount3; do
			[ -e "$f" ] && mount --bind /dev/null "$f"
		done
		exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$0" --mount "$1"' "$NOBODY_DIR/pondd" "$MNT"
	assert "${#lines[@]}" -eq 1 "lines"
	assert "$output" =~ "fusermount3 \(Debian package fuse3\)" "message"
	is_mounted "$MNT" && die "something was mounted"
	return 0
}
