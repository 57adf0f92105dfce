package pond

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		return Config{Classes: []ClassConfig{
			{Size: 128, Min: 0, Max: 10, GrowBy: 5},
			{Size: 2048, Min: 4, Max: 64, GrowBy: 8},
		}, ArenaMax: 4 << 20}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		words []string // the error must mention each
	}{
		{"no pools", func(c *Config) { c.Classes = nil }, []string{"no pools"}},
		{"not ascending", func(c *Config) { c.Classes[1].Size = 96 }, []string{"96", "128"}},
		{"equal sizes", func(c *Config) { c.Classes[1].Size = 128 }, []string{"128"}},
		{"size below 64", func(c *Config) { c.Classes[0].Size = 56 }, []string{"56"}},
		{"size 0", func(c *Config) { c.Classes[0].Size = 0 }, []string{"0"}},
		{"size above 65536", func(c *Config) { c.Classes[1].Size = 65544 }, []string{"65544"}},
		{"size not a multiple of 8", func(c *Config) { c.Classes[1].Size = 2047 }, []string{"2047"}},
		{"min above max", func(c *Config) { c.Classes[1].Min, c.Classes[1].Max = 65, 64 }, []string{"2048", "65", "64"}},
		{"min negative", func(c *Config) { c.Classes[0].Min = -3 }, []string{"128", "-3"}},
		{"max 0", func(c *Config) { c.Classes[0].Max = 0 }, []string{"128", "max 0"}},
		{"grow_by 0", func(c *Config) { c.Classes[1].GrowBy = 0 }, []string{"2048", "grow_by 0"}},
		{"grow_by negative", func(c *Config) { c.Classes[1].GrowBy = -1 }, []string{"2048", "grow_by -1"}},
		{"arena too small", func(c *Config) { c.ArenaMax = 1<<20 - 1 }, []string{"1048575"}},
		{"arena 0", func(c *Config) { c.ArenaMax = 0 }, []string{"arena max 0"}},
		{"arena too large", func(c *Config) { c.ArenaMax = 32<<30 + 1 }, []string{"34359738369"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.edit(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate: %v, want ErrInvalid", err)
			}
			mentions(t, "Validate", err.Error(), tc.words...)
			p, err := New(cfg)
			if err == nil {
				p.Close()
				t.Fatal("New accepted a config Validate refuses")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("New: %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		for _, cfg := range []Config{good(), DefaultConfig(), onePool(64, 0, 1, 1, 1<<20), onePool(65536, 0, 1, 1, 32<<30)} {
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate(%+v): %v", cfg, err)
			}
		}
	})
	t.Run("too many pools", func(t *testing.T) {
		var cfg Config
		cfg.ArenaMax = 64 << 20
		for i := range maxClasses + 1 {
			cfg.Classes = append(cfg.Classes, ClassConfig{Size: 64 * (i + 1), Max: 1, GrowBy: 1})
		}
		p, err := New(cfg)
		if err == nil {
			p.Close()
			t.Fatalf("New with %d pools succeeded", len(cfg.Classes))
		}
		wantErr(t, "New", err, ErrInvalid)
	})
	t.Run("mins beyond the arena", func(t *testing.T) {
		// Each min fits alone; together they do not.
		cfg := Config{Classes: []ClassConfig{
			{Size: 9216, Min: 64, Max: 64, GrowBy: 64},
			{Size: 65536, Min: 8, Max: 8, GrowBy: 8},
		}, ArenaMax: 1 << 20}
		p, err := New(cfg)
		if err == nil {
			p.Close()
			t.Fatal("New carved more min buffers than its arena holds")
		}
		mentions(t, "New", err.Error(), "65536")
	})
	t.Run("counts past the arena", func(t *testing.T) {
		// A min of more buffers than the arena holds is refused before
		// anything is carved (its byte count overflowed int64 once); a max
		// or grow_by past it is cut to what the arena holds.
		huge := math.MaxInt64/2 + 1
		if err := (Config{Classes: []ClassConfig{{Size: 65536, Min: huge, Max: huge, GrowBy: 1}}, ArenaMax: 1 << 20}).Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate of min %d: %v, want ErrInvalid", huge, err)
		}
		p, err := New(Config{Classes: []ClassConfig{{Size: 65536, Min: 1, Max: huge, GrowBy: huge}}, ArenaMax: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if s := p.Pools()[0].Stats(); s.Max != 16 || s.GrowBy != 16 {
			t.Errorf("max %d, grow_by %d; want both cut to the 16 buffers the arena holds", s.Max, s.GrowBy)
		}
	})
}

func TestParseClasses(t *testing.T) {
	d128, d9216, d4096 := DefaultClass(128), DefaultClass(9216), DefaultClass(4096)
	for _, tc := range []struct {
		spec string
		want []ClassConfig
	}{
		{"128", []ClassConfig{d128}},
		{"128,512:1:10", []ClassConfig{d128, {Size: 512, Min: 1, Max: 10, GrowBy: 10}}},
		{" 128 , 9216 ", []ClassConfig{d128, d9216}},
		{"2048:64:4096", []ClassConfig{{Size: 2048, Min: 64, Max: 4096, GrowBy: DefaultClass(2048).GrowBy}}},
		{"4096", []ClassConfig{d4096}},
		{"128:0:1", []ClassConfig{{Size: 128, Min: 0, Max: 1, GrowBy: 1}}},
	} {
		got, err := ParseClasses(tc.spec)
		if err != nil {
			t.Errorf("ParseClasses(%q): %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseClasses(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
		if err := (Config{Classes: got, ArenaMax: DefaultArenaMax}).Validate(); err != nil {
			t.Errorf("ParseClasses(%q) = %+v does not validate: %v", tc.spec, got, err)
		}
	}
	if c := d4096; c.Size != 4096 || c.Min < 0 || c.Min > c.Max || c.GrowBy < 1 {
		t.Errorf("DefaultClass(4096) = %+v", c)
	}
	for _, spec := range []string{"", ",", "128,", "128,,512", "abc", "128:1", "128:1:2:3", "-128", "128:-1:5", "128:x:5", "128:1:y", "1.5", "128;512", "0x80"} {
		got, err := ParseClasses(spec)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseClasses(%q) = %+v, %v; want ErrInvalid", spec, got, err)
			continue
		}
		if spec != "" {
			mentions(t, "ParseClasses", err.Error(), spec)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"256MiB", 256 << 20},
		{"1GiB", 1 << 30},
		{"4096", 4096},
		{"64K", 64 << 10},
		{"64KiB", 64 << 10},
		{"2M", 2 << 20},
		{"3G", 3 << 30},
		{"1TiB", 1 << 40},
		{"512B", 512},
		{"0", 0},
		{" 8 MiB ", 8 << 20},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "-1", "-1MiB", "1.5MiB", "0.5", "abc", "MiB", "1e6", "0x100", "1 KB", "64k", "1MiBB",
		"9223372036854775808",  // past int64
		"99999999999999999999", // far past int64
		"8388608TiB",           // 2^63 bytes
		"17179869184GiB",       // 2^64 bytes
		"18014398509481984KiB", // 2^64 bytes
		"9007199254740993MiB",  // wraps to a small number in int64
	} {
		if got, err := ParseSize(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSize(%q) = %d, %v; want ErrInvalid", in, got, err)
		}
	}
}
