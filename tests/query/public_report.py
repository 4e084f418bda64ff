#!/usr/bin/env python3
"""public_report.py - brokerwatch's report and alerts on the public corpus,
against the independent oracle refquery.py.

    public_report.py --brokerwatch BIN --shared DIR [-v] [--only FILE ...]
    public_report.py --shared DIR --oracle-only       (print the expectation)

For every capture in DIR/pcaps/public/MANIFEST.tsv the connection records are
built from EXPECTED.tsv (every TCP SYN without ACK, computed by someone else
with tshark), joined on the frame number with the SYN's raw ISN from
`tshark -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -e frame.number -e
tcp.seq_raw`, and folded as the contract says (same src, dst, sport, dport,
ISN within 130 s of the previous SYN of that attempt).  The latest packet
time of the input is the max of tshark's frame.time_epoch over every packet.
refquery.py then gives the report rows (the query over [latest - 24h,
latest]) and the streaming alerts.  They are compared byte for byte with

    BIN -q -r FILE --report-json -      and      BIN -q -r FILE --alerts -

and the exit status must be 0, or 65 for the files MANIFEST calls corrupt
(whose report is that of the records before the damage).  Then every file
is read in one invocation (-r each, MANIFEST order: one stream; the fold and
the windows carry across files, and latest is the max over all files), and a
few pairs/twice runs.  The files with alerting groups are also checked
against facts worked out by hand (so that a drift of the oracle shows).

Exit: 0 all passed; 1 a mismatch (or tshark missing while the corpus is
there); 77 the corpus is missing (skipped).
"""

import argparse
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, os.pardir, 'pylib')]
import refquery as rq  # noqa: E402
from bwtest import SKIP, SYN_FILTER, OracleError  # noqa: E402
import bwtest  # noqa: E402

RUN_TIMEOUT = 300


class Corpus(bwtest.Corpus):
    def __init__(self, shared):
        super().__init__(shared)
        self._latest = {}

    def syns(self, f):
        """[(ns, fold key, record)] for every SYN of f, packet order."""
        if f in self._syns:
            return self._syns[f]
        rows = sorted(self.rows[f], key=lambda r: int(r['frame']))
        out = []
        if rows:
            rc, text, _ = bwtest.tshark(['-r', self.path(f), '-Y', SYN_FILTER, '-T', 'fields',
                                         '-e', 'frame.number', '-e', 'tcp.seq_raw'], RUN_TIMEOUT)
            if rc != 0 and not self.damaged(f):
                raise OracleError('tshark failed on %s (status %d)' % (f, rc))
            isn = {}
            for line in text.splitlines():
                cols = line.split('\t')
                if len(cols) >= 2 and cols[0].isdigit() and cols[1]:
                    isn[int(cols[0])] = int(cols[1].split(',')[-1])   # innermost TCP
            for r in rows:
                fr = int(r['frame'])
                if fr not in isn:
                    raise OracleError('%s frame %d: no ISN from tshark' % (f, fr))
                ns = rq.epoch_ns(r['epoch'])
                vl = r['vlan_ids'].strip()
                vlans = [] if vl in ('', '-') else [int(v) for v in vl.split(',')]
                rec = rq.make_record(ns, r['src_ip'], r['src_port'], r['dst_ip'],
                                     r['dst_port'], vlans)
                rec['_where'] = '%s frame %d' % (f, fr)
                key = (rq.canon_addr(r['src_ip']), rq.canon_addr(r['dst_ip']),
                       int(r['src_port']), int(r['dst_port']), isn[fr])
                out.append((ns, key, rec))
        self._syns[f] = out
        return out

    def latest(self, f):
        """Latest packet time of f (any packet tshark reads), ns; None: no packet."""
        if f not in self._latest:
            _, text, _ = bwtest.tshark(['-r', self.path(f), '-T', 'fields',
                                        '-e', 'frame.time_epoch'], RUN_TIMEOUT)
            best = None
            for line in text.splitlines():
                line = line.strip()
                if not line:
                    continue                      # pcapng SPB: no timestamp
                sec, _, frac = line.partition('.')
                if len(frac) > 9:
                    continue                      # nanosecond field >= 1e9: invalid time
                ns = rq.epoch_ns(line)
                best = ns if best is None else max(best, ns)
            self._latest[f] = best
        return self._latest[f]


def expectation(corpus, files):
    """(report lines, alert lines, notes, records) for reading files as one stream."""
    syns = [s for f in files for s in corpus.syns(f)]
    records = rq.fold(syns)
    lat = [corpus.latest(f) for f in files]
    lat = [x for x in lat if x is not None]
    notes = []
    if not lat:
        return [], [], notes, records
    latest = max(lat)
    rep = [rq.dumps(r) for r in rq.report(records, latest)]
    al = [rq.dumps(a) for a in rq.alerts(records, notes=notes)]
    return rep, al, notes, records


