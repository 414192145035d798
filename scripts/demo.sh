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
		'echo "$(hostname): kernel $(uname -r), $(cat /proc/cmdline | grep -o "om.node=[0-9]*")"; cat /proc/hpc/admin/version'
done
echo "---"
"$omc" -c "$cluster" status
