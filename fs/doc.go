// Package fs is the file tree of README.md: a pond shown as files that any
// shell or language can read, write and map.
//
// # The tree
//
//	README  stats  metrics  arena          made at the top, once
//	pools/<size>/{stats,slabs,buffers,ctl} one per pool; fixed with the pond
//	accounts/<name>/{stats,limit}          one per account, as accounts appear
//	chains/new  chains/<id>/               one chain directory per chain
//	netdev/<if>/{stats,tx,inject,capture,next,filter,rings/}  one per device
//	netdev/<if>/rx/<seq>/                  one chain directory per queued frame
//
// The skeleton is static: the root builds it in OnAdd from persistent
// inodes, and only directories whose entries come and go (accounts/) look
// their children up and list them (sorted) themselves.
//
// Four kinds of file make every leaf:
//
//   - dynFile: read-only, its content produced afresh at each open by a
//     func() []byte and kept for that descriptor, so cat, watch and awk see
//     the present and a consistent whole (stats, metrics, slabs, README).
//   - ctlFile: line commands, each write run line by line, and a read on
//     the same descriptor returning the outcome of the last one (Plan 9's
//     ctl files; pools/<size>/ctl, chains/<id>/ctl), parsed through one
//     table of commands per file.
//   - valueFile: one value read at open and replaced by each write
//     (accounts/<name>/limit).
//   - arenaFile: the pond's memory, passed through to the pond's memfd
//     where the kernel allows it (zero copy), served by the daemon where it
//     does not.
//
// A chain directory (chainDir: data, ctl, segments, stats,
// layers/<k>/{data,info,fragments}) shows one chain over a chainSource, which lends
// the chain for each operation: an entry of the chains/ registry, or a
// frame in a device's receive queue. Its data files are read and written
// with direct I/O and mapped through the page cache, which chaindircache.go
// keeps coherent.
//
// # Where the code is
//
// Each path of the tree, and the file that makes it:
//
//	/                          root.go (skeleton, top-level stats), tree.go (Tree, New)
//	README                     readme.go
//	stats, pools/<size>/stats  dynfile.go (dynFile, renderStats)
//	metrics                    metrics.go
//	arena                      arena.go
//	pools/<size>/              pools.go (slabs; ctl commands)
//	accounts/<name>/           accounts.go (stats; limit through valuefile.go)
//	chains/                    chainsdir.go (mkdir, rmdir), chainsregistry.go (ids, names, ownership)
//	chains/new                 chainsnew.go
//	chains/<id>/               chaindir.go (the directory, chainSource)
//	  data, layers/<k>/data    chaindirdata.go; page caches: chaindircache.go, chaindirrefresh.go
//	  ctl                      chaindirctl.go (commands), chaindirconcat.go (concat)
//	  segments, stats          chaindirreports.go
//	  layers/, layers/<k>/     chaindirlayers.go; info and fragments: chaindirreports.go
//	netdev/<if>/               netdevdir.go (device, stats)
//	  tx, inject               netdevtx.go, netdevinject.go, netdevinjectpipe.go; sending a chain: netdevsend.go
//	  capture                  netdevcapture.go
//	  next                     netdevnext.go
//	  filter                   netdevfilter.go
//	  rings/rx, rings/tx       netdevrings.go
//	  rx/<seq>/                netdevrx.go (a chain directory per frame)
//
// What every file of one kind shares: ctl files (ctlfile.go; command
// tables: ctlcommands.go, numbers: ctlnumbers.go), attributes (getattr.go,
// setattr.go), rm and rmdir (remove.go), non-blocking opens (nonblock.go),
// errnos (errno.go), mounting (mount.go).
//
// # Who owns what
//
// The tree owns no state the pond could own: each file asks the pond when
// it is opened. The pond is the caller's; the tree never closes it. The
// chains of chains/ are the tree's: FreeChains frees them after unmount.
//
// # Errors
//
// A failed operation logs one line with its reason through the Logger of
// Options and returns the errno that errnoOf (errno.go, the only place
// errors become errnos) maps its error to.
//
// # Deadlocks
//
// The process that serves a mount must never read, stat or map that mount
// (see go-fuse's package documentation): tests drive the tree from child
// processes.
package fs
