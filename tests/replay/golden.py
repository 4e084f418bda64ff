#!/usr/bin/env python3
"""golden.py - replays the project's own captures through brokerwatch and compares.

    golden.py --brokerwatch BIN --pcaps DIR [CASE ...]

For each DIR/NAME.expect.json (written by tests/gen/pcapgen.py) it runs

    BIN -q --stats -r INPUT [-r INPUT ...] --records - ARGS...

and compares the exit status, the record lines on standard output byte for byte
(a diff on mismatch), the given counters of the --stats JSON line on standard error,
and the standard error substrings (a list inside the list means "any of these").
It also checks, on every run, that the --stats object holds every counter of the
contract and that -q left no text summary.

Then a few cases across files:
  multi-file   -r A -r B gives A's records then B's (two files with distinct SYNs)
  stdin        -r - with the file on standard input gives what -r FILE gives
  records-file --records FILE writes what --records - writes

One line per case; exit status 1 if any failed (2 for a usage problem).
"""

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'pylib'))
from bwtest import COUNTERS  # noqa: E402

TEXT_SUMMARY = re.compile(r'^\s*[a-z][a-z0-9_]* +\d+\s*$')
TIMEOUT = 60


class Run:
    def __init__(self, cmd, stdin=None):
        self.cmd = cmd
        try:
            p = subprocess.run(cmd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=TIMEOUT)
            self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr
            self.timeout = False
        except subprocess.TimeoutExpired as e:
            self.rc, self.out, self.err = None, e.stdout or b'', e.stderr or b''
            self.timeout = True
        self.errtext = self.err.decode('utf-8', 'replace')
        self.stats = None
        self.stats_lines = 0
        for line in self.errtext.splitlines():
            s = line.strip()
            if s.startswith('{') and s.endswith('}'):
                try:
                    obj = json.loads(s)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    self.stats = obj
                    self.stats_lines += 1

    def shell(self):
        return ' '.join(self.cmd)


def bw_cmd(bw, inputs, args=(), records='-'):
    cmd = [bw, '-q', '--stats']
    for i in inputs:
        cmd += ['-r', i]
    cmd += ['--records', records]
    return cmd + list(args)


def record_bytes(records):
    """What --records writes for these record lines."""
    return ''.join(r + '\n' for r in records).encode()


def record_diff(expected_lines, got_bytes, label_a='expected', label_b='brokerwatch'):
    got = got_bytes.decode('utf-8', 'replace').splitlines(keepends=True)
    exp = [x + '\n' for x in expected_lines]
    return ''.join(difflib.unified_diff(exp, got, label_a, label_b, n=1))


def check_common(run, problems, want_stats=True):
    """Checks that hold for every run: the stats object, -q."""
    if run.timeout:
        problems.append('timed out after %d s' % TIMEOUT)
        return
    if want_stats:
        if run.stats is None:
            problems.append('no --stats JSON object on stderr')
        else:
            if run.stats_lines != 1:
                problems.append('%d JSON objects on stderr, want one' % run.stats_lines)
            missing = [c for c in COUNTERS if c not in run.stats]
            if missing:
                problems.append('--stats lacks counters: %s' % ' '.join(missing))
            if 'syn' in run.stats and 'records' in run.stats and 'syn_retransmit' in run.stats:
                if run.stats['records'] != run.stats['syn'] - run.stats['syn_retransmit']:
                    problems.append('records %s != syn %s - syn_retransmit %s' % (
                        run.stats['records'], run.stats['syn'], run.stats['syn_retransmit']))
    for line in run.errtext.splitlines():
        if TEXT_SUMMARY.match(line):
            problems.append('text summary line despite -q: %r' % line)
            break


