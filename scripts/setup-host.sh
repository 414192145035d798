#!/usr/bin/env bash
# Installs everything the build, the cluster tool and the tests need on a
# Debian 12 host, as root. Idempotent: when every package is present it
# returns at once without touching the network.
set -euo pipefail

PACKAGES=(
	# host programs and tests
	build-essential pkg-config meson ninja-build liburing-dev libcmocka-dev
	# omhostd's links between hosts: TLS 1.3 with pre-shared keys (OpenSSL 3)
	libssl-dev
	# omhostd tells systemd it is ready (sd_notify)
	libsystemd-dev
	# fuzzing omhostd (libFuzzer)
	clang libclang-rt-14-dev
	# omtrace's Wireshark dissector is tested with Debian's tshark
	tshark
	# relay-bench counts the tap's instructions under callgrind
	valgrind
	# guest kernel from Debian's source package
	# (xz-utils also puts its xz, dynamically linked, in the guest image)
	linux-source-6.12 bc bison flex libelf-dev libssl-dev cpio xz-utils rsync ccache
	# put in the guest image with their libraries: CRIU, which the move
	# benchmark runs beside the engine, and sqlite3 for its forwarded-I/O workload
	criu sqlite3
	# omcluster --hosts puts each host's relay in a network namespace (ip netns, veth)
	iproute2
	# hostd-link-faults drops a share of a relay link's packets (nft, numgen): no netem here
	nftables
	# QEMU 7.2 from Debian's source package
	dpkg-dev libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev python3-venv
	# guest firmware (SeaBIOS, linuxboot option ROM) and guest userland
	seabios qemu-system-data busybox-static
	# omvirt (libvirt's C API, libxml2) and its tests: a libvirtd of their own
	# to define domains against, virt-xml-validate (libvirt-clients), xmllint
	libvirt-dev libxml2-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
	libxml2-utils
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

src_list=/etc/apt/sources.list.d/debian.sources
need_src=0
if [ -f "$src_list" ] && ! grep -q '^Types:.*deb-src' "$src_list"; then
	need_src=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_src -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "setup-host: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi

if [ $need_src -eq 1 ]; then
	# QEMU is built from Debian's source package: apt needs deb-src entries.
	sed -i 's/^Types: deb$/Types: deb deb-src/' "$src_list"
fi

echo "setup-host: installing ${missing[*]:-(source lists only)}" >&2
export DEBIAN_FRONTEND=noninteractive
# wireshark-common (tshark's) asks whether non-root users may capture: no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
