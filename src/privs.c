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

static int
caps_clear(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

int
bw_privs_drop(const char *user)
{
	struct __user_cap_data_struct d[2];
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

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
	if (caps_clear() < 0) {
		bw_log_warn("dropping capabilities");
		return BW_EXIT_SOFTWARE;
	}
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
	if (d[0].effective | d[0].permitted | d[0].inheritable | d[1].effective | d[1].permitted |
	    d[1].inheritable) {
		bw_log_warnx("refusing to go on: capabilities are left (permitted %08x%08x)",
		    d[1].permitted, d[0].permitted);
		return BW_EXIT_SOFTWARE;
	}
	return 0;
}
