#!/usr/bin/env bats
# The tree: README, stats, metrics, pools, accounts, modes and errors.

load helpers

TOP_NAMES="pools arena_bytes buffers free in_use bytes_in_use chains allocs fails"
POOL_NAMES="buf_size buffers free in_use high_water min max grow_by allocs frees fails waits grows shrinks"
ACCOUNT_NAMES="limit_bytes used_bytes high_water_bytes allocs fails waits"

# names FILE: the names of a stats file, on one line.
names() { awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }' "$1"; }

# log_lines: how many lines pondd has logged.
log_lines() { wc -l <"$PONDD_LOG"; }

@test "README says what each entry is" {
	start_pondd
	run_x cat "$MNT/README"
	for word in stats metrics arena pools/SIZE slabs ctl accounts/NAME limit arena_zero_copy "echo \"max 4096\""; do
		assert "$output" =~ "$word" "README mentions $word"
	done
}

@test "every stats name of README.md, in its order" {
	start_pondd
	assert "$(names "$MNT/stats")" =~ "^$TOP_NAMES" "stats"
	assert "$(names "$MNT/stats")" =~ "arena_zero_copy" "stats"
	for d in "$MNT"/pools/*/; do
		assert "$(names "$d/stats")" =~ "^$POOL_NAMES" "$d/stats"
	done
	assert "$(names "$MNT/accounts/fs/stats")" =~ "^$ACCOUNT_NAMES" "accounts/fs/stats"
}

@test "stats files are name-value lines with a final newline" {
	start_pondd
	for f in "$MNT/stats" "$MNT"/pools/*/stats "$MNT"/accounts/*/stats; do
		# grep -v exits 1 when every line is "name value".
		run_x 1 grep -vE '^[a-z][a-z0-9_]* [0-9]+$' "$f"
		assert "$(tail -c1 "$f" | od -An -c | tr -d ' ')" == '\n' "last byte of $f"
	done
	for f in README metrics pools/2048/slabs accounts/fs/limit; do
		assert "$(tail -c1 "$MNT/$f" | od -An -c | tr -d ' ')" == '\n' "last byte of $f"
	done
}

@test "buffers == free + in_use in every pool, and stats adds the pools up" {
	start_pondd
	local sum=0
	for d in "$MNT"/pools/*/; do
		b=$(stat_of "$d/stats" buffers) f=$(stat_of "$d/stats" free) u=$(stat_of "$d/stats" in_use)
		assert "$b" -eq $((f + u)) "$d buffers"
		sum=$((sum + b))
	done
	assert "$(stat_of "$MNT/stats" buffers)" -eq "$sum" "total buffers"
	assert "$(stat_of "$MNT/stats" pools)" -eq "$(ls "$MNT/pools" | wc -l)" "pools"
}

@test "slabs lie inside the arena and hold buffers x size bytes" {
	start_pondd
	arena=$(stat_of "$MNT/stats" arena_bytes)
	assert "$(stat -c %s "$MNT/arena")" -eq "$arena" "size of arena"
	for d in "$MNT"/pools/*/; do
		size=$(stat_of "$d/stats" buf_size)
		total=$(awk -v end="$arena" '$1 + $2 > end { exit 1 } { t += $2 } END { print t + 0 }' "$d/slabs") ||
			die "$d/slabs has a slab past the arena's end"
		assert "$total" -eq $(($(stat_of "$d/stats" buffers) * size)) "$d/slabs bytes"
	done
}

@test "metrics pass a strict parser and agree with stats" {
	start_pondd
	run_x "$PYTHON3" "$BATS_TEST_DIRNAME/lib/promcheck.py" <"$MNT/metrics"
	assert "$output" =~ "pond_pools 5" "pools"
	assert "$output" =~ "pond_allocs_total 0" "a counter"
	for d in "$MNT"/pools/*/; do
		size=$(basename "$d")
		assert "$output" =~ "pond_pool_buffers\{size=\"$size\"\} $(stat_of "$d/stats" buffers)" "buffers of $size"
	done
	assert "$output" =~ "pond_account_limit_bytes\{account=\"fs\"\} $(cat "$MNT/accounts/fs/limit")" "fs limit"
}

@test "a reader with small reads sees the whole snapshot" {
	start_pondd
	assert "$(dd if="$MNT/metrics" bs=7 status=none)" == "$(cat "$MNT/metrics")" "metrics read 7 bytes at a time"
}

@test "pool ctl tuning shows in stats at the next open" {
	start_pondd
	ctl=$MNT/pools/2048/ctl st=$MNT/pools/2048/stats
	echo "max 5000" >"$ctl"
	echo "grow_by 100" >"$ctl"
	echo "min 400" >"$ctl"
	assert "$(stat_of "$st" max)" -eq 5000 "max"
	assert "$(stat_of "$st" grow_by)" -eq 100 "grow_by"
	assert "$(stat_of "$st" min)" -eq 400 "min"
	assert "$(stat_of "$st" buffers)" -ge 400 "buffers after min 400"
	printf 'min 0\nshrink\n' >"$ctl"
	assert "$(stat_of "$st" buffers)" -eq 0 "buffers after min 0 and shrink"
	assert "$(stat_of "$st" shrinks)" -ge 1 "shrinks"
}

