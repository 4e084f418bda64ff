#!/usr/bin/env python3
"""Replay the public capture corpus (../shared/pcaps/public) through brokerwatch.

    public.py --brokerwatch BIN --shared DIR      (meson test 'public-corpus')
    public.py --shared DIR --oracle-only           (print the folded expectation)

The oracle is independent of brokerwatch's code: DIR/pcaps/public/EXPECTED.tsv
lists every TCP SYN without ACK in each capture, as tshark saw it (computed by
someone else).  This script joins every row with the SYN's raw initial sequence
number (tshark -e tcp.seq_raw, joined on the frame number) and the pcapng
interface name (tshark -e frame.interface_name), folds retransmissions as the
contract says -- same (src, dst, sport, dport, ISN), at most 130 s after the
previous SYN of that attempt; the record keeps the first SYN's time and VLANs --
and builds the exact JSON line every record must be.

Every file in MANIFEST.tsv is replayed with `BIN -q --stats -r FILE --records -`;
records (every field, exact bytes, packet order), the --stats JSON (records, syn,
syn_retransmit, every counter present) and the exit status are checked.  Files
whose MANIFEST `contents` say "corrupt: ..." must exit 65, keep the records
before the damage and name the file and "packet N" on stderr, with N = the
number of packets tshark reads before its error + 1.  A few extra cases cover
-r - (stdin), several -r (one stream), the same file twice (the fold state
carries over), missing files (exit 66) and a damaged file followed by a good one.

Exit status: 0 all passed, 1 something failed (also: tshark missing while the
corpus exists), 77 the corpus is not there (a clone without ../shared).
"""

import argparse
import datetime
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'pylib'))
from bwtest import COUNTERS, SYN_FILTER, OracleError  # noqa: E402
import bwtest  # noqa: E402

FOLD_NS = 130 * 1000000000
EPOCH = datetime.datetime(1970, 1, 1)
RUN_TIMEOUT = 120
MAX_DIFF_LINES = 30


# ---------------------------------------------------------------- oracle ----

def epoch_ns(text):
    """tshark's frame.time_epoch text ("1430069159.456549000") -> integer ns."""
    neg = text.startswith('-')
    sec, _, frac = text.lstrip('-').partition('.')
    ns = int(sec) * 1000000000 + int((frac + '000000000')[:9])
    return -ns if neg else ns


