"""Drive chains/ of a pondfs tree from another process, for the tests.

    chains.py zerocopy MNT ID      read chain ID through arena + segments, then
                                   write through them and read back via data
    chains.py mmap MNT ID          read and write chain ID through an mmap of data
    chains.py mapsees MNT ID HOW   a mapping of data made first sees a change
                                   made after it through HOW: data, ctl, layer
                                   or arena
    chains.py model MNT SEED STEPS random operations on one chain through every
                                   file, each mirrored in a local model; all
                                   bytes compared after each step

Every failure raises, so the exit status says whether the check held.
"""
import errno
import mmap
import os
import random
import sys
import time


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def wr(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def arena_offset(d, x):
    """Where byte x of the view lies in the arena."""
    for off, n, _ in segments(d):
        if x < n:
            return off + x
        x -= n
    raise AssertionError(f"byte {x} is past the view")


def segments(d):
    """The view's runs: (arena_offset, length, refs) for each line."""
    out = []
    for line in rd(d + "/segments").decode().splitlines():
        _, off, length, refs = (int(x) for x in line.split())
        out.append((off, length, refs))
    return out


def stats(path):
    return {k: int(v) for k, v in (l.split() for l in rd(path).decode().splitlines())}


def new_chain(mnt):
    return rd(mnt + "/chains/new").decode().strip()


def zerocopy(mnt, cid):
    d = f"{mnt}/chains/{cid}"
    want = rd(d + "/data")
    fd = os.open(mnt + "/arena", os.O_RDWR)
    try:
        m = mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED)
        got = b"".join(m[off:off + n] for off, n, _ in segments(d))
        assert got == want, f"arena+segments read {got[:32]!r}..., data {want[:32]!r}..."
        # Write in place: every byte upper-cased (a-z), through the mapping.
        for off, n, _ in segments(d):
            m[off:off + n] = m[off:off + n].upper()
        m.flush()
        m.close()
    finally:
        os.close(fd)
    got = rd(d + "/data")
    assert got == want.upper(), f"data after arena writes {got[:32]!r}"
    print("zero copy ok", len(got))


def mmap_data(mnt, cid):
    d = f"{mnt}/chains/{cid}"
    want = rd(d + "/data")
    fd = os.open(d + "/data", os.O_RDWR)
    try:
        m = mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED)
        assert m[:] == want, "mmap of data differs from read(2)"
        m[0:6] = b"MAPPED"
        m[len(m) - 4:] = b"TAIL"
        m.flush()
        m.close()
    finally:
        os.close(fd)
    got = rd(d + "/data")
    assert got == b"MAPPED" + want[6:-4] + b"TAIL", f"data after msync {got[:16]!r}...{got[-8:]!r}"
    print("mmap ok", len(got))


