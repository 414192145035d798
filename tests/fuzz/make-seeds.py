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


def vhost_user():
    u64 = lambda v: struct.pack("<Q", v)
    state = lambda i, n: struct.pack("<II", i, n)
    handshake = (vu(1) + vu(15) + vu(2, u64(1 << 32 | 1 << 30)) + vu(16, u64(1 << 9 | 1 << 3)) +
                 vu(3) + vu(24, struct.pack("<III", 0, 8, 0) + b"\0" * 8) + vu(8, state(0, 256)) +
                 vu(8, state(1, 256)) + vu(10, state(0, 0)) + vu(18, state(0, 1)) + vu(11, state(0, 0)))
    yield "handshake", handshake
    yield "none-request", vu(0)
    yield "vring-num-bad-index", vu(8, state(5, 256))
    yield "vring-num-not-power-of-two", vu(8, state(0, 100))
    yield "get-vring-base-bad-index", vu(11, state(1000, 0))
    yield "vring-addr-no-memory", vu(8, state(0, 16)) + vu(9, struct.pack("<IIQQQQ", 0, 0, 0x1000, 0x2000, 0x3000, 0))
    yield "mem-table-no-fds", vu(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 4096, 0x1000, 0))
    yield "size-too-large", vu(1, size=0xFFFFFFF0)
    yield "set-config", vu(25, struct.pack("<III", 0, 4, 0) + b"\1\0\0\0")
    yield "unknown-request", vu(999)
    yield "postcopy", vu(28)
    yield "protocol-features-not-offered", vu(16, u64(0xFFFF))


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
    yield "request", b"\2trace snaplen=64 buffer=65536"
    yield "request-bad", b"\2trace snaplen=99999999999999999999"


def main():
    out = sys.argv[1]
    for name, gen in (("rings", rings), ("vhost-user", vhost_user), ("trace", trace)):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for seed, data in gen():
            with open(os.path.join(out, name, seed), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
