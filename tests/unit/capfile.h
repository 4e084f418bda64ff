/*
 * capfile.h - classic pcap and pcapng files written byte by byte, in either
 * byte order, for the reader tests. A struct fb grows as needed; pcapng block
 * lengths are filled in by ng_end().
 */
#ifndef BW_UNIT_CAPFILE_H
#define BW_UNIT_CAPFILE_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fb {
	uint8_t *d;
	size_t n, cap;
	int be; /* write multi-byte fields big-endian */
};

static inline void
fb_free(struct fb *f)
{
	free(f->d);
	memset(f, 0, sizeof(*f));
}

static inline void
fb_bytes(struct fb *f, const void *p, size_t n)
{
	if (f->n + n > f->cap) {
		size_t c = f->cap ? f->cap : 4096;

		while (c < f->n + n)
			c *= 2;
		f->d = realloc(f->d, c);
		ck_assert_ptr_nonnull(f->d);
		f->cap = c;
	}
	if (n > 0)
		memcpy(f->d + f->n, p, n);
	f->n += n;
}

static inline void
fb_zero(struct fb *f, size_t n)
{
	static const uint8_t z[64];

	while (n > 0) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		fb_bytes(f, z, k);
		n -= k;
	}
}

static inline void
fb_u8(struct fb *f, uint8_t v)
{
	fb_bytes(f, &v, 1);
}

static inline void
fb_put16(uint8_t *p, uint16_t v, int be)
{
	p[be ? 0 : 1] = (uint8_t)(v >> 8);
	p[be ? 1 : 0] = (uint8_t)v;
}

