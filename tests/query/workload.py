#!/usr/bin/env python3
"""workload.py - brokerwatch's report and alerts on generated workloads.

    workload.py --brokerwatch BIN --gen /work/shared/bench/gen-workload.py [-v]
                [--packets N] [--keep DIR]

Workloads (written to a temporary directory, removed at the end):
  A   --packets N --seed 1                  (6 h, start 1700000000)
  B   --packets N --seed 2                  (6 h, same start: overlaps A)
  A7  --seed 1 --start +7 h                 (A shifted: inside A's 24 h)
  A31 --seed 1 --start +31 h                (A shifted: 25 h after A's end)
  C   --packets 100000 --seed 3 --span-hours 30   (the window slides)

Expectations:
 * From the generator's ground truth FILE.expected.json (groups per (src,
   dst, dport, protocol) with count/first/last over the whole capture):
   - 6 h workloads (the whole capture is inside [latest - 24h, latest]): the
     report rows are exactly the groups with count > 1, built and sorted as
     the contract says; the alerts are one per such group (count 2,
     FirstSeen = first; @timestamp = LastSeen = last when count is 2).
   - 30 h workload: expected.json counts the whole capture, so it is used
     only where it is exact: a group whose last SYN is before latest - 24h
     has no row; a group whose first SYN is inside the window has exactly its
     expected.json row.  Groups straddling the window start are checked
     through the record oracle only.
 * From the records: every SYN without ACK read from the pcap with tshark
   (time, addresses, ports, raw ISN, VLAN ids), folded, then refquery.py (the
   reference query and the streaming-alert rules).  This is checked against
   expected.json (whole-capture groups identical) and then compared byte for
   byte with brokerwatch's --report-json and --alerts, for every workload and
   every multi-file stream below.

Stream properties (what holds when several -r are one stream):
 * -r A -r A7: windows carry across files: each group counts A's and A7's
   connections (2x A's count); A's alerts are a prefix of the stream's alerts.
 * -r A -r A31: A31 starts more than 24 h after A ends: the stream's report
   equals A31's report, which is A's report shifted by exactly 31 h; the
   stream's alerts are A's alerts followed by A31's.
 * -r A -r B and -r B -r A (the files overlap in time): the same report (the
   query over the final window does not depend on the order); alerts are
   checked only for groups whose connections arrive in time order.
 * -r A7 -r A: time goes back 7 h between the files: the same report as
   -r A -r A7; alerts as the literal contract says (count in [t - 24h, t],
   later connections not counted) only with --strict-time-order, otherwise
   a difference is printed and not failed.
Determinism: brokerwatch run three times on A (records, alerts, report JSON,
--stats) gives the same bytes each time.

Exit: 0 all passed; 1 a mismatch; 77 the generator is missing (skipped).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, os.pardir, 'pylib')]
import refquery as rq  # noqa: E402
from bwtest import SKIP, SYN_FILTER, Suite, stats_json  # noqa: E402

TIMEOUT = 900
START = 1700000000
HOUR_US = 3600 * 1000000
WINDOW_US = 24 * HOUR_US
PROTO = {'mqtt': 'MQTT', 'xmpp': 'XMPP', 'amqp': 'AMQP', 'stomp': 'STOMP'}
LEVEL = {'MQTT': 'high', 'XMPP': 'high', 'STOMP': 'high', 'AMQP': 'medium'}
RULE = {'MQTT': 'mqtt-unknown-client', 'XMPP': 'xmpp-or-stomp', 'STOMP': 'xmpp-or-stomp',
        'AMQP': 'amqp'}


def us_iso(us):
    return rq.iso(us * 1000)


# ------------------------------------------------------ generator truth ----

def group_key(g):
    """(src, dst, dport) of an expected.json group, addresses as the contract writes them."""
    return rq.canon_addr(g['src']), rq.canon_addr(g['dst']), g['dport']


def line_key(o):
    """(ComputerName, RemoteAddress, RemotePort) of a report row or an alert."""
    return o.get('ComputerName'), rq.remote_addr(o), o.get('RemotePort')


def truth_rows(doc, lo_us=None, hi_us=None):
    """Report rows from expected.json.  With lo_us, only the groups whose
    count over the window [lo_us, hi_us] is exact from the document: those
    entirely inside it.  Returns (rows, inexact groups)."""
    rows, inexact = [], []
    for g in doc['groups']:
        if lo_us is not None:
            if g['last_us'] < lo_us:
                continue                      # entirely before the window
            if g['first_us'] < lo_us:
                inexact.append(g)
                continue
        if g['count'] < 2:
            continue
        proto = PROTO[g['proto']]
        f6 = 'IP6' if g['family'] == 6 else 'IP4'
        row = {'ComputerName': rq.canon_addr(g['src']),
               'RemoteAddress' + f6: rq.canon_addr(g['dst']),
               'RemotePort': g['dport'], 'Protocol': proto, 'Suspicion': LEVEL[proto],
               'ConnectionCount': g['count'],
               'FirstSeen': us_iso(g['first_us']), 'LastSeen': us_iso(g['last_us'])}
        sort = (rq.LEVEL_RANK[LEVEL[proto]], -g['count'], g['first_us'],
                row['ComputerName'], rq.canon_addr(g['dst']), g['dport'])
        rows.append((sort, row))
    rows.sort(key=lambda x: x[0])
    return [rq.dumps(r) for _, r in rows], inexact


def truth_alert_checks(doc, alert_lines):
    """6 h workloads: one alert per group with count > 1; what expected.json
    pins of each.  -> problems."""
    want = {}
    for g in doc['groups']:
        if g['count'] > 1:
            want[group_key(g)] = g
    problems = []
    seen = set()
    for line in alert_lines:
        try:
            a = json.loads(line)
        except ValueError:
            problems.append('alert is not JSON: %s' % line)
            continue
        k = line_key(a)
        g = want.get(k)
        if g is None:
            problems.append('alert for a group expected.json does not alert: %s' % line)
            continue
        if k in seen:
            problems.append('second alert for group %s: %s' % (k, line))
        seen.add(k)
        proto = PROTO[g['proto']]
        checks = [('Protocol', proto), ('Suspicion', LEVEL[proto]), ('ConnectionCount', 2),
                  ('FirstSeen', us_iso(g['first_us'])), ('Rule', RULE[proto])]
        if g['count'] == 2:
            checks += [('@timestamp', us_iso(g['last_us'])), ('LastSeen', us_iso(g['last_us']))]
        for f, v in checks:
            if a.get(f) != v:
                problems.append('alert %s: %s = %s, expected.json says %s'
                                % (k, f, json.dumps(a.get(f)), json.dumps(v)))
        ts = a.get('@timestamp', '')
        if not (us_iso(g['first_us']) < ts <= us_iso(g['last_us'])):
            problems.append('alert %s: @timestamp %s outside (first, last] = (%s, %s]'
                            % (k, ts, g['first_ts'], g['last_ts']))
    for k in want:
        if k not in seen:
            problems.append('no alert for group %s (count %d in expected.json)' % (k, want[k]['count']))
    return problems


# ------------------------------------------------------- record oracle ----

def tshark_syns(pcap):
    """[(ns, fold key, record)] for every SYN without ACK, packet order."""
    cmd = ['tshark', '-n', '-r', pcap, '-Y', SYN_FILTER, '-T', 'fields',
           '-E', 'occurrence=a', '-E', 'aggregator=,',
           '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst',
           '-e', 'ipv6.dst', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw',
           '-e', 'ieee8021ad.id', '-e', 'vlan.id']
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError('tshark failed on %s' % pcap)
    out = []
    for line in p.stdout.decode().splitlines():
        t, s4, s6, d4, d6, sp, dp, isn, qinq, vl = line.split('\t')
        ns = rq.epoch_ns(t)
        src, dst = (s4 or s6).split(',')[-1], (d4 or d6).split(',')[-1]
        # tshark names an 802.1ad (0x88a8) tag ieee8021ad.id and an 802.1Q one
        # vlan.id; the generator puts 0x88a8 only outermost
        vlans = [int(v) for v in (qinq.split(',') if qinq else []) + (vl.split(',') if vl else [])]
        rec = rq.make_record(ns, src, int(sp), dst, int(dp), vlans)
        key = (rq.canon_addr(src), rq.canon_addr(dst), int(sp), int(dp), int(isn))
        out.append((ns, key, rec))
    return out


def whole_capture_groups(records):
    """(src, dst, dport) -> [count, first_us, last_us] over every counted record."""
    g = {}
    for s in rq.counted(records):
        k = (rq.local_addr(s.rec), rq.remote_addr(s.rec), s.rec['RemotePort'])
        us = s.ns // 1000
        e = g.get(k)
        if e is None:
            g[k] = [1, us, us]
        else:
            e[0] += 1
            e[1] = min(e[1], us)
            e[2] = max(e[2], us)
    return g


def check_records_vs_truth(name, records, nsyn, doc):
    problems = []
    if nsyn != doc['totals']['syn']:
        problems.append('%s: tshark finds %d SYNs, expected.json totals.syn = %d'
                        % (name, nsyn, doc['totals']['syn']))
    mine = whole_capture_groups(records)
    theirs = {group_key(g): [g['count'], g['first_us'], g['last_us']] for g in doc['groups']}
    if mine != theirs:
        diff = [k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)]
        problems.append('%s: record oracle and expected.json disagree on %d groups, e.g. %s: %s vs %s'
                        % (name, len(diff), diff[0], mine.get(diff[0]), theirs.get(diff[0])))
    return problems


# ----------------------------------------------------------- brokerwatch ----

def run_bw(bw, pcaps, outdir, tag, extra=()):
    """Runs BIN -q --stats -r ... writing records/alerts/report to files."""
    paths = {k: os.path.join(outdir, '%s.%s' % (tag, k)) for k in ('records', 'alerts', 'report')}
    cmd = [bw, '-q', '--stats']
    for p in pcaps:
        cmd += ['-r', p]
    cmd += ['--records', paths['records'], '--alerts', paths['alerts'],
            '--report-json', paths['report'], '--no-report'] + list(extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    res = {'rc': p.returncode, 'stdout': p.stdout, 'stderr': p.stderr}
    for k, path in paths.items():
        try:
            with open(path, 'rb') as f:
                res[k] = f.read()
        except OSError:
            res[k] = None
    return res


def lines(b):
    return [] if b is None else b.decode('utf-8', 'replace').splitlines()


def stats_of(res):
    return stats_json(res['stderr'].decode('utf-8', 'replace'))


def run_problems(res, what):
    p = []
    if res['rc'] != 0:
        p.append('%s: exit %d (%s)' % (what, res['rc'],
                                       res['stderr'].decode('utf-8', 'replace').strip()[-300:]))
    for k in ('alerts', 'report'):
        if res[k] is None:
            p.append('%s: no --%s file written' % (what, k))
    return p


def main():
    ap = argparse.ArgumentParser(description='generated workloads: report and alerts')
    ap.add_argument('--brokerwatch', required=True)
    ap.add_argument('--gen', required=True)
    ap.add_argument('--packets', type=int, default=200000)
    ap.add_argument('--keep', help='write the workloads here and keep them')
    ap.add_argument('--strict-time-order', action='store_true',
                    help='fail when alerts differ from the literal contract in streams '
                         'whose time goes back within a group')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args()
    if not os.path.isfile(a.gen):
        print('SKIP: workload generator %s not found' % a.gen)
        return SKIP
    if shutil.which('tshark') is None:
        print('FAIL: tshark is needed for the record oracle')
        return 1
    tmp = a.keep or tempfile.mkdtemp(prefix='bw-workload-')
    os.makedirs(tmp, exist_ok=True)
    suite = Suite(a.verbose)
    try:
        specs = {
            'A': ['--packets', str(a.packets), '--seed', '1'],
            'B': ['--packets', str(a.packets), '--seed', '2'],
            'A7': ['--packets', str(a.packets), '--seed', '1', '--start', str(START + 7 * 3600)],
            'A31': ['--packets', str(a.packets), '--seed', '1', '--start', str(START + 31 * 3600)],
            'C': ['--packets', '100000', '--seed', '3', '--span-hours', '30'],
        }
        pcap, doc, recs, latest = {}, {}, {}, {}
        for name, args in specs.items():
            pcap[name] = os.path.join(tmp, name + '.pcap')
            p = subprocess.run([sys.executable, a.gen, '--quiet', '--out', pcap[name]] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
            if p.returncode != 0:
                print('FAIL: generator %s: %s' % (' '.join(args), p.stderr.decode()[-300:]))
                return 1
            with open(pcap[name] + '.expected.json') as f:
                doc[name] = json.load(f)
            syns = tshark_syns(pcap[name])
            recs[name] = rq.fold(syns)
            t = doc[name]['totals']
            latest[name] = rq.epoch_ns(t['last_packet_ts'])
            suite.case('%s: record oracle (tshark) agrees with expected.json' % name,
                       check_records_vs_truth(name, recs[name], len(syns), doc[name]) +
                       (['%s: %d SYNs folded as retransmissions (none expected)'
                         % (name, len(syns) - len(recs[name]))]
                        if len(syns) != len(recs[name]) else []),
                       ['%d SYNs, %d groups, %d alert groups' %
                        (len(syns), t['groups'], t['alert_groups'])])

        def oracle(names):
            rs = [r for n in names for r in recs[n]]
            lat = max(latest[n] for n in names)
            notes = []
            rep = [rq.dumps(x) for x in rq.report(rs, lat)]
            als = rq.alerts(rs, notes=notes)
            al = [rq.dumps(x) for x in als]
            return rep, al, notes, [rq.alert_text(x) for x in als]

        results = {}

        def compare(names, tag, strict_alerts=True):
            res = run_bw(a.brokerwatch, [pcap[n] for n in names], tmp, tag)
            results[tag] = res
            rep, al, notes, txt = oracle(names)
            probs = run_problems(res, tag)
            probs += rq.diff_lines('report rows vs oracle', rep, lines(res['report']))
            ad = rq.diff_lines('alerts vs oracle', al, lines(res['alerts']))
            # every machine output goes to a file and --no-report: stdout holds
            # exactly the ALERT lines of outputs.stdout
            ad += rq.diff_lines('stdout ALERT lines vs oracle', txt, lines(res['stdout']))
            info = ['%d rows, %d alerts expected' % (len(rep), len(al))]
            if strict_alerts or not notes:
                probs += ad
            elif ad:
                print('  DIFFERENCE (not failed; --strict-time-order fails it) %s: alerts differ '
                      'from the literal contract where time goes back within a group:' % tag)
                for l in ad[:7]:
                    print('    ' + l)
            info += ['note: ' + n for n in notes[:3]]
            if len(names) == 1:
                want_recs = [rq.dumps({k: v for k, v in r.items() if not k.startswith('_')})
                             for r in recs[names[0]]]
                probs += rq.diff_lines('--records vs tshark records', want_recs,
                                       lines(res['records']), limit=5)
            st = stats_of(res)
            if st is not None:
                n_counted = len(rq.counted([r for n in names for r in recs[n]]))
                checks = [('counted', n_counted)]
                if strict_alerts or not notes:
                    checks.append(('alerts', len(al)))
                for k, want in checks:
                    if k in st and st[k] != want:
                        probs.append('--stats %s = %s, want %d' % (k, st[k], want))
            return probs, info, rep, al

        # 6 h workloads: expected.json exactly, then the oracle
        for name in ('A', 'B'):
            d = doc[name]
            lo = rq.epoch_ns(d['totals']['last_packet_ts']) // 1000 - WINDOW_US
            assert int(d['totals']['first_packet_ts'].replace('.', '')) >= lo
            probs, info, rep, al = compare([name], name)
            want_rows, _ = truth_rows(d)
            probs += rq.diff_lines('report rows vs expected.json', want_rows,
                                   lines(results[name]['report']))
            probs += truth_alert_checks(d, lines(results[name]['alerts']))
            probs += rq.diff_lines('oracle report vs expected.json (oracle self-check)',
                                   want_rows, rep)
            suite.case('%s (6 h): report and alerts' % name, probs, info)

        # 30 h workload: expected.json where exact, oracle for everything
        d = doc['C']
        last_us = rq.epoch_ns(d['totals']['last_packet_ts']) // 1000
        lo = last_us - WINDOW_US
        probs, info, rep, al = compare(['C'], 'C')
        want_rows, inexact = truth_rows(d, lo, last_us)
        got = lines(results['C']['report'])
        inexact_keys = {group_key(g) for g in inexact}

        def exact_only(ls):
            out = []
            for l in ls:
                try:
                    o = json.loads(l)
                except ValueError:
                    out.append(l)
                    continue
                if line_key(o) not in inexact_keys:
                    out.append(l)
            return out
        probs += rq.diff_lines('report rows vs expected.json (groups inside the window)',
                               want_rows, exact_only(got))
        probs += rq.diff_lines('oracle vs expected.json (oracle self-check)',
                               want_rows, exact_only(rep))
        whole = [g for g in d['groups'] if g['count'] > 1]
        info.append('%d groups alert over the whole capture, %d rows in the last 24 h, '
                    '%d groups straddle the window start' % (len(whole), len(rep), len(inexact)))
        suite.case('C (30 h, sliding window): report and alerts', probs, info)

        # determinism
        probs = []
        runs = [results['A']] + [run_bw(a.brokerwatch, [pcap['A']], tmp, 'A-again%d' % i)
                                 for i in (1, 2)]
        for i, r in enumerate(runs[1:], 1):
            for k in ('records', 'alerts', 'report', 'stdout', 'stderr', 'rc'):
                if r[k] != runs[0][k]:
                    probs.append('run %d differs from run 0 in %s' % (i + 1, k))
        st = stats_of(runs[0])
        if st is None:
            probs.append('no --stats JSON on stderr')
        suite.case('A: three runs give identical bytes (records, alerts, report, stats)', probs)

        # streams
        probs, info, _, _ = compare(['A', 'A7'], 'A+A7')
        a_al = lines(results['A']['alerts'])
        got = lines(results['A+A7']['alerts'])
        if got[:len(a_al)] != a_al:
            probs.append('-r A -r A7: A\'s alerts are not a prefix of the stream\'s alerts')
        # each group: 2x A's count
        want2 = {}
        for g in doc['A']['groups']:
            want2[group_key(g)] = 2 * g['count']
        for l in lines(results['A+A7']['report']):
            o = json.loads(l)
            k = line_key(o)
            if want2.get(k) != o['ConnectionCount']:
                probs.append('-r A -r A7: group %s count %s, want 2 x A = %s'
                             % (k, o['ConnectionCount'], want2.get(k)))
        if len(lines(results['A+A7']['report'])) != len(want2):
            probs.append('-r A -r A7: %d rows, want every group of A (%d)'
                         % (len(lines(results['A+A7']['report'])), len(want2)))
        suite.case('-r A -r A7 (+7 h): windows carry across files', probs, info)

        probs, info, _, _ = compare(['A31'], 'A31')
        p2, info2, _, _ = compare(['A', 'A31'], 'A+A31')
        probs += p2
        info += info2
        if results['A+A31']['report'] != results['A31']['report']:
            probs.append('-r A -r A31: report differs from -r A31 alone')
        if lines(results['A+A31']['alerts']) != lines(results['A']['alerts']) + \
                lines(results['A31']['alerts']):
            probs.append('-r A -r A31: alerts are not A\'s followed by A31\'s')

        def shift(ls, hours):
            out = []
            for l in ls:
                o = json.loads(l)
                for k in ('@timestamp', 'FirstSeen', 'LastSeen'):
                    if k in o:
                        o[k] = rq.iso(rq.parse_iso(o[k]) + hours * rq.HOUR_NS)
                out.append(rq.dumps(o))
            return out
        if shift(lines(results['A']['report']), 31) != lines(results['A31']['report']):
            probs.append('report of A31 is not report of A shifted by 31 h')
        if shift(lines(results['A']['alerts']), 31) != lines(results['A31']['alerts']):
            probs.append('alerts of A31 are not alerts of A shifted by 31 h')
        suite.case('-r A -r A31 (+31 h): the window empties between files', probs, info)

        # time going back 7 h between files: the report still holds; the
        # alerts follow the contract's literal "[t - 24h, t]" only with
        # --strict-time-order (else a difference is shown, not failed)
        probs, info, _, _ = compare(['A7', 'A'], 'A7+A', strict_alerts=a.strict_time_order)
        if results['A7+A']['report'] != results['A+A7']['report']:
            probs.append('report of -r A7 -r A differs from -r A -r A7')
        suite.case('-r A7 -r A (time goes back 7 h between files): same report', probs, info)

        probs, info, _, _ = compare(['A', 'B'], 'A+B', strict_alerts=a.strict_time_order)
        p2, info2, _, _ = compare(['B', 'A'], 'B+A', strict_alerts=a.strict_time_order)
        probs += p2
        info += info2
        if results['A+B']['report'] != results['B+A']['report']:
            probs.append('report of -r A -r B differs from -r B -r A')
        suite.case('-r A -r B / -r B -r A (overlapping times): same report', probs, info)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return suite.finish()


if __name__ == '__main__':
    sys.exit(main())
