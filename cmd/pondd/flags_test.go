package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/pondfs/pondfs/pond"
)

// env makes a lookupEnv from pairs.
func env(pairs ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFlagDefaults(t *testing.T) {
	cfg, _, err := parseFlags(nil, env())
	if err != nil {
		t.Fatal(err)
	}
	def := pond.DefaultConfig()
	if cfg.mount != "/run/pond" || cfg.rxQueue != 256 || cfg.allowOther || len(cfg.taps) != 0 ||
		cfg.pond.ArenaMax != def.ArenaMax || !slices.Equal(cfg.pond.Classes, def.Classes) {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestFlagBeatsEnvBeatsDefault(t *testing.T) {
	e := env("POND_ARENA_MAX", "1GiB", "POND_MOUNT", "/env/dir", "POND_TAP", "tap0,tap1",
		"POND_ALLOW_OTHER", "true", "POND_RX_QUEUE", "64", "POND_POOLS", "128,4096:8:16")
	cfg, _, err := parseFlags([]string{"--mount", "/flag/dir", "--rx-queue=32"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.mount != "/flag/dir" || cfg.rxQueue != 32 {
		t.Errorf("flags lost to the environment: mount %q rx-queue %d", cfg.mount, cfg.rxQueue)
	}
	if cfg.pond.ArenaMax != 1<<30 || !cfg.allowOther || !slices.Equal(cfg.taps, []string{"tap0", "tap1"}) {
		t.Errorf("environment not read: arena %d allow-other %t taps %q", cfg.pond.ArenaMax, cfg.allowOther, cfg.taps)
	}
	if got := (&poolsValue{&cfg.pond.Classes}).String(); got != "128,4096:8:16" {
		t.Errorf("pools from the environment = %q", got)
	}
}

func TestFlagSizes(t *testing.T) {
	for arg, want := range map[string]int64{"256MiB": 256 << 20, "1GiB": 1 << 30, "16777216": 16 << 20} {
		cfg, _, err := parseFlags([]string{"--arena-max", arg}, env())
		if err != nil || cfg.pond.ArenaMax != want {
			t.Errorf("--arena-max %s = %d, %v; want %d", arg, cfg.pond.ArenaMax, err, want)
		}
	}
	if got := formatSize(256 << 20); got != "256MiB" {
		t.Errorf("formatSize = %q", got)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--bogus"}, nil, "unknown flag: --bogus"},
		{[]string{"--arena-max", "12XB"}, nil, `size "12XB"`},
		{[]string{"--arena-max", "1KiB"}, nil, "arena max"},
		{[]string{"--pools", "100"}, nil, "multiple of 8"},
		{[]string{"--pools", "2048,128"}, nil, "ascend"},
		{[]string{"--rx-queue", "0"}, nil, "--rx-queue 0"},
		{[]string{"--tap", "a", "--tap", "b", "--tap", "a"}, nil, "--tap a: given twice"},
		{[]string{"stray"}, nil, `unexpected argument "stray"`},
		{nil, []string{"POND_RX_QUEUE", "many"}, "POND_RX_QUEUE"},
	} {
		_, _, err := parseFlags(tc.args, env(tc.env...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: err %v, want it to say %q", tc.args, tc.env, err, tc.want)
		}
	}
}

// TestBadFlagOneLine: a bad flag or value prints one line that names the
// flag and says the value once, then the pointer to --help; never the
// whole usage, pflag's or pond's "invalid argument", or the value twice.
func TestBadFlagOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--bogus"}, nil, "unknown flag: --bogus"},
		{[]string{"--arena-max", "lots"}, nil, `--arena-max: size "lots" (want bytes, or a number with KiB, MiB, GiB)`},
		{[]string{"--rx-queue", "many"}, nil, `--rx-queue "many": must be an integer`},
		{nil, []string{"POND_ARENA_MAX", "lots"}, `POND_ARENA_MAX (--arena-max): size "lots" (want bytes, or a number with KiB, MiB, GiB)`},
	} {
		_, _, err := parseFlags(tc.args, env(tc.env...))
		if err == nil {
			t.Fatalf("%q %q: no error", tc.args, tc.env)
		}
		if got := flagError(err); got != tc.want {
			t.Errorf("%q %q: %q, want %q", tc.args, tc.env, got, tc.want)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--arena-max", "lots"}, &out, &errb); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	want := "pondd: --arena-max: size \"lots\" (want bytes, or a number with KiB, MiB, GiB)\n" + tryHelp
	if errb.String() != want || out.Len() > 0 {
		t.Errorf("stderr %q, want %q; stdout %q", errb.String(), want, out.String())
	}
}

func TestHelpAndVersionIgnoreTheRest(t *testing.T) {
	bad := env("POND_RX_QUEUE", "many")
	for _, arg := range []string{"--help", "-h", "--version"} {
		if _, _, err := parseFlags([]string{arg}, bad); err != nil {
			t.Errorf("%s with a bad environment: %v", arg, err)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args               []string
		code               int
		stdout, stderr     string
		emptyOut, emptyErr bool
	}{
		{args: []string{"--help"}, code: 0, stdout: "--arena-max SIZE", emptyErr: true},
		{args: []string{"--version"}, code: 0, stdout: "pondd " + version + "\n", emptyErr: true},
		{args: []string{"--bogus"}, code: 2, stderr: "pondd: unknown flag: --bogus\n" + tryHelp, emptyOut: true},
		{args: []string{"--tap", "tap0", "--tap", "tap0"}, code: 2, stderr: "--tap tap0: given twice", emptyOut: true},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) ||
			(tc.emptyOut && out.Len() > 0) || (tc.emptyErr && errb.Len() > 0) {
			t.Errorf("pondd %q: exit %d\nstdout %q\nstderr %q", tc.args, code, out.String(), errb.String())
		}
	}
}

func TestUsageListsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	run([]string{"--help"}, &out, &out)
	for _, f := range []string{"--mount DIR", "--tap NAME", "--pools SPEC", "--arena-max SIZE", "--rx-queue", "--allow-other", "--version", "--help", "POND_"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("usage lacks %q:\n%s", f, out.String())
		}
	}
}
