#!/usr/bin/env bash
# Prints the path of Debian's QEMU 7.2 source, unpacked with Debian's
# patches and nothing of ours, cached under ~/.cache/omvm/src/qemu. Host
# programs build QEMU's libvhost-user from it (see host/omhostd/meson.build).
#
# usage: qemu-source.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OM_LOG_TAG=qemu-source

dsc_name=$(om_qemu_dsc_name)
dir=$OM_CACHE/src/qemu
tree=$dir/${dsc_name%.dsc}
mkdir -p "$dir"
exec 9>"$dir/lock"
flock 9
om_qemu_fetch "$dsc_name"
if [ ! -f "$tree/.om-unpacked" ]; then
	om_log "unpacking $dsc_name"
	rm -rf "$tree"
	# Checks every file against the .dsc's checksums (the .dsc's own is pinned).
	dpkg-source -x "$dir/$dsc_name" "$tree" >/dev/null 2>&1 ||
		om_die "dpkg-source -x $dsc_name failed"
	touch "$tree/.om-unpacked"
fi
echo "$tree"
