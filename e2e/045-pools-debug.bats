#!/usr/bin/env bats
# pools/<size>/: the tools for debugging buffer use and the error paths of
# programs built on the pond: failures injected on demand (fail-after in
# ctl) and the list of buffers in use with who holds them (buffers).

load helpers

# fails ERRNO_TEXT COMMAND...: COMMAND fails and says ERRNO_TEXT.
fails() {
	local want=$1
	shift
	run_x '?' "$@"
	[ "$status" -ne 0 ] || die "succeeded, expected failure ($want): $*"
	assert "$output" =~ "$want" "error of: $*"
}

@test "fail-after 2: the third small write fails with ENOBUFS, the fourth succeeds" {
	start_pondd
	id=$(cat "$MNT/chains/new")
	echo "fail-after 2" >"$MNT/pools/128/ctl"
	run_x bash -c "echo one > $MNT/chains/$id/data"
	run_x bash -c "echo two > $MNT/chains/$id/data"
	fails "No buffer space" bash -c "echo three > $MNT/chains/$id/data"
	run_x bash -c "echo four > $MNT/chains/$id/data"
	assert "$(cat "$MNT/chains/$id/data")" == "four" "data after the failure"
	assert "$(stat_of "$MNT/pools/128/stats" injected_fails)" -eq 1 "injected_fails"
	assert "$(stat_of "$MNT/pools/128/stats" fails)" -eq 1 "fails counts it too"
	grep -q "failure injected" "$PONDD_LOG" || die "no log line for the injected failure"
	rmdir "$MNT/chains/$id"
}

@test "fail-after N COUNT fails COUNT in a row; off cancels; bad commands change nothing" {
	start_pondd
	mkdir "$MNT"/chains/{a,b,c,d,e}
	echo "fail-after 0 2" >"$MNT/pools/128/ctl"
	fails "No buffer space" bash -c "echo a > $MNT/chains/a/data"
	fails "No buffer space" bash -c "echo b > $MNT/chains/b/data"
	run_x bash -c "echo c > $MNT/chains/c/data"
	echo "fail-after 0" >"$MNT/pools/128/ctl"
	echo "fail-after off" >"$MNT/pools/128/ctl"
	run_x bash -c "echo d > $MNT/chains/d/data"
	for bad in "fail-after" "fail-after x" "fail-after -1" "fail-after 1 0" "fail-after 1 2 3" "fail-after of"; do
		fails "Invalid argument" bash -c "echo '$bad' > $MNT/pools/128/ctl"
		grep -qF "\"$bad\"" "$PONDD_LOG" || die "no log line for: $bad"
	done
	run_x bash -c "echo e > $MNT/chains/e/data"
	assert "$(stat_of "$MNT/pools/128/stats" injected_fails)" -eq 2 "injected_fails"
	rmdir "$MNT"/chains/{a,b,c,d,e}
}

# age_of_holder POOL HOLDER: the age_ms of HOLDER's first buffer in POOL.
age_of_holder() {
	awk -v h="$2" '$4 " " $5 == h { print $6; exit }' "$MNT/pools/$1/buffers"
}

# older_than POOL HOLDER MS: HOLDER's buffer is older than MS.
older_than() { [ "$(age_of_holder "$1" "$2")" -gt "$3" ]; }

@test "buffers names the chain holding each buffer, its account and refs, and its age grows" {
	start_pondd
	assert "$(cat "$MNT/pools/128/buffers")" == "" "buffers of an idle pool"
	id=$(cat "$MNT/chains/new")
	echo hello >"$MNT/chains/$id/data"
	run_x cat "$MNT/pools/128/buffers"
	assert "$(echo "$output" | wc -l)" -eq 1 "lines"
	read -r off refs account kind holder age <<<"$output"
	assert "$kind $holder" == "chain $id" "holder"
	assert "$refs $account" == "1 fs" "refs and account"
	seg_off=$(awk '{ print $2 }' "$MNT/chains/$id/segments")
	assert "$off" -le "$seg_off" "the buffer's offset, at or before its segment's"
	assert "$((seg_off - off))" -lt 128 "the segment lies in the buffer"
	wait_for 5 older_than 128 "chain $id" "$age"
	clone=$(exec 3<>"$MNT/chains/$id/ctl"; echo clone >&3; read -r c <&3; echo "$c")
	assert "$(awk '{ print $2 }' "$MNT/pools/128/buffers")" == "2" "refs of a shared buffer"
	mkdir "$MNT/chains/young"
	echo young >"$MNT/chains/young/data"
	run_x awk '{ print $4 " " $5 }' "$MNT/pools/128/buffers"
	assert "$(echo $output)" == "chain $id chain young" "oldest first"
	rmdir "$MNT/chains/$id" "$MNT/chains/$clone" "$MNT/chains/young"
	assert "$(cat "$MNT/pools/128/buffers")" == "" "buffers after rmdir"
}
