#!/usr/bin/env bats
# The command line: help, version, bad flags, the environment.

load helpers

@test "--help prints the usage to stdout and exits 0" {
	run_x bash -c '"$0" --help 2>/dev/null' "$PONDD"
	assert "$output" =~ "^Usage: pondd" "help"
	for flag in "--mount DIR" "--tap NAME" "--pools SPEC" "--arena-max SIZE" "--rx-queue" "--allow-other" "--version" "--help" "POND_"; do
		assert "$output" =~ "$flag" "help lists $flag"
	done
	run_x bash -c '"$0" --help 2>&1 >/dev/null' "$PONDD"
	assert "$output" == "" "stderr of --help"
}

@test "--version prints pondd <version>" {
	run_x 0 "$PONDD" --version
	assert "$output" =~ "^pondd [0-9]+\.[0-9]+\.[0-9]+" "version"
}

@test "a bad flag prints one line and a pointer to --help to stderr and exits 2" {
	run_x 2 bash -c '"$0" --no-such-flag 2>&1 >/dev/null' "$PONDD"
	assert "${lines[0]}" == "pondd: unknown flag: --no-such-flag" "first line"
	assert "${lines[1]}" == "Try 'pondd --help' for more information." "second line"
	assert "${#lines[@]}" -eq 2 "lines"
	run_x 2 bash -c '"$0" --no-such-flag 2>/dev/null' "$PONDD"
	assert "$output" == "" "stdout"
}

@test "bad values exit 2 with a clear first line" {
	run_x 2 "$PONDD" --mount "$MNT" --arena-max 12parsecs
	assert "${lines[0]}" =~ "size \"12parsecs\"" "bad size"
	run_x 2 "$PONDD" --mount "$MNT" --pools 100,2048
	assert "${lines[0]}" =~ "multiple of 8" "bad pool size"
	run_x 2 "$PONDD" --mount "$MNT" --rx-queue 0
	assert "${lines[0]}" =~ "--rx-queue 0" "bad queue length"
	run_x 2 env POND_ARENA_MAX=lots "$PONDD" --mount "$MNT"
	assert "${lines[0]}" =~ "POND_ARENA_MAX" "bad environment variable named"
	[ ! -e "$MNT" ] || die "a bad flag made the mount point"
}

@test "sizes take units and plain bytes" {
	start_pondd --arena-max 64MiB --pools 2048:8:16
	stop_pondd
	assert "$(cat "$PONDD_LOG")" =~ "arena max 64MiB" "log"
	start_pondd --arena-max 33554432
	stop_pondd
	assert "$(cat "$PONDD_LOG")" =~ "arena max 32MiB" "log"
}

@test "each flag reads POND_<FLAG>; the command line wins" {
	POND_POOLS=128,4096 start_pondd
	run_x ls "$MNT/pools"
	assert "$(echo $output)" == "128 4096" "pools from POND_POOLS"
	stop_pondd
	POND_POOLS=128,4096 start_pondd --pools 512
	run_x ls "$MNT/pools"
	assert "$output" == "512" "pools from --pools over POND_POOLS"
	stop_pondd
}

@test "--tap given twice is a bad flag, and nothing is mounted or made" {
	run_x 2 "$PONDD" --mount "$MNT" --tap tap0 --tap tap0
	assert "${lines[0]}" =~ "--tap tap0: given twice" "refusal"
	[ ! -e "$MNT" ] || die "--tap made the mount point"
	run_x 1 ip link show dev tap0
}
