#!/usr/bin/env python3
"""rsyslog.py - conf/rsyslog-brokerwatch.conf is a valid rsyslog configuration
and does what its comments say.

1. "rsyslogd -N1" accepts the file on its own, and inside Debian's
   /etc/rsyslog.conf in place of /etc/rsyslog.d/*.conf (when that exists).
2. A real rsyslogd runs the file, with the paths and the collector moved into a
   temporary directory and a listener on 127.0.0.1 (the only changes, each
   checked to apply exactly once; the retry interval is 1 s instead of 10 s):
   - only brokerwatch's "ALERT " lines reach alerts.log and the collector;
   - the collector gets RFC 6587 octet-counted RFC 5424 frames, MSGID ALERT;
   - alerts sent while the collector is down, across a restart of rsyslogd,
     arrive once it is up, in order.
Exits 77 (skipped) without rsyslogd.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'pylib'))
from bwtest import SKIP, fail, terminate, wait_for  # noqa: E402

HEADER = """\
global(workDirectory="{d}/spool")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{d}/log.sock" CreatePath="on")
"""

# A catch-all after the example: shows that the example does not swallow
# other messages (it has no active "stop").
TRAILER = """\
*.* action(type="omfile" file="{d}/all.log" template="RSYSLOG_FileFormat")
"""

RFC5424 = re.compile(r'^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$', re.S)


def substitute(text, old, new):
    if text.count(old) != 1:
        fail('%r occurs %d times in the example, expected once' % (old, text.count(old)))
    return text.replace(old, new)


def read_lines(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


class Collector:
    """A TCP syslog receiver for octet-counted frames (RFC 6587 3.4.1)."""

    def __init__(self, port):
        self.frames = []
        self.errors = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        conn.settimeout(0.2)
        buf = b''
        while not self.stopping:
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            while True:
                sp = buf.find(b' ')
                if sp < 0:
                    break
                if not buf[:sp].isdigit():
                    with self.lock:
                        self.errors.append('not octet-counted: %r' % buf[:80])
                    return
                n = int(buf[:sp])
                if len(buf) < sp + 1 + n:
                    break
                with self.lock:
                    self.frames.append(buf[sp + 1:sp + 1 + n].decode('utf-8', 'replace'))
                buf = buf[sp + 1 + n:]
        conn.close()

    def got(self):
        with self.lock:
            return list(self.frames)

    def close(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(2)


class Rsyslogd:
    def __init__(self, rsyslogd, conf, d):
        self.d = d
        self.log = open(os.path.join(d, 'rsyslogd.out'), 'a')
        self.proc = subprocess.Popen([rsyslogd, '-n', '-f', conf, '-i', os.path.join(d, 'pid')],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        sock = os.path.join(d, 'log.sock')
        if not wait_for(lambda: os.path.exists(sock) or self.proc.poll() is not None, 20) \
                or self.proc.poll() is not None:
            self.stop()
            fail('rsyslogd did not start: ' + open(self.log.name).read())

    def stop(self):
        terminate(self.proc, 30)
        self.log.close()
        try:
            os.unlink(os.path.join(self.d, 'log.sock'))
        except FileNotFoundError:
            pass


def send(d, pri, tag, msg):
    """What glibc's syslog(3) sends: RFC 3164 on a datagram socket."""
    stamp = time.strftime('%b %e %H:%M:%S')
    line = '<%d>%s %s: %s' % (pri, stamp, tag, msg)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.sendto(line.encode(), os.path.join(d, 'log.sock'))
    finally:
        s.close()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check_syntax(rsyslogd, example, d):
    r = subprocess.run([rsyslogd, '-N1', '-f', example], capture_output=True, text=True)
    print('rsyslogd -N1 -f %s: exit %d' % (example, r.returncode))
    if r.returncode != 0:
        fail('config check failed:\n' + r.stdout + r.stderr)
    main = '/etc/rsyslog.conf'
    if not os.path.exists(main):
        print('no %s: the check inside the system configuration is left out' % main)
        return
    text = open(main).read()
    inc = re.compile(r'^\s*\$IncludeConfig\s+/etc/rsyslog\.d/\*\.conf\s*$', re.M)
    if not inc.search(text):
        print('%s has no $IncludeConfig /etc/rsyslog.d/*.conf: left out' % main)
        return
    conf = os.path.join(d, 'system.conf')
    with open(conf, 'w') as f:
        f.write(inc.sub('$IncludeConfig ' + example, text))
    r = subprocess.run([rsyslogd, '-N1', '-f', conf], capture_output=True, text=True)
    print('rsyslogd -N1 with %s including it: exit %d' % (main, r.returncode))
    if r.returncode != 0:
        fail('config check inside %s failed:\n%s%s' % (main, r.stdout, r.stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--conf', required=True, help='conf/rsyslog-brokerwatch.conf')
    a = ap.parse_args()
    rsyslogd = shutil.which('rsyslogd') or ('/usr/sbin/rsyslogd'
                                            if os.path.exists('/usr/sbin/rsyslogd') else None)
    if not rsyslogd:
        print('SKIP: rsyslogd is not installed (Debian: apt-get install rsyslog)')
        return SKIP

    d = tempfile.mkdtemp(prefix='bw-rsyslog-')
    collector = None
    daemon = None
    try:
        check_syntax(rsyslogd, a.conf, d)

        os.mkdir(os.path.join(d, 'spool'))
        port = free_port()
        text = open(a.conf).read()
        text = substitute(text, '"/var/log/brokerwatch/alerts.log"', '"%s/logs/alerts.log"' % d)
        text = substitute(text, 'queue.spoolDirectory="/var/spool/rsyslog"',
                          'queue.spoolDirectory="%s/spool"' % d)
        text = substitute(text, 'target="siem.example.net"', 'target="127.0.0.1"')
        text = substitute(text, 'port="514"', 'port="%d"' % port)
        text = substitute(text, 'action.resumeInterval="10"', 'action.resumeInterval="1"')
        conf = os.path.join(d, 'rsyslog.conf')
        with open(conf, 'w') as f:
            f.write(HEADER.format(d=d) + text + TRAILER.format(d=d))
        alerts_log = os.path.join(d, 'logs', 'alerts.log')
        all_log = os.path.join(d, 'all.log')

        alert = ['ALERT Suspicion=high Protocol=XMPP ConnectionCount=2 ComputerName=ws01 n=%d' % i
                 for i in range(1, 4)]

        # Phase 1: the collector is down; an alert, and what must not match.
        daemon = Rsyslogd(rsyslogd, conf, d)
        send(d, 132, 'brokerwatch[4242]', 'capture active on eth0 (link type EN10MB, filter: 9 ports)')
        send(d, 132, 'otherprog[77]', 'ALERT Suspicion=high not from brokerwatch')
        send(d, 132, 'brokerwatch[4242]', 'ALERTED is not an alert line')
        send(d, 132, 'brokerwatch[4242]', alert[0])
        if not wait_for(lambda: len(read_lines(all_log)) >= 4, 20):
            fail('rsyslogd did not log the test messages: %r' % read_lines(all_log))
        if not wait_for(lambda: len(read_lines(alerts_log)) >= 1, 10):
            fail('no alert in alerts.log')
        daemon.stop()
        daemon = None
        spooled = [f for f in os.listdir(os.path.join(d, 'spool')) if f.startswith('brokerwatch-fwd')]
        print('collector down, rsyslogd stopped: queue saved as %s' % spooled)
        if not spooled:
            fail('the forwarding queue was not saved to the spool directory')

        # Phase 2: restart, still down; a second alert, then the collector
        # comes up: both arrive (retry), then a third (connected).
        daemon = Rsyslogd(rsyslogd, conf, d)
        send(d, 132, 'brokerwatch[4242]', alert[1])
        time.sleep(1.5)
        collector = Collector(port)
        if not wait_for(lambda: len(collector.got()) >= 2, 60):
            fail('queued alerts did not reach the collector: %r' % collector.got())
        send(d, 133, 'brokerwatch[4242]', alert[2])
        if not wait_for(lambda: len(collector.got()) >= 3, 30):
            fail('the third alert did not reach the collector: %r' % collector.got())
        time.sleep(0.5)
        daemon.stop()
        daemon = None

        # Delivery after an outage is at least once: rsyslog sends again the
        # batch it could not confirm, so a frame may come twice; every alert
        # must come, in order of first arrival, and nothing else.
        frames = collector.got()
        if collector.errors:
            fail('collector: %s' % collector.errors)
        seen = []
        for i, frame in enumerate(frames):
            print('collector frame %d: %s' % (i + 1, frame))
            m = RFC5424.match(frame)
            if not m:
                fail('not an RFC 5424 message: %r' % frame)
            pri, stamp, _host, app, procid, msgid, sd, msg = m.groups()
            if msg not in alert:
                fail('frame %d is not one of the alerts: %r' % (i + 1, msg))
            want_pri = '133' if msg == alert[2] else '132'
            if (pri, app, procid, msgid, sd) != (want_pri, 'brokerwatch', '4242', 'ALERT', '-'):
                fail('frame %d: %r' % (i + 1, m.groups()))
            if not re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$', stamp):
                fail('frame %d: time stamp %r is not RFC 3339 with microseconds' % (i + 1, stamp))
            if frame.endswith('\n'):
                fail('frame %d ends with a line feed' % (i + 1))
            if msg not in seen:
                seen.append(msg)
        if seen != alert:
            fail('the collector got %r, expected %r' % (seen, alert))
        print('collector: %d frames, %d alerts, %d sent again after the outage'
              % (len(frames), len(seen), len(frames) - len(seen)))

        lines = read_lines(alerts_log)
        print('alerts.log:\n  ' + '\n  '.join(lines))
        if len(lines) != 3 or [ln.split(' ', 2)[2] for ln in lines] != ['brokerwatch[4242]: ' + x for x in alert]:
            fail('alerts.log holds %r' % lines)
        mode = os.stat(alerts_log).st_mode & 0o777
        if mode != 0o640:
            fail('alerts.log has mode %o, expected 640' % mode)
        if len(read_lines(all_log)) < 6:
            fail('the example swallowed messages: all.log has %r' % read_lines(all_log))
        print('PASS: rsyslog example')
        return 0
    finally:
        if daemon:
            daemon.stop()
        if collector:
            collector.close()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
