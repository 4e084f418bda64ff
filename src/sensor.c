/*
 * sensor.c - threads, ring and the main event loop.   [main]
 *
 * Owns, for one run: the ring, the eventfd that wakes the worker, the
 * capture and the worker, the alert file of the configuration, and the libev
 * loop with its signal, async and timer watchers.
 */
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "brokerwatch/capture.h"
#include "brokerwatch/conn.h"
#include "brokerwatch/filter.h"
#include "brokerwatch/log.h"
#include "brokerwatch/notify.h"
#include "brokerwatch/privs.h"
#include "brokerwatch/replay.h"
#include "brokerwatch/sensor.h"
#include "brokerwatch/worker.h"

#define LOCAL_REFRESH_S 60.0    /* this host's addresses are read again this often */

struct sensor {
	const struct bw_sensor_opts *o;
	struct ev_loop *loop;
	struct bw_ring *ring;
	int wake_fd;
	struct bw_capture *cap;
	struct bw_worker *worker;
	struct bw_attrib *attrib;
	struct bw_sinks sinks;
	FILE *cfg_json;                  /* the configuration's alert file, opened by us */
	struct bw_stats_shared cap_pub, worker_pub;
	struct bw_local *local;          /* the last snapshot sent to the worker */
	int live;
	int stopping;
	int status;
	char filter_desc[256];
	uint64_t hb_cap, hb_worker;

	ev_signal sig_term, sig_int, sig_hup, sig_usr1;
	ev_async cap_done, worker_done;
	ev_timer stats_timer, watchdog_timer, local_timer;
	ev_io local_io;                  /* rtnetlink: an address came or went */
	int local_fd;
};

void
bw_sensor_opts_default(struct bw_sensor_opts *o)
{
	memset(o, 0, sizeof(*o));
	bw_decoder_config_default(&o->decoder);
	o->conn_max = 65536;
	o->conn_fold_ns = BW_CONN_FOLD_NS;
}

static void
note_status(struct sensor *s, int st)
{
	if (s->status == BW_EXIT_OK)
		s->status = st;
}

/* The counters of both threads as they last published them. */
static void
collect(struct sensor *s, struct bw_stats *st)
{
	memset(st, 0, sizeof(*st));
	bw_stats_collect(st, &s->cap_pub);
	bw_stats_collect(st, &s->worker_pub);
}

static void
log_stats(struct sensor *s)
{
	struct bw_stats st;
	char line[4096];

	collect(s, &st);
	bw_stats_format_line(&st, line, sizeof(line));
	bw_log_info("statistics: %s", line);
}

/* ---------------------------------------------------------------- callbacks */

static void
on_capture_done(void *arg)
{
	struct sensor *s = arg;

	ev_async_send(s->loop, &s->cap_done);   /* thread-safe by libev's contract */
}

static void
on_worker_done(void *arg)
{
	struct sensor *s = arg;

	ev_async_send(s->loop, &s->worker_done);
}

static void
cap_done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct sensor *s = w->data;

	(void)loop;
	(void)revents;
	bw_worker_input_done(s->worker);
}

static void
worker_done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct sensor *s = w->data;

	(void)loop;
	(void)revents;
	if (s->stopping)
		return;
	s->stopping = 1;
	if (s->live)
		bw_log_info("signal %d: stopping (draining the ring, flushing the outputs)",
		    w->signum);
	bw_notify("STOPPING=1");
	bw_capture_stop(s->cap);
}

/* Statistics every stats.interval of cfg; none when it is 0. The timer is stopped. */
static void
stats_timer_start(struct sensor *s, const struct bw_config *cfg)
{
	double iv = (double)cfg->stats_interval_ns / 1e9;

	if (cfg->stats_interval_ns <= 0)
		return;
	ev_timer_set(&s->stats_timer, iv, iv);
	ev_timer_start(s->loop, &s->stats_timer);
}

