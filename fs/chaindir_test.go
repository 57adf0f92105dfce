package fs

import (
	"fmt"
	"strings"
	"testing"
)

// chainState is what a failed operation must leave as it was: the view's
// bytes, the stats and the segments.
func (m *mounted) chainState(t *testing.T, dir string) string {
	t.Helper()
	return m.sh(t, fmt.Sprintf("cd %s && od -A d -t x1 data | md5sum && cat stats segments", dir))
}

func TestChainDataIsAFile(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/d")
	for _, tc := range []struct{ script, want string }{
		{"echo hello > chains/d/data", "hello\n"},
		{"echo world >> chains/d/data", "hello\nworld\n"},
		{"printf 'J' | dd of=chains/d/data bs=1 seek=6 conv=notrunc status=none", "hello\nJorld\n"},
		{"printf '!' | dd of=chains/d/data bs=1 seek=14 conv=notrunc status=none", "hello\nJorld\n\x00\x00!"},
		{"truncate -s 5 chains/d/data", "hello"},
		{"truncate -s 7 chains/d/data", "hello\x00\x00"},
		{"printf 'x' > chains/d/data", "x"},
		{": > chains/d/data", ""},
	} {
		m.sh(t, tc.script)
		if got := m.sh(t, "cat chains/d/data"); got != tc.want {
			t.Errorf("after %s: data %q, want %q", tc.script, got, tc.want)
		}
		if got := strings.TrimSpace(m.sh(t, "stat -c %s chains/d/data")); got != fmt.Sprint(len(tc.want)) {
			t.Errorf("after %s: size %s, want %d", tc.script, got, len(tc.want))
		}
	}
	if got := m.sh(t, "echo abcdef > chains/d/data; dd if=chains/d/data bs=1 skip=2 count=3 status=none; dd if=chains/d/data bs=1 skip=99 status=none | wc -c"); got != "cde0\n" {
		t.Errorf("reads at offsets: %q", got)
	}
}

func TestChainDataLargeWritesAcrossBuffers(t *testing.T) {
	m := mountChains(t)
	src := t.TempDir() + "/src"
	m.sh(t, fmt.Sprintf("head -c 300000 /dev/urandom > %s && mkdir chains/big && cp %s chains/big/data && cmp %s chains/big/data", src, src, src))
	if segs := statValue(t, m.sh(t, "cat chains/big/stats"), "segments"); segs < 2 {
		t.Errorf("300 kB in %d segments; the test wants several buffers", segs)
	}
	// Overwrites that straddle the pond's 2048-byte buffers, mirrored in a
	// copy of the file.
	for _, off := range []int{0, 2047, 2048, 4095, 100000, 299990} {
		m.sh(t, fmt.Sprintf(`head -c 20 /dev/urandom > %[1]s.p && dd if=%[1]s.p of=chains/big/data bs=1 seek=%[2]d conv=notrunc status=none && dd if=%[1]s.p of=%[1]s bs=1 seek=%[2]d conv=notrunc status=none`, src, off))
	}
	m.sh(t, "cmp "+src+" chains/big/data")
	m.sh(t, "cat "+src+" >> chains/big/data && cat "+src+" "+src+" | cmp - chains/big/data")
}

func TestChainCtlCommands(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/c && printf '0123456789' > chains/c/data")
	for _, tc := range []struct{ cmd, data string }{
		{"push 2 6", "234567"},
		{"push 1", "34567"},
		{"pop", "234567"},
		{"trim-front 1", "34567"},
		{"trim-back 2", "345"},
		{"pullup 3", "345"},
		{"pop", "0134589"},
		{"prepend 2", "\x00\x000134589"},
		{"trim-front 2", "0134589"},
	} {
		if got := m.sh(t, "exec 3<>chains/c/ctl; echo '"+tc.cmd+"' >&3; cat <&3"); got != "ok\n" {
			t.Errorf("%s: outcome %q", tc.cmd, got)
		}
		if got := m.sh(t, "cat chains/c/data"); got != tc.data {
			t.Errorf("after %s: data %q, want %q", tc.cmd, got, tc.data)
		}
	}
	// One write, several lines, in order.
	m.sh(t, `printf 'push 1 5\ntrim-front 1\npop\n' > chains/c/ctl`)
	if got := m.sh(t, "cat chains/c/data"); got != "034589" {
		t.Errorf("after three lines in one write: %q", got)
	}
}