def check_case(bw, d, name, exp):
    inputs = [os.path.join(d, i) for i in exp.get('inputs') or guess_inputs(d, name)]
    run = Run(bw_cmd(bw, inputs, exp.get('args', [])))
    problems = []
    details = []
    want_rc, records = exp.get('exit', 0), exp.get('records', [])
    check_common(run, problems, want_stats=want_rc != 64)
    if run.timeout:
        return problems, details, run
    if run.rc != want_rc:
        problems.append('exit %s, want %s' % (run.rc, want_rc))
    if run.out != record_bytes(records):
        problems.append('records differ (%d lines, want %d)' % (
            len(run.out.splitlines()), len(records)))
        details.append(record_diff(records, run.out))
    if run.stats is not None:
        for k, v in sorted(exp.get('stats', {}).items()):
            if run.stats.get(k) != v:
                problems.append('counter %s = %s, want %s' % (k, run.stats.get(k), v))
    for sub in exp.get('stderr', []):
        alts = sub if isinstance(sub, list) else [sub]
        if not any(a in run.errtext for a in alts):
            problems.append('stderr lacks %s' % ' or '.join(repr(a) for a in alts))
        # a file named in the expectation is named as "brokerwatch: PATH: ..."
        if isinstance(sub, str) and sub in exp.get('inputs', []):
            prefix = 'brokerwatch: %s: ' % os.path.join(d, sub)
            if prefix not in run.errtext:
                problems.append('stderr lacks a message starting %r' % prefix)
    if problems:
        details.append('stderr:\n' + ''.join('  | ' + x + '\n'
                                             for x in run.errtext.splitlines()[:20]))
    return problems, details, run


