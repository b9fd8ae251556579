#!/bin/bash
# Reduce test_verifier output (as "TV| " lines of the guest output, on
# stdin) to one line per test: "<#id/variant> <OK|FAIL|SKIP> <description>".
# This is the format of tests/baseline/test_verifier.txt.
sed -n -E 's/^TV\| (#[0-9]+\/[up]) (.*) (OK|FAIL|SKIP)([^A-Za-z].*)?$/\1 \3 \2/p'
