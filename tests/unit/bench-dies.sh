#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# relay-bench and fairness-bench fail, and say so, when their omhostd dies:
# killed by SIGSEGV while it relays, or (relay-bench) dying of SIGSEGV when
# told to stop, as a crash on the front-ends' disconnect would show. Their
# figures would otherwise stand for an omhostd that crashed.
#   bench-dies.sh RELAY_BENCH FAIRNESS_BENCH OMHOSTD
set -u
relay=$1 fairness=$2 omhostd=$3
tmp=$(mktemp -d /tmp/bench-dies.XXXXXX) || exit 1
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

# check NAME RC OUT LINE FAILURE: exit status 1, LINE on a line of its own,
# and FAILURE among the run's failures.
check() {
	if [ "$2" -ne 1 ]; then
		echo "FAIL $1: exited with $2, not 1"
	elif ! grep -qxF "$4" "$3"; then
		echo "FAIL $1: no line '$4'"
	elif ! grep -qF "$5" "$3"; then
		echo "FAIL $1: no '$5'"
	else
		echo "ok $1: $4"
		return
	fi
	fails=$((fails + 1))
	sed 's/^/  | /' "$3"
}

# relay WRAPPER SECONDS WHAT: relay-bench against omhostd WRAPPER.
relay() {
	out=$tmp/relay-$1.out
	"$relay" --omhostd "$tmp/$1" --seconds "$2" --reps 1 --sizes 64 --trace-rounds 0 \
		--no-stream >"$out" 2>&1
	check "relay-bench, $1" $? "$out" "relay-bench: omhostd $tmp/$1 $3" \
		"relay-bench: FAILED: omhostd $3"
}

relay segv-while-relaying 3 "died of signal 11 (Segmentation fault) while relaying"
relay segv-on-stop 0.25 "died of signal 11 (Segmentation fault) when told to stop (SIGTERM)"

out=$tmp/fairness.out
"$fairness" --omhostd "$tmp/segv-while-relaying" --rounds 1 --warm-up 0.5 --seconds 0.5 \
	>"$out" 2>&1
check "fairness-bench, segv-while-relaying" $? "$out" \
	"fairness-bench: omhostd $tmp/segv-while-relaying died of signal 11 (Segmentation fault)" \
	"fairness-bench: FAIL: "
exit $((fails != 0))
