// SPDX-License-Identifier: GPL-2.0
/*
 * Programs that pass the verifier and still read or write kernel memory,
 * through CONFIG_BPF_MOAT_TEST's bpf_moat_test_escape(): it returns its
 * argument at run time while the verifier believes it returns 0.  Each
 * program moves one kind of pointer the verifier trusts (array and hash map
 * values, stack, context, packet) by a "zero" offset onto cfg->target.
 *
 * To build the offset, a program stores its own pointer into the map and
 * loads it back as a plain number (privileged programs may leak pointers
 * into maps); the volatile accesses keep clang from forwarding the pointer.
 */
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

extern __u64 bpf_moat_test_escape(__u64 value) __ksym;

struct attack_cfg {
	__u64 target;		/* kernel address to hit */
	__u64 write_val;	/* map_write: value to store there */
	__u64 ctx_adjust;	/* ctx_read: offset of sk_buff.len */
	__u64 result;		/* what the program read */
	__u64 scratch;		/* pointer -> number conversion */
	__u64 ran;		/* set when the program got to the end */
	__u64 pid;		/* endless_kprobe_loop: the process to run in */
	__u64 inner_ns;		/* endless_inner: its stop, 0 when off */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct attack_cfg);
} cfg_map SEC(".maps");

/* The value of the only element of array map @map. */
static __always_inline void *only_value(void *map)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(map, &key);
}

static __always_inline struct attack_cfg *cfg(void)
{
	return only_value(&cfg_map);
}

/* @ptr as a number, laundered through the map word @slot. */
static __always_inline __u64 launder(__u64 *slot, void *ptr)
{
	*(volatile __u64 *)slot = (__u64)ptr;
	return *(volatile __u64 *)slot;
}

static __always_inline __u64 addr_of(struct attack_cfg *c, void *ptr)
{
	return launder(&c->scratch, ptr);
}

SEC("socket")
int escape_value(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();

	if (!c)
		return 0;
	c->result = bpf_moat_test_escape(c->target);
	c->ran = 1;
	return 0;
}

SEC("socket")
int map_read(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *p;

	if (!c)
		return 0;
	p = (void *)c + bpf_moat_test_escape(c->target - addr_of(c, c));
	c->result = *p;
	c->ran = 1;
	return 0;
}

SEC("socket")
int map_write(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *p;

	if (!c)
		return 0;
	p = (void *)c + bpf_moat_test_escape(c->target - addr_of(c, c));
	*p = c->write_val;
	c->ran = 1;
	return 0;
}

SEC("socket")
int stack_read(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 buf[2] = { 1, 2 };
	volatile __u64 *p;

	if (!c)
		return 0;
	p = (void *)buf + bpf_moat_test_escape(c->target -
					       addr_of(c, (void *)buf));
	c->result = *p;
	c->ran = 1;
	return 0;
}

SEC("socket")
int stack_write(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 buf[2] = { 1, 2 };
	volatile __u64 *p;

	if (!c)
		return 0;
	p = (void *)buf + bpf_moat_test_escape(c->target -
					       addr_of(c, (void *)buf));
	*p = c->write_val;
	c->ran = 1;
	return 0;
}

/*
 * The program's own return address, just above its frame: an escaped
 * program that could rewrite it would return anywhere in the kernel.
 */
SEC("socket")
int ret_write(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *fp, *p;

	if (!c)
		return 0;
	asm volatile("%0 = r10" : "=r"(fp));
	/* fp - 8 is in bounds; at run time this is fp + 8 */
	p = (void *)fp - 8 + bpf_moat_test_escape(16);
	*p = c->write_val;
	c->ran = 1;
	return 0;
}

SEC("socket")
int ctx_read(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	struct __sk_buff *s;

	if (!c)
		return 0;
	/* s->len is rewritten into a load of sk_buff.len: aim below it. */
	s = (void *)skb + bpf_moat_test_escape(c->target - c->ctx_adjust -
					       addr_of(c, skb));
	c->result = s->len;
	c->ran = 1;
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hash_vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
} nopre_vals SEC(".maps");

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u64);
} lpm_vals SEC(".maps");

/* Read the target through the value of @key in @map, which it inserts. */
static __always_inline int read_via_value(void *map, void *key)
{
	struct attack_cfg *c = cfg();
	__u64 zero = 0, *v, *p;

	if (!c)
		return 0;
	bpf_map_update_elem(map, key, &zero, BPF_ANY);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return 0;
	p = (void *)v + bpf_moat_test_escape(c->target - addr_of(c, v));
	c->result = *p;
	c->ran = 1;
	return 0;
}

/* Through hash map value pointers (their values are BPF memory too). */
SEC("socket")
int hash_read(struct __sk_buff *skb)
{
	__u32 key = 0;

	return read_via_value(&hash_vals, &key);
}

/* ... also when the map allocates its elements on demand */
SEC("socket")
int nopre_hash_read(struct __sk_buff *skb)
{
	__u32 key = 0;

	return read_via_value(&nopre_vals, &key);
}

