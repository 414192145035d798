# TAP output for the shell tests of host/virt and dist (sourced):
# ok/not_ok count and print, `same NAME GOT WANT` compares two texts and
# shows both when they differ, `tap_end` prints the plan and exits with the
# verdict.
fail=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:"; echo "$2" | sed 's/^/#     /'
		echo "#   want:"; echo "$3" | sed 's/^/#     /'
	fi
}
tap_end() {
	echo "1..$n"
	exit $fail
}