def until(what, cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting for " + what)
        time.sleep(0.01)


def mapsees(mnt, cid, how):
    d = f"{mnt}/chains/{cid}"
    wr(d + "/data", b"a" * 8192)
    fd = os.open(d + "/data", os.O_RDWR)
    m = mmap.mmap(fd, 8192, mmap.MAP_SHARED)
    try:
        assert m[4096:4100] == b"aaaa"  # the mapping holds the page now
        if how == "data":
            with open(d + "/data", "r+b") as f:
                f.seek(4096)
                f.write(b"DATA")
            want = b"DATA"
        elif how == "ctl":
            wr(d + "/ctl", b"prepend 4\n")
            wr(d + "/ctl", b"trim-back 4\n")
            want = b"aaaa"
            until("the shift", lambda: m[0:4] == b"\0\0\0\0")
        elif how == "layer":
            wr(d + "/ctl", b"push 4096\n")
            with open(d + "/layers/0/data", "r+b") as f:
                f.seek(4096)
                f.write(b"LAYR")
            want = b"LAYR"
            # The view is now bytes 4096..; the mapping is of the view.
            assert os.fstat(fd).st_size == 4096
            until("the layer write", lambda: m[0:4] == b"LAYR")
            print("mapping sees layer ok")
            return
        elif how == "arena":
            # The data lies in several buffers, anywhere in the arena:
            # each byte goes where its segment puts it.
            a = os.open(mnt + "/arena", os.O_RDWR)
            for i, byte in enumerate(b"ARNA"):
                os.pwrite(a, bytes([byte]), arena_offset(d, 4096 + i))
            os.close(a)
            want = b"ARNA"
        else:
            raise SystemExit("mapsees: data, ctl, layer or arena")
        until(f"the mapping to show {want!r}", lambda: m[4096:4100] == want)
        print(f"mapping sees {how} ok")
    finally:
        m.close()
        os.close(fd)


class Model:
    """A chain as bytes plus a stack of layers, each an absolute [start, end)."""

    def __init__(self):
        self.b = bytearray()
        self.layers = []  # pushed layers, bottom first

    def view(self):
        return self.layers[-1] if self.layers else (0, len(self.b))

    def whole(self):
        s, e = self.view()
        return s == 0 and e == len(self.b)

    def data(self, k=None):
        s, e = self.layer(k)
        return bytes(self.b[s:e])

    def layer(self, k=None):
        if k is None or k == len(self.layers):
            return self.view()
        return (0, len(self.b)) if k == 0 else self.layers[k - 1]

    def delete(self, a, b):
        """Bytes [a, b) leave the chain; every layer closes over them."""
        del self.b[a:b]
        f = lambda p: p if p <= a else (a if p <= b else p - (b - a))
        self.layers = [(f(s), f(e)) for s, e in self.layers]

    def grow(self, at, data, upto=None):
        """Insert data at absolute at; layers 0..upto (all) grow."""
        self.b[at:at] = data
        n = len(data)
        upto = len(self.layers) if upto is None else upto
        self.layers = [(s, e + n) if i + 1 <= upto else (s, e) for i, (s, e) in enumerate(self.layers)]

    def write(self, off, data, k=None):
        """WriteAt (or WriteAtLayer k): False when it must fail."""
        s, e = self.layer(k)
        end = s + off + len(data)
        if end > e:
            if (s, e) != (0, len(self.b)):
                return False  # only a layer that shows the whole chain grows
            self.grow(e, bytes(end - e), k)
        self.b[s + off:end] = data
        return True


class Driver:
    def __init__(self, mnt, seed):
        self.mnt = mnt
        self.rng = random.Random(seed)
        self.cid = new_chain(mnt)
        self.d = f"{mnt}/chains/{self.cid}"
        self.m = Model()
        self.maxbuf = max(int(p) for p in os.listdir(mnt + "/pools"))
        self.counts = {}

    def ctl(self, line):
        """Write one command; the errno, 0 for success."""
        fd = os.open(self.d + "/ctl", os.O_RDWR)
        try:
            os.write(fd, (line + "\n").encode())
            return 0, os.pread(fd, 64, 0).decode().strip()
        except OSError as e:
            return e.errno, None
        finally:
            os.close(fd)

    def expect(self, what, rc, ok, want_errno=errno.EINVAL):
        if ok and rc != 0:
            raise AssertionError(f"{what}: failed with {errno.errorcode.get(rc, rc)}, the model says it works")
        if not ok and rc != want_errno:
            raise AssertionError(f"{what}: rc {errno.errorcode.get(rc, rc)}, want {errno.errorcode[want_errno]}")

    def count(self):
        return self.rng.choice([0, 1, 2, 7, 63, 64, 65, 127, 128, 129, 511, 512, 1000, 2047, 2048, 2049, 4096, 9000])

    def payload(self):
        n = self.rng.choice([1, 3, 100, 600, 2100, 5000, 12000, 70000])
        return bytes(self.rng.getrandbits(8) for _ in range(min(n, 256))) * (n // 256 + 1)

    def op_write(self):
        v = len(self.m.data())
        off = self.rng.randint(0, v + 100)
        data = self.payload()[: self.rng.choice([1, 50, 3000, 20000])]
        fd = os.open(self.d + "/data", os.O_WRONLY)
        try:
            os.pwrite(fd, data, off)
            rc = 0
        except OSError as e:
            rc = e.errno
        finally:
            os.close(fd)
        self.expect(f"write {len(data)} at {off}", rc, self.m.write(off, data))

    def op_append(self):
        data = self.payload()[:300]
        try:
            wr(self.d + "/data", data, "ab")
            rc = 0
        except OSError as e:
            rc = e.errno
        self.expect("append", rc, self.m.write(len(self.m.data()), data))

    def op_truncate(self):
        v = len(self.m.data())
        n = self.rng.randint(0, v + 3000)
        try:
            os.truncate(self.d + "/data", n)
            rc = 0
        except OSError as e:
            rc = e.errno
        ok = n <= v or self.m.whole()
        if ok:
            s, e = self.m.view()
            if n <= v:
                self.m.delete(s + n, e)
            else:
                self.m.grow(e, bytes(n - v))
        self.expect(f"truncate {n}", rc, ok)

    def op_push(self):
        v = len(self.m.data())
        off = self.rng.randint(0, v + 2)
        length = self.rng.randint(0, max(0, v - off) + 2) if self.rng.random() < 0.7 else None
        line = f"push {off}" + ("" if length is None else f" {length}")
        rc, _ = self.ctl(line)
        ln = (v - off) if length is None else length
        ok = off <= v and ln >= 0 and off + ln <= v and len(self.m.layers) < 64
        if ok:
            s, _ = self.m.view()
            self.m.layers.append((s + off, s + off + ln))
        self.expect(line, rc, ok)

    def op_pop(self):
        rc, _ = self.ctl("pop")
        ok = bool(self.m.layers)
        if ok:
            self.m.layers.pop()
        self.expect("pop", rc, ok)

    def op_prepend(self):
        n = self.rng.choice([0, 1, 14, 64, 65, 200, 3000])
        rc, _ = self.ctl(f"prepend {n}")
        ok = n == 0 or self.m.whole()
        if ok:
            s, _ = self.m.view()
            self.m.grow(s, bytes(n))
        self.expect(f"prepend {n}", rc, ok)

    def op_trim(self, front):
        n = self.count()
        cmd = ("trim-front " if front else "trim-back ") + str(n)
        rc, _ = self.ctl(cmd)
        s, e = self.m.view()
        ok = n <= e - s
        if ok:
            self.m.delete(s, s + n) if front else self.m.delete(e - n, e)
        self.expect(cmd, rc, ok)

    def op_pullup(self):
        n = self.rng.randint(0, len(self.m.data()) + 1)
        rc, _ = self.ctl(f"pullup {n}")
        ok = n <= len(self.m.data()) and n <= self.maxbuf
        self.expect(f"pullup {n}", rc, ok)
        if ok and n > 0:
            first = segments(self.d)[0][1]
            assert first >= n, f"pullup {n}: the first segment holds {first} bytes"

    def op_split(self):
        v = len(self.m.data())
        n = self.rng.randint(0, v + 1)
        rc, nid = self.ctl(f"split {n}")
        ok = n <= v
        self.expect(f"split {n}", rc, ok)
        if ok:
            s, e = self.m.view()
            moved = bytes(self.m.b[s + n:e])
            self.m.delete(s + n, e)
            got = rd(f"{self.mnt}/chains/{nid}/data")
            assert got == moved, f"split {n}: new chain {nid} holds {len(got)} bytes, want {len(moved)}"
            os.rmdir(f"{self.mnt}/chains/{nid}")

    def op_clone(self):
        rc, nid = self.ctl("clone")
        self.expect("clone", rc, True)
        c = f"{self.mnt}/chains/{nid}"
        assert rd(c + "/data") == self.m.data(), "clone's view differs"
        assert stats(c + "/stats")["layers"] == len(self.m.layers), "clone's layers differ"
        if self.m.data():
            # A write to the clone copies first: the original keeps its bytes.
            with open(c + "/data", "r+b") as f:
                f.write(b"\xff" * min(10, len(self.m.data())))
        os.rmdir(c)

    def op_layer_write(self):
        k = self.rng.randint(0, len(self.m.layers))
        s, e = self.m.layer(k)
        off = self.rng.randint(0, e - s + 5)
        data = self.payload()[: self.rng.choice([1, 20, 3000])]
        try:
            with open(f"{self.d}/layers/{k}/data", "r+b") as f:
                f.seek(off)
                f.write(data)
            rc = 0
        except OSError as e:
            rc = e.errno
        self.expect(f"layers/{k}/data write {len(data)} at {off}", rc, self.m.write(off, data, k))

    def op_arena(self):
        """Write in place through the arena where the buffer is the chain's alone."""
        pos, a = 0, os.open(self.mnt + "/arena", os.O_RDWR)
        s, _ = self.m.view()
        try:
            for off, n, refs in segments(self.d):
                if refs == 1 and n > 0:
                    data = self.payload()[:n][: self.rng.randint(1, n)]
                    os.pwrite(a, data, off)
                    self.m.b[s + pos:s + pos + len(data)] = data
                pos += n
        finally:
            os.close(a)

    def op_mmap(self):
        v = len(self.m.data())
        if v == 0:
            return
        fd = os.open(self.d + "/data", os.O_RDWR)
        try:
            mm = mmap.mmap(fd, v, mmap.MAP_SHARED)
            assert mm[:] == self.m.data(), "mmap of data differs from the model"
            off = self.rng.randint(0, v - 1)
            data = self.payload()[: v - off][:5000]
            mm[off:off + len(data)] = data
            mm.flush()
            mm.close()
            self.m.write(off, data)
        finally:
            os.close(fd)

    def check(self, step, op):
        got = rd(self.d + "/data")
        if got != self.m.data():
            first = next((i for i in range(min(len(got), len(self.m.data()))) if got[i] != self.m.data()[i]), None)
            raise AssertionError(f"step {step} ({op}): data has {len(got)} bytes, model {len(self.m.data())}; first difference at {first}")
        assert rd(self.d + "/layers/0/data") == bytes(self.m.b), f"step {step} ({op}): layer 0 differs"
        st = stats(self.d + "/stats")
        want = {"length": len(self.m.data()), "chain_length": len(self.m.b), "layers": len(self.m.layers)}
        for k, v in want.items():
            assert st[k] == v, f"step {step} ({op}): stats {k} {st[k]}, model {v}"
        assert sum(n for _, n, _ in segments(self.d)) == st["length"], f"step {step}: segments do not add up"
        k = self.rng.randint(0, len(self.m.layers))
        assert rd(f"{self.d}/layers/{k}/data") == self.m.data(k), f"step {step} ({op}): layer {k} differs"

    def run(self, steps):
        ops = {
            "write": (self.op_write, 6), "append": (self.op_append, 3), "truncate": (self.op_truncate, 2),
            "push": (self.op_push, 3), "pop": (self.op_pop, 3), "prepend": (self.op_prepend, 2),
            "trim-front": (lambda: self.op_trim(True), 2), "trim-back": (lambda: self.op_trim(False), 2),
            "pullup": (self.op_pullup, 1), "split": (self.op_split, 1), "clone": (self.op_clone, 1),
            "layer-write": (self.op_layer_write, 2), "arena": (self.op_arena, 1), "mmap": (self.op_mmap, 1),
        }
        names = [n for n, (_, w) in ops.items() for _ in range(w)]
        for step in range(steps):
            op = self.rng.choice(names)
            if len(self.m.b) > 200000 and op in ("write", "append", "prepend", "truncate"):
                op = "trim-back"
            ops[op][0]()
            self.counts[op] = self.counts.get(op, 0) + 1
            self.check(step, op)
        os.rmdir(self.d)
        print(f"model ok: {steps} steps", " ".join(f"{k}={v}" for k, v in sorted(self.counts.items())))


def main():
    cmd, mnt = sys.argv[1], sys.argv[2]
    if cmd == "zerocopy":
        zerocopy(mnt, sys.argv[3])
    elif cmd == "mmap":
        mmap_data(mnt, sys.argv[3])
    elif cmd == "mapsees":
        mapsees(mnt, sys.argv[3], sys.argv[4])
    elif cmd == "model":
        Driver(mnt, int(sys.argv[3])).run(int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