def guess_inputs(d, name):
    for ext in ('.pcap', '.pcapng'):
        if os.path.exists(os.path.join(d, name + ext)):
            return [name + ext]
    return [name + '.pcap']


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--brokerwatch', required=True)
    ap.add_argument('--pcaps', required=True)
    ap.add_argument('-v', '--verbose', action='store_true', help='print the command lines')
    ap.add_argument('cases', nargs='*', help='only these cases (default: all)')
    a = ap.parse_args()
    bw = os.path.abspath(a.brokerwatch)
    d = a.pcaps
    if not (os.path.isfile(bw) and os.access(bw, os.X_OK)):
        print('golden: %s is not an executable' % bw)
        return 2
    names = sorted(f[:-len('.expect.json')] for f in os.listdir(d)
                   if f.endswith('.expect.json'))
    if not names:
        print('golden: no *.expect.json in %s (run tests/gen/pcapgen.py)' % d)
        return 2
    exps = {}
    for n in names:
        with open(os.path.join(d, n + '.expect.json')) as f:
            exps[n] = json.load(f)
    failed = 0
    ran = 0
    selected = [n for n in names if not a.cases or n in a.cases]

    def report(label, problems, details, run):
        nonlocal failed, ran
        ran += 1
        if problems:
            failed += 1
            print('FAIL %s: %s' % (label, '; '.join(problems)))
            print('     $ %s' % run.shell())
            for dt in details:
                for line in dt.rstrip('\n').splitlines():
                    print('     ' + line)
        else:
            print('ok   %s%s' % (label, ('  ($ %s)' % run.shell()) if a.verbose else ''))

    for n in selected:
        problems, details, run = check_case(bw, d, n, exps[n])
        report(n, problems, details, run)

    if not a.cases:
        # -r A -r B: A's records, then B's
        for pa, pb in (('eth-basic', 'vlan'), ('pcap-be', 'pcapng-multi')):
            if pa not in exps or pb not in exps:
                continue
            ea, eb = exps[pa], exps[pb]
            ins = [os.path.join(d, x) for x in ea['inputs'] + eb['inputs']]
            run = Run(bw_cmd(bw, ins))
            problems, details = [], []
            check_common(run, problems)
            want = ea['records'] + eb['records']
            if run.rc != 0:
                problems.append('exit %s, want 0' % run.rc)
            if run.out != record_bytes(want):
                problems.append('records are not %s\'s then %s\'s' % (pa, pb))
                details.append(record_diff(want, run.out))
            if run.stats is not None and run.stats.get('records') != len(want):
                problems.append('counter records = %s, want %d' % (run.stats.get('records'),
                                                                    len(want)))
            report('multi-file %s+%s' % (pa, pb), problems, details, run)

        # -r - reads standard input
        for n in ('eth-basic', 'pcapng-multi', 'frag', 'bad-cut', 'demo'):
            if n not in exps:
                continue
            e = exps[n]
            path = os.path.join(d, e['inputs'][0])
            with open(path, 'rb') as f:
                run = Run(bw_cmd(bw, ['-']), stdin=f)
            ref = Run(bw_cmd(bw, [path]))
            problems, details = [], []
            check_common(run, problems)
            if run.rc != e['exit']:
                problems.append('exit %s, want %s' % (run.rc, e['exit']))
            if run.out != record_bytes(e['records']):
                problems.append('records from stdin differ from the expected ones')
                details.append(record_diff(e['records'], run.out))
            if run.out != ref.out:
                problems.append('-r - and -r FILE give different records')
                details.append(record_diff(ref.out.decode().splitlines(), run.out,
                                           '-r FILE', '-r -'))
            if run.stats is not None and ref.stats is not None and run.stats != ref.stats:
                diff = sorted(k for k in set(run.stats) | set(ref.stats)
                              if run.stats.get(k) != ref.stats.get(k))
                problems.append('counters differ from -r FILE: %s' % ', '.join(
                    '%s %s/%s' % (k, run.stats.get(k), ref.stats.get(k)) for k in diff))
            for sub in e.get('stderr', []):
                if sub == e['inputs'][0]:
                    continue   # the file is called "-" now
                alts = sub if isinstance(sub, list) else [sub]
                if not any(x in run.errtext for x in alts):
                    problems.append('stderr lacks %s' % ' or '.join(repr(x) for x in alts))
            report('stdin %s' % n, problems, details, run)

        # --records FILE
        if 'eth-basic' in exps:
            e = exps['eth-basic']
            with tempfile.TemporaryDirectory(prefix='golden-') as tmp:
                out = os.path.join(tmp, 'records.json')
                # --no-report: nothing else is asked for on stdout (eth-basic has no
                # repeating connection, so no alert line either)
                run = Run(bw_cmd(bw, [os.path.join(d, e['inputs'][0])], records=out) +
                          ['--no-report'])
                problems, details = [], []
                check_common(run, problems)
                if run.rc != 0:
                    problems.append('exit %s, want 0' % run.rc)
                if run.out:
                    problems.append('%d bytes on stdout, want none' % len(run.out))
                got = open(out, 'rb').read() if os.path.exists(out) else b''
                if got != record_bytes(e['records']):
                    problems.append('--records FILE differs')
                    details.append(record_diff(e['records'], got))
                report('records-file eth-basic', problems, details, run)

        # the text summary (no -q, no --stats): "name value" for the non-zero counters
        if 'eth-basic' in exps:
            e = exps['eth-basic']
            path = os.path.join(d, e['inputs'][0])
            run = Run([bw, '-r', path, '--records', '-'])
            problems, details = [], []
            if run.rc != 0:
                problems.append('exit %s, want 0' % run.rc)
            # (a heading such as "brokerwatch: statistics:" is allowed)
            lines = [x for x in run.errtext.splitlines()
                     if x.strip() and not x.startswith('brokerwatch:')]
            pairs = {}
            for line in lines:
                m = re.match(r'^\s*([a-z][a-z0-9_]*)\s+(\d+)\s*$', line)
                if m:
                    pairs[m.group(1)] = int(m.group(2))
                else:
                    problems.append('stderr line is not "name value": %r' % line)
            for k, v in sorted(e['stats'].items()):
                if v and pairs.get(k) != v:
                    problems.append('text summary: %s = %s, want %s' % (k, pairs.get(k), v))
                if not v and k in pairs:
                    problems.append('text summary shows zero counter %s' % k)
            for k, v in pairs.items():
                if v == 0:
                    problems.append('text summary shows zero counter %s' % k)
                if k not in COUNTERS:
                    problems.append('text summary has unknown counter %s' % k)
            if run.out != record_bytes(e['records']):
                problems.append('records differ without -q/--stats')
            report('text-summary eth-basic', problems, details, run)

            # --stats without -q: the JSON object instead of the text summary
            run = Run([bw, '--stats', '-r', path, '--records', '-'])
            problems, details = [], []
            check_common(run, problems)
            if run.rc != 0:
                problems.append('exit %s, want 0' % run.rc)
            if run.stats is not None and run.stats.get('records') != len(e['records']):
                problems.append('counter records = %s' % run.stats.get('records'))
            report('stats-without-q eth-basic', problems, details, run)

            # an output that cannot be written: exit 74
            if os.path.exists('/dev/full'):
                run = Run(bw_cmd(bw, [path], records='/dev/full'))
                problems = []
                if run.rc != 74:
                    problems.append('exit %s, want 74' % run.rc)
                if '/dev/full' not in run.errtext:
                    problems.append('stderr does not name /dev/full')
                report('records-write-error /dev/full', problems,
                       ['stderr:\n' + run.errtext], run)

    print('golden: %d of %d cases failed' % (failed, ran) if failed else
          'golden: all %d cases passed' % ran)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