/* Through an LPM trie value pointer. */
SEC("socket")
int lpm_read(struct __sk_buff *skb)
{
	struct lpm_key key = { .prefixlen = 32, .addr = 1 };

	return read_via_value(&lpm_vals, &key);
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

/* Through a ring buffer record (in BPF memory when isolated). */
SEC("socket")
int rb_read(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *rec, *p;

	if (!c)
		return 0;
	rec = bpf_ringbuf_reserve(&rb, sizeof(*rec), 0);
	if (!rec)
		return 0;
	p = (void *)rec + bpf_moat_test_escape(c->target - addr_of(c, rec));
	c->result = *p;
	bpf_ringbuf_discard(rec, 0);
	c->ran = 1;
	return 0;
}

/*
 * Rewrite the page offset in a record's header, which leads the kernel
 * from the record to its ring buffer, so that it leads to the page of
 * cfg->target instead, then submit the record.
 */
SEC("socket")
int rb_forge_header(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *rec;
	__u32 *pg_off;

	if (!c)
		return 0;
	rec = bpf_ringbuf_reserve(&rb, sizeof(*rec), 0);
	if (!rec)
		return 0;
	*rec = 0x666f726765;
	pg_off = (void *)rec + bpf_moat_test_escape(-4ULL);
	*pg_off = (((addr_of(c, rec) - 8) & ~4095ULL) -
		   (c->target & ~4095ULL)) >> 12;
	bpf_ringbuf_submit(rec, 0);
	c->ran = 1;
	return 0;
}

/* Submit cfg->target + 8 as a record: its "header" is the target. */
SEC("socket")
int rb_forge_addr(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *rec;

	if (!c)
		return 0;
	rec = bpf_ringbuf_reserve(&rb, sizeof(*rec), 0);
	if (!rec)
		return 0;
	rec = (void *)rec + bpf_moat_test_escape(c->target + 8 -
						 addr_of(c, rec));
	bpf_ringbuf_submit(rec, 0);
	c->ran = 1;
	return 0;
}

/*
 * rb_forge_len: make the length in a reserved record's header lead far
 * past the producer position (busy bit clear), then reserve again: the
 * kernel's walk over committed records, under the ring's spinlock with
 * interrupts off, must stop there.  cfg->result: whether the second
 * reservation succeeded.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb_len SEC(".maps");

SEC("socket")
int rb_forge_len(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *rec, *rec2;
	__u32 *len;

	if (!c)
		return 0;
	rec = bpf_ringbuf_reserve(&rb_len, sizeof(*rec), 0);
	if (!rec)
		return 0;
	len = (void *)rec + bpf_moat_test_escape(-8ULL);
	*len = 0x3ffffff0;
	c->result = 0;
	rec2 = bpf_ringbuf_reserve(&rb_len, sizeof(*rec2), 0);
	if (rec2) {
		c->result = 1;
		bpf_ringbuf_discard(rec2, 0);
	}
	bpf_ringbuf_discard(rec, 0);
	c->ran = 1;
	return 0;
}

/*
 * Submit a record whose header the program wrote on its own stack, with
 * a page offset that leads from there to cfg->target's page: a window
 * can write its stack, so the kernel must not trust that header either.
 * BPF_RB_NO_WAKEUP: a kernel that trusted it would only read the target's
 * page (and write the header), not queue work there.
 */
SEC("socket")
int rb_forge_stack(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 frame[2];
	__u64 *rec, hdr;

	if (!c)
		return 0;
	rec = bpf_ringbuf_reserve(&rb, sizeof(*rec), 0);
	if (!rec)
		return 0;
	hdr = addr_of(c, (void *)&frame[0]);
	/* len 8, busy; page offset from the target's page to the header's */
	frame[0] = (8 | (1ULL << 31)) |
		   ((((hdr & ~4095ULL) - (c->target & ~4095ULL)) >> 12) << 32);
	frame[1] = 0x737461636b;
	rec = (void *)rec + bpf_moat_test_escape(hdr + 8 - addr_of(c, rec));
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
	c->ran = 1;
	return 0;
}

/*
 * Read the word at cfg->target and write it back unchanged, once: with
 * cfg->target 1, a word of the program's own map value.
 */
static __always_inline int frame_rw(void)
{
	struct attack_cfg *c = cfg();
	volatile __u64 *p;
	__u64 v;

	if (!c || !c->target || c->ran)
		return 0;
	if (c->target == 1)
		p = &c->scratch;
	else
		p = (void *)c + bpf_moat_test_escape(c->target -
						     addr_of(c, c));
	v = *p;
	*p = v;
	c->result = v;
	c->ran = 1;
	return 0;
}

/*
 * In an NMI (tracepoint nmi:nmi_handler, attached only by its tests): read
 * the word at cfg->target, in the frame the CPU pushed onto this CPU's NMI
 * stack, and write it back unchanged.  With cfg->target 1, the same on a
 * word of the program's own map value: a legitimate run.
 */
SEC("tp/nmi/nmi_handler")
int nmi_stack_rw(void *ctx)
{
	return frame_rw();
}

/*
 * In a #DB (perf event on a hardware breakpoint, attached only by its
 * tests): the same on the frame on this CPU's #DB stack.
 */
SEC("perf_event")
int db_stack_rw(struct bpf_perf_event_data *ctx)
{
	return frame_rw();
}

/*
 * Nested inside an NMI: nmi_printk (nmi:nmi_handler, attached only by its
 * test) calls bpf_trace_printk(), whose raw tracepoint runs
 * nmi_printk_inner inside the helper, on the NMI stack.  Both runs are
 * legitimate.  nmi_nest_map counts them: [0] outer, [1] inner.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[2]);
} nmi_nest_map SEC(".maps");

SEC("tp/nmi/nmi_handler")
int nmi_printk(void *ctx)
{
	static const char fmt[] = "moat nmi\n";
	__u64 *n = only_value(&nmi_nest_map);

	if (!n)
		return 0;
	bpf_trace_printk(fmt, sizeof(fmt));
	n[0]++;
	return 0;
}

SEC("raw_tp/bpf_trace_printk")
int nmi_printk_inner(void *ctx)
{
	__u64 *n = only_value(&nmi_nest_map);

	if (n)
		n[1]++;
	return 0;
}

SEC("xdp")
int pkt_read(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *data_end = (void *)(long)xdp->data_end;
	struct attack_cfg *c = cfg();
	__u64 *p;

	if (!c || data + sizeof(__u64) > data_end)
		return XDP_PASS;
	p = data + bpf_moat_test_escape(c->target - addr_of(c, data));
	c->result = *p;
	c->ran = 1;
	return XDP_PASS;
}

/*
 * cgroup skb programs may read their packet, not write it.  This one, on
 * ingress, writes cfg->write_val's low byte at packet offset cfg->target
 * (inside the linear data, checked with the verifier's knowledge) through
 * a pointer the verifier believes is its map value.
 */
SEC("cgroup_skb/ingress")
int pkt_ro_write(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct attack_cfg *c = cfg();
	__u8 *p;

	if (!c || data + 1 > data_end || data_end - data <= c->target)
		return 1;
	p = (void *)c + bpf_moat_test_escape(addr_of(c, data) + c->target -
					      addr_of(c, c));
	*p = c->write_val;
	c->ran = 1;
	return 1;
}

/*
 * The cgroup canary attacks: read the u64 at cfg->target into
 * cfg->result and write cfg->write_val there, through a pointer the
 * verifier believes is the map value; then allow the call (1).
 */
static __always_inline int canary_rw_allow(void)
{
	struct attack_cfg *c = cfg();
	__u64 *p;

	if (!c)
		return 1;
	p = (void *)c + bpf_moat_test_escape(c->target - addr_of(c, c));
	c->result = *p;
	*p = c->write_val;
	c->ran = 1;
	return 1;
}

/*
 * dev_canary: a cgroup device program that, on a check of char device 1:3
 * (/dev/null), reads the u64 at cfg->target into cfg->result, writes
 * cfg->write_val there, and allows the access; everything else it allows
 * untouched.  Both through a pointer the verifier believes is its map
 * value.
 */
SEC("cgroup/dev")
int dev_canary(struct bpf_cgroup_dev_ctx *ctx)
{
	if ((ctx->access_type & 0xffff) != BPF_DEVCG_DEV_CHAR ||
	    ctx->major != 1 || ctx->minor != 3)
		return 1;
	return canary_rw_allow();
}

/*
 * sa_canary: a cgroup bind4 program that, on a bind to port 40031, reads
 * the u64 at cfg->target into cfg->result, writes cfg->write_val there,
 * and allows the bind, through a pointer the verifier believes is its map
 * value.
 */
SEC("cgroup/bind4")
int sa_canary(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port != __builtin_bswap16(40031))
		return 1;
	return canary_rw_allow();
}

