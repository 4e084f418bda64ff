#!/usr/bin/env python3
"""units.py - the installed systemd units, sysusers.d and tmpfiles.d entries
are valid for the systemd on this machine.

The build is installed ("meson install --destdir") into a temporary root, and
systemd's own tools check it there, with --root so that every path they look
at (ExecStart's binary, the man pages of Documentation=, the sysusers.d and
tmpfiles.d files) is the installed one:
1. systemd-analyze verify: brokerwatch.service, the template and an instance;
   any complaint about them fails the test. systemd's own units are copied
   into the root for the dependencies (sysinit.target, ...). A deliberately
   broken unit is verified first, to show that complaints are seen at all.
2. The hardening is the same in both units, and the settings the daemon's
   contract depends on are there.
3. systemd-analyze security --offline: the exposure score, printed only.
4. systemd-sysusers creates the account in the root (system ID, nologin);
   systemd-tmpfiles creates /var/log/brokerwatch there, 0750, owned by it.
Exits 77 (skipped) without systemd-analyze (Debian: apt-get install systemd).
"""
import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'pylib'))
from bwtest import SKIP, fail  # noqa: E402

UNITS = ['brokerwatch.service', 'brokerwatch@.service']
INSTANCE = 'brokerwatch@eth0.service'

# [Service] settings the contract (spec: Type=notify, watchdog, privileges,
# outputs) and the packaging rely on; a change here is a decision, not drift.
REQUIRED = {
    'Type': 'notify',
    'NotifyAccess': 'main',
    'WatchdogSec': '30s',
    'Restart': 'on-failure',
    'User': 'brokerwatch',
    'Group': 'brokerwatch',
    'AmbientCapabilities': 'CAP_NET_RAW CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH',
    'CapabilityBoundingSet': 'CAP_NET_RAW CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH',
    'NoNewPrivileges': 'yes',
    'ProtectSystem': 'strict',
    'ProtectHome': 'yes',
    'PrivateTmp': 'yes',
    'PrivateDevices': 'yes',
    'RestrictAddressFamilies': 'AF_UNIX AF_PACKET AF_NETLINK AF_INET AF_INET6',
    'MemoryDenyWriteExecute': 'yes',
    'SystemCallFilter': ['@system-service', 'bpf'],
    'SystemCallArchitectures': 'native',
    'LogsDirectory': 'brokerwatch',
    'StandardOutput': 'null',
    'UMask': '0027',
}

CONTROL_UNIT = """\
[Unit]
Description=a unit with mistakes: verify must complain
[Service]
ExecStart=/nonexistent/bw-control
ProtectSytem=strict
MemoryDenyWriteExecute=maybe
"""


