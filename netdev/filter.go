package netdev

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// BPFInstruction is one classic BPF instruction, laid out as the kernel's
// struct sock_filter.
type BPFInstruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Filter is a classic BPF program that a device runs on each frame before
// the port reads it: a frame it rejects never reaches the pond. It is
// written and shown as `tcpdump -ddd EXPR` prints it: a line with the
// instruction count, then one "code jt jf k" line per instruction, all
// decimal. The zero Filter is no filter.
type Filter []BPFInstruction

// maxFilterLen is the kernel's limit on a classic BPF program
// (BPF_MAXINSNS).
const maxFilterLen = 4096

// ParseFilter reads a program in tcpdump -ddd's form, one item per line;
// blank lines and blanks around an item are ignored. Blank text is the
// empty Filter (no filter). Text whose count line promises more lines than
// follow fails with an error wrapping ErrFilterIncomplete (more may be on
// the way); every other malformation wraps ErrBadFilter. The kernel checks
// the program itself when it is attached.
func ParseFilter(text []byte) (Filter, error) {
	var lines []string
	for _, l := range strings.Split(string(text), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	n, err := strconv.ParseUint(lines[0], 10, 16)
	if err != nil || n == 0 || n > maxFilterLen {
		return nil, fmt.Errorf("filter count %q: want 1 to %d: %w", lines[0], maxFilterLen, ErrBadFilter)
	}
	body := lines[1:]
	switch {
	case len(body) < int(n):
		return nil, fmt.Errorf("filter of %d instructions has %d: %w", n, len(body), ErrFilterIncomplete)
	case len(body) > int(n):
		return nil, fmt.Errorf("filter of %d instructions has %d: %w", n, len(body), ErrBadFilter)
	}
	f := make(Filter, n)
	for i, line := range body {
		if f[i], err = parseInstruction(line); err != nil {
			return nil, fmt.Errorf("filter instruction %d: %w", i+1, err)
		}
	}
	return f, nil
}

// parseInstruction reads one "code jt jf k" line.
func parseInstruction(line string) (BPFInstruction, error) {
	w := strings.Fields(line)
	if len(w) != 4 {
		return BPFInstruction{}, fmt.Errorf("%q is not \"code jt jf k\": %w", line, ErrBadFilter)
	}
	code, e1 := strconv.ParseUint(w[0], 10, 16)
	jt, e2 := strconv.ParseUint(w[1], 10, 8)
	jf, e3 := strconv.ParseUint(w[2], 10, 8)
	k, e4 := strconv.ParseUint(w[3], 10, 32)
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
		return BPFInstruction{}, fmt.Errorf("%q: each field a decimal of its width: %w", line, ErrBadFilter)
	}
	return BPFInstruction{Code: uint16(code), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)}, nil
}

// Text is the program in tcpdump -ddd's form, or nothing for no filter.
func (f Filter) Text() []byte {
	if len(f) == 0 {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n", len(f))
	for _, in := range f {
		fmt.Fprintf(&b, "%d %d %d %d\n", in.Code, in.Jt, in.Jf, in.K)
	}
	return b.Bytes()
}

// filterDevice is a Device whose kernel runs a Filter on the frames it
// receives: a TAP.
type filterDevice interface {
	SetFilter(f Filter) error
	Filter() Filter
	FilterDrops() uint64
}

// SetFilter attaches f to the port's device in the kernel, so that frames
// it rejects never reach the pond, the queue or a capture; an empty f
// removes the filter. A program the kernel refuses fails with ErrBadFilter
// and the old filter stays (see TAP.SetFilter). A device with no filter in
// the kernel (an in-memory one) fails with errors.ErrUnsupported. f is the
// port's from then on: the caller must not change it.
func (p *Port) SetFilter(f Filter) error {
	fd, ok := p.dev.(filterDevice)
	if !ok {
		return fmt.Errorf("set filter on %s: %w", p.Name(), errors.ErrUnsupported)
	}
	return fd.SetFilter(f)
}

// Filter is the filter attached to the port's device, nil when none. The
// caller must not change it.
func (p *Port) Filter() Filter {
	if fd, ok := p.dev.(filterDevice); ok {
		return fd.Filter()
	}
	return nil
}

// filterDrops counts the frames the device's kernel dropped before the
// port could read them; 0 for a device without a filter.
func (p *Port) filterDrops() uint64 {
	if fd, ok := p.dev.(filterDevice); ok {
		return fd.FilterDrops()
	}
	return 0
}