/*
 * sock_canary: a cgroup sock_create program that, for IPv4 raw sockets,
 * reads the u64 at cfg->target into cfg->result, writes cfg->write_val
 * there, and allows the socket, through a pointer the verifier believes
 * is its map value.
 */
SEC("cgroup/sock_create")
int sock_canary(struct bpf_sock *sk)
{
	if (sk->family != 2 /* AF_INET */ || sk->type != 3 /* SOCK_RAW */)
		return 1;
	return canary_rw_allow();
}

/*
 * win_mark: an XDP program that notes where its packet and its context
 * are (cfg->target, cfg->ctx_adjust).  dev_win_spy: a cgroup device
 * program that, on a check of /dev/null, reads the u64 at the same
 * offset from its own context as the packet's byte cfg->write_val was
 * from win_mark's, into cfg->result: in the same frame (same CPU, same
 * level), that is where win_mark's packet was shown.
 */
SEC("xdp")
int win_mark(struct xdp_md *xdp)
{
	struct attack_cfg *c = cfg();

	if (!c)
		return XDP_PASS;
	c->target = addr_of(c, (void *)(long)xdp->data);
	c->ctx_adjust = addr_of(c, xdp);
	c->ran = 1;
	return XDP_PASS;
}

SEC("cgroup/dev")
int dev_win_spy(struct bpf_cgroup_dev_ctx *ctx)
{
	struct attack_cfg *c;
	__u64 *p;

	if ((ctx->access_type & 0xffff) != BPF_DEVCG_DEV_CHAR ||
	    ctx->major != 1 || ctx->minor != 3)
		return 1;
	c = cfg();
	if (!c)
		return 1;
	p = (void *)c + bpf_moat_test_escape(addr_of(c, ctx) - c->ctx_adjust +
					     c->target + c->write_val -
					     addr_of(c, c));
	c->result = *p;
	c->ran = 1;
	return 1;
}

/*
 * What a run leaves on its restricted stack.  stack_mark: a socket filter
 * that fills STACK_WORDS words of its stack with STACK_MARK + i and notes
 * where (cfg->target).  stack_mark_fault: the same, then it reads the
 * non-canonical address STACK_MARK + 63 (a #GP ends it), which the entry
 * code saves, in the register that held it, below its frame.
 * stack_spy: an escaped socket filter that counts the words of
 * [cfg->target, cfg->target + 8 * cfg->write_val) (up to 128 words) that
 * hold STACK_MARK + 0..63, into cfg->result, and the first word into
 * cfg->ctx_adjust; without a target, its own first stack word, after
 * writing a mark there.  Run next on the same CPU,
 * at the same level, it reads the stack the marker used.
 */
#define STACK_MARK	0x5354414b4d4f0000ULL
#define STACK_WORDS	60

static __always_inline void stack_fill(struct attack_cfg *c,
				       volatile __u64 *buf)
{
	int i;

#pragma unroll
	for (i = 0; i < STACK_WORDS; i++)
		buf[i] = STACK_MARK + i;
	c->target = addr_of(c, (void *)buf);
}

SEC("socket")
int stack_mark(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 buf[STACK_WORDS];

	if (!c)
		return 0;
	stack_fill(c, buf);
	c->ran = 1;
	return 0;
}

