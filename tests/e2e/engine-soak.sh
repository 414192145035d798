#!/usr/bin/env bash
# The engine under a soak, meant for the debug guest kernel (KASAN, lockdep,
# kmemleak, DEBUG_ATOMIC_SLEEP): at least MOVES moves of processes that end
# away, are killed away, go back and forth, and are away when their node
# leaves; then not one kernel report, not one leak, no half left.
#
# usage: engine-soak.sh OMCLUSTER BUILD_ROOT MOVES [KERNEL]
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2" soak
target=${3:-200}
kernel=${4:-}
libexec=/usr/libexec/omvm

echo "# booting 3 guests${kernel:+ on $(basename "$kernel")} (KUnit on)"
if ! timeout 900 "$OMC" --run-dir "$E2E_RUN_DIR" -c soak up -n 3 --timeout 600 \
	--append "kunit.enable=1 om.balance=0" ${kernel:+--kernel "$kernel"}; then
	not_ok "up -n 3"
	e2e_finish
	exit 1
fi
ok "up -n 3"
check "every node sees the others up" 'e2e_wait_nodes 3'
for n in 1 2 3; do
	oc exec -t 30 "$n" -- uname -r | sed "s/^/#   node $n: /"
	check "node $n: its kernel has kmemleak (a debug kernel)" 'e2e_kmemleak "$n" on'
	e2e_kmemleak "$n" clear
done
# Every move is live (om.live=2), homecomings too: their rounds, and the
# deputy's serving of calls between them, run under the checkers.
for n in 1 2 3; do oc exec -t 30 "$n" -- sh -c "echo 2 >/sys/module/om/parameters/live"; done
klog=$(oc exec -t 30 1 -- dmesg)
check "KUnit: every suite passed on this kernel" \
	'grep -qE "^ *ok [0-9]+ omvm-engine-receive" <<<"$klog" && ! grep -qE "not ok " <<<"$klog"'

# One round, in node 1: a process that ends away, one read through /proc
# at home then killed away, one moved back and forth and ended at home.
# Prints "moves N" and FAIL lines.
cat >"$E2E_RUN_DIR/round.sh" <<'EOF'
lib=/usr/libexec/omvm
moves=0
# Each step is logged, so that a round that hangs says where.
log() { echo "$*" >>/tmp/round.log; }
: >/tmp/round.log
$lib/om-compute 1500 1000 >/dev/null & p=$!
log "end-away $p: to 2"
om-migrate $p 2 >/dev/null && moves=$((moves + 1))
log "end-away $p: wait"
wait $p || echo "FAIL ended away: status $?"
$lib/om-compute 100000000 1000 >/dev/null & p=$!
log "kill-away $p: to 3"
om-migrate $p 3 >/dev/null && moves=$((moves + 1)) || echo "FAIL to 3"
# Home's /proc of it, read from node 3 (proc_away.c), under the debug kernel too.
log "kill-away $p: /proc at home"
for f in cmdline environ maps status stat; do
	cat /proc/$p/$f >/dev/null || echo "FAIL /proc/$p/$f at home"
done
log "kill-away $p: kill"
kill -9 $p
wait $p
rc=$?
[ $rc -eq 137 ] || echo "FAIL killed away: status $rc"
$lib/om-compute 100000000 1000 >/dev/null & p=$!
for to in 2 home 3 home; do
	log "back-and-forth $p: to $to"
	om-migrate $p $to >/dev/null && moves=$((moves + 1)) || echo "FAIL to $to"
done
log "back-and-forth $p: kill"
kill $p
wait $p
log "done"
echo "moves $moves"
EOF
oc cp "$E2E_RUN_DIR/round.sh" 1:/tmp/round.sh

# newest_compute: a pid of an om-compute of node 1 not in the caller's
# $known, the one just started (bg tells no pid).
newest_compute() {
	local i pid
	for ((i = 0; i < 30; i++)); do
		for pid in $(oc exec -t 30 1 -- pidof om-compute); do
			grep -qw "$pid" <<<"$known" || { echo "$pid"; return 0; }
		done
		sleep 1
	done
	return 1
}

fdir=$E2E_FAULT_DIR

