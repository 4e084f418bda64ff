#!/usr/bin/env python3
"""lab.py - a throw-away network with real brokers, for brokerwatch's live tests.

A Lab creates, and removes again whatever happens:
  - a network namespace bw-live-<pid> and a veth pair: the namespace side
    (bwn<pid>) has 203.0.113.10/24 and 2001:db8:113::10/64, the host side
    (bwh<pid>) 203.0.113.1/24 and 2001:db8:113::1/64; the host reaches the
    namespace's "internet" addresses over that pair, so a sensor capturing on
    the host side sees every SYN the host's clients send;
  - inside the namespace (each with its own configuration, data, logs and pid
    file in the lab's temporary directory, never the system services):
    mosquitto (MQTT 1883 on 0.0.0.0 and ::, and 8883 and 1884 - not watched
    by default - on 0.0.0.0), prosody (XMPP 5222 on 0.0.0.0 and ::), an epmd
    of the namespace's own, and rabbitmq-server (AMQP 5672, STOMP 61613
    through rabbitmq_stomp, node bw<pid>@localhost);
  - a real rsyslogd on its own socket, writing
    "%syslogfacility-text%.%syslogseverity-text% %programname% %msg%" lines;
  - brokerwatch (or any other program) in a private mount namespace whose /dev
    is a small tmpfs with that socket bound at /dev/log (the host's /dev and any
    system logger are never touched), capturing on the host side of the veth.

Everything is stopped by pid (each program is started in a session of its own
and its process group is signalled; then every process left in the namespace,
which can only be the lab's own, is killed), the namespace and the veth are
deleted, and the lab checks that nothing of it is left (Lab.leftovers()).
The test's own finally/trap cannot run when it is SIGKILLed (meson does that
0.5 s after its SIGTERM on a timeout): a guardian process in a session of its
own, told of every pid and name the lab creates, then removes the lab.
Concurrent labs on one machine are serialised with a lock, since they all use
the same addresses.

Run by hand to get a shell-usable lab:  python3 tests/live/lab.py [--no-rabbitmq]
(prints the names and addresses, keeps everything up until Ctrl-C).
"""
import errno
import fcntl
import json
import os
import pwd
import shutil
import signal
from signal import SIGTERM
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'pylib'))
from bwtest import RSYSLOG_CONF, wait_for  # noqa: E402

NS_ADDR4 = '203.0.113.10'
HOST_ADDR4 = '203.0.113.1'
NS_ADDR6 = '2001:db8:113::10'
HOST_ADDR6 = '2001:db8:113::1'
NET4 = '203.0.113.0/24'
NET6 = '2001:db8:113::/64'
LOCK = '/run/lock/brokerwatch-live.lock'

PACKAGES = {  # program -> Debian package
    'ip': 'iproute2', 'ss': 'iproute2', 'unshare': 'util-linux', 'mount': 'mount',
    'rsyslogd': 'rsyslog', 'tcpdump': 'tcpdump',
    'mosquitto': 'mosquitto', 'mosquitto_pub': 'mosquitto-clients',
    'mosquitto_sub': 'mosquitto-clients', 'nc': 'netcat-openbsd',
    'prosody': 'prosody', 'epmd': 'erlang-base',
    'amqp-publish': 'amqp-tools', 'stomp': 'python3-stomp',
}
RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'


class LabError(Exception):
    pass


class Interrupted(BaseException):
    """Raised by the SIGTERM handler (meson's timeout), like KeyboardInterrupt."""


def on_sigterm(signum, frame):
    raise Interrupted('signal %d' % signum)


def missing_tools(names):
    """The Debian packages that would bring the programs that are missing."""
    miss = set()
    for n in names:
        if n == 'rabbitmq-server':
            if not os.access(RABBITMQ_SERVER, os.X_OK):
                miss.add('rabbitmq-server')
        elif shutil.which(n) is None and not os.access('/usr/sbin/' + n, os.X_OK):
            miss.add(PACKAGES.get(n, n))
    return sorted(miss)


def which(n):
    return shutil.which(n) or '/usr/sbin/' + n


