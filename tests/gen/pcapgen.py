#!/usr/bin/env python3
"""pcapgen.py - writes brokerwatch's own test captures and what each must give.

    pcapgen.py [DIR]          write every capture into DIR (default: the repo's pcaps/)
    pcapgen.py --check DIR    regenerate into a temporary directory and fail (exit 1,
                              naming the files) if a file in DIR differs, is missing
                              or is extra
    pcapgen.py --tshark DIR   cross-check: the SYNs tshark decodes in each capture of
                              DIR beside the SYNs the generator put there

For every case NAME it writes the capture (NAME.pcap, NAME.pcapng, or another file
for bad inputs) and NAME.expect.json:

    {"inputs": [files, relative to DIR, given to -r in this order],
     "args": [extra brokerwatch arguments],
     "exit": expected exit status,
     "records": [the exact JSON record lines, in order],
     "stats": {counter: exact value, ...}   (a subset of the --stats counters),
     "stderr": [substrings of standard error; a list inside means "any of these"]}

The expected records are computed here from what was written: every packet that
carries a SYN is built together with its (addresses, ports, ISN, VLAN tags) and the
time a reader must see; the retransmission fold of the contract (same addresses,
ports and ISN at most 130 s after the previous SYN of the attempt) runs over them.
Nothing here looks at brokerwatch's output.

python3 standard library only; deterministic: the same bytes on every run (a fixed
seed for the demo's variation, no wall clock, sorted output).
"""

import argparse
import calendar
import datetime
import filecmp
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

FOLD_NS = 130 * 10**9

# --------------------------------------------------------------------------
# small helpers


