/*
 * worker.h - the scoring worker: drains the ring into the engine (scoring,
 * groups, alerts) and writes the records.
 *
 * It owns the scorer, the groups and the alert sinks while it runs; the
 * main thread talks to it only through a mailbox it reads between bursts
 * (a new configuration, a reopened alert file, this host's addresses).
 */
#ifndef BW_WORKER_H
#define BW_WORKER_H

#include <stdint.h>
#include <stdio.h>

#include "brokerwatch/alert.h"
#include "brokerwatch/attrib.h"
#include "brokerwatch/config.h"
#include "brokerwatch/local.h"
#include "brokerwatch/ring.h"
#include "brokerwatch/stats.h"
#include "brokerwatch/window.h"

struct bw_worker;

struct bw_worker_opts {
	const struct bw_config *cfg;   /* the first configuration (the caller's, kept) */
	struct bw_ring *ring;
	int wake_fd;                   /* eventfd the capture thread (and main) write */
	struct bw_sinks *sinks;        /* the worker writes alerts into them */
	FILE *records;                 /* JSON lines of records, or NULL */
	const char *records_name;
	struct bw_stats_shared *pub;
	struct bw_attrib *attrib;      /* names the processes of local records, or NULL */
};

/* What main hands over; every non-NULL part passes to the worker. */
struct bw_worker_msg {
	struct bw_config *cfg;         /* a reloaded configuration */
	FILE *json;                    /* a reopened alert file (replaces sinks->json) */
	struct bw_local *local;        /* this host's addresses now */
};

/* NULL (logged) without memory. [main] */
struct bw_worker *bw_worker_new(const struct bw_worker_opts *o);

/* Starts the thread; done is called from it when it ends. 0, or -1 (logged). [main] */
int bw_worker_start(struct bw_worker *w, void (*done)(void *), void *arg);

/*
 * Posts a message (ownership passes). A message still unread is merged
 * into it: the newer parts win, the older ones are freed. [main]
 */
void bw_worker_post(struct bw_worker *w, struct bw_worker_msg *m);

/* No more records will come: the worker drains the ring and ends. [main] */
void bw_worker_input_done(struct bw_worker *w);

/* Waits for the thread. [main] */
void bw_worker_join(struct bw_worker *w);

/* After the join: its counters, groups, configuration, exit status. [main] */
const struct bw_stats *bw_worker_stats(const struct bw_worker *w);
struct bw_window *bw_worker_window(struct bw_worker *w);
const struct bw_config *bw_worker_config(const struct bw_worker *w);
int bw_worker_status(const struct bw_worker *w);

/* A counter that grows while the thread runs (watchdog). [any thread] */
uint64_t bw_worker_heartbeat(const struct bw_worker *w);

/* Frees everything it owns (joins first if needed); NULL is allowed. [main] */
void bw_worker_free(struct bw_worker *w);

#endif
