#!/usr/bin/env python3
"""live.py - brokerwatch as a live sensor, against real brokers and clients.

Each case builds a lab (tests/live/lab.py): a network namespace holding real
brokers (mosquitto, prosody, rabbitmq-server with rabbitmq_stomp) behind a
veth pair, a real rsyslogd, and brokerwatch (run as root, switching to nobody)
capturing on the host side of the veth while real clients on the host connect
to 203.0.113.10 / 2001:db8:113::10. A tcpdump on the same interface is the
independent witness of every SYN that crossed it.

Cases (each a meson test; every check prints PASS:/FAIL:):
  basic          MQTT (mosquitto_pub, mosquitto_sub), XMPP (nc), AMQP
                 (amqp-publish), STOMP (stomp.py's CLI), twice each, and IPv6:
                 syslog lines, JSON alerts, records and --stats against what the
                 clients did and what tcpdump saw; privileges after start-up
  reload         SIGHUP with a broken file keeps the running configuration;
                 a fixed file with threshold 3 is taken, group counters kept
  reload-filter  SIGHUP adding/removing a port changes the capture filter;
                 a changed max_groups starts the counters again
  notify         sd_notify READY/RELOADING/STOPPING, WATCHDOG=1 on a silent
                 link, a port added by SIGHUP on a silent link
  logrotate      alert file moved away + SIGHUP: a new file gets the next alert
  burst          SIGTERM in the middle of 200 mosquitto_pub: no SYN sent before
                 the signal is lost, exit 0
  backlog        SIGTERM while the capture thread is behind (SIGSTOP): the SYNs
                 the kernel delivered before the signal are all records
  signals        SIGUSR1 logs "statistics:"; syslog (facility daemon) without
                 -d; SIGINT; drop counters in --stats
  drops          kernel_dropped and ring_dropped count real drops
  retransmit     retransmitted SYNs (unanswered attempts) are one record each
  any            -i any: records, alerts, InterfaceName
  ifgone         the capture interface disappears: message, outputs, failure exit
  refuse         user: no-such-user-xyz -> exit 78 naming the user
  attrib-ebpf    process attribution through eBPF: 100 fire-and-forget
                 mosquitto_pub, mosquitto_sub -W, nc (XMPP), amqp-publish,
                 stomp.py, a mosquitto_pub copy renamed updater run as nobody,
                 a copy that keeps its name elsewhere, then the strict profile
                 (SIGHUP): the copy, /usr/bin/mosquitto_pub, a memfd program, a
                 self-deleted program; pid, exe, user, parent and command line
                 against what the test started; alerts by rule; capabilities
  attrib-proc    the same through NETLINK_SOCK_DIAG and /proc: every named
                 process right, uid-only when the client exited first
  attrib-caps    started as the systemd unit starts it (nobody, the unit's
                 ambient capabilities): eBPF loads, only the /proc
                 capabilities stay; with CAP_NET_RAW alone: said once, /proc
                 for its own user, uid-only for others
The daemon cases run with attribution: off (the span-port view): the clients
run on the sensor's host, and attributed mosquitto clients are low.
  cleanup        runs the basic case failing on purpose, and interrupted by
                 SIGINT and SIGTERM, and checks that no namespace, veth, route,
                 process or file is left behind
Exit status: 0 all passed, 1 a check failed, 77 skipped (not root, or a
package missing: the message names it).
"""
import argparse
import datetime
import errno
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, os.pardir, 'pylib')]
import lab as labmod  # noqa: E402
from lab import (HOST_ADDR4, HOST_ADDR6, NS_ADDR4, NS_ADDR6, Interrupted, Lab,  # noqa: E402
                 LabError)
from bwtest import SKIP, wait_for  # noqa: E402

