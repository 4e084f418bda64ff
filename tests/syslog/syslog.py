#!/usr/bin/env python3
"""syslog.py - alerts reach a real rsyslogd, with the configured facility and a
priority by suspicion, as the same logfmt line the stdout sink prints.

brokerwatch logs through syslog(3), which writes to /dev/log. The test starts
its own rsyslogd on a socket in a temporary directory and runs brokerwatch in
a private mount namespace whose /dev is a fresh tmpfs with that socket bound
at /dev/log: the host's /dev and any system logger are never touched.
Needs root (mount namespaces) and rsyslogd: exits 77 (skipped) without them.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'pylib'))
from bwtest import RSYSLOG_CONF, SKIP, fail, terminate, wait_for  # noqa: E402

CONFIG = """\
window: 24h
threshold: 2
rules:
  - name: xmpp-or-stomp
    protocol: [XMPP, STOMP]
    level: high
  - name: mqtt-medium
    protocol: [MQTT]
    level: medium
  - name: default
    level: low
outputs:
  stdout: true
  json: ""
  syslog:
    enabled: true
    facility: local3
"""


def run_in_ns(d, argv):
    """Runs argv with /dev/log -> d/log.sock, in a private mount namespace."""
    script = ('set -e; mount --make-rprivate /; mount -t tmpfs bwdev /dev; '
              ': > /dev/log; mount --bind "$0/log.sock" /dev/log; exec "$@"')
    return subprocess.run(['unshare', '--mount', 'sh', '-c', script, d] + argv,
                          capture_output=True, text=True, timeout=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--brokerwatch', required=True)
    ap.add_argument('--pcaps', required=True)
    a = ap.parse_args()
    rsyslogd = shutil.which('rsyslogd') or '/usr/sbin/rsyslogd'
    if os.geteuid() != 0:
        print('SKIP: needs root for a private mount namespace')
        return SKIP
    if not os.access(rsyslogd, os.X_OK):
        print('SKIP: rsyslogd is not installed (apt-get install rsyslog)')
        return SKIP

    d = tempfile.mkdtemp(prefix='bw-syslog-')
    proc = None
    try:
        with open(os.path.join(d, 'rsyslog.conf'), 'w') as f:
            f.write(RSYSLOG_CONF.format(d=d, out=os.path.join(d, 'out.log')))
        with open(os.path.join(d, 'bw.yaml'), 'w') as f:
            f.write(CONFIG)
        proc = subprocess.Popen([rsyslogd, '-n', '-f', os.path.join(d, 'rsyslog.conf'),
                                 '-i', os.path.join(d, 'rsyslogd.pid')],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if not wait_for(lambda: os.path.exists(os.path.join(d, 'log.sock')), 10):
            fail('rsyslogd did not create its socket: %s' % proc.stdout.read1(4096))

        pcap = os.path.join(a.pcaps, 'demo.pcap')
        bw = [a.brokerwatch, '-q', '-c', os.path.join(d, 'bw.yaml'), '-r', pcap, '--no-report']
        # without --syslog a replay sends nothing to syslog
        r = run_in_ns(d, bw)
        if r.returncode != 0:
            fail('brokerwatch exited %d: %s' % (r.returncode, r.stderr))
        quiet_lines = r.stdout.splitlines()
        r = run_in_ns(d, bw + ['--syslog'])
        if r.returncode != 0:
            fail('brokerwatch --syslog exited %d: %s' % (r.returncode, r.stderr))
        alerts = [x for x in r.stdout.splitlines() if x.startswith('ALERT ')]
        if len(alerts) < 2 or alerts != quiet_lines:
            fail('stdout alert lines: %r (without --syslog: %r)' % (alerts, quiet_lines))
        out = os.path.join(d, 'out.log')
        if not wait_for(lambda: os.path.exists(out) and
                        open(out).read().count('ALERT ') >= len(alerts), 10):
            fail('rsyslogd got %s' % (open(out).read() if os.path.exists(out) else 'nothing'))
        got = [x for x in open(out).read().splitlines() if 'ALERT ' in x]
        want = []
        for line in alerts:
            sev = 'warning' if 'Suspicion=high' in line else \
                'notice' if 'Suspicion=medium' in line else 'info'
            want.append('local3.%s brokerwatch %s' % (sev, line))
        # rsyslog may put a space before the message
        got = [g.replace('brokerwatch  ALERT', 'brokerwatch ALERT') for g in got]
        if got != want:
            fail('syslog lines differ:\n got: %s\nwant: %s' % ('\n      '.join(got),
                                                              '\n      '.join(want)))
        if not any('notice' in w for w in want) or not any('warning' in w for w in want):
            fail('the capture should give both a high and a medium alert: %s' % want)
        print('ok: %d alerts in syslog, facility local3, priority by suspicion; none '
              'without --syslog' % len(got))
        return 0
    finally:
        if proc is not None:
            terminate(proc, 10)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