/* Opens the configuration's alert file (append, as a daemon's log). NULL when none or failed. */
static FILE *
open_cfg_json(const struct bw_config *cfg)
{
	FILE *f;

	if (cfg->out_json == NULL || cfg->out_json[0] == '\0')
		return NULL;
	if ((f = fopen(cfg->out_json, "a")) == NULL) {
		bw_log_warn("%s", cfg->out_json);
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
}

/* Settings a reload cannot change: the capture and the user are set up once, from o->cfg. */
static void
warn_restart_only(const struct bw_config *old, const struct bw_config *cfg)
{
	static const char *later = "takes effect when brokerwatch is restarted";

	if (strcmp(old->cap_interface ? old->cap_interface : "",
	    cfg->cap_interface ? cfg->cap_interface : "") != 0)
		bw_log_warnx("capture.interface changed: it %s", later);
	if (old->cap_snaplen != cfg->cap_snaplen)
		bw_log_warnx("capture.snaplen changed: it %s", later);
	if (old->cap_promiscuous != cfg->cap_promiscuous)
		bw_log_warnx("capture.promiscuous changed: it %s", later);
	if (old->cap_buffer_mib != cfg->cap_buffer_mib)
		bw_log_warnx("capture.buffer_mib changed: it %s", later);
	if (old->cap_immediate != cfg->cap_immediate)
		bw_log_warnx("capture.immediate changed: it %s", later);
	if (old->ring_size != cfg->ring_size)
		bw_log_warnx("capture.ring_size changed: it %s", later);
	if (strcmp(old->user ? old->user : "", cfg->user ? cfg->user : "") != 0)
		bw_log_warnx("user changed: it %s", later);
}

static void
reload(struct sensor *s)
{
	const struct bw_sensor_opts *o = s->o;
	struct bw_config_errors errs;
	struct bw_worker_msg *m;
	struct bw_config *cfg;

	if (o->config_path == NULL) {
		bw_log_info("SIGHUP: no configuration file to reload (built-in defaults)");
		return;
	}
	bw_notify("RELOADING=1");
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (m = calloc(1, sizeof(*m))) == NULL) {
		bw_log_warn("reload");
		free(cfg);
		bw_notify("READY=1");
		return;
	}
	memset(&errs, 0, sizeof(errs));
	if (bw_config_load(o->config_path, cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			bw_log_warnx("%s", errs.msg[i]);
		bw_log_warnx("%s: has errors, not reloading", o->config_path);
		bw_config_errors_free(&errs);
		free(cfg);
		free(m);
		bw_notify("READY=1");
		return;
	}
	bw_config_errors_free(&errs);
	if (s->live) {
		char *expr = bw_filter_build(cfg, bw_capture_dlt(s->cap));
		if (expr != NULL)
			bw_capture_set_filter(s->cap, expr);
		/* a new statistics interval takes effect now */
		ev_timer_stop(s->loop, &s->stats_timer);
		stats_timer_start(s, cfg);
	}
	/* logrotate: the alert file is opened again, by name */
	if (o->alerts == NULL && cfg->out_json != NULL && cfg->out_json[0] != '\0' &&
	    (m->json = open_cfg_json(cfg)) == NULL)
		bw_log_warnx("%s: alerts keep going to the file opened before", cfg->out_json);
	warn_restart_only(o->cfg, cfg);
	m->cfg = cfg;
	bw_worker_post(s->worker, m);
	bw_log_info("%s: configuration reloaded", o->config_path);
	bw_notify("READY=1");
}

static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	reload(w->data);
}

static void
usr1_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	log_stats(w->data);
}

static void
stats_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	log_stats(w->data);
}

/* Feed systemd's watchdog only while both threads make progress. */
static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sensor *s = w->data;
	uint64_t hc = bw_capture_heartbeat(s->cap), hw = bw_worker_heartbeat(s->worker);

	(void)loop;
	(void)revents;
	if (hc != s->hb_cap && hw != s->hb_worker)
		bw_notify("WATCHDOG=1");
	else
		bw_log_warnx("watchdog: the %s thread made no progress",
		    hc == s->hb_cap ? "capture" : "scoring");
	s->hb_cap = hc;
	s->hb_worker = hw;
}

