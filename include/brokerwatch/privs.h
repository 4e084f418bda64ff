/*
 * privs.h - giving up privileges once the capture is open.
 *
 * Started as root: become the configured user (groups, gid, uid), keep no
 * capability. Started as another user with capabilities (systemd's
 * AmbientCapabilities): drop all of them. Then prove it: no way back to root,
 * no capability left. [main, before any thread is started - capabilities are
 * per thread]
 */
#ifndef BW_PRIVS_H
#define BW_PRIVS_H

/*
 * Drops to user (as above), keeping CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH
 * when keep_ptrace is set and they are held (process attribution lists other
 * users' /proc/<pid>/fd and reads their links and exe); without them,
 * attribution is limited to the user's own processes (said once). Returns 0, or an exit status with the reason logged: BW_EXIT_CONFIG
 * when the user does not exist or root was asked to stay root,
 * BW_EXIT_SOFTWARE when dropping failed or did not hold.
 */
int bw_privs_drop(const char *user, int keep_ptrace);

#endif
