// SPDX-License-Identifier: GPL-2.0
/*
 * Programs of the types MOAT isolates beyond the smoke suite's socket
 * filter, tracepoint, XDP and seccomp programs: a kprobe and a raw
 * tracepoint counting events of one process and reading their context, an
 * XDP program that writes the frame, a cgroup skb program reading the
 * packet directly and writing the mark, a perf event program, a cgroup
 * device program that denies one device, cgroup sock_addr programs that
 * rewrite a connect's destination and refuse a bind, a cgroup sock
 * program that marks and refuses sockets as they are created.
 */
#define CFG_MAX 4
#define CNT_MAX 24
#include "counters.bpf.h"
#include <linux/bpf_perf_event.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ptrace.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#define AF_INET		2
#define SOCK_STREAM	1

enum { CFG_PID };
enum { CNT_KPROBE, CNT_KPROBE_IP, CNT_FORK, CNT_FORK_ARGS };

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == cfg(CFG_PID);
}

SEC("kprobe/__x64_sys_getppid")
int kp_getppid(struct pt_regs *ctx)
{
	if (!mine())
		return 0;
	add(CNT_KPROBE, 1);
	/* The probed address: read from the context (a copy when isolated). */
	if (PT_REGS_IP(ctx))
		add(CNT_KPROBE_IP, 1);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int rtp_fork(struct bpf_raw_tracepoint_args *ctx)
{
	if (!mine())
		return 0;
	add(CNT_FORK, 1);
	/* parent and child task pointers */
	if (ctx->args[0] && ctx->args[1] && ctx->args[0] != ctx->args[1])
		add(CNT_FORK_ARGS, 1);
	return 0;
}

/*
 * Local dynptrs: over a map value, read and written through the dynptr
 * helpers (the helper gate checks the dynptr and the memory it points to).
 * Returns what it read back plus what it wrote, or an error number.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[2]);
} dynptr_buf SEC(".maps");

SEC("socket")
int sf_dynptr(struct __sk_buff *skb)
{
	__u64 out = 0, in = 1000, *buf;
	struct bpf_dynptr d;
	__u32 key = 0;

	buf = bpf_map_lookup_elem(&dynptr_buf, &key);
	if (!buf)
		return 1;
	buf[0] = skb->len;
	if (bpf_dynptr_from_mem(buf, 16, 0, &d))
		return 2;
	if (bpf_dynptr_write(&d, 8, &in, sizeof(in), 0))
		return 3;
	if (bpf_dynptr_read(&out, sizeof(out), &d, 0, 0))
		return 4;
	return out + buf[1];
}

/*
 * Arguments the verifier knows as ranges, not constants: the length is 4
 * or 8 by the packet's length, the offset grows in a loop.  The checks the
 * JIT puts before an isolated program's calls hold the union of what the
 * verifier saw on every path, so each run gives the plain result.
 */
SEC("socket")
int sf_dpa_union(struct __sk_buff *skb)
{
	__u64 buf, sum = 0;
	__u32 len = 4;
	int i;

	if (skb->len > 40)
		len = 8;
	for (i = 0; i < 4; i++) {
		buf = 0;
		if (bpf_skb_load_bytes(skb, i * 4, &buf, len))
			return 1;
		sum = sum * 3 + buf;
	}
	return (sum % 1000) * 10 + len;
}

/*
 * Map calls reached with two maps: the verifier cannot make them the map's
 * own operations, so the generic bpf_map_update_elem(), ..._lookup_elem()
 * and ..._delete_elem() run, which call the operation through map->ops, a
 * critical object.  Returns what the update stored, found by the lookup,
 * plus 1000 if the delete removed it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} ops_a SEC(".maps"), ops_b SEC(".maps");

static __always_inline __u64 two_maps(__u64 val, int second)
{
	void *map = &ops_a;
	__u32 key = 7;
	__u64 *v, got;

	if (second)
		map = &ops_b;
	/* One call of each for both maps. */
	asm volatile("" : "+r"(map));
	if (bpf_map_update_elem(map, &key, &val, BPF_ANY))
		return 1;
	v = bpf_map_lookup_elem(map, &key);
	if (!v)
		return 2;
	got = *v;
	if (bpf_map_delete_elem(map, &key) || bpf_map_lookup_elem(map, &key))
		return 3;
	return got + 1000;
}

