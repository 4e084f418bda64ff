/*
 * floodgen.c - writes the flood capture of tests/flood: N TCP SYNs from
 * random spoofed sources to the watched ports of random addresses in the
 * documentation ranges 203.0.113.0/24 and 198.51.100.0/24, and inside them a
 * genuine repeating C2 group: 10.66.0.5 connecting to 198.51.100.200:8883
 * every 10 minutes. A fraction of the spoofed sources (--internal, per
 * million; default 10000 = 1%) is drawn from the monitored network
 * 10.0.0.0/8, the rest from public IPv4 space outside it; --internal 1000000
 * makes every source internal. Deterministic for a seed. Single-threaded [main].
 *
 * Classic pcap (a1b2c3d4, little-endian, microseconds, DLT_EN10MB); every
 * frame is Ethernet + IPv4 (20 bytes) + TCP with one MSS option (24 bytes),
 * 58 bytes, checksums right. Times rise strictly from --start over --span
 * seconds. Prints the truth as one JSON object on standard output.
 *
 * Use: floodgen [--packets N] [--seed S] [--span SECONDS] [--start EPOCH]
 *                [--internal PER_MILLION] OUT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_LEN 58
#define C2_SRC 0x0a420005u        /* 10.66.0.5 */
#define C2_DST 0xc63364c8u        /* 198.51.100.200 */
#define C2_PORT 8883
#define C2_EVERY_US 600000000LL   /* 10 minutes */
#define C2_FIRST_US 300000000LL   /* 5 minutes after the start */

static const uint16_t ports[] = {1883, 8883, 5222, 5223, 5269, 5672, 5671, 61613, 61614};

static uint64_t rng_state;

/* splitmix64: small, fast, and good enough to spread addresses */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * A spoofed source: with probability internal / 1e6 one in 10.0.0.0/8, else
 * any unicast address outside 0/8, 10/8, 127/8 and 224/3; never the C2 host.
 */
static uint32_t
spoofed_source(uint64_t internal, uint64_t *ninternal)
{
	if (rnd() % 1000000 < internal) {
		for (;;) {
			uint32_t a = 0x0a000000u | ((uint32_t)rnd() & 0xffffffu);
			if (a != C2_SRC) {
				(*ninternal)++;
				return a;
			}
		}
	}
	for (;;) {
		uint32_t a = (uint32_t)rnd();
		uint8_t top = (uint8_t)(a >> 24);
		if (top != 0 && top != 10 && top != 127 && top < 224)
			return a;
	}
}

/* One 16-byte record header and the 58-byte frame into out. */
static void
frame(uint8_t *out, int64_t ts_us, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, uint32_t seq)
{
	uint8_t *f = out + 16, *ip = f + 14, *tcp = ip + 20;
	uint32_t s;

	le32(out, (uint32_t)(ts_us / 1000000));
	le32(out + 4, (uint32_t)(ts_us % 1000000));
	le32(out + 8, FRAME_LEN);
	le32(out + 12, FRAME_LEN);
	/* Ethernet: a router's MAC to a host's, both locally administered */
	memcpy(f, "\x02\x00\x5e\x10\x00\x01", 6);
	memcpy(f + 6, "\x02\x10\x20\x00\x00\x07", 6);
	put16(f + 12, 0x0800);
	/* IPv4, RFC 791 */
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, 20 + 24);
	put16(ip + 4, (uint16_t)rnd());
	put16(ip + 6, 0x4000);          /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	/* TCP SYN with MSS 1460, RFC 9293 */
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	put32(tcp + 8, 0);
	tcp[12] = 6 << 4;
	tcp[13] = 0x02;
	put16(tcp + 14, 64240);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	tcp[20] = 2;
	tcp[21] = 4;
	put16(tcp + 22, 1460);
	s = sum16(ip + 12, 8, 0) + 6 + 24;      /* pseudo-header */
	put16(tcp + 16, fold(sum16(tcp, 24, s)));
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -1;
	*v = x;
	return 0;
}

