#!/usr/bin/env bash
# The engine's costs, in a 2-guest cluster, one run: freeze and total time
# of a move against resident memory (1 MiB to 256 MiB), a forwarded
# no-op system call against the same call run locally, and a write() and a
# read() of 4 KiB, 64 KiB and 1 MiB of a file at home, away against at home
# (docs/benchmarks.md).
#
# usage: engine-bench.sh OMCLUSTER [extra omcluster up arguments]
set -euo pipefail
omc=$1
shift
run=$(mktemp -d /tmp/om-bench.XXXXXX)
oc() { "$omc" --run-dir "$run" -c bench "$@"; }
cleanup() {
	oc down -t 10 >/dev/null 2>&1 || true
	rm -rf "$run"
}
trap cleanup EXIT

timeout 600 "$omc" --run-dir "$run" -c bench up -n 2 --mem 1024 --timeout 300 --append om.balance=0 "$@" >/dev/null
echo "engine-bench: 2 guests, $(oc status | awk 'NR == 2 { print $0 }' | grep -o 'tcg\|kvm' || echo tcg)"
for mib in 1 4 16 64 256; do
	oc exec -t 900 1 -- /usr/libexec/omvm/om-bench move 2 "$mib"
done
oc exec -t 900 1 -- /usr/libexec/omvm/om-bench syscall 2 2000
# Each size with the calls' buffers sent along (om.callbuf, the default)
# and without (every page fetched on fault), in the same run.
for kib in 4 64 1024; do
	for cb in 0 1; do
		oc exec -t 30 2 -- sh -c "echo $cb >/sys/module/om/parameters/callbuf"
		echo "callbuf $cb: $(oc exec -t 900 1 -- /usr/libexec/omvm/om-bench io 2 "$kib")"
	done
done

# A shell script's cost away: a loop, a pipeline and SCRIPT_CMDS short-lived
# commands, run unmoved on node 1 and moved (by itself, before its loop) to
# node 2, in the same run; output compared, wall times, and the round trips
# home for calls that run only there (debug's home_calls) per 1,000
# processes it creates.
cmds=${SCRIPT_CMDS:-200}
cat >"$run/script.sh" <<SCRIPT
to=\$1
[ "\$to" = home ] || echo "\$to" >/proc/\$\$/hpc/where
i=0
while [ \$i -lt 300 ]; do echo \$((i * 7919 % 97)); i=\$((i + 1)); done | sort | uniq -c | sort -n
for i in \$(seq $cmds); do /bin/true; done
echo "where \$(cat /proc/\$\$/hpc/where)"
c=\$(sed -n 's/^home_calls: //p' /proc/\$\$/hpc/debug)
echo "\${c:-0}" >/tmp/script.calls
SCRIPT
oc cp "$run/script.sh" 1:/tmp/script.sh
# Timed at home by its uptime (busybox's date has no %N), to 10 ms.
script_run() {
	oc exec -t 1800 1 -- sh -c "read t0 _ </proc/uptime; sh /tmp/script.sh $1 >/tmp/script.$1; read t1 _ </proc/uptime;
		awk -v a=\$t0 -v b=\$t1 'BEGIN { printf \"%d \", (b - a) * 1000 }'; cat /tmp/script.calls"
}
# The processes it creates: one per command, the pipeline's five, $(seq) and $(cat).
procs=$((cmds + 7))
# Node 1's busy time (user + nice + system jiffies), node 2's births for processes away.
busy1() { oc exec -t 30 1 -- awk '$1 == "cpu" { print $2 + $3 + $4 }' /proc/stat; }
born2() { oc exec -t 30 2 -- awk '$1 == "born_here" { print $2 }' /proc/hpc/admin/stats; }
b0=$(busy1)
read -r here_ms _ < <(script_run home)
b1=$(busy1) n1=$(born2)
read -r away_ms away_calls < <(script_run 2)
b2=$(busy1) n2=$(born2)
same=same
[ "$(oc exec -t 30 1 -- sh -c 'sed "\$d" /tmp/script.home | md5sum; sed "\$d" /tmp/script.2 | md5sum' | uniq | wc -l)" -eq 1 ] ||
	same=DIFFERENT
echo "script ($procs processes): unmoved ${here_ms} ms, moved to node 2 ${away_ms} ms," \
	"ratio $(awk -v a="$away_ms" -v h="$here_ms" 'BEGIN { printf "%.2f", a / h }')," \
	"$(awk -v c="$away_calls" -v p="$procs" 'BEGIN { printf "%.0f", c * 1000 / p }') home round trips per 1,000 processes;" \
	"$((n2 - n1)) processes born at node 2; node 1 busy $((b1 - b0)) jiffies unmoved, $((b2 - b1)) moved;" \
	"output (but its where line) $same"
[ "$same" = same ]
