/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running traffic with a cgroup skb program attached to a cgroup v2 the
 * test process joins for the time being.  Needs test.h.
 */
#ifndef MOAT_CGROUP_H
#define MOAT_CGROUP_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>

/*
 * Join cgroup @dir (made if needed), attach @prog there and run
 * @traffic(@arg); then detach and go back to the root cgroup.  0, or -1
 * after a FAIL.
 */
static inline int cgroup_run_prog(struct bpf_program *prog, const char *dir,
				  void (*traffic)(void *), void *arg)
{
	char pid[16], procs[256];
	struct bpf_link *link;
	int cg, fd, ret = 0;

	mkdir(dir, 0755);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	cg = open(dir, O_RDONLY | O_DIRECTORY);
	fd = open(procs, O_WRONLY);
	if (cg < 0 || fd < 0 || write(fd, pid, strlen(pid)) < 0) {
		test_fail("joining %s: %s", dir, strerror(errno));
		if (cg >= 0)
			close(cg);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	link = prog ? bpf_program__attach_cgroup(prog, cg) : NULL;
	if (libbpf_get_error(link) || !link) {
		test_fail("attaching %s to %s: %s",
			  prog ? bpf_program__name(prog) : "(no program)", dir,
			  strerror(errno));
		ret = -1;
	} else {
		traffic(arg);
		bpf_link__destroy(link);
	}
	/* back to the root cgroup */
	fd = open("/sys/fs/cgroup/cgroup.procs", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, pid, strlen(pid)) < 0)
			test_info("leaving %s: %s", dir, strerror(errno));
		close(fd);
	}
	close(cg);
	return ret;
}

#endif /* MOAT_CGROUP_H */