/* The host's addresses again; the worker gets them when they changed. */
static void
local_refresh(struct sensor *s)
{
	struct bw_local *l = bw_local_snapshot(), *copy;
	struct bw_worker_msg *m;

	if (l == NULL || bw_local_equal(l, s->local)) {
		bw_local_free(l);
		return;
	}
	/* the worker gets its own copy; ours is for the next comparison */
	copy = bw_local_copy(l);
	if (copy == NULL || (m = calloc(1, sizeof(*m))) == NULL) {
		bw_local_free(copy);
		bw_local_free(l);
		return;
	}
	m->local = copy;
	bw_worker_post(s->worker, m);
	bw_local_free(s->local);
	s->local = l;
}

static void
local_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	local_refresh(w->data);
}

static void
local_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sensor *s = w->data;

	(void)loop;
	(void)revents;
	if (bw_local_watch_drain(s->local_fd))
		local_refresh(s);
}

/* ---------------------------------------------------------------- the run */

/* The summary over the window that ends at the latest packet time (replays). */
static void
report(struct sensor *s)
{
	const struct bw_sensor_opts *o = s->o;
	const struct bw_config *cfg = bw_worker_config(s->worker);
	struct bw_report_row *rows = NULL;
	int64_t latest;
	ssize_t n = 0;

	if (o->report_table == NULL && o->report_json == NULL)
		return;
	if (bw_capture_latest(s->cap, &latest) &&
	    (n = bw_window_report(bw_worker_window(s->worker), latest, &rows)) < 0) {
		note_status(s, BW_EXIT_SOFTWARE);
		return;
	}
	if (o->report_json != NULL) {
		char line[BW_ALERT_LINE_MAX];
		for (ssize_t i = 0; i < n; i++) {
			size_t len = bw_report_format_json(cfg, &rows[i], line, sizeof(line));
			if (fwrite(line, 1, len, o->report_json) != len)
				break;
		}
		if (fflush(o->report_json) != 0 || ferror(o->report_json)) {
			bw_log_warn("%s: write", o->report_json_name);
			note_status(s, BW_EXIT_IOERR);
		}
	}
	if (o->report_table != NULL) {
		bw_report_print_table(cfg, rows, (size_t)n, o->report_table);
		if (fflush(o->report_table) != 0) {
			bw_log_warn("standard output: write");
			note_status(s, BW_EXIT_IOERR);
		}
	}
	free(rows);
}

static void
watchers_start(struct sensor *s)
{
	const struct bw_config *cfg = s->o->cfg;
	uint64_t wd = bw_notify_watchdog_usec();

	ev_signal_init(&s->sig_term, stop_cb, SIGTERM);
	ev_signal_init(&s->sig_int, stop_cb, SIGINT);
	ev_signal_init(&s->sig_hup, hup_cb, SIGHUP);
	ev_signal_init(&s->sig_usr1, usr1_cb, SIGUSR1);
	ev_async_init(&s->cap_done, cap_done_cb);
	ev_async_init(&s->worker_done, worker_done_cb);
	s->sig_term.data = s->sig_int.data = s->sig_hup.data = s->sig_usr1.data = s;
	s->cap_done.data = s->worker_done.data = s;
	ev_signal_start(s->loop, &s->sig_term);
	ev_signal_start(s->loop, &s->sig_int);
	ev_signal_start(s->loop, &s->sig_hup);
	ev_signal_start(s->loop, &s->sig_usr1);
	ev_async_start(s->loop, &s->cap_done);
	ev_async_start(s->loop, &s->worker_done);
	if (!s->live)
		return;
	ev_timer_init(&s->stats_timer, stats_cb, 1.0, 1.0);
	s->stats_timer.data = s;
	stats_timer_start(s, cfg);
	if (wd > 0) {
		double iv = (double)wd / 2e6;
		ev_timer_init(&s->watchdog_timer, watchdog_cb, iv, iv);
		s->watchdog_timer.data = s;
		ev_timer_start(s->loop, &s->watchdog_timer);
	}
	ev_timer_init(&s->local_timer, local_cb, LOCAL_REFRESH_S, LOCAL_REFRESH_S);
	s->local_timer.data = s;
	ev_timer_start(s->loop, &s->local_timer);
	if (s->local_fd >= 0) {
		ev_io_init(&s->local_io, local_io_cb, s->local_fd, EV_READ);
		s->local_io.data = s;
		ev_io_start(s->loop, &s->local_io);
	}
}

