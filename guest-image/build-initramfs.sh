#!/usr/bin/env bash
# Builds the guest's initramfs, reproducibly: Debian's static busybox, the
# files under guest-image/rootfs, the guest programs given as SRC=DEST, and
# dynamically linked programs of this (Debian) machine given as --dynamic
# PATH, each with the libraries and loader ldd names, at their paths.
# Same inputs, same bytes: fixed owners and times, sorted entries, gzip -n.
#
# usage: build-initramfs.sh OUT BUSYBOX ROOTFS_DIR [SRC=DEST | --dynamic PATH ...]
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
dynamic=()
entries=()
while [ $# -gt 0 ]; do
	if [ "$1" = --dynamic ]; then
		[ $# -ge 2 ] || { echo "build-initramfs: --dynamic needs a path" >&2; exit 2; }
		dynamic+=("$2")
		shift 2
	else
		entries+=("$1")
		shift
	fi
done
for prog in "${dynamic[@]}"; do
	[ -x "$prog" ] || { echo "build-initramfs: $prog is not an executable here" >&2; exit 1; }
	entries+=("$prog=$prog")
	# "lib => /path (addr)" and "/lib64/ld-linux-x86-64.so.2 (addr)"; not the vDSO.
	while read -r lib; do
		entries+=("$lib=$lib")
	done < <(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
done
for entry in ${entries[@]+"${entries[@]}"}; do
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
