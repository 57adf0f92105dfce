module github.com/pondfs/pondfs

go 1.26.0

require golang.org/x/sys v0.49.0

require (
	github.com/hanwen/go-fuse/v2 v2.12.1
	github.com/songgao/water v0.0.0-20200317203138-2b4b6d7c09d8
	github.com/spf13/pflag v1.1.0
)