static void
ip_text(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int
main(int argc, char **argv)
{
	uint64_t packets = 10000000, seed = 1, span = 4 * 3600, start = 1700000000;
	uint64_t internal = 10000, ninternal = 0;
	const char *out = NULL;
	uint8_t hdr[24], rec[16 + FRAME_LEN];
	int64_t start_us, span_us, next_c2, c2_first = -1, c2_last = -1;
	uint64_t c2 = 0, flood = 0;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		uint64_t *dst = NULL;
		if (strcmp(argv[i], "--packets") == 0)
			dst = &packets;
		else if (strcmp(argv[i], "--seed") == 0)
			dst = &seed;
		else if (strcmp(argv[i], "--span") == 0)
			dst = &span;
		else if (strcmp(argv[i], "--start") == 0)
			dst = &start;
		else if (strcmp(argv[i], "--internal") == 0)
			dst = &internal;
		else if (argv[i][0] != '-' && out == NULL) {
			out = argv[i];
			continue;
		}
		if (dst == NULL || i + 1 >= argc || parse_u64(argv[++i], dst) < 0) {
			fprintf(stderr, "usage: floodgen [--packets N] [--seed S] [--span SECONDS] "
			    "[--start EPOCH] [--internal PER_MILLION] OUT\n");
			return 64;
		}
	}
	if (out == NULL || packets == 0 || span == 0 || span > 86400 * 365 ||
	    packets > span * 1000000 / 2 || internal > 1000000) {
		fprintf(stderr, "floodgen: need OUT, packets > 0, 0 < span <= 1 year, "
		    "at most one packet per 2 us, internal <= 1000000\n");
		return 64;
	}
	if ((f = fopen(out, "wb")) == NULL) {
		fprintf(stderr, "floodgen: %s: %s\n", out, strerror(errno));
		return 73;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	rng_state = seed * 0x2545f4914f6cdd1dull + 1;

	le32(hdr, 0xa1b2c3d4u);
	hdr[4] = 2; hdr[5] = 0;         /* version 2.4 */
	hdr[6] = 4; hdr[7] = 0;
	le32(hdr + 8, 0);               /* thiszone */
	le32(hdr + 12, 0);              /* sigfigs */
	le32(hdr + 16, 65535);          /* snaplen */
	le32(hdr + 20, 1);              /* DLT_EN10MB */
	fwrite(hdr, 1, sizeof(hdr), f);

	/*
	 * packet i of the N goes at start + i * span / N; the C2 SYN takes the
	 * place of the packet whose slot its time falls in (so N stays N and times
	 * stay strictly increasing: slots are at least 2 us apart)
	 */
	start_us = (int64_t)start * 1000000;
	span_us = (int64_t)span * 1000000;
	next_c2 = C2_FIRST_US;
	for (uint64_t i = 0; i < packets; i++) {
		int64_t t = (int64_t)((unsigned __int128)i * (uint64_t)span_us / packets);
		if (next_c2 < span_us && t >= next_c2) {
			frame(rec, start_us + t, C2_SRC, C2_DST, (uint16_t)(32768 + rnd() % 28000),
			    C2_PORT, (uint32_t)rnd());
			if (c2_first < 0)
				c2_first = start_us + t;
			c2_last = start_us + t;
			c2++;
			next_c2 += C2_EVERY_US;
		} else {
			uint32_t dst = (rnd() & 1 ? 0xcb007100u : 0xc6336400u) | (uint32_t)(rnd() & 255);
			frame(rec, start_us + t, spoofed_source(internal, &ninternal), dst,
			    (uint16_t)(1024 + rnd() % 64512), ports[rnd() % 9], (uint32_t)rnd());
			flood++;
		}
		if (fwrite(rec, 1, sizeof(rec), f) != sizeof(rec)) {
			fprintf(stderr, "floodgen: %s: %s\n", out, strerror(errno));
			return 74;
		}
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "floodgen: %s: %s\n", out, strerror(errno));
		return 74;
	}

	char src[16], dst[16];
	ip_text(C2_SRC, src, sizeof(src));
	ip_text(C2_DST, dst, sizeof(dst));
	printf("{\"packets\":%" PRIu64 ",\"flood\":%" PRIu64 ",\"flood_internal\":%" PRIu64
	    ",\"seed\":%" PRIu64 ",\"span_s\":%" PRIu64 ",", packets, flood, ninternal, seed, span);
	printf("\"c2\":{\"src\":\"%s\",\"dst\":\"%s\",\"dport\":%d,\"protocol\":\"MQTT\","
	    "\"count\":%" PRIu64 ",\"first_us\":%" PRId64 ",\"last_us\":%" PRId64 "}}\n",
	    src, dst, C2_PORT, c2, c2_first, c2_last);
	return 0;
}
