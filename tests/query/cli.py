#!/usr/bin/env python3
"""cli.py - the configuration-facing behaviour of brokerwatch, and the engine's
semantics on small captures made here.

    cli.py --brokerwatch BIN --conf CONF_DIR [-v] [-k PATTERN]

CONF_DIR is the project's conf/ (brokerwatch.yaml).  Captures and configs are
written to a temporary directory (classic pcap, Ethernet, IPv4/IPv6 TCP SYNs;
documentation addresses 203.0.113.0/24, 198.51.100.0/24, 2001:db8::/32 as the
internet, 10.x inside), never into the repository.  Every expectation comes
from refquery.py (the reference query and the alert rules), never from
brokerwatch.

Checks:
  config  -n on conf/brokerwatch.yaml: "configuration OK", exit 0.  -n -c a
          file with a typo'd key / a bad CIDR / a bad regex / several errors:
          exit 78 and a "FILE:LINE:" message for each (every error, not the
          first only).  -c a missing file: 78.  A replay with a bad config
          processes nothing (78).  --dump-config (no -c) equals --dump-config
          -c conf/brokerwatch.yaml; the dump reads back (-n OK) to the same
          dump; a custom file shows in the dump.
  outcome the same capture under the default config and under custom ones
          (threshold 3; window 1h; inventory names grouping two addresses;
          a rule demoting a destination to low; alert_levels [high] dropping
          AMQP; an extra excluded destination; home_net): report rows
          (--report-json) and alerts (--alerts) byte for byte vs the oracle,
          and the --stats counters alerts/counted/watched/excluded.
  stdout  with --report-json - / --alerts - / --records - stdout is only JSON
          lines (no table, no ALERT lines); without them stdout has the ALERT
          lines (exact logfmt) and the summary table listing the same groups
          and "N groups"; --no-report drops the table.
  engine  default config on made-up traffic: both ends of the 24 h window;
          re-arming after the count fell below 2; realert after 24 h of
          continuous traffic; the report's window ends at the latest packet
          of any kind (a trailing non-SYN packet); exclusion edges (IPv4 and
          the IPv6 additions); retransmitted SYNs folded (130 s); sort order
          and its tie-breaks (FirstSeen, ComputerName and RemoteAddress as
          text, RemotePort as a number); VlanId of the firing connection;
          IPv6 alerts.

Exit: 0 all passed, 1 a mismatch, 77 CONF_DIR/brokerwatch.yaml is missing.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, os.pardir, 'pylib')]
import refquery as rq  # noqa: E402
from bwtest import SKIP, Suite, short, stats_json  # noqa: E402

TIMEOUT = 120
S = rq.NS
MIN = 60 * S
H = rq.HOUR_NS
T0 = 1790000000 * S          # 2026-09-21T...; any fixed time works


# ------------------------------------------------------------ pcap writer ----

def _csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def frame(src, dst, sport, dport, flags=0x02, seq=0, vlans=(), proto=6):
    """Ethernet [+ 802.1Q tags] + IPv4/IPv6 + TCP (or UDP when proto 17)."""
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    v6 = len(s) == 16
    if proto == 6:
        opts = struct.pack('!BBH', 2, 4, 1460)               # MSS
        l4 = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, (5 + 1) << 4, flags,
                         64240, 0, 0) + opts
    else:
        l4 = struct.pack('!HHHH', sport, dport, 8 + 4, 0) + b'\x12\x34\x01\x00'
    pseudo = (s + d + struct.pack('!IxxxB', len(l4), proto)) if v6 else \
        (s + d + struct.pack('!xBH', proto, len(l4)))
    c = _csum(pseudo + l4)
    off = 16 if proto == 6 else 6
    l4 = l4[:off] + struct.pack('!H', c) + l4[off + 2:]
    if v6:
        ip = struct.pack('!IHBB', 6 << 28, len(l4), proto, 64) + s + d
        etype = 0x86dd
    else:
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0, s, d)
        ip = hdr[:10] + struct.pack('!H', _csum(hdr)) + hdr[12:]
        etype = 0x0800
    eth = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01'
    for vid in vlans:
        eth += struct.pack('!HH', 0x8100, vid & 0xfff)
    return eth + struct.pack('!H', etype) + ip + l4


def write_pcap(path, packets, nano=False):
    """packets: [(ns, frame bytes)] written in the order given (µs or ns pcap)."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0,
                            262144, 1))
        for ns, fr in packets:
            sec, rem = divmod(ns, S)
            f.write(struct.pack('<IIII', sec, rem if nano else rem // 1000, len(fr), len(fr)))
            f.write(fr)


class Traffic:
    """Made-up SYNs (and other packets): writes the pcap, gives the records."""

    def __init__(self, nano=False, keep_order=False):
        self.nano = nano                # ns pcap (else µs: times are truncated)
        self.keep_order = keep_order    # write packets as given, not time-sorted
        self.pkts = []          # (ns, frame, syn tuple or None)
        self._sport = 40000
        self._isn = 1000

    def syn(self, ns, src, dst, dport, vlans=(), sport=None, isn=None):
        if sport is None:
            self._sport += 1
            sport = self._sport
        if isn is None:
            self._isn += 7919
            isn = self._isn
        self.pkts.append((ns, frame(src, dst, sport, dport, 0x02, isn, vlans),
                          (src, sport, dst, dport, isn, tuple(vlans))))
        return sport, isn

    def other(self, ns, src, dst, udp=True):
        """A packet that is not a SYN (a UDP datagram or a TCP ACK)."""
        fr = frame(src, dst, 5353, 53, proto=17) if udp else \
            frame(src, dst, 40000, 443, flags=0x10, seq=1)
        self.pkts.append((ns, fr, None))

    def ordered(self):
        """Packets in time order (stable: equal times keep the order given)."""
        if self.keep_order:
            return list(self.pkts)
        return sorted(self.pkts, key=lambda p: p[0])

    def write(self, path):
        write_pcap(path, [(ns, fr) for ns, fr, _ in self.ordered()], self.nano)
        return path

    def records(self):
        syns = []
        for ns, _, t in self.ordered():
            if t is None:
                continue
            src, sport, dst, dport, isn, vlans = t
            if not self.nano:
                ns -= ns % 1000
            rec = rq.make_record(ns, src, sport, dst, dport, vlans)
            syns.append((ns, (rq.canon_addr(src), rq.canon_addr(dst), sport, dport, isn), rec))
        return rq.fold(syns)

    def latest(self):
        if not self.pkts:
            return 0
        ns = max(ns for ns, _, _ in self.pkts)
        return ns if self.nano else ns - ns % 1000


# ------------------------------------------------------------- running ----

class Ctx(Suite):
    def __init__(self, bw, conf, tmp, verbose):
        super().__init__(verbose)
        self.bw, self.conf, self.tmp = bw, conf, tmp

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, args):
        p = subprocess.run([self.bw] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        return (p.returncode, p.stdout.decode('utf-8', 'replace'),
                p.stderr.decode('utf-8', 'replace'))


def expected_stats(records, cfg, n_alerts):
    watched = excluded = 0
    levels = {'high': 0, 'medium': 0, 'low': 0}
    counted = 0
    for r in records:
        proto = cfg._port_proto.get(r['RemotePort'])
        if proto is None:
            continue
        watched += 1
        s = cfg.score(r)
        if s is None:
            excluded += 1
            continue
        levels[s[1]] += 1
        if s[1] in cfg.alert_levels:
            counted += 1
    return {'watched': watched, 'excluded': excluded, 'scored_high': levels['high'],
            'scored_medium': levels['medium'], 'scored_low': levels['low'],
            'counted': counted, 'alerts': n_alerts}


def check_replay(ctx, name, traffic, cfg=rq.DEFAULT, conf_path=None, pcap=None, info=(),
                 alerts=True):
    """Report rows, alerts and counters of one capture vs the oracle."""
    if pcap is None:
        pcap = traffic.write(ctx.path(re.sub(r'\W+', '_', name) + '.pcap'))
    recs = traffic.records()
    want_rep = [rq.dumps(r) for r in rq.report(recs, traffic.latest(), cfg)]
    want_al = [rq.dumps(a) for a in rq.alerts(recs, cfg)]
    cargs = ['-c', conf_path] if conf_path else []
    probs = []
    rep_f, al_f = ctx.path('out.report'), ctx.path('out.alerts')
    for f in (rep_f, al_f):
        if os.path.exists(f):
            os.unlink(f)
    rc, out, err = ctx.run(['-q', '--stats', '-r', pcap] + cargs +
                           ['--report-json', rep_f, '--alerts', al_f, '--no-report'])
    if rc != 0:
        probs.append('exit %d, want 0 (%s)' % (rc, short(err)))
    got_rep = open(rep_f).read().splitlines() if os.path.exists(rep_f) else ['<no file>']
    got_al = open(al_f).read().splitlines() if os.path.exists(al_f) else ['<no file>']
    probs += rq.diff_lines('report rows', want_rep, got_rep)
    if alerts:
        probs += rq.diff_lines('alerts', want_al, got_al)
    st = stats_json(err)
    if st is None:
        probs.append('no --stats JSON on stderr (%s)' % short(err))
    else:
        for k, v in expected_stats(recs, cfg, len(want_al)).items():
            if k == 'alerts' and not alerts:
                continue
            if st.get(k) != v:
                probs.append('--stats %s = %s, want %d' % (k, st.get(k, '<absent>'), v))
    ctx.case(name, probs, list(info) + ['rows: %d, alerts: %d' % (len(want_rep), len(want_al))]
             + ['row   ' + l for l in want_rep] + ['alert ' + l for l in want_al])
    return want_rep, want_al


# ---------------------------------------------------------- the capture ----

def base_traffic():
    """One capture whose outcome every custom config below changes."""
    t = Traffic()
    # MQTT, 3 connections in 20 min: alerts (default), and with threshold 3
    for k in range(3):
        t.syn(T0 + k * 10 * MIN, '10.1.10.27', '203.0.113.50', 8883)
    # MQTT to a public sandbox: a rule demotes 203.0.113.7 to low
    t.syn(T0 + 5 * MIN, '10.1.10.30', '203.0.113.7', 1883)
    t.syn(T0 + 6 * MIN, '10.1.10.30', '203.0.113.7', 1883)
    # AMQP from two gateways, one connection each: one group with inventory
    t.syn(T0 + 1 * MIN, '10.1.20.5', '198.51.100.20', 5672)
    t.syn(T0 + 2 * H, '10.1.20.6', '198.51.100.20', 5672)
    # AMQP that alerts by default (medium): dropped by alert_levels [high]
    t.syn(T0 + 3 * H, '10.1.20.9', '198.51.100.21', 5671)
    t.syn(T0 + 3 * H + 40 * MIN, '10.1.20.9', '198.51.100.21', 5671)
    # STOMP 2 h apart: alerts with the 24 h window, not with a 1 h one
    t.syn(T0 + 4 * H, '10.1.10.32', '203.0.113.61', 61613)
    t.syn(T0 + 6 * H, '10.1.10.32', '203.0.113.61', 61613)
    # XMPP, tagged VLAN 30 then 20: the alert carries the firing one's (20)
    t.syn(T0 + 5 * H, '10.1.10.31', '203.0.113.60', 5222, vlans=(30,))
    t.syn(T0 + 5 * H + 30 * MIN, '10.1.10.31', '203.0.113.60', 5222, vlans=(20,))
    # IPv6 MQTT to the "internet" (2001:db8::/32 is not excluded)
    t.syn(T0 + 7 * H, '2001:db8:10::5', '2001:db8:ffff::1', 8883)
    t.syn(T0 + 7 * H + 1 * MIN, '2001:db8:10::5', '2001:db8:ffff::1', 8883)
    # MQTT over TLS to a second broker: a port+destination rule makes it medium
    t.syn(T0 + 7 * H + 30 * MIN, '10.1.10.34', '203.0.113.51', 8883)
    t.syn(T0 + 7 * H + 45 * MIN, '10.1.10.34', '203.0.113.51', 1883)
    t.syn(T0 + 7 * H + 50 * MIN, '10.1.10.34', '203.0.113.51', 8883)
    # Redis: not watched by default, a custom protocol makes it count
    t.syn(T0 + 7 * H + 5 * MIN, '10.1.10.33', '203.0.113.40', 6379)
    t.syn(T0 + 7 * H + 6 * MIN, '10.1.10.33', '203.0.113.40', 6379)
    # internal destinations: excluded
    t.syn(T0 + 8 * H, '10.1.10.27', '10.2.0.5', 1883)
    t.syn(T0 + 8 * H + 1 * MIN, '10.1.10.27', '10.2.0.5', 1883)
    t.syn(T0 + 8 * H, '2001:db8:10::5', 'fd12:3456::1', 1883)
    t.syn(T0 + 8 * H + 1 * MIN, '2001:db8:10::5', 'fd12:3456::1', 1883)
    # not a watched port
    for k in range(4):
        t.syn(T0 + 9 * H + k * S, '10.1.10.27', '203.0.113.50', 443)
    t.other(T0 + 10 * H, '10.1.10.27', '203.0.113.53')
    return t


DEFAULT_RULES_YAML = """\
  - name: xmpp-or-stomp
    protocol: [XMPP, STOMP]
    level: high
  - name: mqtt-unknown-client
    protocol: [MQTT]
    unless:
      image: '(?i)(mosquitto_pub|mosquitto_sub|mosquitto)(\\.exe)?$'
    level: high
  - name: amqp
    protocol: [AMQP]
    level: medium
  - name: default
    level: low
"""

SANDBOX_RULES = [{'name': 'sandbox', 'destination': ['203.0.113.7/32'], 'level': 'low'}] + \
    rq.Config().rules

CUSTOM = [
    ('threshold 3', 'threshold: 3\n', {'threshold': 3}),
    ('window 1h (realert 1h)', 'window: 1h\nrealert: 1h\n', {'window': '1h', 'realert': '1h'}),
    ('inventory (most specific wins; two gateways one group)',
     'inventory:\n  10.1.20.0/24: lab-gateways\n  10.1.10.27: ws01\n  10.1.0.0/16: campus\n'
     '  2001:db8:10::/48: v6-lab\n',
     {'inventory': {'10.1.20.0/24': 'lab-gateways', '10.1.10.27/32': 'ws01',
                    '10.1.0.0/16': 'campus', '2001:db8:10::/48': 'v6-lab'}}),
    ('rule demoting a sandbox destination to low',
     'rules:\n  - name: sandbox\n    destination: [203.0.113.7/32]\n    level: low\n'
     + DEFAULT_RULES_YAML, {'rules': SANDBOX_RULES}),
    ('group_by without RemotePort (1883 and 8883 of one host merge)',
     'group_by: [ComputerName, RemoteAddress, Protocol, Suspicion]\n',
     {'group_by': ['ComputerName', 'RemoteAddress', 'Protocol', 'Suspicion']}),
    ('a custom protocol with its rule',
     'protocols:\n  MQTT: [1883, 8883]\n  XMPP: [5222, 5223, 5269]\n  AMQP: [5672, 5671]\n'
     '  STOMP: [61613, 61614]\n  REDIS: [6379]\nrules:\n  - name: redis-pubsub\n'
     '    protocol: [REDIS]\n    level: high\n' + DEFAULT_RULES_YAML,
     {'protocols': rq.Config().protocols + [('REDIS', [6379])],
      'rules': [{'name': 'redis-pubsub', 'protocol': ['REDIS'], 'level': 'high'}]
      + rq.Config().rules}),
    ('a rule with port, destination and unless',
     'rules:\n  - name: mqtt-tls-known-broker\n    protocol: [MQTT]\n    port: [8883]\n'
     '    destination: [203.0.113.0/24]\n    unless:\n      destination: [203.0.113.50/32]\n'
     '    level: medium\n' + DEFAULT_RULES_YAML,
     {'rules': [{'name': 'mqtt-tls-known-broker', 'protocol': ['MQTT'], 'port': [8883],
                 'destination': ['203.0.113.0/24'],
                 'unless': {'destination': ['203.0.113.50/32']}, 'level': 'medium'}]
      + rq.Config().rules}),
    ('durations 90m and a plain number of seconds', 'window: 90m\nrealert: 5400\n',
     {'window': '90m', 'realert': 5400}),
    ('threshold 1: every first connection alerts', 'threshold: 1\n', {'threshold': 1}),
    ('alert_levels with low: the demoted sandbox alerts as low',
     'alert_levels: [high, medium, low]\nrules:\n  - name: sandbox\n'
     '    destination: [203.0.113.7/32]\n    level: low\n' + DEFAULT_RULES_YAML,
     {'alert_levels': ['high', 'medium', 'low'], 'rules': SANDBOX_RULES}),
    ('alert_levels [high] drops AMQP', 'alert_levels: [high]\n', {'alert_levels': ['high']}),
    ('an extra excluded destination',
     'exclude_destinations:\n  - 10.0.0.0/8\n  - 172.16.0.0/12\n  - 192.168.0.0/16\n'
     '  - 127.0.0.0/8\n  - ::1/128\n  - fc00::/7\n  - fe80::/10\n  - 203.0.113.48/29\n',
     {'exclude': rq.Config().exclude + ['203.0.113.48/29']}),
    ('home_net 10.1.10.0/24 only', 'home_net: [10.1.10.0/24]\n', {'home_net': ['10.1.10.0/24']}),
]


# --------------------------------------------------------------- config ----

def config_cases(ctx):
    conf = os.path.join(ctx.conf, 'brokerwatch.yaml')
    rc, out, err = ctx.run(['-n', '-c', conf])
    ctx.case('-n -c conf/brokerwatch.yaml: configuration OK',
             ([] if rc == 0 else ['exit %d, want 0 (%s)' % (rc, short(err + out))]) +
             ([] if 'configuration OK' in out else
              ['stdout lacks "configuration OK": %s' % short(out)]))
    if not os.path.exists('/etc/brokerwatch/brokerwatch.yaml'):
        rc, out, err = ctx.run(['-n'])
        ctx.case('-n (built-in defaults): configuration OK',
                 ([] if rc == 0 else ['exit %d (%s)' % (rc, short(err + out))]) +
                 ([] if 'configuration OK' in out else ['stdout: %s' % short(out)]))

    bad = {
        'typo': ('# a typo never switches a detection off\nthreshold: 2\nthresold: 3\n',
                 [3]),
        'cidr': ('exclude_destinations:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n  - 300.1.2.0/24\n',
                 [3, 4]),
        'regex': ('rules:\n  - name: bad-regex\n    protocol: [MQTT]\n    unless:\n'
                  '      image: \'(?i)(mosquitto\'\n    level: high\n', [5]),
        'several': ('window: 24h\nthresold: 3\nhome_net: [10.0.0.0/40]\nrules:\n'
                    '  - name: r\n    image: \'[a-\'\n    level: high\nalert_levels: [high]\n',
                    [2, 3, 6]),
        'level': ('alert_levels: [high, critical]\n', [1]),
        'protocol': ('rules:\n  - name: r\n    protocol: [MQQT]\n    level: high\n', [3]),
        'port': ('protocols:\n  MQTT: [1883, 70000]\n', [2]),
    }
    for name, (text, lines) in bad.items():
        path = ctx.path('bad-%s.yaml' % name)
        with open(path, 'w') as f:
            f.write(text)
        rc, out, err = ctx.run(['-n', '-c', path])
        both = out + err
        probs = []
        if rc != 78:
            probs.append('exit %d, want 78' % rc)
        for ln in lines:
            if '%s:%d:' % (path, ln) not in both:
                probs.append('no "%s:%d:" message' % (os.path.basename(path), ln))
        if 'configuration OK' in out:
            probs.append('says "configuration OK"')
        if probs:
            probs.append('output: %s' % short(both))
        ctx.case('-n -c bad config (%s): 78 and FILE:LINE for lines %s' % (name, lines), probs)

    # a bad config on a replay: nothing processed
    t = base_traffic()
    pcap = t.write(ctx.path('base.pcap'))
    rep_f = ctx.path('bad.report')
    rc, out, err = ctx.run(['-q', '-c', ctx.path('bad-typo.yaml'), '-r', pcap,
                            '--report-json', rep_f, '--alerts', '-'])
    probs = []
    if rc != 78:
        probs.append('exit %d, want 78' % rc)
    if out.strip():
        probs.append('alerts written anyway: %s' % short(out))
    if os.path.exists(rep_f) and os.path.getsize(rep_f):
        probs.append('report written anyway')
    ctx.case('replay with a bad config: 78, nothing processed', probs)

    rc, out, err = ctx.run(['-n', '-c', ctx.path('no-such-config.yaml')])
    ctx.case('-c a missing file: 78', [] if rc == 78 else ['exit %d (%s)' % (rc, short(err))])

    # --dump-config
    if not os.path.exists('/etc/brokerwatch/brokerwatch.yaml'):
        rc1, d1, e1 = ctx.run(['--dump-config'])
        rc2, d2, e2 = ctx.run(['--dump-config', '-c', conf])
        probs = []
        if rc1 != 0 or rc2 != 0:
            probs.append('exit %d / %d (%s)' % (rc1, rc2, short(e1 + e2)))
        if d1 != d2:
            probs += rq.diff_lines('--dump-config vs --dump-config -c conf/brokerwatch.yaml',
                                   d2.splitlines(), d1.splitlines())
        if not d1.strip():
            probs.append('empty dump')
        dumped = ctx.path('dumped.yaml')
        with open(dumped, 'w') as f:
            f.write(d1)
        rc3, o3, e3 = ctx.run(['-n', '-c', dumped])
        if rc3 != 0 or 'configuration OK' not in o3:
            probs.append('the dump does not read back: exit %d (%s)' % (rc3, short(o3 + e3)))
        _, d4, _ = ctx.run(['--dump-config', '-c', dumped])
        if d4 != d1:
            probs += rq.diff_lines('dump of the dump', d1.splitlines(), d4.splitlines())
        for key in ('protocols', 'exclude_destinations', 'home_net', 'inventory', 'rules',
                    'alert_levels', 'group_by', 'window', 'threshold', 'realert',
                    'max_groups', 'max_events', 'outputs'):
            if not re.search(r'^%s:' % key, d1, re.M):
                probs.append('dump lacks top-level key %s' % key)
        ctx.case('--dump-config == --dump-config -c conf/brokerwatch.yaml, reads back', probs)

        custom = ctx.path('custom-dump.yaml')
        with open(custom, 'w') as f:
            f.write('threshold: 3\ninventory:\n  10.1.20.0/24: lab-gateways\n')
        rc5, d5, e5 = ctx.run(['--dump-config', '-c', custom])
        probs = []
        if rc5 != 0:
            probs.append('exit %d (%s)' % (rc5, short(e5)))
        if not re.search(r'^threshold:\s*3\s*$', d5, re.M):
            probs.append('threshold 3 not in the dump')
        if 'lab-gateways' not in d5 or '10.1.20.0/24' not in d5:
            probs.append('inventory entry not in the dump')
        if d5 == d1:
            probs.append('dump of a custom file equals the default dump')
        ctx.case('--dump-config -c custom shows the custom values', probs)

        # what realert becomes when only window is given (informational)
        wonly = ctx.path('window-only.yaml')
        with open(wonly, 'w') as f:
            f.write('window: 1h\n')
        _, d6, _ = ctx.run(['--dump-config', '-c', wonly])
        m = re.search(r'^realert:\s*(.*)$', d6, re.M)
        print('info: with only "window: 1h" the dump says realert: %s'
              % (m.group(1) if m else '<absent>'))


# -------------------------------------------------------------- outcome ----

def outcome_cases(ctx):
    t = base_traffic()
    pcap = t.write(ctx.path('base.pcap'))
    base_rep, base_al = check_replay(ctx, 'default config on the base capture', t, pcap=pcap)
    for name, yaml_text, kw in CUSTOM:
        cfg = rq.Config(**kw)
        path = ctx.path('custom-%s.yaml' % re.sub(r'\W+', '_', name))
        with open(path, 'w') as f:
            f.write(yaml_text)
        rep, al = check_replay(ctx, 'custom config: %s' % name, t, cfg=cfg, conf_path=path,
                               pcap=pcap)
        if rep == base_rep and al == base_al:
            # the oracle must see a change, else the case proves nothing
            ctx.case('custom config %s changes the outcome (oracle self-check)' % name,
                     ['the oracle gives the same outcome as the default'])

    # outputs: a JSON file of alerts, and no stdout sink
    recs = t.records()
    want = [rq.dumps(x) for x in rq.alerts(recs)]
    jpath = ctx.path('alerts-sink.json')
    path = ctx.path('custom-outputs.yaml')
    with open(path, 'w') as f:
        f.write('outputs:\n  stdout: false\n  json: "%s"\n' % jpath)
    rc, out, err = ctx.run(['-q', '-c', path, '-r', pcap, '--no-report'])
    probs = [] if rc == 0 else ['exit %d (%s)' % (rc, short(err))]
    if out.strip():
        probs.append('outputs.stdout false, yet stdout has: %s' % short(out))
    got = open(jpath).read().splitlines() if os.path.exists(jpath) else ['<no file>']
    probs += rq.diff_lines('outputs.json file', want, got)
    ctx.case('outputs: json file gets the alerts, stdout: false prints none', probs)

    # memory bound: informational (eviction order is not in the contract)
    path = ctx.path('custom-maxgroups.yaml')
    with open(path, 'w') as f:
        f.write('max_groups: 2\n')
    rc, out, err = ctx.run(['-q', '--stats', '-c', path, '-r', pcap, '--report-json', '-'])
    st = stats_json(err) or {}
    probs = [] if rc in (0, 78) else ['exit %d (%s)' % (rc, short(err))]
    if rc == 0 and not st.get('groups_evicted'):
        probs.append('max_groups 2 with %d groups: groups_evicted = %s'
                     % (len(rq.counted(recs)), st.get('groups_evicted')))
    ctx.case('max_groups 2: runs, evictions counted', probs,
             ['exit %d, groups %s, groups_evicted %s, rows %d'
              % (rc, st.get('groups'), st.get('groups_evicted'), len(out.splitlines()))])


# --------------------------------------------------------------- stdout ----

def stdout_cases(ctx):
    t = base_traffic()
    pcap = t.write(ctx.path('base.pcap'))
    recs = t.records()
    rows = rq.report(recs, t.latest())
    al = rq.alerts(recs)
    for opt in ('--report-json', '--alerts', '--records'):
        rc, out, err = ctx.run(['-q', '-r', pcap, opt, '-'])
        probs = [] if rc == 0 else ['exit %d (%s)' % (rc, short(err))]
        ls = out.splitlines()
        for l in ls:
            try:
                json.loads(l)
            except ValueError:
                probs.append('not a JSON line on stdout: %s' % l[:200])
                break
        if any(l.startswith('ALERT') for l in ls):
            probs.append('ALERT lines on stdout')
        want = {'--report-json': len(rows), '--alerts': len(al), '--records': len(recs)}[opt]
        if len(ls) != want:
            probs.append('%d lines, want %d' % (len(ls), want))
        ctx.case('%s -: stdout stays machine-readable' % opt, probs)

    rc, out, err = ctx.run(['-r', pcap])
    probs = [] if rc == 0 else ['exit %d (%s)' % (rc, short(err))]
    ls = out.splitlines()
    alert_lines = [l for l in ls if l.startswith('ALERT ')]
    want_text = [rq.alert_text(a) for a in al]
    probs += rq.diff_lines('ALERT lines on stdout', want_text, alert_lines)
    rest = [l for l in ls if not l.startswith('ALERT ')]
    hdr = [i for i, l in enumerate(rest)
           if all(c in l for c in ('ComputerName', 'RemotePort', 'ConnectionCount',
                                   'FirstSeen', 'LastSeen', 'Suspicion'))]
    if not hdr:
        probs.append('no summary table header with the column names: %s' % short(out))
    else:
        body = rest[hdr[0] + 1:]
        m = [re.match(r'^\s*(\d+) groups?\b', l) for l in body]
        nlines = [x for x in m if x]
        if not nlines or int(nlines[-1].group(1)) != len(rows):
            probs.append('no "%d groups" line after the table' % len(rows))
        table = [l for l in body if l.strip() and not re.match(r'^\s*\d+ groups?\b', l)
                 and not set(l.strip()) <= set('-=+| ')]
        if len(table) != len(rows):
            probs.append('table has %d rows, want %d' % (len(table), len(rows)))
        for r in rows:
            raddr = r.get('RemoteAddressIP4', r.get('RemoteAddressIP6'))
            want = {r['ComputerName'], raddr, str(r['RemotePort']), str(r['ConnectionCount']),
                    r['Suspicion'], r['Protocol']}
            if not any(want <= set(l.split()) for l in table):
                probs.append('no table row has all of %s' % sorted(want))
    ctx.case('no machine output: ALERT lines (exact) and the summary table', probs,
             ['table: ' + l for l in ls])

    with open(pcap, 'rb') as f:
        p = subprocess.run([ctx.bw, '-q', '-r', '-', '--report-json', '-'], stdin=f,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    _, out2, _ = ctx.run(['-q', '-r', pcap, '--report-json', '-'])
    probs = [] if p.returncode == 0 else ['exit %d' % p.returncode]
    probs += rq.diff_lines('-r - vs -r FILE report', out2.splitlines(),
                           p.stdout.decode().splitlines())
    probs += rq.diff_lines('-r FILE report vs oracle', [rq.dumps(r) for r in rows],
                           out2.splitlines())
    ctx.case('-r - (stdin): the same report as -r FILE', probs)

    rc, out, err = ctx.run(['-r', pcap, '--no-report'])
    probs = [] if rc == 0 else ['exit %d (%s)' % (rc, short(err))]
    if any('ConnectionCount' in l and 'ComputerName' in l and not l.startswith('ALERT')
           for l in out.splitlines()) or re.search(r'^\s*\d+ groups?\b', out, re.M):
        probs.append('--no-report still prints the table: %s' % short(out))
    if [l for l in out.splitlines() if l.startswith('ALERT ')] != [rq.alert_text(a) for a in al]:
        probs.append('--no-report: ALERT lines differ')
    ctx.case('--no-report: no table, ALERT lines stay', probs)


# --------------------------------------------------------------- engine ----

def engine_cases(ctx):
    # both ends of the window: exactly 24 h apart counts 2
    t = Traffic()
    t.syn(T0, '10.3.0.1', '203.0.113.90', 5222)
    t.syn(T0 + 24 * H, '10.3.0.1', '203.0.113.90', 5222)
    check_replay(ctx, 'window: two connections exactly 24 h apart count 2', t)
    t = Traffic()
    t.syn(T0, '10.3.0.1', '203.0.113.90', 5222)
    t.syn(T0 + 24 * H + 1000, '10.3.0.1', '203.0.113.90', 5222)
    check_replay(ctx, 'window: 24 h + 1 us apart count 1 each', t)

    # nanosecond pcap: exactly 24 h counts, 24 h + 1 ns does not
    t = Traffic(nano=True)
    t.syn(T0 + 123456789, '10.3.0.1', '203.0.113.90', 5222)
    t.syn(T0 + 123456789 + 24 * H, '10.3.0.1', '203.0.113.90', 5222)
    check_replay(ctx, 'window (ns pcap): exactly 24 h apart count 2', t)
    t = Traffic(nano=True)
    t.syn(T0 + 123456789, '10.3.0.1', '203.0.113.90', 5222)
    t.syn(T0 + 123456789 + 24 * H + 1, '10.3.0.1', '203.0.113.90', 5222)
    check_replay(ctx, 'window (ns pcap): 24 h + 1 ns apart count 1 each', t)

    # packets out of time order in the file: the report's FirstSeen/LastSeen
    # are the min/max (alerts are not asserted: the contract's "[t-24h, t]"
    # with later connections already seen is left open)
    t = Traffic(keep_order=True)
    t.syn(T0 + 2 * H, '10.3.0.6', '203.0.113.94', 5222)
    t.syn(T0 + 1 * H, '10.3.0.6', '203.0.113.94', 5222)
    t.syn(T0 + 3 * H, '10.3.0.6', '203.0.113.94', 5222)
    t.syn(T0 + 30 * MIN, '10.3.0.6', '203.0.113.94', 5222)
    check_replay(ctx, 'out-of-order packets: report counts and min/max times', t, alerts=False)

    # realert exactly 24 h after the last alert ("has passed": t - last >= 24 h)
    t = Traffic()
    for k in range(27):
        t.syn(T0 + k * H, '10.3.0.7', '198.51.100.95', 61614)
    check_replay(ctx, 'realert exactly 24 h after the last alert', t)

    # a capture cut short inside a packet: exit 65, the report and alerts of
    # the packets before the damage (the cut packet's header time, 48 h
    # later, is not a packet time of the input)
    t = Traffic()
    t.syn(T0, '10.3.0.8', '203.0.113.96', 8883)
    t.syn(T0 + 1 * H, '10.3.0.8', '203.0.113.96', 8883)
    t.other(T0 + 2 * H, '10.3.0.8', '198.51.100.53')
    path = t.write(ctx.path('cut.pcap'))
    with open(path, 'ab') as f:
        sec = (T0 + 48 * H) // S
        f.write(struct.pack('<IIII', sec, 0, 100, 100) + b'\0' * 10)
    recs = t.records()
    want_rep = [rq.dumps(r) for r in rq.report(recs, t.latest())]
    want_al = [rq.dumps(a) for a in rq.alerts(recs)]
    probs = []
    rc, out, err = ctx.run(['-q', '-r', path, '--report-json', '-'])
    if rc != 65:
        probs.append('exit %d, want 65 (%s)' % (rc, short(err)))
    if 'cut.pcap' not in err or 'packet 4' not in err:
        probs.append('stderr does not name the file and "packet 4": %s' % short(err))
    probs += rq.diff_lines('report rows', want_rep, out.splitlines())
    rc, out, err = ctx.run(['-q', '-r', path, '--alerts', '-'])
    probs += rq.diff_lines('alerts', want_al, out.splitlines())
    ctx.case('damaged capture: 65, report and alerts of the packets before the damage', probs)

    # an empty capture (header only): no rows, no alerts, exit 0
    t = Traffic()
    check_replay(ctx, 'an empty capture', t)

    # re-arm after falling below the threshold; realert on continuous traffic
    t = Traffic()
    for at in (0, 1 * H, 30 * H, 31 * H, 31 * H + 10 * MIN):
        t.syn(T0 + at, '10.3.0.2', '203.0.113.91', 1883)
    step = 2 * H + 7 * MIN
    for k in range(26):                     # ~55 h, never below 2
        t.syn(T0 + k * step + 13 * S, '10.3.0.3', '198.51.100.91', 61614)
    rep, al = check_replay(ctx, 're-arm after the count fell below 2; realert after 24 h', t)
    n2 = sum(1 for a in al if '"10.3.0.2"' in a)
    n3 = sum(1 for a in al if '"10.3.0.3"' in a)
    ctx.case('re-arm/realert oracle self-check (2 and 3 alerts)',
             [] if (n2, n3) == (2, 3) else ['oracle gives %d and %d alerts' % (n2, n3)])

    # the report ends at the latest packet of any kind
    t = Traffic()
    t.syn(T0, '10.3.0.4', '203.0.113.92', 5269)
    t.syn(T0 + 1 * H, '10.3.0.4', '203.0.113.92', 5269)
    t.syn(T0 + 2 * H, '10.3.0.5', '203.0.113.93', 5269)
    t.syn(T0 + 3 * H, '10.3.0.5', '203.0.113.93', 5269)
    t.other(T0 + 24 * H + 30 * MIN, '10.3.0.9', '198.51.100.53')          # UDP
    t.other(T0 + 24 * H + 31 * MIN, '10.3.0.9', '198.51.100.54', udp=False)  # TCP ACK
    rep, _ = check_replay(ctx, 'report window ends at the latest packet (a non-SYN)', t)
    ctx.case('latest-packet oracle self-check (1 row)',
             [] if len(rep) == 1 and '10.3.0.5' in rep[0] else ['oracle rows %s' % rep])

    # exclusion edges, IPv4 and IPv6
    t = Traffic()
    dsts = ['10.255.255.255', '172.31.255.255', '192.168.255.255', '127.255.255.255',
            '172.15.255.255', '172.32.0.1', '192.169.0.1', '11.0.0.1', '126.255.255.255',
            '128.0.0.1', '9.255.255.255', '::1', 'fdff:ffff::1', 'fc00::1', 'fe80::1',
            'febf:ffff::1', 'fec0::1', '::2', 'fbff:ffff::1', '2001:db8::1']
    for i, d in enumerate(dsts):
        src = '2001:db8:10::%x' % (i + 1) if ':' in d else '10.4.0.%d' % (i + 1)
        t.syn(T0 + i * S, src, d, 8883)
        t.syn(T0 + i * S + 500 * 1000000, src, d, 8883)
    check_replay(ctx, 'exclusion edges (query IPv4 ranges and the IPv6 additions)', t,
                 info=['destinations: ' + ' '.join(dsts)])

    # retransmitted SYNs: same 4-tuple and ISN within 130 s fold, later do not
    t = Traffic()
    sp, isn = t.syn(T0, '10.3.1.1', '203.0.113.70', 5223)
    t.syn(T0 + 3 * S, '10.3.1.1', '203.0.113.70', 5223, sport=sp, isn=isn)
    t.syn(T0 + 9 * S, '10.3.1.1', '203.0.113.70', 5223, sport=sp, isn=isn)
    sp, isn = t.syn(T0 + 10 * MIN, '10.3.1.2', '203.0.113.71', 5223)
    t.syn(T0 + 10 * MIN + 120 * S, '10.3.1.2', '203.0.113.71', 5223, sport=sp, isn=isn)
    t.syn(T0 + 10 * MIN + 240 * S, '10.3.1.2', '203.0.113.71', 5223, sport=sp, isn=isn)
    sp, isn = t.syn(T0 + 20 * MIN, '10.3.1.3', '203.0.113.72', 5223)
    t.syn(T0 + 20 * MIN + 131 * S, '10.3.1.3', '203.0.113.72', 5223, sport=sp, isn=isn)
    sp, isn = t.syn(T0 + 30 * MIN, '10.3.1.4', '203.0.113.73', 5223)
    t.syn(T0 + 30 * MIN + 1 * S, '10.3.1.4', '203.0.113.73', 5223, sport=sp, isn=isn + 1)
    rep, al = check_replay(ctx, 'retransmitted SYNs fold (130 s from the previous SYN)', t)
    ctx.case('fold oracle self-check (10.3.1.3 and 10.3.1.4 alert only)',
             [] if sorted(json.loads(a)['ComputerName'] for a in al) == ['10.3.1.3', '10.3.1.4']
             else ['oracle alerts: %s' % al])

    # sort order and tie-breaks
    t = Traffic()
    for k in range(5):                       # medium with a big count: after every high
        t.syn(T0 + k * MIN, '10.5.0.1', '198.51.100.30', 5672)
    for k in range(3):
        t.syn(T0 + 2 * H + k * MIN, '10.5.0.2', '203.0.113.30', 1883)       # high, 3
    for src in ('10.5.0.9', '10.5.0.10'):    # same count, same FirstSeen: ComputerName text
        t.syn(T0 + 1 * H, src, '203.0.113.31', 1883)
        t.syn(T0 + 1 * H + S, src, '203.0.113.31', 1883)
    for dst in ('203.0.113.9', '203.0.113.10'):   # RemoteAddress as text
        t.syn(T0 + 1 * H, '10.5.0.8', dst, 1883)
        t.syn(T0 + 1 * H + S, '10.5.0.8', dst, 1883)
    for port in (61613, 8883):               # RemotePort as a number
        t.syn(T0 + 1 * H, '10.5.0.7', '203.0.113.11', port)
        t.syn(T0 + 1 * H + S, '10.5.0.7', '203.0.113.11', port)
    t.syn(T0 + 30 * MIN, '10.5.0.6', '203.0.113.12', 5222)      # earlier FirstSeen first
    t.syn(T0 + 3 * H, '10.5.0.6', '203.0.113.12', 5222)
    t.syn(T0 + 50 * MIN, '2001:db8:50::1', '2001:db8:ff::9', 61614)
    t.syn(T0 + 51 * MIN, '2001:db8:50::1', '2001:db8:ff::9', 61614, vlans=(100, 200))
    rep, _ = check_replay(ctx, 'report order: Suspicion, count desc, FirstSeen, names as text, '
                               'port as number', t)
    want_order = [('10.5.0.2', 3), ('10.5.0.6', 2), ('2001:db8:50::1', 2), ('10.5.0.10', 2),
                  ('10.5.0.7', 2), ('10.5.0.7', 2), ('10.5.0.8', 2), ('10.5.0.8', 2),
                  ('10.5.0.9', 2), ('10.5.0.1', 5)]
    got_order = [(json.loads(r)['ComputerName'], json.loads(r)['ConnectionCount']) for r in rep]
    p = [] if got_order == want_order else ['oracle order %s' % got_order]
    r7 = [json.loads(r)['RemotePort'] for r in rep if '"10.5.0.7"' in r]
    r8 = [json.loads(r)['RemoteAddressIP4'] for r in rep if '"10.5.0.8"' in r]
    if r7 != [8883, 61613] or r8 != ['203.0.113.10', '203.0.113.9']:
        p.append('oracle tie-breaks: ports %s addresses %s' % (r7, r8))
    ctx.case('sort oracle self-check (hand-made order)', p)


def main():
    ap = argparse.ArgumentParser(description='configuration-facing behaviour and engine semantics')
    ap.add_argument('--brokerwatch', required=True)
    ap.add_argument('--conf', required=True)
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('-k', help='only the groups of cases whose name contains this '
                               '(config, outcome, stdout, engine)')
    ap.add_argument('--keep', help='write captures and configs here and keep them')
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.conf, 'brokerwatch.yaml')):
        print('SKIP: %s/brokerwatch.yaml not found' % a.conf)
        return SKIP
    tmp = a.keep or tempfile.mkdtemp(prefix='bw-cli-')
    os.makedirs(tmp, exist_ok=True)
    ctx = Ctx(os.path.abspath(a.brokerwatch), os.path.abspath(a.conf), tmp, a.verbose)
    try:
        for name, fn in (('config', config_cases), ('outcome', outcome_cases),
                         ('stdout', stdout_cases), ('engine', engine_cases)):
            if a.k and a.k not in name:
                continue
            print('--- %s' % name)
            fn(ctx)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return ctx.finish()


if __name__ == '__main__':
    sys.exit(main())