def run(argv, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)
    if check and r.returncode != 0:
        raise LabError('%s: exit %d: %s' % (' '.join(argv), r.returncode,
                                            (r.stderr or r.stdout).strip()))
    return r


def start_time(pid):
    """The start time of pid (clock ticks since boot), None when it is gone:
    with the pid it names one process, even if the pid is used again."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ('Z', 'X'):
        return None
    return int(fields[19])


def pid_alive(pid, started=None):
    """pid still runs (not a zombie) and, when `started` is given, is still
    the process that had that start time."""
    t = start_time(pid)
    return t is not None and (started is None or t == started)


def child_pids(root):
    """Every descendant of root (from /proc)."""
    kids = {}
    for e in os.listdir('/proc'):
        if e.isdigit():
            try:
                with open('/proc/%s/stat' % e) as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(e))
    out, todo = set(), [root]
    while todo:
        x = todo.pop()
        for k in kids.get(x, []):
            if k not in out:
                out.add(k)
                todo.append(k)
    return out


class Proc:
    """A program the lab started: Popen in its own session, output to a file
    (or, with lines=True, collected line by line by a thread)."""

    def __init__(self, name, argv, logpath, env=None, lines=False, stdin=None):
        self.name = name
        self.logpath = logpath
        self.lines = []
        self._cond = threading.Condition()
        self._log = open(logpath, 'w')
        if lines:
            self.p = subprocess.Popen(argv, stdin=stdin or subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.PIPE,
                                      env=env, start_new_session=True)
            self._t = threading.Thread(target=self._reader, daemon=True)
            self._t.start()
        else:
            self.p = subprocess.Popen(argv, stdin=stdin or subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      env=env, start_new_session=True)
            self._t = None
        self.pid = self.p.pid

    def _reader(self):
        for raw in self.p.stderr:
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
            self._log.write(line + '\n')
            self._log.flush()

    def wait_line(self, pred, seconds, start=0):
        """Index of the first collected stderr line from `start` on that
        satisfies pred, or None after `seconds` (or when the program ended)."""
        end = time.monotonic() + seconds
        with self._cond:
            while True:
                for i in range(start, len(self.lines)):
                    if pred(self.lines[i]):
                        return i
                left = end - time.monotonic()
                if left <= 0:
                    return None
                if self.p.poll() is not None and (self._t is None or not self._t.is_alive()):
                    return None
                self._cond.wait(min(left, 0.1))

    def output(self):
        if self._t is not None:
            with self._cond:
                return '\n'.join(self.lines)
        self._log.flush()
        try:
            with open(self.logpath, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def send(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def wait(self, seconds):
        try:
            rc = self.p.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None
        if self._t is not None:
            self._t.join(5)
        return rc

    def stop(self, sig=SIGTERM, grace=15):
        """Signals the program's process group (its own session: only what it
        started itself), then kills it if it is still there after `grace`."""
        # While poll() says the leader runs, it is not reaped: its pid, and so
        # the group id, cannot have been given to another process. Members of
        # a group whose leader is gone are the namespace's (swept by Lab.down).
        if self.p.poll() is None:
            try:
                os.killpg(self.pid, sig)
                os.killpg(self.pid, signal.SIGCONT)   # in case a test stopped it
            except ProcessLookupError:
                pass
            if self.wait(grace) is None:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.wait(10)
        if self._t is not None:
            self._t.join(5)
        self._log.close()


MOSQUITTO_CONF = """\
# brokerwatch live test: a private mosquitto, never the system service
pid_file {d}/mosquitto/mosquitto.pid
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
allow_anonymous true
listener 1883 0.0.0.0
listener 1883 ::
listener 8883 0.0.0.0
listener 1884 0.0.0.0
"""

PROSODY_CONF = """\
-- brokerwatch live test: a private prosody, never the system service
pidfile = "{d}/prosody/prosody.pid"
data_path = "{d}/prosody/data"
certificates = "{d}/prosody/certs"
plugin_paths = {{}}
admins = {{}}
run_as_root = true
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; "posix" }}
modules_disabled = {{ "s2s"; "tls" }}
c2s_require_encryption = false
s2s_require_encryption = false
allow_registration = false
authentication = "internal_plain"
c2s_interfaces = {{ "0.0.0.0", "::" }}
c2s_ports = {{ 5222 }}
s2s_ports = {{ }}
log = {{ {{ levels = {{ min = "info" }}, to = "console" }} }}
VirtualHost "localhost"
"""

RABBITMQ_CONF = """\
# brokerwatch live test: a private rabbitmq, never the system service
listeners.tcp.default = 5672
loopback_users = none
stomp.listeners.tcp.1 = 61613
stomp.default_user = guest
stomp.default_pass = guest
log.console = true
log.console.level = info
log.file = false
"""

# Runs "$@" in a private mount namespace whose /dev is a tmpfs with a few
# device nodes of the host and the lab's syslog socket at /dev/log.
MOUNTNS_SCRIPT = r'''set -e
d="$0"
mount --make-rprivate /
mount --rbind /dev "$d/dev.host"
mount -t tmpfs -o mode=755 bwdev /dev
for n in null zero full random urandom tty; do
  : > "/dev/$n"; mount --bind "$d/dev.host/$n" "/dev/$n"
done
mkdir /dev/pts /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
: > /dev/log; mount --bind "$d/log.sock" /dev/log
umount -l "$d/dev.host"
exec "$@"
'''


def ns_pids(ns):
    """The pids of every process in network namespace ns."""
    r = run(['ip', 'netns', 'pids', ns], check=False)
    return [int(x) for x in r.stdout.split() if x.isdigit()]


def kill_ns(ns, on_pid=None):
    """SIGKILLs every process in namespace ns (calling on_pid(pid) first),
    again until none is left (at most 50 rounds, 0.1 s apart)."""
    for attempt in range(50):
        pids = ns_pids(ns)
        if not pids:
            break
        for pid in pids:
            if on_pid is not None:
                on_pid(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def track_pid(pids, pid):
    """Records pid with its start time in pids (pid -> start time) unless it
    is there already or gone; -> whether it was added."""
    if pid in pids:
        return False
    t = start_time(pid)
    if t is None:
        return False
    pids[pid] = t
    return True


def snapshot_pids(track, roots, ns=None):
    """Calls track(pid) for every process of a lab as it is now: the roots,
    their descendants, and everything in its namespace ns (when given)."""
    for root in roots:
        track(root)
        for k in child_pids(root):
            track(k)
    if ns:
        for pid in ns_pids(ns):
            track(pid)


def addresses_in_use():
    """The routes and host addresses of the lab's networks now on this host
    (any lab's)."""
    r4 = run(['ip', '-4', 'route', 'show', 'to', 'match', NS_ADDR4], check=False).stdout
    r6 = run(['ip', '-6', 'route', 'show', NET6], check=False).stdout
    a = run(['ip', '-o', 'addr', 'show'], check=False).stdout
    busy = [l for l in r4.splitlines() if l.startswith(NET4)] + r6.splitlines()
    busy += [l for l in a.splitlines() if (' %s/' % HOST_ADDR4) in l or (' %s/' % HOST_ADDR6) in l]
    return busy


def leftovers(ns, links, directory, pids):
    """What of a lab is still on the machine (should be nothing): namespace
    ns, the links, routes or addresses of the lab's networks, the processes
    of pids (pid -> start time) still running, the directory (if given)."""
    left = []
    if ns in run(['ip', 'netns', 'list'], check=False).stdout.split():
        left.append('namespace ' + ns)
    shown = run(['ip', '-o', 'link', 'show'], check=False).stdout
    for v in links:
        if (' %s:' % v) in shown or (' %s@' % v) in shown:
            left.append('link ' + v)
    left += ['route/address ' + x for x in addresses_in_use()]
    left += ['process %d' % p for p, t in sorted(pids.items()) if pid_alive(p, t)]
    if directory and os.path.exists(directory):
        left.append('directory ' + directory)
    return left


def sweep(ns, veth, directory, pids, log=None):
    """Removes a lab from outside: the programs it registered (pid and start
    time, each the leader of a session of its own: its group is signalled only
    while the leader is verifiably alive), everything in its namespace, its
    veth, its namespace and its directory."""
    def say(msg):
        if log:
            try:
                log(msg)
            except OSError:
                pass
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        alive = [(p, t) for p, t in pids.items() if pid_alive(p, t)]
        for p, t in alive:
            say('lab guard: signal %d to %d' % (sig, p))
            try:
                os.killpg(p, sig)
                os.killpg(p, signal.SIGCONT)
            except (ProcessLookupError, PermissionError):
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
        if alive:
            wait_for(lambda: not any(pid_alive(p, t) for p, t in alive), grace, 0.1)
    if ns:
        kill_ns(ns)
    if veth:
        run(['ip', 'link', 'del', veth], check=False)
    if ns:
        run(['ip', 'netns', 'del', ns], check=False)
    if directory and os.path.isdir(directory):
        shutil.rmtree(directory, ignore_errors=True)


def guard_main():
    """lab.py --guard: started by a Lab in a session of its own, so that
    meson's SIGKILL of the test's process group (0.5 s after its SIGTERM on a
    timeout) does not reach it. Reads the lab's registrations as JSON lines on
    standard input; at end of file without {"done": true} - the test died
    before its own tear-down - it removes the lab itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    st = {'ns': None, 'veth': None, 'dir': None, 'keep': False}
    pids = {}
    done = False
    for line in sys.stdin:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get('done'):
            done = True
        if 'pid' in m:
            pids[int(m['pid'])] = int(m['start'])
        for k in st:
            if k in m:
                st[k] = m[k]
    if not done:
        sweep(st['ns'], st['veth'], None if st['keep'] else st['dir'], pids,
              lambda msg: print(msg, file=sys.stderr, flush=True))
        print('lab guard: removed lab %s after its test died' % st['ns'], file=sys.stderr, flush=True)
    return 0


class Lab:
    def __init__(self, brokers=('mosquitto', 'prosody', 'rabbitmq'), log=print, keep=False, ipv6=True):
        self.brokers = tuple(brokers)
        self.ipv6 = ipv6      # False: no IPv6 on the veth at all (a silent link)
        self.log = log
        self.keep = keep
        self.tag = str(os.getpid())
        self.ns = 'bw-live-' + self.tag
        self.veth_host = 'bwh' + self.tag
        self.veth_ns = 'bwn' + self.tag
        self.node = 'bw%s@localhost' % self.tag
        self.dir = None
        self.procs = []
        self.all_pids = {}          # pid -> start time: every process the lab had
        self.created_ns = False
        self.created_veth = False
        self.rsyslog = None
        self._lockf = None
        self._guard = None
        assert len(self.veth_host) <= 15 and len(self.veth_ns) <= 15

    # -------------------------------------------------------------- set-up
    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def _lock(self, seconds=600):
        os.makedirs(os.path.dirname(LOCK), exist_ok=True)
        self._lockf = open(LOCK, 'a')
        end = time.monotonic() + seconds
        told = False
        while True:
            try:
                fcntl.flock(self._lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if not told:
                self.log('lab: waiting for another live test (lock %s)' % LOCK)
                told = True
            if time.monotonic() > end:
                raise LabError('another live test holds %s for more than %d s' % (LOCK, seconds))
            time.sleep(0.5)

    def up(self):
        self._lock()
        if not wait_for(lambda: not addresses_in_use(), 60, 0.5):
            raise LabError('%s or %s is already routed on this host (another lab?):\n  %s'
                           % (NET4, NET6, '\n  '.join(addresses_in_use())))
        self.dir = tempfile.mkdtemp(prefix='bw-live-%s-' % self.tag)
        os.chmod(self.dir, 0o755)   # the daemon reads its config as nobody
        self._guard = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--guard'],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       start_new_session=True, text=True)
        self._tell({'ns': self.ns, 'veth': self.veth_host, 'dir': self.dir, 'keep': self.keep})
        self.log('lab: directory %s, namespace %s, veth %s <-> %s'
                 % (self.dir, self.ns, self.veth_host, self.veth_ns))
        run(['ip', 'netns', 'add', self.ns])
        self.created_ns = True
        run(['ip', 'link', 'add', self.veth_host, 'type', 'veth', 'peer', 'name', self.veth_ns,
             'netns', self.ns])
        self.created_veth = True
        if self.ipv6:
            host_cmds = [['sysctl', '-qw', 'net.ipv6.conf.%s.accept_ra=0' % self.veth_host],
                         ['ip', '-6', 'addr', 'add', HOST_ADDR6 + '/64', 'dev', self.veth_host, 'nodad']]
            ns_cmds = [['ip', '-6', 'addr', 'add', NS_ADDR6 + '/64', 'dev', self.veth_ns, 'nodad']]
        else:
            host_cmds = [['sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % self.veth_host]]
            ns_cmds = [['sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % self.veth_ns]]
        for cmd in host_cmds + [['ip', 'addr', 'add', HOST_ADDR4 + '/24', 'dev', self.veth_host],
                                ['ip', 'link', 'set', self.veth_host, 'up']]:
            run(cmd, check=cmd[2:3] != ['net.ipv6.conf.%s.accept_ra=0' % self.veth_host])
        nsx = ['ip', 'netns', 'exec', self.ns]
        for cmd in [['ip', 'link', 'set', 'lo', 'up'],
                    ['ip', 'addr', 'add', NS_ADDR4 + '/24', 'dev', self.veth_ns]] + ns_cmds + \
                [['ip', 'link', 'set', self.veth_ns, 'up']]:
            run(nsx + cmd)
        if not wait_for(lambda: any(s in run(['ip', 'link', 'show', self.veth_host]).stdout
                                    for s in ('state UP', 'LOWER_UP')), 10):
            raise LabError('veth %s did not come up' % self.veth_host)
        if 'mosquitto' in self.brokers:
            self._start_mosquitto()
        if 'prosody' in self.brokers:
            self._start_prosody()
        if 'rabbitmq' in self.brokers:
            self._start_rabbitmq()
        self._wait_ports()
        self.log('lab: up (%s)' % ', '.join(self.brokers) if self.brokers else 'lab: up (no brokers)')

    def start(self, name, argv, env=None, lines=False, in_ns=False, stdin=None):
        if in_ns:
            argv = ['ip', 'netns', 'exec', self.ns] + argv
        p = Proc(name, argv, self.path(name + '.log'), env=env, lines=lines, stdin=stdin)
        self.procs.append(p)
        self.track(p.pid)
        return p

    def _tell(self, msg):
        """Registers something with the guardian (see guard_main)."""
        if self._guard is not None:
            try:
                self._guard.stdin.write(json.dumps(msg) + '\n')
                self._guard.stdin.flush()
            except (OSError, ValueError):
                pass

    def track(self, pid):
        if track_pid(self.all_pids, pid):
            self._tell({'pid': pid, 'start': self.all_pids[pid]})

    def snapshot_pids(self):
        """Records every process of the lab as it is now: those it started,
        their descendants, and everything in its namespace."""
        snapshot_pids(self.track, [p.pid for p in self.procs], self.ns if self.created_ns else None)

    def _start_mosquitto(self):
        # mosquitto writes its pid file after switching to its user
        md = self.path('mosquitto')
        os.makedirs(md)
        pw = pwd.getpwnam('mosquitto')
        os.chown(md, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(md, 'mosquitto.conf'), 'w') as f:
            f.write(MOSQUITTO_CONF.format(d=self.dir))
        self.start('mosquitto', [which('mosquitto'), '-c', os.path.join(md, 'mosquitto.conf')],
                   in_ns=True)

    def _start_prosody(self):
        pd = self.path('prosody')
        for sub in ('', 'data', 'certs'):
            os.makedirs(os.path.join(pd, sub), exist_ok=True)
        with open(os.path.join(pd, 'prosody.cfg.lua'), 'w') as f:
            f.write(PROSODY_CONF.format(d=self.dir))
        self.start('prosody', [which('prosody'), '-F', '--config',
                               os.path.join(pd, 'prosody.cfg.lua')], in_ns=True)

    def _start_rabbitmq(self):
        rd = self.path('rabbitmq')
        for sub in ('', 'home', 'mnesia', 'log'):
            os.makedirs(os.path.join(rd, sub), exist_ok=True)
        os.chmod(os.path.join(rd, 'home'), 0o700)
        with open(os.path.join(rd, 'rabbitmq.conf'), 'w') as f:
            f.write(RABBITMQ_CONF)
        with open(os.path.join(rd, 'enabled_plugins'), 'w') as f:
            f.write('[rabbitmq_stomp].\n')
        open(os.path.join(rd, 'rabbitmq-env.conf'), 'w').close()
        env = {
            'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            'HOME': os.path.join(rd, 'home'),           # its own .erlang.cookie
            'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8',
            'RABBITMQ_NODENAME': self.node,
            'RABBITMQ_USE_LONGNAME': 'false',
            'RABBITMQ_MNESIA_BASE': os.path.join(rd, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(rd, 'log'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(rd, 'enabled_plugins'),
            'RABBITMQ_CONFIG_FILE': os.path.join(rd, 'rabbitmq.conf'),
            'RABBITMQ_ADVANCED_CONFIG_FILE': os.path.join(rd, 'advanced.config'),
            'RABBITMQ_CONF_ENV_FILE': os.path.join(rd, 'rabbitmq-env.conf'),
            'RABBITMQ_PID_FILE': os.path.join(rd, 'rabbitmq.pid'),
            'RABBITMQ_LOGS': '-',
            'ERL_EPMD_ADDRESS': '127.0.0.1',
        }
        # The namespace's own epmd, in the foreground, so that the node does
        # not start a daemonised one that would escape the lab's bookkeeping.
        self.start('epmd', [which('epmd'), '-address', '127.0.0.1'], env=env, in_ns=True)
        self._wait_ns_port('127.0.0.1', 4369, 'epmd', 20)
        self.start('rabbitmq', [RABBITMQ_SERVER], env=env, in_ns=True)

    def unanswered_source(self, addr='203.0.113.2'):
        """A second address of the host side whose packets the namespace never
        answers (a blackhole route for it inside the namespace): a client bound
        to it retransmits its SYN. Returns the address."""
        run(['ip', 'addr', 'add', addr + '/32', 'dev', self.veth_host])
        self.ns_exec(['ip', 'route', 'add', 'blackhole', addr + '/32'])
        return addr

    def ns_exec(self, argv, **kw):
        return run(['ip', 'netns', 'exec', self.ns] + argv, **kw)

    def _ns_port_open(self, addr, port):
        code = ('import socket,sys\n'
                's=socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)\n'
                's.settimeout(1)\n'
                'sys.exit(s.connect_ex((sys.argv[1], int(sys.argv[2]))))\n')
        return self.ns_exec([sys.executable, '-c', code, addr, str(port)], check=False).returncode == 0

    def _listening(self, port):
        out = self.ns_exec(['ss', '-Htln', 'sport = :%d' % port], check=False).stdout
        return bool(out.strip())

    def _wait_ns_port(self, addr, port, name, seconds):
        proc = next((p for p in self.procs if p.name == name), None)

        def ready():
            if proc is not None and proc.p.poll() is not None:
                raise LabError('%s exited (status %s) before listening on %d:\n%s'
                               % (name, proc.p.returncode, port, proc.output()[-3000:]))
            # listening, then a connection accepted (from inside the namespace)
            return self._listening(port) and self._ns_port_open(addr, port)
        if not wait_for(ready, seconds, 0.2):
            raise LabError('%s does not listen on %s port %d after %d s:\n%s'
                           % (name, addr, port, seconds, proc.output()[-3000:] if proc else ''))

    def _wait_ports(self):
        # Checked inside the namespace (ss, then a connection to 127.0.0.1), so
        # that the checks themselves send nothing over the veth.
        want = []
        if 'mosquitto' in self.brokers:
            want += [('mosquitto', 1883), ('mosquitto', 8883), ('mosquitto', 1884)]
        if 'prosody' in self.brokers:
            want += [('prosody', 5222)]
        if 'rabbitmq' in self.brokers:
            want += [('rabbitmq', 5672), ('rabbitmq', 61613)]
        for name, port in want:
            self._wait_ns_port('127.0.0.1', port, name, 120 if name == 'rabbitmq' else 30)

    # -------------------------------------------------------------- syslog
    def start_rsyslog(self):
        with open(self.path('rsyslog.conf'), 'w') as f:
            f.write(RSYSLOG_CONF.format(d=self.dir, out=self.path('syslog.out')))
        self.rsyslog = self.start('rsyslogd', [which('rsyslogd'), '-n', '-f', self.path('rsyslog.conf'),
                                               '-i', self.path('rsyslogd.pid')])
        if not wait_for(lambda: os.path.exists(self.path('log.sock')), 10):
            raise LabError('rsyslogd did not create its socket:\n' + self.rsyslog.output())
        return self.path('syslog.out')

    def syslog_lines(self):
        try:
            with open(self.path('syslog.out'), errors='replace') as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def start_in_mountns(self, name, argv, lines=True, env=None):
        """Starts argv (as root) in a private mount namespace in which /dev/log
        is the lab's rsyslogd socket. The pid is argv's own (exec chain)."""
        if self.rsyslog is None:
            self.start_rsyslog()
        os.makedirs(self.path('dev.host'), exist_ok=True)
        return self.start(name, ['unshare', '--mount', 'sh', '-c', MOUNTNS_SCRIPT, self.dir] + argv,
                          lines=lines, env=env)

    # -------------------------------------------------------------- tear-down
    def down(self):
        errors = []
        try:
            self.snapshot_pids()
        except Exception as e:
            errors.append('snapshot: %s' % e)
        # brokerwatch and clients first, brokers after them, rsyslogd last
        for p in reversed(self.procs):
            try:
                p.stop(grace=30 if p.name == 'rabbitmq' else 10)
            except Exception as e:  # keep going: everything must be removed
                errors.append('%s: %s' % (p.name, e))
        # Anything still in the namespace was started by the lab.
        if self.created_ns:
            kill_ns(self.ns, self.track)
        if self.created_veth:
            run(['ip', 'link', 'del', self.veth_host], check=False)
            self.created_veth = False
        if self.created_ns:
            r = run(['ip', 'netns', 'del', self.ns], check=False)
            if r.returncode != 0:
                errors.append('ip netns del %s: %s' % (self.ns, r.stderr.strip()))
            self.created_ns = False
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.dir:
            self.log('lab: kept %s' % self.dir)
        if self._guard is not None:
            self._tell({'done': True})
            try:
                self._guard.stdin.close()
            except OSError:
                pass
            try:
                self._guard.wait(10)
            except subprocess.TimeoutExpired:
                errors.append('the guardian did not exit')
            self._guard = None
        if self._lockf is not None:
            self._lockf.close()
            self._lockf = None
        if errors:
            self.log('lab: tear-down problems: ' + '; '.join(errors))

    def leftovers(self):
        """What of this lab is still on the machine (should be nothing)."""
        return leftovers(self.ns, (self.veth_host, self.veth_ns), None if self.keep else self.dir,
                         self.all_pids)


def main():
    import argparse
    ap = argparse.ArgumentParser(description='bring a lab up until Ctrl-C')
    ap.add_argument('--no-rabbitmq', action='store_true')
    ap.add_argument('--no-prosody', action='store_true')
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # even when started in background
    brokers = ['mosquitto'] + ([] if a.no_prosody else ['prosody']) + \
        ([] if a.no_rabbitmq else ['rabbitmq'])
    t0 = time.monotonic()
    lab = Lab(brokers)
    try:
        with lab:
            lab.start_rsyslog()
            print(json.dumps({'ns': lab.ns, 'veth_host': lab.veth_host, 'dir': lab.dir,
                              'pids': sorted(lab.all_pids),
                              'seconds': round(time.monotonic() - t0, 1)}), flush=True)
            while True:
                time.sleep(3600)
    except (KeyboardInterrupt, Interrupted):
        pass
    left = lab.leftovers()
    print('leftovers:', left or 'none')
    return 1 if left else 0


if __name__ == '__main__':
    if sys.argv[1:2] == ['--guard']:
        sys.exit(guard_main())
    sys.exit(main())