func TestChainSplitAndCloneThroughTheShell(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/s && printf 'headerpayload' > chains/s/data")
	got := m.sh(t, `exec 3<>chains/s/ctl; echo "split 6" >&3; read -r id <&3; cat chains/s/data; echo; cat chains/$id/data; echo; cat chains/$id/stats`)
	lines := strings.Split(got, "\n")
	if lines[0] != "header" || lines[1] != "payload" {
		t.Errorf("split 6: %q", got)
	}
	if statValue(t, got, "layers") != 0 {
		t.Errorf("the split off chain is not bare: %q", got)
	}
	got = m.sh(t, `exec 3<>chains/s/ctl; echo "push 1 3" >&3; echo clone >&3; read -r id <&3; cat chains/$id/data; echo; cat chains/$id/stats; echo XYZ > chains/$id/layers/0/data; cat chains/s/layers/0/data`)
	if !strings.HasPrefix(got, "ead\n") || statValue(t, got, "layers") != 1 || !strings.HasSuffix(got, "\nheader") {
		t.Errorf("clone shares the view and layers, and a write to it copies first: %q", got)
	}
	// Shared buffers show refs 2 in segments until one side writes.
	m.sh(t, "mkdir chains/r && printf 'abc' > chains/r/data")
	got = m.sh(t, `exec 3<>chains/r/ctl; echo clone >&3; read -r id <&3; cat chains/r/segments; echo z > chains/$id/data; cat chains/r/segments`)
	refs := strings.Fields(got)
	if len(refs) != 8 || refs[3] != "2" || refs[7] != "1" {
		t.Errorf("segments of a cloned chain, then after the clone wrote: %q", got)
	}
}

func TestChainCtlOutcomeOnTheDescriptor(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/o && printf 'abcdef' > chains/o/data")
	got := m.sh(t, `exec 3<>chains/o/ctl; echo "split 2" >&3; read -r a <&3; read -r again <&3 || again=EOF; echo "pop" >&3 2>/dev/null; read -r b <&3; echo "push 0" >&3; read -r c <&3; echo "$a|$again|$b|$c"`)
	parts := strings.Split(strings.TrimSpace(got), "|")
	if len(parts) != 4 || parts[0] != "1" || parts[1] != "EOF" || !strings.HasPrefix(parts[2], "error: ") || parts[3] != "ok" {
		t.Errorf("outcomes: %q, want the new id, then EOF, then error: <reason>, then ok", parts)
	}
}

func TestChainLayers(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/l && printf 'ETHHIPHDUDPpayload' > chains/l/data")
	m.sh(t, `printf 'push 3\npush 5\npush 3\n' > chains/l/ctl`)
	if got := m.sh(t, "ls chains/l/layers; cat chains/l/data"); got != "0\n1\n2\n3\npayload" {
		t.Errorf("layers and view: %q", got)
	}
	for k, want := range []string{"offset 0\nlength 18\n", "offset 3\nlength 15\n", "offset 5\nlength 10\n", "offset 3\nlength 7\n"} {
		if got := m.sh(t, fmt.Sprintf("cat chains/l/layers/%d/info", k)); got != want {
			t.Errorf("layers/%d/info = %q, want %q", k, got, want)
		}
	}
	st := m.sh(t, "cat chains/l/stats")
	if statValue(t, st, "length") != 7 || statValue(t, st, "chain_length") != 18 || statValue(t, st, "layers") != 3 {
		t.Errorf("stats with three layers:\n%s", st)
	}
	// A write through any layer lands in the chain's bytes.
	m.sh(t, "printf 'PAY' | dd of=chains/l/data conv=notrunc status=none && printf 'udp' | dd of=chains/l/layers/2/data conv=notrunc status=none")
	if got := m.sh(t, "cat chains/l/layers/0/data"); got != "ETHHIPHDudpPAYload" {
		t.Errorf("layer 0 after writes through layers 3 and 2: %q", got)
	}
	// The narrow-view guard: nothing grows a view that hides bytes.
	before := m.chainState(t, "chains/l")
	for _, script := range []string{
		"echo more >> chains/l/data",
		"printf x | dd of=chains/l/data bs=1 seek=7 conv=notrunc status=none",
		"truncate -s 20 chains/l/data",
		"echo 'prepend 1' > chains/l/ctl",
		"printf 'xxxxxxxxxxx' | dd of=chains/l/layers/1/data bs=11 seek=10 oflag=seek_bytes conv=notrunc status=none",
		"truncate -s 1 chains/l/layers/1/data",
	} {
		m.wantErr(t, script, "Invalid argument")
	}
	if after := m.chainState(t, "chains/l"); after != before {
		t.Errorf("a refused growth changed the chain:\n%s\nthen\n%s", before, after)
	}
	// A view that shows the whole chain grows, and the layers beneath it.
	m.sh(t, `printf 'pop\npop\npop\npush 0\n' > chains/l/ctl && echo '!' >> chains/l/data`)
	if got := m.sh(t, "cat chains/l/layers/1/info chains/l/layers/0/info"); got != "offset 0\nlength 20\noffset 0\nlength 20\n" {
		t.Errorf("a whole-chain layer after growing: %q", got)
	}
	m.sh(t, "echo pop > chains/l/ctl")
	m.wantErr(t, "cat chains/l/layers/1/info", "No such file")
	m.wantErr(t, "echo pop > chains/l/ctl", "Invalid argument")
}

