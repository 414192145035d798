#!/usr/bin/env bash
# The main job: build what is needed, boot a 3-guest cluster, show each
# guest answering, and tear the cluster down.
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
echo "---"
"$omc" -c "$cluster" status
"$omc" -c "$cluster" relay status
