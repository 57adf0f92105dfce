#!/usr/bin/env python3
"""arena.py: map a pondfs arena (MAP_SHARED) from another process.

  arena.py FILE put OFF TEXT   write TEXT at OFF through the mapping, msync
  arena.py FILE get OFF N      print N bytes at OFF read through the mapping
  arena.py FILE hold OFF N     map, read the page at OFF (so the mapping holds
                               it), print "mapped", wait for a line on stdin,
                               then print N bytes at OFF from the same mapping
"""
import mmap
import os
import sys


def main():
    path, op, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fd = os.open(path, os.O_RDWR)
    try:
        m = mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    if op == "put":
        text = sys.argv[4].encode()
        m[off:off + len(text)] = text
        m.flush()
    elif op == "get":
        sys.stdout.write(m[off:off + int(sys.argv[4])].decode(errors="replace"))
    elif op == "hold":
        m[off]
        print("mapped", flush=True)
        sys.stdin.readline()
        sys.stdout.write(m[off:off + int(sys.argv[4])].decode(errors="replace"))
    else:
        sys.exit("arena.py: unknown operation " + op)
    m.close()


if __name__ == "__main__":
    main()
