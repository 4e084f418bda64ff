/*
 * cidr.c - network parsing and longest-prefix sets.   [main builds, any thread reads]
 *
 * A set is one open-addressing hash table keyed by (family, prefix length,
 * masked address), plus per family the distinct prefix lengths present,
 * longest first: a lookup probes once per distinct length.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/cidr.h"
#include "brokerwatch/format.h"

static void
mask_addr(uint8_t *a, int bits, int len)
{
	for (int i = 0; i < bits / 8; i++) {
		int keep = len - i * 8;
		if (keep >= 8)
			continue;
		a[i] = keep <= 0 ? 0 : (uint8_t)(a[i] & (0xff << (8 - keep)));
	}
}

/* addr (4 or 16 bytes by family) as 16 bytes, an IPv4 address zero-padded. */
static void
load_addr(uint8_t a[16], int family, const uint8_t *addr)
{
	memcpy(a, addr, family == 4 ? 4 : 16);
	if (family == 4)
		memset(a + 4, 0, 12);
}

int
bw_cidr_parse(const char *text, struct bw_cidr *out, char *err, size_t errlen)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	long len;
	int bits;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(buf)) {
		snprintf(err, errlen, "'%s' is not an address or network", text);
		return -1;
	}
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		bits = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an address or network", text);
		return -1;
	}
	len = bits;
	if (slash != NULL) {
		char *end;
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 || len < 0 ||
		    len > bits) {
			snprintf(err, errlen, "'%s': the prefix length must be 0..%d", text, bits);
			return -1;
		}
	}
	out->len = (uint8_t)len;
	uint8_t masked[16];
	memcpy(masked, out->addr, sizeof(masked));
	mask_addr(masked, bits, (int)len);
	if (memcmp(masked, out->addr, sizeof(masked)) != 0) {
		char net[BW_ADDR_TEXT_MAX + 4];
		memcpy(out->addr, masked, sizeof(masked));
		bw_cidr_format(out, net);
		snprintf(err, errlen, "'%s' has host bits set: %s?", text, net);
		return -1;
	}
	return 0;
}

int
bw_cidr_contains(const struct bw_cidr *net, int family, const uint8_t *addr)
{
	uint8_t a[16];

	if (net->family != family)
		return 0;
	load_addr(a, family, addr);
	mask_addr(a, family == 4 ? 32 : 128, net->len);
	return memcmp(a, net->addr, 16) == 0;
}

size_t
bw_cidr_format(const struct bw_cidr *net, char *buf)
{
	size_t n = bw_format_addr(net->family, net->addr, buf);

	buf[n++] = '/';
	n += bw_format_u64(net->len, buf + n);
	buf[n] = '\0';
	return n;
}

struct slot {
	uint8_t used;
	uint8_t family;
	uint8_t len;
	uint8_t addr[16];
	long value;
};

struct bw_cidr_set {
	struct slot *slots;
	size_t mask;
	uint8_t lens4[33], nlens4;      /* distinct prefix lengths, longest first */
	uint8_t lens6[129], nlens6;
};

static size_t
slot_hash(int family, int len, const uint8_t *a)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(family << 8 | len);

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 0x100000001b3ULL;
	return (size_t)(h ^ h >> 29);
}

/* The slot holding (family, len, a), or the empty slot where it would go. */
static size_t
find_slot(const struct bw_cidr_set *s, int family, int len, const uint8_t *a)
{
	size_t h = slot_hash(family, len, a) & s->mask;

	while (s->slots[h].used) {
		const struct slot *o = &s->slots[h];
		if (o->family == family && o->len == len && memcmp(o->addr, a, 16) == 0)
			break;
		h = (h + 1) & s->mask;
	}
	return h;
}

struct bw_cidr_set *
bw_cidr_set_new(const struct bw_cidr *nets, size_t n)
{
	struct bw_cidr_set *s = calloc(1, sizeof(*s));
	size_t cap = 8;
	uint8_t seen4[33] = {0}, seen6[129] = {0};

	if (s == NULL)
		return NULL;
	while (cap < 2 * n)
		cap <<= 1;
	if ((s->slots = calloc(cap, sizeof(*s->slots))) == NULL) {
		free(s);
		return NULL;
	}
	s->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		const struct bw_cidr *c = &nets[i];
		size_t h = find_slot(s, c->family, c->len, c->addr);
		if (s->slots[h].used)
			continue;       /* a duplicate: the first one given wins */
		s->slots[h].used = 1;
		s->slots[h].family = c->family;
		s->slots[h].len = c->len;
		memcpy(s->slots[h].addr, c->addr, 16);
		s->slots[h].value = (long)i;
		if (c->family == 4)
			seen4[c->len] = 1;
		else
			seen6[c->len] = 1;
	}
	for (int l = 32; l >= 0; l--)
		if (seen4[l])
			s->lens4[s->nlens4++] = (uint8_t)l;
	for (int l = 128; l >= 0; l--)
		if (seen6[l])
			s->lens6[s->nlens6++] = (uint8_t)l;
	return s;
}

void
bw_cidr_set_free(struct bw_cidr_set *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s);
}

long
bw_cidr_set_lookup(const struct bw_cidr_set *s, int family, const uint8_t *addr)
{
	const uint8_t *lens;
	int nlens, bits;
	uint8_t a[16];

	if (s == NULL)
		return -1;
	lens = family == 4 ? s->lens4 : s->lens6;
	nlens = family == 4 ? s->nlens4 : s->nlens6;
	bits = family == 4 ? 32 : 128;
	load_addr(a, family, addr);
	/* lengths go longest first: masking the masked address again is enough */
	for (int i = 0; i < nlens; i++) {
		mask_addr(a, bits, lens[i]);
		size_t h = find_slot(s, family, lens[i], a);
		if (s->slots[h].used)
			return s->slots[h].value;
	}
	return -1;
}
