/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bench/xdp.c tells xdp_rxq of bench/xdp.bpf.c through its
 * configuration map.
 */
#ifndef MOAT_BENCH_XDP_H
#define MOAT_BENCH_XDP_H

#include <linux/types.h>

struct rxq_config {
	__u32 action;		/* the verdict */
	__u32 ifindex;		/* the device frames must arrive on */
	__u32 options;		/* RXQ_* */
};

#define RXQ_READ_MAC	1
#define RXQ_SWAP_MAC	2

#endif