def run_bw(bw, files, out_opt):
    cmd = [bw, '-q']
    for f in files:
        cmd += ['-r', f]
    cmd += [out_opt, '-']
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def print_expectation(rep, al, indent='  '):
    for l in rep:
        print(indent + 'row   ' + l)
    for l in al:
        print(indent + 'alert ' + l)


def check_files(bw, corpus, files, want_rc, name, res, verbose=False):
    rep, al, notes, records = expectation(corpus, files)
    paths = [corpus.path(f) for f in files]
    problems = []
    for opt, want, what in (('--report-json', rep, 'report rows'), ('--alerts', al, 'alerts')):
        rc, out, err = run_bw(bw, paths, opt)
        err = bwtest.short(err, 300, 'no stderr')
        if rc < 0:
            problems.append('%s run: killed by signal %d (%s)' % (opt, -rc, err))
            continue
        if rc != want_rc:
            problems.append('%s run: exit %d, want %d (%s)' % (opt, rc, want_rc, err))
        problems += rq.diff_lines('%s (%s)' % (what, opt), want, out.splitlines())
    if notes:
        # only informational: per-group time going backwards across files
        for n in notes[:5]:
            print('  note %s: %s' % (name, n))
    if verbose and (rep or al):
        print('  expected for %s: %d records' % (name, len(records)))
        print_expectation(rep, al, '    ')
    res.case(name, problems)
    return rep, al


# Facts worked out by hand from the captures (tshark), independent of the
# oracle's code: they pin the oracle itself on the files that alert.
HAND = {
    'ndpi-hpvirtgrp.pcap': {
        # 10 SYNs to 160.44.194.66:5223, frames 91/92 one attempt (same ISN
        # 4165379324, 26 ms apart): 9 records over 12.7 h, one XMPP group.
        'report': [
            '{"ComputerName":"192.168.2.100","RemoteAddressIP4":"160.44.194.66","RemotePort":5223,'
            '"Protocol":"XMPP","Suspicion":"high","ConnectionCount":9,'
            '"FirstSeen":"2021-03-04T10:05:31.255737Z","LastSeen":"2021-03-04T22:48:10.218683Z"}'],
        # fires once, on the second record (frame 16); never falls below 2
        # within the capture, realert (24 h) never passes.
        'alerts': [
            '{"@timestamp":"2021-03-04T12:44:52.925577Z","event_simpleName":"BrokerwatchAlert",'
            '"Suspicion":"high","Protocol":"XMPP","ConnectionCount":2,"ComputerName":"192.168.2.100",'
            '"RemoteAddressIP4":"160.44.194.66","RemotePort":5223,"LocalAddressIP4":"192.168.2.100",'
            '"LocalPort":59200,"FirstSeen":"2021-03-04T10:05:31.255737Z",'
            '"LastSeen":"2021-03-04T12:44:52.925577Z","Rule":"xmpp-or-stomp"}'],
    },
    'ndpi-jabber.pcap': {
        # 5223 SYNs to external 160.44.201.102 are 30 h, 68 h, 19 d, 131 d
        # apart: never two in 24 h -> no alert and no row (the whole-capture
        # count would be 5); the 5222 ones go to 172.16/12 and 192.168/16.
        'report': [], 'alerts': [],
    },
    'ndpi-synscan.pcap': {
        # nmap: sports 36050 and 36051 to 64.13.134.52, each on 5222 and on
        # 5269: 4 SYNs, 4 distinct (4-tuple, ISN) -> two groups of 2
        'report': [
            '{"ComputerName":"172.16.0.8","RemoteAddressIP4":"64.13.134.52","RemotePort":5222,'
            '"Protocol":"XMPP","Suspicion":"high","ConnectionCount":2,'
            '"FirstSeen":"2010-07-04T20:24:20.286265Z","LastSeen":"2010-07-04T20:24:20.388690Z"}',
            '{"ComputerName":"172.16.0.8","RemoteAddressIP4":"64.13.134.52","RemotePort":5269,'
            '"Protocol":"XMPP","Suspicion":"high","ConnectionCount":2,'
            '"FirstSeen":"2010-07-04T20:24:21.313911Z","LastSeen":"2010-07-04T20:24:21.415485Z"}'],
        'alerts': None,   # two alerts; checked against the oracle only
    },
}


