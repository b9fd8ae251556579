#!/bin/bash
# Reduce test_verifier output (as "TV| " lines of the guest output, on
# stdin) to one line per test: "<#id/variant> <OK|FAIL|SKIP> <description>".
# This is the format of tests/baseline/test_verifier.txt.
#
# A test's result usually ends its "#id/variant description" line; when the
# loader printed a message first (e.g. "Failed to load BTF spec"), the
# result starts one of the following lines instead.
awk '
function emit(res) { print id, res, desc; id = "" }
/^TV\| / { line = substr($0, 5) } !/^TV\| / { next }
line ~ /^#[0-9]+\/[up] / {
	if (id != "") emit("NORESULT")
	id = line; sub(/ .*/, "", id)
	desc = substr(line, length(id) + 2)
	if (match(desc, / (OK|FAIL|SKIP)([^A-Za-z].*)?$/)) {
		res = substr(desc, RSTART + 1); sub(/[^A-Z].*/, "", res)
		desc = substr(desc, 1, RSTART - 1)
		emit(res)
	} else {
		sub(/ Failed to load BTF spec.*/, "", desc)
	}
	next
}
id != "" && match(line, /^(OK|FAIL|SKIP)/) { emit(substr(line, 1, RLENGTH)) }
END { if (id != "") emit("NORESULT") }
'
