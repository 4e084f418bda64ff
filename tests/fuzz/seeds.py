import struct, sys, os, subprocess
# classic pcap only, little endian; map linktype -> selector index
sel = {1:0, 113:1, 276:2, 101:3, 228:4, 229:5, 0:6, 108:7}
out = sys.argv[1]
n = 0
for f in sys.argv[2:]:
    b = open(f,'rb').read()
    if len(b) < 24: continue
    magic = struct.unpack('<I', b[:4])[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d): continue
    lt = struct.unpack('<I', b[20:24])[0] & 0xffff
    if lt not in sel: continue
    off = 24; seed = b''
    while off + 16 <= len(b):
        cl = struct.unpack('<I', b[off+8:off+12])[0]
        if cl > 65535 or off+16+cl > len(b): break
        seed += bytes([sel[lt]]) + struct.pack('>H', cl) + b[off+16:off+16+cl]
        off += 16 + cl
        if len(seed) > 20000:
            open(os.path.join(out, 's%04d' % n), 'wb').write(seed); n += 1; seed = b''
    if seed:
        open(os.path.join(out, 's%04d' % n), 'wb').write(seed); n += 1
print(n, 'seeds')