def self_check(corpus):
    """The oracle against the hand-made facts. -> list of problems."""
    problems = []
    for f, facts in HAND.items():
        if f not in corpus.meta or not os.path.isfile(corpus.path(f)):
            continue
        rep, al, _, _ = expectation(corpus, [f])
        if facts['report'] is not None:
            problems += rq.diff_lines('oracle self-check %s report' % f, facts['report'], rep)
        if facts['alerts'] is not None:
            problems += rq.diff_lines('oracle self-check %s alerts' % f, facts['alerts'], al)
    if 'ndpi-jabber.pcap' in corpus.meta:
        recs = rq.fold(corpus.syns('ndpi-jabber.pcap'))
        whole = rq.report(recs, 1 << 62, rq.Config(window='100000d'))
        if len(whole) != 1 or whole[0]['ConnectionCount'] != 5:
            problems.append('oracle self-check jabber: whole-capture group should count 5, got %s'
                            % whole)
    return problems


def main():
    ap = argparse.ArgumentParser(description='public corpus: report and alerts vs refquery')
    ap.add_argument('--brokerwatch')
    ap.add_argument('--shared', required=True)
    ap.add_argument('--oracle-only', action='store_true')
    ap.add_argument('--only', nargs='*', help='only these files (plus no combined runs)')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args()

    pub = os.path.join(a.shared, 'pcaps', 'public')
    if not os.path.isfile(os.path.join(pub, 'MANIFEST.tsv')) or \
            not os.path.isfile(os.path.join(pub, 'EXPECTED.tsv')):
        print('SKIP: public corpus not found in %s' % pub)
        return SKIP
    if shutil.which('tshark') is None:
        print('FAIL: tshark is needed to build the expectation (ISNs, packet times)')
        return 1
    try:
        corpus = Corpus(a.shared)
        missing = [f for f in corpus.files if not os.path.isfile(corpus.path(f))]
        if missing:
            print('FAIL: corpus files missing: %s' % ' '.join(missing))
            return 1
        sc = self_check(corpus)
        if sc:
            print('FAIL oracle self-check (the oracle disagrees with the hand-made facts)')
            for p in sc:
                print('    ' + p)
            return 1
        if a.oracle_only:
            for f in corpus.files:
                rep, al, notes, recs = expectation(corpus, [f])
                if rep or al:
                    print('%s (%d records, latest %s)' % (f, len(recs), rq.iso(corpus.latest(f))))
                    print_expectation(rep, al)
            rep, al, notes, _ = expectation(corpus, corpus.files)
            print('ALL FILES: %d rows, %d alerts' % (len(rep), len(al)))
            print_expectation(rep, al)
            for n in notes:
                print('  note ' + n)
            return 0
        if not a.brokerwatch:
            ap.error('--brokerwatch is required')
        res = bwtest.Suite()
        files = a.only or corpus.files
        for f in files:
            want_rc = 65 if corpus.damaged(f) else 0
            check_files(a.brokerwatch, corpus, [f], want_rc, f, res,
                        verbose=a.verbose or f in HAND)
        if not a.only:
            first_bad = any(corpus.damaged(f) for f in corpus.files)
            check_files(a.brokerwatch, corpus, corpus.files, 65 if first_bad else 0,
                        'ALL FILES in one stream (%d -r)' % len(corpus.files), res,
                        verbose=True)
            combos = [
                # the same file twice: every SYN of the copy folds (0 s away)
                ['ndpi-hpvirtgrp.pcap', 'ndpi-hpvirtgrp.pcap'],
                ['ndpi-whatsapp.pcap', 'ndpi-whatsapp.pcap'],
                # 2021 then 2022: latest is whatsapp's; hpvirtgrp out of window
                ['ndpi-hpvirtgrp.pcap', 'ndpi-whatsapp.pcap'],
                ['ndpi-whatsapp.pcap', 'ndpi-hpvirtgrp.pcap'],
                # going back 11 years between files: alerts are per group
                ['ndpi-whatsapp.pcap', 'ndpi-synscan.pcap', 'ndpi-jabber.pcap'],
                # damaged file first: still everything after it
                ['suricata-verify-bug-1450-04-tls_DER-incomplete-header.pcap',
                 'ndpi-hpvirtgrp.pcap'],
            ]
            for combo in combos:
                if not all(c in corpus.meta for c in combo):
                    continue
                want_rc = 65 if any(corpus.damaged(c) for c in combo) else 0
                check_files(a.brokerwatch, corpus, combo, want_rc,
                            'stream -r ' + ' -r '.join(combo), res, verbose=a.verbose)
    except OracleError as e:
        print('FAIL: cannot build the expectation: %s' % e)
        return 1
    return res.finish()


if __name__ == '__main__':
    sys.exit(main())