SEC("socket")
int sf_two_maps(struct __sk_buff *skb)
{
	int second = skb->len <= 40;

	return two_maps(skb->len + (second ? 100 : 0), second);
}

/*
 * The same, not isolated, on bpf_trace_printk()'s tracepoint: it runs
 * inside the helper call of an isolated sf_printk, where the critical
 * objects are closed.  Counter 9 gets what it returns.
 */
SEC("tp/bpf_trace/bpf_trace_printk")
int tp_two_maps(void *ctx)
{
	add(9, two_maps(5, bpf_ktime_get_ns() & 1));
	return 0;
}

SEC("socket")
int sf_printk(struct __sk_buff *skb)
{
	static const char fmt[] = "moat cop\n";

	bpf_trace_printk(fmt, sizeof(fmt));
	return 7;
}

/*
 * A helper taking a kernel object (ARG_PTR_TO_BTF_ID): the gate could not
 * tell a real task_struct from a fake one, so this is refused isolated.
 */
struct task_struct;

SEC("kprobe/__x64_sys_getppid")
int kp_task_stack(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 buf[4];

	return bpf_get_task_stack(t, buf, sizeof(buf), 0);
}

char LICENSE[] SEC("license") = "GPL";

/*
 * An XDP program that writes: a byte of the frame, then (after stripping
 * the Ethernet header with bpf_xdp_adjust_head()) the first byte of the
 * IP header, then 4 bytes of metadata it makes room for.
 */
SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	__u32 *meta;

	if (data + 20 > end)
		return XDP_DROP;
	data[15] ^= 0xff;
	if (bpf_xdp_adjust_head(ctx, 14))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 2 > end)
		return XDP_DROP;
	data[0] ^= 0x11;
	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_DROP;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return XDP_DROP;
	*meta = 0x0a0b0c0d;
	return XDP_TX;
}

/*
 * An XDP program that mixes direct packet accesses with helpers that see
 * the packet: through the context (bpf_xdp_load_bytes(),
 * bpf_xdp_store_bytes()) and through packet pointers (bpf_csum_diff(), a
 * map value updated from the packet: only helpers marked pkt_access take
 * packet pointers, and none of them writes through one).  Each step
 * leaves in the frame what the next one must find: an isolated run, whose
 * packet is a window, must give the same frame.
 */
enum { CNT_XDP_PKT = 8 };

SEC("xdp")
int xdp_pkt_helpers(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	__u32 key = CNT_XDP_PKT;
	unsigned char buf[4];
	__u64 *val;
	__s64 sum;

	if (data + 64 > end)
		return XDP_DROP;
	/* A direct write, read back by a helper on the context. */
	data[20] = 0x5a;
	if (bpf_xdp_load_bytes(ctx, 20, buf, 1))
		return XDP_DROP;
	data[21] = buf[0] + 1;
	/* A helper's write through the context, read back directly. */
	buf[0] = 0xa5;
	buf[1] = 0x3c;
	if (bpf_xdp_store_bytes(ctx, 22, buf, 2))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 64 > end)
		return XDP_DROP;
	data[24] = data[22] ^ data[23];
	/* A helper reading the packet by pointer, after those writes. */
	sum = bpf_csum_diff(NULL, 0, (void *)(data + 20), 8, 0);
	if (sum < 0)
		return XDP_DROP;
	data[28] = sum;
	data[29] = sum >> 8;
	data[30] = sum >> 16;
	data[31] = sum >> 24;
	/* Packet bytes by pointer on both sides, after the stores. */
	sum = bpf_csum_diff((void *)(data + 20), 4, (void *)(data + 24), 8,
			    0x1234);
	if (sum < 0)
		return XDP_DROP;
	data[36] = sum ^ (sum >> 8) ^ (sum >> 16) ^ (sum >> 24);
	/* A map value from the packet, read back into it. */
	if (bpf_map_update_elem(&counters, &key, data + 24, BPF_ANY))
		return XDP_DROP;
	val = bpf_map_lookup_elem(&counters, &key);
	if (!val)
		return XDP_DROP;
	data[40] = *val;
	data[41] = *val >> 8;
	return XDP_TX;
}