XMPP_HEADER = ("<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
PROTO_OF_PORT = {1883: 'MQTT', 8883: 'MQTT', 1884: 'MQTT', 5222: 'XMPP', 5672: 'AMQP', 61613: 'STOMP'}
RULE_OF = {'MQTT': 'mqtt-unknown-client', 'XMPP': 'xmpp-or-stomp', 'STOMP': 'xmpp-or-stomp',
           'AMQP': 'amqp'}
LEVEL_OF = {'MQTT': 'high', 'XMPP': 'high', 'STOMP': 'high', 'AMQP': 'medium'}
SEVERITY_OF = {'high': 'warning', 'medium': 'notice', 'low': 'info'}
LIVE_COUNTERS = ('kernel_received', 'kernel_dropped', 'interface_dropped', 'ring_dropped',
                 'ring_full_waits')

FAIL_AT = None   # --fail-at: the step at which this run fails on purpose


def fail_point(step):
    if FAIL_AT == step:
        print('lab: failing on purpose at step %s (--fail-at)' % step, flush=True)
        raise LabError('deliberate failure at %s' % step)


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what, detail=''):
        if cond:
            self.passed += 1
            print('PASS: %s' % what, flush=True)
        else:
            self.failed += 1
            print('FAIL: %s' % what, flush=True)
            if detail:
                for line in str(detail).splitlines()[:60]:
                    print('      %s' % line)
                sys.stdout.flush()
        return bool(cond)

    def eq(self, got, want, what):
        return self.ok(got == want, '%s (%r)' % (what, want), 'got:  %r\nwant: %r' % (got, want))

    def info(self, msg):
        print('INFO: %s' % msg, flush=True)

    def summary(self):
        print('%s: %d passed, %d failed' % (self.name, self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 else 1


# ------------------------------------------------------------------ helpers
def iso(ts_us):
    sec, us = divmod(ts_us, 1000000)
    return datetime.datetime.fromtimestamp(sec, datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%S') + '.%06dZ' % us


def parse_logfmt(msg):
    """'ALERT a=b c="d e"' -> {'a': 'b', 'c': 'd e'} (the keys after ALERT)."""
    out = {}
    i = msg.index('ALERT ') + 6
    n = len(msg)
    while i < n:
        while i < n and msg[i] == ' ':
            i += 1
        j = msg.find('=', i)
        if j < 0:
            break
        key = msg[i:j]
        i = j + 1
        if i < n and msg[i] == '"':
            i += 1
            val = []
            while i < n and msg[i] != '"':
                if msg[i] == '\\' and i + 1 < n:
                    if msg[i + 1] == 'x':
                        val.append(chr(int(msg[i + 2:i + 4], 16)))
                        i += 4
                        continue
                    val.append(msg[i + 1])
                    i += 2
                    continue
                val.append(msg[i])
                i += 1
            i += 1
            out[key] = ''.join(val)
        else:
            j = msg.find(' ', i)
            j = n if j < 0 else j
            out[key] = msg[i:j]
            i = j
    return out


def read_jsonl(path):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def read_syn_pcap(path):
    """The SYNs (no ACK) in a classic pcap of Ethernet frames written by tcpdump:
    [(ts_us, src, sport, dst, dport)]."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic == b'\xd4\xc3\xb2\xa1':
        e, ns = '<', False
    elif magic == b'\xa1\xb2\xc3\xd4':
        e, ns = '>', False
    elif magic == b'\x4d\x3c\xb2\xa1':
        e, ns = '<', True
    elif magic == b'\xa1\xb2\x3c\x4d':
        e, ns = '>', True
    else:
        raise ValueError('%s: not a classic pcap' % path)
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    if linktype != 1:
        raise ValueError('%s: link type %d, expected Ethernet' % (path, linktype))
    out = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + 'IIII', data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ts_us = sec * 1000000 + (frac // 1000 if ns else frac)
        et = struct.unpack('!H', pkt[12:14])[0]
        p = pkt[14:]
        if et == 0x0800:
            ihl = (p[0] & 15) * 4
            if p[9] != 6:
                continue
            src, dst = socket.inet_ntop(socket.AF_INET, p[12:16]), socket.inet_ntop(socket.AF_INET, p[16:20])
            t = p[ihl:]
        elif et == 0x86DD:
            if p[6] != 6:
                continue
            src, dst = socket.inet_ntop(socket.AF_INET6, p[8:24]), socket.inet_ntop(socket.AF_INET6, p[24:40])
            t = p[40:]
        else:
            continue
        sport, dport = struct.unpack('!HH', t[0:4])
        flags = t[13]
        if flags & 0x12 == 0x02:
            out.append((ts_us, src, sport, dst, dport))
    return out


def rec_key(r):
    la = r.get('LocalAddressIP4') or r.get('LocalAddressIP6')
    ra = r.get('RemoteAddressIP4') or r.get('RemoteAddressIP6')
    return (la, r.get('LocalPort'), ra, r.get('RemotePort'))


def hostname():
    return subprocess.run(['hostname'], capture_output=True, text=True).stdout.strip()


# ------------------------------------------------------------------ clients
class Clients:
    """Real clients on the host, whose pid, program and user the test itself
    knows. Each call is exactly one TCP connection: self.made lists them as
    (protocol, address, port), self.known as dicts (what, pid, exe, user,
    addr, port, argv, long_lived) for the attribution checks."""

    def __init__(self, lab, checks):
        self.lab = lab
        self.c = checks
        self.made = []
        self.known = []
        self.stomp_cmds = lab.path('stomp-commands')
        with open(self.stomp_cmds, 'w') as f:
            f.write('send /queue/bw-live hello\n')

    def run(self, what, argv, port, addr=NS_ADDR4, user='root', exe=None, stdin=None, hold=0.0,
            good=lambda rc, out: rc == 0, pass_fds=(), quiet=False, long_lived=False):
        """argv as user; stdin (if any) is written, held open for hold
        seconds, then closed. exe: the program the kernel will name (default:
        argv[0] resolved)."""
        kw = {}
        if user != 'root':
            pw = pwd.getpwnam(user)
            kw = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=pass_fds, **kw)
        try:
            if stdin is not None:
                p.stdin.write(stdin.encode())
                p.stdin.flush()
                time.sleep(hold)
                p.stdin.close()
                p.stdin = None
            out, _ = p.communicate(timeout=30)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, rc = p.communicate()[0] + b'\n(timed out)', None
        out = out.decode(errors='replace')
        if exe is None:
            exe = os.path.realpath(argv[0] if '/' in argv[0] else shutil.which(argv[0]))
        k = dict(what=what, pid=p.pid, exe=exe, user=user, addr=addr, port=port, argv=argv,
                 long_lived=long_lived)
        self.made.append((PROTO_OF_PORT[port], addr, port))
        self.known.append(k)
        ok = good(rc, out)
        if not quiet or not ok:
            self.c.ok(ok, '%s (pid %d, %s) -> %s port %d answered (exit %s, %.2f s)'
                      % (what, p.pid, user, addr, port, rc, time.monotonic() - t0), out[-2000:])
        if not ok:
            raise LabError('client %s failed: the harness or a broker is broken' % what)
        return k

    def mqtt_pub(self, addr=NS_ADDR4, quiet=False, port=1883, binary='mosquitto_pub', user='root',
                 what='mosquitto_pub'):
        return self.run(what, [binary, '-h', addr, '-p', str(port), '-t', 'bw-live', '-m', 'm'],
                        port, addr, user, quiet=quiet)

    def mqtt_pub_held(self, binary, user='root', what=None):
        """-l: publishes lines from stdin; the connection (and process) lives
        until stdin closes, so that /proc can see it too."""
        return self.run(what or binary, [binary, '-h', NS_ADDR4, '-t', 'bw-live', '-l'], 1883,
                        NS_ADDR4, user, stdin='hello\n', hold=0.5, long_lived=True)

    def mqtt_sub(self, addr=NS_ADDR4, binary='mosquitto_sub', exe=None, pass_fds=(),
                 what='mosquitto_sub -W 1'):
        # -W 1: gives up after 1 s without a message (exit 27), after CONNACK
        return self.run(what, [binary, '-d', '-h', addr, '-t', 'bw-live', '-W', '1'], 1883, addr,
                        exe=exe, pass_fds=pass_fds, long_lived=True,
                        good=lambda rc, out: rc == 27 and 'received CONNACK (0)' in out)

    def xmpp(self, addr=NS_ADDR4, source=None, what='nc (XMPP stream header)'):
        # the stream header, then the connection is held for 1 s so that the
        # server's answer (its stream header and features) is read
        return self.run(what, ['nc'] + (['-s', source] if source else []) +
                        ['-q', '1', '-w', '10', addr, '5222'], 5222, addr,
                        stdin=XMPP_HEADER, hold=1.0, long_lived=True,
                        good=lambda rc, out: rc == 0 and '<stream:features' in out)

    def amqp(self, addr=NS_ADDR4):
        host = '[%s]' % addr if ':' in addr else addr
        return self.run('amqp-publish', ['amqp-publish', '--url', 'amqp://guest:guest@%s:5672' % host,
                                         '-r', 'bw-live', '-b', 'hello'], 5672, addr)

    def stomp(self, addr=NS_ADDR4):
        script = shutil.which('stomp')
        with open(script) as f:
            interp = f.readline()[2:].split()[0]        # the script's #! interpreter
        return self.run('stomp (stomp.py CLI)', [script, '-V', '-H', addr, '-P', '61613', '-U', 'guest',
                                                 '-W', 'guest', '-F', self.stomp_cmds], 61613, addr,
                        exe=os.path.realpath(interp),
                        # the CLI connects with wait=True: it sends nothing (and exits 1 with
                        # a ConnectFailedException) until the broker answered CONNECTED;
                        # its own "CONNECTED" print comes from another thread, racily
                        good=lambda rc, out: rc == 0 and "'destination': '/queue/bw-live'" in out
                        and 'Traceback' not in out)

    def deleted_python(self, path):
        """A copy of the Python interpreter that deletes itself, then connects
        (and holds the connection for a second)."""
        prog = ('import os, socket, sys, time\nos.unlink(%r)\n'
                's = socket.create_connection((%r, 1883))\ntime.sleep(1)\n' % (path, NS_ADDR4))
        return self.run('deleted program %s' % path, [path, '-c', prog], 1883, exe=path, long_lived=True)


# ------------------------------------------------------------------ brokerwatch
CONFIG = """\
# brokerwatch live test configuration
user: {user}
capture:
  immediate: true
{capture}threshold: {threshold}
attribution:
  mode: {attrib}
outputs:
  stdout: false
  json: "{json}"
  syslog:
    enabled: true
    facility: local3
"""


class Sensor:
    def __init__(self, lab, binary, checks, threshold=2, user='nobody', debug=True,
                 capture='', records_path=None, env=None, iface=None, attrib='off', wrap=()):
        self.lab = lab
        # the daemon cases watch a span port's view (attribution off: the
        # clients run on this host, and attributed mosquitto clients are low);
        # the attrib-* cases turn it on
        self.attrib = attrib
        self.rules = ''           # appended to the configuration (case_attrib: a profile)
        self.capture = capture     # more keys of capture:, e.g. "  ring_size: 1024\n"
        self.debug = debug
        self.c = checks
        self.out = lab.path('out')
        os.makedirs(self.out, exist_ok=True)
        nobody = pwd.getpwnam('nobody')
        os.chown(self.out, nobody.pw_uid, nobody.pw_gid)   # the daemon runs as nobody
        self.config = lab.path('brokerwatch.yaml')
        self.alerts_path = os.path.join(self.out, 'alerts.json')
        self.records_path = records_path or os.path.join(self.out, 'records.jsonl')
        self.write_config(threshold=threshold, user=user)
        self.iface = iface or lab.veth_host
        self.argv = list(wrap) + [binary, '-i', self.iface, '-c', self.config] + (['-d'] if debug else []) + \
            ['--records', self.records_path, '--stats']
        self.proc = lab.start_in_mountns('brokerwatch', self.argv, env=env)
        print('lab: started brokerwatch pid %d: %s' % (self.proc.pid, ' '.join(self.argv)), flush=True)
        self.rc = None

    def write_config(self, threshold=2, user='nobody', text=None):
        if text is None:
            text = CONFIG.format(user=user, threshold=threshold, json=self.alerts_path,
                                 capture=self.capture, attrib=self.attrib) + self.rules
        tmp = self.config + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.config)

    def stderr(self):
        with self.proc._cond:
            return list(self.proc.lines)

    def lines(self):
        """The operational messages: stderr with -d, else rsyslog's lines of
        facility daemon from brokerwatch."""
        if self.debug:
            return self.stderr()
        return [l for l in self.lab.syslog_lines() if l.startswith('daemon.') and ' brokerwatch ' in l]

    def wait_line(self, pattern, seconds=20, start=0):
        rx = re.compile(pattern)
        if self.debug:
            return self.proc.wait_line(lambda l: rx.search(l) is not None, seconds, start)
        found = []

        def look():
            ls = self.lines()
            for i in range(start, len(ls)):
                if rx.search(ls[i]):
                    found.append(i)
                    return True
            return self.proc.p.poll() is not None
        wait_for(look, seconds, 0.05)
        return found[0] if found else None

    def wait_active(self, seconds=30):
        i = self.wait_line(r'capture active on %s\b' % re.escape(self.iface), seconds)
        self.c.ok(i is not None, 'brokerwatch logs "capture active on %s"' % self.iface,
                  'stderr:\n' + '\n'.join(self.lines()[-30:]) +
                  ('\n(exited %s)' % self.proc.p.returncode if self.proc.p.poll() is not None else ''))
        if i is None:
            raise LabError('brokerwatch did not become active')
        self.c.info(self.lines()[i])
        return i

    def running(self):
        return self.proc.p.poll() is None

    def send(self, sig):
        self.proc.send(sig)

    def stop(self, sig=signal.SIGTERM, seconds=30):
        self.send(sig)
        self.rc = self.proc.wait(seconds)
        if self.rc is None:
            self.c.ok(False, 'brokerwatch exits within %d s of signal %d' % (seconds, sig),
                      '\n'.join(self.lines()[-20:]))
            self.proc.stop(signal.SIGKILL, 5)
        return self.rc

    def stats(self):
        for line in reversed(self.stderr()):
            if line.startswith('{'):
                try:
                    return json.loads(line)
                except ValueError:
                    pass
        return None

    def records(self):
        return read_jsonl(self.records_path) or []

    def json_alerts(self, path=None):
        return read_jsonl(path or self.alerts_path)

    def syslog_alerts(self):
        """[(facility.severity, fields)] of rsyslog's ALERT lines from brokerwatch."""
        out = []
        for line in self.lab.syslog_lines():
            parts = line.split(' ', 2)
            if len(parts) == 3 and parts[1] == 'brokerwatch' and 'ALERT ' in parts[2]:
                out.append((parts[0], parse_logfmt(parts[2].strip())))
        return out

    def wait_syslog_alerts(self, n, seconds=15):
        wait_for(lambda: len(self.syslog_alerts()) >= n, seconds, 0.1)
        return self.syslog_alerts()


class Witness:
    """tcpdump on the same interface: every SYN that crossed it."""

    def __init__(self, lab):
        self.path = lab.path('witness.pcap')
        flt = ('(ip and tcp[13] & 0x12 == 0x02) or '
               '(ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02)')
        self.proc = lab.start('tcpdump', ['tcpdump', '--immediate-mode', '-U', '-Z', 'root', '-n',
                                          '-s', '128', '-B', '32768', '-i', lab.veth_host,
                                          '-w', self.path, flt], lines=True)
        if self.proc.wait_line(lambda l: 'listening on' in l, 20) is None:
            raise LabError('tcpdump did not start: ' + self.proc.output())

    def stop(self):
        time.sleep(1)
        self.proc.stop(signal.SIGTERM, 10)
        out = self.proc.output()
        counts = {}
        for what in ('captured', 'received by filter', 'dropped by kernel'):
            m = re.search(r'(\d+) packets? %s' % what, out)
            counts[what] = int(m.group(1)) if m else None
        # a witness that lost packets is no witness
        self.dropped = counts['dropped by kernel']
        if counts['captured'] != counts['received by filter']:
            self.dropped = '%s of %s not captured' % (
                (counts['received by filter'] or 0) - (counts['captured'] or 0), counts['received by filter'])
        return read_syn_pcap(self.path)


CAP_DAC_READ_SEARCH = 2
CAP_SYS_PTRACE = 19


def check_privileges(c, pid, caps=0):
    """Every thread of pid runs as nobody:nogroup with exactly the capabilities
    caps (permitted and effective; none inheritable or ambient)."""
    nobody = pwd.getpwnam('nobody')
    bad = []
    tasks = sorted(os.listdir('/proc/%d/task' % pid))
    for t in tasks:
        try:
            with open('/proc/%d/task/%s/status' % (pid, t)) as f:
                st = dict(l.rstrip('\n').split(':\t', 1) for l in f if ':\t' in l)
        except OSError as e:
            bad.append('%s: %s' % (t, e))
            continue
        want_id = ' '.join([str(nobody.pw_uid)] * 4)
        want_gid = ' '.join([str(nobody.pw_gid)] * 4)
        if st.get('Uid', '').split() != want_id.split():
            bad.append('thread %s Uid %s' % (t, st.get('Uid')))
        if st.get('Gid', '').split() != want_gid.split():
            bad.append('thread %s Gid %s' % (t, st.get('Gid')))
        if set(st.get('Groups', '').split()) - {str(nobody.pw_gid)}:
            bad.append('thread %s supplementary Groups %s' % (t, st.get('Groups')))
        for cap in ('CapInh', 'CapPrm', 'CapEff', 'CapAmb'):
            want = caps if cap in ('CapPrm', 'CapEff') else 0
            if cap in st and int(st[cap], 16) != want:
                bad.append('thread %s %s %s, want %016x' % (t, cap, st[cap], want))
    c.ok(not bad and tasks, 'brokerwatch runs as nobody:nogroup, no supplementary group, %s '
         '(%d threads)' % ('capabilities %016x only' % caps if caps else 'no capability', len(tasks)),
         '\n'.join(bad))


def check_no_leftovers(c, lab):
    left = lab.leftovers()
    c.ok(not left, 'nothing of the lab is left (namespace %s, veth %s, routes, %d pids, files)'
         % (lab.ns, lab.veth_host, len(lab.all_pids)), '\n'.join(left))


def check_stats(c, st, records):
    if not c.ok(st is not None, '--stats printed one JSON object on stderr at exit'):
        return
    missing = [k for k in LIVE_COUNTERS if k not in st]
    c.ok(not missing, '--stats has the live counters %s' % ', '.join(LIVE_COUNTERS),
         'missing: %s' % missing)
    c.eq(st.get('kernel_dropped'), 0, 'kernel_dropped')
    c.eq(st.get('ring_dropped'), 0, 'ring_dropped')
    if records is not None:
        c.eq(st.get('records'), records, '--stats records = connections made')
    c.info('stats: ' + ' '.join('%s=%s' % (k, st.get(k)) for k in
                                ('packets', 'syn', 'records', 'watched', 'counted', 'alerts')
                                + LIVE_COUNTERS))


def check_records_vs_witness(c, recs, syns, lab):
    """Every record is a SYN the witness saw (addresses, ports, packet time)."""
    by_key = {}
    for s in syns:
        by_key.setdefault((s[1], s[2], s[3], s[4]), []).append(s[0])
    unmatched, badtime = [], []
    for r in recs:
        k = rec_key(r)
        if k not in by_key:
            unmatched.append(r)
        elif iso(by_key[k][0]) != r.get('@timestamp'):
            badtime.append((r.get('@timestamp'), iso(by_key[k][0]), k))
    c.ok(not unmatched, 'every record is a SYN tcpdump saw on %s' % lab.veth_host,
         '\n'.join(json.dumps(r) for r in unmatched[:10]))
    c.ok(not badtime, "every record's @timestamp is the packet time tcpdump saw",
         '\n'.join('record %s tcpdump %s %s' % b for b in badtime[:10]))


def check_record_fields(c, recs, lab, host, iface_info=True):
    bad = []
    iface_missing = 0
    for r in recs:
        v6 = 'LocalAddressIP6' in r
        want_name = 'NetworkConnectIP6' if v6 else 'NetworkConnectIP4'
        problems = []
        if r.get('event_simpleName') != want_name:
            problems.append('event_simpleName')
        if r.get('ComputerName') != host:
            problems.append('ComputerName != %s' % host)
        if (r.get('LocalAddressIP6') if v6 else r.get('LocalAddressIP4')) != (HOST_ADDR6 if v6 else HOST_ADDR4):
            problems.append('LocalAddress')
        if r.get('Protocol') != 6:
            problems.append('Protocol')
        if not re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z', r.get('@timestamp', '')):
            problems.append('@timestamp')
        if 'InterfaceName' in r and r['InterfaceName'] != lab.veth_host:
            problems.append('InterfaceName')
        if 'InterfaceName' not in r:
            iface_missing += 1
        if 'UserName' in r or 'ImageFileName' in r:
            problems.append('process fields present (attribution: off)')
        if problems:
            bad.append('%s: %s' % (', '.join(problems), json.dumps(r)))
    c.ok(not bad, 'record fields: event_simpleName, ComputerName=%s (local source), LocalAddress=%s/%s, '
         'Protocol 6' % (host, HOST_ADDR4, HOST_ADDR6), '\n'.join(bad[:10]))
    if iface_missing and iface_info:
        c.info('%d of %d records have no InterfaceName (DESIGN: "when known"; live it is %s)'
               % (iface_missing, len(recs), lab.veth_host))


def expected_alerts(recs, threshold, host):
    """The alerts the default rules give on these records, streaming: a group
    (one remote address and port here: ComputerName, user and image are the same
    for all) alerts when its count reaches the threshold, at that connection."""
    groups = {}
    for r in sorted(recs, key=lambda r: r['@timestamp']):
        ra = r.get('RemoteAddressIP4') or r.get('RemoteAddressIP6')
        groups.setdefault((ra, r['RemotePort']), []).append(r)
    out = {}
    for (ra, port), rs in groups.items():
        if len(rs) < threshold or port not in PROTO_OF_PORT:
            continue
        fire = rs[threshold - 1]
        proto = PROTO_OF_PORT[port]
        v6 = ':' in ra
        a = {'Suspicion': LEVEL_OF[proto], 'Protocol': proto, 'ConnectionCount': str(threshold),
             'ComputerName': host,
             ('RemoteAddressIP6' if v6 else 'RemoteAddressIP4'): ra, 'RemotePort': str(port),
             ('LocalAddressIP6' if v6 else 'LocalAddressIP4'): HOST_ADDR6 if v6 else HOST_ADDR4,
             'LocalPort': str(fire['LocalPort']),
             'FirstSeen': rs[0]['@timestamp'], 'LastSeen': fire['@timestamp'],
             'Rule': RULE_OF[proto]}
        out[(ra, port)] = a
    return out


def alert_key(a):
    ra = a.get('RemoteAddressIP4') or a.get('RemoteAddressIP6')
    return (ra, int(a.get('RemotePort', 0)))


def check_alerts(c, sensor, want, facility='local3'):
    """want: {(addr, port): logfmt fields as strings}. Syslog and JSON both."""
    sys_alerts = sensor.wait_syslog_alerts(len(want), 10)
    got = {}
    for pri, f in sys_alerts:
        got.setdefault(alert_key(f), []).append((pri, f))
    c.eq(sorted(got), sorted(want), 'syslog ALERT lines: one per alerting group')
    for k, w in sorted(want.items()):
        g = got.get(k)
        if not g:
            continue
        pri, f = g[0]
        c.eq(pri, '%s.%s' % (facility, SEVERITY_OF[w['Suspicion']]),
             'syslog %s %s port %d: priority' % (w['Protocol'], k[0], k[1]))
        c.eq(f, w, 'syslog %s %s port %d: fields' % (w['Protocol'], k[0], k[1]))
    js = sensor.json_alerts() or []
    jgot = {}
    for a in js:
        jgot.setdefault(alert_key(a), []).append(a)
    c.eq(sorted(jgot), sorted(want), 'JSON alert file: one object per alerting group')
    for k, w in sorted(want.items()):
        g = jgot.get(k)
        if not g:
            continue
        a = g[0]
        as_text = {kk: str(v) for kk, v in a.items() if kk not in ('@timestamp', 'event_simpleName')}
        c.eq(as_text, w, 'JSON alert %s %s port %d: fields as in syslog' % (w['Protocol'], k[0], k[1]))
        c.eq((a.get('event_simpleName'), a.get('@timestamp')), ('BrokerwatchAlert', w['LastSeen']),
             'JSON alert %s: event_simpleName, @timestamp = the connection that fired' % w['Protocol'])
        keys = list(a)
        c.ok(keys[:2] == ['@timestamp', 'event_simpleName'] and keys[-1] == 'Rule',
             'JSON alert %s: key order' % w['Protocol'], keys)


def need(tools):
    miss = labmod.missing_tools(tools)
    if miss:
        print('SKIP: missing programs; apt-get install %s' % ' '.join(miss))
        sys.exit(SKIP)


# ------------------------------------------------------------------ cases
def case_basic(a, c):
    host = hostname()
    with Lab(('mosquitto', 'prosody', 'rabbitmq'), keep=a.keep) as lab:
        fail_point('lab-up')
        lab.start_rsyslog()
        wit = Witness(lab)
        bw = Sensor(lab, a.brokerwatch, c)
        bw.wait_active()
        check_privileges(c, bw.proc.pid)
        fail_point('capture-active')
        cl = Clients(lab, c)
        cl.mqtt_pub()
        cl.mqtt_pub()              # MQTT group at 2: alert
        cl.mqtt_sub()
        cl.mqtt_sub()              # same group (no process attribution): 3, 4, no new alert
        cl.xmpp()
        cl.xmpp()
        cl.amqp()
        cl.amqp()
        cl.stomp()
        cl.stomp()
        cl.mqtt_pub(NS_ADDR6)
        cl.mqtt_pub(NS_ADDR6)      # IPv6: an alert with RemoteAddressIP6
        cl.xmpp(NS_ADDR6)          # IPv6 once: a record, no alert
        fail_point('clients')
        n = len(cl.made)
        # alerts are live: they reach syslog before the daemon is stopped
        live_alerts = bw.wait_syslog_alerts(5, 15)
        c.eq(len(live_alerts), 5, 'the 5 alerts reached rsyslogd while brokerwatch was running')
        c.ok(bw.running(), 'brokerwatch still running after the connections')
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        syns = wit.stop()
        c.eq(wit.dropped, 0, 'tcpdump witness dropped nothing')
        c.eq(len(syns), n, 'tcpdump witness saw one SYN per connection made (%d)' % n)
        recs = bw.records()
        c.eq(len(recs), n, 'records file: one record per connection made')
        want_targets = sorted((addr, port) for _, addr, port in cl.made)
        got_targets = sorted((r.get('RemoteAddressIP4') or r.get('RemoteAddressIP6'), r.get('RemotePort'))
                             for r in recs)
        c.eq(got_targets, want_targets, 'records: the remote addresses and ports of the connections')
        c.eq(len(set(rec_key(r) for r in recs)), len(recs), 'records: no duplicates')
        check_records_vs_witness(c, recs, syns, lab)
        check_record_fields(c, recs, lab, host)
        check_stats(c, bw.stats(), n)
        want = expected_alerts(recs, 2, host)
        c.eq(sorted((w['Protocol'], k[0]) for k, w in want.items()),
             sorted([('MQTT', NS_ADDR4), ('MQTT', NS_ADDR6), ('XMPP', NS_ADDR4), ('AMQP', NS_ADDR4),
                     ('STOMP', NS_ADDR4)]),
             'the records give the 5 expected alerting groups')
        check_alerts(c, bw, want)
    check_no_leftovers(c, lab)


def case_reload(a, c):
    host = hostname()
    with Lab(('mosquitto', 'prosody'), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c, threshold=2)
        bw.wait_active()
        cl = Clients(lab, c)
        cl.xmpp()                                   # XMPP group: 1 connection
        time.sleep(0.5)
        # 1. a broken file: errors logged, not reloaded, still detecting
        good = open(bw.config).read()
        broken = good.replace('threshold: 2', 'threshhold: 3') + 'window: 24 hours\n'
        bw.write_config(text=broken)
        start = len(bw.lines())
        bw.send(signal.SIGHUP)
        i = bw.wait_line(r'%s: has errors, not reloading' % re.escape(bw.config), 10, start)
        c.ok(i is not None, 'SIGHUP, broken file: "%s: has errors, not reloading"' % bw.config,
             '\n'.join(bw.lines()[start:]))
        errs = bw.lines()[start:i] if i is not None else []
        c.ok(any('threshhold' in l for l in errs) and any('window' in l for l in errs),
             'SIGHUP, broken file: every error is logged (the unknown key and the bad duration)',
             '\n'.join(bw.lines()[start:]))
        c.ok(any(re.search(r'brokerwatch\.yaml:\d+', l) for l in errs),
             'SIGHUP, broken file: the errors name FILE:LINE', '\n'.join(errs))
        c.ok(not any('configuration reloaded' in l for l in bw.lines()[start:]),
             'SIGHUP, broken file: no "configuration reloaded"')
        time.sleep(0.5)
        c.ok(bw.running(), 'SIGHUP, broken file: brokerwatch keeps running')
        cl.mqtt_pub()
        cl.mqtt_pub()
        al = bw.wait_syslog_alerts(1, 10)
        c.ok(len(al) == 1 and al[0][1].get('Protocol') == 'MQTT' and al[0][1].get('ConnectionCount') == '2',
             'after the broken reload it keeps detecting with threshold 2: MQTT alert, ConnectionCount=2',
             al)
        # 2. fixed, with a changed threshold - and a snaplen, which needs a restart
        bw.capture = '  snaplen: 128\n'
        bw.write_config(threshold=3)
        start = len(bw.lines())
        bw.send(signal.SIGHUP)
        i = bw.wait_line(r'configuration reloaded', 10, start)
        c.ok(i is not None, 'SIGHUP, fixed file (threshold 3): "configuration reloaded"',
             '\n'.join(bw.lines()[start:]))
        if i is not None:
            c.info(bw.lines()[i])
        restart = 'capture.snaplen changed: it takes effect when brokerwatch is restarted'
        c.ok(any(restart in l for l in bw.lines()[start:]), 'SIGHUP, snaplen changed: "%s"' % restart,
             '\n'.join(bw.lines()[start:]))
        # the same file again: the capture still runs with the snaplen it started with
        start = len(bw.lines())
        bw.send(signal.SIGHUP)
        i = bw.wait_line(r'configuration reloaded', 10, start)
        c.ok(i is not None and any(restart in l for l in bw.lines()[start:]),
             'SIGHUP again, the same file: the snaplen change is still pending and said again',
             '\n'.join(bw.lines()[start:]))
        cl.mqtt_pub(NS_ADDR6)
        cl.mqtt_pub(NS_ADDR6)
        cl.mqtt_pub(NS_ADDR6)                       # the 3rd fires under threshold 3
        cl.xmpp()
        cl.xmpp()                                   # XMPP: 3 with the one before the reloads
        bw.wait_syslog_alerts(3, 10)
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        recs = bw.records()
        c.eq(len(recs), len(cl.made), 'records: one per connection made')
        alerts = sorted((f.get('Protocol'), f.get('RemoteAddressIP4') or f.get('RemoteAddressIP6'),
                         f.get('ConnectionCount')) for _, f in bw.syslog_alerts())
        c.eq(alerts, sorted([('MQTT', NS_ADDR4, '2'), ('MQTT', NS_ADDR6, '3'), ('XMPP', NS_ADDR4, '3')]),
             'alerts: MQTT IPv4 at 2 (old threshold), MQTT IPv6 at 3 (new threshold, not at 2), '
             'XMPP at 3 (group counters kept over the reload)')
        want = expected_alerts(recs, 2, host)
        want3 = expected_alerts(recs, 3, host)
        full = {(NS_ADDR4, 1883): want.get((NS_ADDR4, 1883)), (NS_ADDR6, 1883): want3.get((NS_ADDR6, 1883)),
                (NS_ADDR4, 5222): want3.get((NS_ADDR4, 5222))}
        if all(full.values()):
            check_alerts(c, bw, full)
        check_stats(c, bw.stats(), len(cl.made))
    check_no_leftovers(c, lab)


PROTOCOLS_1884 = """\
protocols:
  MQTT: [1883, 8883, 1884]
  XMPP: [5222, 5223, 5269]
  AMQP: [5672, 5671]
  STOMP: [61613, 61614]
max_groups: 1000
"""


def case_reload_filter(a, c):
    """SIGHUP with other ports: the capture filter follows; group counters
    start again when max_groups changes."""
    host = hostname()
    with Lab(('mosquitto',), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c)
        bw.wait_active()
        base = open(bw.config).read()
        cl = Clients(lab, c)
        cl.mqtt_pub(port=1884)
        cl.mqtt_pub(port=1884)                     # not watched yet: no record
        cl.mqtt_pub()                              # 1883: 1 connection before the reload
        bw.write_config(text=base + PROTOCOLS_1884)
        start = len(bw.lines())
        bw.send(signal.SIGHUP)
        c.ok(bw.wait_line('configuration reloaded', 10, start) is not None,
             'SIGHUP, port 1884 added to MQTT: "configuration reloaded"', '\n'.join(bw.lines()[start:]))
        c.ok(bw.wait_line('capture filter updated', 10, start) is not None,
             'SIGHUP, port 1884 added: "capture filter updated"', '\n'.join(bw.lines()[start:]))
        c.ok(bw.wait_line('group counters', 10, start) is not None,
             'SIGHUP, max_groups changed: the reset of the group counters is logged',
             '\n'.join(bw.lines()[start:]))
        time.sleep(0.3)
        cl.mqtt_pub(port=1884)
        cl.mqtt_pub(port=1884)                     # watched now: 2 records, an alert
        cl.mqtt_pub()
        cl.mqtt_pub()                              # 1883: counters started again -> fires at the 2nd
        bw.write_config(text=base)
        start = len(bw.lines())
        bw.send(signal.SIGHUP)
        c.ok(bw.wait_line('capture filter updated', 10, start) is not None,
             'SIGHUP, back to the default ports: "capture filter updated"', '\n'.join(bw.lines()[start:]))
        time.sleep(0.3)
        cl.mqtt_pub(port=1884)
        cl.mqtt_pub(port=1884)                     # not watched again: no record
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        recs = bw.records()
        c.eq([r.get('RemotePort') for r in recs], [1883, 1884, 1884, 1883, 1883],
             'records: 1884 only while it was watched')
        want = expected_alerts(recs[1:], 2, host)   # counters started again after the 1st
        c.eq(sorted(want), [(NS_ADDR4, 1883), (NS_ADDR4, 1884)], 'expected alerting groups')
        check_alerts(c, bw, want)
    check_no_leftovers(c, lab)


def case_reload_nogap(a, c, iface=None):
    """SIGHUP under a steady stream of SYNs, the ports changing every time:
    the filter is swapped without a moment in which packets are rejected
    (libpcap's pcap_setfilter() rejects everything while it drains the
    socket: SYNs lost there are counted nowhere). A reload that leaves the
    ports alone leaves the filter alone. SYNs to an unwatched port run from
    before the start: none is a record, not even those already in the ring
    when the filter was attached. With -i any (iface 'any') the program's
    loads from the cooked header are moved as the kernel needs."""
    reloads = 20
    with Lab((), keep=a.keep) as lab:
        lab.start_rsyslog()
        stop_flag, watched_on = threading.Event(), threading.Event()
        sent = {5223: 0, 2222: 0, 'failed': 0}

        def flood():
            while not stop_flag.is_set():
                for i in range(200):
                    port = 5223 if i % 2 and watched_on.is_set() else 2222
                    s = socket.socket()
                    s.setblocking(False)
                    if s.connect_ex((NS_ADDR4, port)) == errno.EINPROGRESS:
                        sent[port] += 1
                    else:
                        sent['failed'] += 1
                    s.close()
                time.sleep(0.001)         # a steady stream, not one that starves the daemon
        t = threading.Thread(target=flood, daemon=True)
        t.start()
        updated, reloaded, same = 0, None, []
        try:
            bw = Sensor(lab, a.brokerwatch, c, iface=iface)
            bw.wait_active()
            gap = [l for l in bw.lines() if 'not the one compiled' in l]
            c.ok(not gap, 'the kernel runs the program compiled here: reloads swap it at once', gap)
            base = open(bw.config).read()
            watched_on.set()
            time.sleep(0.3)
            for k in range(reloads):
                bw.write_config(text=base + PROTOCOLS_1884 if k % 2 == 0 else base)
                start = len(bw.lines())
                bw.send(signal.SIGHUP)
                if bw.wait_line('capture filter updated', 10, start) is not None:
                    updated += 1
                time.sleep(0.05)
            # the same ports again: the filter stays as it is
            start = len(bw.lines())
            bw.send(signal.SIGHUP)
            reloaded = bw.wait_line('configuration reloaded', 10, start)
            time.sleep(0.5)
            same = [l for l in bw.lines()[start:] if 'capture filter' in l]
            time.sleep(0.3)
        finally:
            watched_on.clear()
            time.sleep(0.1)               # the last SYN to 5223 is on the link
            stop_flag.set()
            t.join(30)
        c.eq(updated, reloads, 'SIGHUP with other ports, %d times: "capture filter updated" each time' % reloads)
        c.ok(reloaded is not None and not same,
             'SIGHUP with the same ports: reloaded, the capture filter left alone', same)
        time.sleep(0.5)
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        c.info('%d SYNs to port 5223 during %d filter changes, %d to port 2222 from before the start '
               '(%d connect() failures)' % (sent[5223], reloads, sent[2222], sent['failed']))
        c.ok(sent[5223] >= 1000, 'the stream had SYNs to lose (%d >= 1000)' % sent[5223])
        all_recs = bw.records()
        recs = [r for r in all_recs if r.get('RemotePort') == 5223 and rec_key(r)[2] == NS_ADDR4]
        other = [r for r in all_recs if r.get('RemotePort') != 5223]
        c.ok(not other, 'no record of a SYN to an unwatched port (%d sent, from before the filter was '
             'attached)' % sent[2222], other[:3])
        st = bw.stats() or {}
        c.info({k: st.get(k) for k in ('packets', 'syn', 'records') + LIVE_COUNTERS})
        kd, rd = st.get('kernel_dropped'), st.get('ring_dropped')
        c.ok(isinstance(kd, int) and isinstance(rd, int) and len(recs) + kd + rd == sent[5223],
             'every SYN to the watched port is a record or a counted drop: %d records + %s kernel_dropped '
             '+ %s ring_dropped = %d sent' % (len(recs), kd, rd, sent[5223]))
        kr, pk = st.get('kernel_received'), st.get('packets')
        c.ok(isinstance(kr, int) and isinstance(kd, int) and pk == kr - kd,
             'packets = kernel_received - kernel_dropped (%s = %s - %s): the SYNs to port 2222 in the ring '
             'before the filter are not counted as passed' % (pk, kr, kd))
        # source ports come round again: a connection is its 4-tuple at its time
        c.eq(len(set(rec_key(r) + (r.get('@timestamp'),) for r in recs)), len(recs), 'records: no duplicates')
    check_no_leftovers(c, lab)

class NotifySocket:
    """systemd's side of sd_notify: a datagram socket collecting the messages."""

    def __init__(self, lab):
        self.path = lab.path('notify.sock')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)      # the daemon sends as nobody after start-up
        self.msgs = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        while True:
            try:
                d = self.sock.recv(4096)
            except OSError:
                return
            self.msgs.append((time.monotonic(), d.decode('utf-8', 'replace')))

    def since(self, t0):
        return [(t, m) for t, m in list(self.msgs) if t >= t0]

    def wait(self, text, t0, seconds=10):
        wait_for(lambda: any(text in m for _, m in self.since(t0)), seconds)
        return [m for _, m in self.since(t0)]

    def close(self):
        self.sock.close()


def case_notify(a, c):
    """sd_notify and the watchdog on a silent link (IPv4 only: no IPv6
    chatter on the veth), and a SIGHUP that adds a port while nothing
    crosses the link: the new filter must be in force at once."""
    wd_usec = 2000000
    with Lab(('mosquitto',), keep=a.keep, ipv6=False) as lab:
        lab.start_rsyslog()
        ns = NotifySocket(lab)
        env = dict(os.environ, NOTIFY_SOCKET=ns.path, WATCHDOG_USEC=str(wd_usec))
        t0 = time.monotonic()
        bw = Sensor(lab, a.brokerwatch, c, env=env)
        bw.wait_active()
        msgs = ns.wait('READY=1', t0)
        c.ok(msgs[:1] == ['READY=1'], 'sd_notify: READY=1 first, once the capture is active', msgs)
        # 1. a silent link for 3 watchdog periods
        t1 = time.monotonic()
        time.sleep(3 * wd_usec / 1e6)
        pings = [t for t, m in ns.since(t1) if 'WATCHDOG=1' in m]
        times = [t1] + pings + [time.monotonic()]
        gap = max(b - a_ for a_, b in zip(times, times[1:]))
        warned = [l for l in bw.lines() if 'watchdog' in l]
        c.ok(gap < wd_usec / 1e6 and not warned,
             'silent link: WATCHDOG=1 at least every WATCHDOG_USEC (%.1f s) and no watchdog warning '
             '(%d pings in %.1f s, longest gap %.2f s)' % (wd_usec / 1e6, len(pings), times[-1] - t1, gap),
             '\n'.join(warned[:5]))
        # 2. SIGHUP adding port 1884, still nothing on the link
        bw.write_config(text=open(bw.config).read() + PROTOCOLS_1884)
        t2 = time.monotonic()
        start = len(bw.lines())
        bw.send(signal.SIGHUP)
        msgs = ns.wait('READY=1', t2)
        c.ok(msgs[:2] == ['RELOADING=1', 'READY=1'], 'sd_notify: SIGHUP -> RELOADING=1, READY=1', msgs)
        i = bw.wait_line('capture filter updated', 3, start)
        c.ok(i is not None, 'silent link: the new capture filter (port 1884) is in force within 3 s of the '
             'SIGHUP', '\n'.join(l for l in bw.lines()[start:] if 'watchdog' not in l))
        cl = Clients(lab, c)
        cl.mqtt_pub(port=1884)
        cl.mqtt_pub(port=1884)
        c.ok(wait_for(lambda: len(bw.records()) == 2, 5), 'the first connections to the new port are records',
             'records: %d' % len(bw.records()))
        t3 = time.monotonic()
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        msgs = ns.wait('STOPPING=1', t3, 2)
        c.ok('STOPPING=1' in msgs, 'sd_notify: SIGTERM -> STOPPING=1', msgs)
        c.eq(len(bw.records()), 2, 'records at exit: the 2 connections to port 1884')
        ns.close()
    check_no_leftovers(c, lab)


def case_any(a, c):
    """-i any: the same records and alerts; InterfaceName, when given, is where
    the SYN was seen (DESIGN: "VlanId, InterfaceName - where it was seen,
    when known"), not the pseudo-device "any"."""
    host = hostname()
    with Lab(('mosquitto',), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c, iface='any')
        bw.wait_active()
        cl = Clients(lab, c)
        cl.mqtt_pub()
        cl.mqtt_pub()
        cl.mqtt_pub(NS_ADDR6)
        cl.mqtt_pub(NS_ADDR6)
        bw.wait_syslog_alerts(2, 10)
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        recs = [r for r in bw.records() if rec_key(r)[2] in (NS_ADDR4, NS_ADDR6)]
        c.eq(len(recs), 4, 'records: one per connection to the lab (any other host traffic aside)')
        c.eq(len(bw.records()), len(recs), 'no other records (nothing else connects to watched ports here)')
        names = sorted(set(r.get('InterfaceName', '(absent)') for r in recs))
        c.ok(names in (['(absent)'], [lab.veth_host]),
             'InterfaceName is where the SYN was seen (%s) or absent, not "any"' % lab.veth_host,
             'InterfaceName values: %s' % names)
        for r in recs:
            r.pop('InterfaceName', None)
        check_record_fields(c, recs, lab, host, iface_info=False)
        check_alerts(c, bw, expected_alerts(recs, 2, host))
    check_no_leftovers(c, lab)


def case_logrotate(a, c):
    with Lab(('mosquitto',), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c)
        bw.wait_active()
        cl = Clients(lab, c)
        cl.mqtt_pub()
        cl.mqtt_pub()
        c.ok(wait_for(lambda: len(bw.json_alerts() or []) == 1, 10),
             'first alert written to %s' % bw.alerts_path, bw.json_alerts())
        rotated = bw.alerts_path + '.1'
        os.rename(bw.alerts_path, rotated)
        start = len(bw.lines())
        bw.send(signal.SIGHUP)
        c.ok(bw.wait_line('configuration reloaded', 10, start) is not None,
             'SIGHUP after moving the file away: "configuration reloaded"', '\n'.join(bw.lines()[start:]))
        cl.mqtt_pub(NS_ADDR6)
        cl.mqtt_pub(NS_ADDR6)
        c.ok(wait_for(lambda: os.path.exists(bw.alerts_path) and len(bw.json_alerts() or []) == 1, 10),
             'a new %s is created with the next alert' % bw.alerts_path,
             'exists: %s, content: %s' % (os.path.exists(bw.alerts_path), bw.json_alerts()))
        new = bw.json_alerts() or []
        old = read_jsonl(rotated) or []
        c.ok(len(new) == 1 and new[0].get('RemoteAddressIP6') == NS_ADDR6,
             'the new file holds the IPv6 alert only', new)
        c.ok(len(old) == 1 and old[0].get('RemoteAddressIP4') == NS_ADDR4,
             'the moved file holds the first alert only, nothing written after the SIGHUP', old)
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        c.eq(len(bw.records()), len(cl.made), 'records: one per connection made')
    check_no_leftovers(c, lab)


def case_burst(a, c):
    loops, per_loop = a.burst_loops, a.burst_per_loop
    total = loops * per_loop
    with Lab(('mosquitto',), keep=a.keep) as lab:
        lab.start_rsyslog()
        wit = Witness(lab)
        bw = Sensor(lab, a.brokerwatch, c)
        bw.wait_active()
        done = []          # (time.time() at exit, rc)
        lock = threading.Lock()
        stop_flag = threading.Event()

        def loop():
            for i in range(per_loop):
                if stop_flag.is_set():
                    return
                try:
                    r = subprocess.run(['mosquitto_pub', '-h', NS_ADDR4, '-t', 'burst', '-m', str(i)],
                                       capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
                    rc = r.returncode
                except subprocess.TimeoutExpired:
                    rc = None
                with lock:
                    done.append((time.time(), rc))
        threads = [threading.Thread(target=loop, daemon=True) for _ in range(loops)]
        t_start = time.time()
        for t in threads:
            t.start()
        try:
            wait_for(lambda: len(done) >= total * 0.4, 120, 0.005)
            t_sig = time.time()
            bw.send(signal.SIGTERM)
            n_before = len(done)
            rc = bw.proc.wait(60)
            for t in threads:
                t.join(180)
        finally:
            stop_flag.set()
        t_end = time.time()
        c.info('%d mosquitto_pub in %d parallel loops, %.1f s; SIGTERM after %d had completed'
               % (total, loops, t_end - t_start, n_before))
        c.eq(rc, 0, 'SIGTERM during the burst: exit status')
        bad = [x for x in done if x[1] != 0]
        c.ok(not bad, 'every mosquitto_pub succeeded (%d)' % len(done), bad[:5])
        syns = wit.stop()
        c.eq(wit.dropped, 0, 'tcpdump witness dropped nothing')
        c.eq(len(syns), total, 'tcpdump witness saw %d SYNs' % total)
        recs = bw.records()
        st = bw.stats()
        completed_before = sum(1 for t, _ in done if t < t_sig)
        c.ok(len(recs) >= completed_before,
             'records (%d) >= connections completed before SIGTERM (%d)' % (len(recs), completed_before))
        c.eq(len(set(rec_key(r) for r in recs)), len(recs), 'records: no duplicates')
        check_records_vs_witness(c, recs, syns, lab)
        t_sig_us = int(t_sig * 1e6)
        have = set(rec_key(r) for r in recs)
        lost = [s for s in syns if s[0] < t_sig_us and (s[1], s[2], s[3], s[4]) not in have]
        c.ok(not lost, 'every SYN sent before SIGTERM is a record (%d SYNs before the signal, %d records)'
             % (sum(1 for s in syns if s[0] < t_sig_us), len(recs)),
             'lost: %d; the last: %s' % (len(lost), [(iso(s[0]), s[2]) for s in lost[-5:]]))
        after = sum(1 for s in syns if s[0] >= t_sig_us)
        c.info('SYNs after the signal: %d (of them recorded: %d)'
               % (after, sum(1 for s in syns if s[0] >= t_sig_us and (s[1], s[2], s[3], s[4]) in have)))
        if st is not None:
            c.eq(st.get('records'), len(recs), '--stats records = lines in the records file')
            kr, kd, pk = st.get('kernel_received'), st.get('kernel_dropped'), st.get('packets')
            c.info('kernel_received=%s kernel_dropped=%s packets=%s' % (kr, kd, pk))
            if isinstance(kr, int) and isinstance(kd, int) and isinstance(pk, int) and pk != kr - kd:
                # pcap_stats is read after the capture stopped: packets that
                # arrived after the signal are counted as received, never read
                c.info('%d packets delivered by the kernel were not read (kernel_received - '
                       'kernel_dropped - packets); every SYN before the signal was' % (kr - kd - pk))
        check_stats(c, st, None)
    check_no_leftovers(c, lab)


def case_backlog(a, c):
    """SIGTERM while the capture thread is behind: the kernel has delivered SYNs
    that brokerwatch has not read yet (here: the daemon is stopped with SIGSTOP
    while 100 mosquitto_pub connect, then SIGTERM, then SIGCONT). Every one of
    them was delivered before the signal and must become a record."""
    n = 100
    with Lab(('mosquitto',), keep=a.keep) as lab:
        lab.start_rsyslog()
        wit = Witness(lab)
        bw = Sensor(lab, a.brokerwatch, c)
        bw.wait_active()
        cl = Clients(lab, c)
        cl.mqtt_pub()
        cl.mqtt_pub()
        c.ok(wait_for(lambda: len(bw.records()) == 2 or len(bw.syslog_alerts()) == 1, 10),
             'the first 2 connections are seen while running')
        os.kill(bw.proc.pid, signal.SIGSTOP)
        try:
            threads = []
            for k in range(4):
                t = threading.Thread(target=lambda: [cl.mqtt_pub(quiet=True) for _ in range(n // 4)],
                                     daemon=True)
                t.start()
                threads.append(t)
            for t in threads:
                t.join(120)
            time.sleep(0.5)
            os.kill(bw.proc.pid, signal.SIGTERM)
        finally:
            os.kill(bw.proc.pid, signal.SIGCONT)
        rc = bw.proc.wait(60)
        c.eq(rc, 0, 'SIGTERM with a backlog: exit status')
        made = len(cl.made)
        c.eq(made, n + 2, 'connections completed before SIGTERM')
        syns = wit.stop()
        c.eq(wit.dropped, 0, 'tcpdump witness dropped nothing')
        c.eq(len(syns), made, 'tcpdump witness saw one SYN per connection')
        st = bw.stats() or {}
        c.info('stats: %s' % {k: st.get(k) for k in ('packets', 'syn', 'records') + LIVE_COUNTERS})
        c.eq(st.get('kernel_dropped'), 0, 'kernel_dropped (the 64 MiB buffer held the backlog)')
        recs = bw.records()
        c.eq(len(recs), made, 'every connection completed before SIGTERM is a record '
             '(the kernel had delivered them all: kernel_received=%s)' % st.get('kernel_received'))
        c.eq(st.get('records'), len(recs), '--stats records = lines in the records file')
        check_records_vs_witness(c, recs, syns, lab)
    check_no_leftovers(c, lab)


def case_signals(a, c):
    # without -d: the operational messages go to syslog (facility daemon)
    with Lab(('mosquitto',), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c, debug=False)
        bw.wait_active()
        c.ok(bw.lines()[0].startswith('daemon.'), 'without -d, "capture active" goes to syslog, '
             'facility daemon', bw.lines())
        check_privileges(c, bw.proc.pid)
        cl = Clients(lab, c)
        cl.mqtt_pub()
        cl.mqtt_pub()
        bw.wait_syslog_alerts(1, 10)
        start = len(bw.lines())
        bw.send(signal.SIGUSR1)
        i = bw.wait_line(r'statistics: ', 10, start)
        if c.ok(i is not None, 'SIGUSR1 logs a "statistics:" line (syslog, facility daemon)',
                '\n'.join(bw.lines()[start:])):
            line = bw.lines()[i]
            c.info(line)
            kv = dict(re.findall(r'(\w+)=(\d+)', line))
            c.eq(kv.get('records'), '2', 'statistics line: records=2')
            c.ok('kernel_received' in kv, 'statistics line: kernel_received is there', line)
            for k in ('kernel_dropped', 'ring_dropped'):
                if k in kv:
                    c.eq(kv[k], '0', 'statistics line: %s' % k)
                else:
                    c.info('statistics line has no %s (zero counters are left out of the line)' % k)
        c.ok(bw.running(), 'SIGUSR1: brokerwatch keeps running')
        c.eq(bw.stderr(), [], 'without -d nothing goes to stderr while running')
        cl.mqtt_pub()
        rc = bw.stop(signal.SIGINT)
        c.eq(rc, 0, 'SIGINT: exit status 0 (as SIGTERM)')
        c.ok(wait_for(lambda: any('signal 2' in l or 'stopping' in l for l in bw.lines()), 5),
             'SIGINT: the stop is logged to syslog', bw.lines())
        st = bw.stats()
        c.eq(len(bw.stderr()), 1, 'stderr at exit: only the --stats JSON line')
        check_stats(c, st, 3)
        if st:
            c.ok(all(isinstance(st.get(k), int) for k in LIVE_COUNTERS),
                 'live counters are integers', {k: st.get(k) for k in LIVE_COUNTERS})
            c.ok(isinstance(st.get('kernel_received'), int) and st['kernel_received'] >= 3,
                 'kernel_received >= the 3 SYNs', st.get('kernel_received'))
        c.eq(len(bw.records()), 3, 'records: 3')
        c.info('syslog: ' + ' | '.join(bw.lines()))
    check_no_leftovers(c, lab)


def case_retransmit(a, c):
    """Retransmitted SYNs of one attempt are one record, one connection."""
    host = hostname()
    with Lab((), keep=a.keep) as lab:
        src = lab.unanswered_source()
        lab.start_rsyslog()
        wit = Witness(lab)
        bw = Sensor(lab, a.brokerwatch, c)
        bw.wait_active()
        # two attempts in parallel, unanswered for 4 s: SYNs at 0, 1 and 3 s each
        argv = ['nc', '-s', src, '-w', '4', NS_ADDR4, '5223']
        ps = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) for _ in range(2)]
        for p in ps:
            p.wait(30)
        time.sleep(0.3)
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        syns = wit.stop()
        c.eq(wit.dropped, 0, 'tcpdump witness dropped nothing')
        attempts = {}
        for s in syns:
            attempts.setdefault((s[1], s[2]), []).append(s[0])
        c.ok(len(attempts) == 2 and all(len(v) >= 2 for v in attempts.values()),
             'two attempts, each with retransmitted SYNs (%s SYNs)' % [len(v) for v in attempts.values()],
             attempts)
        recs = bw.records()
        c.eq(len(recs), 2, 'records: one per attempt, not one per SYN')
        c.eq(sorted((r.get('LocalAddressIP4'), r.get('LocalPort'), r.get('@timestamp')) for r in recs),
             sorted((k[0], k[1], iso(min(v))) for k, v in attempts.items()),
             'records: the first SYN of each attempt')
        st = bw.stats() or {}
        c.eq((st.get('syn'), st.get('syn_retransmit'), st.get('records')),
             (len(syns), len(syns) - 2, 2), '--stats syn, syn_retransmit, records')
        al = bw.wait_syslog_alerts(1, 5)
        c.eq([(f.get('Protocol'), f.get('RemotePort'), f.get('ConnectionCount'), f.get('ComputerName'))
              for _, f in al], [('XMPP', '5223', '2', host)],
             'one alert: XMPP 5223, ConnectionCount=2 (attempts, not SYNs), ComputerName of the host')
    check_no_leftovers(c, lab)


def case_ifgone(a, c):
    """The capture interface disappears: the daemon says so, writes out what
    it had and exits with a failure status (systemd's Restart= takes over)."""
    with Lab(('mosquitto',), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c)
        bw.wait_active()
        cl = Clients(lab, c)
        cl.mqtt_pub()
        cl.mqtt_pub()
        c.ok(wait_for(lambda: len(bw.syslog_alerts()) == 1, 10), 'alert before the interface goes')
        labmod.run(['ip', 'link', 'del', lab.veth_host])
        lab.created_veth = False
        rc = bw.proc.wait(20)
        c.ok(rc not in (0, None), 'interface deleted: brokerwatch exits with a failure status (%s)' % rc,
             '\n'.join(bw.lines()))
        c.ok(any(lab.veth_host in l and ('disappeared' in l or 'capture' in l) for l in bw.lines()),
             'the message names the interface', '\n'.join(bw.lines()))
        c.eq(len(bw.records()), 2, 'records written before the exit')
        c.eq(len(bw.json_alerts() or []), 1, 'JSON alert written before the exit')
        st = bw.stats()
        c.ok(st is not None and st.get('records') == 2, '--stats printed at exit', st)
    check_no_leftovers(c, lab)


def syn_flood(n):
    """n connection attempts from the host's TCP stack to a closed port (5223)
    of the namespace (answered by RST): n SYNs in a fraction of a second."""
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((NS_ADDR4, 5223))
        s.close()


def case_drops(a, c):
    """The drop counters count: kernel drops (the daemon stopped while its
    1 MiB kernel buffer overflows) and ring drops (the scoring thread blocked
    on a records FIFO nobody reads, ring of 1024)."""
    n = 3000
    with Lab((), keep=a.keep) as lab:
        lab.start_rsyslog()
        # 1. kernel drops
        bw = Sensor(lab, a.brokerwatch, c, capture='  buffer_mib: 1\n')
        bw.wait_active()
        os.kill(bw.proc.pid, signal.SIGSTOP)
        try:
            syn_flood(n)
            time.sleep(0.5)
        finally:
            os.kill(bw.proc.pid, signal.SIGCONT)
        # the statistics are those the threads last published: ask until the
        # capture thread, running again, has published its drops (at most 5 s)
        line, kv = '', {}
        for attempt in range(10):
            time.sleep(0.5)
            start = len(bw.lines())
            bw.send(signal.SIGUSR1)
            i = bw.wait_line('statistics: ', 10, start)
            line = bw.lines()[i] if i is not None else ''
            kv = dict(re.findall(r'(\w+)=(\d+)', line))
            if int(kv.get('kernel_dropped', 0)) > 0:
                break
        c.ok(int(kv.get('kernel_dropped', 0)) > 0, 'kernel drops: SIGUSR1 statistics show kernel_dropped > 0',
             line)
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'kernel drops: SIGTERM exit status')
        st = bw.stats() or {}
        kr, kd, pk = st.get('kernel_received'), st.get('kernel_dropped'), st.get('packets')
        c.info('kernel drops: %s' % {k: st.get(k) for k in ('packets', 'syn', 'records') + LIVE_COUNTERS})
        c.ok(isinstance(kd, int) and kd > 0, 'kernel drops: --stats kernel_dropped > 0 (%s)' % kd)
        c.ok(isinstance(kr, int) and kr >= n, 'kernel drops: kernel_received counts the dropped too (%s >= %d)'
             % (kr, n))
        c.ok(isinstance(pk, int) and isinstance(kr, int) and isinstance(kd, int) and pk == kr - kd,
             'kernel drops: packets = kernel_received - kernel_dropped (%s = %s - %s)' % (pk, kr, kd))
        c.eq(len(bw.records()), st.get('records'), 'kernel drops: records file = --stats records')
        c.eq(st.get('ring_dropped'), 0, 'kernel drops: ring_dropped')
        # 2. ring drops
        fifo = lab.path('out', 'records.fifo')
        os.mkfifo(fifo, 0o600)
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)   # a reader that does not read yet
        os.rename(bw.alerts_path, bw.alerts_path + '.1')
        bw2 = Sensor(lab, a.brokerwatch, c, capture='  ring_size: 1024\n', records_path=fifo)
        try:
            bw2.wait_active()
            syn_flood(n)
            time.sleep(1)
            got = bytearray()
            done = threading.Event()

            def drain():
                while True:
                    try:
                        b = os.read(rfd, 65536)
                    except BlockingIOError:
                        if done.is_set():
                            return
                        time.sleep(0.01)
                        continue
                    if not b:
                        return
                    got.extend(b)
            t = threading.Thread(target=drain, daemon=True)
            t.start()
            rc = bw2.stop(signal.SIGTERM)
            done.set()
            t.join(10)
        finally:
            os.close(rfd)
        c.eq(rc, 0, 'ring drops: SIGTERM exit status')
        st = bw2.stats() or {}
        c.info('ring drops: %s' % {k: st.get(k) for k in ('packets', 'syn', 'records') + LIVE_COUNTERS})
        rd = st.get('ring_dropped')
        c.ok(isinstance(rd, int) and rd > 0, 'ring drops: --stats ring_dropped > 0 (%s)' % rd)
        written = bytes(got).count(b'\n')
        c.ok(isinstance(rd, int) and written + rd == st.get('records'),
             'ring drops: records written (%d) + ring_dropped (%s) = --stats records (%s)'
             % (written, rd, st.get('records')))
        c.eq(st.get('kernel_dropped'), 0, 'ring drops: kernel_dropped')
    check_no_leftovers(c, lab)


def case_refuse(a, c):
    with Lab((), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c, user='no-such-user-xyz')
        rc = bw.proc.wait(30)
        err = '\n'.join(bw.lines())
        c.eq(rc, 78, 'user: no-such-user-xyz -> exit status')
        c.ok('no-such-user-xyz' in err, 'the message names the user', err)
        c.info('stderr: ' + ' | '.join(bw.lines()))
        c.ok(not any('capture active' in l for l in bw.lines()), 'no "capture active"', err)
    check_no_leftovers(c, lab)


def case_cleanup(a, c):
    """Runs this script's basic case as a child that fails on purpose, or is
    interrupted, and checks that what it created is gone."""
    me = os.path.abspath(__file__)
    active = 'PASS: brokerwatch logs "capture active'
    scenarios = [  # (what, extra arguments, signal, line that triggers it, delay)
        ('a check fails after the brokers are up', ['--fail-at', 'lab-up'], None, None, 0),
        ('a check fails while brokerwatch captures', ['--fail-at', 'capture-active'], None, None, 0),
        ('SIGTERM while rabbitmq-server starts', [], signal.SIGTERM, 'lab: directory', 2.0),
        ('SIGINT (Ctrl-C) while brokerwatch captures', [], signal.SIGINT, active, 0),
        ('SIGTERM while brokerwatch captures', [], signal.SIGTERM, active, 0),
        ('a meson timeout (SIGTERM, SIGKILL 0.5 s later, to the process group) while brokerwatch '
         'captures', [], 'meson', active, 0),
    ]
    for what, extra, sig, trigger, delay in scenarios:
        argv = [sys.executable, me, '--brokerwatch', a.brokerwatch, '--case', 'basic'] + extra
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        out = []
        pids = {}
        where = {}
        lock = threading.Lock()

        def track(pid):
            with lock:
                labmod.track_pid(pids, pid)

        def snapshot():
            """The child's processes as they are now: itself, its descendants
            and everything in its namespace."""
            labmod.snapshot_pids(track, [p.pid], where.get('ns'))

        def interrupt(sig=sig):
            snapshot()
            try:
                if sig == 'meson':      # what meson's mtest does on a timeout
                    os.killpg(p.pid, signal.SIGTERM)
                    time.sleep(0.5)
                    os.killpg(p.pid, signal.SIGKILL)
                else:
                    os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
        track(p.pid)
        killer = threading.Timer(300, lambda: os.kill(p.pid, signal.SIGKILL))
        killer.daemon = True
        killer.start()
        timer = None
        for line in p.stdout:
            out.append(line.rstrip('\n'))
            m = re.match(r'lab: directory (\S+), namespace (\S+), veth (\S+) ', line)
            if m:
                where['d'], where['ns'], where['veth'] = m.groups()
            if trigger is not None and timer is None and line.startswith(trigger):
                timer = threading.Timer(delay, interrupt)
                timer.start()
            if line.startswith('lab: started') or line.startswith('PASS: brokerwatch logs'):
                snapshot()
            if line.startswith('lab: failing on purpose'):
                snapshot()
        rc = p.wait(120)
        killer.cancel()
        if timer is not None:
            timer.join()
        d, ns, veth = where.get('d'), where.get('ns'), where.get('veth')
        c.ok(rc not in (0, None) and ns is not None, '%s: the run fails (exit %s)' % (what, rc),
             '\n'.join(out[-30:]))
        c.info('%s: the child said: %s' % (what, ' | '.join(l for l in out if l.startswith('FAIL') or
                                                               'failing on purpose' in l)[:300]))
        if ns is None:
            continue

        def leftovers():
            return labmod.leftovers(ns, (veth,), d, pids)
        # a SIGKILLed test leaves the removal to its guardian: give it time
        wait_for(lambda: not leftovers(), 60, 0.5)
        left = leftovers()
        c.ok(not left, '%s: nothing left (namespace %s, veth %s, routes, %d pids, %s)'
             % (what, ns, veth, len(pids), d), '\n'.join(left))


# ------------------------------------------------------------------ attribution
STRICT_PROFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'conf',
                              'brokerwatch-strict.yaml')


