package fs

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// mmapScript maps the arena in a child process: "put OFF TEXT" writes
// TEXT at OFF through the mapping and msyncs it, "get OFF N" prints N
// bytes at OFF; "wait" first reads the bytes at OFF (so the mapping holds
// that page) and then waits for a line on stdin.
const mmapScript = `
import mmap, os, sys
fd = os.open(os.environ["MNT"] + "/arena", os.O_RDWR)
m = mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
args = sys.argv[1:]
if args[0] == "wait":
    args = args[1:]
    m[int(args[1])]
    print("mapped", flush=True)
    sys.stdin.readline()
off = int(args[1])
if args[0] == "put":
    m[off:off + len(args[2])] = args[2].encode()
    m.flush()
else:
    sys.stdout.write(m[off:off + int(args[2])].decode())
m.close()
os.close(fd)
`

func (m *mounted) python(t *testing.T, args ...string) string {
	t.Helper()
	return m.sh(t, python3()+" -c '"+mmapScript+"' "+strings.Join(args, " "))
}

func TestArena(t *testing.T) {
	need(t, python3(), "dd")
	for _, tc := range []struct {
		name     string
		opt      Options
		zeroCopy uint64
	}{
		{"zero copy", Options{}, 1},
		{"served by the daemon", Options{NoZeroCopy: true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mountTree(t, tc.opt)
			if boolValue(m.tree.ZeroCopy()) != tc.zeroCopy {
				t.Skipf("this kernel does not pass the arena through: %q", m.log.lines())
			}
			if got := statValue(t, m.sh(t, "cat stats"), "arena_zero_copy"); got != tc.zeroCopy {
				t.Errorf("arena_zero_copy = %d, want %d", got, tc.zeroCopy)
			}
			if got := m.sh(t, "stat -c %s arena"); strings.TrimSpace(got) != fmt.Sprint(m.pond.ArenaBytes()) {
				t.Errorf("arena size %s, want arena_bytes %d", got, m.pond.ArenaBytes())
			}
			mem := m.pond.Arena()

			m.python(t, "put", "4096", "from-mmap")
			if got := string(mem[4096 : 4096+9]); got != "from-mmap" {
				t.Errorf("pond reads %q where the mapping wrote from-mmap", got)
			}
			copy(mem[8192:], "from-pond")
			if got := m.python(t, "get", "8192", "9"); got != "from-pond" {
				t.Errorf("mapping reads %q where the pond wrote from-pond", got)
			}

			m.sh(t, "printf from-write | dd of=arena bs=1 seek=12288 conv=notrunc status=none")
			if got := string(mem[12288 : 12288+10]); got != "from-write" {
				t.Errorf("pond reads %q where write(2) wrote from-write", got)
			}
			copy(mem[16384:], "for-read")
			if got := m.sh(t, "dd if=arena bs=1 skip=16384 count=8 status=none"); got != "for-read" {
				t.Errorf("read(2) returns %q where the pond wrote for-read", got)
			}
		})
	}
}

// TestArenaMappingSeesThePondLive checks what only zero copy gives: a
// mapping made before the pond writes sees the write, with no new open.
func TestArenaMappingSeesThePondLive(t *testing.T) {
	need(t, python3())
	m := mountTree(t, Options{})
	if !m.tree.ZeroCopy() {
		t.Skipf("this kernel does not pass the arena through: %q", m.log.lines())
	}
	cmd := exec.Command("bash", "-c", `cd "$MNT" && exec "$1" -c "$0" wait get 20480 4`, mmapScript, python3())
	cmd.Env = append(cmd.Environ(), "MNT="+m.dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	if line, err := r.ReadString('\n'); err != nil || line != "mapped\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	copy(m.pond.Arena()[20480:], "live")
	fmt.Fprintln(stdin)
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if string(rest) != "live" {
		t.Errorf("the open mapping reads %q, want the pond's live write", rest)
	}
}

func TestArenaRefusesWritesPastItsEnd(t *testing.T) {
	need(t, "dd")
	m := mountTree(t, Options{NoZeroCopy: true})
	script := fmt.Sprintf("printf x | dd of=arena bs=1 seek=%d conv=notrunc status=none", m.pond.ArenaBytes())
	if out, err := m.try(script); err == nil || !strings.Contains(out, "Invalid argument") {
		t.Errorf("write past the end: err %v, output %q; want EINVAL", err, out)
	}
}

// TestZeroCopyKnownFromTheFirstAnswer: a program that reads the tree as
// soon as it answers sees arena_zero_copy as it will stay. It fails when
// the tree answers before Mount has probed the kernel: the first read of
// stats then shows 0 (and a ring opened then fails with EOPNOTSUPP).
func TestZeroCopyKnownFromTheFirstAnswer(t *testing.T) {
	need(t, python3())
	m := newMounted(t)
	const firstRead = `
import os, sys
print("ready", flush=True)
while True:
    try:
        fd = os.open(os.environ["MNT"] + "/stats", os.O_RDONLY)
    except OSError:
        continue
    sys.stdout.write(os.read(fd, 65536).decode())
    break
`
	cmd := exec.Command(python3(), "-c", firstRead)
	cmd.Env = append(cmd.Environ(), "MNT="+m.dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	if line, err := lines.ReadString('\n'); line != "ready\n" {
		t.Fatalf("the reader did not start: %q, %v", line, err)
	}
	m.mount(t, Options{})
	out, err := io.ReadAll(lines)
	if werr := cmd.Wait(); err != nil || werr != nil {
		t.Fatal(err, werr)
	}
	if !m.tree.ZeroCopy() {
		t.Skipf("this kernel does not pass the arena through: %q", m.log.lines())
	}
	if got := statValue(t, string(out), "arena_zero_copy"); got != 1 {
		t.Errorf("the first read of stats shows arena_zero_copy %d, want 1", got)
	}
}
