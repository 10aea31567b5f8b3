// SPDX-License-Identifier: GPL-2.0
/*
 * qpctl: drive kernel QPs on the mock HCA through /dev/mockhca.
 *
 * Runs its steps in order in one process (the QPs belong to the open file
 * and go away when qpctl exits), prints one line per step,
 *   "<step>: ok ..." or "<step>: <ERRNO NAME> (<message>)",
 * and stops at the first failure unless -k is given.
 * Exit status: 0 every step succeeded, 1 a step failed, 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mockhca_uapi.h"

#define MAX_QPS 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const state_names[] = {
	"reset", "init", "rtr", "rts", "sqd", "sqe", "err",
};

struct qp {
	unsigned int handle;
	unsigned int qp_num;
	unsigned int type;
	unsigned int port;
};

static int fd = -1;
static struct qp qps[MAX_QPS];
static int nqps;
static int cur = -1;

static void die_usage(void)
{
	fprintf(stderr,
		"Usage: qpctl [-d DEVICE] [-k] STEP...\n"
		"Steps (the QP steps act on the current QP):\n"
		"  info                    device name, ports, P_Key table length\n"
		"  create rc|ud|driver [PORT]\n"
		"                          ib_create_qp (driver: a driver's own QP type,\n"
		"                          IB_QPT_RESERVED1); the new QP becomes current\n"
		"  use N                   make the N-th created QP (from 1) current\n"
		"  init PORT PKEY_INDEX    RESET->INIT with port and pkey_index\n"
		"  rtr [DLID]              INIT->RTR (RC: path to DLID, default the\n"
		"                          port's LID, and to this QP)\n"
		"  rts                     RTR->RTS\n"
		"  pkey PKEY_INDEX         change only the pkey_index\n"
		"  port PORT               change only the port\n"
		"  alt PORT PKEY_INDEX     load an alternate path\n"
		"  state STATE             change only the state: reset init rtr\n"
		"                          rts sqd sqe err\n"
		"  query                   print state, port, pkey_index, alt path\n"
		"  destroy                 ib_destroy_qp\n"
		"  getpkeys PORT           print the port's P_Key table\n"
		"  cachedpkeys PORT        the same from ib_core's P_Key cache\n"
		"  setpkeys PORT P,P,...   replace it (CAP_SYS_ADMIN)\n"
		"  sleep SECONDS           pause\n"
		"  wait                    read a line from standard input\n"
		"Exit status: 0 all steps succeeded, 1 a step failed, 2 bad arguments.\n");
	exit(2);
}

static unsigned long parse_num(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end) {
		fprintf(stderr, "qpctl: not a number: '%s'\n", s);
		die_usage();
	}
	return v;
}

static const char *arg(char **argv, int *i)
{
	if (!argv[*i + 1]) {
		fprintf(stderr, "qpctl: '%s' needs an argument\n", argv[*i]);
		die_usage();
	}
	return argv[++*i];
}

static bool fail(const char *step, int err)
{
	const char *name = strerrorname_np(err);

	if (name)
		printf("%s: %s (%s)\n", step, name, strerror(err));
	else
		printf("%s: errno %d (%s)\n", step, err, strerror(err));
	fflush(stdout);
	return false;
}

static bool step_ok(const char *step)
{
	printf("%s: ok\n", step);
	fflush(stdout);
	return true;
}

static struct qp *current_qp(const char *step)
{
	if (cur < 0) {
		fprintf(stderr, "qpctl: %s: no QP (create one first)\n", step);
		die_usage();
	}
	return &qps[cur];
}

static bool modify(const char *step, struct mockhca_qp_attr *a)
{
	a->handle = current_qp(step)->handle;
	if (ioctl(fd, MOCKHCA_IOC_MODIFY_QP, a))
		return fail(step, errno);
	return step_ok(step);
}

static bool do_info(void)
{
	struct mockhca_info info;

	if (ioctl(fd, MOCKHCA_IOC_INFO, &info))
		return fail("info", errno);
	printf("info: ok name=%s ports=%u pkey_tbl_len=%u ",
	       info.name, info.ports, info.pkey_tbl_len);
	printf("subnet_prefix=0x%016llx node_guid=0x%016llx\n",
	       (unsigned long long)info.subnet_prefix,
	       (unsigned long long)info.node_guid);
	fflush(stdout);
	return true;
}

static bool do_create(const char *type, unsigned int port)
{
	struct mockhca_qp_create req = { .port = port };

	if (!strcmp(type, "rc")) {
		req.qp_type = MOCKHCA_QPT_RC;
	} else if (!strcmp(type, "ud")) {
		req.qp_type = MOCKHCA_QPT_UD;
	} else if (!strcmp(type, "driver")) {
		req.qp_type = MOCKHCA_QPT_DRIVER;
	} else {
		fprintf(stderr, "qpctl: create: type must be rc, ud or driver\n");
		die_usage();
	}
	if (nqps == MAX_QPS) {
		fprintf(stderr, "qpctl: too many QPs\n");
		die_usage();
	}
	if (ioctl(fd, MOCKHCA_IOC_CREATE_QP, &req))
		return fail("create", errno);
	qps[nqps].handle = req.handle;
	qps[nqps].qp_num = req.qp_num;
	qps[nqps].type = req.qp_type;
	qps[nqps].port = port;
	cur = nqps++;
	printf("create: ok qp=%d qpn=0x%x\n", cur + 1, req.qp_num);
	fflush(stdout);
	return true;
}

static bool do_init(unsigned int port, unsigned int pkey_index)
{
	struct mockhca_qp_attr a = {
		.attr_mask = MOCKHCA_QP_STATE | MOCKHCA_QP_PORT |
			     MOCKHCA_QP_PKEY_INDEX,
		.qp_state = MOCKHCA_QPS_INIT,
		.port = port,
		.pkey_index = pkey_index,
	};
	struct qp *qp = current_qp("init");

	if (qp->type == MOCKHCA_QPT_UD) {
		a.attr_mask |= MOCKHCA_QP_QKEY;
		a.qkey = 0x11111111;
	} else {
		a.attr_mask |= MOCKHCA_QP_ACCESS_FLAGS;
	}
	if (!modify("init", &a))
		return false;
	qp->port = port;
	return true;
}

static bool do_rtr(unsigned int dlid)
{
	struct mockhca_qp_attr a = {
		.attr_mask = MOCKHCA_QP_STATE,
		.qp_state = MOCKHCA_QPS_RTR,
	};
	struct qp *qp = current_qp("rtr");

	if (qp->type == MOCKHCA_QPT_RC) {
		a.attr_mask |= MOCKHCA_QP_AV | MOCKHCA_QP_PATH_MTU |
			       MOCKHCA_QP_DEST_QPN | MOCKHCA_QP_RQ_PSN |
			       MOCKHCA_QP_MAX_DEST_RD_ATOMIC |
			       MOCKHCA_QP_MIN_RNR_TIMER;
		/* The mock HCA gives port N the LID N */
		a.dlid = dlid ? dlid : qp->port;
		a.path_mtu = 5;
		a.dest_qp_num = qp->qp_num;
		a.max_dest_rd_atomic = 1;
		a.min_rnr_timer = 12;
	}
	return modify("rtr", &a);
}