NEW_ADDR4 = '203.0.113.7'    # added to the host's veth while the sensor runs


def copy_program(src, dst, mode=0o755):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    d = os.path.dirname(dst)
    while d.startswith('/tmp/') and len(d) > len('/tmp/'):
        os.chmod(d, 0o755)
        d = os.path.dirname(d)
    shutil.copyfile(shutil.which(src) or src, dst)
    os.chmod(dst, mode)
    return dst


def check_attribution(c, recs, made, backend, parent_required=True):
    """Every record against the client the test started for it. A record
    names the client's pid, executable and user, or says it could not
    (AttributionSource uid-only or none); never another process."""
    by_pid = {k['pid']: k for k in made}
    wrong, missing_fields, seen, no_cmd = [], [], {}, []
    counts = {}
    for r in recs:
        src = r.get('AttributionSource')
        counts[src] = counts.get(src, 0) + 1
        ra = r.get('RemoteAddressIP4') or r.get('RemoteAddressIP6')
        if src in ('ebpf', 'proc'):
            k = by_pid.get(r.get('ContextProcessId'))
            if k is None:
                wrong.append('pid %s is none of the clients: %s' % (r.get('ContextProcessId'), json.dumps(r)))
                continue
            seen.setdefault(k['pid'], []).append(r)
            probs = []
            if (ra, r.get('RemotePort')) != (k['addr'], k['port']):
                probs.append('target %s:%s, the client connected to %s:%s'
                             % (ra, r.get('RemotePort'), k['addr'], k['port']))
            if r.get('ImageFileName') != k['exe']:
                probs.append('ImageFileName %r, want %r' % (r.get('ImageFileName'), k['exe']))
            if r.get('UserName') != k['user']:
                probs.append('UserName %r, want %r' % (r.get('UserName'), k['user']))
            if r.get('ParentProcessId') != os.getpid():
                probs.append('ParentProcessId %r, want %d' % (r.get('ParentProcessId'), os.getpid()))
            if 'ParentImageFileName' not in r and not parent_required:
                pass     # the parent's /proc was not readable: unknown, not wrong
            elif r.get('ParentImageFileName') != os.path.realpath(sys.executable):
                probs.append('ParentImageFileName %r, want %r' % (r.get('ParentImageFileName'),
                                                                 os.path.realpath(sys.executable)))
            cmd = r.get('CommandLine')
            if cmd is None:
                no_cmd.append(k['pid'])      # read as the process exited: unknown, not wrong
            elif not cmd.endswith(' '.join(k['argv'][1:])):
                probs.append('CommandLine %r does not end with the arguments %r'
                             % (cmd, ' '.join(k['argv'][1:])))
            if probs:
                wrong.append('%s (pid %d): %s' % (k['what'], k['pid'], '; '.join(probs)))
        elif src == 'uid-only':
            users = {k['user'] for k in made if (k['addr'], k['port']) == (ra, r.get('RemotePort'))}
            if r.get('UserName') not in users or 'ImageFileName' in r or 'ContextProcessId' in r:
                wrong.append('uid-only record names %r/%r; the clients to %s:%s ran as %s: %s'
                             % (r.get('UserName'), r.get('ImageFileName'), ra, r.get('RemotePort'),
                                sorted(users), json.dumps(r)))
        elif src == 'none':
            if 'UserName' in r or 'ImageFileName' in r:
                wrong.append('AttributionSource none with process fields: %s' % json.dumps(r))
        else:
            missing_fields.append(json.dumps(r))
    c.ok(not missing_fields, 'every record of this host carries AttributionSource',
         '\n'.join(missing_fields[:10]))
    c.ok(not wrong, '%s: no record names a wrong process, user or executable' % backend,
         '\n'.join(wrong[:20]))
    if backend == 'ebpf':
        c.ok(not no_cmd, 'ebpf: every named record has the CommandLine exec saw', no_cmd)
    elif no_cmd:
        c.info('proc: %d records named a process without its CommandLine (it was exiting)' % len(no_cmd))
    twice = [p for p, rs in seen.items() if len(rs) > 1]
    c.ok(not twice, 'no client is named by two records', twice)
    exact = len(seen)
    c.info('%s: %d of %d clients attributed exactly; sources %s'
           % (backend, exact, len(made), ', '.join('%s=%d' % kv for kv in sorted(counts.items()))))
    return seen


