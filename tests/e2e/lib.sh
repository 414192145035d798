# Helpers for end-to-end tests (sourced). Each test runs its own cluster in
# its own run directory and tears it down on any exit, so a failed or hung
# test leaves nothing behind.
set -euo pipefail

E2E_FAILED=0
E2E_COUNT=0

e2e_init() {
	OMC=$1
	BUILD=$2
	E2E_RUN_DIR=$(mktemp -d /tmp/om-e2e.XXXXXX)
	# Searchable, not listable: libvirt's QEMU (up --libvirt in
	# OM_E2E_UP_ARGS) may run as another user and must reach the relay's
	# sockets below; the cluster's own directories say who may.
	chmod 711 "$E2E_RUN_DIR"
	E2E_CLUSTER=${3:-e2e}
	trap e2e_cleanup EXIT
}

# omcluster on this test's cluster.
oc() {
	"$OMC" --run-dir "$E2E_RUN_DIR" -c "$E2E_CLUSTER" "$@"
}

e2e_cleanup() {
	local c
	for c in "$E2E_RUN_DIR"/*/; do
		[ -d "$c" ] || continue
		"$OMC" --run-dir "$E2E_RUN_DIR" -c "$(basename "$c")" down -t 5 >/dev/null 2>&1 || true
	done
	rm -rf "$E2E_RUN_DIR"
}

# e2e_took: how long since the last result, when long enough to matter
# (to see where a suite's time goes).
E2E_LAST=$SECONDS
e2e_took() {
	local d=$((SECONDS - E2E_LAST))
	E2E_LAST=$SECONDS
	[ "$d" -lt 5 ] || echo "#   ($d s)"
}

ok() {
	E2E_COUNT=$((E2E_COUNT + 1))
	echo "ok $E2E_COUNT - $*"
	e2e_took
}

not_ok() {
	E2E_COUNT=$((E2E_COUNT + 1))
	E2E_FAILED=$((E2E_FAILED + 1))
	echo "not ok $E2E_COUNT - $*"
	e2e_took
}

# check DESCRIPTION CONDITION: evaluates the shell condition, records the result.
check() {
	if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

# Processes whose command line names the run directory (QEMU and helpers).
e2e_leftovers() {
	pgrep -af -- "$E2E_RUN_DIR/" | grep -v pgrep || true
}

# The agent serves one exec at a time per guest: programs that must run
# side by side in a guest run there in the background, in their own
# session, and leave their output and exit status in /tmp/NAME.{out,rc}.
# bg NODE NAME COMMAND...
bg() {
	local node=$1 name=$2
	shift 2
	oc exec -t 30 "$node" -- sh -c \
		"setsid sh -c '$* >/tmp/$name.out 2>&1; echo \$? >/tmp/$name.rc' </dev/null >/dev/null 2>&1 &"
}

# bg_wait NODE NAME SECONDS: waits for it to end; its output on stdout, its status returned.
bg_wait() {
	local i rc
	for ((i = 0; i < $3; i++)); do
		rc=$(oc exec -t 30 "$1" -- cat "/tmp/$2.rc" 2>/dev/null) && break
		sleep 1
	done
	oc exec -t 30 "$1" -- cat "/tmp/$2.out" 2>/dev/null || true
	[ -n "${rc:-}" ] && return "$rc"
	echo "(still running after $3 s)"
	return 124
}

# bg_grep NODE NAME PATTERN SECONDS: until a line of its output matches.
bg_grep() {
	local i
	for ((i = 0; i < $4; i++)); do
		oc exec -t 30 "$1" -- grep -q "$3" "/tmp/$2.out" 2>/dev/null && return 0
		sleep 1
	done
	return 1
}

# Move fault injection (guest-kernel/om/fault.c): debugfs fail_om_move/ on
# NODE mounted and made ready, off until armed (steps and times).
E2E_FAULT_DIR=/sys/kernel/debug/fail_om_move
e2e_fault_setup() {
	oc exec -t 30 "$1" -- sh -c "grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug;
		echo 0 >$E2E_FAULT_DIR/verbose; echo 100 >$E2E_FAULT_DIR/probability;
		echo 0 >$E2E_FAULT_DIR/times"
}

# e2e_moved_as_ref REF_NODE SECONDS: om-compute's runs started with bg, "moved"
# at node 1 (writing through a pipe and to /tmp/moved.file) and its reference
# "ref" at REF_NODE, never moved (/tmp/ref.file): waits for both (at most
# SECONDS each) and checks the moved one ended well, with exactly the
# reference's output and file.
e2e_moved_as_ref() {
	local ref_node=$1 rc=0
	bg_wait 1 moved "$2" >"$E2E_RUN_DIR/moved.out" || rc=$?
	check "the moved run ends well" '[ "$rc" -eq 0 ]'
	bg_wait "$ref_node" ref "$2" >"$E2E_RUN_DIR/ref.out" || true
	check "its output through the pipe at home is the reference's, in order, to its result" \
		'grep -q "^result " "$E2E_RUN_DIR/ref.out" && diff "$E2E_RUN_DIR/ref.out" "$E2E_RUN_DIR/moved.out" >/dev/null'
	check "its file at home is the reference's" \
		'[ "$(oc exec -t 30 1 -- md5sum /tmp/moved.file | cut -d" " -f1)" = "$(oc exec -t 30 "$ref_node" -- md5sum /tmp/ref.file | cut -d" " -f1)" ]'
}

# e2e_wait_nodes N: every guest of an N-guest cluster sees the others up.
e2e_wait_nodes() {
	local n i nodes
	for ((n = 1; n <= $1; n++)); do
		for ((i = 0; i < 30; i++)); do
			nodes=$(oc exec -t 30 "$n" -- cat /proc/hpc/nodes)
			[ "$(grep -cE '^[0-9]+ up ' <<<"$nodes")" -eq $(($1 - 1)) ] && break
			sleep 1
		done
		[ "$(grep -cE '^[0-9]+ up ' <<<"$nodes")" -eq $(($1 - 1)) ] || return 1
	done
}

# e2e_where_becomes NODE PID WANT SECS: /proc/PID/hpc/where at NODE says
# WANT within SECS seconds (a write to where only asks: the process moves at
# its next return to user space, after the write's answer).
e2e_where_becomes() {
	local i
	for ((i = 0; i < $4; i++)); do
		[ "$(oc exec -t 30 "$1" -- cat "/proc/$2/hpc/where")" = "$3" ] && return 0
		sleep 1
	done
	[ "$(oc exec -t 30 "$1" -- cat "/proc/$2/hpc/where")" = "$3" ]
}

# e2e_traffic_start COUNT SEED DIR: om-traffic on guests 1, 2 and 3 at once,
# each sending COUNT messages of 1 B..64 KiB to the two others, in the
# background: guest N's output goes to DIR/traffic.N, the pid of the
# omcluster exec that runs it to E2E_TRAFFIC_PIDS[N-1], for the caller to wait on.
e2e_traffic_start() {
	local n
	E2E_TRAFFIC_PIDS=()
	for n in 1 2 3; do
		oc exec -t 3000 "$n" -- om-traffic --port 7000 --peers 1,2,3 --count "$1" \
			--min-size 1 --max-size 65536 --seed "$2" --timeout 300 \
			>"$3/traffic.$n" 2>&1 &
		E2E_TRAFFIC_PIDS+=($!)
	done
}

e2e_finish() {
	echo "1..$E2E_COUNT"
	[ "$E2E_FAILED" -eq 0 ]
}

# e2e_kernel_reports NODE: what the guest kernel reported of itself (bugs,
# warnings, KASAN, lockdep, sleeping in atomic context); nothing if none.
e2e_kernel_reports() {
	oc exec -t 60 "$1" -- dmesg | grep -E -A3 'BUG:|WARNING:|KASAN|possible (circular|recursive) locking|inconsistent lock state|lock held when returning|sleeping function called from invalid context|suspicious RCU usage|Oops|general protection' || true
}

# e2e_dump NODE: what a test that saw a hang needs to find it: the engine's
# halves, the processes with their kernel stacks and the kernel log's tail.
e2e_dump() {
	oc exec -t 60 "$1" -- sh -c 'cat /proc/hpc/admin/stats /proc/hpc/remote 2>&1
		ps -o pid,ppid,stat,comm 2>/dev/null || ps
		for d in /proc/[0-9]*; do
			case $(cat $d/comm 2>/dev/null) in om-*|sh|sleep) ;; *) continue ;; esac
			echo "--- ${d#/proc/} $(cat $d/comm) $(cat $d/wchan 2>/dev/null)"
			cat $d/stack 2>/dev/null
			cat $d/hpc/where $d/hpc/debug 2>/dev/null
		done
		dmesg | tail -n 60' 2>&1 || echo "node $1 does not answer"
}

# e2e_kmemleak NODE on|clear|report: a debug kernel's kmemleak. on: whether
# the kernel has it; clear forgets what leaked so far (boot); report scans
# (twice: an object is reported after two scans) and prints what leaked
# since. clear and report do nothing on a kernel without it.
e2e_kmemleak() {
	local f=/sys/kernel/debug/kmemleak
	oc exec -t 600 "$1" -- sh -c "grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug
		case $2 in
		on) [ -e $f ] ;;
		clear) [ ! -e $f ] || echo clear >$f ;;
		report) [ ! -e $f ] || { echo scan >$f; sleep 2; echo scan >$f; cat $f; } ;;
		esac"
}

# A step of om-compute takes 1 ms under TCG on one host and 12 ms on
# another (AVX2 emulated): runs that must outlast checks are sized in
# seconds. step_rate: steps a second at node 1, timed in the guest
# (through the test's oc, with $libexec set).
step_rate() {
	local n=200 t
	while :; do
		t=$(oc exec -t 600 1 -- sh -c "read a _ </proc/uptime; $libexec/om-compute $n $n >/dev/null;
			read b _ </proc/uptime; echo \$a \$b") || return 1
		t=$(awk '{ printf "%d", ($2 - $1) * 100 }' <<<"$t")
		[ "$t" -ge 200 ] || [ "$n" -ge 200000 ] || { n=$((n * 10)); continue; }
		echo $((n * 100 / (t > 0 ? t : 1)))
		return 0
	done
}

# steps_for SECONDS: about that long a run, at $rate steps a second.
steps_for() { local n=$((rate * $1)); echo $((n < 1000 ? 1000 : n / 100 * 100)); }