SEC("socket")
int stack_mark_fault(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 buf[STACK_WORDS];
	volatile __u64 *p;

	if (!c)
		return 0;
	stack_fill(c, buf);
	p = (void *)buf + bpf_moat_test_escape(STACK_MARK + 63 -
					       addr_of(c, (void *)buf));
	c->result = *p;
	c->ran = 1;
	return 0;
}

/*
 * stack_mark_div: R0 and R3 hold marks when it divides, with R6-R9 in use
 * (four callee-saved registers pushed): the JIT's division pushes rax and
 * rdx (R0, R3) below the frame.  cfg->target: STACK_WORDS words below its
 * frame pointer.
 */
SEC("socket")
int stack_mark_div(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 fp;

	if (!c)
		return 0;
	asm volatile("%0 = r10" : "=r"(fp));
	c->target = launder(&c->scratch, (void *)fp) - 8 * STACK_WORDS;
	asm volatile("r6 = 0x5354414b4d4f0006 ll\n"
		     "r7 = r6\n"
		     "r8 = r6\n"
		     "r9 = r6\n"
		     "r0 = 0x5354414b4d4f0000 ll\n"
		     "r3 = 0x5354414b4d4f0003 ll\n"
		     "r1 = 1000\n"
		     "r2 = 3\n"
		     "r1 /= r2\n"
		     "r0 = 0\n"
		     "r3 = 0\n"
		     "r6 = 0\n"
		     "r7 = 0\n"
		     "r8 = 0\n"
		     "r9 = 0\n"
		     ::: "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8",
		     "r9");
	c->ran = 1;
	return 0;
}

/*
 * endless_marks: endless_loop with marks in R3 and R6-R9 (rdx, rbx,
 * r13-r15) all along, for the NMI that ends it to save in its pt_regs.
 */
SEC("socket")
int endless_marks(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 go;

	if (!c)
		return 0;
	go = bpf_moat_test_escape(c->write_val);
	asm volatile("r3 = 0x5354414b4d4f0003 ll\n"
		     "r6 = 0x5354414b4d4f0006 ll\n"
		     "r7 = 0x5354414b4d4f0007 ll\n"
		     "r8 = 0x5354414b4d4f0008 ll\n"
		     "r9 = 0x5354414b4d4f0009 ll\n"
		     "r4 = *(u64 *)(%[p] + 0)\n"
		     "r4 += 1\n"
		     "*(u64 *)(%[p] + 0) = r4\n"
		     "if %[go] != 0 goto -4\n"
		     "r3 = 0\n"
		     "r6 = 0\n"
		     "r7 = 0\n"
		     "r8 = 0\n"
		     "r9 = 0\n"
		     :
		     : [p] "r"(&c->result), [go] "r"(go)
		     : "r3", "r4", "r6", "r7", "r8", "r9", "memory");
	c->ran = 1;
	return 1;
}

SEC("socket")
int stack_spy(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 buf[1] = { 0 };
	volatile __u64 *p;
	__u64 i, n, w, base, seen = 0;

	if (!c)
		return 0;
	n = c->write_val;
	/* Without a target, the control: a mark in its own stack. */
	if (!c->target)
		buf[0] = STACK_MARK + 1;
	base = c->target ? c->target - addr_of(c, (void *)buf) : 0;
	for (i = 0; i < 128 && i < n; i++) {
		p = (void *)buf + bpf_moat_test_escape(base + 8 * i);
		w = *p;
		if (!i)
			c->ctx_adjust = w;
		if (w - STACK_MARK < 64)
			seen++;
	}
	c->result = seen;
	c->ran = 1;
	return 0;
}

/*
 * cb_forge: a socket filter that never touches __sk_buff.cb[] (so the
 * kernel neither saves nor restores cb around it) reads and writes the
 * control block of the layer below through its context pointer: the u32
 * at cfg->ctx_adjust (IPCB's iif) into cfg->result, and the u16
 * cfg->write_val at cfg->target (IPCB's frag_max_size).  Both offsets
 * are from the start of the sk_buff.
 */
SEC("socket")
int cb_forge(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u32 *r;
	__u16 *w;

	if (!c)
		return 0;
	r = (void *)c + bpf_moat_test_escape(addr_of(c, skb) + c->ctx_adjust -
					     addr_of(c, c));
	c->result = *r;
	w = (void *)c + bpf_moat_test_escape(addr_of(c, skb) + c->target -
					     addr_of(c, c));
	*w = c->write_val;
	c->ran = 1;
	return 0xffff;
}

/*
 * deputy_copy: hands its own context, as the value to store, to
 * bpf_map_update_elem() (the verifier sees a zeroed stack buffer).  The
 * helper copies the first 64 bytes of what it gets into deputy_map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[8]);
} deputy_map SEC(".maps");

SEC("socket")
int deputy_copy(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 buf[8] = {};
	__u32 key = 0;
	void *v;

	if (!c)
		return 0;
	v = (void *)buf + bpf_moat_test_escape(addr_of(c, skb) -
					       addr_of(c, buf));
	c->result = bpf_map_update_elem(&deputy_map, &key, v, BPF_ANY);
	c->ran = 1;
	return 0;
}

/*
 * sk_prot_read: a cgroup skb program that reads its packet's socket family
 * (so it is given the socket), then through its context pointer the
 * socket pointer at cfg->ctx_adjust (sk_buff.sk) and, through that, the
 * word at cfg->target of the socket (sock_common.skc_prot) into
 * cfg->result.
 */
SEC("cgroup_skb/egress")
int sk_prot_read(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 sk, *p;

	if (!c || skb->family != 2)	/* AF_INET */
		return 1;
	p = (void *)c + bpf_moat_test_escape(addr_of(c, skb) + c->ctx_adjust -
					     addr_of(c, c));
	sk = *p;
	if (sk) {
		p = (void *)c + bpf_moat_test_escape(sk + c->target -
						     addr_of(c, c));
		c->result = *p;
	}
	c->ran = 1;
	return 1;
}

