#!/usr/bin/env bats
# chains/: packet buffers built, edited, layered, split, cloned and mapped
# with the shell's own tools and Python. Every test removes the chains it
# made: teardown's leak check then finds every buffer back in its pool.

load helpers

CHAINS_PY=$BATS_TEST_DIRNAME/lib/chains.py

# new_chain: make a chain through chains/new and print its id.
new_chain() { cat "$MNT/chains/new"; }

# fails ERRNO_TEXT COMMAND...: COMMAND fails and says ERRNO_TEXT.
fails() {
	local want=$1
	shift
	run_x '?' "$@"
	[ "$status" -ne 0 ] || die "succeeded, expected failure ($want): $*"
	assert "$output" =~ "$want" "error of: $*"
}

# state DIR: what a failed operation must leave as it was.
state() { (cd "$1" && od -A d -t x1 data | md5sum && cat stats segments); }

@test "new, mkdir and rmdir make and free chains, listed in order" {
	start_pondd
	a=$(new_chain)
	b=$(new_chain)
	assert "$a $b" == "1 2" "ids from new"
	mkdir "$MNT/chains/frame.v1_x-y" "$MNT/chains/10"
	c=$(new_chain)
	assert "$c" == "3" "new skips nothing it need not"
	run_x ls "$MNT/chains"
	assert "$(echo $output)" == "1 10 2 3 frame.v1_x-y new" "ls (sorted by ls)"
	run_x ls -f "$MNT/chains"
	assert "$(echo $output)" == "new 1 2 3 10 frame.v1_x-y" "the directory's own order"
	assert "$(stat_of "$MNT/stats" chains)" -eq 5 "stats chains"
	rmdir "$MNT/chains/"{1,2,3,10,frame.v1_x-y}
	assert "$(ls "$MNT/chains")" == "new" "after rmdir"
	assert "$(stat_of "$MNT/stats" chains)" -eq 0 "stats chains after rmdir"
}

@test "chain names: bad ones are refused with the right errno" {
	start_pondd
	fails "Invalid argument" mkdir "$MNT/chains/.dot"
	fails "Invalid argument" mkdir "$MNT/chains/with space"
	fails "Invalid argument" mkdir "$MNT/chains/a:b"
	fails "Invalid argument" mkdir "$MNT/chains/é"
	fails "File name too long" mkdir "$MNT/chains/$(printf 'x%.0s' {1..65})"
	run_x mkdir "$MNT/chains/$(printf 'x%.0s' {1..64})"
	mkdir "$MNT/chains/taken"
	fails "File exists" mkdir "$MNT/chains/taken"
	fails "File exists" mkdir "$MNT/chains/new"
	fails "No such file" cat "$MNT/chains/nope/data"
	fails "No such file" rmdir "$MNT/chains/nope"
	fails "Permission denied" bash -c "echo x > $MNT/chains/new"
	rmdir "$MNT/chains/taken" "$MNT/chains/$(printf 'x%.0s' {1..64})"
	grep -q 'mkdir chains/.dot: invalid argument' "$PONDD_LOG" || die "no log line for the refused mkdir"
}

@test "data is a file: echo, printf, >>, >, dd, truncate, stat" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	echo hello >"$d/data"
	echo world >>"$d/data"
	assert "$(cat "$d/data")" == $'hello\nworld' "after > and >>"
	assert "$(stat -c %s "$d/data")" -eq 12 "size"
	printf 'W' | dd of="$d/data" bs=1 seek=6 conv=notrunc status=none
	assert "$(dd if="$d/data" bs=1 skip=6 count=5 status=none)" == "World" "read at an offset"
	printf '!' | dd of="$d/data" bs=1 seek=20 conv=notrunc status=none
	assert "$(stat -c %s "$d/data")" -eq 21 "size after a write past the end"
	assert "$(od -A n -t x1 -j 12 "$d/data" | tr -d ' \n')" == "000000000000000021" "the gap is zeros"
	truncate -s 5 "$d/data"
	assert "$(cat "$d/data")" == "hello" "truncated"
	truncate -s 8 "$d/data"
	assert "$(od -A n -t x1 "$d/data" | tr -d ' \n')" == "68656c6c6f000000" "zero-extended"
	printf 'x' >"$d/data"
	assert "$(cat "$d/data")" == "x" "> empties first"
	: >"$d/data"
	assert "$(stat -c %s "$d/data")" -eq 0 "emptied"
	rmdir "$d"
}