def run(argv, env=None, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    out = (r.stdout + r.stderr).strip()
    if check and r.returncode != 0:
        fail('%s: exit %d\n%s' % (' '.join(argv), r.returncode, out))
    return r.returncode, out


def under(root, path):
    return os.path.join(root, path.lstrip('/'))


def service_section(path):
    """The [Service] settings of a unit file as (key, value) pairs, in order."""
    items, section = [], None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in '#;':
                continue
            if line.startswith('['):
                section = line
                continue
            if section == '[Service]':
                key, _, value = line.partition('=')
                items.append((key.strip(), value.strip()))
    return items


def populate_root(root, unitdir):
    """systemd's units for the dependencies, and /bin/kill for ExecReload."""
    host = next((d for d in ('/lib/systemd/system', '/usr/lib/systemd/system')
                 if os.path.exists(os.path.join(d, 'sysinit.target'))), None)
    if host is None:
        fail("systemd's units (sysinit.target) are not installed")
    dest = under(root, '/usr/lib/systemd/system')
    if os.path.realpath(dest) == os.path.realpath(under(root, unitdir)):
        dest = under(root, '/etc/systemd/system')
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(host):
        if name.startswith('brokerwatch'):
            continue          # a system-wide install must not stand in for ours
        src, dst = os.path.join(host, name), os.path.join(dest, name)
        if os.path.exists(dst) or os.path.islink(dst):
            continue
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
    kill = shutil.which('kill') or '/bin/kill'
    os.makedirs(under(root, '/bin'), exist_ok=True)
    if os.path.exists(kill) and not os.path.exists(under(root, '/bin/kill')):
        shutil.copy2(kill, under(root, '/bin/kill'))


def verify(analyze, root, mandir):
    env = dict(os.environ, MANPATH=under(root, mandir), SYSTEMD_PAGER='', PAGER='cat')
    # Documentation=man: pages are looked up with man(1) in the root's
    # mandir; without man-db main() has checked that the pages are installed.
    man = 'yes' if shutil.which('man') else 'no'
    if man == 'no':
        print('note: man(1) is missing (Debian: man-db): verify does not look up the pages')
    base = [analyze, 'verify', '--root=' + root, '--man=' + man, '--generators=no']

    # The control: a verify that does not report these would prove nothing.
    control = under(root, '/etc/systemd/system/bw-verify-control.service')
    os.makedirs(os.path.dirname(control), exist_ok=True)
    with open(control, 'w') as f:
        f.write(CONTROL_UNIT)
    rc, out = run(base + ['bw-verify-control.service'], env=env, check=False)
    os.unlink(control)
    for want in ('ProtectSytem', 'maybe', 'bw-control'):
        if want not in out:
            fail('systemd-analyze verify did not report the control unit\'s mistake %r '
                 '(exit %d):\n%s' % (want, rc, out))
    print('control unit: verify reports its 3 mistakes (exit %d)' % rc)

    units = UNITS + [INSTANCE]
    rc, out = run(base + ['--recursive-errors=no'] + units, env=env, check=False)
    ours = [ln for ln in out.splitlines() if 'brokerwatch' in ln]
    other = [ln for ln in out.splitlines() if 'brokerwatch' not in ln]
    for ln in other:
        print('note (not about brokerwatch):', ln)
    if rc != 0 or ours:
        fail('systemd-analyze verify %s: exit %d\n%s' % (' '.join(units), rc, '\n'.join(ours)))
    print('systemd-analyze verify %s: clean' % ' '.join(units))


def check_units(root, unitdir, sbindir, sysconfdir):
    svc = {u: service_section(under(root, os.path.join(unitdir, u))) for u in UNITS}
    exe = os.path.join(sbindir, 'brokerwatch')
    config = os.path.join(sysconfdir, 'brokerwatch', 'brokerwatch.yaml')
    want_start = {
        'brokerwatch.service': exe + ' -c ${BROKERWATCH_CONFIG}',
        'brokerwatch@.service': exe + ' -i %I -c ${BROKERWATCH_CONFIG}',
    }
    for unit, items in svc.items():
        d = {}
        for k, v in items:
            d.setdefault(k, []).append(v)
        if d.get('ExecStart') != [want_start[unit]]:
            fail('%s: ExecStart=%r, expected %r' % (unit, d.get('ExecStart'), want_start[unit]))
        if d.get('Environment') != ['BROKERWATCH_CONFIG=' + config]:
            fail('%s: Environment=%r, expected the configuration %s' % (unit, d.get('Environment'), config))
        if d.get('ExecReload', [None])[-1] != '/bin/kill -HUP $MAINPID':
            fail('%s: the last ExecReload is not the SIGHUP: %r' % (unit, d.get('ExecReload')))
        for k, v in REQUIRED.items():
            if d.get(k) != (v if isinstance(v, list) else [v]):
                fail('%s: %s=%r, expected %r' % (unit, k, d.get(k), v))
        if not os.access(under(root, exe), os.X_OK):
            fail('%s: %s is not in the installed tree' % (unit, exe))
        if not os.path.exists(under(root, config)):
            fail('%s: %s is not in the installed tree' % (unit, config))
    a = [kv for kv in svc[UNITS[0]] if kv[0] != 'ExecStart']
    b = [kv for kv in svc[UNITS[1]] if kv[0] != 'ExecStart']
    if a != b:
        diff = [kv for kv in a if kv not in b] + [kv for kv in b if kv not in a]
        fail('the two units differ beyond ExecStart: %r' % diff)
    print('units: ExecStart %s; hardening identical in both, %d required settings present'
          % (exe, len(REQUIRED)))


def security(analyze, root):
    for unit in ('brokerwatch.service', INSTANCE):
        rc, out = run([analyze, 'security', '--offline=yes', '--root=' + root, '--no-pager', unit],
                      env=dict(os.environ, SYSTEMD_COLORS='0'), check=False)
        lines = out.splitlines()
        score = [ln for ln in lines if 'Overall exposure level' in ln]
        if rc != 0 or not score:
            print('note: systemd-analyze security --offline gave no score (exit %d): %s'
                  % (rc, lines[-1] if lines else ''))
            continue
        print('systemd-analyze security %s (informational):' % unit)
        for ln in lines:
            if ln.startswith('✗'):
                print('  ' + re.sub(r'\s{2,}', '  ', ln))
        print('  ' + score[0].strip())


def sysusers_tmpfiles(root, sysusersdir, tmpfilesdir):
    sysusers = shutil.which('systemd-sysusers')
    tmpfiles = shutil.which('systemd-tmpfiles')
    if not sysusers or not tmpfiles:
        print('note: systemd-sysusers/systemd-tmpfiles missing: their checks are left out')
        return
    for d in (sysusersdir, tmpfilesdir):
        if not os.path.exists(under(root, os.path.join(d, 'brokerwatch.conf'))):
            fail('%s/brokerwatch.conf is not in the installed tree' % d)
    os.makedirs(under(root, '/etc'), exist_ok=True)
    rc, out = run([sysusers, '--root=' + root], check=False)
    print('systemd-sysusers --root: exit %d%s' % (rc, (': ' + out) if out else ''))
    if rc != 0 or 'brokerwatch.conf' in out:
        fail('systemd-sysusers rejected the entry')
    users = {}
    with open(under(root, '/etc/passwd')) as f:
        for ln in f:
            p = ln.rstrip('\n').split(':')
            users[p[0]] = p
    if 'brokerwatch' not in users:
        fail('systemd-sysusers did not create the user brokerwatch')
    _, _, uid, gid, gecos, home, shell = users['brokerwatch']
    if not 0 < int(uid) < 1000 or shell != '/usr/sbin/nologin' or home != '/':
        fail('user brokerwatch is %r: expected a system ID, home /, shell nologin' % users['brokerwatch'])
    with open(under(root, '/etc/group')) as f:
        if not any(ln.split(':')[0] == 'brokerwatch' and ln.split(':')[2] == gid for ln in f):
            fail('systemd-sysusers did not create the group brokerwatch with ID %s' % gid)
    print('user: brokerwatch uid %s gid %s home %s shell %s "%s"' % (uid, gid, home, shell, gecos))

    if os.geteuid() != 0:
        print('note: not root: systemd-tmpfiles cannot chown, its check is left out')
        return
    rc, out = run([tmpfiles, '--root=' + root, '--create'], check=False)
    print('systemd-tmpfiles --root --create: exit %d%s' % (rc, (': ' + out) if out else ''))
    if rc != 0 or out:
        fail('systemd-tmpfiles did not take the entry cleanly')
    st = os.stat(under(root, '/var/log/brokerwatch'))
    if not stat.S_ISDIR(st.st_mode) or stat.S_IMODE(st.st_mode) != 0o750 \
            or (st.st_uid, st.st_gid) != (int(uid), int(gid)):
        fail('/var/log/brokerwatch: mode %o owner %d:%d, expected 750 %s:%s'
             % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, uid, gid))
    print('/var/log/brokerwatch: directory 0750 %s:%s' % (uid, gid))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--meson', required=True)
    ap.add_argument('--build', required=True, help='the build directory to install')
    ap.add_argument('--unitdir', required=True)
    ap.add_argument('--sysusersdir', required=True)
    ap.add_argument('--tmpfilesdir', required=True)
    ap.add_argument('--sbindir', required=True, help='absolute')
    ap.add_argument('--sysconfdir', required=True, help='absolute')
    ap.add_argument('--mandir', required=True, help='absolute')
    a = ap.parse_args()

    analyze = shutil.which('systemd-analyze')
    if not analyze:
        print('SKIP: systemd-analyze is missing (Debian: apt-get install systemd)')
        return SKIP
    print(run([analyze, '--version'])[1].splitlines()[0])

    root = tempfile.mkdtemp(prefix='bw-units-')
    try:
        run([a.meson, 'install', '-C', a.build, '--no-rebuild', '--quiet', '--destdir', root])
        for u in UNITS:
            if not os.path.exists(under(root, os.path.join(a.unitdir, u))):
                fail('%s was not installed to %s' % (u, a.unitdir))
        for man in ('man8/brokerwatch.8', 'man5/brokerwatch.yaml.5'):
            if not os.path.exists(under(root, os.path.join(a.mandir, man))):
                fail('%s was not installed to %s' % (man, a.mandir))
        check_units(root, a.unitdir, a.sbindir, a.sysconfdir)
        populate_root(root, a.unitdir)
        verify(analyze, root, a.mandir)
        security(analyze, root)
        sysusers_tmpfiles(root, a.sysusersdir, a.tmpfilesdir)
        print('PASS: systemd units, sysusers.d and tmpfiles.d entries')
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
