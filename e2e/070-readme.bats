#!/usr/bin/env bats
# README.md as a newcomer follows it: every example of its tour, Chains,
# Devices and Stopping sections typed in order, from a fresh start, each
# printing what README shows (lib/readme.py says how it reads them); and
# its section for a user who is not root, typed as nobody.

load helpers

README=$BATS_TEST_DIRNAME/../README.md
READMEPY=$BATS_TEST_DIRNAME/lib/readme.py
SECTIONS=("A tour" Chains Devices Stopping)

# setup_file: IPv6 as a fresh machine has it (another suite of this
# namespace may have turned it off), so that README's own step against
# its chatter is what keeps rx/ clean.
setup_file() {
	IPV6_WAS=$(sysctl -n net.ipv6.conf.all.disable_ipv6 net.ipv6.conf.default.disable_ipv6 | tr '\n' ' ')
	export IPV6_WAS
	sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
}

teardown_file() {
	read -r all def <<<"$IPV6_WAS"
	sysctl -qw net.ipv6.conf.all.disable_ipv6="$all" net.ipv6.conf.default.disable_ipv6="$def"
}

# readme_setup: the fresh start README assumes, in this namespace: pondd
# on PATH by that name, nothing at /run/pond, no tap0, and a home
# directory of the test's own.
readme_setup() {
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin" "$BATS_TEST_TMPDIR/home"
	cp "$PONDD" "$bin/pondd"
	# helpers.bash's reason for PYTHON3 holds for README's python3 too.
	ln -s "$(command -v "$PYTHON3")" "$bin/python3"
	export PATH="$bin:$PATH" HOME=$BATS_TEST_TMPDIR/home
	if is_mounted /run/pond; then umount -l /run/pond; fi
	[ ! -e /run/pond ] || die "/run/pond exists: README starts where it does not"
	! ip link show tap0 >/dev/null 2>&1 || die "tap0 exists: README starts where it does not"
	MNT=/run/pond
}

teardown() {
	ip link del tap0 2>/dev/null || true
	if is_mounted "$MNT"; then
		umount -l "$MNT"
		die "README's steps left $MNT mounted"
	fi
	[ -z "$FUSE_BOUND" ] || umount /dev/fuse
	rm -rf "${CLEANUP[@]}"
}

@test "README's examples run as printed" {
	readme_setup
	run_x "$PYTHON3" "$READMEPY" list "$README" "${SECTIONS[@]}"
	assert "${#lines[@]}" -gt 50 "lines of steps listed"
	E2E_TIMEOUT=600 run_x "$PYTHON3" "$READMEPY" run "$README" "${SECTIONS[@]}" 3>&-
	assert "${lines[-1]}" =~ "steps as printed in" "last line"
	[ ! -e /run/pond ] || die "pondd left /run/pond behind"
	! ip link show tap0 >/dev/null 2>&1 || die "README's last step left tap0"
}

@test "README's way for another user runs as printed, through fusermount3" {
	command -v fusermount3 >/dev/null || die "fusermount3 is missing (package fuse3)"
	nobody_setup
	mkdir "$NOBODY_DIR/bin" "$NOBODY_DIR/home"
	mv "$NOBODY_DIR/pondd" "$NOBODY_DIR/bin/pondd"
	ln -s "$(command -v "$PYTHON3")" "$NOBODY_DIR/bin/python3"
	chown nobody "$NOBODY_DIR/home"
	MNT=$NOBODY_DIR/home/pond
	PATH="$NOBODY_DIR/bin:$PATH" HOME=$NOBODY_DIR/home E2E_TIMEOUT=120 \
		run_x "$PYTHON3" "$READMEPY" run --user nobody "$README" "As another user" 3>&-
	assert "${lines[-1]}" =~ "steps as printed in" "last line"
}