def attr_alert_key(a):
    return (a.get('UserName'), a.get('ImageFileName'), a.get('RemotePort'), a.get('Rule'))


def case_attrib(a, c, backend):
    host = hostname()
    if backend == 'ebpf':
        v = subprocess.run([a.brokerwatch, '--version'], capture_output=True, text=True).stdout
        if 'eBPF' not in v:
            print('SKIP: this brokerwatch is built without eBPF (--version: %s)' % v.strip().replace('\n', '; '))
            sys.exit(SKIP)
    with Lab(('mosquitto', 'prosody', 'rabbitmq'), keep=a.keep) as lab:
        lab.start_rsyslog()
        bw = Sensor(lab, a.brokerwatch, c, attrib=backend)
        bw.wait_active()
        want_line = {'ebpf': r'process attribution: eBPF', 'proc': r'process attribution: NETLINK_SOCK_DIAG'}
        c.ok(bw.wait_line(want_line[backend], 5) is not None,
             'brokerwatch logs "%s"' % want_line[backend], '\n'.join(bw.lines()[-20:]))
        check_privileges(c, bw.proc.pid, 1 << CAP_SYS_PTRACE | 1 << CAP_DAC_READ_SEARCH)
        k = Clients(lab, c)
        tmp = lab.path('programs')
        updater = copy_program('mosquitto_pub', os.path.join(tmp, 'x', 'updater'))
        samename = copy_program('mosquitto_pub', os.path.join(tmp, 'opt', 'bin', 'mosquitto_pub'))

        # phase 1: the default rules (mosquitto clients by name are low)
        t0 = time.monotonic()
        fire = [k.mqtt_pub(quiet=True) for _ in range(100)]
        c.info('100 fire-and-forget mosquitto_pub ran in %.1f s' % (time.monotonic() - t0))
        fire.append(k.mqtt_pub(NS_ADDR6, what='mosquitto_pub over IPv6'))
        k.mqtt_sub()
        xmpp = k.xmpp()
        k.amqp()
        k.stomp()
        upd = [k.mqtt_pub_held(updater, user='nobody', what='updater (a mosquitto_pub copy) as nobody')
               for _ in range(2)]
        for _ in range(2):
            k.mqtt_pub_held(samename, what='mosquitto_pub copied to another folder')

        # an address that comes while the sensor runs is this host's at once
        subprocess.run(['ip', 'addr', 'add', NEW_ADDR4 + '/32', 'dev', lab.veth_host], check=True)
        time.sleep(0.2)
        newaddr = k.xmpp(source=NEW_ADDR4, what='nc from a new address')

        # phase 2: the strict profile (mosquitto clients only by their path in /usr/bin)
        start = len(bw.lines())
        with open(STRICT_PROFILE) as f:
            # and port 1884 for MQTT: the kernel's reports follow the watched ports
            bw.rules = f.read() + PROTOCOLS_1884.replace('max_groups: 1000\n', '')
        bw.write_config()
        bw.send(signal.SIGHUP)
        c.ok(bw.wait_line(r'configuration reloaded', 10, start) is not None,
             'SIGHUP: the strict profile is loaded', '\n'.join(bw.lines()[-20:]))
        # the capture thread takes the new kernel filter between two reads
        c.ok(bw.wait_line(r'capture filter updated', 10, start) is not None,
             'SIGHUP: the capture filter has port 1884', '\n'.join(bw.lines()[-20:]))
        time.sleep(0.2)     # and the scoring thread its mail (the kernel's ports with it)
        p1884 = k.mqtt_pub(port=1884, what='mosquitto_pub to port 1884, watched since the reload')
        same2 = [k.mqtt_pub_held(samename, what='mosquitto_pub copied to another folder (strict)')
                 for _ in range(2)]
        for _ in range(2):
            k.mqtt_pub_held(shutil.which('mosquitto_pub'), what='/usr/bin/mosquitto_pub (strict)')
        fd = os.memfd_create('updater', 0)
        with open(shutil.which('mosquitto_sub'), 'rb') as f:
            os.write(fd, f.read())
        mem = [k.mqtt_sub(binary='/proc/self/fd/%d' % fd, exe='/memfd:updater', pass_fds=(fd,),
                          what='mosquitto_sub run from a memfd') for _ in range(2)]
        os.close(fd)
        py = os.path.realpath('/usr/bin/python3')   # Debian's, whatever runs this test
        ghost = [k.deleted_python(copy_program(py, os.path.join(tmp, 'y', 'ghost%d' % i)))
                 for i in range(2)]
        # the ghosts were one program at two paths: make them one group by path
        time.sleep(1)
        rc = bw.stop(signal.SIGTERM)
        c.eq(rc, 0, 'SIGTERM: exit status')
        st = bw.stats() or {}
        recs = bw.records()
        c.eq(len(recs), len(k.made), 'one record per connection made')
        seen = check_attribution(c, recs, k.known, backend)
        fire_ok = sum(1 for x in fire if x['pid'] in seen)
        long_ok = [x for x in k.known if x['long_lived'] and x['pid'] not in seen]
        c.ok(not long_ok, '%s: every client that held its connection is attributed exactly' % backend,
             '\n'.join('%s pid %d' % (x['what'], x['pid']) for x in long_ok))
        if backend == 'ebpf':
            c.eq(fire_ok, len(fire), 'ebpf: every fire-and-forget mosquitto_pub attributed exactly')
            c.ok(p1884['pid'] in seen, 'ebpf: a fire-and-forget client to a port watched since the '
                 'reload is attributed exactly')
            c.eq(len(seen), len(k.known), 'ebpf: every client attributed exactly')
        else:
            c.info('proc: %d of %d fire-and-forget mosquitto_pub attributed exactly (the rest: uid-only '
                   'or none, never wrong); the benchmark bench/attrib measures the share' % (fire_ok, len(fire)))
        fromnew = [r for r in recs if r.get('LocalAddressIP4') == NEW_ADDR4]
        c.eq([(r.get('ComputerName'), r.get('ContextProcessId'), r.get('AttributionSource')) for r in fromnew],
             [(host, newaddr['pid'], backend)],
             'an address added while running (%s) is this host\'s: ComputerName, attributed' % NEW_ADDR4)
        deleted = [r for r in recs if r.get('ImageDeleted')]
        c.eq(sorted(r.get('ContextProcessId') for r in deleted), sorted(x['pid'] for x in mem + ghost),
             'ImageDeleted on the memfd and the self-deleted programs only')
        c.ok(all(r.get('AttributionSource') == backend for r in recs if r.get('ContextProcessId')),
             'AttributionSource of every named record is %s' % backend)
        c.info('stats: ' + ' '.join('%s=%s' % (n, v) for n, v in sorted(st.items()) if n.startswith('attrib')))
        c.eq(sum(st.get('attrib_' + n, 0) for n in ('ebpf', 'proc', 'uid_only', 'none')), len(recs),
             '--stats attrib_ebpf + attrib_proc + attrib_uid_only + attrib_none = records of this host')

        # alerts: the groups whose program the rules call high
        js = bw.json_alerts() or []
        got = {}
        for al in js:
            got.setdefault(attr_alert_key(al), []).append(al)
        want = {
            ('nobody', updater, 1883, 'mqtt-unknown-client'): upd,
            ('root', samename, 1883, 'mqtt-other-program'): same2,
            ('root', '/memfd:updater', 1883, 'deleted-or-memfd-program'): mem,
            ('root', xmpp['exe'], 5222, 'xmpp-or-stomp'): [xmpp, newaddr],   # from two local addresses
        }
        for g in ghost:
            want[('root', g['exe'], 1883, 'deleted-or-memfd-program')] = None   # one each: no alert
        for key, clients in want.items():
            if clients is None:
                c.ok(key not in got, 'no alert for a single connection of %s' % key[1])
                continue
            al = got.get(key, [])
            if not c.eq(len(al), 1, 'one alert for %s (user %s, rule %s)' % (key[1], key[0], key[3])):
                continue
            al = al[0]
            c.eq((al.get('Suspicion'), al.get('ConnectionCount'), al.get('ContextProcessId'),
                  al.get('AttributionSource')),
                 ('high', 2, clients[1]['pid'], backend),
                 'alert for %s: high, 2 connections, pid of the second client, %s' % (key[1], backend))
        others = [al for kk, al in got.items() if kk not in want]
        if backend == 'ebpf':
            c.ok(not others, 'ebpf: no other alert (the packaged and same-name clients are low)',
                 '\n'.join(json.dumps(x) for x in others[:5]))
        else:
            named = [x for al in others for x in al if x.get('ImageFileName')]
            c.ok(not named, 'proc: other alerts only for clients it could not name (the query calls an '
                 'unknown MQTT program high)', '\n'.join(json.dumps(x) for x in named[:5]))
            c.info('proc: %d alerts for unnamed clients' % sum(len(v) for v in others))
        c.ok(not any(al.get('UserName') == 'root' and al.get('ImageFileName') == samename
                     and al.get('Rule') == 'mqtt-unknown-client' for al in js),
             'default rules: a mosquitto_pub copy that keeps its name is not high')
    check_no_leftovers(c, lab)


