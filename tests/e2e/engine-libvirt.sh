#!/usr/bin/env bash
# The engine's end-to-end test (engine.sh, unchanged) on a cluster of
# libvirt domains: `omcluster up --libvirt` against a libvirtd and virtlogd
# of the test's own (tests/support/libvirtd.sh: a session daemon, as nobody
# when run as root, so QEMU runs as nobody and the cluster's relay and
# directories must let it in), with omvirt's hook installed for the run as
# root (every node start and restart passes through it). The guests boot
# from copies nobody can read. Afterwards nothing may be left: no domain,
# no socket of the test's, the daemons stopped by pid.
#
# usage: engine-libvirt.sh OMCLUSTER BUILD_ROOT [MOVE_ROUNDS] [FAULT_ROUNDS]
set -u
here=$(cd "$(dirname "$0")" && pwd)
omc=$1
build=$2
started=$(date +%s)
. "$here/../support/libvirtd.sh"
lv_require_tools
tmp=$(mktemp -d /tmp/om-lvengine.XXXXXX)
chmod 755 "$tmp"
lv_init "$tmp"
cleanup() {
	lv_stop
	lv_hook_remove
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
lv_guest_files "$build" "$tmp/bin"
lv_hook_install "$build/host/virt/omvirt" "$tmp/bin/omvirt-hook"
lv_start || { echo "Bail out! libvirtd does not answer at $lv_uri"; exit 1; }
echo "# libvirtd of our own at $lv_uri, hook ${lv_hook_file:-not installed}"

user=()
[ ${#lv_as[@]} -eq 0 ] || user=(--qemu-user nobody)
export OM_E2E_UP_ARGS="--libvirt --libvirt-uri $lv_uri ${user[*]} --kernel $tmp/bin/bzImage --initrd $tmp/bin/initramfs.cpio.gz --qemu $tmp/bin/qemu-system-x86_64"
bash "$here/engine.sh" "$omc" "$build" "${3:-20}" "${4:-4}"
rc=$?

# engine.sh's plan is printed: what follows are comments, and the status.
left=$(timeout 30 virsh -c "$lv_uri" list --all --name | sed '/^$/d')
[ -z "$left" ] || { echo "# domains left after down: $left"; rc=1; }
lv_stop
[ -z "$lv_left" ] || { echo "# libvirtd or virtlogd still running:$lv_left"; rc=1; }
socks=$(find "$tmp" -type s)
[ -z "$socks" ] || { echo "# sockets left: $socks"; rc=1; }
echo "# engine on libvirt domains: status $rc, $(($(date +%s) - started)) s"
exit $rc