class Rng:
    """xorshift64*: our own generator, so no Python version changes the bytes."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF or 1

    def next(self):
        s = self.s
        s ^= (s >> 12)
        s ^= (s << 25) & 0xFFFFFFFFFFFFFFFF
        s ^= (s >> 27)
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF

    def below(self, n):
        return (self.next() >> 11) % n

    def u32(self):
        return self.next() >> 32

    def bytes(self, n):
        return bytes(self.below(256) for _ in range(n))

    def choice(self, seq):
        return seq[self.below(len(seq))]


def T(y, mo, d, h=0, mi=0, s=0, ns=0):
    """UTC date -> ns since the epoch."""
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10**9 + ns


SEC = 10**9
MS = 10**6
US = 10**3


def A(addr):
    """Address text -> packed bytes (4 or 16)."""
    if isinstance(addr, bytes):
        return addr
    if ':' in addr:
        return socket.inet_pton(socket.AF_INET6, addr)
    return socket.inet_pton(socket.AF_INET, addr)


def fmt4(b):
    return '%d.%d.%d.%d' % tuple(b)


def fmt6(b):
    """RFC 5952 text, written out here on purpose (not the ipaddress module)."""
    if b[:12] == b'\0' * 10 + b'\xff\xff':
        return '::ffff:' + fmt4(b[12:])
    g = struct.unpack('>8H', b)
    best, blen = -1, 0
    i = 0
    while i < 8:
        if g[i] == 0:
            j = i
            while j < 8 and g[j] == 0:
                j += 1
            if j - i > blen:
                best, blen = i, j - i
            i = j
        else:
            i += 1
    if blen < 2:
        return ':'.join('%x' % x for x in g)
    left = ':'.join('%x' % x for x in g[:best])
    right = ':'.join('%x' % x for x in g[best + blen:])
    return left + '::' + right


def fmt_ts(ns):
    sec, rem = divmod(ns, SEC)
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=sec)
    return t.strftime('%Y-%m-%dT%H:%M:%S') + '.%06dZ' % (rem // US)


def json_str(s):
    """JSON string of an interface name; only the escapes no one can disagree on."""
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ' ' <= ch <= '~':
            out.append(ch)
        else:
            raise ValueError('keep test interface names printable ASCII')
    return '"' + ''.join(out) + '"'


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('>%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pad4(b):
    return b + b'\0' * (-len(b) % 4)


# --------------------------------------------------------------------------
# protocol layers (all return bytes)

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

# Linux's SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7
def syn_opts(tsval=0x1a2b3c4d, mss=1460):
    return (struct.pack('>BBH', 2, 4, mss) + b'\x04\x02' +
            struct.pack('>BBII', 8, 10, tsval, 0) + b'\x01' + b'\x03\x03\x07')


def l4_csum(src, dst, proto, seg):
    src, dst = A(src), A(dst)
    if len(src) == 4:
        ph = src + dst + struct.pack('>BBH', 0, proto, len(seg))
    else:
        ph = src + dst + struct.pack('>IxxxB', len(seg), proto)
    return csum(ph + seg)


def tcp(src, dst, sport, dport, seq, ack=0, flags=SYN, win=64240, opts=b'',
        payload=b'', doff=None):
    opts = pad4(opts)
    off = doff if doff is not None else (20 + len(opts)) // 4
    hdr = struct.pack('>HHIIBBHHH', sport, dport, seq, ack, (off & 15) << 4, flags, win, 0,
                      0) + opts
    seg = hdr + payload
    ck = l4_csum(src, dst, 6, seg)
    return seg[:16] + struct.pack('>H', ck) + seg[18:]


def udp(src, dst, sport, dport, payload, zero_csum=False):
    seg = struct.pack('>HHHH', sport, dport, 8 + len(payload), 0) + payload
    if zero_csum:
        return seg
    ck = l4_csum(src, dst, 17, seg) or 0xFFFF
    return seg[:6] + struct.pack('>H', ck) + seg[8:]


def ipv4(src, dst, proto, payload, ident=0x1234, df=True, mf=False, frag=0, ttl=64,
         opts=b'', tot_len=None, ihl=None, tos=0):
    opts = pad4(opts)
    hl = ihl if ihl is not None else 5 + len(opts) // 4
    tl = tot_len if tot_len is not None else 20 + len(opts) + len(payload)
    ff = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag // 8)
    hdr = struct.pack('>BBHHHBBH4s4s', 0x40 | hl, tos, tl, ident, ff, ttl, proto, 0, A(src),
                      A(dst)) + opts
    ck = csum(hdr)
    return hdr[:10] + struct.pack('>H', ck) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, hlim=64, plen=None, flow=0):
    pl = plen if plen is not None else len(payload)
    return struct.pack('>IHBB16s16s', (6 << 28) | flow, pl, nh, hlim, A(src), A(dst)) + payload


def ext_opts(nh, length=8, optbytes=b''):
    """Hop-by-hop / destination options header of length bytes (a multiple of 8), PadN."""
    body = optbytes
    rest = length - 2 - len(body)
    if rest == 1:
        body += b'\0'
    elif rest >= 2:
        body += bytes([1, rest - 2]) + b'\0' * (rest - 2)
    return bytes([nh, length // 8 - 1]) + body


def ext_srh(nh, segment):
    """Segment routing header (routing type 4), one segment, segments left 0."""
    return bytes([nh, 2, 4, 0, 0, 0, 0, 0]) + A(segment)


def ext_ah(nh, spi=0x1000, seq=1):
    """AH (RFC 4302) with a 12-byte ICV: 24 bytes, payload length 4."""
    return bytes([nh, 4, 0, 0]) + struct.pack('>II', spi, seq) + bytes(range(0x40, 0x4c))


def ext_frag(nh, offset, more, ident):
    return struct.pack('>BBHI', nh, 0, (offset // 8) << 3 | (1 if more else 0), ident)


def ext_generic(nh, length=8):
    """An extension header with the generic (next header, length) layout, zero body."""
    return bytes([nh, length // 8 - 1]) + b'\0' * (length - 2)


def mac(n):
    return bytes([0x02, 0x42, 0x0a, (n >> 16) & 255, (n >> 8) & 255, n & 255])


MAC_A = bytes.fromhex('3c22fb1a2b01')
MAC_B = bytes.fromhex('00005e0001fe')


def vlan(vid, tpid=0x8100, pcp=0, dei=0):
    return (tpid, (pcp << 13) | (dei << 12) | vid)


def eth(payload, ethertype=0x0800, tags=(), dst=MAC_B, src=MAC_A, pad=True):
    f = dst + src
    for tpid, tci in tags:
        f += struct.pack('>HH', tpid, tci)
    f += struct.pack('>H', ethertype) + payload
    if pad and len(f) < 60:
        f += b'\0' * (60 - len(f))
    return f


def etype(ip):
    return 0x0800 if ip[0] >> 4 == 4 else 0x86DD


def eth_ip(ip, tags=(), **kw):
    return eth(ip, etype(ip), tags, **kw)


def gre(proto, payload, csum_on=False, key=None, seq=None, version=0, extra=b''):
    flags = (0x8000 if csum_on else 0) | (0x2000 if key is not None else 0) | \
        (0x1000 if seq is not None else 0) | version
    h = struct.pack('>HH', flags, proto)
    if csum_on:
        h += b'\0\0\0\0'
    if key is not None:
        h += struct.pack('>I', key)
    if seq is not None:
        h += struct.pack('>I', seq)
    pkt = h + extra + payload
    if csum_on:
        ck = csum(pkt)
        pkt = pkt[:4] + struct.pack('>H', ck) + pkt[6:]
    return pkt


def erspan2(frame, vid=0, session=1, en=0, index=0):
    w1 = (1 << 28) | (vid << 16) | (en << 11) | session
    return struct.pack('>II', w1, index & 0xFFFFF) + frame


def erspan3(frame, vid=0, session=2, ts=0, sgt=0, ft=0, hwid=1, o=False, gra=3):
    w1 = (2 << 28) | (vid << 16) | session
    w3 = (sgt << 16) | (ft << 10) | (hwid << 4) | (gra << 1) | (1 if o else 0)
    h = struct.pack('>III', w1, ts, w3)
    if o:
        h += struct.pack('>II', (3 << 26) | 0x1234, 0x89ABCDEF)   # platform id 3
    return h + frame


def vxlan(frame, vni=5001, flags=0x08):
    return struct.pack('>B3xI', flags, vni << 8) + frame


def tls_client_hello(sni, rng):
    name = sni.encode()
    sni_ext = struct.pack('>HHHBH', 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    alpn = b'\x02h2\x08http/1.1'
    alpn_ext = struct.pack('>HHH', 16, len(alpn) + 2, len(alpn)) + alpn
    groups = struct.pack('>HHHHH', 10, 6, 4, 0x001d, 0x0017)
    exts = sni_ext + alpn_ext + groups
    body = (b'\x03\x03' + rng.bytes(32) + b'\x00' + struct.pack('>H', 6) +
            b'\x13\x01\x13\x02\xc0\x2f' + b'\x01\x00' + struct.pack('>H', len(exts)) + exts)
    hs = b'\x01' + struct.pack('>I', len(body))[1:] + body
    return b'\x16\x03\x01' + struct.pack('>H', len(hs)) + hs


def tls_server_hello(rng):
    body = b'\x03\x03' + rng.bytes(32) + b'\x00' + b'\x13\x01' + b'\x00' + b'\x00\x00'
    hs = b'\x02' + struct.pack('>I', len(body))[1:] + body
    return b'\x16\x03\x03' + struct.pack('>H', len(hs)) + hs


def mqtt_connect(client_id, keepalive=60):
    cid = client_id.encode()
    var = b'\x00\x04MQTT\x04\x02' + struct.pack('>H', keepalive)
    pl = struct.pack('>H', len(cid)) + cid
    rem = len(var) + len(pl)
    return bytes([0x10, rem]) + var + pl


def dns_query(qid, name, qtype=1, answer=None):
    q = b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    q += struct.pack('>HH', qtype, 1)
    if answer is None:
        return struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0) + q
    if qtype == 1:
        rr = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 300, 4) + A(answer)
    else:
        rr = b'\xc0\x0c' + struct.pack('>HHIH', 28, 1, 300, 16) + A(answer)
    return struct.pack('>HHHHHH', qid, 0x8180, 1, 1, 0, 0) + q + rr


# --------------------------------------------------------------------------
# what a packet means for the expectation


class Syn:
    """A SYN the generator built: what its record must say."""

    def __init__(self, src, dst, sport, dport, isn):
        self.src, self.dst = A(src), A(dst)
        self.family = 4 if len(self.src) == 4 else 6
        self.sport, self.dport, self.isn = sport, dport, isn

    def key(self):
        return (self.family, self.src, self.dst, self.sport, self.dport, self.isn)

    def line(self, ts_ns, vlans=(), ifname=None):
        v = str(self.family)
        fmt = fmt4 if self.family == 4 else fmt6
        s, d = fmt(self.src), fmt(self.dst)
        out = ('{"@timestamp":"%s","event_simpleName":"NetworkConnectIP%s","ComputerName":"%s",'
               '"LocalAddressIP%s":"%s","LocalPort":%d,"RemoteAddressIP%s":"%s","RemotePort":%d,'
               '"Protocol":6' % (fmt_ts(ts_ns), v, s, v, s, self.sport, v, d, self.dport))
        if vlans:
            out += ',"VlanId":%d' % vlans[0]
            if len(vlans) >= 2:
                out += ',"VlanIds":[%s]' % ','.join(str(x) for x in vlans)
        if ifname:
            kept = ifname.encode('ascii')[:31].decode('ascii')
            out += ',"InterfaceName":%s' % json_str(kept)
        return out + '}'


def syn4(src, dst, sport, dport, isn, opts=None, payload=b'', flags=SYN, **ipkw):
    seg = tcp(src, dst, sport, dport, isn, 0, flags, opts=syn_opts() if opts is None else opts,
              payload=payload)
    return ipv4(src, dst, 6, seg, **ipkw), Syn(src, dst, sport, dport, isn)


def syn6(src, dst, sport, dport, isn, opts=None, payload=b'', flags=SYN, exts=(), **ipkw):
    """IPv6 SYN; exts is a list of (header number, builder(next) -> bytes)."""
    seg = tcp(src, dst, sport, dport, isn, 0, flags, opts=syn_opts() if opts is None else opts,
              payload=payload)
    nh, body = chain(exts, 6, seg)
    return ipv6(src, dst, nh, body, **ipkw), Syn(src, dst, sport, dport, isn)


def chain(exts, last_nh, payload):
    """Builds an extension header chain: returns (first next header, bytes)."""
    body, nh = payload, last_nh
    for num, build in reversed(list(exts)):
        body = build(nh) + body
        nh = num
    return nh, body


def seg_of(src, dst, sport, dport, seq, ack, flags, payload=b'', win=502):
    return tcp(src, dst, sport, dport, seq, ack, flags, win=win, payload=payload)


def ip_of(src, dst, proto, payload, **kw):
    if ':' in src:
        return ipv6(src, dst, proto, payload)
    return ipv4(src, dst, proto, payload, **kw)


# --------------------------------------------------------------------------
# capture files


class Pkt:
    def __init__(self, ts, data, syn=None, vlans=(), caplen=None, wirelen=None, ifname=None):
        self.ts = ts                  # ns a reader must see
        self.data = data
        self.syn = syn
        self.vlans = list(vlans)
        self.caplen = len(data) if caplen is None else min(caplen, len(data))
        self.wirelen = len(data) if wirelen is None else wirelen
        self.ifname = ifname


def pcap_file(pkts, linktype, endian='<', nano=False, snaplen=262144, version=(2, 4)):
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + 'IHHiIII', magic, version[0], version[1], 0, 0, snaplen,
                       linktype)]
    for p in pkts:
        sec, rem = divmod(p.ts, SEC)
        if not nano:
            assert rem % US == 0, 'a microsecond file cannot hold ns'
            rem //= US
        out.append(struct.pack(endian + 'IIII', sec, rem, p.caplen, p.wirelen))
        out.append(p.data[:p.caplen])
    return b''.join(out)


class Ng:
    """pcapng writer that also keeps, per packet, the time a reader must derive."""

    def __init__(self):
        self.out = []
        self.pkts = []
        self.e = '<'
        self.ifs = []
        self.last_ts = None

    def block(self, btype, body, trailer=None):
        body = pad4(body)
        n = 12 + len(body)
        self.out.append(struct.pack(self.e + 'II', btype, n) + body +
                        struct.pack(self.e + 'I', n if trailer is None else trailer))

    def opts(self, items):
        if not items:
            return b''
        b = b''
        for code, val in items:
            b += struct.pack(self.e + 'HH', code, len(val)) + pad4(val)
        return b + b'\0\0\0\0'

    def shb(self, endian, opts=(), section_len=-1):
        self.e = endian
        self.ifs = []
        self.block(0x0A0D0D0A, struct.pack(endian + 'IHHq', 0x1A2B3C4D, 1, 0, section_len) +
                   self.opts(list(opts)))

    def idb(self, linktype, snaplen=262144, name=None, tsresol=None, tsoffset=None, more=()):
        o = []
        if name is not None:
            o.append((2, name.encode()))
        if tsresol is not None:
            o.append((9, bytes([tsresol])))
        if tsoffset is not None:
            o.append((14, struct.pack(self.e + 'q', tsoffset)))
        o.extend(more)
        res = 6 if tsresol is None else tsresol
        den = 2 ** (res & 0x7F) if res & 0x80 else 10 ** res
        self.ifs.append(dict(linktype=linktype, name=name, den=den, off=tsoffset or 0,
                             snaplen=snaplen))
        self.block(1, struct.pack(self.e + 'HHI', linktype, 0, snaplen) + self.opts(o))

    def _ts(self, ifid, units):
        i = self.ifs[ifid]
        ts = i['off'] * SEC + units * SEC // i['den']
        self.last_ts = ts
        return ts

    def _pkt(self, ts, ifid, data, caplen, wirelen, syn, vlans):
        p = Pkt(ts, data, syn, vlans, caplen, wirelen, self.ifs[ifid]['name'])
        self.pkts.append(p)
        return p

    def epb(self, ifid, units, data, syn=None, vlans=(), caplen=None, wirelen=None, opts=()):
        p = self._pkt(self._ts(ifid, units), ifid, data, caplen, wirelen, syn, vlans)
        self.block(6, struct.pack(self.e + 'IIIII', ifid, units >> 32, units & 0xFFFFFFFF,
                                  p.caplen, p.wirelen) + pad4(data[:p.caplen]) +
                   self.opts(list(opts)))

    def opb(self, ifid, units, data, syn=None, vlans=()):
        p = self._pkt(self._ts(ifid, units), ifid, data, None, None, syn, vlans)
        self.block(2, struct.pack(self.e + 'HHIIII', ifid, 0, units >> 32, units & 0xFFFFFFFF,
                                  p.caplen, p.wirelen) + pad4(data))

    def spb(self, data, syn=None, vlans=()):
        # A simple packet has no time: a reader gives it the previous packet's. Its
        # captured length is min(original length, the first interface's snaplen).
        snap = self.ifs[0]['snaplen'] or len(data)
        cap = min(len(data), snap)
        self._pkt(self.last_ts, 0, data, cap, len(data), syn, vlans)
        self.block(3, struct.pack(self.e + 'I', len(data)) + pad4(data[:cap]))

    def isb(self, ifid, units, recv, drop):
        self.block(5, struct.pack(self.e + 'III', ifid, units >> 32, units & 0xFFFFFFFF) +
                   self.opts([(2, struct.pack(self.e + 'Q', units)),
                              (4, struct.pack(self.e + 'Q', recv)),
                              (5, struct.pack(self.e + 'Q', drop))]))

    def nrb(self, entries):
        b = b''
        for addr, name in entries:
            v = A(addr) + name.encode() + b'\0'
            b += struct.pack(self.e + 'HH', 1 if len(A(addr)) == 4 else 2, len(v)) + pad4(v)
        self.block(4, b + b'\0\0\0\0')

    def custom(self, btype, pen, data):
        self.block(btype, struct.pack(self.e + 'I', pen) + data)

    def bytes(self):
        return b''.join(self.out)


# --------------------------------------------------------------------------
# cases


class Case:
    def __init__(self, name, desc):
        self.name = name
        self.desc = desc
        self.files = {}          # file name -> bytes
        self.inputs = []
        self.args = []
        self.exit = 0
        self.pkts = []           # packets delivered to the decoder, in order
        self.stats = {}
        self.stderr = []
        self.count_packets = True
        self.extra_records = None  # for cases whose records are other cases'

    def pcap(self, pkts, linktype, fname=None, **kw):
        fname = fname or self.name + '.pcap'
        self.files[fname] = pcap_file(pkts, linktype, **kw)
        self.inputs.append(fname)
        self.pkts.extend(pkts)

    def ng(self, ng, fname=None):
        fname = fname or self.name + '.pcapng'
        self.files[fname] = ng.bytes()
        self.inputs.append(fname)
        self.pkts.extend(ng.pkts)

    def expectation(self):
        records = []
        last = {}
        nsyn = nret = 0
        for p in self.pkts:
            if p.syn is None:
                continue
            nsyn += 1
            k = p.syn.key()
            if k in last and 0 <= p.ts - last[k] <= FOLD_NS:
                nret += 1
            else:
                records.append(p.syn.line(p.ts, p.vlans, p.ifname))
            last[k] = p.ts
        if self.extra_records is not None:
            records = self.extra_records
        stats = {}
        if self.extra_records is None:
            stats.update(records=len(records), syn=nsyn, syn_retransmit=nret)
            if self.count_packets:
                stats['packets'] = len(self.pkts)
                stats['bytes'] = sum(p.caplen for p in self.pkts)
                stats['bytes_wire'] = sum(p.wirelen for p in self.pkts)
        stats.update(self.stats)
        return {'inputs': self.inputs, 'args': self.args, 'exit': self.exit,
                'records': records, 'stats': stats, 'stderr': self.stderr}


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# Addresses used throughout.
WS = ['10.1.%d.%d' % (10 + i // 5, 11 + i) for i in range(12)]
WS6 = ['2001:db8:10::%x' % (0x11 + i) for i in range(12)]
EXT = ['203.0.113.%d' % n for n in (5, 17, 29, 33, 50, 61, 77, 88, 99, 120)]
EXT6 = ['2001:db8:ffff::%x' % n for n in (5, 0x17, 0x29, 0x33, 0x50, 0x61, 0x77, 0x88,
                                           0x99, 0x120)]
BROKER_PORTS = [1883, 8883, 5222, 5223, 5269, 5672, 5671, 61613, 61614]


@case
def eth_basic():
    c = Case('eth-basic', 'Ethernet: v4/v6 SYNs to every broker port and 443, handshake '
             'packets that are not SYNs, ECN SYN, SYN with payload, 60-byte padding')
    t = T(2026, 3, 2, 9, 0, 0, 125 * US)
    P = []
    sport = 40000
    for i, port in enumerate(BROKER_PORTS + [443]):
        # even ones without options: 54 bytes, padded to 60 on the wire
        ip, s = syn4(WS[0], EXT[i % len(EXT)], sport + i, port, 0x10000000 + i * 7919,
                     opts=b'' if i % 2 == 0 else None)
        P.append(Pkt(t + i * 250 * MS, eth_ip(ip), s))
    t += 5 * SEC
    for i, port in enumerate(BROKER_PORTS + [443]):
        ip, s = syn6(WS6[0], EXT6[i % len(EXT6)], sport + 100 + i, port, 0x20000000 + i * 104729)
        P.append(Pkt(t + i * 250 * MS, eth_ip(ip), s))
    t += 5 * SEC
    # a whole handshake and teardown to 443: only the SYN is a record
    cli, srv, cp, sp, isn, isn2 = WS[1], EXT[3], 51515, 443, 0xA0000001, 0xB0000001
    ip, s = syn4(cli, srv, cp, sp, isn)
    P.append(Pkt(t, eth_ip(ip), s))
    seq = [
        (srv, cli, sp, cp, isn2, isn + 1, SYN | ACK),
        (cli, srv, cp, sp, isn + 1, isn2 + 1, ACK),
        (cli, srv, cp, sp, isn + 1, isn2 + 1, PSH | ACK),
        (srv, cli, sp, cp, isn2 + 1, isn + 11, ACK),
        (cli, srv, cp, sp, isn + 11, isn2 + 1, FIN | ACK),
        (srv, cli, sp, cp, isn2 + 1, isn + 12, FIN | ACK),
        (cli, srv, cp, sp, isn + 12, isn2 + 2, ACK),
    ]
    for j, (a, b, pa, pb, sq, ak, fl) in enumerate(seq):
        pl = b'0123456789' if fl == PSH | ACK else b''
        P.append(Pkt(t + (j + 1) * 20 * MS,
                     eth_ip(ipv4(a, b, 6, seg_of(a, b, pa, pb, sq, ak, fl, pl)))))
    # bare FIN, RST, RST|ACK, and a SYN|ACK in IPv6: none is a record
    for j, fl in enumerate((FIN, RST, RST | ACK)):
        P.append(Pkt(t + SEC + j * MS,
                     eth_ip(ipv4(WS[2], EXT[4], 6, seg_of(WS[2], EXT[4], 50000 + j, 1883,
                                                          0xC0000000, 0, fl)))))
    P.append(Pkt(t + SEC + 5 * MS,
                 eth_ip(ipv6(EXT6[1], WS6[1], 6, seg_of(EXT6[1], WS6[1], 5222, 50010, 7, 8,
                                                         SYN | ACK)))))
    # ECN setup SYN (ECE|CWR): a record
    ip, s = syn4(WS[3], EXT[5], 50100, 5671, 0x0BADCAFE, flags=SYN | ECE | CWR)
    P.append(Pkt(t + 2 * SEC, eth_ip(ip), s))
    # SYN carrying data (TCP Fast Open style): a record
    ip, s = syn4(WS[4], EXT[6], 50200, 8883, 0x00C0FFEE, payload=b'\x10\x0c\x00\x04MQTT\x04\x02')
    P.append(Pkt(t + 2 * SEC + 500 * MS, eth_ip(ip), s))
    # ARP and a UDP datagram: not records
    arp = struct.pack('>HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, MAC_A, A(WS[0]), b'\0' * 6,
                      A('10.1.0.1'))
    P.append(Pkt(t + 3 * SEC, eth(arp, 0x0806, dst=b'\xff' * 6)))
    P.append(Pkt(t + 3 * SEC + MS, eth_ip(ipv4(WS[0], '10.1.0.53', 17, udp(
        WS[0], '10.1.0.53', 53001, 53, dns_query(0x4242, 'broker.example.net'))))))
    c.pcap(P, 1)
    c.stats = {'link_ethernet': len(P)}
    return c


@case
def ipv6_text():
    c = Case('ipv6-text', 'RFC 5952 address text: zero-run compression, ties, single zero '
             'groups, IPv4-mapped')
    t = T(2026, 3, 2, 9, 30, 0, 1 * US)
    pairs = [
        ('2001:db8:0:0:1:0:0:1', '2001:db8::ff00:42:8329'),     # tie: first run
        ('2001:db8:0:1:1:1:1:1', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'),  # one 0 group
        ('2001:db8:0:0:0:1:0:0', '2001:0db8:0000:0000:0000:0000:0000:0001'),
        ('::ffff:192.0.2.33', '::ffff:203.0.113.9'),
        ('fe80::1', '2001:db8::'),
        ('2001:db8:1:0:0:0:0:0', '::1'),
        ('2001:DB8:ABCD:12::5', '2001:db8:0:0:5:0:0:0'),
    ]
    P = []
    for i, (a, b) in enumerate(pairs):
        ip, s = syn6(a, b, 33000 + i, BROKER_PORTS[i % 9], 1000 + i)
        P.append(Pkt(t + i * SEC, eth_ip(ip), s))
    c.pcap(P, 1)
    return c


@case
def addr_edge():
    c = Case('addr-edge', 'address and port extremes: 0.0.0.0, 255.255.255.255, ports 0 and '
             '65535, ::, all-ones IPv6')
    t = T(2026, 3, 2, 9, 45, 0, 0)
    P = []
    ip, s = syn4('0.0.0.0', '255.255.255.255', 0, 65535, 0)
    P.append(Pkt(t, eth_ip(ip), s))
    ip, s = syn4('255.255.255.255', '0.0.0.0', 65535, 0, 0xFFFFFFFF)
    P.append(Pkt(t + SEC, eth_ip(ip), s))
    ip, s = syn6('::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 1, 65535, 1)
    P.append(Pkt(t + 2 * SEC, eth_ip(ip), s))
    c.pcap(P, 1)
    return c


@case
def vlan_case():
    c = Case('vlan', '802.1Q, 802.1ad+802.1Q, 0x9100/0x9200 outer tags, 8 tags, 9 tags '
             '(vlan_too_many), priority tag (VID 0), PCP/DEI bits masked')
    t = T(2026, 3, 3, 14, 0, 0, 999 * US)
    P = []

    def add(i, tags, vids, v6=False, syn=True):
        if v6:
            ip, s = syn6(WS6[i], EXT6[i], 41000 + i, BROKER_PORTS[i % 9], 500 + i)
        else:
            ip, s = syn4(WS[i], EXT[i], 41000 + i, BROKER_PORTS[i % 9], 500 + i)
        P.append(Pkt(t + i * 100 * MS, eth_ip(ip, tags), s if syn else None, vids))

    add(0, [vlan(100, pcp=3)], [100])
    add(1, [vlan(200, 0x88A8), vlan(10)], [200, 10])
    add(2, [vlan(300, 0x9100), vlan(20), vlan(30)], [300, 20, 30])
    tpids = [0x88A8, 0x9200, 0x9100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100]
    vids8 = [4094, 1, 2, 3, 4, 5, 6, 7]
    add(3, [vlan(v, tp) for v, tp in zip(vids8, tpids)], vids8)
    add(4, [vlan(v, tp) for v, tp in zip(vids8 + [8], tpids + [0x8100])], [], syn=False)
    add(5, [vlan(0, pcp=5)], [0])
    add(6, [vlan(4095 & 0xABC, pcp=7, dei=1)], [0xABC], v6=True)
    add(7, [vlan(1, 0x88A8, pcp=1), vlan(2, pcp=2)], [1, 2], v6=True)
    c.pcap(P, 1)
    c.stats = {'vlan_too_many': 1}
    return c


def sll_hdr(proto, pkttype=4):
    return struct.pack('>HHH8sH', pkttype, 1, 6, MAC_A + b'\0\0', proto)


def sll2_hdr(proto, pkttype=4, ifindex=3):
    return struct.pack('>HHIHBB8s', proto, 0, ifindex, 1, pkttype, 6, MAC_A + b'\0\0')


def cooked_case(name, hdr, linktype, counter):
    c = Case(name, 'Linux cooked capture %s: IPv4, IPv6, an 802.1Q tag after the cooked '
             'header, ARP' % ('v1 (113)' if linktype == 113 else 'v2 (276)'))
    t = T(2026, 3, 4, 6, 30, 0, 250 * US)
    P = []
    ip, s = syn4(WS[5], EXT[0], 42000, 1883, 0x11)
    P.append(Pkt(t, hdr(0x0800) + ip, s))
    ip, s = syn6(WS6[5], EXT6[0], 42001, 5222, 0x12)
    P.append(Pkt(t + 1 * SEC, hdr(0x86DD) + ip, s))
    ip, s = syn4(WS[6], EXT[1], 42002, 61614, 0x13)
    P.append(Pkt(t + 2 * SEC, hdr(0x8100) + struct.pack('>HH', 57, 0x0800) + ip, s, [57]))
    ip, s = syn6(WS6[6], EXT6[1], 42003, 5671, 0x14)
    P.append(Pkt(t + 3 * SEC, hdr(0x8100, pkttype=0) + struct.pack('>HH', 58, 0x86DD) + ip, s,
                 [58]))
    # captured on a tun device: ARPHRD_NONE, no link-layer address
    ip, s = syn6(WS6[7], EXT6[7], 42004, 8883, 0x15)
    h = bytearray(hdr(0x86DD))
    if linktype == 113:
        h[2:4] = struct.pack('>H', 0xFFFE)
        h[4:6] = b'\0\0'
    else:
        h[8:10] = struct.pack('>H', 0xFFFE)
        h[11] = 0
    P.append(Pkt(t + 3 * SEC + 500 * MS, bytes(h) + ip, s))
    # a SYN|ACK received (packet type 0: to us) is not a record
    P.append(Pkt(t + 4 * SEC, hdr(0x0800, 0) + ipv4(EXT[0], WS[5], 6, seg_of(
        EXT[0], WS[5], 1883, 42000, 99, 0x12, SYN | ACK))))
    arp = struct.pack('>HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, MAC_A, A(WS[5]), b'\0' * 6,
                      A('10.1.0.1'))
    P.append(Pkt(t + 5 * SEC, hdr(0x0806, 1) + arp))
    c.pcap(P, linktype)
    c.stats = {counter: len(P)}
    return c


@case
def sll():
    return cooked_case('sll', sll_hdr, 113, 'link_sll')


@case
def sll2():
    return cooked_case('sll2', sll2_hdr, 276, 'link_sll2')


def raw_case(name, linktype, desc, v4=True, v6=True, bad=None):
    c = Case(name, desc)
    t = T(2026, 3, 5, 12, 0, 0, 10 * US * linktype)
    P = []
    if v4:
        ip, s = syn4(WS[7], EXT[2], 43000 + linktype, 5672, 0x21)
        P.append(Pkt(t, ip, s))
    if v6:
        ip, s = syn6(WS6[7], EXT6[2], 43100 + linktype, 5269, 0x22)
        P.append(Pkt(t + SEC, ip, s))
    if bad == 6:      # an IPv6 packet in an IPv4-only link type: invalid
        ip, s = syn6(WS6[8], EXT6[3], 43200, 1883, 0x23)
        P.append(Pkt(t + 2 * SEC, ip))
    if bad == 4:
        ip, s = syn4(WS[8], EXT[3], 43200, 1883, 0x24)
        P.append(Pkt(t + 2 * SEC, ip))
    c.pcap(P, linktype)
    c.stats = {'link_raw': len(P)}
    return c


@case
def raw101():
    return raw_case('raw-101', 101, 'raw IP (LINKTYPE_RAW 101), IPv4 and IPv6')


@case
def raw228():
    return raw_case('raw-228', 228, 'LINKTYPE_IPV4 (228); an IPv6 packet in it is invalid',
                    v6=False, bad=6)


@case
def raw229():
    return raw_case('raw-229', 229, 'LINKTYPE_IPV6 (229); an IPv4 packet in it is invalid',
                    v4=False, bad=4)


@case
def raw12():
    return raw_case('raw-12', 12, 'raw IP, legacy link type 12')


@case
def raw14():
    return raw_case('raw-14', 14, 'raw IP, legacy link type 14')


@case
def null_case():
    c = Case('null', 'BSD NULL (0): AF_INET 2 in both byte orders, AF_INET6 24/28/30/10 in '
             'both byte orders, an unknown family')
    t = T(2026, 3, 6, 1, 2, 3, 456 * US)
    P = []
    n = 0
    for af, order in [(2, '<'), (2, '>'), (24, '<'), (28, '<'), (30, '<'), (10, '<'),
                      (30, '>'), (28, '>')]:
        if af == 2:
            ip, s = syn4('127.0.0.1', '127.0.0.1', 44000 + n, 1883, 0x31 + n)
        else:
            ip, s = syn6('::1', '::1', 44000 + n, 5672, 0x31 + n)
        P.append(Pkt(t + n * SEC, struct.pack(order + 'I', af) + ip, s))
        n += 1
    ip, s = syn4('127.0.0.1', '127.0.0.1', 44099, 1883, 0x99)
    P.append(Pkt(t + n * SEC, struct.pack('<I', 7) + ip))      # AF 7: not IP
    c.pcap(P, 0)
    c.stats = {'link_null': len(P)}
    return c


@case
def loop_case():
    c = Case('loop', 'OpenBSD LOOP (108): address family in network byte order, 2 and 24/28/30')
    t = T(2026, 3, 6, 2, 0, 0, 1 * US)
    P = []
    for n, af in enumerate((2, 24, 28, 30)):
        if af == 2:
            ip, s = syn4('10.1.0.1', EXT[n], 44500 + n, 61613, 0x41 + n)
        else:
            ip, s = syn6('2001:db8:10::1', EXT6[n], 44500 + n, 61613, 0x41 + n)
        P.append(Pkt(t + n * SEC, struct.pack('>I', af) + ip, s))
    c.pcap(P, 108)
    c.stats = {'link_loop': len(P)}
    return c


OUT_A, OUT_B = '192.168.255.1', '192.168.255.2'
OUT6_A, OUT6_B = '2001:db8:99::1', '2001:db8:99::2'


def over4(proto, payload, ident=0x4000):
    return ipv4(OUT_A, OUT_B, proto, payload, ident=ident)


def over6(proto, payload):
    return ipv6(OUT6_A, OUT6_B, proto, payload)


@case
def gre_case():
    c = Case('gre', 'GRE: IPv4 in GRE, checksum+key+sequence, TEB 0x6558 (inner VLAN), '
             'ERSPAN I, II, III, III with O bit, GRE over IPv6, '
             'ERSPAN III frame type 2 (no record)')
    t = T(2026, 3, 7, 10, 0, 0, 0)
    P = []

    def add(frame, syn=None, vids=()):
        P.append(Pkt(t + len(P) * 10 * MS, frame, syn, vids))

    ip, s = syn4(WS[0], EXT[0], 45000, 1883, 0x51)
    add(eth(over4(47, gre(0x0800, ip))), s)
    ip, s = syn6(WS6[0], EXT6[0], 45001, 8883, 0x52)
    add(eth(over4(47, gre(0x86DD, ip, csum_on=True, key=0xDEADBEEF, seq=7))), s)
    ip, s = syn4(WS[1], EXT[1], 45002, 5222, 0x53)
    add(eth(over4(47, gre(0x0800, ip, key=42))), s)
    # transparent Ethernet bridging: the inner frame's tag is the record's, not the outer's
    ip, s = syn4(WS[2], EXT[2], 45003, 5223, 0x54)
    add(eth(over4(47, gre(0x6558, eth_ip(ip, [vlan(42)], src=mac(1), dst=mac(2)))), 0x0800,
            [vlan(7)]), s, [42])
    ip, s = syn4(WS[2], EXT[2], 45004, 5223, 0x55)
    add(eth(over4(47, gre(0x6558, eth_ip(ip, src=mac(1), dst=mac(2)))), 0x0800, [vlan(7)]), s)
    # ERSPAN type I: GRE 0x88BE without sequence number, no ERSPAN header
    ip, s = syn4(WS[3], EXT[3], 45005, 5269, 0x56)
    add(eth(over4(47, gre(0x88BE, eth_ip(ip, src=mac(3), dst=mac(4))))), s)
    # ERSPAN type II
    ip, s = syn4(WS[4], EXT[4], 45006, 5672, 0x57)
    add(eth(over4(47, gre(0x88BE, erspan2(eth_ip(ip, src=mac(5), dst=mac(6))), seq=1))), s)
    ip, s = syn6(WS6[4], EXT6[4], 45007, 5671, 0x58)
    add(eth(over4(47, gre(0x88BE, erspan2(eth_ip(ip, [vlan(301)], src=mac(5), dst=mac(6)),
                                          vid=301, en=3, session=9), seq=2))), s, [301])
    # ERSPAN type III, without and with the 8-byte platform subheader
    ip, s = syn4(WS[5], EXT[5], 45008, 61613, 0x59)
    add(eth(over4(47, gre(0x22EB, erspan3(eth_ip(ip, src=mac(7), dst=mac(8)), ts=123456),
                          seq=3))), s)
    ip, s = syn4(WS[6], EXT[6], 45009, 61614, 0x5A)
    add(eth(over4(47, gre(0x22EB, erspan3(eth_ip(ip, [vlan(302, 0x88A8), vlan(303)],
                                                 src=mac(7), dst=mac(8)), o=True, ts=99),
                          seq=4))), s, [302, 303])
    # GRE over IPv6
    ip, s = syn4(WS[7], EXT[7], 45010, 1883, 0x5B)
    add(eth_ip(over6(47, gre(0x0800, ip))), s)
    ip, s = syn6(WS6[7], EXT6[7], 45011, 5222, 0x5C)
    add(eth_ip(over6(47, gre(0x6558, eth_ip(ip, [vlan(44)], src=mac(9), dst=mac(10))))), s,
        [44])
    # ERSPAN III whose frame type is 2 (not Ethernet): no record
    ip, s = syn4(WS[8], EXT[8], 45012, 1883, 0x5D)
    add(eth(over4(47, gre(0x22EB, erspan3(eth_ip(ip, src=mac(7), dst=mac(8)), ft=2),
                          seq=5))))
    c.pcap(P, 1)
    return c


@case
def gre_v1():
    c = Case('gre-v1', 'GRE version 1 (PPTP enhanced GRE) around an IPv4 SYN: not decoded '
             '(tunnel_unsupported)')
    t = T(2026, 3, 7, 10, 30, 0, 0)
    ip, s = syn4(WS[0], EXT[0], 45100, 1883, 0x61)
    # flags K|S, version 1, protocol 0x0800, payload length, call id, sequence number.
    # Read as version 0 this would look like key + sequence, then IPv4.
    g = struct.pack('>HHHHI', 0x2000 | 0x1000 | 1, 0x0800, len(ip), 0x0101, 1) + ip
    P = [Pkt(t, eth(over4(47, g))), Pkt(t + SEC, eth(over4(47, g)))]
    c.pcap(P, 1)
    c.stats = {'tunnel_unsupported': 2}
    return c


@case
def vxlan_case():
    c = Case('vxlan', 'VXLAN (UDP 4789) over IPv4 and IPv6, inner VLAN tag reported, '
             'outer VLAN tag not, I flag clear (no record)')
    t = T(2026, 3, 8, 16, 45, 0, 500 * US)
    P = []

    def add(frame, syn=None, vids=()):
        P.append(Pkt(t + len(P) * 10 * MS, frame, syn, vids))

    def vx4(inner, flags=0x08, vni=5001):
        return over4(17, udp(OUT_A, OUT_B, 49152 + len(P), 4789, vxlan(inner, vni, flags)))

    def vx6(inner, flags=0x08, vni=5001):
        return over6(17, udp(OUT6_A, OUT6_B, 49152 + len(P), 4789, vxlan(inner, vni, flags)))

    ip, s = syn4(WS[0], EXT[0], 46000, 1883, 0x71)
    add(eth(vx4(eth_ip(ip, src=mac(11), dst=mac(12)))), s)
    ip, s = syn6(WS6[0], EXT6[0], 46001, 5222, 0x72)
    add(eth(vx6(eth_ip(ip, src=mac(11), dst=mac(12))), 0x86DD), s)
    ip, s = syn4(WS[1], EXT[1], 46002, 5671, 0x73)
    add(eth(vx4(eth_ip(ip, [vlan(123)], src=mac(11), dst=mac(12)))), s, [123])
    ip, s = syn4(WS[2], EXT[2], 46003, 61613, 0x74)
    add(eth(vx4(eth_ip(ip, src=mac(11), dst=mac(12))), 0x0800, [vlan(9)]), s)
    ip, s = syn6(WS6[2], EXT6[2], 46004, 8883, 0x75)
    add(eth(vx6(eth_ip(ip, [vlan(124), vlan(125)], src=mac(11), dst=mac(12))), 0x86DD,
            [vlan(9, 0x88A8), vlan(10)]), s, [124, 125])
    ip, s = syn4(WS[3], EXT[3], 46005, 1883, 0x76)
    add(eth(vx4(eth_ip(ip, src=mac(11), dst=mac(12)), flags=0x00)))
    # I flag with other bits (VXLAN-GBP's G bit): still VXLAN
    ip, s = syn4(WS[4], EXT[4], 46006, 5672, 0x77)
    add(eth(vx4(eth_ip(ip, src=mac(11), dst=mac(12)), flags=0x88)), s)
    c.pcap(P, 1)
    c.stats = {}
    return c


@case
def ipip():
    c = Case('ipip', 'IP in IP: 4in4, 6in4, 4in6, 6in6; 4 levels (record); '
             '5 levels (tunnel_too_deep)')
    t = T(2026, 3, 9, 3, 0, 0, 0)
    P = []

    def add(frame, syn=None):
        P.append(Pkt(t + len(P) * SEC, frame, syn))

    ip, s = syn4(WS[0], EXT[0], 47000, 1883, 0x81)
    add(eth(over4(4, ip)), s)
    ip, s = syn6(WS6[0], EXT6[0], 47001, 5222, 0x82)
    add(eth(over4(41, ip)), s)
    ip, s = syn4(WS[1], EXT[1], 47002, 5672, 0x83)
    add(eth(over6(4, ip), 0x86DD), s)
    ip, s = syn6(WS6[1], EXT6[1], 47003, 61613, 0x84)
    add(eth(over6(41, ip), 0x86DD), s)

    def nest(ip, levels):
        for n in range(levels):
            if n % 2 == 0:
                ip = ipv4('192.168.%d.1' % n, '192.168.%d.2' % n,
                          4 if ip[0] >> 4 == 4 else 41, ip)
            else:
                ip = ipv6('2001:db8:9%d::1' % n, '2001:db8:9%d::2' % n,
                          4 if ip[0] >> 4 == 4 else 41, ip)
        return ip

    ip, s = syn4(WS[2], EXT[2], 47004, 8883, 0x85)
    add(eth_ip(nest(ip, 4)), s)
    ip, s = syn6(WS6[2], EXT6[2], 47005, 5223, 0x86)
    add(eth_ip(nest(ip, 4)), s)
    ip, s = syn4(WS[3], EXT[3], 47006, 8883, 0x87)
    add(eth_ip(nest(ip, 5)))
    c.pcap(P, 1)
    c.stats = {'tunnel_too_deep': 1}
    return c


@case
def tunnel_mix():
    c = Case('tunnel-mix', 'Mixed tunnels: GRE, VXLAN, 4in6, 4in4 = 4 levels (record); one '
             'more level (tunnel_too_deep). VLAN rule: only the tags of an Ethernet frame '
             'with no tunnel header between it and the innermost IP are reported (tags of '
             'any tunnel transport frame are not)')
    t = T(2026, 3, 9, 4, 0, 0, 0)
    P = []

    def build(ip, extra):
        if extra:
            ip = ipv4('192.168.50.1', '192.168.50.2', 4, ip)           # 4in4
        inner6 = ipv6('2001:db8:77::1', '2001:db8:77::2', 4, ip)     # 4in6
        f = eth(inner6, 0x86DD, [vlan(555)], src=mac(20), dst=mac(21))
        vx = ipv4('192.168.60.1', '192.168.60.2', 17, udp('192.168.60.1', '192.168.60.2',
                                                         50000, 4789, vxlan(f, 77)))
        return eth(over4(47, gre(0x0800, vx)), 0x0800, [vlan(3)])

    # GRE, VXLAN, 4in6, 4in4: the VLAN-555 frame is the 4in6 tunnel's transport
    ip, s = syn4(WS[4], EXT[4], 47100, 5269, 0x91)
    ip = ipv4('192.168.50.1', '192.168.50.2', 4, ip)
    P.append(Pkt(t, build(ip, False), s))
    ip, s = syn4(WS[4], EXT[4], 47101, 5269, 0x92)
    ip = ipv4('192.168.50.1', '192.168.50.2', 4, ip)
    P.append(Pkt(t + SEC, build(ip, True)))
    # GRE, VXLAN, inner Ethernet with VLAN 556 carrying the SYN itself: 556 is reported
    ip, s = syn4(WS[5], EXT[5], 47102, 5222, 0x93)
    f = eth_ip(ip, [vlan(556)], src=mac(20), dst=mac(21))
    vx = ipv4('192.168.60.1', '192.168.60.2', 17, udp('192.168.60.1', '192.168.60.2',
                                                     50001, 4789, vxlan(f, 78)))
    P.append(Pkt(t + 2 * SEC, eth(over4(47, gre(0x0800, vx)), 0x0800, [vlan(3)]), s, [556]))
    # 4in4 and GRE(IPv4) inside a tagged frame: that frame is a tunnel transport frame
    ip, s = syn4(WS[6], EXT[6], 47103, 1883, 0x94)
    P.append(Pkt(t + 3 * SEC, eth(over4(4, ip), 0x0800, [vlan(100)]), s))
    ip, s = syn6(WS6[6], EXT6[6], 47104, 1883, 0x95)
    P.append(Pkt(t + 4 * SEC, eth(over4(47, gre(0x86DD, ip)), 0x0800, [vlan(101)]), s))
    c.pcap(P, 1)
    c.stats = {'tunnel_too_deep': 1}
    return c


@case
def syn_flags():
    c = Case('syn-flags', 'every segment with SYN set and ACK clear is a record, whatever '
             'else is set (FIN, RST, PSH, URG, ECE, CWR, NS); SYN|ACK with other flags is not')
    t = T(2026, 3, 15, 7, 0, 0, 5 * US)
    P = []
    combos = [SYN | FIN, SYN | RST, SYN | PSH | URG, SYN | FIN | PSH | URG | ECE | CWR, SYN]
    for n, fl in enumerate(combos):
        ip, s = syn4(WS[n], EXT[n], 60000 + n, BROKER_PORTS[n], 0x700 + n, flags=fl)
        P.append(Pkt(t + n * SEC, eth_ip(ip), s))
    # NS (the low bit of the data offset byte) set as well
    seg = bytearray(tcp(WS[6], EXT[6], 60006, 5222, 0x706, 0, SYN, opts=syn_opts()))
    seg[12] |= 1
    seg[16:18] = b'\0\0'
    seg[16:18] = struct.pack('>H', l4_csum(WS[6], EXT[6], 6, bytes(seg)))
    P.append(Pkt(t + 6 * SEC, eth_ip(ipv4(WS[6], EXT[6], 6, bytes(seg))),
                 Syn(WS[6], EXT[6], 60006, 5222, 0x706)))
    for n, fl in enumerate((SYN | ACK | FIN, SYN | ACK | RST, SYN | ACK | ECE, ACK | URG)):
        P.append(Pkt(t + (7 + n) * SEC, eth_ip(ipv4(EXT[n], WS[n], 6, seg_of(
            EXT[n], WS[n], BROKER_PORTS[n], 60000 + n, 0x800 + n, 0x701 + n, fl)))))
    c.pcap(P, 1)
    return c


@case
def lies():
    c = Case('lies', 'headers that lie about lengths (no record): IHL*4 beyond the total '
             'length, TCP data offset beyond the IP total length but inside Ethernet '
             'padding, a 16-byte TCP segment, an IPv6 extension header longer than the '
             'payload, EtherType IPv6 with an IPv4 header, a UDP length beyond the IP '
             'payload (VXLAN), UDP source (not destination) port 4789; and a frame with a '
             'trailing FCS (record)')
    t = T(2026, 3, 16, 18, 0, 0, 0)
    P = []

    def add(frame, syn=None):
        P.append(Pkt(t + len(P) * SEC, frame, syn))

    # IHL 15 (60 bytes) in a 40-byte datagram
    ip, s = syn4(WS[0], EXT[0], 61000, 1883, 0x800, opts=b'')
    add(eth_ip(ipv4(WS[0], EXT[0], 6, ip[20:], ihl=15)))
    # data offset 6 (24 bytes) but the IP datagram holds 20 TCP bytes; padding follows
    seg = tcp(WS[1], EXT[1], 61001, 1883, 0x801, 0, SYN, doff=6)
    add(eth_ip(ipv4(WS[1], EXT[1], 6, seg)))
    # a TCP segment of 16 bytes, all of it captured
    seg = tcp(WS[2], EXT[2], 61002, 1883, 0x802, 0, SYN)[:16]
    add(eth_ip(ipv4(WS[2], EXT[2], 6, seg)))
    # hop-by-hop header claiming 88 bytes in a 48-byte payload
    ip6, s6 = syn6(WS6[0], EXT6[0], 61003, 5222, 0x803,
                   exts=[(0, lambda nh: bytes([nh, 10]) + b'\x01\x04\0\0\0\0')])
    add(eth_ip(ip6))
    # EtherType 0x86DD, but an IPv4 header
    ip, s = syn4(WS[3], EXT[3], 61004, 5222, 0x804)
    add(eth(ip, 0x86DD))
    # VXLAN whose UDP length claims more than the IP payload
    ip, s = syn4(WS[4], EXT[4], 61005, 5671, 0x805)
    u = bytearray(udp(OUT_A, OUT_B, 50000, 4789, vxlan(eth_ip(ip, src=mac(1), dst=mac(2)))))
    u[4:6] = struct.pack('>H', len(u) + 40)
    add(eth(over4(17, bytes(u))))
    # UDP from port 4789 to another port: not VXLAN
    ip, s = syn4(WS[5], EXT[5], 61006, 5671, 0x806)
    add(eth(over4(17, udp(OUT_A, OUT_B, 4789, 50000, vxlan(eth_ip(ip, src=mac(1),
                                                                  dst=mac(2)))))))
    # a frame captured with its 4-byte FCS: IPv6 payload length ends before it
    ip6, s6 = syn6(WS6[1], EXT6[1], 61007, 5223, 0x807)
    add(eth_ip(ip6) + b'\x12\x34\x56\x78', s6)
    # IPv4 in a padded frame: the total length ends before the padding
    ip, s = syn4(WS[6], EXT[6], 61008, 5223, 0x808, opts=b'')
    add(eth_ip(ip) + b'\xde\xad\xbe\xef', s)
    c.pcap(P, 1)
    return c


@case
def ipv6_ext():
    c = Case('ipv6-ext', 'IPv6 extension headers: hop-by-hop, routing (SRH), destination '
             'options, AH, 135/139/140 generic, chains, 8 headers (record), 9 headers '
             '(ipv6_ext_too_many), next header 59')
    t = T(2026, 3, 10, 11, 11, 11, 111111 * US)
    P = []

    def add(exts, syn=True, nh59=False):
        n = len(P)
        src, dst = WS6[n % 12], EXT6[n % 10]
        ip, s = syn6(src, dst, 48000 + n, BROKER_PORTS[n % 9], 0xA0 + n, exts=exts)
        if nh59:
            # the chain ends in "no next header": what follows is not TCP
            nh, body = chain(exts, 59, ip[40:40 + 40])
            ip = ipv6(src, dst, nh, body)
        P.append(Pkt(t + n * SEC, eth_ip(ip), s if syn else None))

    HBH = (0, lambda nh: ext_opts(nh, 8))
    HBH16 = (0, lambda nh: ext_opts(nh, 16, b'\x05\x02\x00\x00'))   # router alert + PadN
    DO = (60, lambda nh: ext_opts(nh, 8))
    RH = (43, lambda nh: ext_srh(nh, '2001:db8:ffff::5'))
    AH = (51, lambda nh: ext_ah(nh))
    add([HBH])
    add([HBH16])
    add([RH])
    add([DO])
    add([AH])
    add([HBH, DO, RH, AH, DO])
    add([(140, lambda nh: ext_generic(nh, 8))])
    add([(139, lambda nh: ext_generic(nh, 16))])
    add([(135, lambda nh: ext_generic(nh, 8))])
    add([HBH] + [DO] * 7)             # 8 extension headers: still a record
    add([HBH] + [DO] * 8, syn=False)  # 9: too many
    add([HBH, DO], syn=False, nh59=True)
    add([], syn=False, nh59=True)
    c.pcap(P, 1)
    c.stats = {'ipv6_ext_too_many': 1}
    return c


@case
def source_route():
    c = Case('source-route', 'final destinations: an IPv4 loose/strict source route not yet '
             'completed names the connection\'s far end in its last address; a completed one '
             '(pointer past the end) or a bad pointer leaves the header\'s; an IPv6 routing '
             'header (type 0, 2, 4) with segments left names the final destination')
    t = T(2026, 3, 11, 9, 0, 0, 17 * US)
    P = []
    hop4, hop6 = '198.51.100.1', '2001:db8:1::fe'

    def v4(n, final, hdr_dst, opt):
        # the TCP checksum covers the final destination (RFC 1122 3.2.1.8)
        ip, s = syn4(WS[n], final, 49500 + n, BROKER_PORTS[n], 0xC0 + n)
        ip = ipv4(WS[n], hdr_dst, 6, ip[20:], opts=opt)
        P.append(Pkt(t + len(P) * SEC, eth_ip(ip), s))

    route = A('198.51.100.2') + A('203.0.113.200')
    v4(0, '203.0.113.200', hop4, bytes([131, 11, 4]) + route)              # LSRR pending
    v4(1, '203.0.113.201', hop4, bytes([137, 7, 4]) + A('203.0.113.201'))  # SSRR pending
    v4(2, '203.0.113.202', '203.0.113.202',                                # LSRR completed
       bytes([131, 11, 12]) + A('198.51.100.3') + A('198.51.100.4'))
    v4(3, hop4, hop4, bytes([131, 7, 5]) + A('203.0.113.203'))            # bad pointer
    v4(4, '203.0.113.204', hop4, b'\x01' + bytes([137, 7, 4]) + A('203.0.113.204'))  # after a NOP

    def v6(n, final, hdr_dst, ext):
        ip, s = syn6(WS6[n], final, 49600 + n, BROKER_PORTS[n], 0xD0 + n)
        ip = ipv6(WS6[n], hdr_dst, 43, ext(6) + ip[40:])
        P.append(Pkt(t + len(P) * SEC, eth_ip(ip), s))

    def rh0(nh, addrs, left):
        return bytes([nh, 2 * len(addrs), 0, left, 0, 0, 0, 0]) + b''.join(A(a) for a in addrs)

    def srh(nh, segs, left):
        return bytes([nh, 2 * len(segs), 4, left, len(segs) - 1, 0, 0, 0]) + \
            b''.join(A(a) for a in segs)

    v6(0, '2001:db8:ffff::a0', hop6,                                       # type 0, 2 left
       lambda nh: rh0(nh, ['2001:db8:1::1', '2001:db8:ffff::a0'], 2))
    v6(1, '2001:db8:ffff::a1', hop6,                                       # type 2 (MIPv6)
       lambda nh: bytes([nh, 2, 2, 1, 0, 0, 0, 0]) + A('2001:db8:ffff::a1'))
    v6(2, '2001:db8:ffff::a2', '2001:db8:1::2',                            # SRH, 1 left
       lambda nh: srh(nh, ['2001:db8:ffff::a2', '2001:db8:1::2'], 1))
    v6(3, '2001:db8:ffff::a3', '2001:db8:ffff::a3',                        # SRH, 0 left
       lambda nh: srh(nh, ['2001:db8:ffff::a3', '2001:db8:1::3'], 0))
    c.pcap(P, 1)
    c.stats = {'records': 9, 'ipv4_options': 5}
    return c


@case
def ipv4_options():
    c = Case('ipv4-options', 'IPv4 options: NOPs, record route, timestamp, router alert, '
             '40 bytes of options (IHL 15)')
    t = T(2026, 3, 11, 8, 0, 0, 42 * US)
    P = []
    opts = [
        b'\x01\x01\x01\x00',
        b'\x07\x0b\x04' + b'\0' * 8,
        b'\x44\x0c\x05\x00' + b'\0' * 8,
        b'\x94\x04\x00\x00',
        b'\x07\x27\x04' + b'\0' * 36 + b'\x00',
        b'\x01\x94\x04\x00\x00\x01\x01\x01',
        b'\x07\x00\x00\x00',                     # malformed: option length 0
        b'\x44\x28\x05\x00',                     # malformed: length past the header
    ]
    for n, o in enumerate(opts):
        ip, s = syn4(WS[n], EXT[n], 49000 + n, BROKER_PORTS[n], 0xB0 + n)
        ip = ipv4(WS[n], EXT[n], 6, ip[20:], opts=o)
        P.append(Pkt(t + n * SEC, eth_ip(ip), s))
    c.pcap(P, 1)
    c.stats = {'ipv4_options': len(opts)}
    return c


def frag4(ip_full, size, order=None, ident=0x7777):
    """Splits an IPv4 packet (no options) into fragments of size bytes: list of packets."""
    hdr, data = ip_full[:20], ip_full[20:]
    src, dst, proto = hdr[12:16], hdr[16:20], hdr[9]
    pieces = []
    for off in range(0, len(data), size):
        chunk = data[off:off + size]
        more = off + size < len(data)
        pieces.append(ipv4(src, dst, proto, chunk, ident=ident, df=False, mf=more, frag=off))
    if order:
        pieces = [pieces[i] for i in order]
    return pieces


def frag6(ip_full, size, ident, unfrag=()):
    """Splits an IPv6 packet without extension headers into fragments (unfragmentable
    extension headers unfrag before the fragment header)."""
    src, dst, nh = ip_full[8:24], ip_full[24:40], ip_full[6]
    data = ip_full[40:]
    out = []
    for off in range(0, len(data), size):
        chunk = data[off:off + size]
        more = off + size < len(data)
        first, body = chain(list(unfrag) + [(44, lambda n, o=off, m=more: ext_frag(n, o, m, ident))],
                            nh, chunk)
        out.append(ipv6(src, dst, first, body))
    return out


@case
def frag():
    c = Case('frag', 'IP fragments: IPv4 SYN in 8-byte fragments in order, out of order, '
             'with an exact duplicate, with an overlap of other content (discarded), '
             'incomplete, completed 59 s / not before 61 s after the first, IPv6 fragment '
             'header (with and without hop-by-hop before it), in an 802.1Q frame')
    t = T(2026, 3, 12, 13, 0, 0, 0)
    P = []
    clock = [t]

    def add(frame, syn=None, vids=(), gap=100 * MS):
        P.append(Pkt(clock[0], frame, syn, vids))
        clock[0] += gap

    # in order
    ip, s = syn4(WS[0], EXT[0], 50001, 1883, 0xF001)
    fr = frag4(ip, 8, ident=0x1001)
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    # out of order: 2, 4(last), 0, 3, 1 -> completes on 1
    ip, s = syn4(WS[1], EXT[1], 50002, 5222, 0xF002)
    fr = frag4(ip, 8, order=[2, 4, 0, 3, 1], ident=0x1002)
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    # an exact duplicate of fragment 1 before the datagram completes
    ip, s = syn4(WS[2], EXT[2], 50003, 5671, 0xF003)
    fr = frag4(ip, 8, order=[0, 1, 1, 2, 3, 4], ident=0x1003)
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    # an overlapping fragment with other content: the datagram is discarded
    ip, s = syn4(WS[3], EXT[3], 50004, 61613, 0xF004)
    fr = frag4(ip, 8, ident=0x1004)
    seg = ip[20:]
    liar = ipv4(ip[12:16], ip[16:20], 6, seg[8:12] + b'\xee\xee\xee\xee' + seg[16:24],
                ident=0x1004, df=False, mf=True, frag=8)
    for f in [fr[0], fr[1], liar, fr[2], fr[3], fr[4]]:
        add(eth_ip(f))
    # incomplete: fragment 2 never comes
    ip, s = syn4(WS[4], EXT[4], 50005, 8883, 0xF005)
    fr = frag4(ip, 8, ident=0x1005)
    for f in fr[:2] + fr[3:]:
        add(eth_ip(f))
    # completed 59 s after its first fragment: a record at the completing fragment's time
    ip, s = syn4(WS[5], EXT[5], 50006, 5269, 0xF006)
    fr = frag4(ip, 8, ident=0x1006)
    for f in fr[:4]:
        add(eth_ip(f), gap=0)
        clock[0] += 10 * MS
    clock[0] += 59 * SEC - 40 * MS
    add(eth_ip(fr[4]), s)
    # the last fragment 61 s after the first: too late, no record
    ip, s = syn4(WS[6], EXT[6], 50007, 5672, 0xF007)
    fr = frag4(ip, 8, ident=0x1007)
    first = clock[0]
    for f in fr[:4]:
        add(eth_ip(f), gap=10 * MS)
    clock[0] = first + 61 * SEC
    add(eth_ip(fr[4]))
    # IPv6 fragment header; then with a hop-by-hop header before it
    ip, s = syn6(WS6[0], EXT6[0], 50008, 5223, 0xF008)
    fr = frag6(ip, 8, 0x2008)
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    ip, s = syn6(WS6[1], EXT6[1], 50009, 61614, 0xF009)
    fr = frag6(ip, 16, 0x2009, unfrag=[(0, lambda nh: ext_opts(nh, 8))])
    fr = [fr[1], fr[2], fr[0]]
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    # in an 802.1Q frame: the record carries VLAN 77 and the completing fragment's time
    ip, s = syn4(WS[7], EXT[7], 50010, 1883, 0xF00A)
    fr = frag4(ip, 8, order=[1, 0, 2, 4, 3], ident=0x100A)
    for i, f in enumerate(fr):
        add(eth_ip(f, [vlan(77)]), s if i == len(fr) - 1 else None, [77])
    c.pcap(P, 1)
    c.stats = {'frag_reassembled': 7, 'frag_duplicate': 1, 'frag_overlap': 1}
    return c


@case
def frag_more():
    c = Case('frag-more', 'more fragments: a first fragment holding the whole TCP header '
             'never completed (no record) and completed 2 s later (record at that time); a '
             'lone non-first fragment that looks like a SYN; records in the order of the '
             'completing packets; a stray copy of a fragment after completion; a fragmented '
             'SYN retransmitted (folded); IPv6 atomic fragment; IPv6 destination options '
             'inside the fragmentable part')
    t = T(2026, 3, 12, 15, 0, 0, 250 * US)
    P = []
    clock = [t]

    def add(frame, syn=None, gap=200 * MS):
        P.append(Pkt(clock[0], frame, syn))
        clock[0] += gap

    def split(ip, cuts, ident):
        """IPv4 fragments at the given byte offsets of the payload."""
        data = ip[20:]
        bounds = list(cuts) + [len(data)]
        out, start = [], 0
        for end in bounds:
            out.append(ipv4(ip[12:16], ip[16:20], ip[9], data[start:end], ident=ident,
                            df=False, mf=end < len(data), frag=start))
            start = end
        return out

    payload = b'MQTT-CONNECT-16b'
    ip, s = syn4(WS[0], EXT[0], 62000, 1883, 0x900, payload=payload)
    fr = split(ip, [48], 0x3001)
    add(eth_ip(fr[0]))                    # never completed
    ip, s = syn4(WS[1], EXT[1], 62001, 1883, 0x901, payload=payload)
    fr = split(ip, [48], 0x3002)
    add(eth_ip(fr[0]), gap=2 * SEC)
    add(eth_ip(fr[1]), s)                 # completes it: the record's time
    # a lone fragment at offset 24 whose bytes are a whole SYN
    ip, s = syn4(WS[2], EXT[2], 62002, 5222, 0x902)
    add(eth_ip(ipv4(WS[2], EXT[2], 6, ip[20:], ident=0x3003, df=False, frag=24)))
    # A's first fragment, then B (whole), then the rest of A: B's record first
    ipa, sa = syn4(WS[3], EXT[3], 62003, 5671, 0x903)
    fa = frag4(ipa, 8, ident=0x3004)
    ipb, sb = syn4(WS[4], EXT[4], 62004, 5672, 0x904)
    add(eth_ip(fa[0]))
    add(eth_ip(ipb), sb)
    for i, f in enumerate(fa[1:]):
        add(eth_ip(f), sa if i == len(fa) - 2 else None)
    # completed, then a stray copy of its last fragment: no second record
    ip, s = syn4(WS[5], EXT[5], 62005, 61613, 0x905)
    fr = frag4(ip, 16, ident=0x3005)
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    add(eth_ip(fr[-1]))
    # the same fragmented SYN again 3 s later (new IP id): a folded retransmission
    fr = frag4(ip, 16, ident=0x3006)
    clock[0] += 3 * SEC
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    # IPv6 atomic fragment (RFC 6946): offset 0, M clear
    ip6, s6 = syn6(WS6[0], EXT6[0], 62006, 5269, 0x906,
                   exts=[(44, lambda nh: ext_frag(nh, 0, False, 0x4001))])
    add(eth_ip(ip6), s6)
    # IPv6: the fragmentable part starts with destination options
    ip6, s6 = syn6(WS6[1], EXT6[1], 62007, 8883, 0x907)
    part = ext_opts(6, 8) + ip6[40:]
    pieces = []
    for off in range(0, len(part), 16):
        chunk = part[off:off + 16]
        pieces.append(ipv6(WS6[1], EXT6[1], 44, ext_frag(60, off, off + 16 < len(part),
                                                         0x4002) + chunk))
    for i, f in enumerate(pieces):
        add(eth_ip(f), s6 if i == len(pieces) - 1 else None)
    # impossible fragments: past 65535 bytes; a non-last one not a multiple of 8 long
    ip, s = syn4(WS[6], EXT[6], 62008, 1883, 0x908)
    add(eth_ip(ipv4(WS[6], EXT[6], 6, ip[20:36], ident=0x3007, df=False, mf=True,
                    frag=65528)))
    add(eth_ip(ipv4(WS[6], EXT[6], 6, ip[20:32], ident=0x3008, df=False, mf=True, frag=0)))
    c.pcap(P, 1)
    c.stats = {'syn_retransmit': 1, 'frag_invalid': 2}
    return c


@case
def frag_tunnel():
    c = Case('frag-tunnel', 'fragments around and inside tunnels: a fragmented outer IPv4 '
             'carrying GRE; inner IPv4 fragments each in its own GRE packet; a fragmented '
             'outer IPv6 carrying VXLAN (inner VLAN reported)')
    t = T(2026, 3, 12, 16, 0, 0, 0)
    P = []

    def add(frame, syn=None, vids=()):
        P.append(Pkt(t + len(P) * 50 * MS, frame, syn, vids))

    ip, s = syn4(WS[0], EXT[0], 63000, 1883, 0xA00)
    outer = over4(47, gre(0x0800, ip), ident=0x5001)
    fr = frag4(outer, 24, ident=0x5001)
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None)
    ip, s = syn4(WS[1], EXT[1], 63001, 5222, 0xA01)
    fr = frag4(ip, 16, order=[1, 2, 0], ident=0x5002)
    for i, f in enumerate(fr):
        add(eth_ip(over4(47, gre(0x0800, f), ident=0x5100 + i)), s if i == 2 else None)
    ip, s = syn4(WS[2], EXT[2], 63002, 61614, 0xA02)
    inner = eth_ip(ip, [vlan(321)], src=mac(30), dst=mac(31))
    outer = over6(17, udp(OUT6_A, OUT6_B, 50002, 4789, vxlan(inner, 99)))
    fr = frag6(outer, 40, 0x5003)
    for i, f in enumerate(fr):
        add(eth_ip(f), s if i == len(fr) - 1 else None, [321])
    c.pcap(P, 1)
    c.stats = {'frag_reassembled': 3}
    return c


@case
def frag_snaplen():
    c = Case('frag-snaplen', 'fragmented SYNs cut by the snap length after the first 20 TCP '
             'bytes still give their record (payload fragment cut; first fragment cut in the '
             'TCP options); cut inside the first 20 TCP bytes: no record')
    t = T(2026, 3, 12, 17, 0, 0, 0)
    P = []

    def two(n, cap1=None, cap2=None, syn=True):
        ip, s = syn4(WS[n], EXT[n], 63100 + n, 1883, 0xA10 + n, payload=bytes(range(100)))
        data = ip[20:]
        f1 = ipv4(ip[12:16], ip[16:20], 6, data[:48], ident=0x6000 + n, df=False, mf=True)
        f2 = ipv4(ip[12:16], ip[16:20], 6, data[48:], ident=0x6000 + n, df=False, frag=48)
        P.append(Pkt(t + len(P) * SEC, eth_ip(f1), None, caplen=cap1))
        P.append(Pkt(t + len(P) * SEC, eth_ip(f2), s if syn else None, caplen=cap2))

    two(0, cap2=68)                     # the payload-only fragment cut
    two(1, cap1=14 + 20 + 30)           # first fragment cut in the TCP options
    two(2, cap1=14 + 20 + 30, cap2=68)  # both
    two(3, cap1=14 + 20 + 12, syn=False)  # cut inside the first 20 TCP bytes
    # IPv6: the payload-only fragment cut
    ip, s = syn6(WS6[4], EXT6[4], 63104, 5222, 0xA14, payload=bytes(range(100)))
    fr = frag6(ip, 48, 0x6004)
    P.append(Pkt(t + len(P) * SEC, eth_ip(fr[0])))
    P.append(Pkt(t + len(P) * SEC, eth_ip(fr[1]), None))
    P.append(Pkt(t + len(P) * SEC, eth_ip(fr[2]), s, caplen=80))
    c.pcap(P, 1, snaplen=65535)
    return c


@case
def truncated_tunnel():
    c = Case('truncated-tunnel', 'tunnelled SYNs cut by the snap length in the inner TCP '
             'options: GRE, VXLAN, 6in4 with extension headers, ERSPAN III with O bit (all '
             'records)')
    t = T(2026, 3, 14, 5, 0, 0, 0)
    P = []
    ip, s = syn4(WS[0], EXT[0], 53100, 1883, 0xE10)
    P.append(Pkt(t, eth(over4(47, gre(0x0800, ip))), s, caplen=14 + 20 + 4 + 20 + 24))
    ip, s = syn4(WS[1], EXT[1], 53101, 1883, 0xE11)
    P.append(Pkt(t + SEC, eth(over4(17, udp(OUT_A, OUT_B, 5000, 4789, vxlan(eth_ip(
        ip, src=mac(1), dst=mac(2)))))), s, caplen=14 + 20 + 8 + 8 + 14 + 20 + 24))
    ip, s = syn6(WS6[1], EXT6[1], 53102, 1883, 0xE12,
                 exts=[(0, lambda nh: ext_opts(nh, 8)), (60, lambda nh: ext_opts(nh, 16))])
    P.append(Pkt(t + 2 * SEC, eth(over4(41, ip)), s, caplen=14 + 20 + 40 + 24 + 24))
    ip, s = syn4(WS[2], EXT[2], 53103, 1883, 0xE13)
    P.append(Pkt(t + 3 * SEC, eth(over4(47, gre(0x22EB, erspan3(eth_ip(ip, src=mac(1),
                                                                     dst=mac(2)), o=True),
                                                seq=1))), s,
                 caplen=14 + 20 + 8 + 20 + 14 + 20 + 22))
    c.pcap(P, 1, snaplen=96)
    return c


@case
def retransmit():
    c = Case('retransmit', 'SYN retransmissions folded: one attempt sent at t+0,1,3,7,15,31,63 '
             's (1 record), same 4-tuple with a new ISN (new record), the same again 200 s '
             'after its previous SYN (new record); an IPv4 retransmission with IPv6 traffic between '
             'the copies (folded)')
    t = T(2026, 3, 13, 22, 0, 0, 333 * US)
    P = []
    a = (WS[9], EXT[9], 51000, 8883)
    ip, s = syn4(*a, 0x5EED0001)
    other_n = [0]

    def other(ts):
        n = other_n[0]
        other_n[0] += 1
        ip2, s2 = syn4(WS[10], EXT[n % 10], 52000 + n, 443, 0x1000 + n)
        P.append(Pkt(ts, eth_ip(ip2), s2))

    for d in (0, 1, 3, 7, 15, 31, 63):
        P.append(Pkt(t + d * SEC, eth_ip(ip), s))
        other(t + d * SEC + 500 * MS)
    ip, s = syn4(*a, 0x5EED0002)
    P.append(Pkt(t + 70 * SEC, eth_ip(ip), s))
    P.append(Pkt(t + 270 * SEC, eth_ip(ip), s))
    # the same ISN from another source port is another attempt
    ip, s = syn4(WS[9], EXT[9], 51001, 8883, 0x5EED0002)
    P.append(Pkt(t + 271 * SEC, eth_ip(ip), s))
    # the same SYN seen on two VLANs of the span (both sides of a router): folded
    ip, s = syn4(WS[11], EXT[8], 51003, 5671, 0x5EED0004)
    P.append(Pkt(t + 275 * SEC, eth_ip(ip, [vlan(10)]), s, [10]))
    P.append(Pkt(t + 275 * SEC + 180 * US, eth_ip(ip, [vlan(20)]), s, [20]))
    # IPv6: a retransmission 3 s later is folded as well
    ip, s = syn6(WS6[9], EXT6[9], 51002, 5222, 0x5EED0003)
    P.append(Pkt(t + 280 * SEC, eth_ip(ip), s))
    P.append(Pkt(t + 283 * SEC, eth_ip(ip), s))
    # dual stack: an IPv6 packet between two copies of an IPv4 SYN changes nothing
    # (an IPv4 record's address bytes beyond the first 4 must not keep IPv6 leftovers)
    ip, s = syn4(WS[11], EXT[7], 51004, 61614, 0x5EED0005)
    P.append(Pkt(t + 290 * SEC, eth_ip(ip), s))
    P.append(Pkt(t + 291 * SEC, eth_ip(ip_of(WS6[10], EXT6[5], 6,
                                             seg_of(WS6[10], EXT6[5], 51009, 443, 1, 1, ACK)))))
    P.append(Pkt(t + 292 * SEC, eth_ip(ip), s))
    c.pcap(P, 1)
    c.stats = {'syn_retransmit': 9}
    return c


@case
def retransmit_window():
    c = Case('retransmit-window', 'fold window edge: a SYN exactly 130 s after the previous '
             'one is folded; 130.000001 s after is a new record; a chain of retransmissions '
             'each < 130 s apart stays one record past 130 s from the first')
    t = T(2026, 3, 13, 23, 0, 0, 0)
    P = []
    ip, s = syn4(WS[8], EXT[8], 51100, 1883, 0x0130)
    P.append(Pkt(t, eth_ip(ip), s))
    P.append(Pkt(t + 130 * SEC, eth_ip(ip), s))             # exactly 130 s: folded
    P.append(Pkt(t + 260 * SEC + US, eth_ip(ip), s))        # 130.000001 s: new record
    ip, s = syn4(WS[8], EXT[8], 51101, 1883, 0x0131)
    for d in (0, 100, 200, 300):
        P.append(Pkt(t + 400 * SEC + d * SEC, eth_ip(ip), s))
    c.pcap(P, 1)
    c.stats = {'syn_retransmit': 4}
    return c


@case
def truncated():
    c = Case('truncated', 'snap length and lying lengths: cut in the Ethernet header, in the '
             'IPv4/IPv6 header, in the first 20 TCP bytes (no record), in TCP options or '
             'payload (record); total/payload length > wire length, IHL < 5, data offset < 5, '
             'data offset beyond the segment (invalid)')
    t = T(2026, 3, 14, 4, 0, 0, 777 * US)
    P = []

    def add(frame, syn=None, caplen=None):
        P.append(Pkt(t + len(P) * SEC, frame, syn, caplen=caplen))

    def mk(n, **kw):
        return syn4(WS[n], EXT[n], 53000 + n, BROKER_PORTS[n % 9], 0xD0 + n, **kw)

    ip, s = mk(0)
    add(eth_ip(ip), None, caplen=10)                 # inside the Ethernet header
    ip, s = mk(1)
    add(eth_ip(ip), None, caplen=14 + 12)            # inside the IPv4 header
    ip, s = mk(2)
    add(eth_ip(ip), None, caplen=14 + 20 + 12)       # inside the first 20 TCP bytes
    ip, s = mk(3)
    add(eth_ip(ip), s, caplen=14 + 20 + 20)          # exactly 20 TCP bytes, options cut
    ip, s = mk(4)
    add(eth_ip(ip), s, caplen=14 + 20 + 27)          # inside the TCP options
    ip, s = mk(5, opts=b'', payload=bytes(range(100)))
    add(eth_ip(ip), s, caplen=68)                    # tcpdump -s 68: payload cut
    ip6, s6 = syn6(WS6[0], EXT6[0], 53010, 5222, 0xE0)
    add(eth_ip(ip6), None, caplen=14 + 30)           # inside the IPv6 header
    ip6, s6 = syn6(WS6[1], EXT6[1], 53011, 5222, 0xE1)
    add(eth_ip(ip6), None, caplen=14 + 40 + 19)      # 19 TCP bytes
    ip6, s6 = syn6(WS6[2], EXT6[2], 53012, 5222, 0xE2)
    add(eth_ip(ip6), s6, caplen=14 + 40 + 21)        # 21 TCP bytes
    # lies: total length beyond the wire
    ip, s = mk(6, opts=b'')
    ip = ipv4(WS[6], EXT[6], 6, ip[20:], tot_len=100)
    add(eth_ip(ip))
    ip6, s6 = syn6(WS6[3], EXT6[3], 53013, 5222, 0xE3, opts=b'')
    ip6 = ipv6(WS6[3], EXT6[3], 6, ip6[40:], plen=120)
    add(eth_ip(ip6))
    # IHL 4
    ip, s = mk(7)
    ip = ipv4(WS[7], EXT[7], 6, ip[20:], ihl=4)
    add(eth_ip(ip))
    # TCP data offset 4, and 15 (60 bytes) in a 40-byte segment
    seg = tcp(WS[8], EXT[8], 53008, 5672, 0xD8, 0, SYN, opts=syn_opts(), doff=4)
    add(eth_ip(ipv4(WS[8], EXT[8], 6, seg)))
    seg = tcp(WS[8], EXT[8], 53009, 5672, 0xD9, 0, SYN, opts=syn_opts(), doff=15)
    add(eth_ip(ipv4(WS[8], EXT[8], 6, seg)))
    c.pcap(P, 1, snaplen=65535)
    c.stats = {'tcp_truncated': 2, 'ipv4_invalid': 2, 'tcp_invalid': 2, 'ipv4_truncated': 1,
               'ipv6_truncated': 1, 'ipv6_invalid': 1, 'link_truncated': 1}
    return c


NG_NAME_LONG = 'span-port-uplink-to-core-switch-01-mirror'
NG_NAME_ODD = 'tap"7\\b'


@case
def pcapng_multi():
    c = Case('pcapng-multi', 'pcapng: a big-endian section then a little-endian one; '
             'interfaces of link types Ethernet, raw, NULL; if_tsresol 10^-9 and 2^-20, '
             'if_tsoffset, if_name (escaped, cut to 31 bytes); EPB, SPB, OPB; NRB, ISB, '
             'custom blocks skipped')
    g = Ng()
    base = T(2026, 4, 1, 0, 0, 0) // SEC
    # section 1: big-endian
    g.shb('>', opts=[(2, b'x86_64'), (3, b'Linux 6.1'), (4, b'pcapgen')])
    g.idb(1, 262144, name='eth0', more=[(3, b'mirror of uplink')])  # microseconds
    g.idb(101, 0, name=NG_NAME_ODD, tsresol=9)
    g.idb(0, 65535, tsresol=0x94, tsoffset=base)                     # 2^-20 s, offset
    g.nrb([('203.0.113.5', 'mqtt.example.net'), ('2001:db8:ffff::5', 'xmpp.example.net')])
    us = (base + 3600) * 10**6 + 123456
    ip, s = syn4(WS[0], EXT[0], 54000, 1883, 0x101)
    g.epb(0, us, eth_ip(ip), s, opts=[(1, b'first SYN'), (2, struct.pack('>I', 1))])
    g.epb(0, us + 1500, eth_ip(ipv4(EXT[0], WS[0], 6, seg_of(EXT[0], WS[0], 1883, 54000, 9,
                                                               0x102, SYN | ACK))))
    ip, s = syn4(WS[1], EXT[1], 54001, 5222, 0x103)
    g.spb(eth_ip(ip), s)
    ns = (base + 3601) * 10**9 + 987654321
    ip, s = syn6(WS6[0], EXT6[0], 54002, 5671, 0x104)
    g.epb(1, ns, ip, s)
    g.custom(0x00000BAD, 32473, b'custom block, copy me')
    # 2^-20 units: 3602 s + 0.6 s-ish after the offset, chosen mid-microsecond
    units = 3602 * 2**20 + 629146
    ip, s = syn4('127.0.0.1', '127.0.0.1', 54003, 61613, 0x105)
    g.epb(2, units, struct.pack('>I', 2) + ip, s)
    ip, s = syn4(WS[2], EXT[2], 54004, 5672, 0x106)
    g.opb(1, ns + 2 * SEC + 5, ip, s)
    g.isb(0, us + 10**7, 3, 0)
    # section 2: little-endian, interface numbers start again at 0
    g.shb('<')
    g.idb(1, 64, name=NG_NAME_LONG)                  # snaplen 64
    g.idb(101, 65535, tsresol=6)
    g.idb(0, 65535, name='lo0', tsresol=3)            # milliseconds
    ms = (base + 7200) * 1000 + 5
    ip, s = syn4(WS[3], EXT[3], 54005, 8883, 0x107)
    g.epb(0, ms * 1000 + 1, eth_ip(ip, [vlan(12)]), s, [12], caplen=64)
    ip, s = syn4(WS[4], EXT[4], 54008, 8883, 0x10A)
    g.spb(eth_ip(ip), s)                              # 74 bytes, 64 kept
    ip, s = syn6(WS6[3], EXT6[3], 54006, 5269, 0x108)
    g.epb(1, ms * 1000 + 2, ip, s)
    g.custom(0x40000BAD, 32473, b'do not copy')
    ip, s = syn6('::1', '::1', 54007, 5223, 0x109)
    g.epb(2, ms + 3, struct.pack('<I', 30) + ip, s)
    g.isb(2, ms + 4, 1, 0)
    c.ng(g)
    c.stats = {'no_timestamp': 2, 'link_ethernet': 5, 'link_raw': 3, 'link_null': 2}
    return c


@case
def pcapng_unsupported():
    c = Case('pcapng-unsupported', 'pcapng with an IEEE 802.11 (105) interface beside an '
             'Ethernet one: records of the Ethernet one, exit 65, the link type named')
    g = Ng()
    g.shb('<')
    g.idb(105, 65535)
    g.idb(1, 65535, name='eth1')
    t = T(2026, 4, 2, 12, 0, 0) // US
    ip, s = syn4(WS[0], EXT[0], 55000, 1883, 0x201)
    g.epb(1, t, eth_ip(ip), s)
    ip, _ = syn4(WS[1], EXT[1], 55001, 1883, 0x202)
    wlan = (struct.pack('<HH', 0x0208, 0) + MAC_B + MAC_A + MAC_B + struct.pack('<H', 0x10) +
            b'\xaa\xaa\x03\x00\x00\x00\x08\x00' + ip)
    g.epb(0, t + 1000, wlan)
    ip, s = syn4(WS[2], EXT[2], 55002, 1883, 0x203)
    g.epb(1, t + 2000, eth_ip(ip), s)
    c.ng(g)
    c.exit = 65
    c.stats = {'link_unsupported': 1}
    c.stderr = [c.inputs[0], ['105', 'IEEE802_11']]
    return c


@case
def pcapng_resol():
    c = Case('pcapng-resol', 'pcapng time resolutions: 10^0, 10^-3, 10^-6 (explicit), '
             '10^-12 with if_tsoffset, 2^-10, 2^-30 (units * 10^9 overflows 64 bits), a '
             'negative if_tsoffset, an unknown IDB option before if_tsresol; all truncated '
             'to microseconds')
    g = Ng()
    g.shb('<')
    base = T(2026, 7, 14, 10, 0, 0) // SEC
    unk = [(0x2bad, b'xyz')]
    g.idb(101, 0, tsresol=0, more=unk)                                    # 0: seconds
    g.idb(101, 0, tsresol=3)                                              # 1: ms
    g.idb(101, 0, tsresol=6)                                              # 2: us
    g.idb(101, 0, tsresol=12, tsoffset=base)                              # 3: ps + offset
    g.idb(101, 0, tsresol=0x80 | 10)                                      # 4: 2^-10
    g.idb(101, 0, tsresol=0x80 | 30)                                      # 5: 2^-30
    g.idb(101, 0, tsresol=9, tsoffset=-86400)                             # 6: ns, -1 day
    units = [base + 1,
             (base + 2) * 1000 + 999,
             (base + 3) * 10**6 + 999999,
             4 * 10**12 + 123456789999,
             (base + 5) * 1024 + 1023,
             (base + 6) * 2**30 + 2**30 - 1,
             (base + 7 + 86400) * 10**9 + 999999999]
    for i, u in enumerate(units):
        ip, s = syn4(WS[i], EXT[i], 64000 + i, BROKER_PORTS[i], 0xB00 + i)
        g.epb(i, u, ip, s)
        if i == 2:
            # the same SYN seen on another interface 1 s later: folded
            g.epb(1, (base + 4) * 1000 + 999, ip, s)
    # an interface described after packets were seen
    g.idb(1, 65535, name='late0', tsresol=9)
    ip, s = syn4(WS[8], EXT[8], 64010, 5671, 0xB10)
    g.epb(7, (base + 10) * 10**9 + 10, eth_ip(ip), s)
    c.ng(g)
    c.stats = {'link_raw': len(units) + 1, 'link_ethernet': 1, 'syn_retransmit': 1}
    return c


@case
def pcap_be_nano():
    c = Case('pcap-be-nano', 'classic pcap, big-endian, nanosecond magic')
    t = T(2026, 5, 2, 20, 0, 0)
    P = []
    for n, frac in enumerate((1, 999999999, 123456789)):
        ip, s = syn6(WS6[n], EXT6[n], 57100 + n, 61613, 0x410 + n)
        P.append(Pkt(t + n * SEC + frac, eth_ip(ip), s))
    c.pcap(P, 1, endian='>', nano=True)
    return c


@case
def empty_captures():
    out = []
    c = Case('pcap-header-only', 'a classic pcap with a file header and no packets: exit 0')
    c.pcap([], 1)
    out.append(c)
    c = Case('pcapng-no-packets', 'a pcapng file with a section header, an interface and '
             'statistics but no packets: exit 0')
    g = Ng()
    g.shb('<')
    g.idb(1, 65535, name='eth0')
    g.isb(0, T(2026, 5, 5) // US, 0, 0)
    c.ng(g)
    out.append(c)
    return out


@case
def pcap_y2038():
    c = Case('pcap-y2038', 'classic pcap seconds are unsigned 32-bit: times at 2^31 s '
             '(2038-01-19T03:14:08Z), in 2040 and at 2^32-1 s (2106-02-07T06:28:15Z)')
    P = []
    for n, sec in enumerate((2**31 - 1, 2**31, T(2040, 2, 29, 12, 0, 0) // SEC, 2**32 - 1)):
        ip, s = syn4(WS[n], EXT[n], 65000 + n, 1883, 0xC00 + n)
        P.append(Pkt(sec * SEC + 654321 * US, eth_ip(ip), s))
    c.pcap(P, 1)
    return c


@case
def pcap_nano():
    c = Case('pcap-nano', 'classic pcap with the nanosecond magic: nanoseconds truncated, '
             'never rounded, to microseconds')
    t = T(2026, 5, 1, 8, 0, 0)
    P = []
    for n, frac in enumerate((123456789, 999, 999999999, 1000, 500, 42000999)):
        ip, s = syn4(WS[n], EXT[n], 56000 + n, BROKER_PORTS[n], 0x300 + n)
        P.append(Pkt(t + n * SEC + frac, eth_ip(ip), s))
    c.pcap(P, 1, nano=True)
    return c


@case
def pcap_be():
    c = Case('pcap-be', 'classic pcap written big-endian (microseconds)')
    t = T(2026, 5, 2, 19, 59, 59, 999999 * US)
    P = []
    ip, s = syn4(WS[0], EXT[0], 57000, 5222, 0x401)
    P.append(Pkt(t, eth_ip(ip), s))
    ip, s = syn6(WS6[0], EXT6[0], 57001, 61614, 0x402)
    P.append(Pkt(t + 1 * US, eth_ip(ip, [vlan(1000)]), s, [1000]))
    ip, s = syn4(WS[1], EXT[1], 57002, 1883, 0x403)
    P.append(Pkt(t + 2 * SEC, eth_ip(ip), s))
    c.pcap(P, 1, endian='>')
    return c


@case
def fold_split():
    # Two files; the second retransmits a SYN of the first 20 s later: read as one stream
    # (-r A -r B) it is folded, read alone it is a record. Each file is its own case too.
    t = T(2026, 5, 3, 7, 0, 0, 0)
    a = Case('fold-a', 'first of two files read as one stream (see fold-split)')
    ip, s = syn4(WS[3], EXT[3], 58000, 5671, 0x501)
    ip2, s2 = syn4(WS[4], EXT[4], 58001, 61613, 0x502)
    a.pcap([Pkt(t, eth_ip(ip), s), Pkt(t + SEC, eth_ip(ip2), s2)], 1)
    b = Case('fold-b', 'second of two files read as one stream (see fold-split)')
    ip3, s3 = syn4(WS[5], EXT[5], 58002, 1883, 0x503)
    b.pcap([Pkt(t + 20 * SEC, eth_ip(ip), s), Pkt(t + 21 * SEC, eth_ip(ip3), s3)], 1)
    both = Case('fold-split', '-r fold-a.pcap -r fold-b.pcap: one stream, the fold state '
                'carries over (the retransmission in fold-b is folded)')
    both.inputs = a.inputs + b.inputs
    both.pkts = a.pkts + b.pkts
    both.stats = {'syn_retransmit': 1}
    return [a, b, both]


@case
def bad_inputs():
    out = []
    t = T(2026, 6, 1, 0, 0, 0, 0)

    def good(n):
        ip, s = syn4(WS[n], EXT[n], 59000 + n, 1883, 0x600 + n)
        return Pkt(t + n * SEC, eth_ip(ip), s)

    # cut inside the data of packet 4
    c = Case('bad-cut', 'classic pcap cut in the middle of packet 4: the records before it, '
             'exit 65, "packet 4"')
    P = [good(0), Pkt(t + 500 * MS, eth(b'\0' * 46, 0x0806)), good(1), good(2)]
    data = pcap_file(P, 1)
    c.files['bad-cut.pcap'] = data[:len(data) - 30]
    c.inputs = ['bad-cut.pcap']
    c.pkts = P[:3]
    c.exit = 65
    c.stderr = ['bad-cut.pcap', 'packet 4']
    out.append(c)

    c = Case('bad-cut-header', 'classic pcap cut inside a packet record header (packet 3)')
    P = [good(0), good(1), good(2)]
    data = pcap_file(P, 1)
    first_two = 24 + 2 * (16 + len(P[0].data))
    c.files['bad-cut-header.pcap'] = data[:first_two + 9]
    c.inputs = ['bad-cut-header.pcap']
    c.pkts = P[:2]
    c.exit = 65
    c.stderr = ['bad-cut-header.pcap', 'packet 3']
    out.append(c)

    c = Case('bad-cut-ng', 'pcapng cut in the middle of its second packet block')
    g = Ng()
    g.shb('<')
    g.idb(1, 65535)
    for n in range(3):
        p = good(n)
        g.epb(0, p.ts // US, p.data, p.syn)
    data = g.bytes()
    c.files['bad-cut-ng.pcapng'] = data[:len(data) - len(g.out[-1]) - 40]
    c.inputs = ['bad-cut-ng.pcapng']
    c.pkts = g.pkts[:1]
    c.exit = 65
    c.stderr = ['bad-cut-ng.pcapng', 'packet 2']
    out.append(c)

    c = Case('bad-text', 'a text file: exit 65, "not a capture"')
    c.files['bad-text.txt'] = (b'This is not a packet capture.\n'
                               b'timestamp,src,dst,sport,dport\n'
                               b'2026-06-01T00:00:00Z,10.1.10.11,203.0.113.5,59000,1883\n')
    c.inputs = ['bad-text.txt']
    c.exit = 65
    c.stderr = ['bad-text.txt', 'not a capture']
    out.append(c)

    c = Case('bad-empty', 'an empty file: exit 65')
    c.files['bad-empty.pcap'] = b''
    c.inputs = ['bad-empty.pcap']
    c.exit = 65
    c.stderr = ['bad-empty.pcap']
    out.append(c)

    c = Case('bad-short-header', 'a classic pcap file header cut after 12 bytes: exit 65')
    c.files['bad-short-header.pcap'] = pcap_file([], 1)[:12]
    c.inputs = ['bad-short-header.pcap']
    c.exit = 65
    c.stderr = ['bad-short-header.pcap']
    out.append(c)

    c = Case('bad-linktype', 'classic pcap of link type 127 (radiotap): exit 65, the link '
             'type named, no record')
    ip, _ = syn4(WS[1], EXT[1], 59100, 1883, 0x650)
    rt = struct.pack('<BBHI', 0, 0, 8, 0)
    wlan = (struct.pack('<HH', 0x0108, 0) + MAC_B + MAC_A + MAC_B + struct.pack('<H', 0x10) +
            b'\xaa\xaa\x03\x00\x00\x00\x08\x00' + ip)
    P = [Pkt(t, rt + wlan)]
    c.files['bad-linktype.pcap'] = pcap_file(P, 127)
    c.inputs = ['bad-linktype.pcap']
    c.exit = 65
    c.count_packets = False
    c.stderr = ['bad-linktype.pcap', ['IEEE802_11_RADIO', '127']]
    out.append(c)

    c = Case('bad-caplen', 'packet 3 claims a capture length of 300000 (> 256 KiB): '
             'the two records before it, exit 65, "packet 3"')
    P = [good(0), good(1)]
    data = pcap_file(P, 1)
    p = good(2)
    data += struct.pack('<IIII', p.ts // SEC, p.ts % SEC // US, 300000, 300000) + p.data
    c.files['bad-caplen.pcap'] = data
    c.inputs = ['bad-caplen.pcap']
    c.pkts = P
    c.exit = 65
    c.stderr = ['bad-caplen.pcap', 'packet 3']
    out.append(c)

    c = Case('bad-epb-caplen', 'pcapng whose second packet block claims a captured length '
             'larger than the block: the record before it, exit 65, "packet 2"')
    g = Ng()
    g.shb('<')
    g.idb(1, 65535)
    p = good(0)
    g.epb(0, p.ts // US, p.data, p.syn)
    kept = list(g.pkts)
    p = good(1)
    g.epb(0, p.ts // US, p.data, p.syn)
    blk = bytearray(g.out[-1])
    blk[20:24] = struct.pack('<I', len(p.data) + 200)
    g.out[-1] = bytes(blk)
    p = good(2)
    g.epb(0, p.ts // US, p.data, p.syn)
    c.files['bad-epb-caplen.pcapng'] = g.bytes()
    c.inputs = ['bad-epb-caplen.pcapng']
    c.pkts = kept
    c.exit = 65
    c.stderr = ['bad-epb-caplen.pcapng', 'packet 2']
    out.append(c)

    c = Case('bad-blocklen', 'pcapng whose second packet block has a trailing length '
             'different from its leading one: the record before it, exit 65, "packet 2"')
    g = Ng()
    g.shb('<')
    g.idb(1, 65535)
    p = good(0)
    g.epb(0, p.ts // US, p.data, p.syn)
    kept = list(g.pkts)
    p = good(1)
    g.epb(0, p.ts // US, p.data, p.syn)
    blk = bytearray(g.out[-1])
    blk[-4:] = struct.pack('<I', len(blk) + 4)
    g.out[-1] = bytes(blk)
    p = good(2)
    g.epb(0, p.ts // US, p.data, p.syn)
    c.files['bad-blocklen.pcapng'] = g.bytes()
    c.inputs = ['bad-blocklen.pcapng']
    c.pkts = kept
    c.exit = 65
    c.stderr = ['bad-blocklen.pcapng', 'packet 2']
    out.append(c)
    return out


@case
def multi_inputs():
    """Cases made of other cases' files: set after all captures exist (see main)."""
    out = []
    c = Case('multi-bad-then-good', '-r bad-cut.pcap -r pcap-be.pcap: every file is read, '
             'records of both, exit 65 (the first problem)')
    c.inputs = ['bad-cut.pcap', 'pcap-be.pcap']
    c.exit = 65
    c.stderr = ['bad-cut.pcap', 'packet 4']
    c.extra_records = ('bad-cut', 'pcap-be')
    out.append(c)
    c = Case('multi-missing', '-r missing.pcap -r bad-text.txt -r pcap-be.pcap: exit 66 '
             '(the first problem), the good file still read')
    c.inputs = ['missing.pcap', 'bad-text.txt', 'pcap-be.pcap']
    c.exit = 66
    c.stderr = ['missing.pcap', 'bad-text.txt']
    c.extra_records = ('pcap-be',)
    out.append(c)
    c = Case('multi-text-then-missing', '-r bad-text.txt -r missing.pcap: exit 65, the '
             'status of the first problem')
    c.inputs = ['bad-text.txt', 'missing.pcap']
    c.exit = 65
    c.stderr = ['bad-text.txt', 'missing.pcap']
    c.extra_records = ()
    out.append(c)
    c = Case('usage-missing-arg', '-r without its file name at the end: exit 64')
    c.inputs = ['pcap-be.pcap']
    c.args = ['-r']
    c.exit = 64
    c.extra_records = ()
    out.append(c)
    c = Case('usage', 'an unknown option: exit 64')
    c.inputs = ['pcap-be.pcap']
    c.args = ['--no-such-option']
    c.exit = 64
    c.extra_records = ()
    out.append(c)
    return out