UNIT_CAPS = ('net_raw', 'bpf', 'perfmon', 'sys_ptrace', 'dac_read_search')   # systemd/brokerwatch.service


def case_attrib_caps(a, c):
    """Started as the systemd unit starts it: user nobody with the unit's
    ambient capabilities, eBPF loads and only the /proc capabilities stay;
    with CAP_NET_RAW alone, the sensor says once why eBPF is not used and
    names only its own user's processes (others: uid-only)."""
    v = subprocess.run([a.brokerwatch, '--version'], capture_output=True, text=True).stdout
    if 'eBPF' not in v:
        print('SKIP: this brokerwatch is built without eBPF')
        sys.exit(SKIP)
    for caps in (UNIT_CAPS, ('net_raw',)):
        full = caps == UNIT_CAPS
        c.info('--- started as nobody with ambient %s' % ', '.join('CAP_' + x.upper() for x in caps))
        with Lab(('mosquitto',), keep=a.keep) as lab:
            lab.start_rsyslog()
            spec = ','.join('+' + x for x in caps)
            wrap = ['setpriv', '--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups',
                    '--inh-caps', spec, '--ambient-caps', spec, '--']
            bw = Sensor(lab, a.brokerwatch, c, attrib='auto', wrap=wrap)
            bw.wait_active()
            kept = (1 << CAP_SYS_PTRACE | 1 << CAP_DAC_READ_SEARCH) if full else 0
            check_privileges(c, bw.proc.pid, kept)
            lines = bw.lines()
            if full:
                c.ok(any('process attribution: eBPF' in l for l in lines),
                     'the unit\'s capabilities load the eBPF program', '\n'.join(lines[-20:]))
            else:
                why = [l for l in lines if 'eBPF is not available' in l]
                c.eq(len(why), 1, 'without CAP_BPF: said once why eBPF is not used')
                c.ok(why and 'CAP_BPF and CAP_PERFMON' in why[0], 'the message names the capabilities',
                     why)
                c.eq(len([l for l in lines if 'only this user\'s own processes' in l]), 1,
                     'without the /proc capabilities: said once what that means')
            k = Clients(lab, c)
            own = k.mqtt_pub_held('mosquitto_pub', user='nobody', what='mosquitto_pub as nobody')
            other = k.mqtt_pub_held('mosquitto_pub', what='mosquitto_pub as root')
            time.sleep(0.5)
            rc = bw.stop(signal.SIGTERM)
            c.eq(rc, 0, 'SIGTERM: exit status')
            recs = bw.records()
            c.eq(len(recs), 2, 'one record per connection')
            # without CAP_SYS_PTRACE root's (the test's) executable is not readable
            seen = check_attribution(c, recs, k.known, 'ebpf' if full else 'proc', parent_required=full)
            if full:
                c.eq(sorted(r.get('AttributionSource') for r in recs), ['ebpf', 'ebpf'],
                     'both clients named by eBPF')
            else:
                c.ok(own['pid'] in seen, "its own user's client is named through /proc")
                r = [r for r in recs if r.get('UserName') == 'root']
                c.eq([x.get('AttributionSource') for x in r], ['uid-only'],
                     "root's client: uid-only (its /proc is not readable), not a guess")
                c.ok(other['pid'] not in seen, "root's client is not named")
        check_no_leftovers(c, lab)


