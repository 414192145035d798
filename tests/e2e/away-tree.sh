#!/bin/sh
# Runs in a guest (busybox sh), for engine.sh: process trees that run away
# from home whole. Each moves itself to TO first (unless TO is home), then
# makes its processes, and writes what they printed to /tmp/tree.WHAT.TO.
#
# usage: away-tree.sh prep | WHAT TO
#   prep     makes the inputs (before the runs, so that they make no process)
#   noop     nothing (the cost of starting this script, in processes)
#   script   a loop into a pipeline (sort | uniq -c | sort -n) and 200 short
#            commands
#   xz       Debian's xz (dynamically linked) exec'd by a process at TO
#   xargs    xargs -P 3 running xz over 30 files
what=$1 to=$2 out=/tmp/tree.$1.$2
go() { [ "$to" = home ] || echo "$to" >/proc/$$/hpc/where; }

case $what in
prep)
	seq 1 200000 >/tmp/tree.in
	rm -rf /tmp/tree.files
	mkdir -p /tmp/tree.files
	i=0
	while [ $i -lt 30 ]; do seq $((i * 1000)) $((i * 1000 + 3000)) >/tmp/tree.files/f$i; i=$((i + 1)); done
	;;
noop) ;;
script)
	go
	{
		i=0
		while [ $i -lt 300 ]; do echo $((i * 7919 % 97)); i=$((i + 1)); done |
			sort | uniq -c | sort -n
		for i in $(seq 200); do /bin/true; done
		echo "ran $i commands"
	} >"$out"
	;;
xz)
	go
	/usr/bin/xz -2 -c /tmp/tree.in | md5sum >"$out"
	;;
xargs)
	go
	# -f: each run writes its own .xz over the last one's (not taken as input).
	ls /tmp/tree.files/f* | grep -v '\.xz$' | xargs -P 3 -n 1 /usr/bin/xz -2 -k -f
	cat /tmp/tree.files/*.xz | md5sum >"$out"
	;;
*)
	echo "usage: away-tree.sh prep | noop|script|xz|xargs TO" >&2
	exit 2
	;;
esac
