#!/usr/bin/env python3
"""refquery.py - an independent oracle of brokerwatch's detection engine.

It implements, over a list of connection records, the reference LogScale
hunting query of DESIGN.md (MITRE T1071.005) with the default configuration
of conf/brokerwatch.yaml, and the streaming-alert rules of the engine
contract.  Python 3 standard library only; it shares no code with brokerwatch.

Records are dicts with the record fields of the contract ("@timestamp",
"event_simpleName", "ComputerName", "LocalAddressIP4"/"LocalAddressIP6",
"LocalPort", "RemoteAddressIP4"/"RemoteAddressIP6", "RemotePort", "Protocol",
and when present "VlanId", "UserName", "ImageFileName").  A record may carry
"_ns", its exact packet time in integer nanoseconds; without it the time is
parsed from "@timestamp" (microseconds).

The query (default Config):
    RemotePort in the watched ports; destination not excluded (the query's
    IPv4 networks plus the default config's IPv6 additions); Protocol by port;
    Suspicion: XMPP|STOMP -> high; MQTT whose ImageFileName does not match
    (?i)(mosquitto_pub|mosquitto_sub|mosquitto)(\\.exe)?$ -> high (no
    ImageFileName: high); AMQP -> medium; else low; keep high and medium;
    groupBy(ComputerName, UserName, ImageFileName, RemoteAddress, RemotePort,
    Protocol, Suspicion) with count/min/max; ConnectionCount >= 2; over the
    window [latest - 24h, latest], both ends included; sorted by Suspicion
    (high first), ConnectionCount desc, FirstSeen asc, ComputerName,
    RemoteAddress (text), RemotePort (number).

Streaming alerts (contract): per group, at each new connection at time t,
count = the group's connections with time in [t - window, t] after adding it.
Before adding, a count below the threshold re-arms the group.  An armed group
whose count reaches the threshold alerts and is disarmed; a disarmed group
alerts again when realert has passed since its last alert (t - last >=
realert) and its count is >= threshold.

CLI:
    refquery.py report --records FILE [--latest ISO|EPOCH] [--config JSON]
    refquery.py alerts --records FILE [--config JSON]
    refquery.py self-test          (the oracle against hand-worked cases)
FILE holds record JSON lines ("-" = stdin); the output is the report rows /
alert lines as brokerwatch must write them.  --latest defaults to the
latest record time.  --config is a JSON object with Config keys.
"""

import argparse
import bisect
import datetime
import ipaddress
import json
import re
import sys

NS = 1000000000
HOUR_NS = 3600 * NS
DAY_NS = 24 * HOUR_NS
EPOCH = datetime.datetime(1970, 1, 1)

LEVEL_RANK = {'high': 0, 'medium': 1, 'low': 2}
MOSQUITTO_RE = r'(?i)(mosquitto_pub|mosquitto_sub|mosquitto)(\.exe)?$'

GROUP_FIELDS = ('ComputerName', 'UserName', 'ImageFileName', 'RemoteAddress',
                'RemotePort', 'Protocol', 'Suspicion')


# ------------------------------------------------------------------ time ----

def iso(ns):
    """Integer ns since the epoch -> 2026-12-04T19:28:00.123456Z (truncated)."""
    sec, rem = divmod(ns, NS)
    t = EPOCH + datetime.timedelta(seconds=sec)
    return t.strftime('%Y-%m-%dT%H:%M:%S') + '.%06dZ' % (rem // 1000)


_ISO_RE = re.compile(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$')


def parse_iso(text):
    """ISO 8601 UTC text -> integer ns."""
    m = _ISO_RE.match(text)
    if not m:
        raise ValueError('not an ISO 8601 UTC time: %r' % text)
    y, mo, d, h, mi, s, frac = m.groups()
    t = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))
    sec = (t - EPOCH) // datetime.timedelta(seconds=1)
    return sec * NS + int(((frac or '') + '000000000')[:9])


def epoch_ns(text):
    """'1430069159.456549000' (tshark frame.time_epoch) -> integer ns."""
    text = text.strip()
    neg = text.startswith('-')
    sec, _, frac = text.lstrip('-').partition('.')
    ns = int(sec) * NS + int((frac + '000000000')[:9])
    return -ns if neg else ns