/*
 * tcp_fields: a legitimate cgroup skb program that reads the TCP fields of
 * the packet's socket whenever bpf_tcp_sock() gives it one (for any full
 * socket whose protocol is IPPROTO_TCP, raw sockets included).
 */
SEC("cgroup_skb/egress")
int tcp_fields(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;

	if (!c || !sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_TCP || sk->type != 3 /* SOCK_RAW */)
		return 1;
	tp = bpf_tcp_sock(sk);
	if (!tp)
		return 1;
	c->result = tp->snd_cwnd | (__u64)tp->rcv_nxt << 32;
	c->ran = 1;
	return 1;
}

/*
 * Nested programs and the helper gate.  gate_outer, a socket filter, calls
 * bpf_trace_printk() twice; gate_inner, on the bpf_trace_printk
 * tracepoint, runs inside each of those calls on the same CPU.  It scans
 * the outer program's stack below its frame pointer for a word that
 * points into the outer program's image ([lo, hi)): a return address.
 * The first time it notes it; the second time it replaces the return
 * address of the second call with that of the first.  If that takes, the
 * second call returns behind the first one, finds "second" set and the
 * outer program returns 2 instead of 1.
 */
struct nest_state {
	__u64 outer_fp;		/* gate_outer's frame pointer */
	__u64 lo, hi;		/* gate_outer's image */
	__u64 calls;		/* runs of gate_inner */
	__u64 found;		/* return addresses it found */
	__u64 ret1;		/* the first one */
	__u64 hijacked;		/* the second one was replaced */
	__u64 scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nest_state);
} nest_map SEC(".maps");

SEC("socket")
int gate_outer(struct __sk_buff *skb)
{
	static const char fmt[] = "moat gate\n";
	struct nest_state *s = only_value(&nest_map);
	volatile __u64 second = 0;
	void *fp;

	if (!s)
		return 0;
	asm volatile("%0 = r10" : "=r"(fp));
	*(volatile __u64 *)&s->outer_fp = (__u64)fp;
	bpf_trace_printk(fmt, sizeof(fmt));
	if (second)
		return 2;
	second = 1;
	bpf_trace_printk(fmt, sizeof(fmt));
	return 1;
}

SEC("tp/bpf_trace/bpf_trace_printk")
int gate_inner(void *ctx)
{
	struct nest_state *s = only_value(&nest_map);
	volatile __u64 *p;
	__u64 base, v;
	int i;

	if (!s || !s->outer_fp)
		return 0;
	s->calls++;
	base = launder(&s->scratch, s);
#pragma unroll
	for (i = 1; i <= 48; i++) {
		p = (void *)s + bpf_moat_test_escape(s->outer_fp - 8 * i -
						     base);
		v = *p;
		if (v < s->lo || v >= s->hi)
			continue;
		s->found++;
		if (s->calls == 1) {
			s->ret1 = v;
		} else if (s->ret1 && v != s->ret1) {
			*p = s->ret1;
			s->hijacked = 1;
		}
		break;
	}
	return 0;
}

/*
 * Exceptions in a window and other CPUs.  spray_victim reads the kernel
 * canary at cfg->target: isolated, that is a fault, and the CPU and the
 * entry code push frames, registers and return addresses onto its
 * restricted stack.  spray_writer, on another CPU, keeps overwriting the
 * 64 words below spray_victim's frame pointer with a non-canonical value,
 * so that whatever the entry code reads back from there is garbage (if it
 * can: isolated, the other CPU's frames have another key).
 */
struct spray_state {
	__u64 victim_fp;
	__u64 victim_target;
	__u64 value;
	__u64 sprays;
	__u64 scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spray_state);
} spray_map SEC(".maps");

SEC("socket")
int spray_victim(struct __sk_buff *skb)
{
	struct spray_state *s = only_value(&spray_map);
	volatile __u64 *p;
	void *fp;

	if (!s)
		return 0;
	asm volatile("%0 = r10" : "=r"(fp));
	*(volatile __u64 *)&s->victim_fp = (__u64)fp;
	p = (void *)s + bpf_moat_test_escape(s->victim_target -
					     launder(&s->scratch, s));
	return *p ? 1 : 2;
}

SEC("socket")
int spray_writer(struct __sk_buff *skb)
{
	struct spray_state *s = only_value(&spray_map);
	volatile __u64 *p;
	__u64 base, fp;
	int i;

	if (!s || !s->victim_fp)
		return 0;
	fp = s->victim_fp;
	base = launder(&s->scratch, s);
	/* Counted first: isolated, the first store may end the run. */
	s->sprays++;
#pragma unroll
	for (i = 1; i <= 64; i++) {
		p = (void *)s + bpf_moat_test_escape(fp - 8 * i - base);
		*p = s->value;
	}
	return 0;
}

/*
 * Helper-path attacks: each passes a helper a pointer the verifier checked
 * (a stack buffer, a map value, a map), moved by a "zero" offset onto
 * cfg->target, so that the helper reads or writes the kernel for it.
 * Isolated, the helper gate checks every memory and map argument first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dpa_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u64);
	__type(value, __u64);
} dpa_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} dpa_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} dpa_perf SEC(".maps");

/* @buf moved onto cfg->target. */
static __always_inline void *onto_target(struct attack_cfg *c, void *buf)
{
	return buf + bpf_moat_test_escape(c->target - addr_of(c, buf));
}

/* bpf_skb_load_bytes() writes the packet's first 8 bytes at the target. */
SEC("socket")
int dpa_load_bytes(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 buf = 0;

	if (!c)
		return 0;
	c->result = bpf_skb_load_bytes(skb, 0, onto_target(c, &buf), 8);
	c->ran = 1;
	return 0;
}

