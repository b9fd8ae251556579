// SPDX-License-Identifier: GPL-2.0
/*
 * Exit 0 when the CPU enumerates Protection Keys for Supervisor
 * (CPUID.(EAX=7,ECX=0):ECX[31]), 1 otherwise.  Tells the guest what the
 * (virtual) CPU offers, independent of whether the kernel enabled it.
 */
#include <cpuid.h>

int main(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return 1;
	return (ecx >> 31) & 1 ? 0 : 1;
}
