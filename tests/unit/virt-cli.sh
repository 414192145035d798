#!/usr/bin/env bash
# omvirt and omvirt-hook as programs, without a libvirtd: the XML `omvirt
# xml` prints for a sample node passes libvirt's own schema
# (virt-xml-validate) with its key elements as written; each failure has
# its message and exit status (bad node id 2, missing kernel 3, libvirt
# unreachable 4); the hook passes other domains and operations and stops
# an om domain whose relay is not there, saying so; install-hook writes
# its script.
#
# usage: virt-cli.sh OMVIRT OMVIRT_HOOK
set -uo pipefail
omvirt=$1 hook=$2
tmp=$(mktemp -d /tmp/om-virt-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
# expect NAME STATUS STDERR CMD...: the command's exit status and whole stderr.
expect() {
	local name=$1 want_rc=$2 want_err=$3 rc
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want_rc" ] && [ "$(cat "$tmp/err")" = "$want_err" ]; then
		ok "$name"
	else
		not_ok "$name: status $rc (want $want_rc), stderr:"
		sed 's/^/#   /' "$tmp/err"
		echo "#   want: $want_err"
	fi
}
# xpath FILE EXPR WANT
xpath() {
	local got
	got=$(xmllint --xpath "$2" "$1" 2>&1)
	if [ "$got" = "$3" ]; then ok "xpath $2 = $3"; else not_ok "xpath $2: '$got', want '$3'"; fi
}

for t in virt-xml-validate xmllint; do
	command -v $t >/dev/null || {
		echo "$t is not installed: scripts/setup-host.sh installs it (libvirt-clients, libxml2-utils)" >&2
		exit 1
	}
done

: >"$tmp/bzImage"
: >"$tmp/initrd.gz"
relay=$tmp/relay
files=(--kernel "$tmp/bzImage" --initrd "$tmp/initrd.gz" --emulator /bin/sh)

expect "omvirt xml for node 3" 0 "" \
	"$omvirt" xml --node 3 --name om-node3 --memory 256 --relay-dir "$relay" "${files[@]}" \
	--append "quiet a=<b>&'c'"
cp "$tmp/out" "$tmp/node3.xml"
if virt-xml-validate "$tmp/node3.xml" domain >"$tmp/validate" 2>&1; then
	ok "virt-xml-validate: the domain XML passes libvirt's schema"
else
	not_ok "virt-xml-validate"
	sed 's/^/#   /' "$tmp/validate"
fi
x=$tmp/node3.xml
xpath "$x" 'string(/domain/name)' om-node3
xpath "$x" 'string(/domain/memory)' 256
xpath "$x" 'string(/domain/memoryBacking/source/@type)' memfd
xpath "$x" 'string(/domain/memoryBacking/access/@mode)' shared
xpath "$x" 'string(/domain/os/cmdline)' "console=ttyS0 loglevel=4 panic=-1 om.node=3 quiet a=<b>&'c'"
xpath "$x" 'string(/domain/devices/console/@type)' pty
xpath "$x" 'string(/domain/devices/channel/target/@name)' org.omvm.agent
xpath "$x" "string(/domain/*[local-name()='metadata']/*[local-name()='node']/@id)" 3
xpath "$x" "string(//*[local-name()='commandline']/*[local-name()='arg'][6]/@value)" \
	"socket,id=om,path=$relay/node-3.sock,reconnect=1"
xpath "$x" "string(//*[local-name()='commandline']/*[local-name()='arg'][8]/@value)" \
	'{"driver":"vhost-user-om-pci","chardev":"om"}'

expect "a bad node id: status 2" 2 \
	"omvirt: --node '0': give a node id, 1-1024 (omvirt help)" \
	"$omvirt" define --node 0 --name a "${files[@]}"
expect "a missing kernel: status 3" 3 \
	"omvirt: kernel $tmp/none: no such file" \
	"$omvirt" define --node 1 --name a --kernel "$tmp/none" --initrd "$tmp/initrd.gz" --emulator /bin/sh
expect "libvirt unreachable: status 4" 4 \
	"omvirt: cannot reach libvirt at qemu+unix:///session?socket=$tmp/no.sock: Failed to connect socket to '$tmp/no.sock': No such file or directory (is libvirtd running?)" \
	"$omvirt" --connect "qemu+unix:///session?socket=$tmp/no.sock" define --node 1 --name a "${files[@]}"
expect "list, libvirt unreachable: status 4" 4 \
	"omvirt: cannot reach libvirt at qemu+unix:///session?socket=$tmp/no.sock: Failed to connect socket to '$tmp/no.sock': No such file or directory (is libvirtd running?)" \
	"$omvirt" -c "qemu+unix:///session?socket=$tmp/no.sock" list

# The hook, as libvirt runs it: DOMAIN OPERATION SUB-OPERATION EXTRA, the XML on stdin.
refusal="omvm: node 3: omhostd is not serving it: $relay/node-3.sock does not exist; start omhostd for node 3 (the omhostd service, or: omhostd --dir $relay --nodes 3; docs/libvirt.md), then start the domain again"
expect "hook: prepare of an om domain without its relay fails, saying why" 1 "$refusal" \
	"$hook" om-node3 prepare begin - <"$x"
expect "hook: other operations pass" 0 "" "$hook" om-node3 started begin - <"$x"
echo "<domain type='qemu'><name>plain</name></domain>" >"$tmp/plain.xml"
expect "hook: a domain that is not om passes" 0 "" "$hook" plain prepare begin - <"$tmp/plain.xml"

expect "install-hook" 0 "" "$omvirt" install-hook --hooks-dir "$tmp/hooks" --hook "$hook"
script=$tmp/hooks/qemu.d/omvm
want_script="#!/bin/sh
# omvm: refuses to start an om domain whose relay (omhostd) does not
# serve its node (docs/libvirt.md). Written by omvirt install-hook.
exec '$(readlink -f "$hook")' \"\$@\""
if [ "$(cat "$script" 2>/dev/null)" = "$want_script" ] && [ "$(stat -c %a "$script")" = 755 ]; then
	ok "install-hook wrote $script, mode 755"
else
	not_ok "install-hook's script"
	sed 's/^/#   /' "$script"
fi
expect "the installed hook runs omvirt-hook" 1 "$refusal" "$script" om-node3 prepare begin - <"$x"

tap_end