def parse_duration(v):
    """A config duration (seconds, or N with ms/s/m/h/d) -> ns."""
    if isinstance(v, (int, float)):
        return int(v * NS)
    m = re.match(r'^\s*(\d+)\s*(ms|s|m|h|d)?\s*$', str(v))
    if not m:
        raise ValueError('bad duration %r' % v)
    mult = {'ms': NS // 1000, 's': NS, 'm': 60 * NS, 'h': HOUR_NS, 'd': DAY_NS,
            None: NS}[m.group(2)]
    return int(m.group(1)) * mult


def record_ns(rec):
    if '_ns' in rec:
        return rec['_ns']
    return parse_iso(rec['@timestamp'])


# --------------------------------------------------------------- records ----

def canon_addr(text):
    """Address text as the contract writes it (RFC 5952; ::ffff:a.b.c.d)."""
    ip = ipaddress.ip_address(text.strip())
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return '::ffff:' + str(ip.ipv4_mapped)
    return str(ip)


def make_record(ns, src, sport, dst, dport, vlans=(), **extra):
    """A connection record as brokerwatch writes it in a replay."""
    src = canon_addr(src)
    dst = canon_addr(dst)
    fam = 'IP6' if ':' in src else 'IP4'
    r = {'@timestamp': iso(ns),
         'event_simpleName': 'NetworkConnect' + fam,
         'ComputerName': src,
         'LocalAddress' + fam: src,
         'LocalPort': int(sport),
         'RemoteAddress' + fam: dst,
         'RemotePort': int(dport),
         'Protocol': 6}
    vlans = [int(v) & 0xfff for v in vlans]
    if vlans:
        r['VlanId'] = vlans[0]
        if len(vlans) >= 2:
            r['VlanIds'] = vlans
    r.update(extra)
    r['_ns'] = ns
    return r


def local_addr(rec):
    return rec.get('LocalAddressIP4', rec.get('LocalAddressIP6'))


def remote_addr(rec):
    return rec.get('RemoteAddressIP4', rec.get('RemoteAddressIP6'))


def fam(rec):
    return 'IP6' if 'RemoteAddressIP6' in rec else 'IP4'


FOLD_NS = 130 * NS


def fold(syns):
    """The contract's retransmission fold.

    syns: iterable of (ns, key, payload) in packet order, key = (src, dst,
    sport, dport, isn).  A SYN whose key was seen before with the previous SYN
    of that attempt at most 130 s away is a retransmission; the previous SYN
    of the attempt then becomes this one.  Returns the payloads of the SYNs
    that make records (the first SYN of each attempt), in packet order.
    The distance is taken as an absolute value: when several files are read
    as one stream, a later file may go back in time (same attempt, 0 s).
    """
    last = {}
    out = []
    for ns, key, payload in syns:
        prev = last.get(key)
        last[key] = ns
        if prev is not None and abs(ns - prev) <= FOLD_NS:
            continue
        out.append(payload)
    return out


# ---------------------------------------------------------------- config ----

def _net(text):
    return ipaddress.ip_network(str(text).strip(), strict=False)