# --------------------------------------------------------------------------
# the demo capture: a span port of a small office

def demo():
    c = Case('demo', 'README quick start: a small office span port over a few hours of '
             '2026-11-17 - web, DNS, SMB, an internal MQTT broker, a beaconing implant '
             'on MQTT/TLS, XMPP, AMQP over IPv6, STOMP, a VLAN-tagged segment, one '
             'retransmitted SYN')
    rng = Rng(0xB40CE5)
    t0 = T(2026, 11, 17, 8, 0, 0)
    evs = []          # (ts, order, Pkt)
    seqno = [0]
    hosts = []
    for i in range(10):
        h = dict(name='ws%02d' % (i + 1), v4='10.1.%d.%d' % (10 if i < 7 else 20, 21 + i),
                 v6=('2001:db8:10::%x' % (0x21 + i)) if i in (1, 4, 5, 8) else None,
                 mac=bytes([0x3c, 0x22, 0xfb, 0x10, 0x00, 0x21 + i]),
                 vlan=20 if i >= 7 else None)
        hosts.append(h)
    gw_mac = bytes.fromhex('00005e000101')
    dns_srv, smb_srv, int_broker = '10.1.0.53', '10.1.0.20', '10.1.200.10'
    srv_mac = {dns_srv: bytes.fromhex('525400a00035'), smb_srv: bytes.fromhex('525400a00014'),
               int_broker: bytes.fromhex('525400c8000a')}

    def push(ts, frame, syn=None, vids=()):
        seqno[0] += 1
        evs.append((ts, seqno[0], Pkt(ts, frame, syn, vids)))

    def frame_for(h, ip, to_host, peer):
        pmac = srv_mac.get(peer, gw_mac)
        tags = [vlan(h['vlan'])] if h['vlan'] else []
        if to_host:
            return eth(ip, etype(ip), tags, dst=h['mac'], src=pmac), tags
        return eth(ip, etype(ip), tags, dst=pmac, src=h['mac']), tags

    def conn(h, ts, dst, dport, req, resp, fam=4, rtt=None, retrans=0, close=True):
        src = h['v4'] if fam == 4 else h['v6']
        sport = 49152 + rng.below(16000)
        isn = rng.u32()
        sisn = rng.u32()
        rtt = rtt if rtt is not None else (1 + rng.below(40)) * MS if dst.startswith('10.') \
            or dst.startswith('2001:db8:10:') else (12 + rng.below(60)) * MS
        ip, s = (syn4 if fam == 4 else syn6)(src, dst, sport, dport, isn,
                                             opts=syn_opts(tsval=rng.u32()))
        f, tags = frame_for(h, ip, False, dst)
        vids = [h['vlan']] if h['vlan'] else []
        push(ts, f, s, vids)
        for r in range(retrans):
            ts += (1 << r) * SEC
            push(ts, f, s, vids)

        def seg(to_host, sq, ak, fl, pl=b''):
            if to_host:
                ipp = ip_of(dst, src, 6, seg_of(dst, src, dport, sport, sq, ak, fl, pl))
            else:
                ipp = ip_of(src, dst, 6, seg_of(src, dst, sport, dport, sq, ak, fl, pl))
            return frame_for(h, ipp, to_host, dst)[0]

        ts += rtt
        push(ts, seg(True, sisn, isn + 1, SYN | ACK))
        ts += 100 * US
        push(ts, seg(False, isn + 1, sisn + 1, ACK))
        cs, ss = isn + 1, sisn + 1
        ts += 200 * US
        push(ts, seg(False, cs, ss, PSH | ACK, req))
        cs += len(req)
        ts += rtt
        push(ts, seg(True, ss, cs, PSH | ACK, resp))
        ss += len(resp)
        ts += 300 * US
        push(ts, seg(False, cs, ss, ACK))
        if close:
            ts += 2 * SEC + rng.below(20) * SEC
            push(ts, seg(False, cs, ss, FIN | ACK))
            ts += rtt
            push(ts, seg(True, ss, cs + 1, FIN | ACK))
            ts += 100 * US
            push(ts, seg(False, cs + 1, ss + 1, ACK))
        return ts

    def dns(h, ts, name, answer):
        qid = rng.below(65536)
        sport = 30000 + rng.below(30000)
        q = ipv4(h['v4'], dns_srv, 17, udp(h['v4'], dns_srv, sport, 53, dns_query(qid, name)),
                 ident=rng.below(65536), df=False)
        push(ts, frame_for(h, q, False, dns_srv)[0])
        r = ipv4(dns_srv, h['v4'], 17, udp(dns_srv, h['v4'], 53, sport,
                                           dns_query(qid, name, 1 if '.' in answer and
                                                     ':' not in answer else 28, answer)),
                 ident=rng.below(65536), df=False)
        push(ts + (300 + rng.below(900)) * US, frame_for(h, r, True, dns_srv)[0])

    def https(h, ts, name, addr, fam=4):
        if fam == 4:
            dns(h, ts, name, addr)
        ts += 2 * MS
        conn(h, ts, addr, 443, tls_client_hello(name, rng), tls_server_hello(rng), fam=fam)

    sites = [('www.example.com', '198.51.100.10'), ('cdn.example.net', '198.51.100.11'),
             ('mail.example.org', '203.0.113.80'), ('api.example.com', '198.51.100.12')]
    sites6 = [('www.example.com', '2001:db8:ffff::10'), ('cdn.example.net', '2001:db8:ffff::11')]

    # ordinary traffic: web browsing, file shares
    for k in range(14):
        h = hosts[rng.below(10)]
        ts = t0 + rng.below(4 * 3600) * SEC + rng.below(10**6) * US
        if h['v6'] and rng.below(3) == 0:
            name, addr = rng.choice(sites6)
            https(h, ts, name, addr, fam=6)
        else:
            name, addr = rng.choice(sites)
            https(h, ts, name, addr)
    for k in range(4):
        h = hosts[rng.below(10)]
        ts = t0 + rng.below(4 * 3600) * SEC + rng.below(10**6) * US
        conn(h, ts, smb_srv, 445, b'\x00\x00\x00\x45\xfeSMB@\x00' + b'\0' * 58,
             b'\x00\x00\x00\x41\xfeSMB@\x00\x01' + b'\0' * 55)
    # the building's IoT gateway (ws02) and a facilities PC (ws04) talk to the internal broker
    for k in range(5):
        ts = t0 + (10 + k * 43) * 60 * SEC + rng.below(10**6) * US
        conn(hosts[1], ts, int_broker, 1883, mqtt_connect('gw-hvac-01'), b'\x20\x02\x00\x00')
    conn(hosts[3], t0 + 95 * 60 * SEC + 5 * MS, int_broker, 1883, mqtt_connect('fm-console'),
         b'\x20\x02\x00\x00')
    # the beacon: ws07 opens MQTT over TLS to 203.0.113.50 every ~30 min
    for k in range(7):
        ts = t0 + (7 + k * 33) * 60 * SEC + rng.below(90) * SEC + rng.below(10**6) * US
        dns(hosts[6], ts, 'telemetry-cdn.example.net', '203.0.113.50')
        conn(hosts[6], ts + 3 * MS, '203.0.113.50', 8883,
             tls_client_hello('telemetry-cdn.example.net', rng), tls_server_hello(rng))
    # XMPP to the internet twice from ws03; the first SYN is retransmitted once
    conn(hosts[2], t0 + 62 * 60 * SEC + 250 * MS, '198.51.100.23', 5222,
         b"<?xml version='1.0'?><stream:stream to='chat.example.org' version='1.0' "
         b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
         b"<?xml version='1.0'?><stream:stream from='chat.example.org' id='c2s_1' "
         b"version='1.0' xmlns='jabber:client'>", retrans=1)
    conn(hosts[2], t0 + 171 * 60 * SEC + 40 * MS, '198.51.100.23', 5222,
         b"<?xml version='1.0'?><stream:stream to='chat.example.org' version='1.0'>",
         b"<stream:stream from='chat.example.org' id='c2s_2'>")
    # AMQP over TLS, IPv6, once, from ws05
    conn(hosts[4], t0 + 133 * 60 * SEC + 777 * MS, '2001:db8:ffff::25', 5671,
         tls_client_hello('amqp.example.net', rng), tls_server_hello(rng), fam=6)
    # STOMP from ws09 (VLAN 20) three times
    for k in range(3):
        conn(hosts[8], t0 + (20 + k * 71) * 60 * SEC + rng.below(10**6) * US, '198.51.100.77',
             61613, b'CONNECT\naccept-version:1.2\nhost:queue.example.com\n\n\x00',
             b'CONNECTED\nversion:1.2\n\n\x00')
    # a one-off MQTT connection to a public test broker from ws10 (VLAN 20)
    conn(hosts[9], t0 + 200 * 60 * SEC + 3 * MS, '203.0.113.99', 1883,
         mqtt_connect('mqttx_5f3a'), b'\x20\x02\x00\x00')
    evs.sort(key=lambda e: (e[0], e[1]))
    P = [e[2] for e in evs]
    c.pcap(P, 1, fname='demo.pcap')
    c.stats = {'link_ethernet': len(P), 'syn_retransmit': 1}
    return c


