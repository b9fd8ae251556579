#!/bin/bash
# Boot the test kernel under QEMU (TCG) with the guest initramfs and collect
# its output.
#
#   run-guest.sh [--cpu pks|nopks] [--mode test|demo|bench] [--timeout SEC]
#                [--name NAME] [--append "extra cmdline"]
#                [--only suite/binary[,suite/binary...]] [--tests NAME,...]
#                [--smp N] [--icount] [--quick] [--plugin SPEC]
#
# --tests: within those binaries, only the tests whose names contain one
# of the comma-separated NAMEs (the others are not run and not reported).
# --icount: QEMU's deterministic instruction counting (-icount
# shift=0,sleep=off): one guest nanosecond is one executed instruction.
# --quick: the short version of the benchmarks (bench mode).  --plugin:
# a QEMU TCG plugin (-plugin SPEC, see scripts/bench-profile.sh).  The kernel
# booted is $MOAT_KOUT's (default build/kbuild, the test kernel).
#
# Writes build/guest/NAME.console (kernel console, ttyS0) and
# build/guest/NAME.out (test output, ttyS1).  Exit status: 0 when the guest
# ran to the end, 1 on timeout or when it stopped early (panic, hang).
. "$(dirname "$0")/lib.sh"

cpu=pks mode=test timeout=1200 name="" append="" smp=2 icount=() plugin=()
while [ $# -gt 0 ]; do
	case "$1" in
	--cpu)		cpu=$2; shift ;;
	--mode)		mode=$2; shift ;;
	--timeout)	timeout=$2; shift ;;
	--name)		name=$2; shift ;;
	--append)	append="$append $2"; shift ;;
	--only)		append="$append moat.only=$2"; shift ;;
	--tests)	append="$append moat.tests=$2"; shift ;;
	--smp)		smp=$2; shift ;;
	--icount)	icount=(-icount shift=0,sleep=off) ;;
	--quick)	append="$append moat.quick=1" ;;
	--plugin)	plugin=(-plugin "$2"); shift ;;
	-h|--help)	sed -n '2,23s/^# \?//p' "$0"; exit 0 ;;
	*)		die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done
case "$cpu" in
pks)	cpuflags="max,+pks" ;;
nopks)	cpuflags="max,-pks" ;;
*)	die "--cpu must be 'pks' or 'nopks', not '$cpu'" ;;
esac
case "$mode" in test|demo|bench) ;; *) die "--mode must be 'test', 'demo' or 'bench'" ;; esac
name=${name:-$mode-$cpu}

kernel=$KOUT/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no kernel at $kernel; run scripts/build-kernel.sh"
[ -d "$BUILD/tests/bin" ] || die "no test programs; run scripts/build-tests.sh"

# --- initramfs: busybox, our tests, test_verifier
root=$BUILD/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin,tests}
cp /bin/busybox "$root/bin/busybox"
cp "$TOP/tests/guest/init" "$root/init"
cp "$TOP/tests/guest/"*.sh "$root/tests/"
cp -a "$BUILD/tests/." "$root/tests/"
if [ "$mode" = test ] && [ -x "$BUILD/selftests/test_verifier" ]; then
	strip -o "$root/tests/test_verifier" "$BUILD/selftests/test_verifier"
fi
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) \
	> "$BUILD/initramfs-$name.cpio.gz"

# --- boot
mkdir -p "$BUILD/guest"
console=$BUILD/guest/$name.console
out=$BUILD/guest/$name.out
rm -f "$console" "$out"
# The demo shows the guest's output live; tests are judged afterwards.
if [ "$mode" != test ]; then
	serial2=(-chardev "stdio,id=out,signal=off,logfile=$out" -serial chardev:out)
else
	serial2=(-serial "file:$out")
fi
# Any oops, soft lockup or hung task ends the run at once (panic=-1 with
# -no-reboot makes QEMU exit); the host reports the log.
cmdline="console=ttyS0 panic=-1 oops=panic softlockup_panic=1"
cmdline+=" hung_task_panic=1 moat.mode=$mode $append"
start=$(date +%s)
set +e
timeout --foreground "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu "$cpuflags" -smp "$smp" "${icount[@]}" "${plugin[@]}" -m 2G \
	-display none -monitor none -no-reboot \
	-serial "file:$console" "${serial2[@]}" \
	-kernel "$kernel" -initrd "$BUILD/initramfs-$name.cpio.gz" \
	-append "$cmdline" 2> "$BUILD/guest/$name.qemu"
rc=$?
set -e
echo "$(( $(date +%s) - start ))" > "$BUILD/guest/$name.seconds"
grep -v "doesn't support requested feature" "$BUILD/guest/$name.qemu" >&2 || true
if [ $rc = 124 ]; then
	msg "guest '$name' timed out after $timeout s"
	exit 1
fi
if ! grep -q '^GUEST done' "$out" 2>/dev/null; then
	msg "guest '$name' stopped before finishing (qemu exit $rc)"
	exit 1
fi
exit 0