class Config:
    """The engine's configuration; the defaults are the reference query."""

    def __init__(self, **kw):
        self.protocols = [('MQTT', [1883, 8883]), ('XMPP', [5222, 5223, 5269]),
                          ('AMQP', [5672, 5671]), ('STOMP', [61613, 61614])]
        self.exclude = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8',
                        '::1/128', 'fc00::/7', 'fe80::/10']
        self.home_net = []
        self.inventory = {}
        self.rules = [
            {'name': 'xmpp-or-stomp', 'protocol': ['XMPP', 'STOMP'], 'level': 'high'},
            {'name': 'mqtt-unknown-client', 'protocol': ['MQTT'],
             'unless': {'image': MOSQUITTO_RE}, 'level': 'high'},
            {'name': 'amqp', 'protocol': ['AMQP'], 'level': 'medium'},
            {'name': 'default', 'level': 'low'},
        ]
        self.alert_levels = ['high', 'medium']
        self.group_by = list(GROUP_FIELDS)
        self.window = '24h'
        self.threshold = 2
        self.realert = '24h'
        for k, v in kw.items():
            if not hasattr(self, k):
                raise KeyError('unknown config key %s' % k)
            if k == 'protocols' and isinstance(v, dict):
                v = list(v.items())
            setattr(self, k, v)
        self.window_ns = parse_duration(self.window)
        self.realert_ns = parse_duration(self.realert)
        self._exclude = [_net(n) for n in self.exclude]
        self._home = [_net(n) for n in self.home_net]
        self._inventory = sorted(((_net(n), name) for n, name in self.inventory.items()),
                                 key=lambda x: -x[0].prefixlen)
        self._port_proto = {}
        for name, ports in self.protocols:
            for p in ports:
                self._port_proto.setdefault(int(p), name)

    @staticmethod
    def _in(addr, nets):
        ip = ipaddress.ip_address(addr)
        return any(ip.version == n.version and ip in n for n in nets)

    def computer_name(self, rec):
        ip = ipaddress.ip_address(local_addr(rec))
        for net, name in self._inventory:
            if ip.version == net.version and ip in net:
                return name
        return rec.get('ComputerName', local_addr(rec))

    def _cond(self, cond, rec, proto):
        """Every condition given in cond matches (an empty cond matches)."""
        if 'protocol' in cond and proto not in cond['protocol']:
            return False
        if 'port' in cond and rec['RemotePort'] not in [int(p) for p in cond['port']]:
            return False
        if 'destination' in cond and not self._in(remote_addr(rec),
                                                  [_net(n) for n in cond['destination']]):
            return False
        if 'image' in cond:
            img = rec.get('ImageFileName')
            if img is None or not re.search(cond['image'], img):
                return False
        if 'image_path' in cond:
            if rec.get('ImageFileName') not in cond['image_path']:
                return False
        if 'user' in cond:
            if rec.get('UserName') not in cond['user']:
                return False
        return True

    def score(self, rec):
        """None when not watched, else (Protocol, Suspicion, Rule, ComputerName)."""
        proto = self._port_proto.get(rec['RemotePort'])
        if proto is None:
            return None
        if self._in(remote_addr(rec), self._exclude):
            return None
        if self._home and not self._in(local_addr(rec), self._home):
            return None
        level, rule = 'low', None
        for r in self.rules:
            when = {k: v for k, v in r.items() if k not in ('name', 'level', 'unless')}
            if not self._cond(when, rec, proto):
                continue
            unless = r.get('unless')
            if unless and self._cond(unless, rec, proto):
                continue
            level, rule = r['level'], r['name']
            break
        return proto, level, rule, self.computer_name(rec)


DEFAULT = Config()


# ------------------------------------------------------------ the query ----

class Scored:
    __slots__ = ('rec', 'ns', 'proto', 'level', 'rule', 'computer', 'key', 'seq')

    def __init__(self, rec, seq, proto, level, rule, computer, group_by):
        self.rec = rec
        self.seq = seq
        self.ns = record_ns(rec)
        self.proto, self.level, self.rule, self.computer = proto, level, rule, computer
        vals = {'ComputerName': computer, 'UserName': rec.get('UserName'),
                'ImageFileName': rec.get('ImageFileName'),
                'RemoteAddress': remote_addr(rec), 'RemotePort': rec['RemotePort'],
                'Protocol': proto, 'Suspicion': level}
        self.key = tuple((f, vals[f]) for f in group_by)


def counted(records, cfg=DEFAULT):
    """The records that enter a group (watched, not excluded, level alerted)."""
    out = []
    for i, rec in enumerate(records):
        s = cfg.score(rec)
        if s is None:
            continue
        proto, level, rule, computer = s
        if level not in cfg.alert_levels:
            continue
        out.append(Scored(rec, i, proto, level, rule, computer, cfg.group_by))
    return out


def _group_fields(key, f6):
    row = {}
    for f, v in key:
        if v is None:
            continue
        if f == 'RemoteAddress':
            row['RemoteAddress' + f6] = v
        else:
            row[f] = v
    return row


