#!/usr/bin/env bash
# omvirt against a real libvirtd: the test starts its own virtlogd and
# libvirtd, unprivileged (as nobody when run as root) with every directory
# of theirs under a private runtime directory, so a system libvirtd is never
# touched; defines two om domains, sees them in `virsh list --all` and in
# `omvirt list` with their node ids and the relay's view of each (an
# omhostd serving node 1 only); a taken name and a taken node are refused
# (status 5), a domain that is not om is left alone (status 6); omvirt
# exec and cp refuse a domain that is not running, not om, or not there;
# undefines both, and stops the daemons by pid: nothing is left. No domain
# is started.
#
# usage: virt-libvirtd.sh OMVIRT QEMU OMHOSTD
set -uo pipefail
omvirt=$1 qemu=$2 omhostd=$3
tmp=$(mktemp -d /tmp/om-virt-lv.XXXXXX)
chmod 755 "$tmp"
. "$(dirname "$0")/tap.sh"
# expect NAME STATUS STDOUT+STDERR CMD...
expect() {
	local name=$1 want_rc=$2 want=$3 got rc
	shift 3
	got=$("$@" 2>&1)
	rc=$?
	same "$name (status $rc, want $want_rc)" "$rc $got" "$want_rc $want"
}

for t in libvirtd virtlogd virsh setpriv; do
	command -v $t >/dev/null || {
		echo "$t is not installed: scripts/setup-host.sh installs it (libvirt-daemon, libvirt-clients)" >&2
		exit 1
	}
done
[ -x "$qemu" ] || { echo "no QEMU at $qemu: build it (meson compile -C build)" >&2; exit 1; }

# The daemons' world, in $tmp (tests/support/libvirtd.sh).
. "$(dirname "$0")/../support/libvirtd.sh"
lv_init "$tmp"
mkdir -p "$tmp/bin"
# libvirt probes the emulator as its own user: the build's QEMU is a link into
# root's cache, which nobody cannot enter. A hard link (or a copy) in $tmp.
emu=$tmp/bin/qemu-system-x86_64
ln "$(readlink -f "$qemu")" "$emu" 2>/dev/null || cp "$(readlink -f "$qemu")" "$emu"
: >"$tmp/bzImage"
: >"$tmp/initrd.gz"
relay=$tmp/relay
mkdir -p "$relay"
uri=$lv_uri
omhostd_pid=

cleanup() {
	stop_pid "$omhostd_pid"
	lv_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

if lv_start; then
	ok "our own libvirtd answers at $uri"
else
	not_ok "libvirtd does not answer at $uri"
	tap_end
fi

"$omhostd" --dir "$relay" --nodes 1 >"$tmp/omhostd.log" 2>&1 &
omhostd_pid=$!
for i in $(seq 100); do [ -S "$relay/control.sock" ] && break; sleep 0.1; done

files=(--kernel "$tmp/bzImage" --initrd "$tmp/initrd.gz" --emulator "$emu" --relay-dir "$relay")
expect "omvirt define node 1" 0 "defined domain omt-a: node 1, relay $relay" \
	timeout 60 "$omvirt" -c "$uri" define --node 1 --name omt-a "${files[@]}"
expect "omvirt define node 2" 0 "defined domain omt-b: node 2, relay $relay" \
	timeout 60 "$omvirt" -c "$uri" define --node 2 --name omt-b --memory 256 "${files[@]}"

same "virsh list --all shows both" "$(timeout 10 virsh -c "$uri" list --all --name | sed '/^$/d')" \
	"omt-a
omt-b"
same "omvirt list: node ids, states, the relay's view (omhostd serves node 1 only)" \
	"$(timeout 10 "$omvirt" -c "$uri" list)" \
	"$(printf '%-24s %5s  %-12s %-11s %s\n' NAME NODE STATE RELAY RELAY-DIR \
		omt-a 1 'shut off' absent "$relay" omt-b 2 'shut off' not-served "$relay")"
same "libvirt keeps the omvm mark" \
	"$(timeout 10 virsh -c "$uri" metadata omt-b urn:omvm:libvirt:domain:1 | sed '/^$/d')" \
	"<node id=\"2\" relay-dir=\"$relay\"/>"
same "libvirt keeps memfd shared memory" \
	"$(timeout 10 virsh -c "$uri" dumpxml omt-a | grep -A3 '<memoryBacking>' | sed 's/^ *//')" \
	"<memoryBacking>
<source type='memfd'/>
<access mode='shared'/>
</memoryBacking>"

expect "exec in a domain that is not running: 255" 255 \
	"omvirt: domain omt-a is not running (virsh start omt-a)" \
	timeout 60 "$omvirt" -c "$uri" exec -t 5 omt-a -- true
expect "exec in no domain: 255" 255 "omvirt: no domain named omt-z" \
	timeout 60 "$omvirt" -c "$uri" exec omt-z -- true
expect "cp into a domain that is not running: status 1" 1 \
	"omvirt: domain omt-b is not running (virsh start omt-b)" \
	timeout 60 "$omvirt" -c "$uri" cp "$tmp/bzImage" omt-b:/tmp/x
expect "cp into no domain: status 6" 6 "omvirt: no domain named omt-z" \
	timeout 60 "$omvirt" -c "$uri" cp "$tmp/bzImage" omt-z:/tmp/x

expect "a taken name: status 5" 5 "omvirt: a domain named omt-a already exists" \
	timeout 60 "$omvirt" -c "$uri" define --node 3 --name omt-a "${files[@]}"
expect "a taken node on the same relay: status 5" 5 \
	"omvirt: node 2 on relay $relay is already domain omt-b" \
	timeout 60 "$omvirt" -c "$uri" define --node 2 --name omt-c "${files[@]}"

cat >"$tmp/plain.xml" <<XML
<domain type='qemu'><name>plain</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><emulator>$emu</emulator></devices></domain>
XML
timeout 60 virsh -c "$uri" define "$tmp/plain.xml" >/dev/null
expect "undefine of a domain that is not om: status 6" 6 \
	"omvirt: domain plain is not an om domain (no omvm metadata): omvirt leaves it alone" \
	timeout 60 "$omvirt" -c "$uri" undefine plain
expect "exec in a domain that is not om: 255" 255 \
	"omvirt: domain plain is not an om domain (no omvm metadata)" \
	timeout 60 "$omvirt" -c "$uri" exec plain -- true
same "omvirt list leaves it out" "$(timeout 10 "$omvirt" -c "$uri" list | cut -d' ' -f1 | sort)" \
	"NAME
omt-a
omt-b"
timeout 60 virsh -c "$uri" undefine plain >/dev/null

expect "omvirt undefine omt-a" 0 "undefined domain omt-a" timeout 60 "$omvirt" -c "$uri" undefine omt-a
expect "omvirt undefine omt-b" 0 "undefined domain omt-b" timeout 60 "$omvirt" -c "$uri" undefine omt-b
expect "undefine again: status 6" 6 "omvirt: no domain named omt-b" \
	timeout 60 "$omvirt" -c "$uri" undefine omt-b
same "virsh list --all: none left" "$(timeout 10 virsh -c "$uri" list --all --name | sed '/^$/d')" ""
same "libvirt keeps no definition" "$(ls "$tmp/config/libvirt/qemu" 2>/dev/null | grep '\.xml$')" ""

stop_pid "$omhostd_pid"
omhostd_pid=
lv_stop
same "libvirtd and virtlogd stopped by pid ($(echo $lv_stopped))" "$(echo $lv_stopped | wc -w) $lv_left" "2 "

tap_end
