#!/usr/bin/env bash
# A cluster across two hosts on one machine (omcluster up --hosts 2): two
# relays, each in a network namespace of its own serving two guests,
# linked only through a veth each on a bridge, over TLS with the generated
# key. Every guest sees the four nodes up; om-traffic between every pair
# (half of them over the link) arrives intact, in order, once, while
# nftables drops 5% of the link's packets arriving at each host (no tc
# netem in every kernel: docs/omhostd.md, "Slow and lossy networks"); a
# computation started at node 1 (host 1) moves to node 3 (host 2) and home
# again while it runs, its output exactly an unmoved run's; the relays'
# links and counters agree; host 2 unplugged for 8 s under traffic: the
# link is cut and comes back, nothing lost; node 3 killed while a process
# of node 1 runs there: it ends at home killed (SIGKILL), the node's death
# told across the link; down leaves no namespace, veth, key or process.
#
# usage: hosts.sh OMCLUSTER BUILD_ROOT [COUNT]
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2" hosts
count=${3:-1000}
omhostctl=$BUILD/host/omhostd/omhostctl
omtrace=$BUILD/host/trace/omtrace
libexec=/usr/libexec/omvm
cdir=$E2E_RUN_DIR/hosts

# Namespaces of this test's cluster: omc-hosts-HASH-{h1,h2,sw}.
e2e_netns() { ip netns list | awk '{ print $1 }' | grep -E '^omc-hosts-[0-9a-f]{8}-' || true; }

echo "# booting 4 guests over 2 hosts"
# shellcheck disable=SC2086 # extra arguments for development runs
if ! timeout 600 "$OMC" --run-dir "$E2E_RUN_DIR" -c hosts up -n 4 --hosts 2 --timeout 300 \
	--append om.balance=0 ${OM_E2E_UP_ARGS:-}; then
	not_ok "up -n 4 --hosts 2"
	e2e_finish
	exit 1
fi
ok "up -n 4 --hosts 2"

ns=$(e2e_netns)
sed 's/^/#   netns /' <<<"$ns"
check "three namespaces: two hosts and the switch" '[ "$(wc -l <<<"$ns")" -eq 3 ]'
check "the relays' key file is the owner's alone (0600)" \
	'[ "$(stat -c %a "$cdir/link.psk")" = 600 ] && [ "$(grep -c "^h[12] [0-9a-f]\{64\}$" "$cdir/link.psk")" -eq 2 ]'
# relay_pid H: host H's omhostd, from the state.
relay_pid() { awk -v h="$1" '$1 == "host-relay" && $2 == h { print $3 }' "$cdir/cluster.state"; }
for h in 1 2; do
	hns=$(grep -E -- "-h$h\$" <<<"$ns")
	pid=$(relay_pid "$h")
	check "host $h's relay (pid $pid) runs in its own namespace, $hns" \
		'[ -n "$pid" ] && [ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$hns")" ] &&
		 [ "$(stat -L -c %i "/proc/$pid/ns/net")" != "$(stat -L -c %i /proc/self/ns/net)" ]'
	check "host $h is 10.78.0.$h on its veth, and nothing else but lo" \
		'ip -n "$hns" -o -4 addr show | grep -q " om0 .*inet 10.78.0.$h/24" &&
		 [ "$(ip -n "$hns" -o link show | grep -vc " lo:")" -eq 1 ]'
done

status=$(oc status) && src=0 || src=$?
sed 's/^/#   /' <<<"$status"
check "status: every guest ready, both relays running" '[ "$src" -eq 0 ]'
check "status: host 1's relay is linked up to h2 (nodes 3-4), host 2's to h1 (nodes 1-2)" \
	'grep -qE "^h2 +up +3-4 " <<<"$status" && grep -qE "^h1 +up +1-2 " <<<"$status"'

e2e_wait_nodes 4 || true
for n in 1 2 3 4; do
	nodes=$(oc exec -t 30 "$n" -- cat /proc/hpc/nodes)
	check "node $n is node $n and sees the three others up, across the link too" \
		'grep -qE "^$n self " <<<"$nodes" && [ "$(grep -cE "^[0-9]+ up " <<<"$nodes")" -eq 3 ]'
done

# What host 1's relay shows of its link meanwhile (tracing.md, "Relay links").
"$omtrace" -d "$cdir/host1/relay" -q --json >"$E2E_RUN_DIR/trace.json" 2>&1 &
tracer=$!
sleep 1
out=$(oc exec -t 60 1 -- om-ping -c 3 3 2>&1) && rc=0 || rc=$?
sed 's/^/#   /' <<<"$out"
check "a ping from node 1 (host 1) to node 3 (host 2) gets its replies" \
	'[ "$rc" -eq 0 ] && [ "$(grep -c "bytes from node 3: seq=" <<<"$out")" -eq 3 ]'
