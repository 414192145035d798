#!/usr/bin/env bash
# Builds the guest's initramfs, reproducibly: Debian's static busybox, the
# files under guest-image/rootfs and the guest programs given as SRC=DEST.
# Same inputs, same bytes: fixed owners and times, sorted entries, gzip -n.
#
# usage: build-initramfs.sh OUT BUSYBOX ROOTFS_DIR [SRC=DEST ...]
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 OUT BUSYBOX ROOTFS_DIR [SRC=DEST ...]" >&2; exit 2; }
out=$1 busybox=$2 rootfs=$3
shift 3

stage=$(mktemp -d "${out}.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/log}
install -m 0755 "$busybox" "$stage/bin/busybox"
# One link per applet, as `busybox --install -s` would make, but at build time.
"$busybox" --list-full | while read -r applet; do
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
ln -s bin/busybox "$stage/init"
cp -R "$rootfs"/. "$stage"/
for entry in "$@"; do
	src=${entry%%=*} dest=${entry#*=}
	[ -f "$src" ] || { echo "build-initramfs: $src does not exist" >&2; exit 1; }
	mkdir -p "$stage/$(dirname "$dest")"
	install -m 0755 "$src" "$stage/$dest"
done

chmod 1777 "$stage/tmp"
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 >"$out.tmp"
mv -f "$out.tmp" "$out"
