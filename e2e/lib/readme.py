#!/usr/bin/env python3
"""readme.py: follow README.md's examples as a reader would, and check them.

    readme.py list README SECTION...   print the steps it would run
    readme.py run [--user NAME] README SECTION...
                                       run them (as user NAME: both
                                       terminals); exit 1 at the first
                                       that does not print what README
                                       shows

The examples are the ```sh blocks under the named "## " sections, read in
order. Their markup:

  - "$ COMMAND" is typed at a prompt; a command goes on over the next
    lines for as long as bash finds it unfinished (an open quote or here
    document). The lines after it, up to the next "$ ", are what it
    prints, stdout and stderr together, as a terminal shows them.
  - "…" in a printed line stands for any text in that line; a line that is
    "…" alone stands for any number of lines. What ls prints is compared
    word by word: README shows the columns of a terminal.
  - A block whose info string says "terminal-1" is the daemon's terminal:
    its "$ COMMAND" starts the command there and what follows is the
    start of its log; "^C" interrupts it and what follows is the rest of
    its log, to its exit (status 0); lines with neither before them are
    the rest of its log as it exits by itself (status 0).
  - Every other block is typed into one interactive bash, the second
    terminal, which keeps its directory, variables and descriptors from
    one block to the next.

A command that only looks (cat, ls, od, grep, without a redirection into a
file) is run again until it prints what README shows, for up to RETRY
seconds: a frame the kernel sends may arrive a moment after the command
that caused it returns, where a person typing the next command would have
given it time. A command sent to the background with "&" is given time,
up to WAIT seconds, to reach the tree: until a process of it waits in a
request to the FUSE daemon, as a reader of a stream does.
"""
import os
import pwd
import re
import secrets
import signal
import subprocess
import sys
import threading
import time

RETRY = 5
WAIT = 10
STEP_TIMEOUT = 30
ELLIPSIS = "\u2026"


class Step:
    """One thing typed: where README has it, in which terminal, and what
    README shows it printing."""

    def __init__(self, line, terminal, command, expected):
        self.line = line
        self.terminal = terminal
        self.command = command
        self.expected = expected

    def __str__(self):
        where = f"README.md:{self.line} (terminal {self.terminal})"
        if self.command is None:
            return where + " ^C"
        if self.command == "":
            return where + " (it exits)"
        first, _, more = self.command.partition("\n")
        return f"{where} $ {first}{' …' if more else ''}"


def unfinished(command):
    """bash finds command unfinished: an open quote or here document."""
    r = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True)
    return any(s in r.stderr for s in ("unexpected EOF", "unexpected end of file", "delimited by end-of-file"))


def sections(text, names):
    """The lines of each named "## " section, with their line numbers, in
    README order; every name must be there."""
    found, current = {}, None
    for no, line in enumerate(text.splitlines(), 1):
        if line.startswith("## "):
            current = line[3:].strip()
            if current in names:
                found[current] = []
            continue
        if current in names:
            found[current].append((no, line))
    missing = [n for n in names if n not in found]
    if missing:
        sys.exit(f"readme.py: no section {', '.join(missing)}")
    return [found[n] for n in names]


def blocks(lines):
    """The ```sh blocks of lines: (terminal, [(no, line)...])."""
    out, block, terminal = [], None, 2
    for no, line in lines:
        if block is None:
            m = re.match(r"```sh(\s.*)?$", line)
            if m:
                block, terminal = [], 1 if "terminal-1" in (m.group(1) or "") else 2
            continue
        if line.startswith("```"):
            out.append((terminal, block))
            block = None
            continue
        block.append((no, line))
    return out


def steps(block, terminal):
    """The steps of one block. A block of terminal 2 with no prompt at all
    is not an example to type (a loop shown whole); it is left out."""
    result, i = [], 0
    if terminal == 2 and not any(l.startswith("$ ") for _, l in block):
        return result
    while i < len(block):
        no, line = block[i]
        if line == "^C" and terminal == 1:
            command = None
        elif line.startswith("$ "):
            command = line[2:]
            while unfinished(command) and i + 1 < len(block):
                i += 1
                command += "\n" + block[i][1]
        elif terminal == 1 and i == 0:
            command, i = "", i - 1
        else:
            sys.exit(f"readme.py: README.md:{no}: output before any command: {line!r}")
        expected = []
        while i + 1 < len(block) and not block[i + 1][1].startswith("$ ") and block[i + 1][1] != "^C":
            i += 1
            expected.append(block[i][1])
        result.append(Step(no, terminal, command, expected))
        i += 1
    return result


def extract(path, names):
    text = open(path, encoding="utf-8").read()
    result = []
    for lines in sections(text, names):
        for terminal, block in blocks(lines):
            result.extend(steps(block, terminal))
    return result


def line_pattern(expected):
    parts = expected.split(ELLIPSIS)
    return re.compile(".*?".join(re.escape(p) for p in parts) + r"\Z")


