#!/usr/bin/env bash
# Builds QEMU 7.2 (x86_64 system emulator) from Debian's source package with
# Debian's patches, then qemu-patches/, with the virtio-om UAPI header synced
# into its standard headers.
#
# usage: build-qemu.sh QEMU_OUT
#
# QEMU_OUT becomes a symlink to the binary in the cached build tree, which is
# keyed by the source version, our patch series and the configure flags.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OM_LOG_TAG=qemu

[ $# -eq 1 ] || om_die "usage: $0 QEMU_OUT"
out=$1

# The pinned source package (scripts/lib.sh: version and .dsc hash).
dsc_name=$(om_qemu_dsc_name)
recipe=1 # bump when this script changes how a tree is prepared
configure_flags=(
	--target-list=x86_64-softmmu --without-default-features
	--enable-vhost-user --enable-tcg --enable-kvm --enable-slirp
	--enable-fdt=system --disable-install-blobs --disable-docs --disable-user
	--disable-werror --meson=/usr/bin/meson
	"--cc=ccache gcc"
)
mapfile -t patches < <(om_series_files "$OM_TOP/qemu-patches")
key=$(om_hash "recipe $recipe" "qemu $dsc_name" "${configure_flags[*]}" \
	"${patches[@]}" "$OM_TOP/qemu-patches/series")
om_open_tree qemu "$key"
tree=$base/qemu

om_qemu_fetch "$dsc_name"
if [ ! -f "$base/prepared" ]; then
	om_log "preparing tree $key from $dsc_name"
	rm -rf "$tree"
	dsc=$OM_CACHE/src/qemu/$dsc_name
	# Checks every file against the .dsc's checksums (the .dsc's own is pinned).
	dpkg-source -x "$dsc" "$tree" >/dev/null 2>&1 || om_die "dpkg-source -x $dsc failed"
	rm -f "$base"/*.orig.tar.* # dpkg-source leaves a copy beside the tree
	om_apply_series "$OM_TOP/qemu-patches" "$tree"
	touch "$base/prepared"
fi

# QEMU's standard headers spell kernel types as stdint ones and include
# each other by their path in QEMU's tree (as QEMU's own header import does).
sed -e 's/__le\([0-9][0-9]*\)/uint\1_t/g' -e 's/__u\([0-9][0-9]*\)/uint\1_t/g' \
	-e 's/__s\([0-9][0-9]*\)/int\1_t/g' \
	-e 's|<linux/\([^>]*\)>|"standard-headers/linux/\1"|' \
	"$OM_TOP/virtio-om/include/uapi/linux/virtio_om.h" >"$base/virtio_om.h"
om_install_if_changed "$base/virtio_om.h" "$tree/include/standard-headers/linux/virtio_om.h"

export CCACHE_DIR=${CCACHE_DIR:-$OM_CACHE/ccache}
export CCACHE_BASEDIR=$tree CCACHE_NOHASHDIR=1
if [ ! -f "$tree/build/build.ninja" ]; then
	om_log "configuring"
	rm -rf "$tree/build"
	mkdir -p "$tree/build"
	# Debian's python3 and meson, whatever else is first on PATH.
	(cd "$tree/build" && PATH=/usr/bin:$PATH ../configure "${configure_flags[@]}") \
		>"$base/configure.log" 2>&1 ||
		{ tail -n 30 "$base/configure.log" >&2; om_die "configure failed (log: $base/configure.log)"; }
fi

om_log "building qemu-system-x86_64 (log: $base/build.log)"
if ! PATH=/usr/bin:$PATH ninja -C "$tree/build" -j"$OM_JOBS" qemu-system-x86_64 2>&1 | om_progress qemu "$base/build.log"; then
	tail -n 30 "$base/build.log" >&2
	om_die "QEMU build failed (full log: $base/build.log)"
fi

bin=$tree/build/qemu-system-x86_64
if [ "$(readlink "$out" 2>/dev/null)" != "$bin" ]; then
	ln -sfn "$bin" "$out"
fi
om_log "ready: $("$bin" --version | head -n 1)"
om_prune qemu 2