def iso_utc(ns):
    """Integer ns since the epoch -> 2015-04-26T17:25:59.456549Z (truncated)."""
    sec, rem = divmod(ns, 1000000000)
    t = EPOCH + datetime.timedelta(seconds=sec)
    return t.strftime('%Y-%m-%dT%H:%M:%S') + '.%06dZ' % (rem // 1000)


def canon_addr(text):
    ip = ipaddress.ip_address(text)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return '::ffff:' + str(ip.ipv4_mapped)
    return str(ip)


def is_pcapng(path):
    with open(path, 'rb') as f:
        return f.read(4) == b'\x0a\x0d\x0d\x0a'


def tshark_syn_info(path, damaged):
    """frame number -> (raw ISN, interface name or None) for every SYN w/o ACK."""
    rc, out, err = bwtest.tshark(['-r', path, '-Y', SYN_FILTER, '-T', 'fields',
                                  '-e', 'frame.number', '-e', 'tcp.seq_raw',
                                  '-e', 'frame.interface_name'], RUN_TIMEOUT)
    if rc != 0 and not damaged:
        raise OracleError('tshark failed on %s (status %d): %s'
                          % (path, rc, err.strip()[-300:]))
    pcapng = is_pcapng(path)
    info = {}
    for line in out.splitlines():
        cols = line.split('\t')
        if len(cols) < 2 or not cols[0].isdigit():
            continue
        seqs = [s for s in cols[1].split(',') if s]
        if not seqs:
            raise OracleError('%s frame %s: tshark gives no tcp.seq_raw' % (path, cols[0]))
        name = cols[2] if len(cols) > 2 else ''
        if not pcapng or name in ('', 'unknown'):
            name = None
        # innermost TCP header (the last one tshark lists)
        info[int(cols[0])] = (int(seqs[-1]), name)
    return info


def tshark_packet_count(path):
    _, out, _ = bwtest.tshark(['-r', path, '-T', 'fields', '-e', 'frame.number'], RUN_TIMEOUT)
    return sum(1 for l in out.splitlines() if l.strip().isdigit())


class Syn:
    """One EXPECTED.tsv row joined with its ISN."""

    def __init__(self, row, isn, ifname):
        self.file = row['file']
        self.frame = int(row['frame'])
        self.ns = epoch_ns(row['epoch'])
        self.v6 = row['ip_version'] == '6'
        if row['ip_version'] not in ('4', '6'):
            raise OracleError('%s frame %s: ip_version %r'
                              % (self.file, self.frame, row['ip_version']))
        self.src = canon_addr(row['src_ip'])
        self.dst = canon_addr(row['dst_ip'])
        self.sport = int(row['src_port'])
        self.dport = int(row['dst_port'])
        vl = row['vlan_ids'].strip()
        self.vlans = [] if vl in ('-', '') else [int(v) & 0xfff for v in vl.split(',')]
        self.isn = isn
        self.ifname = ifname
        self.key = (self.src, self.dst, self.sport, self.dport, isn)

    def record(self):
        """The record as an ordered dict (the contract's key order)."""
        fam = 'IP6' if self.v6 else 'IP4'
        r = {'@timestamp': iso_utc(self.ns),
             'event_simpleName': 'NetworkConnect' + fam,
             'ComputerName': self.src,
             'LocalAddress' + fam: self.src,
             'LocalPort': self.sport,
             'RemoteAddress' + fam: self.dst,
             'RemotePort': self.dport,
             'Protocol': 6}
        if self.vlans:
            r['VlanId'] = self.vlans[0]
            if len(self.vlans) >= 2:
                r['VlanIds'] = list(self.vlans)
        if self.ifname:
            name = self.ifname.encode('utf-8')[:31].decode('utf-8', 'ignore')
            r['InterfaceName'] = name
        return r

    def line(self):
        return json.dumps(self.record(), separators=(',', ':'), ensure_ascii=False)

    def where(self):
        return '%s frame %d' % (self.file, self.frame)


def fold(syns):
    """Contract's retransmission fold over one stream of SYNs (packet order).

    Returns the SYNs that create records.  A SYN whose (src, dst, sport, dport,
    ISN) was seen before, with the previous SYN of that attempt at most 130 s
    away, is a retransmission (the previous SYN of the attempt becomes this one).
    """
    last = {}
    out = []
    for s in syns:
        prev = last.get(s.key)
        last[s.key] = s.ns
        if prev is not None and abs(s.ns - prev) <= FOLD_NS:
            continue
        out.append(s)
    return out


class Corpus(bwtest.Corpus):
    def syns(self, f):
        """All SYN rows of file f (packet order) joined with ISN/interface name."""
        if f in self._syns:
            return self._syns[f]
        rows = sorted(self.rows[f], key=lambda r: int(r['frame']))
        declared = self.meta[f].get('syn_rows', '').strip()
        if declared.isdigit() and int(declared) != len(rows):
            raise OracleError('%s: MANIFEST says %s SYN rows, EXPECTED.tsv has %d'
                              % (f, declared, len(rows)))
        out = []
        if rows:
            info = tshark_syn_info(self.path(f), self.damaged(f))
            for r in rows:
                fr = int(r['frame'])
                if fr not in info:
                    raise OracleError('%s frame %d: in EXPECTED.tsv but tshark finds no SYN there'
                                      % (f, fr))
                isn, name = info[fr]
                out.append(Syn(r, isn, name))
        self._syns[f] = out
        return out

    def damage_packet(self, f):
        """1-based number of the packet that cannot be read in a damaged file."""
        n = tshark_packet_count(self.path(f)) + 1
        m = re.match(r'\s*(\d+)', self.meta[f].get('packets', ''))
        if m and int(m.group(1)) + 1 != n:
            raise OracleError('%s: tshark reads %d packets, MANIFEST says %s'
                              % (f, n - 1, m.group(1)))
        return n


# -------------------------------------------------------------- checking ----

def run_bw(bw, args, stdin_path=None):
    cmd = [bw, '-q', '--stats'] + args + ['--records', '-']
    stdin = open(stdin_path, 'rb') if stdin_path else subprocess.DEVNULL
    try:
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
    finally:
        if stdin_path:
            stdin.close()
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def parse_stats(stderr):
    objs = []
    for line in stderr.splitlines():
        s = line.strip()
        if s.startswith('{'):
            try:
                objs.append(json.loads(s))
            except ValueError:
                pass
    return objs


def err_text(stderr, limit=400):
    """stderr without the --stats JSON line, shortened, for messages."""
    lines = [l for l in stderr.splitlines() if not l.lstrip().startswith('{')]
    text = ' | '.join(l.strip() for l in lines if l.strip())
    if len(text) > limit:
        text = '...' + text[-limit:]
    return text or 'no messages'


def rec_id(obj):
    if not isinstance(obj, dict):
        return None
    return (obj.get('LocalAddressIP4', obj.get('LocalAddressIP6')), obj.get('LocalPort'),
            obj.get('RemoteAddressIP4', obj.get('RemoteAddressIP6')), obj.get('RemotePort'))


def diff_records(expected, got_lines):
    """expected: list of Syn; got_lines: brokerwatch's stdout lines.  -> list of problems."""
    got = []
    for line in got_lines:
        try:
            got.append((line, json.loads(line)))
        except ValueError:
            got.append((line, None))
    problems = []
    # pair records by 4-tuple, k-th occurrence with k-th occurrence
    pending = {}
    for gi, (_, obj) in enumerate(got):
        pending.setdefault(rec_id(obj), []).append(gi)
    pairs = []
    missing = []
    for ei, s in enumerate(expected):
        k = (s.src, s.sport, s.dst, s.dport)
        lst = pending.get(k)
        if lst:
            pairs.append((ei, lst.pop(0)))
        else:
            missing.append(ei)
    used = {gi for _, gi in pairs}
    for ei in missing:
        s = expected[ei]
        problems.append('missing    %s: %s' % (s.where(), s.line()))
    for gi, (line, _) in enumerate(got):
        if gi not in used:
            problems.append('unexpected line %d: %s' % (gi + 1, line))
    for ei, gi in pairs:
        s = expected[ei]
        line, obj = got[gi]
        want = s.line()
        if line == want:
            continue
        exp_obj = s.record()
        if obj == exp_obj:
            problems.append('format     %s (line %d):\n      want %s\n      got  %s'
                            % (s.where(), gi + 1, want, line))
            continue
        fields = []
        for k in list(exp_obj) + [k for k in obj if k not in exp_obj]:
            if exp_obj.get(k, '<absent>') != obj.get(k, '<absent>'):
                fields.append('%s: want %s got %s'
                              % (k, json.dumps(exp_obj.get(k, '<absent>')),
                                 json.dumps(obj.get(k, '<absent>'))))
        problems.append('mismatch   %s (line %d): %s' % (s.where(), gi + 1, '; '.join(fields)))
    if not problems:
        order = [gi for _, gi in sorted(pairs)]
        if order != sorted(order):
            problems.append('order      records are not in packet order: got line order %s'
                            % order[:20])
    return problems


class Case:
    def __init__(self, name):
        self.name = name
        self.problems = []

    def check(self, cond, msg):
        if not cond:
            self.problems.append(msg)
        return cond


def check_run(case, rc, out, err, expected, want_rc, stat_syn, stat_retx=None,
              err_subs=()):
    """Common checks of one brokerwatch run."""
    if rc < 0:
        case.problems.append('brokerwatch died of signal %d (stderr: %s)' % (-rc, err_text(err)))
        return
    case.check(rc == want_rc, 'exit status %d, want %d (stderr: %s)'
               % (rc, want_rc, err_text(err)))
    lines = out.splitlines()
    problems = diff_records(expected, lines)
    if problems:
        case.problems.append('records: want %d, got %d lines' % (len(expected), len(lines)))
        case.problems.extend('  ' + p for p in problems)
    stats = parse_stats(err)
    if case.check(len(stats) == 1, '--stats: want one JSON object on stderr, got %d (stderr: %s)'
                  % (len(stats), err.strip()[-400:] or 'empty')):
        st = stats[0]
        absent = [c for c in COUNTERS if c not in st]
        case.check(not absent, '--stats lacks counters: %s' % ' '.join(absent))
        if stat_retx is None:
            stat_retx = stat_syn - len(expected)
        for name, want in (('records', len(expected)), ('syn', stat_syn),
                           ('syn_retransmit', stat_retx)):
            case.check(st.get(name) == want, 'stats %s = %s, want %d' % (name, st.get(name), want))
    for desc, pattern in err_subs:
        case.check(any(re.search(pattern, l) for l in err.splitlines()),
                   'stderr lacks %s (stderr: %s)' % (desc, err_text(err)))


def file_case(bw, corpus, f):
    case = Case(f)
    path = corpus.path(f)
    if not os.path.isfile(path):
        case.problems.append('corpus file %s is missing' % path)
        return case
    syns = corpus.syns(f)
    expected = fold(syns)
    err_subs = ()
    want_rc = 0
    if corpus.damaged(f):
        want_rc = 65
        n = corpus.damage_packet(f)
        err_subs = (('a line naming %s and "packet %d"' % (path, n),
                     re.escape(path) + r'.*\bpacket %d\b' % n),)
    rc, out, err = run_bw(bw, ['-r', path])
    check_run(case, rc, out, err, expected, want_rc, len(syns), err_subs=err_subs)
    return case


def extra_cases(bw, corpus):
    cases = []
    P = corpus.path

    def pick(*names):
        return [n for n in names if n in corpus.meta and os.path.isfile(P(n))]

    # -r - : the same records as -r FILE (classic pcap and pcapng)
    for f in pick('tcpreplay-test.pcap', 'ndpi-stomp.pcapng', 'ndpi-KakaoTalk_talk.pcap'):
        case = Case('stdin -r - < %s' % f)
        syns = corpus.syns(f)
        rc, out, err = run_bw(bw, ['-r', '-'], stdin_path=P(f))
        check_run(case, rc, out, err, fold(syns), 0, len(syns))
        _, out2, _ = run_bw(bw, ['-r', P(f)])
        case.check(out == out2, 'stdout of -r - differs from -r FILE')
        cases.append(case)

    # several -r: one stream, concatenated records (distinct connections)
    trio = pick('ndpi-KakaoTalk_talk.pcap', 'zeek-vlan-qinqinq.pcap', 'ndpi-stomp.pcapng')
    if len(trio) == 3:
        case = Case('concat -r %s' % ' -r '.join(trio))
        syns = [s for f in trio for s in corpus.syns(f)]
        expected = fold(syns)
        separate = [s for f in trio for s in fold(corpus.syns(f))]
        if expected != separate:
            raise OracleError('concat case: the files share connections')
        args = []
        for f in trio:
            args += ['-r', P(f)]
        rc, out, err = run_bw(bw, args)
        check_run(case, rc, out, err, expected, 0, len(syns))
        cases.append(case)

    # the same file twice: the second copy's SYNs all fold into the first's.
    # tcpreplay-test.pcap: one SYN per attempt, so every second-copy SYN is 0 s
    # from its twin: records = first copy, syn_retransmit = the copy's syn count.
    # detect-ipopts / KakaoTalk: with in-file retransmissions, the second copy's
    # first SYN of an attempt is a few ms/s *earlier* than the previous SYN of that
    # attempt (within 130 s of each other): still folded.
    for f in pick('tcpreplay-test.pcap', 'suricata-verify-detect-ipopts.pcap',
                  'ndpi-KakaoTalk_talk.pcap'):
        case = Case('twice -r %s -r %s' % (f, f))
        one = corpus.syns(f)
        first = fold(one)
        expected = fold(one + one)
        if [s.line() for s in expected] != [s.line() for s in first]:
            raise OracleError('twice case %s: an attempt spans more than 130 s' % f)
        rc, out, err = run_bw(bw, ['-r', P(f), '-r', P(f)])
        # syn = 2n; syn_retransmit = (n - records) + n
        check_run(case, rc, out, err, first, 0, 2 * len(one),
                  stat_retx=2 * len(one) - len(first))
        cases.append(case)

    # A, B, A: an IPv4 SYN, an IPv6 file in between, the same IPv4 SYN again at
    # the same packet time: folded (the fold key must not depend on what the
    # packets in between were)
    trio = pick('zeek-vlan-qinqinq.pcap', 'suricata-verify-mqtt-events-unintroduced.pcap')
    if len(trio) == 2:
        a, b = trio
        case = Case('v4 v6 v4 -r %s -r %s -r %s' % (a, b, a))
        syns = corpus.syns(a) + corpus.syns(b) + corpus.syns(a)
        expected = fold(syns)
        if len(expected) != len(fold(corpus.syns(a))) + len(fold(corpus.syns(b))):
            raise OracleError('v4 v6 v4 case: unexpected fold')
        rc, out, err = run_bw(bw, ['-r', P(a), '-r', P(b), '-r', P(a)])
        check_run(case, rc, out, err, expected, 0, len(syns))
        cases.append(case)

    # missing file
    missing = os.path.join(corpus.dir, 'no-such-capture.pcap')
    case = Case('missing -r no-such-capture.pcap')
    rc, out, err = run_bw(bw, ['-r', missing])
    check_run(case, rc, out, err, [], 66, 0,
              err_subs=(('the missing file name', re.escape(missing)),))
    cases.append(case)

    # a missing file between two good ones: both good ones are still read
    pair = pick('zeek-http-vlan-0.pcap', 'tcpreplay-test.pcap')
    if len(pair) == 2:
        a, b = pair
        case = Case('missing between -r %s -r no-such -r %s' % (a, b))
        syns = corpus.syns(a) + corpus.syns(b)
        rc, out, err = run_bw(bw, ['-r', P(a), '-r', missing, '-r', P(b)])
        check_run(case, rc, out, err, fold(syns), 66, len(syns),
                  err_subs=(('the missing file name', re.escape(missing)),))
        cases.append(case)

    # a damaged file, then a good one: records of both, exit 65
    pair = pick('suricata-verify-bug-1450-04-tls_DER-incomplete-header.pcap', 'zeek-vlan-qinqinq.pcap')
    if len(pair) == 2 and corpus.damaged(pair[0]):
        a, b = pair
        case = Case('damaged then good -r %s -r %s' % (a, b))
        syns = corpus.syns(a) + corpus.syns(b)
        n = corpus.damage_packet(a)
        rc, out, err = run_bw(bw, ['-r', P(a), '-r', P(b)])
        check_run(case, rc, out, err, fold(syns), 65, len(syns),
                  err_subs=(('a line naming %s and "packet %d"' % (P(a), n),
                             re.escape(P(a)) + r'.*\bpacket %d\b' % n),))
        cases.append(case)
    return cases


# ------------------------------------------------------------------ main ----

def print_oracle(corpus):
    for f in corpus.files:
        syns = corpus.syns(f)
        recs = fold(syns)
        extra = ''
        if corpus.damaged(f):
            extra = ', damaged: exit 65, "packet %d"' % corpus.damage_packet(f)
        print('== %s: %d SYN, %d records%s' % (f, len(syns), len(recs), extra))
        kept = set(id(s) for s in recs)
        for s in syns:
            mark = '  ' if id(s) in kept else 'R '
            print('%s%6d isn=%-10d %s' % (mark, s.frame, s.isn, s.line() if id(s) in kept else ''))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--brokerwatch', help='the brokerwatch binary')
    ap.add_argument('--shared', required=True, help='the shared directory (../shared)')
    ap.add_argument('--oracle-only', action='store_true',
                    help='print the folded expectation per file, run nothing')
    a = ap.parse_args()

    expected_tsv = os.path.join(a.shared, 'pcaps', 'public', 'EXPECTED.tsv')
    if not os.path.isfile(expected_tsv):
        print('SKIP public corpus: %s does not exist (no ../shared next to this clone)'
              % expected_tsv)
        return 77
    if shutil.which('tshark') is None:
        print('FAIL public corpus: tshark is not installed, but the oracle needs it '
              '(install tshark; a missing tool is not a pass)')
        return 1
    try:
        corpus = Corpus(a.shared)
        if a.oracle_only:
            print_oracle(corpus)
            return 0
    except OracleError as e:
        print('FAIL oracle: %s' % e)
        return 1
    if not a.brokerwatch or not os.access(a.brokerwatch, os.X_OK):
        print('FAIL public corpus: no brokerwatch binary at %r' % a.brokerwatch)
        return 1

    def broken(name, e):
        c = Case(name)
        c.problems.append('oracle: %s' % e if isinstance(e, OracleError)
                          else 'timed out: %s' % ' '.join(e.cmd))
        return c

    cases = []
    for f in corpus.files:
        try:
            cases.append(file_case(a.brokerwatch, corpus, f))
        except (OracleError, subprocess.TimeoutExpired) as e:
            cases.append(broken(f, e))
    try:
        cases += extra_cases(a.brokerwatch, corpus)
    except (OracleError, subprocess.TimeoutExpired) as e:
        cases.append(broken('extra cases', e))

    failed = 0
    for c in cases:
        if not c.problems:
            print('PASS %s' % c.name)
            continue
        failed += 1
        first = c.problems[0].splitlines()[0].strip()
        print('FAIL %s: %s' % (c.name, first))
        for p in c.problems[:MAX_DIFF_LINES]:
            for l in p.splitlines():
                print('    ' + l)
        if len(c.problems) > MAX_DIFF_LINES:
            print('    ... %d more' % (len(c.problems) - MAX_DIFF_LINES))
    print('%d passed, %d failed (%d cases)' % (len(cases) - failed, failed, len(cases)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
