// SPDX-License-Identifier: GPL-2.0
/*
 * smiagent: a long-lived subnet-management session, as an SM holds one:
 * registers a QP0 (SMI, LID-routed) agent through libibumad once, then for
 * each line on standard input sends a NodeInfo Get to LID and waits for the
 * answer. Shows whether a policy loaded after the registration still lets
 * the agent work.
 *
 * usage: smiagent DEVICE PORT LID
 *
 * Prints "register: ok" or "register: ERRNO", then per line read
 * "nodeinfo: ok" or "nodeinfo: ERRNO (message)". Exit: 0 at end of input,
 * 1 the registration failed, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <infiniband/umad.h>

#define SMP_SIZE		256
#define MGMT_CLASS_SUBN_LID	0x01
#define METHOD_GET		0x01
#define ATTR_NODE_INFO		0x0011
#define TIMEOUT_MS		1000

static void put_header(__u8 *mad, __u64 tid)
{
	__u16 attr = htons(ATTR_NODE_INFO);
	__u32 tid_lo = htonl((__u32)tid);

	memset(mad, 0, SMP_SIZE);
	mad[0] = 1;			/* base version */
	mad[1] = MGMT_CLASS_SUBN_LID;
	mad[2] = 1;			/* class version */
	mad[3] = METHOD_GET;
	memcpy(mad + 12, &tid_lo, sizeof(tid_lo));
	memcpy(mad + 16, &attr, sizeof(attr));
}

static int nodeinfo(int fd, int agent, void *umad, int lid, __u64 tid)
{
	int len = SMP_SIZE, ret;

	put_header(umad_get_mad(umad), tid);
	umad_set_addr(umad, lid, 0, 0, 0);
	if (umad_send(fd, agent, umad, SMP_SIZE, TIMEOUT_MS, 0) < 0)
		return errno ? errno : EIO;
	ret = umad_recv(fd, umad, &len, TIMEOUT_MS);
	if (ret < 0)
		return errno ? errno : EIO;
	return umad_status(umad) ? ETIMEDOUT : 0;
}

int main(int argc, char **argv)
{
	char line[64];
	__u64 tid = 1;
	void *umad;
	int fd, agent, err;

	if (argc != 4) {
		fprintf(stderr, "usage: smiagent DEVICE PORT LID\n");
		return 2;
	}
	if (umad_init() < 0) {
		fprintf(stderr, "smiagent: umad_init failed\n");
		return 1;
	}
	fd = umad_open_port(argv[1], atoi(argv[2]));
	if (fd < 0) {
		printf("register: %s (cannot open the port)\n", strerror(-fd));
		return 1;
	}
	agent = umad_register(fd, MGMT_CLASS_SUBN_LID, 1, 0, NULL);
	if (agent < 0) {
		printf("register: %s\n", strerrorname_np(-agent) ?: "error");
		return 1;
	}
	printf("register: ok\n");
	fflush(stdout);
	umad = umad_alloc(1, umad_size() + SMP_SIZE);
	if (!umad)
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		err = nodeinfo(fd, agent, umad, atoi(argv[3]), tid++);
		if (err)
			printf("nodeinfo: %s (%s)\n", strerrorname_np(err) ?: "?",
			       strerror(err));
		else
			printf("nodeinfo: ok\n");
		fflush(stdout);
	}
	umad_free(umad);
	umad_close_port(fd);
	return 0;
}
