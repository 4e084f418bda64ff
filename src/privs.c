/*
 * privs.c - drop to an unprivileged user and zero the capability sets, then
 * check both.   [main]
 *
 * Raw capget/capset system calls: libcap would be a dependency for three calls.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "brokerwatch/log.h"
#include "brokerwatch/privs.h"
#include "brokerwatch/replay.h"

static int
caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};

	return (int)syscall(SYS_capget, &h, d);
}

/* One capability set of d as a 64-bit mask. */
static uint64_t
caps_mask(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

/* Sets effective and permitted to exactly keep (a capability mask), inheritable to none. */
static int
caps_set(uint64_t keep)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

int
bw_privs_drop(const char *user, int keep_ptrace)
{
	struct __user_cap_data_struct d[2];
	uid_t ruid = 0, euid = 0, suid = 0;
	gid_t rgid = 0, egid = 0, sgid = 0;
	uint64_t keep = 0, held;

	/*
	 * Attribution lists other users' /proc/<pid>/fd (a directory only its
	 * owner may read: CAP_DAC_READ_SEARCH) and reads the links in it and
	 * /proc/<pid>/exe (ptrace access: CAP_SYS_PTRACE). They stay if held now.
	 */
	if (keep_ptrace && caps_get(d) == 0) {
		uint64_t want = 1ull << CAP_SYS_PTRACE | 1ull << CAP_DAC_READ_SEARCH;
		held = caps_mask(d[0].permitted, d[1].permitted);
		keep = held & want;
		if (keep != want)
			bw_log_warnx("process attribution: without CAP_SYS_PTRACE and "
			    "CAP_DAC_READ_SEARCH only this user's own processes can be named");
	}

	if (geteuid() == 0) {
		struct passwd pw, *found = NULL;
		char buf[4096];
		int e;

		if (user == NULL || *user == '\0') {
			bw_log_warnx("refusing to run as root: set user: in the configuration to the "
			    "user the sensor runs as after opening the capture");
			return BW_EXIT_CONFIG;
		}
		if ((e = getpwnam_r(user, &pw, buf, sizeof(buf), &found)) != 0 || found == NULL) {
			bw_log_warnx("user '%s' does not exist: create it (systemd-sysusers "
			    "creates 'brokerwatch') or set user: in the configuration", user);
			return BW_EXIT_CONFIG;
		}
		if (pw.pw_uid == 0) {
			bw_log_warnx("user '%s' is root: refusing to keep root's privileges", user);
			return BW_EXIT_CONFIG;
		}
		/* the order matters: groups and gid while we still may change them */
		if (keep != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
			bw_log_warn("PR_SET_KEEPCAPS");
			return BW_EXIT_SOFTWARE;
		}
		if (setgroups(1, &pw.pw_gid) < 0 || setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0 ||
		    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0) {
			bw_log_warn("cannot become user '%s'", user);
			return BW_EXIT_SOFTWARE;
		}
	}
	/* whatever the service manager granted: the capture is open, none is needed now */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		bw_log_warn("clearing ambient capabilities");
		return BW_EXIT_SOFTWARE;
	}
	if (caps_set(keep) < 0) {
		bw_log_warn("dropping capabilities");
		return BW_EXIT_SOFTWARE;
	}
	if (keep != 0)
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		bw_log_warn("PR_SET_NO_NEW_PRIVS");
		return BW_EXIT_SOFTWARE;
	}

	/* prove it */
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0 ||
	    ruid == 0 || euid == 0 || suid == 0 || rgid == 0 || egid == 0 || sgid == 0) {
		bw_log_warnx("refusing to go on: still root (uid %d/%d/%d, gid %d/%d/%d)",
		    (int)ruid, (int)euid, (int)suid, (int)rgid, (int)egid, (int)sgid);
		return BW_EXIT_SOFTWARE;
	}
	if (setresuid((uid_t)-1, 0, (uid_t)-1) == 0) {
		bw_log_warnx("refusing to go on: root could be regained");
		return BW_EXIT_SOFTWARE;
	}
	if (caps_get(d) < 0) {
		bw_log_warn("reading capabilities");
		return BW_EXIT_SOFTWARE;
	}
	held = caps_mask(d[0].permitted, d[1].permitted);
	if (held != keep || caps_mask(d[0].effective, d[1].effective) != keep ||
	    d[0].inheritable || d[1].inheritable) {
		bw_log_warnx("refusing to go on: capabilities are left beyond what attribution "
		    "needs (permitted %016llx)", (unsigned long long)held);
		return BW_EXIT_SOFTWARE;
	}
	if (keep != 0)
		bw_log_info("running as uid %d with%s%s only (process attribution)", (int)geteuid(),
		    (keep & 1ull << CAP_SYS_PTRACE) ? " CAP_SYS_PTRACE" : "",
		    (keep & 1ull << CAP_DAC_READ_SEARCH) ? " CAP_DAC_READ_SEARCH" : "");
	return 0;
}