static bool do_rts(void)
{
	struct mockhca_qp_attr a = {
		.attr_mask = MOCKHCA_QP_STATE | MOCKHCA_QP_SQ_PSN,
		.qp_state = MOCKHCA_QPS_RTS,
	};

	if (current_qp("rts")->type == MOCKHCA_QPT_RC) {
		a.attr_mask |= MOCKHCA_QP_TIMEOUT | MOCKHCA_QP_RETRY_CNT |
			       MOCKHCA_QP_RNR_RETRY |
			       MOCKHCA_QP_MAX_QP_RD_ATOMIC;
		a.timeout = 14;
		a.retry_cnt = 7;
		a.rnr_retry = 7;
		a.max_rd_atomic = 1;
	}
	return modify("rts", &a);
}

static bool do_state(const char *name)
{
	struct mockhca_qp_attr a = { .attr_mask = MOCKHCA_QP_STATE };
	unsigned int s;

	for (s = 0; s < ARRAY_SIZE(state_names); s++)
		if (!strcmp(name, state_names[s]))
			break;
	if (s == ARRAY_SIZE(state_names)) {
		fprintf(stderr, "qpctl: unknown state '%s'\n", name);
		die_usage();
	}
	a.qp_state = s;
	return modify("state", &a);
}

static bool do_query(void)
{
	struct mockhca_qp_attr a = { .handle = current_qp("query")->handle };

	if (ioctl(fd, MOCKHCA_IOC_QUERY_QP, &a))
		return fail("query", errno);
	printf("query: ok qpn=0x%x type=%s state=%s port=%u pkey_index=%u ",
	       a.qp_num, a.qp_type == MOCKHCA_QPT_RC ? "rc" :
	       a.qp_type == MOCKHCA_QPT_UD ? "ud" : "driver",
	       a.qp_state <= MOCKHCA_QPS_ERR ? state_names[a.qp_state] : "?",
	       a.port, a.pkey_index);
	printf("alt_port=%u alt_pkey_index=%u fatal_events=%u\n", a.alt_port,
	       a.alt_pkey_index, a.fatal_events);
	fflush(stdout);
	return true;
}

static bool do_destroy(void)
{
	__u32 handle = current_qp("destroy")->handle;

	if (ioctl(fd, MOCKHCA_IOC_DESTROY_QP, &handle))
		return fail("destroy", errno);
	return step_ok("destroy");
}

