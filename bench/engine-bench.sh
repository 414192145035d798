#!/usr/bin/env bash
# The engine's costs, in a 2-guest cluster, one run: freeze and total time
# of a move against resident memory (1 MiB to 256 MiB), and a forwarded
# no-op system call against the same call run locally (docs/benchmarks.md).
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

timeout 600 "$omc" --run-dir "$run" -c bench up -n 2 --mem 1024 --timeout 300 "$@" >/dev/null
echo "engine-bench: 2 guests, $(oc status | awk 'NR == 2 { print $0 }' | grep -o 'tcg\|kvm' || echo tcg)"
for mib in 1 4 16 64 256; do
	oc exec -t 900 1 -- /usr/libexec/omvm/om-bench move 2 "$mib"
done
oc exec -t 900 1 -- /usr/libexec/omvm/om-bench syscall 2 2000
