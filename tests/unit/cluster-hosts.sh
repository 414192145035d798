#!/usr/bin/env bash
# omcluster up --hosts without a VM (a stand-in QEMU that never answers):
# while up waits for its guests, the two hosts' namespaces and the switch
# exist, each relay runs in its own and serves its nodes, the key file is
# 0600, and the relays' link comes up over the veths; when up gives up, it
# leaves no namespace, process or file. An up killed half-way leaves its
# namespaces, and down removes them. Skipped (77) without root or `ip`.
#
# usage: cluster-hosts.sh OMCLUSTER OMHOSTCTL
set -uo pipefail
omcluster=$1 omhostctl=$2
tmp=$(mktemp -d /tmp/om-hosts.XXXXXX)
run=$tmp/run
# Names of this run's own: namespaces are machine-wide, and another run of
# this test (another build's) must not be counted as this one's.
ca=hosts-a-$$ cb=hosts-b-$$
. "$(dirname "$0")/tap.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	echo "# needs root and iproute2's ip: skipped"
	rm -rf "$tmp"
	exit 77
fi
cleanup() {
	"$omcluster" --run-dir "$run" -c "$ca" down -t 2 >/dev/null 2>&1
	"$omcluster" --run-dir "$run" -c "$cb" down -t 2 >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/qemu" <<'QEMU'
#!/bin/sh
case "$*" in *"-device help"*) echo 'name "vhost-user-om-pci", bus PCI'; exit 0;; esac
exec /bin/sleep 300
QEMU
chmod +x "$tmp/qemu"
echo k >"$tmp/bzImage"
echo i >"$tmp/initrd"
# Run in the background only: exec makes $! omcluster's own pid, not a
# subshell's, so that kill -9 "$upid" kills up itself (killing the subshell
# left up running, racing the down after it: a namespace seen left).
up() {
	exec "$omcluster" --run-dir "$run" -c "$1" up -n 3 --hosts 2 --accel tcg --timeout "$2" \
		--qemu "$tmp/qemu" --kernel "$tmp/bzImage" --initrd "$tmp/initrd" >"$tmp/$1.out" 2>&1
}
netns() { ip netns list | awk '{ print $1 }' | grep -E "^omc-$1-[0-9a-f]{8}-" | sort; }
# relay_pid CLUSTER H: host H's relay from the state.
relay_pid() { awk -v h="$2" '$1 == "host-relay" && $2 == h { print $3 }' "$run/$1/cluster.state" 2>/dev/null; }
link_state() { "$omhostctl" -d "$run/$1/host$2/relay" raw 2>/dev/null | sed -n 's/^link=[^ ]* state=\([a-z]*\).*/\1/p'; }

up "$ca" 4 &
upid=$!
for ((i = 0; i < 35; i++)); do
	[ "$(link_state "$ca" 1)" = up ] && [ "$(link_state "$ca" 2)" = up ] && break
	sleep 0.1
done
ns=$(netns "$ca")
same "three namespaces: the switch and two hosts" "$(sed 's/.*-//' <<<"$ns" | tr '\n' ' ')" "h1 h2 sw "
for h in 1 2; do
	pid=$(relay_pid "$ca" "$h")
	hns=$(grep -- "-h$h\$" <<<"$ns")
	if [ -n "$pid" ] && [ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$hns")" ]; then
		ok "host $h's relay (pid $pid) runs in $hns"
	else
		not_ok "host $h's relay (pid '$pid') is not in $hns"
	fi
	same "host $h is 10.78.0.$h on om0" \
		"$(ip -n "$hns" -o -4 addr show dev om0 2>&1 | awk '{ print $4 }')" "10.78.0.$h/24"
done
same "host 1 serves nodes 1-2, host 2 node 3" \
	"$(ls "$run/$ca/host1/relay" "$run/$ca/host2/relay" | grep -c '^node-[0-9].sock$') $(ls "$run/$ca/host2/relay" | grep '^node-')" \
	"3 node-3.sock"
same "the key file: 0600, a line per host, one key" \
	"$(stat -c %a "$run/$ca/link.psk") $(grep -v '^#' "$run/$ca/link.psk" | awk '{ print $2 }' | sort -u | wc -l) $(grep -c '^h[12] ' "$run/$ca/link.psk")" \
	"600 1 2"
same "the relays' link is up both ways" "$(link_state "$ca" 1) $(link_state "$ca" 2)" "up up"
wait "$upid"
same "up fails: no guest answered" "$?" 1
same "the failed up leaves no namespace" "$(netns "$ca")" ""
same "nor its directory" "$(ls "$run" 2>&1)" ""

# An up killed once its hosts are made: down removes them, whatever the state says.
up "$cb" 30 &
upid=$!
for ((i = 0; i < 50; i++)); do
	[ -n "$(relay_pid "$cb" 2)" ] && break
	sleep 0.1
done
kill -9 "$upid"
wait "$upid" 2>/dev/null
# (A child it was forking may outlive it a moment, until its death signal.)
for ((i = 0; i < 20; i++)); do
	left=$(pgrep -f -- "--run-dir $run -c $cb up" | tr '\n' ' ')
	[ -z "$left" ] && break
	sleep 0.1
done
same "up was killed, not only its shell" "$left" ""
same "the killed up left three namespaces" "$(netns "$cb" | wc -l)" 3
rm -f "$run/$cb/cluster.state"
"$omcluster" --run-dir "$run" -c "$cb" down -t 2 >"$tmp/down.out" 2>&1
same "down, the state gone: no namespace left" "$(netns "$cb")" ""
same "and no process of the cluster" "$(pgrep -f -- "$run/$cb/" | tr '\n' ' ')" ""
tap_end
