// Command pondd runs one pond and mounts it as the file tree README.md
// describes.
//
// It stays in the foreground and logs one line per notable event to
// stderr. SIGINT and SIGTERM unmount the tree and exit 0, as does an
// umount of the tree by anyone; SIGHUP is logged and ignored.
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
	pfs "github.com/pondfs/pondfs/fs"
	"github.com/pondfs/pondfs/pond"
)

// version is what --version prints; releases set it with
// -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// tryHelp follows a bad flag's one line, as GNU tools do, instead of the
// whole usage.
const tryHelp = "Try 'pondd --help' for more information.\n"

// run is pondd with its arguments and output streams; it returns the exit
// status: 0 done, 1 failed, 2 bad flag.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, fl, err := parseFlags(args, os.LookupEnv)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "pondd: %s\n%s", flagError(err), tryHelp)
		return 2
	case cfg.help:
		fmt.Fprint(stdout, usage(fl))
		return 0
	case cfg.version:
		fmt.Fprintf(stdout, "pondd %s\n", version)
		return 0
	}
	logger := log.New(stderr, "pondd: ", 0)
	if err := serve(cfg, logger); err != nil {
		logger.Print(err)
		return 1
	}
	return 0
}

// serve makes the pond, opens the devices that feed it, mounts its tree
// and serves it until a signal or an umount ends it.
func serve(cfg config, logger *log.Logger) error {
	p, err := pond.New(cfg.pond)
	if err != nil {
		return err
	}
	devs, err := openDevices(cfg, p, logger)
	if err != nil {
		closePond(p, logger)
		return err
	}
	detached, err := serveTree(cfg, p, devs, logger)
	devs.close(logger)
	if !detached {
		closePond(p, logger)
	}
	return err
}

// serveTree mounts p's tree and serves it. It reports detached when the
// mount was detached lazily, with files still open: the kernel may then
// still send reads of the arena, so the pond must stay mapped until exit.
func serveTree(cfg config, p *pond.Pond, devs *devices, logger *log.Logger) (detached bool, err error) {
	tree, err := pfs.New(p, pfs.Options{Log: logger, Ports: devs.ports})
	if err != nil {
		return false, err
	}
	// Signals are caught before the mount, so that one arriving while it
	// is made still unmounts.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	mp, err := prepareMountPoint(cfg.mount, logger)
	if err != nil {
		return false, err
	}
	defer mp.remove(logger)
	server, err := tree.Mount(mp.path, pfs.MountOptions{AllowOther: cfg.allowOther})
	if err != nil {
		return false, err
	}
	logger.Printf("pondd %s: mounted %s (pools %s, arena max %s, allow_other %t)",
		version, mp.path, (&poolsValue{&cfg.pond.Classes}).String(), formatSize(cfg.pond.ArenaMax), cfg.allowOther)
	if err := notify("READY=1"); err != nil {
		logger.Print(err)
	}
	detached, err = wait(server, mp.path, sigs, devs, logger)
	if !detached {
		// Nothing can reach the chains any more: give their buffers back,
		// so that closing the pond finds every buffer home.
		tree.FreeChains()
	}
	return detached, err
}

// wait serves until the tree is unmounted by someone else, or a signal
// asks pondd to unmount it; detached as for serveTree. The devices close
// before the unmount: that ends the streams of capture readers, which
// would otherwise keep the mount busy while they wait for frames.
func wait(server *fuse.Server, path string, sigs <-chan os.Signal, devs *devices, logger *log.Logger) (detached bool, err error) {
	served := make(chan struct{})
	go func() {
		server.Wait()
		close(served)
	}()
	for {
		select {
		case <-served:
			logger.Printf("%s was unmounted; exiting", path)
			return false, nil
		case s := <-sigs:
			if s == syscall.SIGHUP {
				logger.Printf("SIGHUP ignored (pondd has nothing to reload)")
				continue
			}
			logger.Printf("%v: unmounting %s", s, path)
			if err := notify("STOPPING=1"); err != nil {
				logger.Print(err)
			}
			devs.close(logger)
			detached, err := unmount(server, path, served, logger)
			if err == nil {
				logger.Printf("unmounted %s; exiting", path)
			}
			return detached, err
		}
	}
}

// remove removes the mount point if pondd made it.
func (mp mountPoint) remove(logger *log.Logger) {
	if !mp.made {
		return
	}
	if err := os.Remove(mp.path); err != nil {
		logger.Printf("remove mount point: %v", err)
	}
}

// closePond releases the arena. Buffers still out (a chain a client held)
// are reported; the process exit frees them anyway.
func closePond(p *pond.Pond, logger *log.Logger) {
	if err := p.Close(); err != nil {
		logger.Print(err)
	}
}