def report(records, latest_ns, cfg=DEFAULT):
    """The query over [latest - window, latest]: the ordered report rows."""
    groups = {}
    lo = latest_ns - cfg.window_ns
    for s in counted(records, cfg):
        if not (lo <= s.ns <= latest_ns):
            continue
        g = groups.get(s.key)
        if g is None:
            groups[s.key] = [1, s.ns, s.ns, fam(s.rec)]
        else:
            g[0] += 1
            g[1] = min(g[1], s.ns)
            g[2] = max(g[2], s.ns)
    rows = []
    for key, (count, first, last, f6) in groups.items():
        if count < cfg.threshold:
            continue
        row = _group_fields(key, f6)
        row['ConnectionCount'] = count
        row['FirstSeen'] = iso(first)
        row['LastSeen'] = iso(last)
        kd = dict(key)
        sort = (LEVEL_RANK.get(kd.get('Suspicion'), 9), -count, first,
                kd.get('ComputerName') or '', kd.get('RemoteAddress') or '',
                kd.get('RemotePort') or 0)
        rows.append((sort, row))
    rows.sort(key=lambda x: x[0])
    return [r for _, r in rows]


class _GroupState:
    __slots__ = ('times', 'armed', 'last_alert', 'monotonic')

    def __init__(self):
        self.times = []          # sorted connection times (ns)
        self.armed = True
        self.last_alert = None
        self.monotonic = True


def alerts(records, cfg=DEFAULT, notes=None):
    """The streaming alerts, in firing order, as ordered dicts.

    notes (a list) receives a line for every group whose connections do not
    arrive in time order (several files going back in time): the contract's
    count "[t - window, t]" is applied literally there (later connections are
    not counted), which a sensor may reasonably do differently.
    """
    state = {}
    out = []
    for s in counted(records, cfg):
        g = state.get(s.key)
        if g is None:
            g = state[s.key] = _GroupState()
        t = s.ns
        if g.times and t < g.times[-1] and g.monotonic:
            g.monotonic = False
            if notes is not None:
                notes.append('group %s: connection at %s arrives after one at %s'
                             % (dict(s.key), iso(t), iso(g.times[-1])))
        lo_i = bisect.bisect_left(g.times, t - cfg.window_ns)
        hi_i = bisect.bisect_right(g.times, t)
        if hi_i - lo_i < cfg.threshold:
            g.armed = True
        bisect.insort_right(g.times, t)
        hi_i += 1
        count = hi_i - lo_i
        fire = False
        if count >= cfg.threshold:
            if g.armed:
                fire = True
            elif g.last_alert is not None and t - g.last_alert >= cfg.realert_ns:
                fire = True
        if not fire:
            continue
        g.armed = False
        g.last_alert = t
        rec = s.rec
        f6 = fam(rec)
        a = {'@timestamp': iso(t), 'event_simpleName': 'BrokerwatchAlert',
             'Suspicion': s.level, 'Protocol': s.proto, 'ConnectionCount': count,
             'ComputerName': s.computer}
        for k in ('UserName', 'ImageFileName'):
            if rec.get(k) is not None:
                a[k] = rec[k]
        a['RemoteAddress' + f6] = remote_addr(rec)
        a['RemotePort'] = rec['RemotePort']
        a['LocalAddress' + f6] = local_addr(rec)
        a['LocalPort'] = rec['LocalPort']
        if rec.get('VlanId') is not None:
            a['VlanId'] = rec['VlanId']
        a['FirstSeen'] = iso(g.times[lo_i])
        a['LastSeen'] = iso(g.times[hi_i - 1])
        a['Rule'] = s.rule
        out.append(a)
    return out


def dumps(obj):
    """One JSON line, compact, keys in insertion order (the contract's bytes)."""
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=False)


def logfmt_value(v):
    s = str(v)
    if s == '' or any(c in s for c in ' "=') or any(ord(c) < 0x20 or ord(c) == 0x7f for c in s):
        out = []
        for c in s:
            if c == '"':
                out.append('\\"')
            elif c == '\\':
                out.append('\\\\')
            elif ord(c) < 0x20 or ord(c) == 0x7f:
                out.append('\\x%02x' % ord(c))
            else:
                out.append(c)
        return '"' + ''.join(out) + '"'
    return s


def alert_text(a):
    """The stdout/syslog form of an alert: ALERT k=v ... (no @timestamp/event)."""
    parts = ['ALERT']
    for k, v in a.items():
        if k in ('@timestamp', 'event_simpleName'):
            continue
        parts.append('%s=%s' % (k, logfmt_value(v)))
    return ' '.join(parts)


# ------------------------------------------------------------- compare ----

