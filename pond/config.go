package pond

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits on a class's buffer size: a buffer smaller than a cache line wastes
// more on metadata than it holds; a buffer larger than 64 KiB would serve
// nothing: a frame larger than the largest buffer (a TAP's MTU goes to
// 65521) is read into several.
const (
	MinBufSize = 64
	MaxBufSize = 65536
)

// DefaultArenaMax is the default upper bound of pond memory.
const DefaultArenaMax = 256 << 20

// maxArena is what a buffer's 32-bit offset field (in 8-byte units) reaches.
const maxArena = 32 << 30

// ClassConfig describes one size class: buffers of Size bytes, at least Min
// of them kept, at most Max, grown GrowBy at a time.
type ClassConfig struct {
	Size   int
	Min    int
	Max    int
	GrowBy int
}

// Config describes a pond: its classes in ascending size and the upper
// bound of its arena in bytes.
type Config struct {
	Classes  []ClassConfig
	ArenaMax int64
}

// defaultClasses: 2048 holds a 1514-byte frame plus 128 bytes of headroom,
// 9216 a jumbo frame, 65536 the largest frame a TAP can carry. Their maxima
// add up to well under DefaultArenaMax so no class can starve the others of
// arena space by default.
var defaultClasses = []ClassConfig{
	{Size: 128, Min: 256, Max: 131072, GrowBy: 256},
	{Size: 512, Min: 128, Max: 32768, GrowBy: 128},
	{Size: 2048, Min: 256, Max: 32768, GrowBy: 64},
	{Size: 9216, Min: 16, Max: 4096, GrowBy: 16},
	{Size: 65536, Min: 4, Max: 1024, GrowBy: 4},
}

// DefaultConfig returns the built-in pond configuration.
func DefaultConfig() Config {
	return Config{Classes: append([]ClassConfig(nil), defaultClasses...), ArenaMax: DefaultArenaMax}
}

// DefaultClass returns the built-in tuning for a class of the given size:
// that of the default class of equal size, or one scaled to hold about
// 16 MiB at most and grow about 128 KiB at a time.
func DefaultClass(size int) ClassConfig {
	for _, c := range defaultClasses {
		if c.Size == size {
			return c
		}
	}
	growBy := max(1, (128<<10)/max(size, 1))
	return ClassConfig{Size: size, Min: growBy, Max: max(growBy, (16<<20)/max(size, 1)), GrowBy: growBy}
}

// ParseClasses parses a class list such as "128,512,2048:64:4096": each entry
// is SIZE or SIZE:MIN:MAX; entries without tuning get DefaultClass values.
// The result is not validated; call Config.Validate.
func ParseClasses(spec string) ([]ClassConfig, error) {
	var out []ClassConfig
	for _, item := range strings.Split(spec, ",") {
		c, err := parseClass(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("parse pools %q: %w", spec, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseClass(item string) (ClassConfig, error) {
	fields := strings.Split(item, ":")
	if len(fields) != 1 && len(fields) != 3 {
		return ClassConfig{}, fmt.Errorf("%w: %q is neither SIZE nor SIZE:MIN:MAX", ErrInvalid, item)
	}
	nums := make([]int, len(fields))
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return ClassConfig{}, fmt.Errorf("%w: %q in %q is not a count", ErrInvalid, f, item)
		}
		nums[i] = n
	}
	c := DefaultClass(nums[0])
	if len(nums) == 3 {
		c.Min, c.Max = nums[1], nums[2]
		c.GrowBy = max(1, min(c.GrowBy, c.Max))
	}
	return c, nil
}

// Validate checks a configuration and names the first bad value.
func (cfg Config) Validate() error {
	if len(cfg.Classes) == 0 {
		return fmt.Errorf("%w: no pools", ErrInvalid)
	}
	if cfg.ArenaMax < 1<<20 || cfg.ArenaMax > maxArena {
		return fmt.Errorf("%w: arena max %d outside 1MiB..32GiB", ErrInvalid, cfg.ArenaMax)
	}
	prev := 0
	for _, c := range cfg.Classes {
		if err := c.validate(); err != nil {
			return err
		}
		if capacity := classCapacity(cfg.ArenaMax, c.Size); int64(c.Min) > capacity {
			return fmt.Errorf("%w: pool %d: min %d, more than the arena max of %d bytes holds (%d)",
				ErrInvalid, c.Size, c.Min, cfg.ArenaMax, capacity)
		}
		if c.Size <= prev {
			return fmt.Errorf("%w: pool sizes must ascend: %d after %d", ErrInvalid, c.Size, prev)
		}
		prev = c.Size
	}
	return nil
}

func (c ClassConfig) validate() error {
	switch {
	case c.Size < MinBufSize || c.Size > MaxBufSize:
		return fmt.Errorf("%w: pool size %d outside %d..%d (a frame larger than the largest buffer is read into several)",
			ErrInvalid, c.Size, MinBufSize, MaxBufSize)
	case c.Size%8 != 0:
		return fmt.Errorf("%w: pool size %d is not a multiple of 8", ErrInvalid, c.Size)
	case c.Min < 0 || c.Max < 1 || c.Min > c.Max:
		return fmt.Errorf("%w: pool %d: min %d, max %d (want 0 <= min <= max, max >= 1)", ErrInvalid, c.Size, c.Min, c.Max)
	case c.GrowBy < 1:
		return fmt.Errorf("%w: pool %d: grow_by %d (want >= 1)", ErrInvalid, c.Size, c.GrowBy)
	}
	return nil
}