CASES = {
    'basic': (case_basic, ['mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'prosody', 'nc',
                           'rabbitmq-server', 'epmd', 'amqp-publish', 'stomp', 'tcpdump']),
    'reload': (case_reload, ['mosquitto', 'mosquitto_pub', 'prosody', 'nc']),
    'reload-filter': (case_reload_filter, ['mosquitto', 'mosquitto_pub']),
    'reload-nogap': (case_reload_nogap, []),
    'reload-nogap-any': (lambda a, c: case_reload_nogap(a, c, 'any'), []),
    'any': (case_any, ['mosquitto', 'mosquitto_pub']),
    'notify': (case_notify, ['mosquitto', 'mosquitto_pub']),
    'logrotate': (case_logrotate, ['mosquitto', 'mosquitto_pub']),
    'burst': (case_burst, ['mosquitto', 'mosquitto_pub', 'tcpdump']),
    'signals': (case_signals, ['mosquitto', 'mosquitto_pub']),
    'backlog': (case_backlog, ['mosquitto', 'mosquitto_pub', 'tcpdump']),
    'refuse': (case_refuse, []),
    'drops': (case_drops, []),
    'ifgone': (case_ifgone, ['mosquitto', 'mosquitto_pub']),
    'retransmit': (case_retransmit, ['nc', 'tcpdump']),
    'attrib-ebpf': (lambda a, c: case_attrib(a, c, 'ebpf'),
                    ['mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'prosody', 'nc', 'rabbitmq-server', 'epmd',
                     'amqp-publish', 'stomp', 'python3']),
    'attrib-proc': (lambda a, c: case_attrib(a, c, 'proc'),
                    ['mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'prosody', 'nc', 'rabbitmq-server', 'epmd',
                     'amqp-publish', 'stomp', 'python3']),
    'attrib-caps': (case_attrib_caps, ['mosquitto', 'mosquitto_pub', 'setpriv']),
    'cleanup': (case_cleanup, ['mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'prosody', 'nc',
                               'rabbitmq-server', 'epmd', 'amqp-publish', 'stomp', 'tcpdump']),
}


