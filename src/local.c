/*
 * local.c - snapshots of this host's name and addresses.   [main]
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "brokerwatch/local.h"
#include "brokerwatch/log.h"

struct bw_local *
bw_local_snapshot(void)
{
	struct ifaddrs *ifa, *i;
	struct bw_local *l;
	size_t cap = 0;

	if (getifaddrs(&ifa) < 0) {
		bw_log_warn("reading this host's addresses");
		return NULL;
	}
	for (i = ifa; i != NULL; i = i->ifa_next)
		cap++;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->addrs = calloc(cap ? cap : 1, sizeof(*l->addrs))) == NULL) {
		bw_log_warn("this host's addresses");
		bw_local_free(l);
		freeifaddrs(ifa);
		return NULL;
	}
	if (gethostname(l->hostname, sizeof(l->hostname) - 1) < 0)
		memcpy(l->hostname, "localhost", sizeof("localhost"));
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct bw_cidr *c = &l->addrs[l->n];
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)i->ifa_addr;
			memset(c, 0, sizeof(*c));
			c->family = 4;
			c->len = 32;
			memcpy(c->addr, &sin->sin_addr, 4);
			l->n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)i->ifa_addr;
			memset(c, 0, sizeof(*c));
			c->family = 6;
			c->len = 128;
			memcpy(c->addr, &sin6->sin6_addr, 16);
			l->n++;
		}
	}
	freeifaddrs(ifa);
	return l;
}

static int
has(const struct bw_local *l, const struct bw_cidr *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(&l->addrs[i], c, sizeof(*c)) == 0)
			return 1;
	return 0;
}

int
bw_local_equal(const struct bw_local *a, const struct bw_local *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (strcmp(a->hostname, b->hostname) != 0)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!has(b, &a->addrs[i]))
			return 0;
	for (size_t i = 0; i < b->n; i++)
		if (!has(a, &b->addrs[i]))
			return 0;
	return 1;
}

void
bw_local_free(struct bw_local *l)
{
	if (l == NULL)
		return;
	free(l->addrs);
	free(l);
}