@test "300 kB with cp, and dd overwrites across buffer boundaries" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	src=$BATS_TEST_TMPDIR/src
	head -c 300000 /dev/urandom >"$src"
	run_x cp "$src" "$d/data"
	run_x cmp "$src" "$d/data"
	assert "$(stat_of "$d/stats" segments)" -ge 2 "segments of 300 kB"
	for off in 0 127 128 511 512 2047 2048 9215 9216 65535 65536 131071 299990; do
		head -c 20 /dev/urandom >"$src.p"
		dd if="$src.p" of="$d/data" bs=20 seek="$off" oflag=seek_bytes conv=notrunc status=none
		dd if="$src.p" of="$src" bs=20 seek="$off" oflag=seek_bytes conv=notrunc status=none
	done
	run_x cmp "$src" "$d/data"
	run_x dd if="$src" of="$d/data" bs=1M status=none
	run_x cmp "$src" "$d/data"
	rmdir "$d"
}

@test "MBs of writes are fast: no copy of the whole chain per write" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	start=$(date +%s%N)
	run_x dd if=/dev/zero of="$d/data" bs=64k count=256 status=none
	ms=$((($(date +%s%N) - start) / 1000000))
	assert "$(stat -c %s "$d/data")" -eq 16777216 "size"
	echo "16 MiB in ${ms} ms"
	assert "$ms" -lt 5000 "milliseconds for 16 MiB"
	rmdir "$d"
}

@test "every ctl command, its outcome read on the same descriptor" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	printf '0123456789' >"$d/data"
	for step in "push 2 6:234567" "push 1:34567" "pop:234567" "trim-front 1:34567" "trim-back 2:345" \
		"pullup 3:345" "pop:0134589" "prepend 2:__0134589" "trim-front 2:0134589"; do
		cmd=${step%%:*} want=${step#*:}
		exec 7<>"$d/ctl"
		echo "$cmd" >&7
		read -r outcome <&7
		exec 7>&-
		assert "$outcome" == "ok" "outcome of $cmd"
		assert "$(tr '\0' _ <"$d/data")" == "$want" "data after $cmd"
	done
	exec 7<>"$d/ctl"
	echo "split 5" >&7
	read -r id <&7
	exec 7>&-
	assert "$(cat "$d/data")" == "01345" "left of the split"
	assert "$(cat "$MNT/chains/$id/data")" == "89" "the split off chain"
	exec 7<>"$d/ctl"
	echo "pop" >&7 2>/dev/null || true
	read -r outcome <&7
	exec 7>&-
	assert "$outcome" =~ "^error: " "outcome of a failed command"
	fails "No such file" bash -c "echo 'send eth0' > $d/ctl"
	rmdir "$d" "$MNT/chains/$id"
}

@test "split and clone share buffers; a write copies first" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	head -c 3000 /dev/urandom >"$BATS_TEST_TMPDIR/f"
	cp "$BATS_TEST_TMPDIR/f" "$d/data"
	exec 7<>"$d/ctl"
	echo clone >&7
	read -r c <&7
	echo "split 1000" >&7
	read -r s <&7
	exec 7>&-
	cl=$MNT/chains/$c sp=$MNT/chains/$s
	run_x cmp "$BATS_TEST_TMPDIR/f" "$cl/data"
	assert "$(cat "$d/data" "$sp/data" | cmp - "$BATS_TEST_TMPDIR/f" && echo same)" == "same" "the halves"
	assert "$(awk '{print $4}' "$cl/segments" | sort -u | tr '\n' ' ')" != "1 " "the clone shares"
	used=$(stat_of "$MNT/accounts/fs/stats" used_bytes)
	printf 'CLONE' | dd of="$cl/data" conv=notrunc status=none
	assert "$(head -c 5 "$cl/data")" == "CLONE" "the clone's write"
	assert "$(cmp <(head -c 1000 "$BATS_TEST_TMPDIR/f") "$d/data" && echo same)" == "same" "the original kept its bytes"
	assert "$(stat_of "$MNT/accounts/fs/stats" used_bytes)" -gt "$used" "the copy took a buffer"
	rmdir "$d"
	assert "$(tail -c +6 "$BATS_TEST_TMPDIR/f" | cmp - <(tail -c +6 "$cl/data") && echo same)" == "same" "the clone outlives the original"
	assert "$(tail -c +1001 "$BATS_TEST_TMPDIR/f" | cmp - "$sp/data" && echo same)" == "same" "the split half outlives the original"
	rmdir "$cl" "$sp"
}

