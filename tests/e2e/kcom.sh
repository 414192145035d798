#!/usr/bin/env bash
# virtio-om end to end, 3 guests: node identity from the host, a message
# and its reply, then COUNT messages of random sizes (1 byte to 64 KiB)
# between every pair in both directions, checked in the receiving guest
# (intact, in order, none missing, none twice); the relay's counters agree.
#
# usage: kcom.sh OMCLUSTER BUILD_ROOT [COUNT]
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2" kcom
count=${3:-10000}
omhostctl=$BUILD/host/omhostd/omhostctl

echo "# booting 3 guests with the relay"
if ! timeout 600 "$OMC" --run-dir "$E2E_RUN_DIR" -c kcom up -n 3 --timeout 300 --append om.balance=0; then
	not_ok "up -n 3"
	e2e_finish
	exit 1
fi
ok "up -n 3"

# Each guest learns its node from the device and sees the others up. A
# guest still short of that after the wait fails its check below.
e2e_wait_nodes 3 || true
for n in 1 2 3; do
	nodes=$(oc exec -t 30 "$n" -- cat /proc/hpc/nodes)
	check "node $n is node $n by the host's word" 'grep -qE "^$n self " <<<"$nodes"'
	check "node $n sees the two others up" '[ "$(grep -cE "^[0-9]+ up " <<<"$nodes")" -eq 2 ]'
done

out=$(oc exec -t 60 1 -- om-ping -c 3 3 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/#   /'
check "a ping from node 1 to node 3 gets its replies" '[ "$rc" -eq 0 ] && [ "$(grep -c "bytes from node 3: seq=" <<<"$out")" -eq 3 ]'

# om-prof: a shell loop's samples are the shell's, most of them in user space.
out=$(oc exec -t 60 1 -- om-prof -n 3 -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done' 2>&1) &&
	rc=0 || rc=$?
echo "$out" | sed 's/^/#   /'
check "om-prof samples a busy shell loop: its samples are the shell's, a kernel function named" \
	'[ "$rc" -eq 0 ] && grep -qE "^[1-9][0-9]* samples on [1-9][0-9]* CPUs" <<<"$out" &&
	 sed -n "/^programs/,/^kernel/p" <<<"$out" | sed -n 2p | grep -qE "%  sh$" &&
	 sed -n "/^kernel functions/,\$p" <<<"$out" | sed -n 2p | grep -qE "%  [a-z_]"'

echo "# $count messages of 1 B..64 KiB from every node to every other"
t0=$(date +%s)
e2e_traffic_start "$count" 7 "$E2E_RUN_DIR"
for i in 0 1 2; do
	rc=0
	wait "${E2E_TRAFFIC_PIDS[$i]}" || rc=$?
	n=$((i + 1))
	sed 's/^/#   /' "$E2E_RUN_DIR/traffic.$n"
	check "node $n: its traffic run passed" '[ "$rc" -eq 0 ] && grep -qx "om-traffic: PASS" "$E2E_RUN_DIR/traffic.$n"'
	for p in 1 2 3; do
		[ "$p" = "$n" ] && continue
		check "node $n got $count intact messages from node $p, in order, once each" \
			'grep -qx "from $p: $count ok, 0 bad, 0 missing, 0 out-of-order, 0 duplicates" "$E2E_RUN_DIR/traffic.$n"'
	done
done
echo "# traffic took $(($(date +%s) - t0)) s"
# Sent messages a node reclaimed only by its check a second after the ring
# was full (tx_late): a notification the relay did not send.
for n in 1 2 3; do
	echo "#   node $n: $(oc exec -t 30 "$n" -- grep "^all " /proc/hpc/nodes | grep -o "tx_late=[0-9]*")"
done

relay=$("$omhostctl" -d "$E2E_RUN_DIR/kcom/relay" raw)
echo "$relay" | sed 's/^/#   /'
for n in 1 2 3; do
	line=$(grep "^node=$n " <<<"$relay")
	field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
	check "relay: node $n sent at least $((2 * count)) messages" '[ "$(field tx_msgs)" -ge $((2 * count)) ]'
	check "relay: node $n nothing refused, undeliverable or evicted" \
		'[ "$(field refused)" -eq 0 ] && [ "$(field undeliverable)" -eq 0 ] && [ "$(field evictions)" -eq 0 ]'
done

oc down
check "down leaves no process behind" '[ -z "$(e2e_leftovers)" ]'
e2e_finish
