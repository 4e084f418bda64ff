"""bwtest.py - helpers shared by the Python test scripts (tests/query,
tests/replay, tests/syslog, tests/systemd, tests/live, tests/flood) and bench/.

A script imports it with no __pycache__ written into the source tree:

    sys.dont_write_bytecode = True      # no __pycache__ in the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    os.pardir, 'pylib'))
    import bwtest  # noqa: E402
"""

import calendar
import datetime
import json
import os
import signal
import subprocess
import sys
import time

SKIP = 77                       # meson's "skipped" exit status
SYN_FILTER = 'tcp.flags.syn==1 && tcp.flags.ack==0'

# Every counter of the --stats JSON object (the contract).
COUNTERS = """packets bytes bytes_wire link_ethernet link_sll link_sll2 link_raw link_null
link_loop link_unsupported ts_invalid no_timestamp vlan_tagged not_ip ipv4 ipv4_options ipv6
ipv6_ext ip_other tcp udp gre erspan vxlan ipip tunnel_too_deep truncated invalid
link_truncated link_invalid vlan_too_many ipv4_truncated ipv4_invalid ipv6_truncated
ipv6_invalid ipv6_ext_too_many tcp_truncated tcp_invalid udp_truncated udp_invalid
tunnel_truncated tunnel_invalid tunnel_unsupported frag_ipv4 frag_ipv6 frag_ignored
frag_reassembled frag_duplicate frag_overlap frag_invalid frag_truncated frag_too_many
frag_timeout frag_evicted syn syn_retransmit syn_fold_evicted records
watched excluded scored_high scored_medium scored_low regex_errors counted alerts groups groups_expired groups_evicted events_evicted kernel_received kernel_dropped
interface_dropped ring_dropped ring_full_waits attrib_ebpf attrib_proc attrib_uid_only
attrib_none attrib_timeout attrib_pid_reused attrib_events attrib_events_lost
attrib_kernel_lost attrib_known""".split()

# A private rsyslogd: its socket {d}/log.sock (never the system's /dev/log),
# "facility.severity program message" lines to the file {out}.
RSYSLOG_CONF = """\
global(workDirectory="{d}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{d}/log.sock" CreatePath="on")
template(name="t" type="string"
  string="%syslogfacility-text%.%syslogseverity-text% %programname% %msg%\\n")
*.* action(type="omfile" file="{out}" template="t")
"""


# ------------------------------------------------------------ reporting ----

def fail(msg):
    """Prints FAIL: msg and exits 1 (the scripts that stop at the first problem)."""
    print('FAIL:', msg)
    sys.exit(1)


class Suite:
    """Counts cases; one "ok"/"FAIL" line each, the problems and (verbose) the info."""

    def __init__(self, verbose=False):
        self.failed, self.passed = [], 0
        self.verbose = verbose

    def case(self, name, problems, info=()):
        if problems:
            self.failed.append(name)
            print('FAIL %s' % name)
            for p in problems:
                print('    ' + p)
        else:
            self.passed += 1
            print('ok   %s' % name)
        if self.verbose:
            for i in info:
                print('    . ' + i)

    def finish(self):
        """Prints the totals; -> the exit status."""
        print('%d passed, %d failed' % (self.passed, len(self.failed)))
        return 1 if self.failed else 0


def short(text, n=400, empty='<empty>'):
    """Text on one line (" | " between its lines), cut after n characters."""
    text = ' | '.join(l.strip() for l in text.splitlines() if l.strip())
    return (text[:n] + '...') if len(text) > n else (text or empty)


def iso_us(s):
    """'2023-11-14T22:15:28.952098Z' -> integer microseconds since the epoch."""
    d = datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ')
    return calendar.timegm(d.timetuple()) * 1000000 + d.microsecond


def stats_json(stderr):
    """The first --stats JSON object on stderr (text), or None."""
    for l in stderr.splitlines():
        l = l.strip()
        if l.startswith('{'):
            try:
                return json.loads(l)
            except ValueError:
                pass
    return None


# ------------------------------------------------------------ processes ----

def wait_for(pred, seconds, step=0.05):
    """Polls pred every step seconds for up to seconds; -> its last value."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def terminate(proc, timeout):
    """SIGTERM, then SIGKILL when proc has not exited after timeout seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tshark(args, timeout):
    """tshark -n with IP reassembly; -> (status, stdout, stderr) as text."""
    cmd = ['tshark', '-n', '-o', 'ip.defragment:TRUE', '-o', 'ipv6.defragment:TRUE'] + args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


# -------------------------------------------------------- public corpus ----

class OracleError(Exception):
    """The expectation itself could not be built (corpus or tshark problem)."""


def read_tsv(path):
    """Rows of a tab-separated file with a header line, as dicts."""
    with open(path, encoding='utf-8') as f:
        lines = [l.rstrip('\r\n') for l in f if l.strip()]
    head = lines[0].split('\t')
    rows = []
    for n, line in enumerate(lines[1:], 2):
        cols = line.split('\t')
        if len(cols) != len(head):
            raise OracleError('%s line %d: %d columns, header has %d'
                              % (path, n, len(cols), len(head)))
        rows.append(dict(zip(head, cols)))
    return rows


class Corpus:
    """SHARED/pcaps/public: MANIFEST.tsv (the files) and EXPECTED.tsv (their
    SYNs, as tshark saw them), rows by file."""

    def __init__(self, shared):
        self.dir = os.path.join(shared, 'pcaps', 'public')
        self.manifest = read_tsv(os.path.join(self.dir, 'MANIFEST.tsv'))
        self.files = [m['file'] for m in self.manifest]
        self.meta = {m['file']: m for m in self.manifest}
        self.rows = {f: [] for f in self.files}
        for r in read_tsv(os.path.join(self.dir, 'EXPECTED.tsv')):
            if r['file'] not in self.rows:
                raise OracleError('EXPECTED.tsv names %s, which MANIFEST.tsv lacks' % r['file'])
            self.rows[r['file']].append(r)
        self._syns = {}

    def path(self, f):
        return os.path.join(self.dir, f)

    def damaged(self, f):
        return self.meta[f].get('contents', '').strip().lower().startswith('corrupt')