@test "layers: push, info, write-through, the narrow-view guard, pop" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	printf 'ETHHIPHDUDPpayload' >"$d/data"
	printf 'push 3\npush 5\npush 3\n' >"$d/ctl"
	assert "$(ls "$d/layers" | tr '\n' ' ')" == "0 1 2 3 " "layers"
	assert "$(cat "$d/data")" == "payload" "the view"
	assert "$(cat "$d/layers/2/info")" == $'offset 5\nlength 10' "layers/2/info"
	assert "$(stat_of "$d/stats" layers)" -eq 3 "stats layers"
	assert "$(stat_of "$d/stats" chain_length)" -eq 18 "stats chain_length"
	printf 'PAY' | dd of="$d/data" conv=notrunc status=none
	printf 'udp' | dd of="$d/layers/2/data" conv=notrunc status=none
	assert "$(cat "$d/layers/0/data")" == "ETHHIPHDudpPAYload" "layer 0 after writes through layers 3 and 2"
	before=$(state "$d")
	fails "Invalid argument" bash -c "echo more >> $d/data"
	fails "Invalid argument" truncate -s 30 "$d/data"
	fails "Invalid argument" bash -c "echo 'prepend 2' > $d/ctl"
	fails "Invalid argument" bash -c "printf 'xxxxxx' | dd of=$d/layers/1/data bs=6 seek=12 oflag=seek_bytes conv=notrunc status=none"
	assert "$(state "$d")" == "$before" "the chain after refused growth"
	printf 'trim-front 2\n' >"$d/ctl"
	assert "$(cat "$d/layers/0/data")" == "ETHHIPHDudpYload" "trimmed bytes leave the chain"
	printf 'pop\npop\npop\n' >"$d/ctl"
	fails "Invalid argument" bash -c "echo pop > $d/ctl"
	assert "$(ls "$d/layers")" == "0" "layers after popping all"
	rmdir "$d"
}

@test "python: zero-copy read and write through arena + segments" {
	start_pondd
	id=$(new_chain)
	head -c 200000 /dev/urandom | base64 -w0 | head -c 150000 >"$MNT/chains/$id/data"
	run_x "$PYTHON3" "$CHAINS_PY" zerocopy "$MNT" "$id"
	assert "$output" =~ "zero copy ok 150000"
	rmdir "$MNT/chains/$id"
}

@test "python: read and write through an mmap of data, msync included" {
	start_pondd
	id=$(new_chain)
	head -c 100000 /dev/urandom >"$MNT/chains/$id/data"
	run_x "$PYTHON3" "$CHAINS_PY" mmap "$MNT" "$id"
	rmdir "$MNT/chains/$id"
}

@test "a mapping of data sees later changes through data, ctl, layers and arena" {
	start_pondd
	for how in data ctl layer arena; do
		id=$(new_chain)
		run_x "$PYTHON3" "$CHAINS_PY" mapsees "$MNT" "$id" "$how"
		rmdir "$MNT/chains/$id"
	done
}

@test "random operations through every file match a model, byte for byte" {
	start_pondd
	for seed in 1 2 3; do
		run_x "$PYTHON3" "$CHAINS_PY" model "$MNT" "$seed" 400
		assert "$output" =~ "model ok: 400 steps"
	done
	assert "$(ls "$MNT/chains")" == "new" "chains left"
}

