#!/usr/bin/env python3
"""Seed corpora for the fuzz targets: the hostile cases the tests name
(looped and over-long chains, indices beyond the queue, overflowing
lengths, addresses outside guest memory, nested indirect tables, a spoofed
source) and well-formed inputs to mutate from.

usage: make-seeds.py OUT_DIR   (writes OUT_DIR/rings/* and OUT_DIR/vhost-user/*)
"""
import os
import struct
import sys

NUM = 16
DATA = 0x8000  # RH_DATA_START: where the input's memory part lands
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4
T_TEST_DATA, T_PING = 0x7F00, 0x0010


def hdr(type_, dst, length, src=0, version=1, flags=0, reserved=0):
    return struct.pack("<HHIIIIIQQII", version, type_, flags, src, dst, 0, 0, 1, 0, length, reserved)


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def ring_input(descs, heads, memory=b"", mode=0, rx=b""):
    table = b"".join(descs).ljust(NUM * 16, b"\0")
    avail = struct.pack("<HH", 0, len(heads)) + b"".join(struct.pack("<H", h) for h in heads)
    avail = avail.ljust(4 + 2 * NUM, b"\0")
    return bytes([mode]) + table + avail + rx + memory


def rings():
    msg = hdr(T_TEST_DATA, 2, 4) + b"abcd"
    two = hdr(T_TEST_DATA, 2, 4) + b"abcd" + b"\0" * 12 + hdr(T_TEST_DATA, 3, 0)
    yield "valid", ring_input([desc(DATA, len(msg))], [0], msg)
    yield "valid-two", ring_input([desc(DATA, 52), desc(DATA + 64, 48)], [0, 1], two)
    yield "valid-split", ring_input([desc(DATA, 48, F_NEXT, 1), desc(DATA + 48, 4)], [0], msg)
    yield "ping", ring_input([desc(DATA, 56)], [0], hdr(T_PING, 3, 8) + b"12345678")
    yield "spoofed-source", ring_input([desc(DATA, len(msg))], [0], hdr(T_TEST_DATA, 2, 4, src=3) + b"abcd")
    yield "looped-chain", ring_input([desc(DATA, 48, F_NEXT, 1), desc(DATA, 48, F_NEXT, 0)], [0], msg)
    yield "head-beyond-queue", ring_input([desc(DATA, 52)], [NUM + 5], msg)
    yield "next-beyond-queue", ring_input([desc(DATA, 48, F_NEXT, 200)], [0], msg)
    yield "address-outside", ring_input([desc(0x200000, 52)], [0], msg)
    yield "address-straddles-end", ring_input([desc(0x100000 - 16, 52)], [0], msg)
    yield "length-overflow", ring_input([desc(DATA, 48, F_NEXT, 1), desc(DATA, 0xFFFFFFFF)], [0], msg)
    yield "header-len-huge", ring_input([desc(DATA, 52)], [0], hdr(T_TEST_DATA, 2, 0xFFFFFFF0) + b"abcd")
    table_at, inner_at = DATA + 0x1000, DATA + 0x2000
    mem = msg.ljust(0x1000, b"\0") + desc(inner_at, 16, F_INDIRECT).ljust(0x1000, b"\0") + desc(table_at, 16, F_INDIRECT)
    yield "nested-indirect", ring_input([desc(table_at, 16, F_INDIRECT)], [0], mem)
    chain = b"".join(desc(DATA, 1, F_NEXT, i + 1) for i in range(300))
    yield "over-long-indirect", ring_input([desc(table_at, 300 * 16, F_INDIRECT)], [0], msg.ljust(0x1000, b"\0") + chain)
    yield "writable-in-tx", ring_input([desc(DATA, 48, F_NEXT, 1), desc(DATA + 64, 4, F_WRITE)], [0], msg)
    rx = b"".join([desc(0x30000, 64, F_WRITE), desc(0x40000, 0xFFFFFFFF, F_WRITE)]).ljust(NUM * 16, b"\0")
    rx += struct.pack("<HH", 0, 2) + struct.pack("<HH", 0, 1) + b"\0" * (2 * NUM - 4)
    yield "hostile-rx", ring_input([desc(DATA, len(msg))], [0], msg, mode=3, rx=rx)


def vu(request, payload=b"", flags=1, size=None):
    return struct.pack("<III", request, flags, len(payload) if size is None else size) + payload


