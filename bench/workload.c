// SPDX-License-Identifier: GPL-2.0
/*
 * ibg-bench: the benchmark workloads. Each runs one operation in a loop and
 * prints its cost per operation in nanoseconds of CLOCK_MONOTONIC, which
 * under QEMU -icount counts guest instructions. Every operation must
 * succeed: a benchmark that measures failures measures the wrong thing.
 *
 *   ibg-bench mkfiles DIR COUNT            create DIR/0 .. DIR/COUNT-1
 *   ibg-bench WORKLOAD ITERATIONS [ARG]    run and print ns per operation
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <infiniband/verbs.h>
#include <linux/types.h>
#include <limits.h>
#include <rdma/ib_user_mad.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mockhca_uapi.h"

#define WARMUP_DIVISOR 10
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *progname = "ibg-bench";

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", progname, what, strerror(errno));
	exit(1);
}

static void die_msg(const char *what)
{
	fprintf(stderr, "%s: %s\n", progname, what);
	exit(1);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime");
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One workload: state prepared once, one operation repeated. */
struct workload {
	const char *name;
	const char *arg_help;	/* NULL: takes no argument */
	void (*setup)(const char *arg);
	void (*op)(void);
};

/* --- map ----------------------------------------------------------------- */

static int map_fd = -1;
static void *map_addr;
static long page_size;

static void open_map_file(const char *path)
{
	map_fd = open(path, O_RDWR);
	if (map_fd < 0)
		die(path);
	if (ftruncate(map_fd, page_size))
		die("ftruncate");
}

static void mmap_file_setup(const char *path)
{
	open_map_file(path);
}

static void mmap_file_op(void)
{
	void *p = mmap(NULL, page_size, PROT_READ, MAP_SHARED, map_fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	if (munmap(p, page_size))
		die("munmap");
}

static void mprotect_file_setup(const char *path)
{
	open_map_file(path);
	map_addr = mmap(NULL, page_size, PROT_READ, MAP_SHARED, map_fd, 0);
	if (map_addr == MAP_FAILED)
		die("mmap");
}

/* R -> RW -> R: both changes go through security_file_mprotect(). */
static void mprotect_file_op(void)
{
	if (mprotect(map_addr, page_size, PROT_READ | PROT_WRITE))
		die("mprotect RW");
	if (mprotect(map_addr, page_size, PROT_READ))
		die("mprotect R");
}

static void mmap_anon_op(void)
{
	void *p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	if (munmap(p, page_size))
		die("munmap");
}

/* --- QP setup through libibverbs ------------------------------------------ */

static struct ibv_context *verbs;
static struct ibv_pd *verbs_pd;
static struct ibv_cq *verbs_cq;
static union ibv_gid verbs_gid;

static void qp_verbs_setup(const char *device)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	int i;

	if (!list)
		die("ibv_get_device_list");
	for (i = 0; list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), device))
			break;
	if (!list[i]) {
		errno = ENODEV;
		die(device);
	}
	verbs = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!verbs)
		die("ibv_open_device");
	verbs_pd = ibv_alloc_pd(verbs);
	if (!verbs_pd)
		die("ibv_alloc_pd");
	verbs_cq = ibv_create_cq(verbs, 16, NULL, NULL, 0);
	if (!verbs_cq)
		die("ibv_create_cq");
	if (ibv_query_gid(verbs, 1, 0, &verbs_gid))
		die("ibv_query_gid");
}

static void verbs_modify(struct ibv_qp *qp, struct ibv_qp_attr *attr,
			 int mask, const char *step)
{
	errno = ibv_modify_qp(qp, attr, mask);
	if (errno)
		die(step);
}

