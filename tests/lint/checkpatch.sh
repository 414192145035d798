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
files=$(cd "$top" && ls guest-kernel/om/*.[ch] guest-kernel/include/linux/*.h arch/*/om/*.[ch] virtio-om/driver/*.[ch] \
	virtio-om/include/linux/*.h virtio-om/include/uapi/linux/*.h 2>/dev/null)
for f in $files; do
	extra=()
	# The protocol header's type table is an X-macro list on purpose (one
	# table for every side): not a value to parenthesise.
	[ "$f" = virtio-om/include/uapi/linux/virtio_om.h ] && extra=(--ignore COMPLEX_MACRO,MACRO_ARG_REUSE)
	if ! out=$("$checkpatch" "${opts[@]}" "${extra[@]}" -f "$top/$f" 2>&1); then
		echo "not ok - $f"
		echo "$out" | sed 's/^/#   /'
		status=1
	else
		echo "ok - $f"
	fi
done
for p in "$top"/guest-kernel/patches/*.patch; do
	# Our patches carry a one-line reason, not a mail header.
	if ! out=$("$checkpatch" "${opts[@]}" --ignore COMMIT_MESSAGE,COMMIT_LOG_LONG_LINE,MISSING_SIGN_OFF,GERRIT_CHANGE_ID,FILE_PATH_CHANGES "$p" 2>&1); then
		echo "not ok - $(basename "$p")"
		echo "$out" | sed 's/^/#   /'
		status=1
	else
		echo "ok - $(basename "$p")"
	fi
	head -n 1 "$p" | grep -q '^Why: ' || { echo "not ok - $(basename "$p") does not start with 'Why: '"; status=1; }
done
exit $status
