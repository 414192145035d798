#!/usr/bin/env bash
# The guest kernel code follows kernel style: checkpatch --strict on every
# engine and virtio-om driver source file, the virtio-om headers and every
# core-kernel patch.
#
# usage: checkpatch.sh SOURCE_ROOT KERNEL_TREE
set -uo pipefail
top=$1 tree=$2
checkpatch=$tree/scripts/checkpatch.pl
[ -x "$checkpatch" ] || { echo "no checkpatch.pl in $tree"; exit 1; }
opts=(--strict --quiet --no-tree --show-types --ignore SPDX_LICENSE_TAG)

status=0
# One run of checkpatch for each kind of file: a run starts Perl and reads
# its word lists again, and one a file took 23 s of the suite (one a kind:
# 15 s).
lint() { # NAME ARGS...: checkpatch over ARGS, one ok/not ok line for NAME
	local name=$1 out
	shift
	if ! out=$("$checkpatch" "${opts[@]}" "$@" 2>&1); then
		echo "not ok - $name"
		echo "$out" | sed 's/^/#   /'
		status=1
	else
		echo "ok - $name"
	fi
}
files=()
for f in "$top"/guest-kernel/om/*.[ch] "$top"/guest-kernel/include/linux/*.h "$top"/arch/*/om/*.[ch] \
	"$top"/virtio-om/driver/*.[ch] "$top"/virtio-om/include/linux/*.h "$top"/virtio-om/include/uapi/linux/*.h; do
	[ -f "$f" ] || continue
	# The protocol header's type table is an X-macro list on purpose (one
	# table for every side): not a value to parenthesise.
	[ "$f" = "$top/virtio-om/include/uapi/linux/virtio_om.h" ] && continue
	files+=("$f")
done
[ ${#files[@]} -gt 0 ] || { echo "not ok - no engine or driver file under $top"; exit 1; }
lint "${#files[@]} engine and driver files" -f "${files[@]}"
lint virtio-om/include/uapi/linux/virtio_om.h --ignore COMPLEX_MACRO,MACRO_ARG_REUSE \
	-f "$top/virtio-om/include/uapi/linux/virtio_om.h"
# Our patches carry a one-line reason, not a mail header.
patches=("$top"/guest-kernel/patches/*.patch)
lint "${#patches[@]} core-kernel patches" \
	--ignore COMMIT_MESSAGE,COMMIT_LOG_LONG_LINE,MISSING_SIGN_OFF,GERRIT_CHANGE_ID,FILE_PATH_CHANGES \
	"${patches[@]}"
for p in "${patches[@]}"; do
	head -n 1 "$p" | grep -q '^Why: ' || { echo "not ok - $(basename "$p") does not start with 'Why: '"; status=1; }
done
exit $status
