/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtnetlink requests for the guest tests and benchmarks: build a message
 * with nested attributes, send it and wait for the kernel's ack; and the
 * link requests several of them share (veth pairs, up, delete, MAC), and
 * the IP header checksum of the frames they build.
 *
 *	struct nlreq req;
 *
 *	nl_init(&req, RTM_NEWLINK, NLM_F_CREATE, &ifi, sizeof(ifi));
 *	nl_add(&req.nh, IFLA_IFNAME, "x0", 3);
 *	err = nl_talk(&req.nh);
 */
#ifndef MOAT_NETLINK_H
#define MOAT_NETLINK_H

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

struct nlreq {
	struct nlmsghdr nh;
	char buf[1024];
};

/* Append attribute @type with @len bytes of @data; the attribute. */
static inline struct rtattr *nl_add(struct nlmsghdr *nh, int type,
				    const void *data, int len)
{
	struct rtattr *rta = (void *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

/* Close nest @nest opened by nl_add() with no data. */
static inline void nl_end(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (char *)nh + nh->nlmsg_len - (char *)nest;
}

/* Send one request and wait for its ack; 0 or -errno. */
static inline int nl_talk(struct nlmsghdr *nh)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	int fd, ret;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	nh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nh->nlmsg_seq = 1;
	if (sendto(fd, nh, nh->nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *r = (void *)buf;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		for (; NLMSG_OK(r, n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(r))->error;
				goto out;
			}
		}
	}
out:
	close(fd);
	return ret;
}

/* Start request @type with @flags and the fixed header @hdr. */
static inline void nl_init(struct nlreq *req, int type, int flags,
			   void *hdr, int hdrlen)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = flags;
	req->nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	memcpy(NLMSG_DATA(&req->nh), hdr, hdrlen);
}

/* Create the veth pair @name <-> @peer: 0 or -errno. */
static inline int veth_create(const char *name, const char *peer)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *linkinfo, *data, *peerinfo;
	struct nlreq req;

	nl_init(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
		sizeof(ifi));
	nl_add(&req.nh, IFLA_IFNAME, name, strlen(name) + 1);
	linkinfo = nl_add(&req.nh, IFLA_LINKINFO, NULL, 0);
	nl_add(&req.nh, IFLA_INFO_KIND, "veth", 4);
	data = nl_add(&req.nh, IFLA_INFO_DATA, NULL, 0);
	peerinfo = nl_add(&req.nh, VETH_INFO_PEER, &ifi, sizeof(ifi));
	nl_add(&req.nh, IFLA_IFNAME, peer, strlen(peer) + 1);
	nl_end(&req.nh, peerinfo);
	nl_end(&req.nh, data);
	nl_end(&req.nh, linkinfo);
	return nl_talk(&req.nh);
}

/* Delete link @ifindex (a veth pair goes with either end): 0 or -errno. */
static inline int link_del(int ifindex)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
	};
	struct nlreq req;

	nl_init(&req, RTM_DELLINK, 0, &ifi, sizeof(ifi));
	return nl_talk(&req.nh);
}

/* Set link @ifindex up: 0 or -errno. */
static inline int link_up(int ifindex)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = IFF_UP,
		.ifi_change = IFF_UP,
	};
	struct nlreq req;

	nl_init(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return nl_talk(&req.nh);
}

/* The hardware address of @dev into @mac: 0 or -errno. */
static inline int get_mac(const char *dev, unsigned char mac[6])
{
	struct ifreq ifr = { 0 };
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		ret = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return ret;
}

/* The Internet checksum of the @len bytes at @buf (an IPv4 header). */
static inline uint16_t ip_csum(const void *buf, int len)
{
	const uint16_t *p = buf;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

#endif /* MOAT_NETLINK_H */