# fuzz-vhost-user's operations (see its comment): on node 1, or node 2 with N2.
N2 = 8
UNSEALED, PIPE, FD_MORE, FD_LESS = 0x10, 0x20, 0x40, 0x80


def op_msg(request, payload=b"", node=0, bits=0, **kw):
    return bytes([0 | node | bits]) + vu(request, payload, **kw)


def op_mem(gpa, data, node=0, region=0):
    return bytes([1 | node]) + struct.pack("<BIH", region, gpa, len(data)) + data


def op_kick(queue, node=0):
    return bytes([2 | node, queue])


def op_hang_up(node=0):
    return bytes([3 | node])


QVA = 0x7F0000000000
MEM = 0x40000
RX, TX = 0, 1
RING = {RX: (0x0000, 0x1000, 0x2000), TX: (0x4000, 0x5000, 0x6000)}  # desc, avail, used (gpa)


def u64(v):
    return struct.pack("<Q", v)


def state(i, n):
    return struct.pack("<II", i, n)


def mem_table(regions):
    return struct.pack("<II", len(regions), 0) + b"".join(struct.pack("<QQQQ", *r) for r in regions)


def vring_addr(q, base=QVA):
    d, a, u = RING[q]
    return struct.pack("<IIQQQQ", q, 0, base + d, base + u, base + a, 0)


def bring_up(node=0, num=NUM, features=1 << 32 | 1 << 30):
    """QEMU's handshake, one 256 KiB region at gpa 0, both rings of num entries."""
    out = (op_msg(1, node=node) + op_msg(15, node=node) + op_msg(16, u64(1 << 3 | 1 << 9), node=node) +
           op_msg(3, node=node) + op_msg(2, u64(features), node=node) +
           op_msg(5, mem_table([(0, MEM, QVA, 0)]), node=node) +
           op_msg(24, struct.pack("<III", 0, 8, 0) + b"\0" * 8, node=node))
    for q in (RX, TX):
        out += (op_msg(8, state(q, num), node=node) + op_msg(10, state(q, 0), node=node) +
                op_msg(9, vring_addr(q), node=node) + op_msg(13, u64(q), node=node) +
                op_msg(12, u64(q), node=node) + op_msg(18, state(q, 1), node=node))
    return out


def post(node, q, descs, heads, idx):
    """Descriptors at the ring's table, heads made available up to idx."""
    d, a, _ = RING[q]
    out = op_mem(d, b"".join(descs), node)
    ring = b"".join(struct.pack("<H", h) for h in heads)
    return out + op_mem(a, struct.pack("<HH", 0, idx) + ring, node)


def rx_buffers(node, n=4, size=4096):
    return post(node, RX, [desc(0x10000 + i * size, size, F_WRITE) for i in range(n)], list(range(n)), n)


def send(node, msgs):
    """Messages at gpa 0x8000.. of node, one descriptor each, then a kick of its tx."""
    out, descs, at = b"", [], 0x8000
    for m in msgs:
        out += op_mem(at, m, node)
        descs.append(desc(at, len(m)))
        at += (len(m) + 63) & ~63
    return out + post(node, TX, descs, list(range(len(msgs))), len(msgs)) + op_kick(TX, node)