@test "bad input: the errno of README.md, and nothing changes" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	head -c 5000 /dev/urandom >"$d/data"
	echo "push 10 4000" >"$d/ctl"
	before=$(state "$d")
	for line in frob "push" "push 1 2 3" "push -1" "push 4001" "push 0 4001" "push 99999999999999999999" \
		"push 0x10" "trim-front 4001" "trim-back -3" "split 4001" "pullup 4001" "prepend 1" "clone x" \
		"pop 1" "send" "PUSH 1"; do
		fails "Invalid argument" bash -c "echo '$line' > $d/ctl"
	done
	fails "Invalid argument" bash -c "printf '\\x00\\xff\\x01\\x80\\n' > $d/ctl"
	fails "No such file" bash -c "echo 'send nosuch0' > $d/ctl"
	fails "File too large" bash -c "echo x | dd of=$d/layers/0/data bs=1M seek=100 status=none"
	e=$MNT/chains/$(new_chain)
	fails "File too large" truncate -s 1G "$e/data"
	assert "$(stat -c %s "$e/data")" -eq 0 "size after a refused truncate"
	rmdir "$e"
	fails "Invalid argument" truncate -s 1 "$d/layers/0/data"
	fails "Operation not permitted" rm "$d/data"
	fails "Operation not permitted" chmod 600 "$d/data"
	fails "Permission denied" bash -c "echo x > $d/stats"
	fails "Permission denied" bash -c "echo x > $d/segments"
	run_x sh -c "printf '' > $d/ctl && printf '\\n \\n' > $d/ctl"
	assert "$(state "$d")" == "$before" "the chain after every refusal"
	grep -q 'write chains/1/ctl: "frob"' "$PONDD_LOG" || die "no log line for the bad command"
	rmdir "$d"
}