func TestChainBadInputChangesNothing(t *testing.T) {
	m := mountChains(t)
	m.sh(t, "mkdir chains/b && head -c 5000 /dev/urandom > chains/b/data && echo 'push 10 4000' > chains/b/ctl")
	before := m.chainState(t, "chains/b")
	for _, tc := range []struct{ line, want string }{
		{"frob", "Invalid argument"},
		{"push", "Invalid argument"},
		{"push 1 2 3", "Invalid argument"},
		{"push -1", "Invalid argument"},
		{"push 4001", "Invalid argument"},
		{"push 0 4001", "Invalid argument"},
		{"push 99999999999999999999999", "Invalid argument"},
		{"push 0x10", "Invalid argument"},
		{"push +1", "Invalid argument"},
		{"push 1e3", "Invalid argument"},
		{"trim-front 4001", "Invalid argument"},
		{"trim-back 18446744073709551615", "Invalid argument"},
		{"split 4001", "Invalid argument"},
		{"pullup 4001", "Invalid argument"},
		{"pullup 1099511627776", "Invalid argument"},
		{"prepend 1", "Invalid argument"},
		{"clone now", "Invalid argument"},
		{"pop 1", "Invalid argument"},
		{"send", "Invalid argument"},
		{"send nosuch0", "No such file"},
		{"PUSH 1", "Invalid argument"},
	} {
		m.wantErr(t, "echo '"+tc.line+"' > chains/b/ctl", tc.want)
	}
	m.wantErr(t, `printf '\x00\xff\x01binary\x80' > chains/b/ctl`, "Invalid argument")
	m.sh(t, `printf '' > chains/b/ctl && printf '\n\n  \n' > chains/b/ctl`)
	// The lines before a bad one stay done, those after it are not run.
	// One write(2) of three lines: cat writes a small regular file whole.
	lines := file(t, "lines", []byte("push 1\nbogus\npop\n"))
	m.wantErr(t, "cat "+lines+" > chains/b/ctl", "Invalid argument")
	if got := statValue(t, m.sh(t, "cat chains/b/stats"), "layers"); got != 2 {
		t.Errorf("layers after push, bogus, pop = %d, want 2", got)
	}
	m.sh(t, "echo pop > chains/b/ctl")
	if after := m.chainState(t, "chains/b"); after != before {
		t.Errorf("refused commands changed the chain:\n%s\nthen\n%s", before, after)
	}
	m.sh(t, "echo pop > chains/b/ctl")
	before = m.chainState(t, "chains/b")
	m.wantErr(t, "printf x | dd of=chains/b/data bs=1M seek=100 status=none", "File too large")
	m.wantErr(t, "truncate -s 100M chains/b/data", "File too large")
	if after := m.chainState(t, "chains/b"); after != before {
		t.Errorf("refused growth changed the chain:\n%s\nthen\n%s", before, after)
	}
}

