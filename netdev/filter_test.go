package netdev

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tcpdumpPrograms are the stored outputs of tcpdump -ddd (tcpdump 4.99,
// libpcap 1.10, Ethernet) for the expressions listed in
// testdata/filter/expressions.tsv, by file name.
func tcpdumpPrograms(t *testing.T) map[string][]byte {
	t.Helper()
	list, err := os.ReadFile("testdata/filter/expressions.tsv")
	if err != nil {
		t.Fatal(err)
	}
	progs := map[string][]byte{}
	for line := range strings.Lines(string(list)) {
		name, _, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		b, err := os.ReadFile(filepath.Join("testdata/filter", name+".ddd"))
		if err != nil {
			t.Fatal(err)
		}
		progs[name] = b
	}
	if len(progs) < 12 {
		t.Fatalf("%d stored programs, want a dozen or more", len(progs))
	}
	return progs
}

// TestParseFilterTcpdump: every program tcpdump -ddd printed parses, has
// the instructions its count line says, and prints back byte for byte.
func TestParseFilterTcpdump(t *testing.T) {
	for name, text := range tcpdumpPrograms(t) {
		f, err := ParseFilter(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		count, _, _ := bytes.Cut(text, []byte("\n"))
		if got := string(count); got != strconv.Itoa(len(f)) {
			t.Errorf("%s: %d instructions, count line %s", name, len(f), got)
		}
		if got := f.Text(); !bytes.Equal(got, text) {
			t.Errorf("%s: printed back as\n%s\nwant\n%s", name, got, text)
		}
	}
	f, err := ParseFilter([]byte("2\n21 0 1 4294967295\n6 0 0 262144\n"))
	if err != nil || f[0] != (BPFInstruction{Code: 21, Jt: 0, Jf: 1, K: 1<<32 - 1}) || f[1].K != 262144 {
		t.Errorf("fields: %+v, %v", f, err)
	}
}

// TestParseFilterShapes: blanks around items and a missing last newline
// are fine; blank text is no filter; a count that promises more lines is
// incomplete; everything else malformed is refused.
func TestParseFilterShapes(t *testing.T) {
	for _, text := range []string{"1\n6 0 0 262144\n", "1\n6 0 0 262144", " 1 \r\n\t6  0 0   262144 \n\n"} {
		if f, err := ParseFilter([]byte(text)); err != nil || len(f) != 1 || f[0].K != 262144 {
			t.Errorf("ParseFilter(%q) = %v, %v", text, f, err)
		}
	}
	for _, text := range []string{"", "\n", "  \n \n"} {
		if f, err := ParseFilter([]byte(text)); err != nil || f != nil {
			t.Errorf("ParseFilter(%q) = %v, %v; want no filter", text, f, err)
		}
	}
	for _, text := range []string{"2\n6 0 0 262144\n", "3\n"} {
		if _, err := ParseFilter([]byte(text)); !errors.Is(err, ErrFilterIncomplete) {
			t.Errorf("ParseFilter(%q): %v, want ErrFilterIncomplete", text, err)
		}
	}
	for _, text := range []string{
		"1\n6 0 0 262144\n6 0 0 0\n",   // more lines than the count
		"0\n",                          // no instructions
		"4097\n",                       // more than the kernel takes
		"-1\n6 0 0 0\n",                // negative count
		"x\n6 0 0 0\n",                 // count not a number
		"1\n6 0 0\n",                   // three fields
		"1\n6 0 0 0 0\n",               // five fields
		"1\n65536 0 0 0\n",             // code wider than 16 bits
		"1\n6 256 0 0\n",               // jt wider than 8 bits
		"1\n6 0 256 0\n",               // jf wider than 8 bits
		"1\n6 0 0 4294967296\n",        // k wider than 32 bits
		"1\n0x6 0 0 0\n",               // not decimal
		"1\n6 0 0 -1\n",                // negative k
		"(000) ret #262144\n",          // tcpdump -d, not -ddd
		"{ 0x6, 0, 0, 0x00040000 },\n", // tcpdump -dd, not -ddd
	} {
		if _, err := ParseFilter([]byte(text)); !errors.Is(err, ErrBadFilter) {
			t.Errorf("ParseFilter(%q): %v, want ErrBadFilter", text, err)
		}
	}
	if got := Filter(nil).Text(); got != nil {
		t.Errorf("no filter prints %q", got)
	}
}

// TestFilterCheck: the kernel's checker takes every program tcpdump
// printed and refuses one that can fall off its end or jump out of it.
func TestFilterCheck(t *testing.T) {
	for name, text := range tcpdumpPrograms(t) {
		f, _ := ParseFilter(text)
		if err := f.Check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, text := range []string{"1\n0 0 0 0\n", "2\n21 5 0 1\n6 0 0 0\n"} {
		f, err := ParseFilter([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Check(); !errors.Is(err, ErrBadFilter) {
			t.Errorf("Check(%q): %v, want ErrBadFilter", text, err)
		}
	}
}