def vhost_user():
    both = bring_up() + bring_up(N2)
    traffic = rx_buffers(0) + rx_buffers(N2) + op_kick(RX) + op_kick(RX, N2)
    yield "handshake", bring_up()
    yield "two-nodes-up", both
    yield "relay-1-to-2", both + traffic + send(0, [hdr(T_TEST_DATA, 2, 4) + b"abcd", hdr(T_PING, 2, 8) + b"12345678"])
    yield "relay-both-ways", both + traffic + send(0, [hdr(T_TEST_DATA, 2, 4) + b"abcd"]) + \
        send(N2, [hdr(T_TEST_DATA, 1, 3) + b"xyz"])
    yield "receiver-without-buffers", both + op_kick(RX) + send(0, [hdr(T_TEST_DATA, 2, 4) + b"abcd"] * 3) + \
        rx_buffers(N2) + op_kick(RX, N2)
    split = op_mem(0x8000, hdr(T_TEST_DATA, 2, 4) + b"abcd") + \
        post(0, TX, [desc(0x8000, 48, F_NEXT, 1), desc(0x8030, 4)], [0], 1) + op_kick(TX)
    yield "split-chain", both + traffic + split
    table = desc(0x8000, 48, F_NEXT, 1) + desc(0x8030, 4)
    indirect = op_mem(0x8000, hdr(T_TEST_DATA, 2, 4) + b"abcd") + op_mem(0x9000, table) + \
        post(0, TX, [desc(0x9000, 32, F_INDIRECT)], [0], 1) + op_kick(TX)
    yield "indirect-chain", bring_up(features=1 << 32 | 1 << 30 | 1 << 28) + bring_up(N2) + traffic + indirect
    yield "event-idx", bring_up(features=1 << 32 | 1 << 30 | 1 << 29) + bring_up(N2) + traffic + \
        send(0, [hdr(T_TEST_DATA, 2, 1) + b"z"])
    # The ring rules on every change: a larger ring, a smaller memory table, new addresses.
    yield "vring-num-grows-past-memory", both + op_msg(8, state(TX, 32768))
    yield "mem-table-shrinks-under-rings", both + traffic + op_msg(5, mem_table([(0, 0x3000, QVA, 0)]))
    yield "vring-addr-outside", both + op_msg(9, vring_addr(TX, base=QVA + MEM - 0x100))
    yield "mem-table-two-regions", bring_up() + op_msg(5, mem_table([(0, 0x20000, QVA, 0), (0x20000, 0x20000, QVA + 0x20000, 0)]))
    yield "mem-table-unsealed", op_msg(5, mem_table([(0, MEM, QVA, 0)]), bits=UNSEALED)
    yield "mem-table-fd-missing", op_msg(5, mem_table([(0, MEM, QVA, 0)]), bits=FD_LESS)
    yield "kick-pipe", bring_up() + op_msg(12, u64(TX), bits=PIPE)
    yield "extra-fd", op_msg(1, bits=FD_MORE)
    yield "reconnect-resumed", both + traffic + send(0, [hdr(T_TEST_DATA, 2, 4) + b"abcd"]) + op_hang_up() + bring_up()
    yield "none-request", op_msg(0)
    yield "vring-num-bad-index", op_msg(8, state(5, 256))
    yield "vring-num-not-power-of-two", op_msg(8, state(0, 100))
    yield "get-vring-base-bad-index", op_msg(11, state(1000, 0))
    yield "size-too-large", op_msg(1, size=0xFFFFFFF0)
    yield "set-config", op_msg(25, struct.pack("<III", 0, 4, 0) + b"\1\0\0\0")
    yield "unknown-request", op_msg(999)
    yield "postcopy", op_msg(28)
    yield "protocol-features-not-offered", op_msg(16, u64(0xFFFF))


def pcapng_block(type_, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", type_, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def trace_msg(type_, payload, event=1, src=1, dst=2):
    return struct.pack("<HHII", 1, 16, event, len(payload)) + b"\0" * 4 + \
        hdr(type_, dst, len(payload), src=src) + payload


def trace():
    """fuzz-trace: 0 + a capture, 1 + a trace ring (tail, head, bytes), 2 + a request line."""
    def u64(v):
        return struct.pack("<Q", v)
    shb = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + b"\0" * 4)
    idb = pcapng_block(1, struct.pack("<HHI", 147, 0, 65536) +
                       struct.pack("<HHB", 9, 1, 9) + b"\0" * 3 + b"\0" * 4)

    def epb(data):
        return pcapng_block(6, struct.pack("<IIIII", 0, 1, 2, len(data), len(data)) + data)
    yield "capture", b"\0" + shb + idb + epb(trace_msg(0x10, u64(1234))) + \
        epb(trace_msg(0x1, struct.pack("<II", 2, 1), src=0)) + \
        epb(struct.pack("<HHIII", 1, 16, 3, 0, 0) + u64(5) + u64(5))
    yield "capture-ethernet", b"\0" + shb + pcapng_block(1, struct.pack("<HHI", 1, 0, 0)) + \
        epb(b"x" * 60)
    head = struct.pack("<HHIQ", 1, 0, 72 + 8, 10)
    ring = head + struct.pack("<II", 1, 8) + hdr(0x10, 2, 8, src=1) + u64(7) + \
        struct.pack("<HHIQ", 2, 0, 32, 11) + u64(3) + u64(3)
    yield "ring", b"\1" + u64(0) + u64(len(ring)) + ring
    # Wrapped: a record at the ring's end, then a PAD, then one at its start.
    wrapped = ring[:80].ljust(4096 - 112, b"\0") + ring[:80] + struct.pack("<HHI", 3, 0, 32) + \
        b"\0" * 24
    yield "ring-wrapped", b"\1" + u64(4096 - 112) + u64(4096 + 80) + wrapped
    # A relay link's records: a capture's packets (pseudo-header of 80, the peer's
    # name) and a ring's record of kind 4 (tracing.md, "Relay links").
    def link_pkt(event, frame, text=b""):
        body = frame if frame else b"\0" * 32 + text
        caplen = len(body) - 32
        return struct.pack("<HHIII", 1, 80, event, caplen, 0) + b"hostB".ljust(64, b"\0") + body
    ping = hdr(0x10, 3, 8, src=1) + u64(77)
    yield "capture-link", b"\0" + shb + idb + epb(link_pkt(6, None)) + \
        epb(link_pkt(4, link_hello())) + epb(link_pkt(5, link_frame(2, ping, seq=1))) + \
        epb(link_pkt(4, link_credits([(1, 0)]))) + \
        epb(link_pkt(7, None, b"closed by the peer"))
    frame = link_frame(2, ping, seq=1)
    size = 120 + len(frame) - 32
    size += -size % 8
    rec = struct.pack("<HHIQ", 4, 0, size, 12) + struct.pack("<II", 5, len(frame) - 32) + \
        b"hostB".ljust(64, b"\0") + frame
    rec = rec.ljust(size, b"\0")
    yield "ring-link", b"\1" + u64(0) + u64(len(rec)) + rec
    yield "request", b"\2trace snaplen=64 buffer=65536"
    yield "request-bad", b"\2trace snaplen=99999999999999999999"