def matches(expected, actual):
    """actual (lines) is what expected (lines, with placeholders) shows."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == ELLIPSIS:
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and line_pattern(head).match(actual[0]) is not None and matches(rest, actual[1:])


def words(lines):
    """lines as one line of their words: ls prints one name a line into a
    pipe and columns into a terminal, and README shows the terminal."""
    joined = " ".join(" ".join(lines).split())
    return [joined] if joined else []


def only_looks(command):
    """A command that changes nothing, so running it again is harmless."""
    words = command.split()
    return bool(words) and words[0] in ("cat", "ls", "od", "grep") and ">" not in command and "\n" not in command


JOB_NOTICE = re.compile(r"\[\d+\][+-]?\s")


class Shell:
    """The second terminal: one interactive bash, fed one command at a
    time, each between two markers in its output."""

    def __init__(self, env, prefix):
        self.proc = subprocess.Popen(
            prefix + ["bash", "--norc", "--noprofile", "--noediting", "-i"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.buf = b""
        self.cond = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while True:
            data = os.read(self.proc.stdout.fileno(), 65536)
            with self.cond:
                if not data:
                    self.buf += b"\0EOF"
                self.buf += data
                self.cond.notify_all()
            if not data:
                return

    def run(self, command):
        """Type command; return its status and its output lines."""
        token = secrets.token_hex(8)
        begin, end = f"@@begin-{token}@@", f"@@end-{token}@@"
        with self.cond:
            self.buf = b""
        self.proc.stdin.write(f"printf '%s\\n' {begin}\n{command}\nprintf '\\n%s %d\\n' {end} $?\n".encode())
        self.proc.stdin.flush()
        pat = re.compile(re.escape(begin).encode() + rb"\n(.*)\n" + re.escape(end).encode() + rb" (\d+)\n", re.S)
        deadline = time.monotonic() + STEP_TIMEOUT
        with self.cond:
            while True:
                m = pat.search(self.buf)
                if m:
                    break
                if b"\0EOF" in self.buf:
                    raise RuntimeError("the shell exited")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no end after {STEP_TIMEOUT}s; printed so far: {self.buf!r}")
                self.cond.wait(left)
        out = m.group(1).decode(errors="replace")
        lines = out.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return int(m.group(2)), [l for l in lines if not JOB_NOTICE.match(l)]

    def close(self):
        try:
            self.proc.stdin.write(b"kill $(jobs -p) 2>/dev/null; exit\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)


def descendants(pid):
    """Every process below pid."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def waits_on_fuse(pid):
    try:
        return open(f"/proc/{pid}/wchan").read() == "request_wait_answer"
    except OSError:
        return False


class Daemon:
    """The first terminal: the daemon in the foreground, its log kept."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.proc = None
        self.pump = None
        self.log = []
        self.shown = 0  # log lines a step of README has shown already
        self.lock = threading.Lock()

    def start(self, command, env):
        self.log, self.shown = [], 0
        self.proc = subprocess.Popen(self.prefix + ["bash", "-c", "exec " + command], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.pump = threading.Thread(target=self._pump, args=(self.proc,), daemon=True)
        self.pump.start()

    def _pump(self, proc):
        for raw in proc.stdout:
            with self.lock:
                self.log.append(raw.decode(errors="replace").rstrip("\n"))

    def lines(self, since=0):
        with self.lock:
            return self.log[since:]

    def interrupt(self):
        """^C: SIGINT, then the lines logged to its exit, and its status."""
        return self.exit(signal.SIGINT)

    def exit(self, sig=None):
        """The lines the daemon logs to its exit, and its status: after
        sig, if one is sent; else after the lines README showed last, for
        a daemon that exits by itself may be done before this is asked."""
        since = self.shown
        if sig is not None:
            since = len(self.lines())
            os.killpg(self.proc.pid, sig)
        rc = self.proc.wait(WAIT)
        self.pump.join(WAIT)
        return rc, self.lines(since)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def show(title, lines):
    print(f"  {title}:")
    for l in lines:
        print(f"    | {l}")


def as_user(name):
    """The command prefix that runs the rest as user name."""
    if name is None:
        return []
    pw = pwd.getpwnam(name)
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--"]


def run(path, names, user=None):
    todo = extract(path, names)
    env = dict(os.environ, PS1="", PS2="", TERM="dumb")
    shell, daemon = Shell(env, as_user(user)), Daemon(as_user(user))
    started = time.monotonic()
    try:
        for step in todo:
            print(step, flush=True)
            ok, got = run_step(step, shell, daemon, env)
            if not ok:
                show("README shows", step.expected)
                show("it printed", got)
                show("the daemon's log", daemon.lines())
                return 1
    finally:
        daemon.stop()
        shell.close()
    print(f"{len(todo)} steps as printed in {time.monotonic() - started:.1f}s")
    return 0


def run_step(step, shell, daemon, env):
    if step.terminal == 1 and step.command in (None, ""):
        rc, got = daemon.interrupt() if step.command is None else daemon.exit()
        if rc != 0:
            return False, got + [f"(exit status {rc})"]
        return matches(step.expected, got), got
    if step.terminal == 1:
        daemon.start(step.command, env)
        deadline = time.monotonic() + WAIT
        while True:
            got = daemon.lines()
            if matches(step.expected, got):
                daemon.shown = len(got)
                return True, got
            if daemon.proc.poll() is not None or time.monotonic() > deadline:
                return False, got + [f"(exit status {daemon.proc.poll()})"]
            time.sleep(0.05)
    deadline = time.monotonic() + RETRY
    while True:
        _, got = shell.run(step.command)
        if same(step, got) or not only_looks(step.command) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if step.command.rstrip().endswith("&"):
        deadline = time.monotonic() + WAIT
        while not any(waits_on_fuse(p) for p in descendants(shell.proc.pid)):
            if time.monotonic() > deadline:
                return False, got + ["(the background command never reached the tree)"]
            time.sleep(0.05)
    return same(step, got), got


def same(step, got):
    """got is what README shows step printing."""
    if step.command.split()[0] == "ls":
        return matches(words(step.expected), words(got))
    return matches(step.expected, got)


def main(argv):
    user = None
    if argv[1:2] == ["--user"] and argv[0] == "run":
        user = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) < 3 or argv[0] not in ("list", "run"):
        sys.exit(__doc__)
    if argv[0] == "list":
        for step in extract(argv[1], argv[2:]):
            print(step)
            for l in step.expected:
                print("    | " + l)
        return 0
    return run(argv[1], argv[2:], user)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
