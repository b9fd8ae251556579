// SPDX-License-Identifier: GPL-2.0
/*
 * Exit 0 when the CPU enumerates Protection Keys for Supervisor
 * (CPUID.(EAX=7,ECX=0):ECX[31]), 1 otherwise.  Tells the guest what the
 * (virtual) CPU offers, independent of whether the kernel enabled it.
 */
#include "moat.h"

int main(void)
{
	return cpu_has_pks() ? 0 : 1;
}
