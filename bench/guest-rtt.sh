#!/usr/bin/env bash
# guest-rtt: the round trip of a small message between two guests of one
# cluster, over virtio-om (kcom, relayed by omhostd) and over UDP on a
# virtio-net link between the same two guests, in the same run
# (docs/benchmarks.md, "Guest to guest round trip").
#
# Boots 2 guests with `omcluster up --net`, then from node 1 to node 2, in
# rounds, each round running every path once in a rotating order (the
# machine's load drifts; each path gets every position):
#   kcom          om-ping 2: PING to node 2, PONG from node 2's kernel
#   kcom-process  om-ping -p PORT 2: echoed by a process on node 2
#   udp           om-udp-ping 10.77.0.2: echoed by a process on node 2
# every request an 8-byte payload, each sent when the previous reply is in
# (or --interval MS after the previous request). Prints each round, the
# times of all rounds together, the ratios kcom/udp, and the host CPU time
# per round trip of omhostd and of each guest's QEMU; always takes the
# cluster down.
#
# With --hosts, the same across hosts instead: boots 4 guests over two
# "hosts" (`omcluster up -n 4 --hosts 2`: host 1 serves nodes 1-2, host 2
# nodes 3-4, their relays linked over TLS) and measures kcom's round trip
# from node 1 to node 2 (same host, one relay) and to node 3 (across the
# link, both relays):
#   same-host     om-ping 2: PING to node 2, PONG from its kernel
#   cross-host    om-ping 3: the same to node 3, over the relays' link
# and prints cross-host/same-host (no CPU breakdown in this mode).
#
# usage: guest-rtt.sh [--omcluster FILE] [--rounds N] [--count N] [--interval MS]
#                     [--accel auto|kvm|tcg] [--hosts]
#   --omcluster FILE  default: the build's (build/host/cluster/omcluster)
#   --rounds N        rounds (default 9: each path 3 times in each position)
#   --count N         round trips per path and round (default 1000)
#   --interval MS     from one request to the next; 0 (default): at once
#   --accel A         as omcluster up (default auto)
#   --hosts           node 1 to a node of its host and to one of another (root)
# Exit: 0 when every request was answered; 1 when the cluster did not come
# up, a tool failed or a reply was missing; 2 on a usage error.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
omcluster=$top/build/host/cluster/omcluster
rounds=9
count=1000
interval=0
accel=auto
hosts=
kcom_port=7100
udp_port=7777

usage() {
	sed -n '/^# usage:/,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^Exit'
}

while [ $# -gt 0 ]; do
	case $1 in
	--omcluster) omcluster=${2:?--omcluster needs a file}; shift 2 ;;
	--rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
	--count) count=${2:?--count needs a number}; shift 2 ;;
	--interval) interval=${2:?--interval needs milliseconds}; shift 2 ;;
	--accel) accel=${2:?--accel needs auto, kvm or tcg}; shift 2 ;;
	--hosts) hosts=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "guest-rtt: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for v in rounds count; do
	[[ ${!v} =~ ^[1-9][0-9]{0,5}$ ]] || { echo "guest-rtt: --$v takes 1-999999, not '${!v}'" >&2; exit 2; }
done
[[ $interval =~ ^[0-9]{1,5}$ ]] || { echo "guest-rtt: --interval takes 0-99999 ms, not '$interval'" >&2; exit 2; }
[ -x "$omcluster" ] || { echo "guest-rtt: no omcluster at $omcluster (meson compile -C build)" >&2; exit 1; }

