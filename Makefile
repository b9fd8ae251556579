# MOAT: hardware isolation of BPF programs with Intel PKS, on Linux 6.1.
#
#   make demo            build if needed, boot the guest, show BPF at work
#   make test            the whole test suite (PKS and no-PKS guests)
#
# Kernel work:
#   make kernel-tree     build/linux: pristine 6.1 + kernel/patches as commits
#   make export-patches  write build/linux's commits back to kernel/patches
#   make kernel          build the test kernel (build/kbuild)
#   make test-quick      the suite on the PKS guest only
#   make bench           MOAT off vs on side by side: instructions, modelled
#                        cost, the paper's figures (QUICK=1: short version)
#   make baseline        record the last run's test_verifier results
#   make deb-pkg         installable Debian kernel package for PKS hardware
#   make checkpatch      checkpatch.pl over the patch series
#   make series-check    build every patch of the series on its own (slow)
#   make fuzz            the escaped-program fuzzer, long run (N=10000
#                        cases, SEED=0x4d4f4154; make test runs 400 of them)

all: test

demo:
	scripts/demo.sh

test:
	scripts/test.sh

test-quick:
	scripts/test.sh --quick

bench:
	QUICK=$(QUICK) scripts/bench.sh

kernel-tree:
	scripts/deps.sh
	scripts/kernel-tree.sh

export-patches:
	scripts/export-patches.sh

kernel:
	scripts/deps.sh
	scripts/build-kernel.sh

baseline:
	scripts/tv-results.sh < build/guest/test-pks.out > tests/baseline/test_verifier.txt
	@echo "tests/baseline/test_verifier.txt: $$(wc -l < tests/baseline/test_verifier.txt) tests"

deb-pkg:
	scripts/deps.sh
	scripts/deb-pkg.sh

fuzz:
	N=$(N) SEED=$(SEED) scripts/fuzz.sh

series-check:
	scripts/deps.sh
	scripts/series-check.sh

checkpatch:
	scripts/kernel-tree.sh
	cd build/linux && ./scripts/checkpatch.pl --no-tree --no-signoff \
		--ignore FILE_PATH_CHANGES $(addprefix $(CURDIR)/kernel/patches/,$(shell cat kernel/patches/series))

clean:
	rm -rf build/kbuild build/tests build/guest build/initramfs*

.PHONY: all demo test test-quick bench kernel-tree export-patches kernel baseline \
	deb-pkg checkpatch series-check fuzz clean
