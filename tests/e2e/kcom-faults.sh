#!/usr/bin/env bash
# virtio-om under faults, 3 guests: a guest killed mid-traffic (the others
# keep exchanging, and hear it went down; restarted, it rejoins and they
# hear it came up), then the relay killed and restarted mid-traffic (the
# guests reconnect by themselves; the test states what was lost: target
# nothing, each message once, in order).
#
# usage: kcom-faults.sh OMCLUSTER BUILD_ROOT [COUNT]
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2" faults
count=${3:-3000}
omhostctl=$BUILD/host/omhostd/omhostctl
R=$E2E_RUN_DIR

echo "# booting 3 guests with the relay"
if ! timeout 600 "$OMC" --run-dir "$R" -c faults up -n 3 --timeout 300 --append om.balance=0; then
	not_ok "up -n 3"
	e2e_finish
	exit 1
fi
ok "up -n 3"

# traffic NODE NAME PORT PEERS COUNT: om-traffic in the background.
traffic() {
	bg "$1" "$2" om-traffic --port "$3" --peers "$4" --count "$5" --min-size 1 \
		--max-size 65536 --seed 7 --timeout 120
}

echo "# node 3 killed while nodes 1 and 2 exchange, and while it talks to node 2"
for n in 1 2; do
	bg "$n" events om-traffic --events --timeout 900
done
traffic 1 a 7100 1,2 "$count"
traffic 2 a 7100 1,2 "$count"
traffic 3 b 7200 2,3 1000000
traffic 2 b 7200 2,3 1000000
sleep 5
oc stop --kill 3
ok "node 3 killed (SIGKILL to its QEMU)"
for n in 1 2; do
	other=$((3 - n))
	rc=0
	out=$(bg_wait "$n" a 600) || rc=$?
	echo "$out" | sed 's/^/#   /'
	check "node $n kept exchanging with node $other: all $count arrived intact, in order, once" \
		'[ "$rc" -eq 0 ] && grep -qx "from $other: $count ok, 0 bad, 0 missing, 0 out-of-order, 0 duplicates" <<<"$out"'
	check "node $n heard node 3 go down (disconnected)" 'bg_grep "$n" events "^event: node 3 down (disconnected)" 30'
done
rc=0
out=$(bg_wait 2 b 120) || rc=$?
echo "$out" | sed 's/^/#   /'
check "node 2's traffic with the killed node ends with an error, not a hang" '[ "$rc" -eq 1 ] && grep -q "went down" <<<"$out"'

if oc start 3 --timeout 300; then ok "node 3 restarted"; else not_ok "node 3 restarted"; fi
for n in 1 2; do
	check "node $n heard node 3 come back (joined)" 'bg_grep "$n" events "^event: node 3 up (joined)" 60'
	oc exec -t 30 "$n" -- cat /tmp/events.out | sed "s/^/#   node $n: /"
done
out=$(oc exec -t 60 3 -- om-ping -c 2 1 2>&1) && rc=0 || rc=$?
check "the restarted node 3 reaches node 1" '[ "$rc" -eq 0 ] && [ "$(grep -c "bytes from node 1: seq=" <<<"$out")" -eq 2 ]'

echo "# the relay killed and restarted while all three exchange"
big=$((4 * count))
for n in 1 2 3; do
	traffic "$n" c 7300 1,2,3 "$big"
done
# Killed once the traffic is well under way, so the restart falls inside it.
for _ in $(seq 1 60); do
	busy=$("$omhostctl" -d "$R/faults/relay" raw | sed -n 's/^node=1 .* tx_msgs=\([0-9]*\).*/\1/p')
	[ "${busy:-0}" -gt $((2 * count)) ] && break
	sleep 0.5
done
before=$("$omhostctl" -d "$R/faults/relay" raw || true)
echo "$before" | sed 's/^/#   before: /'
if oc relay --kill restart; then ok "relay killed (SIGKILL) and started again"; else not_ok "relay restart"; fi
for n in 1 2 3; do
	rc=0
	out=$(bg_wait "$n" c 900) || rc=$?
	echo "$out" | sed 's/^/#   /'
	for p in 1 2 3; do
		[ "$p" = "$n" ] && continue
		check "across the relay restart node $n got all $big messages from node $p, intact, in order, once" \
			'grep -qx "from $p: $big ok, 0 bad, 0 missing, 0 out-of-order, 0 duplicates" <<<"$out"'
	done
done
after=$("$omhostctl" -d "$R/faults/relay" raw || true)
echo "$after" | sed 's/^/#   after: /'
for n in 1 2 3; do
	check "node $n reconnected to the new relay by itself and relayed through it" \
		'grep -qE "^node=$n state=up tx_msgs=[1-9]" <<<"$after"'
done
dups=0
for n in 1 2 3; do
	d=$(oc exec -t 30 "$n" -- cat /proc/hpc/nodes | awk '$1 ~ /^[0-9]+$/ { s += $7 } END { print s + 0 }')
	dups=$((dups + d))
done
echo "# across the relay restart: 0 messages missing (checked above); duplicates dropped by the guests' drivers by seq: $dups"

oc down
check "down leaves no process behind" '[ -z "$(e2e_leftovers)" ]'
e2e_finish
