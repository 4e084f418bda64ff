/*
 * pcapfile.c - classic pcap and pcapng files, read without trusting them.   [capture]
 *
 * Owns the file descriptor, the mapping or the read buffer, and the table of
 * pcapng interfaces of the current section. Every length read from the file
 * is checked against what is left before it is used; a packet's bytes are
 * handed out in place (mapping or buffer), never copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brokerwatch/extract.h"
#include "brokerwatch/pcapfile.h"

#define PCAP_FILE_HLEN 24
#define PCAP_REC_HLEN 16
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 1u
#define PCAPNG_OPB 2u
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_MAX_IFACES 65536u
#define READ_CHUNK (1u << 20)
#define MAP_RELEASE (16u << 20)  /* mapped bytes read before they are given back */
#define PREFETCH_AHEAD 4096u     /* mapped bytes asked for ahead of the cursor */

#define NS_PER_SEC 1000000000LL

/* Files before pcap 2.3 put the original length before the capture length. */
#define LEN_NOT_SWAPPED 0
#define LEN_SWAPPED 1
#define LEN_MAYBE_SWAPPED 2      /* 2.3: some writers did, some did not */

struct iface {
	uint32_t linktype;
	enum bw_link link;
	uint32_t snaplen;
	uint64_t units;          /* timestamp units per second */
	int64_t tsoffset;        /* seconds */
	char name[BW_IFNAME_MAX];
};

struct bw_pcapfile {
	int fd;
	int own_fd;
	/* mapped file, or a read buffer over a pipe */
	const uint8_t *map;
	size_t mapsize;
	size_t released;         /* mapped bytes before this offset were given back */
	size_t prefetched;       /* mapped bytes before this offset were prefetched */
	uint8_t *buf;
	size_t bufcap;
	size_t bufstart;         /* cursor within buf */
	size_t bufend;           /* valid bytes in buf */
	int eof;
	uint64_t off;            /* file offset of the cursor */

	enum bw_pcapfile_format format;
	int swap;                /* the file (section) is big-endian */
	int64_t last_ts;

	/* classic pcap */
	int nsec;
	int lengths_swapped;     /* LEN_* below */
	struct iface classic;

	/* pcapng: interfaces of the current section */
	struct iface *ifaces;
	size_t nifaces;
	size_t capifaces;

	uint32_t cur_iface;
	uint32_t cur_linktype;
	uint64_t packets;
};

