#!/usr/bin/env bash
# Tracing end to end, 3 guests: omtrace's live view (JSON) and a pcapng
# capture of the same traffic (om-ping and om-traffic between every pair)
# agree with what the guests sent and received, with the relay's counters,
# and with tshark reading the capture through the dissector (trace-check.py).
# Meanwhile listeners attach and detach over and over, and one is stopped
# (SIGSTOP) for the whole run: no guest loses a message, the relay does
# not stall, and the stopped listener is told how much it missed.
#
# usage: trace.sh OMCLUSTER BUILD_ROOT [COUNT]
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2" trace
count=${3:-1000}
omhostctl=$BUILD/host/omhostd/omhostctl
omtrace=$BUILD/host/trace/omtrace
lua=$BUILD/host/trace/omvm.lua
out=$E2E_RUN_DIR/out
mkdir -p "$out"
listeners=()

stop_listeners() {
	local p
	for p in "${listeners[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -INT "$p" 2>/dev/null || true
	done
	for p in "${listeners[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	listeners=()
}
trap 'stop_listeners; e2e_cleanup' EXIT

echo "# booting 3 guests with the relay"
# No balancer, and no LOAD a second from each guest: the checks count every
# message the relay moves against what the listeners saw.
if ! timeout 600 "$OMC" --run-dir "$E2E_RUN_DIR" -c trace up -n 3 --timeout 300 --append "om.balance=0 om.gossip=0"; then
	not_ok "up -n 3"
	e2e_finish
	exit 1
fi
ok "up -n 3"
relay=$E2E_RUN_DIR/trace/relay
# Every node sees the others up: the NODE_UP messages are behind us. If
# one does not, the checks of the traffic below say so.
e2e_wait_nodes 3 || true

# attached NAME ARGS...: starts a listener, waits until omhostd accepted it.
attached() {
	local name=$1
	shift
	"$omtrace" -d "$relay" "$@" >"$out/$name.json" 2>"$out/$name.err" &
	listeners+=($!)
	for _ in $(seq 1 100); do
		grep -q '^omtrace: attached' "$out/$name.err" && return 0
		sleep 0.1
	done
	return 1
}
# Large buffers for the two that must miss nothing; the stopped one a small one,
# and whole payloads, so that it falls behind quickly.
check "a live JSON listener attaches" 'attached live --json --snaplen 64 --buffer 67108864'
check "a capturing listener attaches" 'attached capture -w "$out/capture.pcapng" --snaplen 64 --buffer 67108864'
check "a third listener attaches" 'attached stopped --json --snaplen 0 --buffer 262144'
stopped_pid=${listeners[2]}
kill -STOP "$stopped_pid"
"$omhostctl" -d "$relay" raw >"$out/relay.before"

out_ping=$(oc exec -t 60 1 -- om-ping -c 3 3 2>&1) && rc=0 || rc=$?
echo "$out_ping" >"$out/ping.out"
check "a ping from node 1 to node 3 gets its replies" '[ "$rc" -eq 0 ]'

echo "# $count messages of 1 B..64 KiB from every node to every other, listeners coming and going"
t0=$(date +%s)
e2e_traffic_start "$count" 11 "$out"
# Attach, take a few messages or a moment, detach; again and again while traffic flows.
churn=0 churn_bad=0
while kill -0 "${E2E_TRAFFIC_PIDS[0]}" 2>/dev/null ||
	kill -0 "${E2E_TRAFFIC_PIDS[1]}" 2>/dev/null ||
	kill -0 "${E2E_TRAFFIC_PIDS[2]}" 2>/dev/null; do
	rc=0
	timeout -s INT 2 "$omtrace" -d "$relay" -q -c 20 --json >"$out/churn.json" 2>"$out/churn.err" || rc=$?
	churn=$((churn + 1))
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
		churn_bad=$((churn_bad + 1))
		sed 's/^/#   churn: /' "$out/churn.err"
	fi
done
for i in 0 1 2; do
	rc=0
	wait "${E2E_TRAFFIC_PIDS[$i]}" || rc=$?
	n=$((i + 1))
	sed 's/^/#   /' "$out/traffic.$n"
	check "node $n: its traffic run passed (nothing lost, doubled or damaged)" \
		'[ "$rc" -eq 0 ] && grep -qx "om-traffic: PASS" "$out/traffic.$n"'
done
echo "# traffic took $(($(date +%s) - t0)) s"
check "$churn listeners attached and detached under load, each cleanly" \
	'[ "$churn" -ge 3 ] && [ "$churn_bad" -eq 0 ]'
"$omhostctl" -d "$relay" raw >"$out/relay.after"

# Let the stopped listener read again, then end them all.
sleep 1
kill -CONT "$stopped_pid"
sleep 3
stop_listeners
for name in live capture stopped; do
	sed "s/^/#   $name: /" "$out/$name.err"
done
check "the stopped listener reports what it missed" \
	'grep -qE "omtrace: [0-9]+ messages shown, [1-9][0-9]* missed by this listener" "$out/stopped.err"'
log=$relay/omhostd.log
# A listener's exit reaches omhostd as a hang-up it logs a moment later.
all_detached() {
	[ "$(grep -c "trace: listener attached" "$log")" -eq "$(grep -c "trace: listener detached" "$log")" ]
}
for _ in $(seq 1 50); do
	all_detached && break
	sleep 0.1
done
check "omhostd: every listener that attached detached ($(grep -c "trace: listener attached" "$log") attached, $(grep -c "trace: listener detached" "$log") detached)" all_detached
check "omhostd evicted no one" '! grep -q "evicted" "$log"'

"$omtrace" -r "$out/capture.pcapng" --json -q >"$out/capture.json"
tshark -X lua_script:"$lua" -r "$out/capture.pcapng" -T fields -E separator=/t \
	-e omvm.type_name -e omvm.src_node -e omvm.dst_node -e omvm.len \
	>"$out/tshark.tsv" 2>"$out/tshark.err"
tshark -X lua_script:"$lua" -r "$out/capture.pcapng" -V >"$out/tshark.verbose" 2>>"$out/tshark.err"
if python3 "$(dirname "$0")/trace-check.py" "$out" "$count" >"$out/check.tap"; then
	rc=0
else
	rc=1
fi
# Renumber trace-check's lines into this test's sequence.
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) not_ok "${line#not ok * - }" ;;
	"1.."*) ;;
	*) echo "$line" ;;
	esac
done <"$out/check.tap"
[ "$rc" -eq 0 ] || [ "$E2E_FAILED" -gt 0 ] || not_ok "trace-check.py failed"

oc down
check "down leaves no process behind" '[ -z "$(e2e_leftovers)" ]'
e2e_finish
