#!/bin/bash
# Build everything the guest runs: libbpf and UAPI headers from our kernel
# tree, our static test programs and BPF objects, and the kernel's own
# test_verifier.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/kernel-tree.sh"
[ -f "$KOUT/.config" ] || die "configure the kernel first (scripts/build-kernel.sh)"

make -s -C "$KTREE" O="$KOUT" ARCH=x86_64 headers_install \
	INSTALL_HDR_PATH="$BUILD/headers" >/dev/null
mkdir -p "$BUILD/libbpf"
make -s -C "$KTREE/tools/lib/bpf" OUTPUT="$BUILD/libbpf/" -j"$JOBS" \
	"$BUILD/libbpf/libbpf.a" >/dev/null
make -s -C "$KTREE/tools/lib/bpf" OUTPUT="$BUILD/libbpf/" \
	DESTDIR="$BUILD/libbpf" prefix= install_headers >/dev/null

make -s -C "$TOP/tests" BUILD="$BUILD" -j"$JOBS"

# test_verifier, linked statically so the busybox guest can run it.
tv=$BUILD/selftests
mkdir -p "$tv"
tvm() {
	make -s -C "$KTREE/tools/testing/selftests/bpf" OUTPUT="$tv" \
		VMLINUX_BTF="$KOUT/vmlinux" -j"$JOBS" "$@"
}
if [ ! -x "$tv/test_verifier" ] || [ -n "$(find "$KTREE/tools/testing/selftests/bpf/verifier" \
	"$KTREE/tools/testing/selftests/bpf/test_verifier.c" "$KTREE/include/uapi" \
	-newer "$tv/test_verifier" -print -quit)" ]; then
	tvm "$tv/tools/build/libbpf/libbpf.a" >/dev/null
	rm -f "$tv/test_verifier"
	tvm SAN_CFLAGS=-static "$tv/test_verifier" >/dev/null
fi
msg "test programs built: build/tests, build/selftests/test_verifier"