# Node 3 leaves: the process at node 3 dies with it (SIGKILL at home); the
# one moving from node 2 to node 3 (node 3 ran its copy, its RUNNING lost,
# node 2 waiting for it) goes on at node 2, the move failed with EHOSTDOWN.
leave_step() {
	local pid hpid known="" rc out i
	bg 1 "leave$rounds" "$libexec/om-compute 100000000 1000"
	pid=$(newest_compute) && known=$pid
	bg 1 "hop$rounds" "$libexec/om-compute 100000000 1000"
	hpid=$(newest_compute)
	if oc exec -t 120 1 -- om-migrate "$pid" 3 >/dev/null 2>&1; then
		moves=$((moves + 1))
	else
		fails="$fails${fails:+; }round $rounds: '$pid' not moved to node 3"
	fi
	if oc exec -t 120 1 -- om-migrate "$hpid" 2 >/dev/null 2>&1; then
		moves=$((moves + 1))
	else
		fails="$fails${fails:+; }round $rounds: '$hpid' not moved to node 2"
	fi
	e2e_fault_setup 2
	e2e_fault_setup 3
	oc exec -t 30 2 -- sh -c "echo 60000 >$fdir/running_timeout_ms"
	oc exec -t 30 3 -- sh -c "echo 8 >$fdir/steps; echo 1 >$fdir/times"
	bg 1 "hopmig$rounds" "om-migrate $hpid 3 --timeout 90"
	for ((i = 0; i < 60; i++)); do
		oc exec -t 30 3 -- cat /proc/hpc/remote | awk -v p="$hpid" '$1 == 1 && $2 == p { f = 1 } END { exit !f }' &&
			break
		sleep 1
	done
	[ "$i" -lt 60 ] || fails="$fails${fails:+; }round $rounds: no copy of '$hpid' ran at node 3"
	oc stop --kill 3 >/dev/null
	bg_wait 1 "leave$rounds" 60 >/dev/null && rc=0 || rc=$?
	if [ "$rc" -ne 137 ]; then
		fails="$fails${fails:+; }node 3 left: status $rc"
		for n in 1 2; do
			echo "# node $n:"
			e2e_dump "$n" | sed 's/^/#   /'
		done
	fi
	out=$(bg_wait 1 "hopmig$rounds" 120) && rc=0 || rc=$?
	echo "#   the move 2->3 when node 3 left: status $rc, $(tr '\n' ' ' <<<"$out")"
	[ "$rc" -ne 0 ] && grep -q "Host is down" <<<"$out" ||
		fails="$fails${fails:+; }the move 2->3 when node 3 left: status $rc, $out"
	[ "$(oc exec -t 30 1 -- cat "/proc/$hpid/hpc/where")" = 2 ] ||
		fails="$fails${fails:+; }'$hpid' is not at node 2 after node 3 left"
	oc exec -t 30 2 -- sh -c "echo 0 >$fdir/times; echo 10000 >$fdir/running_timeout_ms"
	oc exec -t 30 1 -- kill "$hpid"
	bg_wait 1 "hop$rounds" 60 >/dev/null && rc=0 || rc=$?
	[ "$rc" -eq 143 ] || fails="$fails${fails:+; }the process at node 2: status $rc, not 143"
	oc start 3 >/dev/null || fails="$fails${fails:+; }node 3 did not come back"
	e2e_wait_nodes 3 || fails="$fails${fails:+; }the nodes do not see each other"
	e2e_kmemleak 3 clear
}

moves=0
fails=""
rounds=0
t0=$(date +%s)
# Node 3 leaves three times a long soak, once a short one (the default
# run's two rounds); OM_SOAK_LEAVE_EVERY=N: every N rounds.
leave_every=${OM_SOAK_LEAVE_EVERY:-$((target >= 18 ? target / 18 : (target > 6 ? 2 : 1)))}
# A round makes 6 moves: a bound on rounds keeps a broken one from looping.
while [ "$moves" -lt "$target" ] && [ "$rounds" -lt $((target / 3)) ]; do
	rounds=$((rounds + 1))
	out=$(oc exec -t 240 1 -- sh /tmp/round.sh 2>&1) || true
	m=$(awk '$1 == "moves" { print $2 }' <<<"$out")
	moves=$((moves + ${m:-0}))
	# A round that says nothing (it hung, or node 1 did not answer) is a failure too.
	bad=$(grep FAIL <<<"$out" | tr '\n' ' ') || true
	if [ -z "$m" ]; then
		bad="$bad no result: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
		echo "# round $rounds hung; its steps: $(oc exec -t 30 1 -- cat /tmp/round.log | tr '\n' ' ')"
		for n in 1 2 3; do
			echo "# node $n:"
			e2e_dump "$n" | sed 's/^/#   /'
		done
	fi
	echo "#   round $rounds: ${m:-no} moves, $moves in all${bad:+: $bad}"
	[ -z "$bad" ] || fails="$fails${fails:+; }round $rounds: $bad"
	# Now and then, node 3 leaves with a process of node 1 on it, and
	# another in the middle of a move from node 2 to node 3.
	if [ $((rounds % leave_every)) -eq 0 ]; then
		leave_step
	fi
done
echo "# $moves moves in $rounds rounds, $(($(date +%s) - t0)) s${fails:+; failed: $fails}"
check "at least $target moves: processes ended away, killed away, moved back and forth, away when their node left" \
	'[ "$moves" -ge "$target" ] && [ -z "$fails" ]'
# Moves nodes 2 and 3 sent live: homecomings (and moves between them).
sent_live=0
for n in 2 3; do
	l=$(oc exec -t 30 "$n" -- sed -n 's/^live_moves //p' /proc/hpc/admin/stats) || l=0
	sent_live=$((sent_live + ${l:-0}))
done
check "nodes 2 and 3 sent moves live, homecomings among them ($sent_live)" '[ "$sent_live" -gt 0 ]'

for n in 1 2 3; do
	reports=$(e2e_kernel_reports "$n")
	sed 's/^/#   /' <<<"$reports" | head -40
	check "node $n: no kernel report (KASAN, lockdep, atomic sleep, BUG, WARNING)" '[ -z "$reports" ]'
	leaks=$(e2e_kmemleak "$n" report)
	sed 's/^/#   /' <<<"$leaks" | head -40
	check "node $n: kmemleak finds nothing" '[ -z "$leaks" ]'
	for ((i = 0; i < 15; i++)); do
		stats=$(oc exec -t 30 "$n" -- grep "^halves " /proc/hpc/admin/stats)
		[ "$stats" = "halves 0" ] && break
		sleep 1
	done
	check "node $n: the engine holds no half ($stats)" '[ "$stats" = "halves 0" ]'
done
e2e_finish
