#!/usr/bin/env bash
# The main job: build what is needed, boot a 3-guest cluster, show each
# guest answering, move a running computation from node 1 to node 2, to
# node 3 and home while it writes its progress at home, and tear down.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
omc="$build/host/cluster/omcluster"

"$top/scripts/build.sh" "$build"

cluster=demo
"$omc" -c "$cluster" down >/dev/null 2>&1 || true
trap '"$omc" -c "$cluster" down' EXIT

"$omc" -c "$cluster" up -n 3
for n in 1 2 3; do
	echo "--- node $n"
	"$omc" -c "$cluster" exec -t 30 "$n" -- sh -c \
		'echo "$(hostname): kernel $(uname -r)"; cat /proc/hpc/admin/version; cat /proc/hpc/nodes'
done
echo "--- a virtio-om message and its reply, node 1 to node 3, through omhostd"
"$omc" -c "$cluster" exec -t 60 1 -- om-ping -c 3 3

oc1() { "$omc" -c "$cluster" exec -t 120 1 -- "$@"; }
echo "--- a process started on node 1 moves to node 2, node 3, and home while it runs"
oc1 sh -c 'setsid sh -c "/usr/libexec/omvm/om-compute 20000 2000 >/tmp/demo.out 2>&1" </dev/null >/dev/null 2>&1 &'
sleep 1
pid=$(oc1 pidof om-compute)
echo "om-compute is pid $pid on node 1; its output goes to /tmp/demo.out on node 1"
for to in 2 3 home; do
	oc1 om-migrate "$pid" "$to"
	echo "node 1: /proc/$pid/hpc/where says $(oc1 cat "/proc/$pid/hpc/where")"
	if [ "$to" != home ]; then
		echo "node $to runs it for node 1:"
		"$omc" -c "$cluster" exec -t 30 "$to" -- cat /proc/hpc/remote | sed 's/^/    /'
	fi
	sleep 2
done
while oc1 test -d "/proc/$pid"; do sleep 1; done
echo "its output, written at home by its deputy while it ran away:"
oc1 cat /tmp/demo.out | sed 's/^/    /'
echo "the same computation never moved: $(oc1 /usr/libexec/omvm/om-compute 20000 20000 | tail -n 1)"
echo "---"
"$omc" -c "$cluster" status
"$omc" -c "$cluster" relay status