static bool do_getpkeys(const char *step, unsigned int port)
{
	struct mockhca_pkeys p = { .port = port };
	unsigned long cmd = MOCKHCA_IOC_GET_PKEYS;
	unsigned int i;

	if (!strcmp(step, "cachedpkeys"))
		cmd = MOCKHCA_IOC_GET_CACHED_PKEYS;
	if (ioctl(fd, cmd, &p))
		return fail(step, errno);
	printf("%s: ok", step);
	for (i = 0; i < p.count && i < MOCKHCA_MAX_PKEYS; i++)
		printf("%s0x%04x", i ? "," : " ", p.pkeys[i]);
	printf("\n");
	fflush(stdout);
	return true;
}

static bool do_setpkeys(unsigned int port, const char *list)
{
	struct mockhca_pkeys p = { .port = port };
	char *copy = strdup(list), *save = NULL, *tok;
	bool ret;

	if (!copy) {
		perror("qpctl");
		exit(1);
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long v = parse_num(tok);

		if (v > 0xffff || p.count == MOCKHCA_MAX_PKEYS) {
			fprintf(stderr, "qpctl: bad P_Key list '%s'\n", list);
			die_usage();
		}
		p.pkeys[p.count++] = v;
	}
	free(copy);
	if (ioctl(fd, MOCKHCA_IOC_SET_PKEYS, &p))
		ret = fail("setpkeys", errno);
	else
		ret = step_ok("setpkeys");
	return ret;
}

static bool run_step(char **argv, int *i)
{
	const char *s = argv[*i];
	unsigned long a, b;
	char line[256];

	if (!strcmp(s, "info"))
		return do_info();
	if (!strcmp(s, "create")) {
		const char *type = arg(argv, i);

		a = 0;
		if (argv[*i + 1] && argv[*i + 1][0] >= '0' &&
		    argv[*i + 1][0] <= '9')
			a = parse_num(arg(argv, i));
		return do_create(type, a);
	}
	if (!strcmp(s, "use")) {
		a = parse_num(arg(argv, i));
		if (a < 1 || a > (unsigned long)nqps) {
			fprintf(stderr, "qpctl: use: no QP %lu\n", a);
			die_usage();
		}
		cur = a - 1;
		return step_ok("use");
	}
	if (!strcmp(s, "init")) {
		a = parse_num(arg(argv, i));
		b = parse_num(arg(argv, i));
		return do_init(a, b);
	}
	if (!strcmp(s, "rtr")) {
		a = 0;
		if (argv[*i + 1] && argv[*i + 1][0] >= '0' &&
		    argv[*i + 1][0] <= '9')
			a = parse_num(arg(argv, i));
		return do_rtr(a);
	}
	if (!strcmp(s, "rts"))
		return do_rts();
	if (!strcmp(s, "pkey")) {
		struct mockhca_qp_attr at = {
			.attr_mask = MOCKHCA_QP_PKEY_INDEX,
			.pkey_index = parse_num(arg(argv, i)),
		};

		return modify("pkey", &at);
	}
	if (!strcmp(s, "port")) {
		struct mockhca_qp_attr at = {
			.attr_mask = MOCKHCA_QP_PORT,
			.port = parse_num(arg(argv, i)),
		};

		if (!modify("port", &at))
			return false;
		current_qp("port")->port = at.port;
		return true;
	}
	if (!strcmp(s, "alt")) {
		struct mockhca_qp_attr at = {
			.attr_mask = MOCKHCA_QP_ALT_PATH,
			.alt_timeout = 14,
		};

		at.alt_port = parse_num(arg(argv, i));
		at.alt_pkey_index = parse_num(arg(argv, i));
		at.alt_dlid = at.alt_port;
		return modify("alt", &at);
	}
	if (!strcmp(s, "state"))
		return do_state(arg(argv, i));
	if (!strcmp(s, "query"))
		return do_query();
	if (!strcmp(s, "destroy"))
		return do_destroy();
	if (!strcmp(s, "getpkeys") || !strcmp(s, "cachedpkeys"))
		return do_getpkeys(s, parse_num(arg(argv, i)));
	if (!strcmp(s, "setpkeys")) {
		a = parse_num(arg(argv, i));
		return do_setpkeys(a, arg(argv, i));
	}
	if (!strcmp(s, "sleep")) {
		sleep(parse_num(arg(argv, i)));
		return step_ok("sleep");
	}
	if (!strcmp(s, "wait")) {
		if (!fgets(line, sizeof(line), stdin))
			return fail("wait", EPIPE);
		return step_ok("wait");
	}
	fprintf(stderr, "qpctl: unknown step '%s'\n", s);
	die_usage();
	return false;
}

int main(int argc, char **argv)
{
	const char *dev = MOCKHCA_CTL_PATH;
	bool keep_going = false, all_ok = true;
	int opt, i;

	while ((opt = getopt(argc, argv, "+d:kh")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'k':
			keep_going = true;
			break;
		default:
			die_usage();
		}
	}
	if (optind >= argc)
		die_usage();

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "qpctl: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	for (i = optind; i < argc; i++) {
		if (!run_step(argv, &i)) {
			all_ok = false;
			if (!keep_going)
				break;
		}
	}
	close(fd);
	return all_ok ? 0 : 1;
}
