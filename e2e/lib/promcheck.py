#!/usr/bin/env python3
"""promcheck.py: a strict reader of the Prometheus text exposition format.

Reads metrics text on stdin. On success it prints every series as
"name{labels} value", one per line, and exits 0; on the first breach of the
format it prints the line number and the rule to stderr and exits 1.

Rules: the text ends in a newline; every metric has exactly one HELP and one
TYPE, both before its samples; TYPE is counter or gauge, and counters (and
only they) are named *_total; a metric's samples are contiguous; names and
label names are valid; label values are quoted with only \\\\, \\" and \\n
escapes; no series appears twice; every value is a number.
"""
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)\Z")
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"\Z')


def check(text):
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    helps, types, seen, series, current = set(), {}, set(), {}, None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        def bad(rule):
            return ValueError("line %d %r: %s" % (n, line, rule))
        if line.startswith("# "):
            parts = line[2:].split(" ", 2)
            if len(parts) < 3 or parts[0] not in ("HELP", "TYPE") or not parts[2]:
                raise bad("a comment must be '# HELP name text' or '# TYPE name type'")
            kind, name, arg = parts
            if not NAME.match(name):
                raise bad("bad metric name")
            if name in seen:
                raise bad("%s after the metric's samples" % kind)
            if kind == "HELP":
                if name in helps:
                    raise bad("HELP twice")
                helps.add(name)
            else:
                if name in types:
                    raise bad("TYPE twice")
                if arg not in ("counter", "gauge"):
                    raise bad("type must be counter or gauge")
                if (arg == "counter") != name.endswith("_total"):
                    raise bad("counters, and only they, end in _total")
                types[name] = arg
            continue
        m = SAMPLE.match(line)
        if not m:
            raise bad("not a sample")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if name not in helps or name not in types:
            raise bad("sample before its HELP and TYPE")
        if name != current and name in seen:
            raise bad("the samples of %s are split" % name)
        current = name
        seen.add(name)
        if labels:
            for pair in labels[1:-1].split(","):
                if not LABEL.match(pair):
                    raise bad("bad label %r" % pair)
        if name + labels in series:
            raise bad("series twice")
        try:
            series[name + labels] = float(value)
        except ValueError:
            raise bad("value is not a number")
    return series


def main():
    try:
        series = check(sys.stdin.read())
    except ValueError as e:
        print("promcheck: %s" % e, file=sys.stderr)
        return 1
    for key, value in series.items():
        print("%s %s" % (key, repr(value) if value != int(value) else int(value)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