/*
 * cgroup skb (egress): read the UDP destination port straight from the
 * packet; count datagrams to port cfg 1, drop those to port cfg 2, and
 * mark the ones it lets through.
 */
enum { CFG_COUNT_PORT = 1, CFG_DROP_PORT };
enum { CNT_CG_SEEN = 4, CNT_CG_DROPPED };

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	struct udphdr *udp = data + sizeof(*ip);
	__u16 port;

	if ((void *)(udp + 1) > end || ip->protocol != IPPROTO_UDP)
		return 1;
	port = __builtin_bswap16(udp->dest);
	if (port == cfg(CFG_DROP_PORT)) {
		add(CNT_CG_DROPPED, 1);
		return 0;
	}
	if (port == cfg(CFG_COUNT_PORT)) {
		add(CNT_CG_SEEN, 1);
		skb->mark = 0x4d;
	}
	return 1;
}

/*
 * cgroup skb reading its socket: bpf_sk_fullsock() and bpf_tcp_sock() on
 * skb->sk, then fields of struct bpf_sock and struct bpf_tcp_sock, for
 * packets of the test's TCP connection (socket mark 0x4d4f, priority 5).
 */
enum { CNT_SK_SEEN = 10, CNT_SK_FIELDS, CNT_SK_TCP };

SEC("cgroup_skb/egress")
int cg_sock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->mark != 0x4d4f)
		return 1;
	add(CNT_SK_SEEN, 1);
	if (sk->type == 1 /* SOCK_STREAM */ && sk->protocol == IPPROTO_TCP &&
	    sk->priority == 5 && sk->family == 2 /* AF_INET */)
		add(CNT_SK_FIELDS, 1);
	tp = bpf_tcp_sock(sk);
	if (tp && tp->mss_cache > 0 && tp->snd_cwnd > 0)
		add(CNT_SK_TCP, 1);
	return 1;
}

/*
 * cgroup skb reading skb->tstamp into the register that held the context
 * (clang often allocates it so): the verifier's conversion writes that
 * register on one branch and loads through it on the other.  Counts the
 * packets whose timestamp is cfg 3 (the test sends one, with SCM_TXTIME).
 */
enum { CFG_TSTAMP = 3 };
enum { CNT_TS_SEEN = 13 };

SEC("cgroup_skb/egress")
int cg_tstamp(struct __sk_buff *skb)
{
	__u64 v = (__u64)(long)skb;

	asm volatile("%[v] = *(u64 *)(%[v] + %[off])"
		     : [v] "+r"(v)
		     : [off] "i"(__builtin_offsetof(struct __sk_buff, tstamp)));
	if (v == cfg(CFG_TSTAMP))
		add(CNT_TS_SEEN, 1);
	return 1;
}

/*
 * Sockets other than the packet's own: a lookup of the packet's flow and
 * the listener of its socket.  Both are kernel memory: refused isolated.
 */
SEC("cgroup_skb/egress")
int cg_sk_lookup(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 state;

	t.ipv4.daddr = skb->remote_ip4;
	t.ipv4.dport = skb->remote_port >> 16;
	t.ipv4.saddr = skb->local_ip4;
	t.ipv4.sport = __builtin_bswap16(skb->local_port);
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 1;
	state = sk->state;
	bpf_sk_release(sk);
	return state != 0;
}

SEC("cgroup_skb/egress")
int cg_listener(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	sk = bpf_get_listener_sock(sk);
	return sk && sk->state;
}

enum { CNT_PE_SAMPLES = 6, CNT_PE_GOOD };

/* perf event (software cpu-clock): samples with a period and an ip. */
SEC("perf_event")
int pe_sample(struct bpf_perf_event_data *ctx)
{
	add(CNT_PE_SAMPLES, 1);
	if (ctx->sample_period && PT_REGS_IP(&ctx->regs))
		add(CNT_PE_GOOD, 1);
	return 0;
}