/* Create an RC QP, connect it to itself (RESET->INIT->RTR->RTS), destroy. */
static void qp_verbs_op(void)
{
	struct ibv_qp_init_attr init = {
		.send_cq = verbs_cq,
		.recv_cq = verbs_cq,
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = 1,
	};
	struct ibv_qp *qp = ibv_create_qp(verbs_pd, &init);

	if (!qp)
		die("ibv_create_qp");
	verbs_modify(qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
		     IBV_QP_PORT | IBV_QP_ACCESS_FLAGS, "modify to INIT");

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTR;
	attr.path_mtu = IBV_MTU_1024;
	attr.dest_qp_num = qp->qp_num;
	attr.max_dest_rd_atomic = 1;
	attr.min_rnr_timer = 12;
	attr.ah_attr.is_global = 1;
	attr.ah_attr.grh.dgid = verbs_gid;
	attr.ah_attr.grh.hop_limit = 1;
	attr.ah_attr.port_num = 1;
	verbs_modify(qp, &attr, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
		     IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
		     IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER,
		     "modify to RTR");

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTS;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.max_rd_atomic = 1;
	verbs_modify(qp, &attr, IBV_QP_STATE | IBV_QP_TIMEOUT |
		     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
		     IBV_QP_MAX_QP_RD_ATOMIC, "modify to RTS");

	errno = ibv_destroy_qp(qp);
	if (errno)
		die("ibv_destroy_qp");
}

/* --- QP setup on the mock HCA's control device ---------------------------- */

static int mock_fd = -1;

static void qp_mock_setup(const char *unused)
{
	(void)unused;
	mock_fd = open(MOCKHCA_CTL_PATH, O_RDWR);
	if (mock_fd < 0)
		die(MOCKHCA_CTL_PATH);
}

static void mock_modify(struct mockhca_qp_attr *attr, const char *step)
{
	if (ioctl(mock_fd, MOCKHCA_IOC_MODIFY_QP, attr))
		die(step);
}

/* The same steps as qp_rxe, on port 1 (LID 1) at P_Key index 0. */
static void qp_mock_op(void)
{
	struct mockhca_qp_create create = { .qp_type = MOCKHCA_QPT_RC,
					    .port = 1 };
	struct mockhca_qp_attr init = {
		.attr_mask = MOCKHCA_QP_STATE | MOCKHCA_QP_PORT |
			     MOCKHCA_QP_PKEY_INDEX | MOCKHCA_QP_ACCESS_FLAGS,
		.qp_state = MOCKHCA_QPS_INIT,
		.port = 1,
	};
	struct mockhca_qp_attr rtr = {
		.attr_mask = MOCKHCA_QP_STATE | MOCKHCA_QP_AV |
			     MOCKHCA_QP_PATH_MTU | MOCKHCA_QP_DEST_QPN |
			     MOCKHCA_QP_RQ_PSN | MOCKHCA_QP_MAX_DEST_RD_ATOMIC |
			     MOCKHCA_QP_MIN_RNR_TIMER,
		.qp_state = MOCKHCA_QPS_RTR,
		.dlid = 1,
		.path_mtu = 5,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
	};
	struct mockhca_qp_attr rts = {
		.attr_mask = MOCKHCA_QP_STATE | MOCKHCA_QP_SQ_PSN |
			     MOCKHCA_QP_TIMEOUT | MOCKHCA_QP_RETRY_CNT |
			     MOCKHCA_QP_RNR_RETRY | MOCKHCA_QP_MAX_QP_RD_ATOMIC,
		.qp_state = MOCKHCA_QPS_RTS,
		.timeout = 14,
		.retry_cnt = 7,
		.rnr_retry = 7,
		.max_rd_atomic = 1,
	};

	if (ioctl(mock_fd, MOCKHCA_IOC_CREATE_QP, &create))
		die("create QP");
	init.handle = create.handle;
	rtr.handle = create.handle;
	rts.handle = create.handle;
	rtr.dest_qp_num = create.qp_num;
	mock_modify(&init, "modify to INIT");
	mock_modify(&rtr, "modify to RTR");
	mock_modify(&rts, "modify to RTS");
	if (ioctl(mock_fd, MOCKHCA_IOC_DESTROY_QP, &create.handle))
		die("destroy QP");
}

/* --- subnet-manager agents through ib_umad --------------------------------- */

static int umad_fd = -1;

