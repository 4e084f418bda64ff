/*
 * local.c - snapshots of this host's name and addresses.   [main]
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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
		const void *a;
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
			c->family = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
			c->family = 6;
		} else
			continue;
		c->len = c->family == 4 ? 32 : 128;
		memcpy(c->addr, a, c->len / 8);     /* the rest stays zero (calloc) */
		l->n++;
	}
	freeifaddrs(ifa);
	return l;
}

struct bw_local *
bw_local_copy(const struct bw_local *l)
{
	struct bw_local *c = malloc(sizeof(*c));

	if (c == NULL || (c->addrs = calloc(l->n ? l->n : 1, sizeof(*c->addrs))) == NULL) {
		bw_log_warn("this host's addresses");
		free(c);
		return NULL;
	}
	memcpy(c->hostname, l->hostname, sizeof(c->hostname));
	memcpy(c->addrs, l->addrs, l->n * sizeof(*c->addrs));
	c->n = l->n;
	return c;
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

int
bw_local_watch_open(void)
{
	struct sockaddr_nl sa;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
fail:
	bw_log_warn("rtnetlink: address changes are seen only every minute");
	if (fd >= 0)
		close(fd);
	return -1;
}

int
bw_local_watch_drain(int fd)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int changed = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: the kernel dropped messages; read the addresses again */
			if (errno == ENOBUFS)
				changed = 1;
			return changed;
		}
		if (n == 0)
			return changed;
		/* only the kernel's own messages of the groups asked for */
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		    h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR)
				changed = 1;
	}
}