def diff_lines(what, want, got, limit=40):
    """Readable diff of two lists of lines; [] when equal."""
    if want == got:
        return []
    out = ['%s: want %d lines, got %d' % (what, len(want), len(got))]
    n = max(len(want), len(got))
    shown = 0
    for i in range(n):
        w = want[i] if i < len(want) else '<none>'
        g = got[i] if i < len(got) else '<none>'
        if w == g:
            continue
        out.append('  line %d:\n    want %s\n    got  %s' % (i + 1, w, g))
        try:
            wo, go = json.loads(w), json.loads(g)
            if isinstance(wo, dict) and isinstance(go, dict):
                fields = ['%s: %s != %s' % (k, json.dumps(wo.get(k, '<absent>')),
                                            json.dumps(go.get(k, '<absent>')))
                          for k in list(wo) + [k for k in go if k not in wo]
                          if wo.get(k, '<absent>') != go.get(k, '<absent>')]
                if fields:
                    out.append('    fields: ' + '; '.join(fields))
                elif list(wo) != list(go):
                    out.append('    key order: want %s got %s' % (list(wo), list(go)))
        except ValueError:
            pass
        shown += 1
        if shown >= limit:
            out.append('  ...')
            break
    return out


# ------------------------------------------------------------- self-test ----

def self_test():
    """The oracle against hand-worked cases. -> list of problems."""
    T = 1790000000 * NS
    P = []

    def rec(dt, src, dst, port, **kw):
        return make_record(T + dt, src, 40000 + (dt // NS) % 20000, dst, port, **kw)

    def expect(name, got, want):
        if got != want:
            P.append('%s: got %r, want %r' % (name, got, want))

    # scoring: the query's case statements
    sc = lambda r: (DEFAULT.score(r) or (None,))[:3]
    expect('xmpp', sc(rec(0, '10.0.0.1', '203.0.113.1', 5269)), ('XMPP', 'high', 'xmpp-or-stomp'))
    expect('stomp', sc(rec(0, '10.0.0.1', '203.0.113.1', 61614)),
           ('STOMP', 'high', 'xmpp-or-stomp'))
    expect('amqp', sc(rec(0, '10.0.0.1', '203.0.113.1', 5671)), ('AMQP', 'medium', 'amqp'))
    expect('mqtt no image', sc(rec(0, '10.0.0.1', '203.0.113.1', 1883)),
           ('MQTT', 'high', 'mqtt-unknown-client'))
    for img, lvl in (('C:\\Program Files\\mosquitto\\mosquitto_pub.exe', 'low'),
                     ('/usr/sbin/MOSQUITTO', 'low'), ('/usr/bin/mosquitto_sub', 'low'),
                     ('/opt/x/mosquitto_pub.exe.bak', 'high'), ('/usr/bin/mqttx', 'high')):
        expect('mqtt image %s' % img,
               sc(rec(0, '10.0.0.1', '203.0.113.1', 8883, ImageFileName=img))[1], lvl)
    expect('other port', DEFAULT.score(rec(0, '10.0.0.1', '203.0.113.1', 443)), None)
    for d, excl in (('10.255.255.255', True), ('172.31.0.1', True), ('172.32.0.1', False),
                    ('192.168.1.1', True), ('192.169.0.1', False), ('127.0.0.1', True),
                    ('::1', True), ('fd00::1', True), ('fe80::1', True), ('fec0::1', False),
                    ('2001:db8::1', False)):
        expect('exclusion %s' % d, DEFAULT.score(rec(0, '10.0.0.1', d, 1883)) is None, excl)

    # window, both ends included; report over [latest - 24h, latest]
    rs = [rec(0, '10.0.0.1', '203.0.113.1', 5222), rec(DAY_NS, '10.0.0.1', '203.0.113.1', 5222)]
    expect('24h apart: rows', [r['ConnectionCount'] for r in report(rs, T + DAY_NS)], [2])
    expect('24h apart: alerts', len(alerts(rs)), 1)
    expect('24h apart, latest 1 ns later', report(rs, T + DAY_NS + 1), [])
    rs[1] = rec(DAY_NS + 1000, '10.0.0.1', '203.0.113.1', 5222)
    expect('24h + 1us apart: alerts', len(alerts(rs)), 0)

    # re-arm and realert
    rs = [rec(h * HOUR_NS, '10.0.0.2', '203.0.113.2', 1883) for h in (0, 1, 30, 31, 32)]
    expect('re-arm', [(a['@timestamp'][11:19], a['ConnectionCount']) for a in alerts(rs)],
           [('15:13:20', 2), ('21:13:20', 2)])
    rs = [rec(h * HOUR_NS, '10.0.0.3', '203.0.113.3', 5672) for h in range(0, 50)]
    expect('realert', [a['ConnectionCount'] for a in alerts(rs)], [2, 25, 25])

    # sort: high before medium, count desc, FirstSeen, names as text, port numeric
    rs = []
    for k in range(4):
        rs.append(rec(k * NS, '10.0.0.4', '203.0.113.4', 5672))
    for src in ('10.0.0.9', '10.0.0.10'):
        rs += [rec(10 * NS, src, '203.0.113.5', 1883), rec(11 * NS, src, '203.0.113.5', 1883)]
    for port in (61613, 8883):
        rs += [rec(10 * NS, '10.0.0.7', '203.0.113.6', port),
               rec(11 * NS, '10.0.0.7', '203.0.113.6', port)]
    rs += [rec(5 * NS, '10.0.0.8', '203.0.113.7', 5222), rec(50 * NS, '10.0.0.8', '203.0.113.7', 5222)]
    got = [(r['ComputerName'], r['RemotePort']) for r in report(rs, T + 60 * NS)]
    expect('sort', got, [('10.0.0.8', 5222), ('10.0.0.10', 1883), ('10.0.0.7', 8883),
                         ('10.0.0.7', 61613), ('10.0.0.9', 1883), ('10.0.0.4', 5672)])

    # retransmission fold
    syns = [(0, 'k1', 'a'), (100 * NS, 'k1', 'b'), (230 * NS, 'k1', 'c'), (361 * NS, 'k1', 'd'),
            (0, 'k2', 'e')]
    expect('fold', fold(syns), ['a', 'd', 'e'])

    # formats
    expect('iso truncates', iso(1430069159456549999), '2015-04-26T17:25:59.456549Z')
    expect('parse_iso', parse_iso('2015-04-26T17:25:59.456549Z'), 1430069159456549000)
    expect('ipv6 text', canon_addr('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1')
    a = alerts([rec(0, '10.0.0.5', '203.0.113.8', 8883, vlans=(20,)),
                rec(NS, '10.0.0.5', '203.0.113.8', 8883, vlans=(30, 40))])[0]
    expect('alert keys', list(a), ['@timestamp', 'event_simpleName', 'Suspicion', 'Protocol',
                                   'ConnectionCount', 'ComputerName', 'RemoteAddressIP4',
                                   'RemotePort', 'LocalAddressIP4', 'LocalPort', 'VlanId',
                                   'FirstSeen', 'LastSeen', 'Rule'])
    expect('alert VlanId (outermost of the firing one)', a['VlanId'], 30)
    expect('alert text', alert_text(a).split(' ')[:4],
           ['ALERT', 'Suspicion=high', 'Protocol=MQTT', 'ConnectionCount=2'])
    expect('logfmt quoting', logfmt_value('a b"c'), '"a b\\"c"')
    return P


# ------------------------------------------------------------------ CLI ----

def _load_records(path):
    f = sys.stdin if path == '-' else open(path, encoding='utf-8')
    try:
        return [json.loads(l) for l in f if l.strip()]
    finally:
        if f is not sys.stdin:
            f.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('what', choices=['report', 'alerts', 'self-test'])
    ap.add_argument('--records')
    ap.add_argument('--latest', help='ISO time or epoch seconds (default: latest record)')
    ap.add_argument('--config', help='JSON object of Config keys')
    a = ap.parse_args(argv)
    if a.what == 'self-test':
        problems = self_test()
        for p in problems:
            print('FAIL ' + p)
        print('oracle self-test: %d problems' % len(problems))
        return 1 if problems else 0
    if not a.records:
        ap.error('--records is required')
    cfg = Config(**json.loads(a.config)) if a.config else DEFAULT
    recs = _load_records(a.records)
    if a.what == 'report':
        if a.latest:
            latest = parse_iso(a.latest) if 'T' in a.latest else epoch_ns(a.latest)
        else:
            latest = max((record_ns(r) for r in recs), default=0)
        for row in report(recs, latest, cfg):
            print(dumps(row))
    else:
        for al in alerts(recs, cfg):
            print(dumps(al))
    return 0


if __name__ == '__main__':
    sys.exit(main())
