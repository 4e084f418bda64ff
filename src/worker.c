/*
 * worker.c - the scoring worker thread.   [worker]
 *
 * Owns the scorer, the groups, the configurations it was handed after the
 * first one, this host's address snapshot, and the alert file it was handed.
 * Between bursts it reads its mailbox; when the ring is empty it sleeps on
 * an eventfd that the capture thread writes after pushing.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brokerwatch/log.h"
#include "brokerwatch/replay.h"
#include "brokerwatch/score.h"
#include "brokerwatch/worker.h"

#define BURST 64
#define IDLE_POLL_MS 1000

struct bw_worker {
	struct bw_worker_opts o;
	const struct bw_config *cfg;      /* in use */
	struct bw_config *owned_cfg;      /* cfg when it came by message (freed by us) */
	struct bw_scorer *scorer;
	struct bw_window *window;
	struct bw_local *local;
	FILE *owned_json;                 /* an alert file handed over by message */
	struct bw_stats st;
	int status;

	pthread_t thread;
	int started, joined;
	void (*done)(void *);
	void *done_arg;
	_Atomic(struct bw_worker_msg *) mailbox;
	_Atomic int input_done;
	_Atomic uint64_t heartbeat;
	struct bw_record burst[BURST];
	struct bw_process proc;
};

static void
msg_free(struct bw_worker_msg *m)
{
	if (m == NULL)
		return;
	if (m->cfg != NULL) {
		bw_config_free(m->cfg);
		free(m->cfg);
	}
	if (m->json != NULL)
		fclose(m->json);
	bw_local_free(m->local);
	free(m);
}

/* Do group keys of a and b mean the same groups? */
static int
same_groups(const struct bw_config *a, const struct bw_config *b)
{
	if (a->group_by != b->group_by || a->max_groups != b->max_groups ||
	    a->max_events != b->max_events || a->nprotocols != b->nprotocols ||
	    a->ninventory != b->ninventory)
		return 0;
	for (size_t i = 0; i < a->nprotocols; i++)
		if (strcmp(a->protocols[i].name, b->protocols[i].name) != 0)
			return 0;
	for (size_t i = 0; i < a->ninventory; i++)
		if (memcmp(&a->inventory[i].net, &b->inventory[i].net, sizeof(a->inventory[i].net)) ||
		    strcmp(a->inventory[i].name, b->inventory[i].name) != 0)
			return 0;
	return 1;
}

static void
apply_config(struct bw_worker *w, struct bw_config *cfg)
{
	struct bw_scorer *scorer = bw_scorer_new(cfg, &w->st);
	struct bw_window *window = NULL;

	if (scorer == NULL || bw_scorer_set_local(scorer, w->local) < 0)
		goto fail;
	if (!same_groups(w->cfg, cfg)) {
		if ((window = bw_window_new(cfg, &w->st)) == NULL)
			goto fail;
		bw_log_info("group counters start again: the new configuration groups differently");
		bw_window_free(w->window);
		w->window = window;
	} else
		bw_window_set_config(w->window, cfg);
	bw_scorer_free(w->scorer);
	w->scorer = scorer;
	w->cfg = cfg;
	if (w->o.attrib != NULL)
		bw_attrib_watch_ports(w->o.attrib, cfg);
	if (w->owned_cfg != NULL) {
		bw_config_free(w->owned_cfg);
		free(w->owned_cfg);
	}
	w->owned_cfg = cfg;
	return;
fail:
	bw_log_warnx("not enough memory for the new configuration: the running one is kept");
	bw_scorer_free(scorer);
	bw_config_free(cfg);
	free(cfg);
}

