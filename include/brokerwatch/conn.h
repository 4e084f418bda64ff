/*
 * conn.h - one record per connection attempt: retransmitted SYNs folded.
 *
 * A connect() that gets no answer sends its SYN up to seven times; the
 * reference query counts connections, so every SYN with the same addresses,
 * ports and initial sequence number as one seen at most the fold window
 * before it is the same attempt. The table is bounded; when full, the attempt
 * seen longest ago is forgotten and counted (syn_fold_evicted): at worst a
 * later retransmission of it becomes a record of its own. Capture thread only.
 */
#ifndef BW_CONN_H
#define BW_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "brokerwatch/record.h"
#include "brokerwatch/stats.h"

/* Linux retransmits an unanswered SYN for 127 s (tcp_syn_retries = 6). */
#define BW_CONN_FOLD_NS (130LL * 1000000000LL)

struct bw_conn;

/* A table for max attempts, folding a SYN at most fold_ns after the previous one. */
struct bw_conn *bw_conn_new(size_t max, int64_t fold_ns, struct bw_stats *st);

/* Frees the table; NULL is allowed. */
void bw_conn_free(struct bw_conn *c);

/*
 * Returns 1 if syn starts a new connection attempt (it becomes a record,
 * counted in records), 0 if it retransmits one (counted in syn_retransmit).
 */
int bw_conn_syn(struct bw_conn *c, const struct bw_record *syn);

#endif