int
bw_sensor_run(const struct bw_sensor_opts *o, struct bw_stats *st)
{
	struct sensor s;
	sigset_t all, saved;
	struct bw_capture_opts co;
	struct bw_worker_opts wo;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.wake_fd = -1;
	s.local_fd = -1;
	s.live = o->interface != NULL;
	s.status = BW_EXIT_OK;
	/* every signal is the main thread's, through libev's signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);

	if ((s.loop = ev_loop_new(EVFLAG_SIGNALFD | EVFLAG_NOENV)) == NULL) {
		bw_log_warnx("cannot create the event loop");
		s.status = BW_EXIT_SOFTWARE;
		goto out;
	}
	if ((s.ring = bw_ring_new(o->cfg->ring_size)) == NULL ||
	    (s.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		bw_log_warn("ring of %zu records", o->cfg->ring_size);
		s.status = BW_EXIT_SOFTWARE;
		goto out;
	}
	memset(&co, 0, sizeof(co));
	co.files = o->files;
	co.nfiles = o->nfiles;
	co.interface = o->interface;
	co.cfg = o->cfg;
	co.decoder = o->decoder;
	co.conn_max = o->conn_max;
	co.conn_fold_ns = o->conn_fold_ns;
	co.ring = s.ring;
	co.wake_fd = s.wake_fd;
	co.pub = &s.cap_pub;
	if ((s.cap = bw_capture_open(&co)) == NULL) {
		s.status = s.live ? BW_EXIT_NOINPUT : BW_EXIT_SOFTWARE;
		goto out;
	}
	if (s.live) {
		/* attribution opens what needs privileges (eBPF, netlink) before they go */
		s.attrib = bw_attrib_open((enum bw_attrib_mode)o->cfg->attrib_mode,
		    o->cfg->attrib_budget_ns);
		/* the capture is open: nothing else needs privileges */
		int r = bw_privs_drop(o->cfg->user, s.attrib != NULL);
		if (r != 0) {
			s.status = r;
			goto out;
		}
		s.local_fd = bw_local_watch_open();
		s.local = bw_local_snapshot();
	}
	/* the configuration's alert file is opened as the user the sensor runs as */
	s.sinks.json = o->alerts;
	s.sinks.json_name = o->alerts_name;
	if (o->alerts == NULL && (s.cfg_json = open_cfg_json(o->cfg)) != NULL) {
		s.sinks.json = s.cfg_json;
		s.sinks.json_name = o->cfg->out_json;
	}
	if (o->alerts_stdout)
		s.sinks.text = stdout;
	if (o->alerts_syslog)
		bw_sinks_open_syslog(&s.sinks, o->cfg);

	memset(&wo, 0, sizeof(wo));
	wo.cfg = o->cfg;
	wo.ring = s.ring;
	wo.wake_fd = s.wake_fd;
	wo.sinks = &s.sinks;
	wo.records = o->records;
	wo.records_name = o->records_name;
	wo.pub = &s.worker_pub;
	wo.attrib = s.attrib;
	if ((s.worker = bw_worker_new(&wo)) == NULL) {
		s.status = BW_EXIT_SOFTWARE;
		goto out;
	}
	if (s.local != NULL) {
		struct bw_worker_msg *m = calloc(1, sizeof(*m));
		if (m != NULL && (m->local = bw_local_copy(s.local)) != NULL)
			bw_worker_post(s.worker, m);
		else
			free(m);
	}
	watchers_start(&s);
	if (bw_worker_start(s.worker, on_worker_done, &s) < 0 ||
	    bw_capture_start(s.cap, on_capture_done, &s) < 0) {
		s.status = BW_EXIT_SOFTWARE;
		bw_capture_stop(s.cap);
		bw_worker_input_done(s.worker);
		goto out;
	}
	if (s.live) {
		bw_log_info("capture active on %s (%s)", o->interface, bw_capture_describe(s.cap));
		bw_notify("READY=1");
	}
	ev_run(s.loop, 0);

