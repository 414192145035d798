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

ok() {
	E2E_COUNT=$((E2E_COUNT + 1))
	echo "ok $E2E_COUNT - $*"
}

not_ok() {
	E2E_COUNT=$((E2E_COUNT + 1))
	E2E_FAILED=$((E2E_FAILED + 1))
	echo "not ok $E2E_COUNT - $*"
}

# check DESCRIPTION CONDITION: evaluates the shell condition, records the result.
check() {
	if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

# Processes whose command line names the run directory (QEMU and helpers).
e2e_leftovers() {
	pgrep -af -- "$E2E_RUN_DIR/" | grep -v pgrep || true
}

e2e_finish() {
	echo "1..$E2E_COUNT"
	[ "$E2E_FAILED" -eq 0 ]
}