# A cluster of its own, in a directory of its own: nothing shared with
# tests or other clusters, and down on any exit.
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/om-guest-rtt.XXXXXX")
cluster=rtt
oc() {
	"$omcluster" --run-dir "$run_dir" -c "$cluster" "$@"
}
cleanup() {
	timeout 60 "$omcluster" --run-dir "$run_dir" -c "$cluster" down -t 5 >/dev/null 2>&1 || true
	rm -rf "$run_dir"
}
trap cleanup EXIT
# A signal ends the command under way at once (bash would wait for it).
child=
on_signal() {
	[ -z "$child" ] || kill "$child" 2>/dev/null || true
	exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# on_node1 SECONDS CMD...: runs CMD on node 1, killed after SECONDS.
on_node1() {
	local seconds=$1 rc=0
	shift
	oc exec -t "$seconds" 1 -- "$@" &
	child=$!
	wait "$child" || rc=$?
	child=
	return "$rc"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "guest-rtt: $(date -u '+%Y-%m-%d %H:%M UTC'), host $(nproc) CPUs, load average $(load)"
if [ -n "$hosts" ]; then
	spec=(-n 4 --hosts 2)
	paths=(same-host cross-host)
	ratios=(cross-host:same-host)
	peers=(2 3)
else
	spec=(-n 2 --net)
	paths=(kcom kcom-process udp)
	ratios=(kcom:udp kcom-process:udp)
	peers=(2)
fi
if ! up=$(timeout 600 "$omcluster" --run-dir "$run_dir" -c "$cluster" up "${spec[@]}" \
	--accel "$accel" --timeout 300); then
	echo "guest-rtt: the cluster did not come up" >&2
	exit 1
fi
echo "$up" | sed -n 's/^cluster .* is up: /guests: /p'
# The times are the guest's CLOCK_MONOTONIC: say what it counts with.
echo "guest clock source: $(oc exec -t 30 1 -- cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

# Node 1 must see the nodes it pings up over virtio-om before pinging them.
for peer in "${peers[@]}"; do
	for _ in $(seq 1 30); do
		oc exec -t 30 1 -- cat /proc/hpc/nodes | grep -qE "^$peer up " && break
		sleep 1
	done
done

# The echo servers on node 2, outliving the exec that starts them; they end
# with the guest.
[ -n "$hosts" ] || oc exec -t 30 2 -- sh -c "
	setsid om-ping -s -p $kcom_port </dev/null >/tmp/echo-kcom.out 2>&1 &
	setsid om-udp-ping -s -p $udp_port </dev/null >/tmp/echo-udp.out 2>&1 &"

# set_cmd PATH COUNT [-q]: cmd, the command of PATH to run on node 1.
set_cmd() {
	local n=$2
	case $1 in
	kcom) cmd=(om-ping -c "$n" -i "$interval" -t 2000 2) ;;
	kcom-process) cmd=(om-ping -c "$n" -i "$interval" -t 2000 -p "$kcom_port" 2) ;;
	udp) cmd=(om-udp-ping -c "$n" -i "$interval" -t 2000 -p "$udp_port" 10.77.0.2) ;;
	same-host) cmd=(om-ping -c "$n" -i "$interval" -t 2000 2) ;;
	cross-host) cmd=(om-ping -c "$n" -i "$interval" -t 2000 3) ;;
	esac
	[ $# -lt 3 ] || cmd=("${cmd[0]}" "$3" "${cmd[@]:1}")
}

# Warm-up, not counted: code translated (under TCG), caches and queues
# filled, and the servers shown to answer (they may need a moment to start).
for path in "${paths[@]}"; do
	ok=
	for _ in 1 2 3 4 5; do
		set_cmd "$path" 50 -q
		if on_node1 120 "${cmd[@]}" >/dev/null; then ok=1; break; fi
		sleep 1
	done
	[ -n "$ok" ] || { echo "guest-rtt: $path: no answer from node 2" >&2; exit 1; }
done

# Host CPU time (ns) of the processes a round trip crosses, from their
# threads' schedstat: omhostd (it relays kcom's messages, nothing of the
# links'), and each guest's QEMU split into its main thread (under TCG:
# device emulation, virtio-net's included, and interrupt delivery, the
# vhost-user call eventfds' too) and its other threads (mostly the vCPU
# running the guest's code, emulated).
state=$run_dir/$cluster/cluster.state
relay_pid=$(sed -n 's/^relay \([0-9]*\) .*/\1/p' "$state")
[ -z "$hosts" ] || relay_pid=$(sed -n 's/^host-relay 1 \([0-9]*\) .*/\1/p' "$state")
qemu1=$(sed -n 's/^node 1 \([0-9]*\) .*/\1/p' "$state")
qemu2=$(sed -n 's/^node 2 \([0-9]*\) .*/\1/p' "$state")
# cpu_sample: omhostd, node 1 main, node 1 others, node 2 main, node 2 others.
cpu_sample() {
	local pid f tid on_cpu main others
	for pid in "$relay_pid" "$qemu1" "$qemu2"; do
		main=0 others=0
		for f in /proc/"$pid"/task/*/schedstat; do
			read -r on_cpu _ <"$f" || continue
			tid=${f%/schedstat}
			tid=${tid##*/}
			if [ "$tid" = "$pid" ]; then
				main=$((main + on_cpu))
			else
				others=$((others + on_cpu))
			fi
		done
		if [ "$pid" = "$relay_pid" ]; then
			printf '%d ' $((main + others))
		else
			printf '%d %d ' "$main" "$others"
		fi
	done
	echo
}

