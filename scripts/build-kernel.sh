#!/usr/bin/env bash
# Builds the guest kernel: Debian's linux-source-6.12 + guest-kernel/patches,
# with the engine (guest-kernel/om, arch/x86/om), the virtio-om driver
# (virtio-om/driver) and its headers synced in, configured from tinyconfig +
# guest-kernel/config.
#
# usage: build-kernel.sh BZIMAGE_OUT RELEASE_OUT TREE_LINK_OUT [debug]
#
# The tree is keyed by the source version, the patch series and the config
# fragment; engine files are synced so a change to one rebuilds incrementally.
# "debug" adds guest-kernel/config/debug.config (KASAN, lockdep, kmemleak...)
# in a tree of its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OM_LOG_TAG=kernel

[ $# -eq 3 ] || { [ $# -eq 4 ] && [ "$4" = debug ]; } ||
	om_die "usage: $0 BZIMAGE_OUT RELEASE_OUT TREE_LINK_OUT [debug]"
out_image=$1
out_release=$2
out_tree=$3 # a link to the tree, for tools that need it (checkpatch, KUnit)
variant=${4:-}

tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || om_die "$tarball missing: run scripts/setup-host.sh"
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
fragment=$OM_TOP/guest-kernel/config/guest.config
if [ "$variant" = debug ]; then
	OM_LOG_TAG=kernel-debug
	# One fragment: guest.config without what debug.config sets, then it.
	combined=$(mktemp)
	trap 'rm -f "$combined"' EXIT
	awk 'FNR == NR { if (match($0, /CONFIG_[A-Z0-9_]+/)) set[substr($0, RSTART, RLENGTH)] = 1; next }
	     !(match($0, /CONFIG_[A-Z0-9_]+/) && (substr($0, RSTART, RLENGTH) in set))' \
		"$OM_TOP/guest-kernel/config/debug.config" "$fragment" >"$combined"
	cat "$OM_TOP/guest-kernel/config/debug.config" >>"$combined"
	fragment=$combined
fi
recipe=2 # bump when this script changes how a tree is prepared

mapfile -t patches < <(om_series_files "$OM_TOP/guest-kernel/patches")
key=$(om_hash "recipe $recipe" "linux-source $src_version" "${patches[@]}" \
	"$OM_TOP/guest-kernel/patches/series" "$OM_TOP/guest-kernel/config/guest.config" \
	${variant:+"$OM_TOP/guest-kernel/config/debug.config"})
om_open_tree kernel "$key"
tree=$base/linux # sources only: synced files are never mixed with objects
obj=$base/obj

if [ ! -f "$base/prepared" ]; then
	om_log "preparing tree $key from linux-source $src_version"
	rm -rf "$tree" "$base/tmp"
	mkdir -p "$base/tmp"
	tar -C "$base/tmp" -xf "$tarball"
	mv "$base/tmp/linux-source-6.12" "$tree"
	rmdir "$base/tmp"
	om_apply_series "$OM_TOP/guest-kernel/patches" "$tree"
	touch "$base/prepared"
fi

om_sync "$OM_TOP/guest-kernel/om" "$tree/kernel/om"
om_sync "$OM_TOP/arch/x86/om" "$tree/arch/x86/om"
om_sync "$OM_TOP/virtio-om/driver" "$tree/drivers/virtio/om"
om_install_if_changed "$OM_TOP/virtio-om/include/uapi/linux/virtio_om.h" \
	"$tree/include/uapi/linux/virtio_om.h"
om_install_if_changed "$OM_TOP/virtio-om/include/uapi/linux/om_kcom.h" \
	"$tree/include/uapi/linux/om_kcom.h"
om_install_if_changed "$OM_TOP/virtio-om/include/linux/om_kcom.h" \
	"$tree/include/linux/om_kcom.h"
om_install_if_changed "$OM_TOP/guest-kernel/include/linux/om.h" "$tree/include/linux/om.h"

export CCACHE_DIR=${CCACHE_DIR:-$OM_CACHE/ccache}
export CCACHE_BASEDIR=$base CCACHE_NOHASHDIR=1
# The same inputs make the same kernel: no build time, host or counter in it.
export KBUILD_BUILD_TIMESTAMP="linux-source $src_version" KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_USER=omvm KBUILD_BUILD_HOST=omvm
kmake=(make -C "$tree" O="$obj" ARCH=x86_64 "CC=ccache gcc" -j"$OM_JOBS")
mkdir -p "$obj"

if [ ! -f "$obj/.config" ]; then
	om_log "configuring (tinyconfig + $(basename "$fragment"))"
	"${kmake[@]}" -s tinyconfig >/dev/null
	(cd "$tree" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$obj" \
		"$obj/.config" "$fragment" >/dev/null)
	"${kmake[@]}" -s olddefconfig >/dev/null
	# An option that did not stick (typo, unmet dependency) is an error.
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$obj/.config" || { om_log "config: $line did not stick"; bad=1; } ;;
		"# CONFIG_"*" is not set") grep -qxF "$line" "$obj/.config" || { om_log "config: $line did not stick"; bad=1; } ;;
		esac
	done <"$fragment"
	if [ $bad -ne 0 ]; then
		rm -f "$obj/.config"
		om_die "the config fragment does not apply cleanly"
	fi
fi

# What make would look at that can change without a new tree: when none of
# it changed since the last good build, make has nothing to do; skip its walk.
mapfile -t synced < <(find "$OM_TOP/guest-kernel/om" "$OM_TOP/arch/x86/om" \
	"$OM_TOP/virtio-om/driver" -type f | LC_ALL=C sort)
inputs=$(om_hash "$key" "${synced[@]}" "$OM_TOP/virtio-om/include/uapi/linux/virtio_om.h" \
	"$OM_TOP/virtio-om/include/uapi/linux/om_kcom.h" "$OM_TOP/virtio-om/include/linux/om_kcom.h" \
	"$OM_TOP/guest-kernel/include/linux/om.h" \
	"$(env | grep -E '^KBUILD_' | sort)" "gcc $(gcc -dumpfullversion)")
if [ "$(cat "$base/built" 2>/dev/null)" = "$inputs" ] && [ -f "$obj/arch/x86/boot/bzImage" ]; then
	om_log "up to date"
else
	rm -f "$base/built"
	om_log "building bzImage (log: $base/build.log)"
	if ! "${kmake[@]}" bzImage 2>&1 | om_progress kernel "$base/build.log"; then
		tail -n 30 "$base/build.log" >&2
		om_die "kernel build failed (full log: $base/build.log)"
	fi
	grep -E '(^|: )(error|warning):' "$base/build.log" |
		grep -E 'kernel/om/|arch/x86/om/|drivers/virtio/om/|include/(uapi/)?linux/om(_kcom)?\.h' >&2 &&
		om_die "the engine or the virtio-om driver builds with warnings (see above)"
	echo "$inputs" >"$base/built"
fi

om_install_if_changed "$obj/arch/x86/boot/bzImage" "$out_image"
release=$(cat "$obj/include/config/kernel.release")
if [ "$(cat "$out_release" 2>/dev/null)" != "$release" ]; then
	echo "$release" >"$out_release"
fi
if [ "$(readlink "$out_tree" 2>/dev/null)" != "$tree" ]; then
	ln -sfn "$tree" "$out_tree"
fi
om_log "ready: $release"
# The normal kernel and the debug one, and one more.
om_prune kernel 3
