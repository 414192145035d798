#!/usr/bin/env bash
# Runs every test: installs what is needed (Debian 12, as root), builds the
# whole stack, runs the unit tests under ASan and UBSan, then all tests
# (unit and end-to-end clusters of guests) in the regular build.
#
# usage: test.sh [--slow]
#   --slow  also the slow suite: the engine's whole end-to-end suite again,
#           with more rounds, on the debug guest kernel (every run has a
#           soak of 12 moves on it; this adds one of 400), and on a cluster
#           of libvirt domains (omcluster up --libvirt)
set -uo pipefail
slow=(--no-suite slow)
case "${1:-}" in
--slow) slow=() ;;
"") ;;
*) echo "usage: test.sh [--slow]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
san=$top/build-sanitize
t0=$(date +%s)

"$top/scripts/build.sh" "$build" || { echo "tests: 0 passed, 1 failed (build)"; exit 1; }

if [ ! -f "$san/build.ninja" ]; then
	meson setup "$san" "$top" -Dguest=false -Db_sanitize=address,undefined >/dev/null ||
		{ echo "tests: 0 passed, 1 failed (sanitizer build setup)"; exit 1; }
fi

status=0
echo "== unit tests under ASan and UBSan"
meson test -C "$san" --suite unit --print-errorlogs || status=1
echo "== all tests"
meson test -C "$build" --print-errorlogs "${slow[@]}" || status=1

# One closing line over both runs, from meson's own records.
python3 - "$san/meson-logs/testlog.json" "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        r = json.loads(line)
        if r["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r["result"] == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
echo "test run took $(( $(date +%s) - t0 )) s"
exit $status