/* Reads the mailbox. */
static void
take_mail(struct bw_worker *w)
{
	struct bw_worker_msg *m = atomic_exchange_explicit(&w->mailbox, NULL, memory_order_acquire);

	if (m == NULL)
		return;
	if (m->local != NULL) {
		if (bw_scorer_set_local(w->scorer, m->local) == 0) {
			bw_local_free(w->local);
			w->local = m->local;
		} else
			bw_local_free(m->local);
		m->local = NULL;
	}
	if (m->cfg != NULL) {
		apply_config(w, m->cfg);
		m->cfg = NULL;
	}
	if (m->json != NULL) {
		if (w->owned_json != NULL && fclose(w->owned_json) != 0)
			bw_log_warn("closing the old alert file");
		else if (w->owned_json == NULL && w->o.sinks->json != NULL)
			fflush(w->o.sinks->json);
		w->owned_json = m->json;
		w->o.sinks->json = m->json;
		m->json = NULL;
	}
	msg_free(m);
}

static void
handle(struct bw_worker *w, const struct bw_record *rec)
{
	struct bw_score sc;
	struct bw_alert alert;
	struct bw_process *proc = NULL;
	int watched = bw_score_watch(w->scorer, rec, &sc);

	/* only a watched record made on this host is worth naming its process */
	if (watched && sc.inventory == BW_SCORE_LOCAL && w->o.attrib != NULL) {
		bw_attrib_lookup(w->o.attrib, rec, &w->proc);
		proc = &w->proc;
	}
	if (watched)
		bw_score_rules(w->scorer, rec, proc, &sc);
	if (w->o.records != NULL) {
		char line[BW_RECORD_JSON_MAX];
		const char *computer = watched ? sc.computer : bw_scorer_computer(w->scorer, rec);
		size_t n = bw_record_format_json(rec, computer, proc, line, sizeof(line));
		if (fwrite(line, 1, n, w->o.records) != n && w->status == BW_EXIT_OK) {
			bw_log_warn("%s: write", w->o.records_name);
			w->status = BW_EXIT_IOERR;
		}
	}
	if (watched && sc.counted && bw_window_add(w->window, rec, proc, &sc, &alert))
		bw_sinks_emit(w->o.sinks, w->cfg, &alert);
}