sleep 1
kill -INT "$tracer" 2>/dev/null || true
wait "$tracer" 2>/dev/null || true
pings=$(grep -c '"event":"link_tx","peer":"h2","link_type":"DATA".*"src":"1","dst":"3",.*"type":"PING"' "$E2E_RUN_DIR/trace.json" || true)
pongs=$(grep -c '"event":"link_rx","peer":"h2","link_type":"DATA".*"src":"3","dst":"1",.*"type":"PONG"' "$E2E_RUN_DIR/trace.json" || true)
delivered=$(grep -c '"event":"relayed","src":3,"dst":1,.*"type":"PONG"' "$E2E_RUN_DIR/trace.json" || true)
echo "#   omtrace at host 1: $(wc -l <"$E2E_RUN_DIR/trace.json") records; PINGs sent over the link $pings, PONGs received $pongs, delivered $delivered"
check "omtrace at host 1's relay: the 3 PINGs leave as DATA frames to h2, the 3 PONGs come back as frames and are delivered" \
	'[ "$pings" -eq 3 ] && [ "$pongs" -eq 3 ] && [ "$delivered" -eq 3 ]'

# loss H add|count|del: the lossy rule in host H's namespace; count
# prints the link's packets it saw arrive and those it dropped.
loss() {
	local hns
	hns=$(grep -E -- "-h$1\$" <<<"$ns")
	case $2 in
	add) ip netns exec "$hns" nft -f - <<EOF ;;
table inet omloss {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp sport 7740 counter
		tcp dport 7740 counter
		tcp sport 7740 numgen random mod 100 < 5 counter drop
		tcp dport 7740 numgen random mod 100 < 5 counter drop
	}
}
EOF
	count) ip netns exec "$hns" nft list chain inet omloss in |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		awk '{ c[NR] = $1 } END { print c[1] + c[2], c[3] + c[4] }' ;;
	del) ip netns exec "$hns" nft delete table inet omloss ;;
	esac
}
check "nftables' nft is installed (scripts/setup-host.sh)" 'command -v nft >/dev/null'
for h in 1 2; do
	loss "$h" add || not_ok "the lossy rule in host $h's namespace"
done
echo "# $count messages of 1 B..64 KiB from every node to every other (8 of 12 pairs over the link), 5% of the link's packets dropped"
t0=$SECONDS
pids=()
for n in 1 2 3 4; do
	oc exec -t 600 "$n" -- om-traffic --port 7000 --peers 1,2,3,4 --count "$count" \
		--min-size 1 --max-size 65536 --seed 16 --timeout 120 >"$E2E_RUN_DIR/traffic.$n" 2>&1 &
	pids+=($!)
done
for n in 1 2 3 4; do
	rc=0
	wait "${pids[$((n - 1))]}" || rc=$?
	sed 's/^/#   /' "$E2E_RUN_DIR/traffic.$n"
	check "node $n: its traffic run passed" '[ "$rc" -eq 0 ] && grep -qx "om-traffic: PASS" "$E2E_RUN_DIR/traffic.$n"'
	for p in 1 2 3 4; do
		[ "$p" = "$n" ] && continue
		check "node $n got $count intact messages from node $p, in order, once each" \
			'grep -qx "from $p: $count ok, 0 bad, 0 missing, 0 out-of-order, 0 duplicates" "$E2E_RUN_DIR/traffic.$n"'
	done
done
echo "# traffic took $((SECONDS - t0)) s"
for h in 1 2; do
	read -r seen dropped <<<"$(loss "$h" count)"
	echo "#   host $h: ${dropped:-?} of ${seen:-?} link packets arriving dropped"
	check "host $h's rule dropped packets of the link (TCP resent them: nothing lost above)" \
		'[ "${dropped:-0}" -gt 0 ]'
	loss "$h" del || true
done

echo "# a computation at node 1 moved to node 3 (the other host) and home, against an unmoved run at node 2"
rate=$(step_rate) || rate=100
steps=$(steps_for 20)
echo "#   om-compute: $rate steps a second at node 1: $steps steps"
bg 2 ref "$libexec/om-compute $steps 100 /tmp/ref.file"
bg 1 moved "$libexec/om-compute $steps 100 /tmp/moved.file | cat"
# compute_pid: om-compute's pid at node 1, once it runs (at most 30 s).
compute_pid() {
	local i
	for ((i = 0; i < 30; i++)); do
		oc exec -t 30 1 -- pidof om-compute 2>/dev/null && return 0
		sleep 1
	done
	return 1
}
pid=$(compute_pid) || pid=
where() { oc exec -t 30 1 -- cat "/proc/$pid/hpc/where"; }
check "it started at node 1" '[ -n "$pid" ] && bg_grep 1 moved "^step 100 " 60'
oc exec -t 120 1 -- sh -c "echo 3 >/proc/$pid/hpc/where" && rc=0 || rc=$?
check "echo 3 >/proc/$pid/hpc/where: it moves to node 3, over the link" \
	'[ "$rc" -eq 0 ] && e2e_where_becomes 1 "$pid" 3 60'
[ "$rc" -eq 0 ] || echo "#   the write failed ($rc); where says $(where)"
remote=$(oc exec -t 30 3 -- cat /proc/hpc/remote)
sed 's/^/#   /' <<<"$remote"
check "node 3 runs it for node 1" 'awk -v p="$pid" "\$1 == 1 && \$2 == p" <<<"$remote" | grep -q .'
sleep 3
oc exec -t 120 1 -- om-migrate "$pid" home >/dev/null 2>&1 && rc=0 || rc=$?
check "om-migrate brings it home from node 3" '[ "$rc" -eq 0 ] && [ "$(where)" = home ]'
e2e_moved_as_ref 2 300