# Each path's round-trip times (ms), one a line, over all rounds.
# Its CPU samples around each round: 5 before, 5 after, one round a line.
for path in "${paths[@]}"; do
	: >"$run_dir/$path.times"
	: >"$run_dir/$path.cpu"
done
exec_timeout=$((120 + count * (interval + 50) / 1000))
np=${#paths[@]}
echo "$rounds rounds of $count round trips per path, node 1 to node ${peers[*]}, interval $interval ms"
for r in $(seq 1 "$rounds"); do
	# Rotate the order: in round r, path (r-1) mod np goes first.
	for k in $(seq 0 $((np - 1))); do
		path=${paths[$(((r - 1 + k) % np))]}
		out=$run_dir/$path.$r
		set_cmd "$path" "$count"
		cpu_before=$(cpu_sample)
		if ! on_node1 "$exec_timeout" "${cmd[@]}" >"$out" 2>&1; then
			echo "guest-rtt: round $r, $path failed:" >&2
			tail -n 5 "$out" >&2
			exit 1
		fi
		echo "$cpu_before $(cpu_sample)" >>"$run_dir/$path.cpu"
		sed -n 's/.* bytes from .* time=\([0-9.]*\) ms$/\1/p' "$out" >>"$run_dir/$path.times"
		printf 'round %d  %-13s %s\n' "$r" "$path" "$(grep '^rtt min/median/p99/mean' "$out")"
	done
done

# min, median, p99 (nearest rank) and mean of a file of times, as the tools
# compute them (guest-tools/rtt/rtt-stats.h); then max and count.
summary() {
	sort -g "$1" | awk '
		{ t[NR] = $1; sum += $1 }
		END {
			n = NR; r = int((n * 99 + 99) / 100)
			med = n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
			printf "%.3f %.3f %.3f %.3f %.3f %d\n", t[1], med, t[r], sum / n, t[n], n
		}'
}

echo
echo "all rounds (ms):"
printf '%-13s %8s %8s %8s %8s %8s %7s\n' path min median p99 mean max count
declare -A stat
for path in "${paths[@]}"; do
	read -r min med p99 mean max n < <(summary "$run_dir/$path.times")
	printf '%-13s %8s %8s %8s %8s %8s %7s\n' "$path" "$min" "$med" "$p99" "$mean" "$max" "$n"
	stat[$path]="$min $med $p99 $mean"
done
echo
echo "ratios (below 1: the first is faster):"
printf '%-24s %8s %8s %8s %8s\n' "" min median p99 mean
for pair in "${ratios[@]}"; do
	a=${pair%%:*} b=${pair#*:}
	printf '%-24s ' "$a/$b"
	awk -v a="${stat[$a]}" -v b="${stat[$b]}" 'BEGIN {
		split(a, x); split(b, y)
		printf "%8.2f %8.2f %8.2f %8.2f\n", x[1] / y[1], x[2] / y[2], x[3] / y[3], x[4] / y[4]
	}'
done
if [ -n "$hosts" ]; then
	echo
	echo "load average at the end: $(load)"
	exit 0
fi
echo
echo "host CPU per round trip (us); node 1's main thread also carries the"
echo "agent's exec of the tool and its output, alike for every path:"
printf '%-13s %8s %11s %11s %11s %11s %8s\n' path omhostd node1-main node1-vcpu \
	node2-main node2-vcpu total
for path in "${paths[@]}"; do
	printf '%-13s ' "$path"
	awk -v n="$((rounds * count))" '
		{ for (i = 1; i <= 5; i++) d[i] += $(i + 5) - $i }
		END {
			for (i = 1; i <= 5; i++) { t += d[i]; printf "%*.1f ", i == 1 ? 8 : 11, d[i] / n / 1000 }
			printf "%8.1f\n", t / n / 1000
		}' "$run_dir/$path.cpu"
done
echo
echo "load average at the end: $(load)"