@test "EDQUOT at the fs account's limit, ENOBUFS when the pools cannot grow; nothing changes" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	echo abc >"$d/data"
	before=$(state "$d")
	echo 20000 >"$MNT/accounts/fs/limit"
	head -c 60000 /dev/zero >"$BATS_TEST_TMPDIR/z"
	fails "Disk quota exceeded" bash -c "cat $BATS_TEST_TMPDIR/z >> $d/data"
	fails "Disk quota exceeded" bash -c "echo 'prepend 60000' > $d/ctl"
	assert "$(state "$d")" == "$before" "the chain after EDQUOT"
	assert "$(stat_of "$MNT/accounts/fs/stats" fails)" -ge 2 "fs account fails"
	echo 1GiB >"$MNT/accounts/fs/limit"
	for p in "$MNT"/pools/*/; do
		echo "max $(stat_of "$p/stats" buffers)" >"$p/ctl"
	done
	fails "No buffer space" bash -c "echo 'prepend 3000000' > $d/ctl"
	assert "$(state "$d")" == "$before" "the chain after ENOBUFS"
	rmdir "$d"
}

@test "a failing line fails the write, the lines before it stay done" {
	start_pondd
	d=$MNT/chains/$(new_chain)
	printf 'abcdef' >"$d/data"
	printf 'push 1\nbogus\npush 1\n' >"$BATS_TEST_TMPDIR/cmds"
	fails "Invalid argument" bash -c "cat $BATS_TEST_TMPDIR/cmds > $d/ctl"
	assert "$(stat_of "$d/stats" layers)" -eq 1 "layers"
	assert "$(cat "$d/data")" == "bcdef" "the view"
	rmdir "$d"
}

@test "python as another user: chains through an arena served by the daemon" {
	command -v fusermount3 >/dev/null || skip "fusermount3 (Debian fuse3) not installed"
	nobody_setup
	cp "$CHAINS_PY" "$NOBODY_DIR/chains.py"
	start_pondd_as_nobody
	run_x "${AS_NOBODY[@]}" sh -c "id=\$(cat $MNT/chains/new); head -c 50000 /dev/zero | tr '\\0' a > $MNT/chains/\$id/data && $PYTHON3 $NOBODY_DIR/chains.py zerocopy $MNT \$id && rmdir $MNT/chains/\$id"
	run_x "${AS_NOBODY[@]}" sh -c "id=\$(cat $MNT/chains/new); $PYTHON3 $NOBODY_DIR/chains.py mapsees $MNT \$id arena && rmdir $MNT/chains/\$id"
	run_x "${AS_NOBODY[@]}" stat -c %s "$MNT/chains/new"
	"${AS_NOBODY[@]}" cat "$MNT/stats" >"$BATS_TEST_TMPDIR/stats"
	assert "$(stat_of "$BATS_TEST_TMPDIR/stats" chains)" -eq 0 "chains left"
}

@test "the tree's README explains chains" {
	start_pondd
	run_x grep -c "chains/" "$MNT/README"
	assert "$output" -ge 5 "mentions of chains/ in README"
	run_x grep -q "segments" "$MNT/README"
}

@test "fragments: frames combined into a packet, packets into a segment, and back" {
	start_pondd
	c=$MNT/chains
	mkdir "$c/f1" "$c/f2" "$c/f3"
	printf 'frame1.' >"$c/f1/data"
	printf 'frame2.' >"$c/f2/data"
	printf 'frame3.' >"$c/f3/data"
	echo "concat ipv4 f2" >"$c/f1/ctl"
	assert "$(ls "$c" | tr '\n' ' ')" == "f1 f3 new " "the named chain is gone"
	assert "$(cat "$c/f1/data")" == "frame1.frame2." "the packet"
	assert "$(cat "$c/f1/layers/1/info")" == $'offset 0\nlength 14\nproto ipv4' "the packet's layer"
	assert "$(cat "$c/f1/layers/1/fragments")" == $'0 7\n7 7' "the packet's fragments"
	assert "$(stat -c %s "$c/f1/layers/0/fragments")" -eq 0 "layer 0 has no fragments"
	echo "concat tcp f3" >"$c/f1/ctl"
	assert "$(ls "$c" | tr '\n' ' ')" == "f1 new " "the second packet is gone"
	assert "$(cat "$c/f1/data")" == "frame1.frame2.frame3." "the segment"
	assert "$(cat "$c/f1/layers/2/fragments")" == $'0 14\n14 7' "the segment's fragments"
	assert "$(cat "$c/f1/layers/1/fragments")" == $'0 7\n7 14' "bytes added at the end join the last fragment beneath"
	assert "$(stat_of "$c/f1/stats" layers)" -eq 2 "stats layers"
	exec 7<>"$c/f1/ctl"
	echo split-fragments >&7
	read -r packet <&7
	assert "$(cat "$c/f1/data")" == "frame1.frame2." "the first packet, back"
	assert "$(cat "$c/$packet/data")" == "frame3." "the second packet, back"
	assert "$(cat "$c/f1/layers/1/fragments")" == $'0 7\n7 7' "the first packet's fragments, back"
	echo split-fragments >&7
	read -r frame <&7
	exec 7>&-
	assert "$(cat "$c/f1/data")" == "frame1." "the first frame, back"
	assert "$(cat "$c/$frame/data")" == "frame2." "the second frame, back"
	assert "$(stat_of "$c/f1/stats" layers)" -eq 0 "no layer left"
	rmdir "$c/f1" "$c/$packet" "$c/$frame"
}

@test "fragments: bad concat and split-fragments change nothing" {
	start_pondd
	c=$MNT/chains
	mkdir "$c/a" "$c/b"
	printf 'aaaa' >"$c/a/data"
	printf 'bbbb' >"$c/b/data"
	before_a=$(state "$c/a") before_b=$(state "$c/b")
	for line in "concat" "concat ipv4" "concat ipv4 a" "concat ipv4 b b" "split-fragments" "split-fragments 1"; do
		fails "Invalid argument" bash -c "echo '$line' > $c/a/ctl"
	done
	fails "No such file" bash -c "echo 'concat ipv4 b nosuch' > $c/a/ctl"
	echo "push 1" >"$c/a/ctl"
	fails "Invalid argument" bash -c "echo 'concat ipv4 b' > $c/a/ctl"
	echo "pop" >"$c/a/ctl"
	assert "$(state "$c/a")" == "$before_a" "a after every refusal"
	assert "$(state "$c/b")" == "$before_b" "b after every refusal"
	rmdir "$c/a" "$c/b"
}