CASES.append(demo)


# --------------------------------------------------------------------------
# writing, checking


def build_all():
    cases = []
    for fn in CASES:
        r = fn()
        cases.extend(r if isinstance(r, list) else [r])
    by_name = {c.name: c for c in cases}
    assert len(by_name) == len(cases), 'duplicate case names'
    return cases, by_name


def write_all(outdir):
    cases, by_name = build_all()
    files = {}
    for c in cases:
        for fname, data in c.files.items():
            assert fname not in files, fname
            files[fname] = data
    expects = {}
    for c in cases:
        e = c.expectation()
        if isinstance(c.extra_records, tuple):
            recs = []
            for other in c.extra_records:
                recs.extend(by_name[other].expectation()['records'])
            e['records'] = recs
            e['stats'] = {'records': len(recs)} if c.exit != 64 else {}
        expects[c.name] = e
        files[c.name + '.expect.json'] = (json.dumps(e, indent=1) + '\n').encode()
    lines = ['# pcaps/ - brokerwatch\'s own test captures', '',
             'Written by `tests/gen/pcapgen.py`; do not edit by hand (the test',
             '`pcapgen-reproducible` fails if these files differ from what it writes).',
             'Each `NAME.expect.json` gives the inputs, the exit status, the exact',
             'record lines and some counters `tests/replay/golden.py` checks.', '',
             '| case | inputs | records | exit | what it tests |', '|---|---|---|---|---|']
    for c in sorted(cases, key=lambda c: c.name):
        e = expects[c.name]
        lines.append('| %s | %s | %d | %d | %s |' % (c.name, ' '.join(e['inputs']),
                                                    len(e['records']), e['exit'],
                                                    c.desc.replace('|', '/')))
    files['README.md'] = ('\n'.join(lines) + '\n').encode()
    os.makedirs(outdir, exist_ok=True)
    for fname in sorted(files):
        with open(os.path.join(outdir, fname), 'wb') as f:
            f.write(files[fname])
    return sorted(files)