/* bpf_map_update_elem() copies the target's word into dpa_map. */
SEC("socket")
int dpa_update_src(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 buf = 0;
	__u32 key = 0;

	if (!c)
		return 0;
	c->result = bpf_map_update_elem(&dpa_map, &key, onto_target(c, &buf),
					BPF_ANY);
	c->ran = 1;
	return 0;
}

/* bpf_map_lookup_elem() takes the target's word as the key. */
SEC("socket")
int dpa_lookup_key(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 key = 0, *v;

	if (!c)
		return 0;
	v = bpf_map_lookup_elem(&dpa_hash, onto_target(c, &key));
	c->result = v ? *v : 0;
	c->ran = 1;
	return 0;
}

/* bpf_ringbuf_output() sends the target's word to user space. */
SEC("socket")
int dpa_ringbuf_output(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 buf = 0;

	if (!c)
		return 0;
	c->result = bpf_ringbuf_output(&dpa_rb, onto_target(c, &buf), 8, 0);
	c->ran = 1;
	return 0;
}

/* bpf_perf_event_output() likewise, through a perf event buffer. */
SEC("socket")
int dpa_perf_output(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 buf = 0;

	if (!c)
		return 0;
	c->result = bpf_perf_event_output(skb, &dpa_perf, BPF_F_CURRENT_CPU,
					  onto_target(c, &buf), 8);
	c->ran = 1;
	return 0;
}

/*
 * bpf_probe_read_kernel() may read any address, but writes only where the
 * verifier allows: here cfg->write_val, at the target.
 */
SEC("raw_tp/sys_enter")
int dpa_probe_read(void *ctx)
{
	struct attack_cfg *c = cfg();
	__u64 val, buf = 0;

	if (!c)
		return 0;
	val = c->write_val;
	c->result = bpf_probe_read_kernel(onto_target(c, &buf), 8, &val);
	c->ran = 1;
	return 0;
}

/*
 * bpf_probe_read_kernel() of cfg->target into the stack, kept in scratch:
 * no escape, what any tracing program may do.
 */
SEC("raw_tp/sys_enter")
int cop_probe_read(void *ctx)
{
	struct attack_cfg *c = cfg();
	__u64 buf = 0;

	if (!c)
		return 0;
	c->result = bpf_probe_read_kernel(&buf, 8, (void *)c->target);
	c->scratch = buf;
	c->ran = 1;
	return 0;
}

/*
 * A forged map: a struct bpf_map built in a map value (the pattern of
 * CVE-2021-34866), passed where the verifier saw dpa_map.  Its ops would be
 * the attacker's: no MOAT-off run.
 */
SEC("socket")
int dpa_fake_map(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 val = 0;
	__u32 key = 0;
	void *map;

	if (!c)
		return 0;
	map = (void *)&dpa_map + bpf_moat_test_escape(addr_of(c, c) -
						      addr_of(c, &dpa_map));
	c->result = bpf_map_update_elem(map, &key, &val, BPF_ANY);
	c->ran = 1;
	return 0;
}

/*
 * A real map of the wrong type: the array dpa_map passed to
 * bpf_ringbuf_output(), which would take it for a ring buffer.
 */
SEC("socket")
int dpa_wrong_map(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 val = 0;
	void *map;

	if (!c)
		return 0;
	map = (void *)&dpa_rb + bpf_moat_test_escape(addr_of(c, &dpa_map) -
						     addr_of(c, &dpa_rb));
	c->result = bpf_ringbuf_output(map, &val, 8, 0);
	c->ran = 1;
	return 0;
}

/*
 * NULL with a size: bpf_snprintf() takes NULL for an output of size 0
 * only; the verifier sees a stack buffer of 8.  Without the gate's check
 * the helper would write at address 0: no MOAT-off run.
 */
SEC("socket")
int dpa_null_out(struct __sk_buff *skb)
{
	static const char fmt[] = "moat";
	struct attack_cfg *c = cfg();
	char buf[8] = {};
	char *out;

	if (!c)
		return 0;
	out = buf + bpf_moat_test_escape(0 - addr_of(c, buf));
	c->result = bpf_snprintf(out, sizeof(buf), fmt, NULL, 0);
	c->ran = 1;
	return 0;
}

/*
 * Scalar-argument attacks: a size or offset the verifier believes is a
 * constant and is not.  The memory the helper gets was checked for the
 * size the verifier saw; the bytes beyond it are someone else's, here the
 * second element of dpa_pair.  No pointer is forged: the gate's memory
 * check passes, only the comparison with the verifier's bounds fails.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} dpa_pair SEC(".maps");

/* bpf_skb_load_bytes(to = element 0, len = "8"): 8 + cfg->write_val. */
SEC("socket")
int dpa_forged_size(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u32 key = 0;
	__u64 *v;

	if (!c)
		return 0;
	v = bpf_map_lookup_elem(&dpa_pair, &key);
	if (!v)
		return 0;
	c->result = bpf_skb_load_bytes(skb, 0, v,
				       8 + bpf_moat_test_escape(c->write_val));
	c->ran = 1;
	return 0;
}

/*
 * bpf_xdp_adjust_tail(delta = "0"): cfg->write_val.  The verifier believes
 * the program leaves the packet's length alone.
 */
SEC("xdp")
int dpa_adjust_tail(struct xdp_md *ctx)
{
	struct attack_cfg *c = cfg();

	if (!c)
		return XDP_PASS;
	c->result = bpf_xdp_adjust_tail(ctx,
					(int)bpf_moat_test_escape(c->write_val));
	c->ran = 1;
	return XDP_PASS;
}