def main():
    global FAIL_AT
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--brokerwatch', required=True)
    ap.add_argument('--case', required=True, choices=sorted(CASES))
    ap.add_argument('--keep', action='store_true', help='keep the lab directory (logs) for debugging')
    ap.add_argument('--fail-at', choices=['lab-up', 'capture-active', 'clients'],
                    help='fail on purpose at this step (the cleanup case uses it)')
    ap.add_argument('--burst-loops', type=int, default=4)
    ap.add_argument('--burst-per-loop', type=int, default=50)
    a = ap.parse_args()
    FAIL_AT = a.fail_at
    a.brokerwatch = os.path.abspath(a.brokerwatch)
    signal.signal(signal.SIGTERM, labmod.on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # even when started in background
    if os.geteuid() != 0:
        print('SKIP: needs root (network and mount namespaces, capture)')
        return SKIP
    fn, tools = CASES[a.case]
    need(['ip', 'unshare', 'rsyslogd', 'ss'] + tools)
    if not os.access(a.brokerwatch, os.X_OK):
        print('FAIL: %s is not an executable' % a.brokerwatch)
        return 1
    c = Checks(a.case)
    t0 = time.monotonic()
    try:
        fn(a, c)
    except LabError as e:
        c.ok(False, 'the case ran to its end', e)
    except (KeyboardInterrupt, Interrupted) as e:
        c.ok(False, 'the case ran to its end', 'interrupted (%s)' % (e or 'SIGINT'))
    c.info('%.1f s' % (time.monotonic() - t0))
    if c.passed == 0 and c.failed == 0:
        c.ok(False, 'the case checked something')
    return c.summary()


if __name__ == '__main__':
    sys.exit(main())
