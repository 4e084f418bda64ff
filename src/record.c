/*
 * record.c - the JSON line of a connection record.   [any thread]
 *
 * Field names and order are DESIGN.md's (Falcon's NetworkConnectIP4/6); the
 * line is built by hand into the caller's buffer, without allocation.
 */
#include <string.h>

#include "brokerwatch/format.h"
#include "brokerwatch/record.h"

/* Longest ComputerName written (an inventory name is shorter). */
#define BW_RECORD_NAME_MAX 64

/* Appends the literal s. */
#define PUT(s)                                                                             \
	do {                                                                               \
		memcpy(buf + n, s, sizeof(s) - 1);                                         \
		n += sizeof(s) - 1;                                                        \
	} while (0)

size_t
bw_record_format_json(const struct bw_record *r, const char *computer, char *buf, size_t len)
{
	char src[BW_ADDR_TEXT_MAX], dst[BW_ADDR_TEXT_MAX];
	size_t n = 0, srclen, dstlen, namelen;
	int v6 = r->family == 6;

	/* every field below has a fixed maximum; together they fit BW_RECORD_JSON_MAX */
	if (len < BW_RECORD_JSON_MAX)
		return 0;
	srclen = bw_format_addr(r->family, r->src, src);
	dstlen = bw_format_addr(r->family, r->dst, dst);

	PUT("{\"@timestamp\":\"");
	n += bw_format_time(r->ts_ns, buf + n);
	PUT("\",\"event_simpleName\":\"NetworkConnectIP");
	buf[n++] = v6 ? '6' : '4';
	PUT("\",\"ComputerName\":\"");
	if (computer != NULL)
		n += bw_format_json_string(computer, strnlen(computer, BW_RECORD_NAME_MAX), buf + n,
		    len - n);
	else {
		memcpy(buf + n, src, srclen);
		n += srclen;
	}
	if (r->user[0] != '\0') {
		PUT("\",\"UserName\":\"");
		n += bw_format_json_string(r->user, strnlen(r->user, sizeof(r->user)), buf + n,
		    len - n);
	}
	if (r->image[0] != '\0') {
		PUT("\",\"ImageFileName\":\"");
		n += bw_format_json_string(r->image, strnlen(r->image, sizeof(r->image)), buf + n,
		    len - n);
	}
	if (v6)
		PUT("\",\"LocalAddressIP6\":\"");
	else
		PUT("\",\"LocalAddressIP4\":\"");
	memcpy(buf + n, src, srclen);
	n += srclen;
	PUT("\",\"LocalPort\":");
	n += bw_format_u64(r->sport, buf + n);
	if (v6)
		PUT(",\"RemoteAddressIP6\":\"");
	else
		PUT(",\"RemoteAddressIP4\":\"");
	memcpy(buf + n, dst, dstlen);
	n += dstlen;
	PUT("\",\"RemotePort\":");
	n += bw_format_u64(r->dport, buf + n);
	PUT(",\"Protocol\":6");
	if (r->nvlan > 0) {
		PUT(",\"VlanId\":");
		n += bw_format_u64(r->vlan[0], buf + n);
	}
	if (r->nvlan > 1) {
		PUT(",\"VlanIds\":[");
		for (unsigned i = 0; i < r->nvlan && i < BW_VLAN_MAX; i++) {
			if (i)
				buf[n++] = ',';
			n += bw_format_u64(r->vlan[i], buf + n);
		}
		buf[n++] = ']';
	}
	namelen = strnlen(r->ifname, sizeof(r->ifname));
	if (namelen > 0) {
		PUT(",\"InterfaceName\":\"");
		n += bw_format_json_string(r->ifname, namelen, buf + n, len - n);
		buf[n++] = '"';
	}
	PUT("}\n");
	return n;
}