for h in 1 2; do
	relay=$("$omhostctl" -d "$cdir/host$h/relay" raw)
	sed 's/^/#   /' <<<"$relay"
	link=$(grep "^link=" <<<"$relay")
	field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }
	check "host $h's link: up since its first connect, data both ways, no frame refused" \
		'grep -q " state=up " <<<"$link" && [ "$(field connects "$link")" -eq 1 ] && [ "$(field cuts "$link")" -eq 0 ] &&
		 [ "$(field data_tx "$link")" -ge $((4 * count)) ] && [ "$(field data_rx "$link")" -ge $((4 * count)) ] &&
		 [ "$(field malformed "$link")" -eq 0 ] && [ "$(field foreign_source "$link")" -eq 0 ] &&
		 [ "$(field auth_failed "$link")" -eq 0 ] && [ "$(field undeliverable "$link")" -eq 0 ]'
	for n in $(((h - 1) * 2 + 1)) $(((h - 1) * 2 + 2)); do
		line=$(grep "^node=$n " <<<"$relay")
		check "host $h's relay: node $n nothing refused, undeliverable or evicted" \
			'[ "$(field refused "$line")" -eq 0 ] && [ "$(field undeliverable "$line")" -eq 0 ] && [ "$(field evictions "$line")" -eq 0 ]'
	done
done

# link_field H KEY: host H's relay's link counter KEY now.
link_field() {
	"$omhostctl" -d "$cdir/host$1/relay" raw | sed -n "s/^link=.* $2=\([0-9a-z]*\).*/\1/p"
}
h2ns=$(grep -E -- "-h2\$" <<<"$ns")
cuts0=$(link_field 1 cuts)
echo "# host 2 unplugged (its veth down) for 8 s while nodes 1 and 3 exchange $count messages"
ip -n "$h2ns" link set om0 down
pids=()
for n in 1 3; do
	oc exec -t 600 "$n" -- om-traffic --port 7001 --peers 1,3 --count "$count" \
		--min-size 1 --max-size 65536 --seed 17 --timeout 120 >"$E2E_RUN_DIR/cut.$n" 2>&1 &
	pids+=($!)
done
sleep 8
ip -n "$h2ns" link set om0 up
for n in 1 3; do
	rc=0
	wait "${pids[$(((n - 1) / 2))]}" || rc=$?
	sed 's/^/#   /' "$E2E_RUN_DIR/cut.$n"
	p=$((4 - n))
	check "across the cut, node $n got $count intact messages from node $p, in order, once each" \
		'[ "$rc" -eq 0 ] && grep -qx "from $p: $count ok, 0 bad, 0 missing, 0 out-of-order, 0 duplicates" "$E2E_RUN_DIR/cut.$n"'
done
for ((i = 0; i < 30; i++)); do
	[ "$(link_field 1 state)" = up ] && break
	sleep 1
done
check "host 1's link was cut by the silence and came back (cuts $cuts0 -> $(link_field 1 cuts), connects $(link_field 1 connects))" \
	'[ "$(link_field 1 state)" = up ] && [ "$(link_field 1 cuts)" -gt "$cuts0" ] && [ "$(link_field 1 connects)" -ge 2 ]'
nodes=$(oc exec -t 30 1 -- cat /proc/hpc/nodes)
check "node 1 still sees the three others up (the cut was shorter than --peer-down-ms)" \
	'[ "$(grep -cE "^[0-9]+ up " <<<"$nodes")" -eq 3 ]'

echo "# the node of the other host a process runs on dies (engine.md: a lost node's processes are killed)"
bg 1 away "$libexec/om-compute 100000000 1000"
pid=$(compute_pid) || pid=
oc exec -t 120 1 -- sh -c "echo 3 >/proc/$pid/hpc/where" >/dev/null 2>&1 || true
check "om-compute of node 1 runs at node 3, on the other host" '[ -n "$pid" ] && e2e_where_becomes 1 "$pid" 3 60'
t0=$SECONDS
oc stop --kill 3 >/dev/null
# Host 2's relay tells host 1's over the link (a NODE frame), which tells node 1.
bg_wait 1 away 60 >/dev/null && rc=0 || rc=$?
echo "#   its status at home: $rc, $((SECONDS - t0)) s after node 3 was killed"
check "it ends at home as killed by SIGKILL once node 3's death crossed the link" '[ "$rc" -eq 137 ]'
check "the kernel log at home says why" \
	'oc exec -t 30 1 -- dmesg | grep -q "omvm: pid $pid (home node 1) killed: node 3, where its process was, went down"'

oc down
check "down leaves no namespace (and so no veth)" '[ -z "$(e2e_netns)" ]'
check "down leaves no process and no file behind" '[ -z "$(e2e_leftovers)" ] && [ ! -e "$cdir" ]'
e2e_finish