/* ARG is DEVICE:PORT; finds its /dev/infiniband/umadN through sysfs. */
static void umad_agent_setup(const char *arg)
{
	char device[64], want[80], path[PATH_MAX], line[80];
	unsigned int port;
	glob_t g;
	size_t i;

	if (sscanf(arg, "%63[^:]:%u", device, &port) != 2)
		die_msg("umad_agent needs DEVICE:PORT");
	snprintf(want, sizeof(want), "%s %u", device, port);
	if (glob("/sys/class/infiniband_mad/umad*", 0, NULL, &g))
		die_msg("no umad devices (is ib_umad loaded?)");
	for (i = 0; i < g.gl_pathc && umad_fd < 0; i++) {
		char got[80] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/ibdev", g.gl_pathv[i]);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f))
			strncat(got, strtok(line, "\n") ?: "", 63);
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%s/port", g.gl_pathv[i]);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f)) {
			strcat(got, " ");
			strncat(got, strtok(line, "\n") ?: "", 8);
		}
		if (f)
			fclose(f);
		if (strcmp(got, want))
			continue;
		snprintf(path, sizeof(path), "/dev/infiniband/%s",
			 strrchr(g.gl_pathv[i], '/') + 1);
		umad_fd = open(path, O_RDWR);
		if (umad_fd < 0)
			die(path);
	}
	globfree(&g);
	if (umad_fd < 0)
		die_msg("no umad device for that DEVICE:PORT");
}

/* Register a QP0 (subnet management, LID routed) agent and unregister it. */
static void umad_agent_op(void)
{
	struct ib_user_mad_reg_req req = {
		.qpn = 0,
		.mgmt_class = 0x01,
		.mgmt_class_version = 1,
	};

	if (ioctl(umad_fd, IB_USER_MAD_REGISTER_AGENT, &req))
		die("IB_USER_MAD_REGISTER_AGENT");
	if (ioctl(umad_fd, IB_USER_MAD_UNREGISTER_AGENT, &req.id))
		die("IB_USER_MAD_UNREGISTER_AGENT");
}

/* --- driver ---------------------------------------------------------------- */

static const struct workload workloads[] = {
	{ "mmap_file", "FILE", mmap_file_setup, mmap_file_op },
	{ "mprotect_file", "FILE", mprotect_file_setup, mprotect_file_op },
	{ "mmap_anon", NULL, NULL, mmap_anon_op },
	{ "qp_verbs", "DEVICE", qp_verbs_setup, qp_verbs_op },
	{ "qp_mock", NULL, qp_mock_setup, qp_mock_op },
	{ "umad_agent", "DEVICE:PORT", umad_agent_setup, umad_agent_op },
};

#define NR_WORKLOADS ARRAY_SIZE(workloads)

static void die_usage(void)
{
	size_t i;

	fprintf(stderr, "usage: %s mkfiles DIR COUNT\n", progname);
	for (i = 0; i < NR_WORKLOADS; i++)
		fprintf(stderr, "       %s %s ITERATIONS%s%s\n", progname,
			workloads[i].name, workloads[i].arg_help ? " " : "",
			workloads[i].arg_help ?: "");
	exit(2);
}

static unsigned long parse_count(const char *s)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || !n || s[0] == '-')
		die_usage();
	return n;
}

static int mkfiles(const char *dir, unsigned long count)
{
	char path[PATH_MAX];
	unsigned long i;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die(dir);
	for (i = 0; i < count; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%lu", dir, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			die(path);
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct workload *w = NULL;
	unsigned long iterations, i;
	__u64 start;
	size_t k;

	page_size = sysconf(_SC_PAGESIZE);
	if (argc == 4 && !strcmp(argv[1], "mkfiles"))
		return mkfiles(argv[2], parse_count(argv[3]));
	if (argc < 3)
		die_usage();
	for (k = 0; k < NR_WORKLOADS; k++)
		if (!strcmp(argv[1], workloads[k].name))
			w = &workloads[k];
	if (!w || argc != (w->arg_help ? 4 : 3))
		die_usage();
	iterations = parse_count(argv[2]);
	if (w->setup)
		w->setup(argv[3]);
	/* Warm caches and allocators so the first round is not an outlier. */
	for (i = 0; i < iterations / WARMUP_DIVISOR + 1; i++)
		w->op();
	start = now_ns();
	for (i = 0; i < iterations; i++)
		w->op();
	printf("%.1f\n", (double)(now_ns() - start) / iterations);
	return 0;
}