static void
seterr(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static uint16_t
rd16(const struct bw_pcapfile *pf, const uint8_t *p)
{
	return pf->swap ? bw_be16(p) : bw_le16(p);
}

static uint32_t
rd32(const struct bw_pcapfile *pf, const uint8_t *p)
{
	return pf->swap ? bw_be32(p) : bw_le32(p);
}

/*
 * Makes n bytes at the cursor available at *pp. Returns n, or fewer if the file
 * ends first (then *pp holds what there is), or -1 on a read error (errno).
 */
static ssize_t
in_peek(struct bw_pcapfile *pf, size_t n, const uint8_t **pp)
{
	if (pf->map != NULL) {
		size_t left = pf->mapsize - (size_t)pf->off;
		*pp = pf->map + pf->off;
		return (ssize_t)(left < n ? left : n);
	}
	while (pf->bufend - pf->bufstart < n && !pf->eof) {
		if (pf->bufstart > 0) {
			memmove(pf->buf, pf->buf + pf->bufstart, pf->bufend - pf->bufstart);
			pf->bufend -= pf->bufstart;
			pf->bufstart = 0;
		}
		if (n > pf->bufcap) {
			size_t cap = pf->bufcap;
			uint8_t *nb;
			while (cap < n)
				cap *= 2;
			if ((nb = realloc(pf->buf, cap)) == NULL)
				return -1;
			pf->buf = nb;
			pf->bufcap = cap;
		}
		ssize_t r = read(pf->fd, pf->buf + pf->bufend, pf->bufcap - pf->bufend);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			pf->eof = 1;
		pf->bufend += (size_t)r;
	}
	*pp = pf->buf + pf->bufstart;
	return (ssize_t)(pf->bufend - pf->bufstart < n ? pf->bufend - pf->bufstart : n);
}

/*
 * Pages read are not needed again: give them back, so that a replay's
 * resident memory does not grow with the file (they stay in the page cache).
 */
static void
map_release(struct bw_pcapfile *pf)
{
	size_t upto = (size_t)(pf->off - MAP_RELEASE) & ~(size_t)(4096 - 1);

	if (upto > pf->released) {
		madvise((void *)(uintptr_t)(pf->map + pf->released), upto - pf->released,
		    MADV_DONTNEED);
		pf->released = upto;
	}
}

static inline void
in_skip(struct bw_pcapfile *pf, size_t n)
{
	size_t at, want;

	pf->off += n;
	if (pf->map == NULL) {
		pf->bufstart += n;
		return;
	}
	/*
	 * Where the next record starts is only known once this one's header is
	 * read: a chain of loads that would each wait for memory, as the hardware
	 * prefetcher does not follow records a few hundred bytes apart. Asking
	 * for every line a few KiB ahead of the cursor takes the waits out (twice
	 * as fast a walk through a file in the page cache).
	 */
	at = pf->prefetched > pf->off ? pf->prefetched : (size_t)pf->off;
	want = (size_t)pf->off + PREFETCH_AHEAD;
	if (want > pf->mapsize)
		want = pf->mapsize;
	for (; at < want; at += 64)
		__builtin_prefetch(pf->map + at);
	pf->prefetched = at;
	if (pf->off - pf->released >= 2 * MAP_RELEASE)
		map_release(pf);
}

static enum bw_link
iface_link(uint32_t linktype)
{
	return bw_link_from_linktype(linktype);
}

/* Time from whole seconds and a fraction in units per second; -1 if out of range. */
static int64_t
make_ts(int64_t sec, uint64_t frac, uint64_t units)
{
	int64_t ns;

	/* the two classic resolutions without a 128-bit division (same result) */
	if (units == 1000000 && frac <= UINT32_MAX)
		ns = (int64_t)frac * 1000;
	else if (units == NS_PER_SEC && frac <= UINT32_MAX)
		ns = (int64_t)frac;
	else
		ns = (int64_t)((unsigned __int128)frac * NS_PER_SEC / units);

	if (sec < 0 || sec > (INT64_MAX - ns) / NS_PER_SEC)
		return -1;
	return sec * NS_PER_SEC + ns;
}

/* Sets pkt's time, or the previous packet's with a status when there is none. */
static void
set_ts(struct bw_pcapfile *pf, struct bw_packet *pkt, int64_t ts, uint8_t missing)
{
	if (missing || ts < 0) {
		pkt->ts_ns = pf->last_ts;
		pkt->ts_status = missing ? BW_TS_MISSING : BW_TS_INVALID;
		return;
	}
	pkt->ts_ns = ts;
	pkt->ts_status = BW_TS_OK;
	pf->last_ts = ts;
}

const char *
bw_linktype_name(uint32_t linktype)
{
	const char *name;

	switch (linktype) {
	case 228: return "IPV4";
	case 229: return "IPV6";
	case 276: return "LINUX_SLL2";
	default: break;
	}
	/* libpcap names DLT_ values, which equal LINKTYPE_ values outside 100..200 */
	if (linktype == 101)
		return "RAW";
	if ((name = pcap_datalink_val_to_name((int)linktype)) != NULL)
		return name;
	return "unknown";
}

/* ------------------------------------------------------------------ classic pcap */

static int
classic_open(struct bw_pcapfile *pf, const uint8_t *h, char *errbuf, size_t errlen)
{
	pf->format = BW_PCAPFILE_PCAP;
	pf->classic.snaplen = rd32(pf, h + 16);
	pf->classic.linktype = rd32(pf, h + 20) & 0xffff;   /* upper bits: FCS length, class */
	pf->classic.link = iface_link(pf->classic.linktype);
	pf->classic.units = pf->nsec ? 1000000000u : 1000000u;
	/* as libpcap and Wireshark: 2.x, and DG/UX's 543.0 with pre-2.3 length order */
	uint16_t major = rd16(pf, h + 4), minor = rd16(pf, h + 6);
	if (major == 2)
		pf->lengths_swapped = minor < 3 ? LEN_SWAPPED :
		    minor == 3 ? LEN_MAYBE_SWAPPED : LEN_NOT_SWAPPED;
	else if (major == 543)
		pf->lengths_swapped = LEN_SWAPPED;
	else {
		seterr(errbuf, errlen, "pcap version %u.%u is not supported", major, minor);
		return -1;
	}
	if (pf->classic.link == BW_LINK_UNSUPPORTED) {
		seterr(errbuf, errlen, "link type %u (%s) is not supported", pf->classic.linktype,
		    bw_linktype_name(pf->classic.linktype));
		return -1;
	}
	in_skip(pf, PCAP_FILE_HLEN);
	return 0;
}

/* A record header's capture and original lengths, in the order its file version has them. */
static void
classic_lengths(const struct bw_pcapfile *pf, const uint8_t *h, uint32_t *caplen,
    uint32_t *wirelen)
{
	uint32_t c = rd32(pf, h + 8), w = rd32(pf, h + 12);

	if (pf->lengths_swapped == LEN_SWAPPED ||
	    (pf->lengths_swapped == LEN_MAYBE_SWAPPED && c > w)) {
		*caplen = w;
		*wirelen = c;
	} else {
		*caplen = c;
		*wirelen = w;
	}
}

static int
classic_next(struct bw_pcapfile *pf, struct bw_packet *pkt, char *errbuf, size_t errlen)
{
	const uint8_t *p;
	uint64_t n = pf->packets + 1, at = pf->off;
	uint32_t caplen, wirelen;
	ssize_t got;

	if ((got = in_peek(pf, PCAP_REC_HLEN, &p)) < 0) {
		seterr(errbuf, errlen, "packet %llu (offset %llu): %s", (unsigned long long)n,
		    (unsigned long long)at, strerror(errno));
		return -1;
	}
	if (got == 0)
		return 0;
	if (got < PCAP_REC_HLEN) {
		seterr(errbuf, errlen,
		    "packet %llu (offset %llu): file cut short inside a record header "
		    "(%zd of %d bytes)", (unsigned long long)n, (unsigned long long)at, got,
		    PCAP_REC_HLEN);
		return -1;
	}
	classic_lengths(pf, p, &caplen, &wirelen);
	if (caplen > BW_PCAPFILE_MAXPKT) {
		seterr(errbuf, errlen,
		    "packet %llu (offset %llu): capture length %u is larger than %u: "
		    "the file is damaged", (unsigned long long)n, (unsigned long long)at, caplen,
		    BW_PCAPFILE_MAXPKT);
		return -1;
	}
	int64_t ts = make_ts(rd32(pf, p), rd32(pf, p + 4), pf->classic.units);
	if ((got = in_peek(pf, PCAP_REC_HLEN + (size_t)caplen, &p)) < 0) {
		seterr(errbuf, errlen, "packet %llu (offset %llu): %s", (unsigned long long)n,
		    (unsigned long long)at, strerror(errno));
		return -1;
	}
	if ((size_t)got < PCAP_REC_HLEN + (size_t)caplen) {
		seterr(errbuf, errlen,
		    "packet %llu (offset %llu): file cut short inside packet data "
		    "(%zd of %u bytes)", (unsigned long long)n, (unsigned long long)at,
		    got - PCAP_REC_HLEN, caplen);
		return -1;
	}
	set_ts(pf, pkt, ts, 0);
	pkt->data = p + PCAP_REC_HLEN;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->link = pf->classic.link;
	pkt->ifname = NULL;
	pf->cur_linktype = pf->classic.linktype;
	pf->cur_iface = 0;
	in_skip(pf, PCAP_REC_HLEN + (size_t)caplen);
	pf->packets = n;
	return 1;
}

/* ------------------------------------------------------------------ pcapng */

/* Parses the options of an IDB (body after its 8 fixed bytes). */
static int
idb_options(struct bw_pcapfile *pf, struct iface *ifc, const uint8_t *p, size_t len,
    char *errbuf, size_t errlen)
{
	while (len >= 4) {
		uint16_t code = rd16(pf, p), olen = rd16(pf, p + 2);
		size_t padded = ((size_t)olen + 3) & ~(size_t)3;

		if (code == 0)                  /* opt_endofopt */
			return 0;
		if (padded > len - 4) {
			seterr(errbuf, errlen, "option %u of length %u overruns its block", code,
			    olen);
			return -1;
		}
		const uint8_t *v = p + 4;
		switch (code) {
		case 2: {                       /* if_name */
			size_t n = strnlen((const char *)v, olen);
			if (n > sizeof(ifc->name) - 1)
				n = sizeof(ifc->name) - 1;
			memcpy(ifc->name, v, n);
			ifc->name[n] = '\0';
			break;
		}
		case 9:                         /* if_tsresol */
			if (olen < 1)
				break;
			if (v[0] & 0x80) {
				if ((v[0] & 0x7f) > 63) {
					seterr(errbuf, errlen, "if_tsresol 2^-%u is not supported",
					    v[0] & 0x7f);
					return -1;
				}
				ifc->units = 1ull << (v[0] & 0x7f);
			} else {
				if (v[0] > 19) {
					seterr(errbuf, errlen, "if_tsresol 10^-%u is not supported",
					    v[0]);
					return -1;
				}
				ifc->units = 1;
				for (unsigned i = 0; i < v[0]; i++)
					ifc->units *= 10;
			}
			break;
		case 14:                        /* if_tsoffset, seconds */
			if (olen < 8)
				break;
			ifc->tsoffset = (int64_t)((uint64_t)rd32(pf, v + (pf->swap ? 0 : 4)) << 32 |
			    rd32(pf, v + (pf->swap ? 4 : 0)));
			break;
		default:
			break;
		}
		p += 4 + padded;
		len -= 4 + padded;
	}
	return 0;
}

static int
add_iface(struct bw_pcapfile *pf, const uint8_t *body, size_t len, char *errbuf, size_t errlen)
{
	struct iface ifc;

	if (len < 8) {
		seterr(errbuf, errlen, "interface description block too short");
		return -1;
	}
	if (pf->nifaces == PCAPNG_MAX_IFACES) {
		seterr(errbuf, errlen, "more than %u interfaces in one section", PCAPNG_MAX_IFACES);
		return -1;
	}
	memset(&ifc, 0, sizeof(ifc));
	ifc.linktype = rd16(pf, body);
	ifc.link = iface_link(ifc.linktype);
	ifc.snaplen = rd32(pf, body + 4);
	ifc.units = 1000000;                   /* default if_tsresol: 10^-6 */
	if (idb_options(pf, &ifc, body + 8, len - 8, errbuf, errlen) < 0)
		return -1;
	if (pf->nifaces == pf->capifaces) {
		size_t cap = pf->capifaces ? pf->capifaces * 2 : 8;
		struct iface *n = reallocarray(pf->ifaces, cap, sizeof(*n));
		if (n == NULL) {
			seterr(errbuf, errlen, "%s", strerror(errno));
			return -1;
		}
		pf->ifaces = n;
		pf->capifaces = cap;
	}
	pf->ifaces[pf->nifaces++] = ifc;
	return 0;
}

/* The section header block at the cursor: its byte order, then a fresh interface list. */
static int
read_shb(struct bw_pcapfile *pf, const uint8_t *p, size_t got, char *errbuf, size_t errlen)
{
	if (got < 12) {
		seterr(errbuf, errlen, "file cut short inside a section header");
		return -1;
	}
	if (bw_le32(p + 8) == PCAPNG_BOM)
		pf->swap = 0;
	else if (bw_be32(p + 8) == PCAPNG_BOM)
		pf->swap = 1;
	else {
		seterr(errbuf, errlen, "section header with a bad byte-order magic");
		return -1;
	}
	pf->nifaces = 0;
	return 0;
}

static int
pcapng_next(struct bw_pcapfile *pf, struct bw_packet *pkt, char *errbuf, size_t errlen)
{
	for (;;) {
		const uint8_t *p;
		uint64_t n = pf->packets + 1, at = pf->off;
		uint32_t type, blen;
		ssize_t got;

		if ((got = in_peek(pf, 12, &p)) < 0)
			goto readerr;
		if (got == 0)
			return 0;
		if (got < 12) {
			seterr(errbuf, errlen,
			    "packet %llu (offset %llu): file cut short inside a block header",
			    (unsigned long long)n, (unsigned long long)at);
			return -1;
		}
		type = rd32(pf, p);
		if (type == PCAPNG_SHB && read_shb(pf, p, (size_t)got, errbuf, errlen) < 0)
			goto fail;
		blen = rd32(pf, p + 4);
		if (blen < 12 || blen % 4 != 0 || blen > BW_PCAPFILE_MAXBLOCK) {
			seterr(errbuf, errlen,
			    "packet %llu (offset %llu): block of type 0x%x has an impossible "
			    "length %u: the file is damaged", (unsigned long long)n,
			    (unsigned long long)at, type, blen);
			return -1;
		}
		if ((got = in_peek(pf, blen, &p)) < 0)
			goto readerr;
		if ((size_t)got < blen) {
			seterr(errbuf, errlen,
			    "packet %llu (offset %llu): file cut short inside a block "
			    "(%zd of %u bytes)", (unsigned long long)n, (unsigned long long)at, got,
			    blen);
			return -1;
		}
		if (rd32(pf, p + blen - 4) != blen) {
			seterr(errbuf, errlen,
			    "packet %llu (offset %llu): block lengths differ (%u at the start, "
			    "%u at the end): the file is damaged", (unsigned long long)n,
			    (unsigned long long)at, blen, rd32(pf, p + blen - 4));
			return -1;
		}
		const uint8_t *body = p + 8;
		size_t bodylen = blen - 12;
		uint32_t ifid, caplen, wirelen;
		const struct iface *ifc;
		const uint8_t *data;
		int64_t ts = -1;
		int missing = 0;

		switch (type) {
		case PCAPNG_SHB:
			if (bodylen < 16 || rd16(pf, body + 4) != 1) {
				seterr(errbuf, errlen, "pcapng section version %u is not supported",
				    bodylen >= 16 ? rd16(pf, body + 4) : 0);
				goto fail;
			}
			in_skip(pf, blen);
			continue;
		case PCAPNG_IDB:
			if (add_iface(pf, body, bodylen, errbuf, errlen) < 0)
				goto fail;
			in_skip(pf, blen);
			continue;
		case PCAPNG_EPB:
		case PCAPNG_OPB:
			/* EPB: if(4) ts(8) caplen(4) len(4); OPB: if(2) drops(2) ts(8) caplen(4) len(4) */
			if (bodylen < 20) {
				seterr(errbuf, errlen, "packet block too short");
				goto fail;
			}
			ifid = type == PCAPNG_EPB ? rd32(pf, body) : rd16(pf, body);
			caplen = rd32(pf, body + 12);
			wirelen = rd32(pf, body + 16);
			if (caplen > BW_PCAPFILE_MAXPKT) {
				seterr(errbuf, errlen,
				    "capture length %u is larger than %u: the file is damaged", caplen,
				    BW_PCAPFILE_MAXPKT);
				goto fail;
			}
			if (caplen > bodylen - 20) {
				seterr(errbuf, errlen,
				    "capture length %u overruns its block (%zu bytes)", caplen,
				    bodylen - 20);
				goto fail;
			}
			if (ifid >= pf->nifaces) {
				seterr(errbuf, errlen, "packet of interface %u, which is not defined",
				    ifid);
				goto fail;
			}
			ifc = &pf->ifaces[ifid];
			{
				uint64_t raw = (uint64_t)rd32(pf, body + 4) << 32 | rd32(pf, body + 8);
				int64_t sec = raw / ifc->units > INT64_MAX ? -1 :
				    (int64_t)(raw / ifc->units);
				/* sec >= 0, so adding a negative offset cannot overflow */
				if (sec >= 0 && ifc->tsoffset > 0 && sec > INT64_MAX - ifc->tsoffset)
					sec = -1;
				else if (sec >= 0)
					sec += ifc->tsoffset;   /* before 1970 is out of range too */
				ts = sec < 0 ? -1 : make_ts(sec, raw % ifc->units, ifc->units);
			}
			data = body + 20;
			break;
		case PCAPNG_SPB:
			/* original length, then data cut to the first interface's snaplen */
			if (bodylen < 4) {
				seterr(errbuf, errlen, "simple packet block too short");
				goto fail;
			}
			if (pf->nifaces == 0) {
				seterr(errbuf, errlen, "simple packet before any interface");
				goto fail;
			}
			ifid = 0;
			ifc = &pf->ifaces[0];
			wirelen = rd32(pf, body);
			caplen = wirelen;
			if (ifc->snaplen != 0 && caplen > ifc->snaplen)
				caplen = ifc->snaplen;
			if (caplen > bodylen - 4)
				caplen = (uint32_t)(bodylen - 4);
			data = body + 4;
			missing = 1;
			break;
		default:
			/* name resolution, statistics, journal, secrets, custom: not ours */
			in_skip(pf, blen);
			continue;
		}
		set_ts(pf, pkt, ts, (uint8_t)missing);
		pkt->data = data;
		pkt->caplen = caplen;
		pkt->wirelen = wirelen;
		pkt->link = ifc->link;
		pkt->ifname = ifc->name[0] != '\0' ? ifc->name : NULL;
		pf->cur_linktype = ifc->linktype;
		pf->cur_iface = ifid;
		in_skip(pf, blen);
		pf->packets = n;
		return 1;
fail:
		{
			/* prefix the message with where it happened */
			char msg[BW_PCAPFILE_ERRMAX];
			snprintf(msg, sizeof(msg), "%s", errbuf);
			seterr(errbuf, errlen, "packet %llu (offset %llu): %s",
			    (unsigned long long)n, (unsigned long long)at, msg);
		}
		return -1;
readerr:
		seterr(errbuf, errlen, "packet %llu (offset %llu): %s", (unsigned long long)n,
		    (unsigned long long)at, strerror(errno));
		return -1;
	}
}

/* ------------------------------------------------------------------ interface */

struct bw_pcapfile *
bw_pcapfile_open(const char *path, char *errbuf, size_t errlen, int *notfound)
{
	struct bw_pcapfile *pf;
	struct stat sb;
	const uint8_t *h;
	ssize_t got;

	*notfound = 0;
	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		seterr(errbuf, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (strcmp(path, "-") == 0)
		pf->fd = STDIN_FILENO;
	else {
		if ((pf->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			seterr(errbuf, errlen, "cannot open: %s", strerror(errno));
			*notfound = 1;
			free(pf);
			return NULL;
		}
		pf->own_fd = 1;
	}
	if (fstat(pf->fd, &sb) < 0) {
		seterr(errbuf, errlen, "cannot stat: %s", strerror(errno));
		*notfound = 1;
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		seterr(errbuf, errlen, "is a directory");
		*notfound = 1;
		goto fail;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
		void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, pf->fd, 0);
		if (m != MAP_FAILED) {
			pf->map = m;
			pf->mapsize = (size_t)sb.st_size;
			madvise(m, pf->mapsize, MADV_SEQUENTIAL);
		}
	}
	if (pf->map == NULL) {
		pf->bufcap = READ_CHUNK;
		if ((pf->buf = malloc(pf->bufcap)) == NULL) {
			seterr(errbuf, errlen, "%s", strerror(errno));
			goto fail;
		}
	}

	if ((got = in_peek(pf, PCAP_FILE_HLEN, &h)) < 0) {
		seterr(errbuf, errlen, "cannot read: %s", strerror(errno));
		*notfound = 1;
		goto fail;
	}
	if (got < 4) {
		seterr(errbuf, errlen, "not a capture file (pcap or pcapng): %s",
		    got == 0 ? "it is empty" : "it is shorter than any file header");
		goto fail;
	}
	uint32_t magic = bw_le32(h);
	switch (magic) {
	case 0xa1b2c3d4u: pf->swap = 0; pf->nsec = 0; break;
	case 0xd4c3b2a1u: pf->swap = 1; pf->nsec = 0; break;
	case 0xa1b23c4du: pf->swap = 0; pf->nsec = 1; break;
	case 0x4d3cb2a1u: pf->swap = 1; pf->nsec = 1; break;
	case PCAPNG_SHB:
		pf->format = BW_PCAPFILE_PCAPNG;
		if ((got = in_peek(pf, 12, &h)) < 12 ||
		    (bw_le32(h + 8) != PCAPNG_BOM && bw_be32(h + 8) != PCAPNG_BOM)) {
			seterr(errbuf, errlen, "not a capture file: a pcapng section header "
			    "without its byte-order magic");
			goto fail;
		}
		return pf;
	case 0xa1b2cd34u:
	case 0x34cdb2a1u:
		seterr(errbuf, errlen, "the \"modified\" (Kuznetzov) pcap format is not supported");
		goto fail;
	default:
		seterr(errbuf, errlen,
		    "not a capture file (pcap or pcapng): it starts with %02x %02x %02x %02x",
		    h[0], h[1], h[2], h[3]);
		goto fail;
	}
	if (got < PCAP_FILE_HLEN) {
		seterr(errbuf, errlen, "file cut short inside the pcap file header (%zd of %d bytes)",
		    got, PCAP_FILE_HLEN);
		goto fail;
	}
	if (classic_open(pf, h, errbuf, errlen) < 0)
		goto fail;
	return pf;
fail:
	bw_pcapfile_close(pf);
	return NULL;
}

void
bw_pcapfile_close(struct bw_pcapfile *pf)
{
	if (pf == NULL)
		return;
	if (pf->map != NULL)
		munmap((void *)(uintptr_t)pf->map, pf->mapsize);
	if (pf->own_fd)
		close(pf->fd);
	free(pf->buf);
	free(pf->ifaces);
	free(pf);
}

int
bw_pcapfile_next(struct bw_pcapfile *pf, struct bw_packet *pkt, char *errbuf, size_t errlen)
{
	if (pf->format == BW_PCAPFILE_PCAP)
		return classic_next(pf, pkt, errbuf, errlen);
	return pcapng_next(pf, pkt, errbuf, errlen);
}

uint32_t
bw_pcapfile_linktype(const struct bw_pcapfile *pf)
{
	return pf->cur_linktype;
}

uint32_t
bw_pcapfile_interface(const struct bw_pcapfile *pf)
{
	return pf->cur_iface;
}

uint64_t
bw_pcapfile_packets(const struct bw_pcapfile *pf)
{
	return pf->packets;
}

enum bw_pcapfile_format
bw_pcapfile_format(const struct bw_pcapfile *pf)
{
	return pf->format;
}