static void
idle_wait(struct bw_worker *w)
{
	struct pollfd p[2] = {{.fd = w->o.wake_fd, .events = POLLIN},
	    {.fd = w->o.attrib != NULL ? bw_attrib_fd(w->o.attrib) : -1, .events = POLLIN}};
	uint64_t v;

	/* the records and alerts so far reach their files while nothing happens */
	if (w->o.records != NULL && fflush(w->o.records) != 0 && w->status == BW_EXIT_OK) {
		bw_log_warn("%s: write", w->o.records_name);
		w->status = BW_EXIT_IOERR;
	}
	if (w->o.sinks->json != NULL)
		fflush(w->o.sinks->json);
	if (w->o.sinks->text != NULL)
		fflush(w->o.sinks->text);
	/* kernel reports are taken as they come: their table stays current */
	if (poll(p, p[1].fd >= 0 ? 2 : 1, IDLE_POLL_MS) > 0) {
		if ((p[0].revents & POLLIN) && read(w->o.wake_fd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			bw_log_warn("worker wake-up");
		if (p[1].revents & POLLIN)
			bw_attrib_poll(w->o.attrib);
	}
}

/* The counters for the main thread, the number of groups with them. */
static void
publish(struct bw_worker *w)
{
	w->st.v[BW_STAT_GROUPS] = bw_window_groups(w->window);
	bw_stats_publish(w->o.pub, &w->st);
}

static void *
worker_main(void *arg)
{
	struct bw_worker *w = arg;
	unsigned bursts = 0;

	for (;;) {
		/*
		 * Mail first, each burst: a record pushed after the main thread
		 * posted this host's addresses (the first ones at start, or an
		 * address that just came) is scored with them. Nothing waiting:
		 * one relaxed load.
		 */
		if (atomic_load_explicit(&w->mailbox, memory_order_relaxed) != NULL)
			take_mail(w);
		size_t n = bw_ring_pop(w->o.ring, w->burst, BURST);

		for (size_t i = 0; i < n; i++)
			handle(w, &w->burst[i]);
		atomic_fetch_add_explicit(&w->heartbeat, 1, memory_order_relaxed);
		if (n > 0 && ++bursts % 64 != 0)
			continue;
		publish(w);
		if (n > 0)
			continue;
		/* acquire: pairs with input_done's release, after the capture's last push */
		if (atomic_load_explicit(&w->input_done, memory_order_acquire)) {
			if (bw_ring_count(w->o.ring) == 0)
				break;
			continue;
		}
		idle_wait(w);
	}
	take_mail(w);
	publish(w);
	if (w->done != NULL)
		w->done(w->done_arg);
	return NULL;
}

struct bw_worker *
bw_worker_new(const struct bw_worker_opts *o)
{
	struct bw_worker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		bw_log_warn("worker");
		return NULL;
	}
	w->o = *o;
	w->cfg = o->cfg;
	atomic_init(&w->mailbox, NULL);
	atomic_init(&w->input_done, 0);
	atomic_init(&w->heartbeat, 0);
	w->scorer = bw_scorer_new(o->cfg, &w->st);
	w->window = bw_window_new(o->cfg, &w->st);
	if (o->attrib != NULL) {
		bw_attrib_set_stats(o->attrib, &w->st);
		bw_attrib_watch_ports(o->attrib, o->cfg);
	}
	if (w->scorer == NULL || w->window == NULL) {
		bw_worker_free(w);
		return NULL;
	}
	return w;
}

int
bw_worker_start(struct bw_worker *w, void (*done)(void *), void *arg)
{
	int e;

	w->done = done;
	w->done_arg = arg;
	if ((e = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		errno = e;
		bw_log_warn("worker thread");
		return -1;
	}
	w->started = 1;
	return 0;
}

static void
wake(struct bw_worker *w)
{
	uint64_t one = 1;

	if (write(w->o.wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is already set: the worker will wake */
	}
}

void
bw_worker_post(struct bw_worker *w, struct bw_worker_msg *m)
{
	struct bw_worker_msg *old;

	/* take back an unread message and fold it into this one */
	old = atomic_exchange_explicit(&w->mailbox, NULL, memory_order_acquire);
	if (old != NULL) {
		if (m->cfg == NULL) {
			m->cfg = old->cfg;
			old->cfg = NULL;
		}
		if (m->json == NULL) {
			m->json = old->json;
			old->json = NULL;
		}
		if (m->local == NULL) {
			m->local = old->local;
			old->local = NULL;
		}
		msg_free(old);
	}
	/* release: pairs with the worker's acquire exchange; the message is complete */
	atomic_store_explicit(&w->mailbox, m, memory_order_release);
	wake(w);
}

void
bw_worker_input_done(struct bw_worker *w)
{
	atomic_store_explicit(&w->input_done, 1, memory_order_release);
	wake(w);
}

void
bw_worker_join(struct bw_worker *w)
{
	if (w->started && !w->joined) {
		pthread_join(w->thread, NULL);
		w->joined = 1;
	}
}

const struct bw_stats *
bw_worker_stats(const struct bw_worker *w)
{
	return &w->st;
}

struct bw_window *
bw_worker_window(struct bw_worker *w)
{
	return w->window;
}

const struct bw_config *
bw_worker_config(const struct bw_worker *w)
{
	return w->cfg;
}

int
bw_worker_status(const struct bw_worker *w)
{
	return w->status;
}

uint64_t
bw_worker_heartbeat(const struct bw_worker *w)
{
	return atomic_load_explicit(&w->heartbeat, memory_order_relaxed);
}

void
bw_worker_free(struct bw_worker *w)
{
	if (w == NULL)
		return;
	bw_worker_join(w);
	msg_free(atomic_exchange(&w->mailbox, NULL));
	bw_window_free(w->window);
	bw_scorer_free(w->scorer);
	bw_local_free(w->local);
	if (w->owned_json != NULL) {
		if (w->o.sinks->json == w->owned_json)
			w->o.sinks->json = NULL;
		fclose(w->owned_json);
	}
	if (w->owned_cfg != NULL) {
		bw_config_free(w->owned_cfg);
		free(w->owned_cfg);
	}
	free(w);
}
