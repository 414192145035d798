#!/usr/bin/env bash
# Installs what the build needs (Debian 12, as root) and builds everything:
# host programs, guest programs, the guest kernel, QEMU and the initramfs.
# The kernel and QEMU trees are cached under ~/.cache/omvm: warm, seconds.
#
# usage: build.sh [BUILD_DIR]   (default: build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}

"$top/scripts/setup-host.sh"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" >/dev/null
fi
meson compile -C "$build"