/*
 * Maps whose values hold fields the kernel trusts (a spin lock, a timer, a
 * kptr).  Isolated programs cannot use them; trusted_addrs, a plain
 * program (never loaded isolated), uses each as a program may and hands
 * out the address of each value's data word, for isolated attacks to aim
 * at.  (clang 14 drops the kptr tag: escape.c creates that map with BTF of
 * its own.)
 */
struct lock_val {
	struct bpf_spin_lock lock;
	__u64 data;
};

struct timer_val {
	struct bpf_timer timer;
	__u64 data;
};

struct kptr_val {
	__u64 task;		/* struct task_struct __kptr * */
	__u64 data;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lock_val);
} trusted_lock_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct timer_val);
} trusted_timer_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lock_val);
} trusted_lock_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kptr_val);
} trusted_kptr SEC(".maps");

/* Where trusted_addrs puts the data words' addresses, in map order. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} trusted_out SEC(".maps");

static __always_inline void trusted_out_set(__u32 i, __u64 *data)
{
	__u64 *out = bpf_map_lookup_elem(&trusted_out, &i);

	if (out)
		launder(out, data);
}

SEC("tc")		/* socket filters may not take spin locks */
int trusted_addrs(struct __sk_buff *skb)
{
	struct timer_val *t;
	struct lock_val *l;
	struct kptr_val *k;
	__u32 key = 0;

	l = bpf_map_lookup_elem(&trusted_lock_array, &key);
	if (l) {
		bpf_spin_lock(&l->lock);
		l->data++;
		bpf_spin_unlock(&l->lock);
		trusted_out_set(0, &l->data);
	}
	t = bpf_map_lookup_elem(&trusted_timer_hash, &key);
	if (t) {
		t->data++;
		trusted_out_set(1, &t->data);
	}
	l = bpf_map_lookup_elem(&trusted_lock_hash, &key);
	if (l) {
		bpf_spin_lock(&l->lock);
		l->data++;
		bpf_spin_unlock(&l->lock);
		trusted_out_set(2, &l->data);
	}
	k = bpf_map_lookup_elem(&trusted_kptr, &key);
	if (k) {
		k->data++;
		trusted_out_set(3, &k->data);
	}
	return 0;
}

/*
 * A word of .rodata, which libbpf freezes (BPF_F_RDONLY_PROG): the verifier
 * folds loads from it into constants.  rodata_addr hands out its address;
 * rodata_copy has bpf_map_update_elem() read it (a legitimate helper read
 * of read-only BPF memory) into ro_copy.
 */
const volatile __u64 ro_word = 0x726f64617461ULL;	/* "rodata" */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ro_copy SEC(".maps");

SEC("socket")
int rodata_addr(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();

	if (!c)
		return 0;
	c->result = addr_of(c, (void *)&ro_word);
	c->ran = 1;
	return 0;
}

SEC("socket")
int rodata_copy(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u32 key = 0;

	if (!c)
		return 0;
	c->result = bpf_map_update_elem(&ro_copy, &key, (void *)&ro_word, 0);
	c->ran = 1;
	return 0;
}

/*
 * rb_hold reserves a record in rb_term, then, with cfg->target set, reads
 * the kernel word there (a fault, isolated) before it submits the record:
 * a terminated run must not leave its record reserved.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb_term SEC(".maps");

SEC("socket")
int rb_hold(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 *rec, *p;

	if (!c)
		return 0;
	rec = bpf_ringbuf_reserve(&rb_term, sizeof(*rec), 0);
	if (!rec)
		return 0;
	*rec = c->write_val;
	if (c->target) {
		p = onto_target(c, c);
		c->result = *p;
	}
	bpf_ringbuf_submit(rec, 0);
	c->ran = 1;
	return 0;
}

/*
 * tp_regs_read: a tracepoint program on signal:signal_generate that reads
 * the first word of its trace record, which the verifier does not let
 * tracepoint programs read: perf keeps the event's struct pt_regs pointer
 * there, for the helpers.  It reads sig, the next word, legitimately (into
 * cfg->ctx_adjust), so that a copy of the record made for it covers the
 * first word too.  Only signals sent by the process cfg->target count.
 */
struct tp_signal_generate {
	__u64 common;
	int sig;
};

SEC("tp/signal/signal_generate")
int tp_regs_read(struct tp_signal_generate *ctx)
{
	struct attack_cfg *c = cfg();
	__u64 *p;

	if (!c || bpf_get_current_pid_tgid() >> 32 != c->target)
		return 0;
	p = (void *)c + bpf_moat_test_escape(addr_of(c, ctx) -
					     addr_of(c, c));
	c->result = *p;
	c->ctx_adjust = ctx->sig;
	c->ran = 1;
	return 0;
}

/*
 * kp_regs_addr: a kprobe program that reads its registers, as it may (an
 * isolated one reads its copy of them): the probed address into
 * cfg->result, and where its context is into cfg->ctx_adjust, for another
 * program to read what is left there once the run is over.  Only calls by
 * the process cfg->target count.
 */
SEC("kprobe/__x64_sys_getppid")
int kp_regs_addr(struct pt_regs *ctx)
{
	struct attack_cfg *c = cfg();

	if (!c || bpf_get_current_pid_tgid() >> 32 != c->target)
		return 0;
	c->result = ctx->rip;
	c->ctx_adjust = addr_of(c, ctx);
	c->ran = 1;
	return 0;
}

/*
 * endless_loop: a loop the verifier saw run once.  Its condition comes
 * from bpf_moat_test_escape(cfg->write_val), which the verifier takes for
 * 0, so to the verifier the back edge is never taken; with write_val 1 the
 * run never ends of its own accord (cfg->result counts the laps).  With
 * cfg->target set, the program first writes 1 there: the address of its
 * CPU's "NMI executing" word, which would have the NMIs that come to end
 * the run taken for nested ones and dropped.
 */
