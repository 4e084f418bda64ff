#!/usr/bin/env python3
"""docs.py - the manual matches the program.

Every option that `brokerwatch --help` lists and every counter that `--stats`
prints must be documented in man/brokerwatch.8, and the man page must not
document an option the program does not take.
"""
import argparse
import json
import re
import subprocess
import sys


def man_text(path):
    """The man page source with mdoc's escapes for '-' undone."""
    return open(path, encoding="utf-8").read().replace("\\-", "-")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokerwatch", required=True)
    ap.add_argument("--man", required=True)
    ap.add_argument("--capture", required=True, help="any small capture, for --stats")
    a = ap.parse_args()
    man = man_text(a.man)
    failures = []

    helptext = subprocess.run([a.brokerwatch, "--help"], capture_output=True, text=True,
                              check=True).stdout
    long_opts = set(re.findall(r"--([a-z][a-z-]+)", helptext))
    short_opts = set(re.findall(r"(?:^|\s)-([a-zA-Z])\b", helptext))
    for o in sorted(long_opts):
        # mdoc writes --records as "Fl -records"
        if not re.search(r"Fl -%s\b" % re.escape(o), man):
            failures.append("option --%s (in --help) is not in the man page" % o)
    for o in sorted(short_opts):
        if not re.search(r"Fl %s\b" % re.escape(o), man):
            failures.append("option -%s (in --help) is not in the man page" % o)
    for o in sorted(set(re.findall(r"Fl -([a-z][a-z-]+)", man))):
        if o not in long_opts:
            failures.append("the man page documents --%s, which --help does not list" % o)

    run = subprocess.run([a.brokerwatch, "-q", "--stats", "-r", a.capture],
                         capture_output=True, text=True)
    stats = json.loads(run.stderr.strip().splitlines()[-1])
    # counters are documented as ".It Sy name , name ..." items
    documented = set()
    for line in man.splitlines():
        if line.startswith(".It Sy ") or line.startswith(".Sy "):
            documented.update(re.findall(r"[a-z0-9_]+", line))
    for name in stats:
        if name not in documented:
            failures.append("counter %s is not in the man page" % name)

    for f in failures:
        print("FAIL:", f)
    print("%d options, %d counters checked" % (len(long_opts) + len(short_opts), len(stats)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