def check(d):
    tmp = tempfile.mkdtemp(prefix='pcapgen-')
    try:
        names = set(write_all(tmp))
        have = set(n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n))) \
            if os.path.isdir(d) else set()
        bad = False
        for n in sorted(names - have):
            print('missing: %s' % os.path.join(d, n))
            bad = True
        for n in sorted(have - names):
            print('extra (not written by pcapgen.py): %s' % os.path.join(d, n))
            bad = True
        for n in sorted(names & have):
            if not filecmp.cmp(os.path.join(tmp, n), os.path.join(d, n), shallow=False):
                print('differs: %s' % os.path.join(d, n))
                bad = True
        if bad:
            print('pcapgen: %s is not what tests/gen/pcapgen.py writes; run it to rewrite' % d)
            return 1
        print('pcapgen: %d files in %s are exactly what the generator writes' % (len(names), d))
        return 0
    finally:
        shutil.rmtree(tmp)


def tshark_check(d):
    """Prints, per capture, the SYNs tshark sees beside the number the generator put in."""
    if shutil.which('tshark') is None:
        print('tshark not found')
        return 77
    _, by_name = build_all()
    for name in sorted(by_name):
        c = by_name[name]
        if not c.files:
            continue
        nsyn = sum(1 for p in c.pkts if p.syn is not None)
        for fname in c.files:
            path = os.path.join(d, fname)
            r = subprocess.run(['tshark', '-n', '-r', path, '-Y',
                                'tcp.flags.syn==1 && tcp.flags.ack==0', '-T', 'fields',
                                '-e', 'frame.number', '-e', 'frame.time_epoch',
                                '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport',
                                '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport',
                                '-e', 'vlan.id'], capture_output=True, text=True)
            rows = [x for x in r.stdout.splitlines() if x.strip()]
            err = ' '.join(x for x in r.stderr.splitlines()
                           if x.strip() and not x.startswith('Running as user'))
            print('== %s: generator SYNs %d, tshark SYN frames %d%s' % (
                fname, nsyn, len(rows), (' (tshark: %s)' % err[:200]) if err else ''))
            for row in rows:
                print('   ' + row.replace('\t', ' | '))
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.normpath(os.path.join(here, '..', '..', 'pcaps'))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('dir', nargs='?', default=default)
    ap.add_argument('--check', metavar='DIR')
    ap.add_argument('--tshark', metavar='DIR')
    a = ap.parse_args()
    if a.check:
        return check(a.check)
    if a.tshark:
        return tshark_check(a.tshark)
    names = write_all(a.dir)
    total = sum(os.path.getsize(os.path.join(a.dir, n)) for n in names)
    print('pcapgen: wrote %d files (%d bytes) to %s' % (len(names), total, a.dir))
    return 0


if __name__ == '__main__':
    sys.exit(main())
