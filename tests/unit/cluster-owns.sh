#!/usr/bin/env bash
# omcluster ends exactly the processes it started, without a VM: a stand-in
# QEMU (answers `-device help`, then sleeps, with a helper started with a
# clean environment) and omhostd behind a wrapper that starts such a helper
# too. Checks: a failed `up` leaves none of them and no cgroup; `down` of a
# cluster (its state written here, its relay started by `relay start`)
# ends omhostd and its helper, removes the cgroup, and spares a user's
# `tail -f` on the cluster's log and a process given OMCLUSTER_OWNER by
# hand; with OMCLUSTER_CGROUP_PARENT=none, up says once that it falls back.
# Skipped (77) where cgroup v2 is not writable.
#
# usage: cluster-owns.sh OMCLUSTER OMHOSTD
set -uo pipefail
omcluster=$1 omhostd=$2
tmp=$(mktemp -d /tmp/om-owns.XXXXXX)
run=$tmp/run
started=()
cleanup() {
	for p in "${started[@]}" $(cat "$tmp"/*.helper 2>/dev/null); do kill "$p" 2>/dev/null; done
	[ -n "${cg:-}" ] && rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/tap.sh"

mnt=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
cg=$mnt${own%/}/omcluster.owns-test.$$
if [ -z "$mnt" ] || ! mkdir "$cg" 2>/dev/null || ! echo $$ >"$cg/cgroup.procs" 2>/dev/null; then
	echo "# cgroup v2 not writable here: skipped"
	cg=
	exit 77
fi
# Back where we were: the test itself is not the cluster's.
echo $$ >"$mnt${own}/cgroup.procs"

cat >"$tmp/qemu" <<QEMU
#!/bin/sh
case "\$*" in *"-device help"*) echo 'name "vhost-user-om-pci", bus PCI'; exit 0;; esac
env -i /bin/sleep 300 &
echo \$! >"$tmp/qemu.\$\$.helper"
exec /bin/sleep 300
QEMU
cat >"$tmp/omhostd" <<HOSTD
#!/bin/sh
env -i /bin/sleep 300 &
echo \$! >"$tmp/omhostd.helper"
exec "$omhostd" "\$@"
HOSTD
chmod +x "$tmp/qemu" "$tmp/omhostd"
echo k >"$tmp/bzImage"
echo i >"$tmp/initrd"
up() {
	"$omcluster" --run-dir "$run" -c "$1" up -n 2 --accel tcg --timeout 2 --qemu "$tmp/qemu" \
		--kernel "$tmp/bzImage" --initrd "$tmp/initrd" --omhostd "$tmp/omhostd" 2>&1
}
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
helpers_left() {
	local p left=
	for f in "$tmp"/*.helper; do
		[ -e "$f" ] || continue
		p=$(cat "$f")
		alive "$p" && left="$left $p"
	done
	echo "${left# }"
}

# 1. A failed up ends what it started, helpers included, and its cgroup.
out=$(up a)
same "up with a stand-in QEMU fails for lack of an agent" "$(grep -c 'no answer in time' <<<"$out")" 2
same "no helper of the stand-ins is left after the failed up" "$(helpers_left)" ""
same "no cgroup of cluster a is left" "$(ls -d "$mnt${own%/}"/omcluster.a.* 2>/dev/null)" ""
helpers=$(helpers_left)
[ -n "$helpers" ] && kill $helpers
rm -f "$tmp"/*.helper

# 2. down ends the cluster's cgroup and nothing else.
dir=$run/b
mkdir -p "$dir/node1" "$cg"
cat >"$dir/cluster.state" <<STATE
omcluster-state 1
name b
dir $dir
accel tcg
accel-reason test
created $(date +%s)
mem-mib 256
cpus 1
omhostd $tmp/omhostd
node 1 0 0 $dir/node1
cgroup $cg
STATE
out=$("$omcluster" --run-dir "$run" -c b relay start 2>&1)
same "relay start" "$(grep -c 'relay started' <<<"$out")" 1
relay=$(sed -n 's/^relay \([0-9]*\) .*/\1/p' "$dir/cluster.state")
tail -f "$dir/relay/omhostd.log" >/dev/null 2>&1 &
started+=($!)
tailpid=$!
OMCLUSTER_OWNER=$dir sleep 300 &
started+=($!)
marked=$!
same "the relay and its helper are in the cgroup" "$(sort -n "$cg/cgroup.procs")" \
	"$(printf '%s\n' "$relay" "$(cat "$tmp/omhostd.helper")" | sort -n)"
out=$("$omcluster" --run-dir "$run" -c b down 2>&1)
same "down" "$out" "cluster 'b' is down: 1 guests and the relay stopped"
alive "$relay" && not_ok "omhostd $relay outlived down" || ok "omhostd is gone"
same "omhostd's helper is gone" "$(helpers_left)" ""
[ -e "$cg" ] && not_ok "the cgroup $cg is still there" || ok "the cgroup is removed"
alive "$tailpid" && ok "a user's tail -f on the cluster's log survives down" ||
	not_ok "a user's tail -f on the cluster's log was killed"
alive "$marked" && ok "a process given OMCLUSTER_OWNER by hand survives down" ||
	not_ok "a process given OMCLUSTER_OWNER by hand was killed"

# 3. Without a cgroup, up says so once; what drops the mark escapes it, as documented.
rm -f "$tmp"/*.helper
out=$(OMCLUSTER_CGROUP_PARENT=none up c)
same "the fallback is told once" "$(grep -c 'no cgroup for the cluster (OMCLUSTER_CGROUP_PARENT=none)' <<<"$out")" 1
helpers=$(helpers_left)
[ -n "$helpers" ] && kill $helpers
tap_end
