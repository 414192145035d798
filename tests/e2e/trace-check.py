#!/usr/bin/env python3
# Checks what trace.sh collected: omtrace's live JSON view, a capture of
# the same traffic read back by omtrace and by tshark with the dissector,
# a listener that was stopped, the relay's counters and the guests' own
# reports (om-traffic). Prints TAP lines; exit 1 when any check fails.
#
# usage: trace-check.py DIR COUNT
# DIR holds: live.json capture.json tshark.tsv tshark.verbose stopped.json
#            relay.before relay.after traffic.1 traffic.2 traffic.3 ping.out
import collections
import json
import re
import struct
import sys

d, count = sys.argv[1], int(sys.argv[2])
nodes = (1, 2, 3)
n = 0
failed = 0


def check(ok, what, detail=''):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
    if not ok and detail:
        for line in str(detail).splitlines()[:20]:
            print(f'#   {line}')


def records(name):
    with open(f'{d}/{name}') as f:
        return [json.loads(line) for line in f if line.strip()]


live = records('live.json')
msgs = [r for r in live if r['event'] != 'missed']
check(len(msgs) > 0, f'the live view saw {len(msgs)} messages')
check(not any(r['event'] == 'missed' for r in live), 'the live view missed nothing')
check(all(r['event'] == 'relayed' for r in msgs), 'every message was relayed (none undeliverable)')

# om-traffic's payloads: "OMTR", kind, src, dst, seq, pattern, len (traffic.h).
TR_HDR = 40
per_pair = collections.defaultdict(list)  # (src, dst) -> data messages in order
other = collections.Counter()
bad = []
for r in msgs:
    if r['type'] != 'TEST_DATA':
        other[(r['src'], r['dst'], r['type'])] += 1
        continue
    head = bytes.fromhex(r['head'])
    if r['len'] < TR_HDR:
        per_pair[(r['src'], r['dst'])].append(('short', r['len']))
        continue
    if len(head) < TR_HDR or head[:4] != b'OMTR':
        bad.append(r)
        continue
    kind, = struct.unpack_from('<B', head, 4)
    src, dst, seq, _, tlen = struct.unpack_from('<IIQQI', head, 8)
    if src != r['src'] or dst != r['dst'] or tlen != r['len']:
        bad.append(r)
    if kind == 3:
        per_pair[(r['src'], r['dst'])].append((seq, r['len']))
check(not bad, 'every TEST_DATA message decodes: source, destination and length agree with '
      'its payload', '\n'.join(json.dumps(b) for b in bad[:5]))


def guest_report(node):
    with open(f'{d}/traffic.{node}') as f:
        text = f.read()
    sent = {int(m[1]): int(m[2]) for m in re.finditer(r'^to (\d+): (\d+) sent$', text, re.M)}
    ok = {int(m[1]): int(m[2]) for m in re.finditer(r'^from (\d+): (\d+) ok, 0 bad, 0 missing, '
                                                    r'0 out-of-order, 0 duplicates$', text, re.M)}
    return sent, ok


for s in nodes:
    sent, _ = guest_report(s)
    for t in nodes:
        if s == t:
            continue
        _, got = guest_report(t)
        data = per_pair[(s, t)]
        seqs = [x[0] for x in data if x[0] != 'short']
        check(len(data) == count == sent.get(t) == got.get(s),
              f'{s}->{t}: {len(data)} data messages traced; node {s} sent {sent.get(t)}, '
              f'node {t} got {got.get(s)} intact')
        check(len(seqs) == len(set(seqs)) and seqs == sorted(seqs) and
              set(seqs) <= set(range(1, count + 1)),
              f'{s}->{t}: each seq once, in order (none duplicated or misdecoded)')

pings = other[(1, 3, 'PING')]
pongs = [r for r in msgs if r['type'] == 'PONG' and r['src'] == 3 and r['dst'] == 1]
check(pings == 3 and len(pongs) == 3, f'om-ping 1->3: {pings} PINGs and {len(pongs)} PONGs traced')
check(all(r.get('request_type') == 'PING' and r.get('latency_ns', 0) > 0 for r in pongs),
      'each PONG has its latency from its PING', '\n'.join(json.dumps(p) for p in pongs))


# The relay's own counters over the same window.
def counters(name):
    out = {}
    with open(f'{d}/{name}') as f:
        for line in f:
            if line.startswith('node='):
                kv = dict(x.split('=', 1) for x in line.split())
                out[int(kv['node'])] = kv
    return out


before, after = counters('relay.before'), counters('relay.after')
for node in nodes:
    tx = int(after[node]['tx_msgs']) - int(before[node]['tx_msgs'])
    rx = int(after[node]['rx_msgs']) - int(before[node]['rx_msgs'])
    traced_tx = sum(1 for r in msgs if r['src'] == node)
    traced_rx = sum(1 for r in msgs if r['dst'] == node)
    check(tx == traced_tx and rx == traced_rx,
          f'node {node}: relay counted {tx} sent, {rx} received; traced {traced_tx}, {traced_rx}')


# The capture, read back by omtrace: the same messages as the live view.
def key(r):
    return (r['src'], r['dst'], r['type'], r['seq'], r['len'], r['head'])


cap = records('capture.json')
cap_msgs = [r for r in cap if r['event'] != 'missed']
check(sorted(map(key, cap_msgs)) == sorted(map(key, msgs)),
      f'the capture holds the same {len(cap_msgs)} messages as the live view ({len(msgs)})')

# tshark with the dissector: one decoded record per message, same counts per pair and type.
rows = [line.rstrip('\n').split('\t') for line in open(f'{d}/tshark.tsv') if line.strip()]
tshark_missed = [x for x in rows if not x[0]]  # records of missed messages: none expected
rows = [x for x in rows if x[0]]
tshark_count = collections.Counter((int(s), int(t), ty) for ty, s, t, _ in rows)
live_count = collections.Counter((r['src'], r['dst'], r['type']) for r in msgs)
check(len(rows) + len(tshark_missed) == len(cap) and not tshark_missed,
      f'tshark decodes {len(rows)} messages, the capture has {len(cap)} records')
check(tshark_count == live_count, 'tshark counts the same messages per pair and type',
      f'tshark {sorted(tshark_count.items())}\nlive {sorted(live_count.items())}')
tshark_lens = sorted(int(x[3]) for x in rows)
check(tshark_lens == sorted(r['len'] for r in msgs), 'tshark reads the same payload lengths')
verbose = open(f'{d}/tshark.verbose').read()
bad = [line for line in verbose.splitlines()
       if re.search(r'Malformed|Unknown|unknown|Expert Info \(Error', line)]
check(not bad, 'tshark: no malformed packet, unknown type or expert error', '\n'.join(bad[:10]))

# The listener that was stopped: told what it missed, and it adds up.
stopped = records('stopped.json')
got = sum(1 for r in stopped if r['event'] != 'missed')
missed_recs = [r for r in stopped if r['event'] == 'missed']
missed = sum(r['missed'] for r in missed_recs)
check(missed > 0 and missed_recs[-1]['missed_total'] == missed,
      f'the stopped listener was told it missed {missed} messages')
check(got + missed == len(msgs),
      f'the stopped listener got {got} and missed {missed}: {got + missed} of {len(msgs)}')

print(f'1..{n}')
sys.exit(1 if failed else 0)
