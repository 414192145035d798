#!/usr/bin/env bash
# omhostd tells systemd it is ready (Type=notify): with NOTIFY_SOCKET set it
# sends READY=1 and its status once its node and control sockets are there
# (not before), and STOPPING=1 when SIGTERM stops it. A listener in python3
# stands in for systemd.
#
# usage: omhostd-notify.sh OMHOSTD
set -uo pipefail
omhostd=$1
tmp=$(mktemp -d /tmp/om-hostd-notify.XXXXXX)
pid=
listener=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; [ -z "$listener" ] || kill "$listener" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
mkdir "$tmp/relay"

# Each datagram, then what the relay directory holds when it came.
python3 - "$tmp/notify.sock" "$tmp/relay" >"$tmp/heard" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
for _ in range(2):
    msg = s.recv(4096).decode()
    print(repr(msg), ' '.join(sorted(os.listdir(sys.argv[2]))), flush=True)
PY
listener=$!
for i in $(seq 100); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done

NOTIFY_SOCKET=$tmp/notify.sock "$omhostd" --dir "$tmp/relay" --nodes 1-2 >"$tmp/log" 2>&1 &
pid=$!
for i in $(seq 100); do [ -s "$tmp/heard" ] && break; sleep 0.1; done
same "READY=1 with its status, once node and control sockets are there" "$(sed -n 1p "$tmp/heard")" \
	"'READY=1\\nSTATUS=serving nodes 1-2 in $tmp/relay' control.sock node-1.sock node-2.sock"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
wait "$listener"
listener=
same "STOPPING=1 on SIGTERM, then a clean exit" "$(sed -n 2p "$tmp/heard" | cut -d' ' -f1) $rc" \
	"'STOPPING=1' 0"

# Not under systemd: nothing to tell, nothing to complain of.
"$omhostd" --dir "$tmp/relay" --nodes 1 >"$tmp/log2" 2>&1 &
pid=$!
for i in $(seq 100); do grep -q "serving nodes" "$tmp/log2" && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
same "without NOTIFY_SOCKET: no complaint, a clean exit" "$(grep -c systemd "$tmp/log2") $rc" "0 0"
tap_end
