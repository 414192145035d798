#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# relay-bench fails, and says so, when its omhostd dies: once killed by
# SIGSEGV while it relays, once dying of SIGSEGV when told to stop (as a
# crash on the front-ends' disconnect would show). Its figures would
# otherwise stand for an omhostd that crashed.
#   relay-bench-dies.sh RELAY_BENCH OMHOSTD
set -u
bench=$1 omhostd=$2
tmp=$(mktemp -d /tmp/relay-bench-dies.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

# A real omhostd that gets SIGSEGV 1 s after it starts: in C's first phase.
# (In a sanitizer build the signal must kill it, not be reported by ASan.)
cat >"$tmp/segv-while-relaying" <<EOF
#!/bin/sh
(sleep 1; kill -SEGV \$\$) &
ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}handle_segv=0 exec "$omhostd" "\$@"
EOF
# A real omhostd as its child; told to stop, it stops it, then dies of SIGSEGV.
cat >"$tmp/segv-on-stop" <<EOF
#!/bin/sh
"$omhostd" "\$@" &
child=\$!
trap 'kill -TERM \$child; wait \$child; trap - SEGV; kill -SEGV \$\$' TERM
wait \$child
EOF
chmod +x "$tmp/segv-while-relaying" "$tmp/segv-on-stop"

# case WRAPPER SECONDS EXPECTED: relay-bench must exit 1 and say EXPECTED,
# both on its own line and as the run's failure.
case_of() {
	out=$tmp/$1.out
	"$bench" --omhostd "$tmp/$1" --seconds "$2" --reps 1 --sizes 64 --trace-rounds 0 \
		--no-stream >"$out" 2>&1
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "FAIL $1: relay-bench exited with $rc, not 1"
		fails=$((fails + 1))
	elif ! grep -q "^relay-bench: omhostd $tmp/$1 $3\$" "$out"; then
		echo "FAIL $1: no line 'relay-bench: omhostd $tmp/$1 $3'"
		fails=$((fails + 1))
	elif ! grep -q "^relay-bench: FAILED: omhostd $3\$" "$out"; then
		echo "FAIL $1: the run's failure is not 'omhostd $3'"
		fails=$((fails + 1))
	else
		echo "ok $1: $3"
		return
	fi
	sed 's/^/  | /' "$out"
}

case_of segv-while-relaying 3 "died of signal 11 (Segmentation fault) while relaying"
case_of segv-on-stop 0.25 "died of signal 11 (Segmentation fault) when told to stop (SIGTERM)"
exit $((fails != 0))