out:
	if (s.cap != NULL) {
		bw_capture_stop(s.cap);
		bw_capture_join(s.cap);
	}
	if (s.worker != NULL) {
		bw_worker_input_done(s.worker);
		bw_worker_join(s.worker);
	}
	memset(st, 0, sizeof(*st));
	if (s.cap != NULL) {
		bw_stats_merge(st, bw_capture_stats(s.cap));
		note_status(&s, bw_capture_status(s.cap));
	}
	if (s.worker != NULL) {
		bw_stats_merge(st, bw_worker_stats(s.worker));
		if (o->records != NULL && (fflush(o->records) != 0 || ferror(o->records))) {
			bw_log_warn("%s: write", o->records_name);
			note_status(&s, BW_EXIT_IOERR);
		}
		note_status(&s, bw_worker_status(s.worker));
		if (bw_sinks_close(&s.sinks) < 0)
			note_status(&s, BW_EXIT_IOERR);
		if (s.cap != NULL)
			report(&s);
	}
	if (s.live && s.worker != NULL)
		log_stats(&s);
	bw_worker_free(s.worker);
	if (s.cfg_json != NULL && fclose(s.cfg_json) != 0) {
		bw_log_warn("%s", o->cfg->out_json);
		note_status(&s, BW_EXIT_IOERR);
	}
	bw_capture_close(s.cap);
	bw_attrib_close(s.attrib);
	bw_local_free(s.local);
	bw_ring_free(s.ring);
	if (s.wake_fd >= 0)
		close(s.wake_fd);
	if (s.loop != NULL) {
		/* a signal stays tied to a loop until its watcher stops */
		ev_signal_stop(s.loop, &s.sig_term);
		ev_signal_stop(s.loop, &s.sig_int);
		ev_signal_stop(s.loop, &s.sig_hup);
		ev_signal_stop(s.loop, &s.sig_usr1);
		ev_async_stop(s.loop, &s.cap_done);
		ev_async_stop(s.loop, &s.worker_done);
		ev_timer_stop(s.loop, &s.stats_timer);
		ev_timer_stop(s.loop, &s.watchdog_timer);
		ev_timer_stop(s.loop, &s.local_timer);
		if (s.local_fd >= 0)
			ev_io_stop(s.loop, &s.local_io);
		ev_loop_destroy(s.loop);
	}
	if (s.local_fd >= 0)
		close(s.local_fd);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return s.status;
}

/* ---------------------------------------------------------------- replay.h */

void
bw_replay_opts_default(struct bw_replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	bw_decoder_config_default(&o->decoder);
	o->conn_max = 65536;
	o->conn_fold_ns = BW_CONN_FOLD_NS;
}

int
bw_replay_run(const struct bw_replay_opts *r, struct bw_stats *st)
{
	struct bw_sensor_opts o;
	struct bw_config defaults;
	int status;

	bw_sensor_opts_default(&o);
	o.files = r->files;
	o.nfiles = r->nfiles;
	o.records = r->records;
	o.records_name = r->records_name;
	o.report_table = r->report_table;
	o.report_json = r->report_json;
	o.report_json_name = r->report_json_name;
	o.decoder = r->decoder;
	o.conn_max = r->conn_max;
	o.conn_fold_ns = r->conn_fold_ns;
	if (r->sinks != NULL) {
		o.alerts = r->sinks->json;
		o.alerts_name = r->sinks->json_name;
		o.alerts_stdout = r->sinks->text != NULL;
		o.alerts_syslog = r->sinks->syslog;
	}
	if (r->cfg != NULL) {
		o.cfg = (struct bw_config *)(uintptr_t)r->cfg;
		return bw_sensor_run(&o, st);
	}
	/* without a configuration: the built-in defaults */
	if (bw_config_default(&defaults) < 0)
		return BW_EXIT_SOFTWARE;
	o.cfg = &defaults;
	status = bw_sensor_run(&o, st);
	bw_config_free(&defaults);
	return status;
}