@test "ctl: a read on the same descriptor returns the last outcome" {
	start_pondd
	run_x bash -c 'exec 3<>"$0"; echo "max 4000" >&3; read -r a <&3; echo "a=$a"
		echo "max nope" >&3 2>/dev/null; read -r b <&3; echo "b=$b"' "$MNT/pools/512/ctl"
	assert "${lines[0]}" == "a=ok" "outcome of max 4000"
	assert "${lines[1]}" =~ "^b=error: .*nope" "outcome of a bad command"
}

@test "ctl: the first failing line fails the write; lines before it stay done" {
	start_pondd
	printf 'max 3000\nfrobnicate\nmax 3100\n' >"$BATS_TEST_TMPDIR/cmds"
	run_x 1 bash -c 'cat "$0" >"$1"' "$BATS_TEST_TMPDIR/cmds" "$MNT/pools/512/ctl"
	assert "$output" =~ "Invalid argument" "errno"
	assert "$(stat_of "$MNT/pools/512/stats" max)" -eq 3000 "max"
}

@test "account limit: write, read back, see it in stats" {
	start_pondd --arena-max 64MiB
	assert "$(cat "$MNT/accounts/fs/limit")" -eq $((32 << 20)) "fs starts at half the arena max"
	echo 1048576 >"$MNT/accounts/fs/limit"
	assert "$(cat "$MNT/accounts/fs/limit")" -eq 1048576 "limit"
	echo 2MiB >"$MNT/accounts/fs/limit"
	assert "$(stat_of "$MNT/accounts/fs/stats" limit_bytes)" -eq $((2 << 20)) "limit_bytes"
}

@test "modes: stats 0444, ctl and limit 0644, arena 0600, owned by the mounter" {
	start_pondd
	for f in README stats metrics pools/2048/stats pools/2048/slabs accounts/fs/stats; do
		assert "$(stat -c '%a %U' "$MNT/$f")" == "444 root" "$f"
	done
	for f in pools/2048/ctl accounts/fs/limit; do
		assert "$(stat -c '%a %U' "$MNT/$f")" == "644 root" "$f"
	done
	assert "$(stat -c '%a %U' "$MNT/arena")" == "600 root" "arena"
}

# refused ERRNO-TEXT COMMAND: COMMAND, run from the top of the tree, fails
# with that error and pondd logs exactly one line about it.
refused() {
	local want=$1 before
	shift
	before=$(log_lines)
	run_x 1 bash -c "cd \"\$0\" && $*" "$MNT"
	assert "$output" =~ "$want" "error of: $*"
	assert "$(($(log_lines) - before))" -eq 1 "log lines for: $*"
	tail -1 "$PONDD_LOG"
}

@test "refused operations: EACCES, EPERM, EINVAL, each logged once" {
	start_pondd
	for f in stats metrics README pools/2048/stats pools/2048/slabs accounts/fs/stats; do
		refused "Permission denied" "echo x > $f"
	done
	refused "Operation not permitted" "truncate -s 0 arena"
	refused "Operation not permitted" "chmod 0666 pools/2048/ctl"
	refused "Invalid argument" "echo 'max' > pools/2048/ctl"
	refused "Invalid argument" "echo 'max 1x' > pools/2048/ctl"
	refused "Invalid argument" "echo 'grow_by 0' > pools/2048/ctl"
	refused "Invalid argument" "echo 'min 999999999' > pools/2048/ctl"
	refused "Invalid argument" "echo 'max 9223372036854775807' > pools/65536/ctl"
	refused "Invalid argument" "echo 'min 4611686018427387904' > pools/65536/ctl"
	refused "Invalid argument" "echo 'grow_by 18446744073709551615' > pools/65536/ctl"
	refused "Invalid argument" "echo 'max 4097' > pools/65536/ctl"
	refused "Invalid argument" "echo 18446744073709551616 > accounts/fs/limit"
	refused "Invalid argument" "echo -1 > accounts/fs/limit"
	refused "Invalid argument" "echo lots > accounts/fs/limit"
}

@test "ENOENT: no such pool or account" {
	start_pondd
	run_x 1 cat "$MNT/pools/4096/stats"
	assert "$output" =~ "No such file" "missing pool"
	run_x 1 cat "$MNT/accounts/rx.tap9/stats"
	assert "$output" =~ "No such file" "missing account"
	run_x ls "$MNT/accounts"
	assert "$output" == "fs" "accounts"
}

# tree_state: every path of the tree with its type, and every stats file.
tree_state() {
	(cd "$MNT" && find . -printf '%y %p\n' | sort && cat stats pools/*/stats accounts/*/stats)
}

@test "rm and rmdir of the tree's own entries: EPERM, logged once, nothing changes" {
	start_pondd
	local before
	before=$(tree_state)
	for f in stats README metrics arena chains/new pools/2048/ctl accounts/fs/limit; do
		refused "Operation not permitted" "rm $f"
	done
	for d in pools/2048 pools accounts/fs accounts chains netdev; do
		refused "Operation not permitted" "rmdir $d"
	done
	run_x 1 bash -c 'rm -rf "$0"/*' "$MNT"
	assert "$output" =~ "Operation not permitted" "rm -rf of the mount"
	assert "$(tree_state)" == "$before" "the tree and its stats after rm -rf"
	id=$(cat "$MNT/chains/new")
	refused "Operation not permitted" "rmdir chains/$id/layers"
	refused "Operation not permitted" "rm chains/$id/layers/0/data"
	run_x rmdir "$MNT/chains/$id"
	assert "$(tree_state)" == "$before" "the tree after a chain made and freed"
}
