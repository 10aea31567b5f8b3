// SPDX-License-Identifier: GPL-2.0
/*
 * smiagent: a long-lived subnet-management session, as an SM holds one:
 * registers a QP0 (SMI, LID-routed) agent through libibumad once, then
 * works one command from standard input at a time. Shows whether a policy
 * loaded after the registration still lets the agent send and receive.
 *
 * usage: smiagent DEVICE PORT [traps]
 *
 * With "traps" the agent also registers for unsolicited Trap SMPs, as an SM
 * does. Commands and what they print:
 *   nodeinfo LID   a NodeInfo Get to LID and its answer: "nodeinfo: ok"
 *   trap LID       one Trap SMP to LID, nothing awaited: "trap: ok TID"
 *   recv           one MAD received within a second: "recv: trap TID"
 *                  (or "recv: other TID")
 * or "WHAT: ERRNO (message)". Before any command: "register: ok" or
 * "register: ERRNO". Exit: 0 at end of input, 1 the registration failed,
 * 2 usage.
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
#define METHOD_TRAP		0x05
#define ATTR_NOTICE		0x0002
#define ATTR_NODE_INFO		0x0011
#define TIMEOUT_MS		1000

static void put_header(__u8 *mad, __u8 method, __u16 attr_id, __u64 tid)
{
	__u16 attr = htons(attr_id);
	__u32 tid_lo = htonl((__u32)tid);

	memset(mad, 0, SMP_SIZE);
	mad[0] = 1;			/* base version */
	mad[1] = MGMT_CLASS_SUBN_LID;
	mad[2] = 1;			/* class version */
	mad[3] = method;
	memcpy(mad + 12, &tid_lo, sizeof(tid_lo));
	memcpy(mad + 16, &attr, sizeof(attr));
}

static int send_smp(int fd, int agent, void *umad, int lid, __u8 method,
		    __u16 attr, __u64 tid, int timeout_ms)
{
	put_header(umad_get_mad(umad), method, attr, tid);
	umad_set_addr(umad, lid, 0, 0, 0);
	if (umad_send(fd, agent, umad, SMP_SIZE, timeout_ms, 0) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* Returns 0 with what was received described in detail, or -errno. */
static int receive(int fd, void *umad, char *detail, size_t size)
{
	const __u8 *mad = umad_get_mad(umad);
	int len = SMP_SIZE;
	__u32 tid_lo;

	if (umad_recv(fd, umad, &len, TIMEOUT_MS) < 0)
		return errno ? -errno : -EIO;
	if (umad_status(umad))
		return -ETIMEDOUT;
	memcpy(&tid_lo, mad + 12, sizeof(tid_lo));
	snprintf(detail, size, "%s %u",
		 mad[3] == METHOD_TRAP ? "trap" : "other", ntohl(tid_lo));
	return 0;
}

static int nodeinfo(int fd, int agent, void *umad, int lid, __u64 tid)
{
	char detail[32];

	return send_smp(fd, agent, umad, lid, METHOD_GET, ATTR_NODE_INFO, tid,
			TIMEOUT_MS) ?:
	       receive(fd, umad, detail, sizeof(detail));
}

/* err: 0 or -errno */
static void report(const char *what, int err, const char *detail)
{
	if (err)
		printf("%s: %s (%s)\n", what, strerrorname_np(-err) ?: "?",
		       strerror(-err));
	else
		printf("%s: %s\n", what, detail);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	long methods[16 / sizeof(long)] = { 0 };
	char line[64], command[16], detail[32];
	__u64 tid = 1;
	void *umad;
	int fd, agent, lid, err;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "traps"))) {
		fprintf(stderr, "usage: smiagent DEVICE PORT [traps]\n");
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
	if (argc == 4)
		methods[0] = 1L << METHOD_TRAP;
	agent = umad_register(fd, MGMT_CLASS_SUBN_LID, 1, 0,
			      argc == 4 ? methods : NULL);
	if (agent < 0) {
		printf("register: %s\n", strerrorname_np(-agent) ?: "error");
		return 1;
	}
	report("register", 0, "ok");
	umad = umad_alloc(1, umad_size() + SMP_SIZE);
	if (!umad)
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		lid = 0;
		if (sscanf(line, "%15s %d", command, &lid) < 1)
			continue;
		if (!strcmp(command, "nodeinfo")) {
			err = nodeinfo(fd, agent, umad, lid, tid++);
			report(command, err, "ok");
		} else if (!strcmp(command, "trap")) {
			snprintf(detail, sizeof(detail), "ok %u", (__u32)tid);
			err = send_smp(fd, agent, umad, lid, METHOD_TRAP,
				       ATTR_NOTICE, tid++, 0);
			report(command, err, detail);
		} else if (!strcmp(command, "recv")) {
			err = receive(fd, umad, detail, sizeof(detail));
			report(command, err, detail);
		} else {
			report(command, -EINVAL, "");
		}
	}
	umad_free(umad);
	umad_close_port(fd);
	return 0;
}