def link_frame(type_, payload=b"", seq=0, ack=0, version=1, flags=0):
    return struct.pack("<HHIQQII", version, type_, len(payload), seq, ack, flags, 0) + payload


def link_hello(session=99, peer_session=0x1234, tx_base=0, first=5, last=8, ack=0):
    return link_frame(1, struct.pack("<IIQQQII", 0x4B4C4D4F, 65536, session, peer_session,
                                     tx_base, first, last), ack=ack)


def link_credits(entries, ack=0):
    return link_frame(4, struct.pack("<II", len(entries), 0) +
                      b"".join(struct.pack("<IIII", n, 1 << 20, f, 0) for n, f in entries), ack=ack)


def link():
    """fuzz-link: a mode byte, then what the peer (nodes 5-8) sends this side (nodes 1-4)."""
    msg = hdr(T_TEST_DATA, 1, 4, src=5) + b"abcd"
    node_up = link_frame(3, struct.pack("<IHH", 6, 1, 1), seq=2)
    creds = link_credits([(5, 0), (6, 0), (7, 0), (8, 0)])
    yield "hello", b"\0" + link_hello()
    yield "hello-data-node", b"\0" + link_hello() + creds + link_frame(2, msg, seq=1, ack=3) + node_up + \
        link_frame(5, ack=7)
    yield "hello-new-peer", b"\0" + link_hello(peer_session=0)
    yield "bytewise", b"\1" + link_hello() + creds + link_frame(2, msg, seq=1)
    yield "held-down-awaited", b"\xc0" + link_hello() + link_frame(2, hdr(T_TEST_DATA, 2, 1, src=6) + b"x", seq=1) + \
        link_frame(2, hdr(T_TEST_DATA, 3, 1, src=7) + b"y", seq=2)
    yield "resend-duplicate", b"\0" + link_hello() + link_frame(2, msg, seq=1) + link_frame(5) + \
        link_hello(tx_base=0) + link_frame(2, msg, seq=1) + link_frame(2, msg, seq=2)
    yield "foreign-source", b"\0" + link_hello() + link_frame(2, hdr(T_TEST_DATA, 1, 4, src=2) + b"abcd", seq=1)
    yield "gap", b"\0" + link_hello() + link_frame(2, msg, seq=5)
    yield "bad-ack", b"\0" + link_hello() + link_frame(5, ack=99)
    yield "credit-flood", b"\x40" + link_hello() + \
        b"".join(link_frame(2, hdr(T_TEST_DATA, 1, 60000, src=5) + b"z" * 60000, seq=i + 1) for i in range(3))


def main():
    out = sys.argv[1]
    for name, gen in (("rings", rings), ("vhost-user", vhost_user), ("trace", trace), ("link", link)):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for seed, data in gen():
            with open(os.path.join(out, name, seed), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