/* bpf-to-bpf calls: two levels of subprograms, each with stack and map use. */
static __noinline __u64 leaf(__u64 x)
{
	volatile __u64 buf[4] = { x, x + 1, x + 2, x + 3 };

	add(3, 1);
	return buf[0] + buf[1] + buf[2] + buf[3];
}

static __noinline __u64 middle(__u64 x)
{
	volatile __u64 buf[2] = { x, 7 };

	return leaf(buf[0]) * buf[1];
}

SEC("socket")
int sf_subprog(struct __sk_buff *skb)
{
	return middle(skb->len);
}

/* Maps used only through helpers that copy: queue and ring buffer output. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u64);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ringbuf SEC(".maps");

SEC("socket")
int sf_copy_maps(struct __sk_buff *skb)
{
	__u64 v = 0x4d4f4154 + skb->len;

	if (bpf_map_push_elem(&queue, &v, 0))
		return 1;
	return bpf_ringbuf_output(&ringbuf, &v, sizeof(v), 0) ? 2 : 0;
}

/*
 * Reservations hand the program ring buffer memory (BPF memory when
 * isolated): four records written in place, the second one discarded.
 * Returns how many reservations succeeded.
 */
SEC("socket")
int sf_rb_reserve(struct __sk_buff *skb)
{
	int i, n = 0;

	for (i = 0; i < 4; i++) {
		__u64 *p = bpf_ringbuf_reserve(&ringbuf, sizeof(*p), 0);

		if (!p)
			continue;
		n++;
		*p = skb->len * 100 + i;
		if (i == 1)
			bpf_ringbuf_discard(p, 0);
		else
			bpf_ringbuf_submit(p, 0);
	}
	return n;
}

/* A dynptr reservation is refused isolated. */
SEC("socket")
int sf_rb_dynptr(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	__u64 v = skb->len;

	bpf_ringbuf_reserve_dynptr(&ringbuf, sizeof(v), 0, &ptr);
	bpf_dynptr_write(&ptr, 0, &v, sizeof(v), 0);
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

/* Preallocated hash and LRU hash maps: values in BPF memory. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lmap SEC(".maps");

static __always_inline void bump(void *map, __u32 key, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		*v += by;
	else
		bpf_map_update_elem(map, &key, &by, BPF_NOEXIST);
}

SEC("socket")
int sf_hash(struct __sk_buff *skb)
{
	bump(&hmap, skb->len, 1);
	bump(&lmap, skb->len, 10);
	return 0;
}

/* A per-CPU array: values in BPF memory, one block per element. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

SEC("socket")
int sf_percpu(struct __sk_buff *skb)
{
	__u32 key = 2;
	__u64 *v = bpf_map_lookup_elem(&pcpu, &key);

	if (!v)
		return 0;
	*v += skb->len;
	return *v;
}

/* A preallocated per-CPU hash map. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_hash SEC(".maps");

SEC("socket")
int sf_percpu_hash(struct __sk_buff *skb)
{
	bump(&pcpu_hash, 7, skb->len);
	return 0;
}

/*
 * Maps that allocate on demand: a hash and a per-CPU hash map with
 * BPF_F_NO_PREALLOC, and an LPM trie.  Their values come from a pool of
 * BPF memory made with the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
} nhmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
} nphmap SEC(".maps");

SEC("socket")
int sf_hash_nopre(struct __sk_buff *skb)
{
	__u32 gone = 1000;
	__u64 one = 1;

	bump(&nhmap, skb->len, 1);
	bump(&nphmap, 7, skb->len);
	/* inserted and deleted on every run: its value is recycled */
	bpf_map_update_elem(&nhmap, &gone, &one, BPF_ANY);
	bpf_map_delete_elem(&nhmap, &gone);
	return 0;
}

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u64);
} lpm SEC(".maps");

/*
 * Longest-prefix lookups: user space put a /8 entry whose first byte is
 * skb->len's low byte; each run adds one to it, and inserts and deletes a
 * /32 entry below it.  Returns the value the lookup found.
 */