SEC("socket")
int endless_loop(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 go;
	__u64 *p;

	if (!c)
		return 0;
	go = bpf_moat_test_escape(c->write_val);
	if (c->target) {
		p = (void *)c + bpf_moat_test_escape(c->target -
						     addr_of(c, c));
		*p = 1;
	}
	do {
		(*(volatile __u64 *)&c->result)++;
	} while (go);
	c->ran = 1;
	return 1;
}

/*
 * endless_helper_loop: endless_loop with a helper call in each lap
 * (bpf_probe_read_kernel() of 256 bytes, the gate's memory checks), where
 * nearly all of its time goes: an NMI rarely finds it in its BPF code.
 */
SEC("socket")
int endless_helper_loop(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	volatile __u64 go;
	__u64 buf[32];

	if (!c)
		return 0;
	go = bpf_moat_test_escape(c->write_val);
	do {
		bpf_probe_read_kernel(buf, sizeof(buf), c);
		(*(volatile __u64 *)&c->result)++;
	} while (go);
	c->ran = 1;
	return 1;
}

/*
 * endless_nested_loop: endless_loop, each lap a bpf_trace_printk() call,
 * on whose tracepoint slow_nested runs, nested in the helper: a run that
 * takes far longer than the lap outside it, so that most of the time the
 * innermost run on the CPU is a new run of slow_nested.  It stops by
 * itself cfg->target ns after it started (bpf_ktime_get_ns()), so that a
 * kernel that does not end it ends the test.
 */
/*
 * A loop the verifier sees run once (its condition comes from the escape),
 * calling bpf_trace_printk(@fmt) each lap, counted in cfg->result; it
 * stops cfg->target ns after it started, and then sets cfg->ran.  The
 * stop is inside the loop: a condition after "go" would be code the
 * verifier never visits, and it would rewrite the branch to leave the
 * loop.
 */
static __always_inline void printk_loop(struct attack_cfg *c, const char *fmt,
					__u32 fmt_size)
{
	volatile __u64 go = bpf_moat_test_escape(c->write_val);
	__u64 end = bpf_ktime_get_ns() + c->target;

	do {
		bpf_trace_printk(fmt, fmt_size);
		(*(volatile __u64 *)&c->result)++;
		if (bpf_ktime_get_ns() > end)
			break;
	} while (go);
	c->ran = 1;
}

SEC("socket")
int endless_nested_loop(struct __sk_buff *skb)
{
	static const char fmt[] = "moat nested loop\n";
	struct attack_cfg *c = cfg();

	if (!c)
		return 0;
	printk_loop(c, fmt, sizeof(fmt));
	return 1;
}

/*
 * slow_nested: while cfg->ctx_adjust is set, a loop of that many laps
 * (the verifier sees one: its condition comes from the escape), counting
 * its runs in cfg->scratch.  It ends by itself.
 */
SEC("raw_tp/bpf_trace_printk")
int slow_nested(void *ctx)
{
	struct attack_cfg *c = cfg();
	volatile __u64 go, n = 0;

	if (!c || !c->ctx_adjust)
		return 0;
	go = bpf_moat_test_escape(c->write_val);
	do {
		n++;
		if (n >= c->ctx_adjust)
			break;
	} while (go);
	(*(volatile __u64 *)&c->scratch)++;
	return 0;
}

/*
 * endless_inner: while cfg->inner_ns is set, an endless loop that stops by
 * itself inner_ns ns after it started (for a kernel that does not end
 * it), counting its runs in cfg->scratch.  On bpf_trace_printk()'s
 * tracepoint, it runs nested in each lap of endless_nested_loop.
 */
static __always_inline int endless_inner_run(void)
{
	struct attack_cfg *c = cfg();
	volatile __u64 go;
	__u64 end;

	if (!c || !c->inner_ns)
		return 0;
	(*(volatile __u64 *)&c->scratch)++;
	go = bpf_moat_test_escape(c->write_val);
	end = bpf_ktime_get_ns() + c->inner_ns;
	do {
		if (bpf_ktime_get_ns() > end)
			break;
	} while (go);
	return 0;
}

SEC("raw_tp/bpf_trace_printk")
int endless_inner(void *ctx)
{
	return endless_inner_run();
}

/* endless_inner again: a second program, run after it in each printk. */
SEC("raw_tp/bpf_trace_printk")
int endless_inner2(void *ctx)
{
	return endless_inner_run();
}

/*
 * nested_victim: a socket filter that does not loop: one
 * bpf_probe_read_kernel() call, verdict 1.  endless_kprobe_loop, on
 * copy_from_kernel_nofault(), runs nested in that call, once, in process
 * cfg->pid: endless_nested_loop's loop (bpf_trace_printk() each lap, with
 * slow_nested nested in it), a third level.
 */
SEC("socket")
int nested_victim(struct __sk_buff *skb)
{
	struct attack_cfg *c = cfg();
	__u64 buf;

	if (!c)
		return 0;
	bpf_probe_read_kernel(&buf, sizeof(buf), c);
	return 1;
}

/*
 * On pks_set_pte_key(), which MOAT also calls with its Layer II lock held
 * (while keys change hands): counts its runs in cfg->result.  A run nested
 * there must not wait for that lock.
 */
SEC("kprobe/pks_set_pte_key")
int kp_under_dom_lock(struct pt_regs *ctx)
{
	struct attack_cfg *c = cfg();

	if (c)
		c->result++;
	return 0;
}

SEC("kprobe/copy_from_kernel_nofault")
int endless_kprobe_loop(struct pt_regs *regs)
{
	static const char fmt[] = "moat middle loop\n";
	struct attack_cfg *c = cfg();

	if (!c || !c->pid || bpf_get_current_pid_tgid() >> 32 != c->pid)
		return 0;
	c->pid = 0;
	printk_loop(c, fmt, sizeof(fmt));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
