package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pondfs/pondfs/pond"
	"github.com/spf13/pflag"
)

// config is what the command line and the environment ask for.
type config struct {
	mount      string
	taps       []string
	pond       pond.Config
	rxQueue    int
	allowOther bool
	help       bool
	version    bool
}

const usageHead = `Usage: pondd [flags]

pondd runs a pond (pools of fixed-size buffers carved from one shared-memory
arena) and mounts it as a file tree. It stays in the foreground, logs one line
per notable event to stderr, and stops on SIGINT, SIGTERM or umount.

Every flag can also come from an environment variable named POND_ and the flag
in capitals, e.g. POND_ARENA_MAX=1GiB; a flag on the command line wins.

Flags:
`

// newFlagSet defines the flags, in the order README.md lists them, over
// cfg.
func newFlagSet(cfg *config) *pflag.FlagSet {
	fl := pflag.NewFlagSet("pondd", pflag.ContinueOnError)
	fl.SortFlags = false
	fl.SetOutput(io.Discard) // run prints errors and usage where they belong
	fl.StringVar(&cfg.mount, "mount", "/run/pond", "mount the tree on `DIR` (made if missing)")
	fl.StringArrayVar(&cfg.taps, "tap", nil, "create (or attach to) TAP device `NAME` and feed its frames into the pond; repeatable")
	fl.Var(&poolsValue{&cfg.pond.Classes}, "pools", "size classes, e.g. 128,512,2048,9216,65536, each optionally SIZE:MIN:MAX buffers")
	fl.Var(&sizeValue{&cfg.pond.ArenaMax}, "arena-max", "upper bound of pond memory (256MiB, 1GiB, plain bytes)")
	fl.IntVar(&cfg.rxQueue, "rx-queue", 256, "keep `N` received frames per device; the oldest is dropped when full")
	fl.BoolVar(&cfg.allowOther, "allow-other", false, "let users other than the mounter use the tree")
	fl.BoolVar(&cfg.version, "version", false, "print the version and exit")
	fl.BoolVarP(&cfg.help, "help", "h", false, "print this help and exit")
	return fl
}

// usage is the help text for fl: one line per flag, its value's name and
// its default. pflag's own FlagUsages writes "[=true|false]" after every
// switch, which reads as if the switches took a value.
func usage(fl *pflag.FlagSet) string {
	var b strings.Builder
	b.WriteString(usageHead)
	fl.VisitAll(func(f *pflag.Flag) {
		name, text := pflag.UnquoteUsage(f)
		left := "    --" + f.Name
		if f.Shorthand != "" {
			left = "-" + f.Shorthand + ", --" + f.Name
		}
		if name != "" {
			left += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(&b, "  %-22s %s\n", left, text)
	})
	return b.String()
}

// parseFlags reads args, then fills every flag not given from its
// environment variable, then checks the whole; --help and --version skip
// the last two. The returned flag set prints the usage, also on an error.
func parseFlags(args []string, lookupEnv func(string) (string, bool)) (config, *pflag.FlagSet, error) {
	cfg := config{pond: pond.DefaultConfig()}
	fl := newFlagSet(&cfg)
	if err := fl.Parse(args); err != nil || cfg.help || cfg.version {
		return cfg, fl, err
	}
	if fl.NArg() > 0 {
		return cfg, fl, fmt.Errorf("unexpected argument %q (pondd takes flags only)", fl.Arg(0))
	}
	if err := applyEnv(fl, lookupEnv); err != nil {
		return cfg, fl, err
	}
	return cfg, fl, cfg.check()
}

// envName is the environment variable of a flag: --arena-max is
// POND_ARENA_MAX.
func envName(flag string) string {
	return "POND_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets each flag not on the command line from its environment
// variable. A repeatable flag takes a comma-separated list.
func applyEnv(fl *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	var err error
	fl.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		v, ok := lookupEnv(envName(f.Name))
		if !ok {
			return
		}
		values := []string{v}
		if f.Value.Type() == "stringArray" {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if serr := f.Value.Set(one); serr != nil {
				err = fmt.Errorf("%s (--%s): %w", envName(f.Name), f.Name, serr)
				return
			}
		}
	})
	return err
}

// flagError is err as one line for the user: the flag and the reason, the
// value said once. pflag's "invalid argument V for F flag" and pond's
// "pond: invalid argument" around the reason would say the value twice and
// the kind of error three times.
func flagError(err error) string {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		why := reason(bad.Unwrap())
		if !strings.Contains(why, bad.GetValue()) {
			return fmt.Sprintf("--%s %q: %s", bad.GetFlag().Name, bad.GetValue(), why)
		}
		return "--" + bad.GetFlag().Name + ": " + why
	}
	return reason(err)
}

// reason is err's text without pond's sentinel: every error of a command
// line is an invalid argument.
func reason(err error) string {
	return strings.Replace(err.Error(), pond.ErrInvalid.Error()+": ", "", 1)
}

// check validates what no single flag can: the pond's whole configuration.
func (cfg config) check() error {
	if cfg.mount == "" {
		return errors.New("--mount: empty directory name")
	}
	if cfg.rxQueue < 1 {
		return fmt.Errorf("--rx-queue %d: want at least 1", cfg.rxQueue)
	}
	if name, ok := repeated(cfg.taps); ok {
		return fmt.Errorf("--tap %s: given twice (one device feeds one port)", name)
	}
	if err := cfg.pond.Validate(); err != nil {
		return fmt.Errorf("--pools/--arena-max: %w", err)
	}
	return nil
}

// repeated finds a name given more than once.
func repeated(names []string) (string, bool) {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return n, true
		}
		seen[n] = true
	}
	return "", false
}

// sizeValue is a byte count flag that takes units (256MiB, 1GiB).
type sizeValue struct{ n *int64 }

func (v *sizeValue) String() string {
	if v.n == nil {
		return ""
	}
	return formatSize(*v.n)
}

func (v *sizeValue) Set(s string) error {
	n, err := pond.ParseSize(s)
	if err != nil {
		return err
	}
	*v.n = n
	return nil
}

func (v *sizeValue) Type() string { return "SIZE" }

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.factor && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// poolsValue is the --pools flag: a list of size classes.
type poolsValue struct{ classes *[]pond.ClassConfig }

// String writes a class as SIZE when it has the built-in tuning of its
// size, else as SIZE:MIN:MAX.
func (v *poolsValue) String() string {
	if v.classes == nil {
		return ""
	}
	parts := make([]string, len(*v.classes))
	for i, c := range *v.classes {
		parts[i] = strconv.Itoa(c.Size)
		if c != pond.DefaultClass(c.Size) {
			parts[i] += fmt.Sprintf(":%d:%d", c.Min, c.Max)
		}
	}
	return strings.Join(parts, ",")
}

func (v *poolsValue) Set(s string) error {
	classes, err := pond.ParseClasses(s)
	if err != nil {
		return err
	}
	*v.classes = classes
	return nil
}

func (v *poolsValue) Type() string { return "SPEC" }