static inline void
fb_put32(uint8_t *p, uint32_t v, int be)
{
	for (int i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static inline void
fb_u16(struct fb *f, uint16_t v)
{
	uint8_t x[2];

	fb_put16(x, v, f->be);
	fb_bytes(f, x, 2);
}

static inline void
fb_u32(struct fb *f, uint32_t v)
{
	uint8_t x[4];

	fb_put32(x, v, f->be);
	fb_bytes(f, x, 4);
}

static inline void
fb_u64(struct fb *f, uint64_t v)
{
	uint8_t x[8];

	for (int i = 0; i < 8; i++)
		x[f->be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
	fb_bytes(f, x, 8);
}

static inline void
fb_pad4(struct fb *f)
{
	while (f->n % 4)
		fb_u8(f, 0);
}

/* ---- classic pcap ---- */

static inline void
pcap_hdr(struct fb *f, int be, int nano, uint32_t linktype, uint32_t snaplen)
{
	f->be = be;
	fb_u32(f, nano ? 0xa1b23c4du : 0xa1b2c3d4u);
	fb_u16(f, 2);
	fb_u16(f, 4);
	fb_u32(f, 0);
	fb_u32(f, 0);
	fb_u32(f, snaplen);
	fb_u32(f, linktype);
}

static inline void
pcap_rec(struct fb *f, uint32_t sec, uint32_t frac, const uint8_t *data, uint32_t caplen,
    uint32_t wirelen)
{
	fb_u32(f, sec);
	fb_u32(f, frac);
	fb_u32(f, caplen);
	fb_u32(f, wirelen);
	fb_bytes(f, data, caplen);
}

/* ---- pcapng ---- */

#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_OPB 2u
#define NG_SPB 3u
#define NG_NRB 4u
#define NG_ISB 5u
#define NG_EPB 6u

/* Starts a block: type and a length filled in by ng_end. */
static inline size_t
ng_begin(struct fb *f, uint32_t type)
{
	size_t start = f->n;

	fb_u32(f, type);
	fb_u32(f, 0);
	return start;
}

static inline void
ng_end(struct fb *f, size_t start)
{
	uint32_t len;

	fb_pad4(f);
	len = (uint32_t)(f->n - start + 4);
	fb_u32(f, len);
	fb_put32(f->d + start + 4, len, f->be);
}

static inline void
ng_opt(struct fb *f, uint16_t code, const void *v, uint16_t len)
{
	fb_u16(f, code);
	fb_u16(f, len);
	fb_bytes(f, v, len);
	fb_pad4(f);
}

static inline void
ng_opt_end(struct fb *f)
{
	fb_u16(f, 0);
	fb_u16(f, 0);
}

/* A section header in byte order be, with a comment and a hardware option. */
static inline void
ng_shb(struct fb *f, int be)
{
	size_t s;

	f->be = be;
	s = ng_begin(f, NG_SHB);
	fb_u32(f, 0x1a2b3c4du);
	fb_u16(f, 1);
	fb_u16(f, 0);
	fb_u64(f, UINT64_MAX); /* section length unknown */
	ng_opt(f, 1, "unit test", 9);
	ng_opt(f, 2, "x86_64", 6);
	ng_opt_end(f);
	ng_end(f, s);
}

/*
 * An interface: link type, snap length, and optionally if_name (NULL: none),
 * if_tsresol (tsresol < 0: none), if_tsoffset (has_off).
 */
static inline void
ng_idb(struct fb *f, uint16_t linktype, uint32_t snaplen, const char *name, int tsresol,
    int has_off, int64_t tsoffset)
{
	size_t s = ng_begin(f, NG_IDB);

	fb_u16(f, linktype);
	fb_u16(f, 0);
	fb_u32(f, snaplen);
	if (name != NULL)
		ng_opt(f, 2, name, (uint16_t)strlen(name));
	ng_opt(f, 3, "a description", 13);
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;

		ng_opt(f, 9, &r, 1);
	}
	if (has_off) {
		uint8_t x[8];
		uint64_t v = (uint64_t)tsoffset;

		for (int i = 0; i < 8; i++)
			x[f->be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
		ng_opt(f, 14, x, 8);
	}
	ng_opt_end(f);
	ng_end(f, s);
}

static inline void
ng_epb(struct fb *f, uint32_t ifid, uint64_t ts, const uint8_t *data, uint32_t caplen,
    uint32_t wirelen)
{
	size_t s = ng_begin(f, NG_EPB);

	fb_u32(f, ifid);
	fb_u32(f, (uint32_t)(ts >> 32));
	fb_u32(f, (uint32_t)ts);
	fb_u32(f, caplen);
	fb_u32(f, wirelen);
	fb_bytes(f, data, caplen);
	fb_pad4(f);
	{
		uint8_t flags[4];

		fb_put32(flags, 1, f->be); /* epb_flags: inbound */
		ng_opt(f, 2, flags, 4);
		ng_opt_end(f);
	}
	ng_end(f, s);
}

/* A simple packet block holding inblock bytes of a wirelen-byte packet. */
static inline void
ng_spb(struct fb *f, const uint8_t *data, uint32_t inblock, uint32_t wirelen)
{
	size_t s = ng_begin(f, NG_SPB);

	fb_u32(f, wirelen);
	fb_bytes(f, data, inblock);
	ng_end(f, s);
}

/* The obsolete packet block: 16-bit interface id and drops count. */
static inline void
ng_opb(struct fb *f, uint16_t ifid, uint64_t ts, const uint8_t *data, uint32_t caplen,
    uint32_t wirelen)
{
	size_t s = ng_begin(f, NG_OPB);

	fb_u16(f, ifid);
	fb_u16(f, 0);
	fb_u32(f, (uint32_t)(ts >> 32));
	fb_u32(f, (uint32_t)ts);
	fb_u32(f, caplen);
	fb_u32(f, wirelen);
	fb_bytes(f, data, caplen);
	ng_end(f, s);
}

/* Any other block: type, body bytes. */
static inline void
ng_other(struct fb *f, uint32_t type, size_t bodylen)
{
	size_t s = ng_begin(f, type);

	for (size_t i = 0; i < bodylen; i++)
		fb_u8(f, (uint8_t)(i * 13));
	ng_end(f, s);
}

#endif
