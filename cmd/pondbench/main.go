package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
)

// runConfig is what run was asked to do.
type runConfig struct {
	quick   bool
	rounds  int
	out     string
	pondd   string
	tests   string
	src     string
	only    string
	hostNS  string
	cpuProf string
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pondbench run|memfs|udpsend ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "memfs":
		err = memfs(os.Args[2:])
	case "udpsend":
		err = udpSend(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pondbench:", err)
		os.Exit(1)
	}
}

// want reports whether figure id is to be measured (see --only).
func (cfg runConfig) want(id string) bool {
	if cfg.only == "" {
		return true
	}
	for _, p := range strings.Split(cfg.only, ",") {
		if p != "" && strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// run measures every figure and writes the raw log and the table.
func run(args []string) error {
	var cfg runConfig
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.BoolVar(&cfg.quick, "quick", false, "fewer rounds and smaller samples (under 2 minutes)")
	fs.IntVar(&cfg.rounds, "rounds", 0, "rounds per figure (default 15, 5 with --quick)")
	fs.StringVar(&cfg.out, "out", "", "file to write the table and raw samples to")
	fs.StringVar(&cfg.pondd, "pondd", "", "pondd binary")
	fs.StringVar(&cfg.tests, "tests", "", "directory of the pond.test and chain.test binaries")
	fs.StringVar(&cfg.src, "src", ".", "the repository's root (benchmarks run in their package's directory)")
	fs.StringVar(&cfg.only, "only", "", "measure only the figures whose ids start with one of these comma-separated prefixes (pond.,chain.,dev.rx,tree.data ...)")
	fs.StringVar(&cfg.hostNS, "host-ns", "", `the host's namespaces, "net:[N] mnt:[M]" (readlink /proc/self/ns/{net,mnt} outside)`)
	fs.StringVar(&cfg.cpuProf, "cpuprofile", "", "write a CPU profile of this process (not of pondd) to FILE")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.rounds == 0 {
		cfg.rounds = 15
		if cfg.quick {
			cfg.rounds = 5
		}
	}
	if err := privateNamespaces(cfg.hostNS); err != nil {
		return fmt.Errorf("run only inside private network and mount namespaces (unshare --net --mount --propagation private): %w", err)
	}
	out, err := os.Create(cfg.out)
	if err != nil {
		return err
	}
	defer out.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.cpuProf != "" {
		pf, err := os.Create(cfg.cpuProf)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r := NewReport(out)
	if err := measureAll(ctx, r, cfg); err != nil {
		return err
	}
	for _, l := range r.Table() {
		fmt.Println(l)
		fmt.Fprintln(out, "table\t"+l)
	}
	return nil
}

// privateNamespaces checks that this process runs in network and mount
// namespaces other than hostNS names ("net:[…] mnt:[…]", as readlink of
// /proc/self/ns/net and /proc/self/ns/mnt printed them outside): every
// device and mount the bench makes must stay private.
func privateNamespaces(hostNS string) error {
	host := strings.Fields(hostNS)
	if len(host) != 2 {
		return fmt.Errorf("--host-ns %q: want the host's net and mnt namespace links", hostNS)
	}
	for i, ns := range []string{"net", "mnt"} {
		self, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			return err
		}
		if self == host[i] || !strings.HasPrefix(host[i], ns+":") {
			return fmt.Errorf("%s namespace %s is not private (host: %s)", ns, self, host[i])
		}
	}
	return nil
}
