/*
 * record.c - the JSON line of a connection record.   [any thread]
 *
 * Field names and order are DESIGN.md's (Falcon's NetworkConnectIP4/6); the
 * line is built by hand into the caller's buffer, without allocation.
 */
#include <string.h>

#include "brokerwatch/format.h"
#include "brokerwatch/process.h"
#include "brokerwatch/record.h"

/* Longest ComputerName written (an inventory name is shorter). */
#define BW_RECORD_NAME_MAX 64

/* Appends the literal s. */
#define PUT(s)                                                                             \
	do {                                                                               \
		memcpy(buf + n, s, sizeof(s) - 1);                                         \
		n += sizeof(s) - 1;                                                        \
	} while (0)

/* Appends ,"name":"value" with the value JSON-escaped, when it is not empty. */
#define PUT_STR(name, v)                                                                   \
	do {                                                                               \
		size_t l_ = strnlen((v), sizeof(v));                                       \
		if (l_ > 0) {                                                              \
			PUT(",\"" name "\":\"");                                           \
			n += bw_format_json_string((v), l_, buf + n, len - n);             \
			buf[n++] = '"';                                                    \
		}                                                                          \
	} while (0)

const char *
bw_attr_source_name(enum bw_attr_source s)
{
	switch (s) {
	case BW_ATTR_EBPF: return "ebpf";
	case BW_ATTR_PROC: return "proc";
	case BW_ATTR_UID_ONLY: return "uid-only";
	case BW_ATTR_NONE: break;
	}
	return "none";
}

size_t
bw_record_format_json(const struct bw_record *r, const char *computer,
    const struct bw_process *proc, char *buf, size_t len)
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
	buf[n++] = '"';
	if (proc != NULL) {
		/* text that came from /proc or the kernel: escaped like packet bytes */
		PUT_STR("UserName", proc->user);
		PUT_STR("ImageFileName", proc->image);
		PUT_STR("CommandLine", proc->cmdline);
		if (proc->pid > 0) {
			PUT(",\"ContextProcessId\":");
			n += bw_format_u64((uint64_t)proc->pid, buf + n);
		}
		if (proc->ppid > 0) {
			PUT(",\"ParentProcessId\":");
			n += bw_format_u64((uint64_t)proc->ppid, buf + n);
		}
		PUT_STR("ParentImageFileName", proc->parent_image);
		if (proc->exe_deleted)
			PUT(",\"ImageDeleted\":true");
		const char *how = bw_attr_source_name((enum bw_attr_source)proc->source);
		PUT(",\"AttributionSource\":\"");
		memcpy(buf + n, how, strlen(how));
		n += strlen(how);
		buf[n++] = '"';
	}
	if (v6)
		PUT(",\"LocalAddressIP6\":\"");
	else
		PUT(",\"LocalAddressIP4\":\"");
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
