#!/bin/bash
# The README's demo: build what is missing, boot the guest on a CPU with
# PKS, and show BPF programs at work there.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/build-tests.sh"
msg "booting Linux $(cat "$BUILD/kernel-version") + MOAT under QEMU (-cpu max,+pks -smp 2)"
"$TOP/scripts/run-guest.sh" --cpu pks --mode demo --timeout 600