func TestChainSegmentsGiveZeroCopyThroughTheArena(t *testing.T) {
	py := chainsPy(t)
	m := mountChains(t)
	m.sh(t, "mkdir chains/z && head -c 150000 /dev/urandom | base64 -w0 | head -c 140000 > chains/z/data")
	for _, line := range strings.Split(strings.TrimSpace(m.sh(t, "cat chains/z/segments")), "\n") {
		var size, off, length, refs int64
		if _, err := fmt.Sscan(line, &size, &off, &length, &refs); err != nil {
			t.Fatalf("segments line %q: %v", line, err)
		}
		if off < 0 || length > size || off+length > m.pond.ArenaBytes() || refs != 1 {
			t.Errorf("segments line %q is no run of the arena", line)
		}
	}
	m.sh(t, py+" zerocopy . z")
}

func TestChainDataMmap(t *testing.T) {
	py := chainsPy(t)
	m := mountChains(t)
	m.sh(t, "mkdir chains/m && head -c 70000 /dev/urandom > chains/m/data")
	m.sh(t, py+" mmap . m")
	for _, how := range []string{"data", "ctl", "layer", "arena"} {
		t.Run("a mapping sees a later change through "+how, func(t *testing.T) {
			m.sh(t, "mkdir chains/"+how+" && "+py+" mapsees . "+how+" "+how)
		})
	}
}

func TestChainRandomOperationsMatchAModel(t *testing.T) {
	py := chainsPy(t)
	m := mountChains(t)
	before := m.inUse()
	for seed := 1; seed <= 2; seed++ {
		m.sh(t, fmt.Sprintf("%s model . %d 300", py, seed))
	}
	if got := m.sh(t, "ls chains"); got != "new\n" {
		t.Errorf("chains left after the model runs: %q", got)
	}
	if m.inUse() != before {
		t.Errorf("in_use %d after the model runs, was %d", m.inUse(), before)
	}
}

// TestChainConcurrentUse hammers one chain from several processes while
// others clone, split and remove chains: nothing may crash, deadlock or
// leak.
func TestChainConcurrentUse(t *testing.T) {
	m := mountChains(t)
	before := m.inUse()
	m.sh(t, "mkdir chains/h && head -c 10000 /dev/zero > chains/h/data")
	m.sh(t, `
		for i in $(seq 40); do echo "appended $i" >> chains/h/data; done &
		for i in $(seq 40); do printf 'push 1\npop\n' > chains/h/ctl; done &
		for i in $(seq 40); do cat chains/h/data chains/h/segments chains/h/stats >/dev/null; done &
		for i in $(seq 20); do exec 3<>chains/h/ctl; echo clone >&3; read -r id <&3; exec 3>&-; echo x > chains/$id/data; rmdir chains/$id; done &
		for i in $(seq 20); do id=$(cat chains/new); echo y > chains/$id/data; rmdir chains/$id & done &
		wait`)
	if got := strings.Count(m.sh(t, "cat chains/h/data"), "appended"); got != 40 {
		t.Errorf("%d appends in the chain, want 40", got)
	}
	m.sh(t, "rmdir chains/h")
	if got := m.sh(t, "ls chains"); got != "new\n" {
		t.Errorf("chains left: %q", got)
	}
	if m.inUse() != before {
		t.Errorf("in_use %d, was %d", m.inUse(), before)
	}
}

// TestConcatCrossed runs concats that name each other's chain at once,
// round after round: each round one of the two takes the other chain and
// the other finds it gone. Every byte ends up in the chain that took the
// other, and nothing leaks. (The window in which two such concats could
// each hold one chain and wait for the other, which Tree.concatMu closes,
// is a few instructions wide: 300 rounds without the mutex did not hit it.)
func TestConcatCrossed(t *testing.T) {
	m := mountChains(t)
	before := m.inUse()
	out := m.sh(t, `
		for i in $(seq 10); do
			mkdir chains/a chains/b
			printf A > chains/a/data; printf B > chains/b/data
			echo 'concat x b' 2>/dev/null > chains/a/ctl &
			echo 'concat x a' 2>/dev/null > chains/b/ctl &
			wait
			ls chains | tr '\n' ' '; cat chains/a/data chains/b/data 2>/dev/null; echo
			rmdir chains/a 2>/dev/null || rmdir chains/b
		done`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "a new AB" && line != "b new BA" {
			t.Fatalf("a round of crossed concats left %q, want one chain holding both", line)
		}
	}
	if m.inUse() != before {
		t.Errorf("in_use %d, was %d", m.inUse(), before)
	}
}
