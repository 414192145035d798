#!/usr/bin/env bash
# The Wireshark dissector (build/host/trace/omvm.lua, generated from the
# protocol header) against Debian's tshark: a capture with a message of
# every type in the header's table (tests/support/trace-sample.c) must
# decode with no malformed packet, no unknown type and no expert error,
# one omvm record per packet, each with the type name and the decoded
# fields omtrace's own decoder gives (omtrace -r reads the same file back);
# a relay link's frames of every type, up and down, likewise.
#
# usage: trace-dissector.sh TRACE_SAMPLE OMTRACE OMVM_LUA
set -uo pipefail
sample=$1 omtrace=$2 lua=$3
tmp=$(mktemp -d /tmp/om-dissector.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }

if ! command -v tshark >/dev/null; then
	echo "tshark is not installed: scripts/setup-host.sh installs it (Debian's tshark)" >&2
	echo "1..0"
	exit 1
fi

"$sample" "$tmp/sample.pcapng" "$tmp/expected" || { echo "trace-sample failed"; exit 1; }
packets=$(wc -l <"$tmp/expected")

# Wireshark refuses Lua files it cannot load only with a message: catch it.
tshark -X lua_script:"$lua" -r "$tmp/sample.pcapng" -V >"$tmp/verbose" 2>"$tmp/stderr"
rc=$?
if [ $rc -eq 0 ] && ! grep -qi 'lua' "$tmp/stderr"; then
	ok "tshark reads the capture with the dissector"
else
	not_ok "tshark reads the capture with the dissector (status $rc)"
	sed 's/^/#   /' "$tmp/stderr"
fi

frames=$(grep -c '^Frame [0-9]*:' "$tmp/verbose")
records=$(grep -c '^omvm trace record' "$tmp/verbose")
if [ "$frames" -eq "$packets" ] && [ "$records" -eq "$packets" ]; then
	ok "$packets packets, each one omvm record"
else
	not_ok "$packets packets written, tshark shows $frames frames and $records omvm records"
fi

bad=$(grep -nE 'Malformed|Unknown|unknown|\[Expert Info \(Error' "$tmp/verbose" | head -20)
if [ -z "$bad" ]; then
	ok "no malformed packet, unknown type or expert error"
else
	not_ok "malformed, unknown or errors in tshark's output:"
	echo "$bad" | sed 's/^/#   /'
fi

# Type and decoded fields per packet; the missed record by its count; a
# link's frame or event as the link decodes it (a DATA frame's message too).
tshark -X lua_script:"$lua" -r "$tmp/sample.pcapng" -T fields -E separator=/t \
	-e omvm.type_name -e omvm.decoded -e omvm.trace.missed -e omvm.link.decoded 2>/dev/null |
	awk -F'\t' '{ if ($4 != "") print "link\t" $4; else if ($3 != "") print "missed\t" $3;
		else print $1 "\t" $2 }' >"$tmp/tshark"
if diff -u "$tmp/expected" "$tmp/tshark" >"$tmp/diff"; then
	ok "every type is named and its fields decoded as omtrace decodes them"
else
	not_ok "tshark's names and fields differ from omtrace's:"
	sed 's/^/#   /' "$tmp/diff" | head -40
fi

# Every type of the header's table is in the sample.
types=$(cut -f1 "$tmp/tshark" | sort -u | grep -vcE '^(missed|link)$')
table=$("$omtrace" -r "$tmp/sample.pcapng" --summary -q | awk '/^type /{t=1; next} /^pair /{t=0} t' | wc -l)
if [ "$types" -eq "$table" ] && [ "$types" -gt 0 ]; then
	ok "$types types decoded by name, as many as omtrace -r counts"
else
	not_ok "tshark names $types types, omtrace -r counts $table"
fi

# omtrace reads its own capture back: as many messages as written.
links=$(grep -c '^link' "$tmp/expected")
msgs=$("$omtrace" -r "$tmp/sample.pcapng" --json -q | grep -c '"event":"\(relayed\|undeliverable\)"')
if [ "$msgs" -eq $((packets - 1 - links)) ]; then
	ok "omtrace -r reads back $msgs messages"
else
	not_ok "omtrace -r reads back $msgs messages, $((packets - 1 - links)) written"
fi

# And the link's records, each as written: omtrace's line of each against the sample's.
"$omtrace" -r "$tmp/sample.pcapng" -q | grep ' link ' | sed 's/^[^ ]* link //' >"$tmp/link-lines"
if [ "$(wc -l <"$tmp/link-lines")" -eq "$links" ] && [ "$links" -eq 9 ] &&
	grep -qx 'hostB tx DATA seq 2 ack 0 len 56 src 1 dst 3 src_pid 42 dst_pid 0 type PING len 8 seq 9' "$tmp/link-lines" &&
	grep -qx 'hostB down: closed by the peer' "$tmp/link-lines"; then
	ok "omtrace -r reads back the link's $links records"
else
	not_ok "omtrace -r's link records ($links written):"
	sed 's/^/#   /' "$tmp/link-lines"
fi

echo "1..$n"
exit $fail