SEC("socket")
int sf_lpm(struct __sk_buff *skb)
{
	struct lpm_key k = { .prefixlen = 32, .addr = skb->len };
	struct lpm_key host = { .prefixlen = 32, .addr = skb->len + 256 };
	__u64 *v, big = 1 << 20;

	v = bpf_map_lookup_elem(&lpm, &k);
	if (!v)
		return 0;
	*v += 1;
	bpf_map_update_elem(&lpm, &host, &big, BPF_ANY);
	bpf_map_delete_elem(&lpm, &host);
	return *v;
}

/*
 * Nesting: an isolated socket filter calls bpf_get_prandom_u32(), whose
 * implementation an isolated kprobe program watches; that program runs
 * inside the helper call, in a second MOAT frame.
 */
SEC("kprobe/bpf_user_rnd_u32")
int kp_rnd(struct pt_regs *ctx)
{
	add(8, 1);
	return 0;
}

SEC("socket")
int sf_rnd(struct __sk_buff *skb)
{
	return (bpf_get_prandom_u32() ^ bpf_get_prandom_u32()) & 1;
}

/*
 * cgroup device: deny char device 1:5 (/dev/zero), allow the rest; count
 * the checks of 1:3 (/dev/null), those for reading and writing, and the
 * denials.
 */
enum { CNT_DEV_NULL = 9, CNT_DEV_DENIED = 14, CNT_DEV_RW };

SEC("cgroup/dev")
int cg_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	__u32 access = ctx->access_type >> 16;

	if ((ctx->access_type & 0xffff) != BPF_DEVCG_DEV_CHAR ||
	    ctx->major != 1)
		return 1;
	if (ctx->minor == 5) {
		add(CNT_DEV_DENIED, 1);
		return 0;
	}
	if (ctx->minor == 3) {
		add(CNT_DEV_NULL, 1);
		if (access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE))
			add(CNT_DEV_RW, 1);
	}
	return 1;
}

/*
 * cgroup sock_addr, as a socket load balancer and a bind policy use it:
 * connect4 sends TCP connections to 10.77.0.1:40021 to 127.0.0.1:40022
 * (counting those, and those whose socket fields it read right); bind4
 * refuses port 40023.
 */
enum { CNT_SA_REWRITES = 16, CNT_SA_FIELDS, CNT_SA_DENIED };

SEC("cgroup/connect4")
int sa_connect4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (ctx->user_ip4 != bpf_htonl(0x0a4d0001) ||
	    ctx->user_port != bpf_htons(40021))
		return 1;
	add(CNT_SA_REWRITES, 1);
	if (ctx->user_family == AF_INET && ctx->family == AF_INET &&
	    ctx->type == SOCK_STREAM && ctx->protocol == IPPROTO_TCP &&
	    sk && sk->family == AF_INET && sk->type == SOCK_STREAM)
		add(CNT_SA_FIELDS, 1);
	ctx->user_ip4 = bpf_htonl(0x7f000001);
	ctx->user_port = bpf_htons(40022);
	return 1;
}

SEC("cgroup/bind4")
int sa_bind4(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port == bpf_htons(40023)) {
		add(CNT_SA_DENIED, 1);
		return 0;
	}
	return 1;
}

/*
 * cgroup sock (sock_create): refuse IPv6 datagram sockets; give the
 * others mark 0x4d4f and priority 3, counting the IPv4 UDP ones.
 */
#define AF_INET6	10
#define SOCK_DGRAM	2

enum { CNT_SOCK_MARKED = 19, CNT_SOCK_DENIED };

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sk)
{
	if (sk->family == AF_INET6 && sk->type == SOCK_DGRAM) {
		add(CNT_SOCK_DENIED, 1);
		return 0;
	}
	if (sk->family == AF_INET && sk->type == SOCK_DGRAM &&
	    sk->protocol == IPPROTO_UDP)
		add(CNT_SOCK_MARKED, 1);
	sk->mark = 0x4d4f;
	sk->priority = 3;
	return 1;
}
