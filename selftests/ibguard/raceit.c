// SPDX-License-Identifier: GPL-2.0
/*
 * raceit: repeat one decided operation until SIGTERM and count what the
 * kernel answered, for the tests that reload policies, switch modes and
 * unload modules underneath running tasks.
 *
 *   raceit map FILE PROT       mmap FILE (MAP_SHARED) with PROT (r, w, x)
 *   raceit qp PKEY_INDEX       mock HCA: create an RC QP, RESET->INIT on
 *                              port 1 at PKEY_INDEX, destroy
 *   raceit rxe DEVICE          the same through libibverbs on DEVICE (an
 *                              rdma_rxe device), P_Key index 0
 *
 * Prints "ready" once set up, "running" once stdin is at its end (a test
 * starts several workers at once by closing their pipe), and
 * "ok=N eacces=N other=N" (and the first other errno) on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include "mockhca/mockhca_uapi.h"

static unsigned long ok, eacces, other;
static int first_other;

/* SIGTERM stays blocked and pending: the loop polls for it. */
static int terminated(void)
{
	sigset_t pending;

	return !sigpending(&pending) && sigismember(&pending, SIGTERM);
}

static void count(int err)
{
	if (!err) {
		ok++;
	} else if (err == EACCES) {
		eacces++;
	} else {
		if (!other)
			first_other = err;
		other++;
	}
}

static int map_once(int fd, int prot)
{
	void *p = mmap(NULL, 4096, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, 4096);
	return 0;
}

static int qp_once(int fd, unsigned int pkey_index)
{
	struct mockhca_qp_create create = { .qp_type = MOCKHCA_QPT_RC,
					    .port = 1 };
	struct mockhca_qp_attr init = {
		.attr_mask = MOCKHCA_QP_STATE | MOCKHCA_QP_PORT |
			     MOCKHCA_QP_PKEY_INDEX | MOCKHCA_QP_ACCESS_FLAGS,
		.qp_state = MOCKHCA_QPS_INIT,
		.port = 1,
		.pkey_index = pkey_index,
	};
	int err = 0;

	if (ioctl(fd, MOCKHCA_IOC_CREATE_QP, &create))
		return errno;
	init.handle = create.handle;
	if (ioctl(fd, MOCKHCA_IOC_MODIFY_QP, &init))
		err = errno;
	if (ioctl(fd, MOCKHCA_IOC_DESTROY_QP, &create.handle) && !err)
		err = errno;
	return err;
}

struct verbs {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
};

static int verbs_open(struct verbs *v, const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	int i;

	if (!list)
		return -errno;
	for (i = 0; list[i] && !v->ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			v->ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!v->ctx)
		return -ENODEV;
	v->pd = ibv_alloc_pd(v->ctx);
	v->cq = ibv_create_cq(v->ctx, 16, NULL, NULL, 0);
	return v->pd && v->cq ? 0 : -errno;
}

static int rxe_once(const struct verbs *v)
{
	struct ibv_qp_init_attr create = {
		.send_cq = v->cq,
		.recv_cq = v->cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr init = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.pkey_index = 0,
	};
	struct ibv_qp *qp = ibv_create_qp(v->pd, &create);
	int err;

	if (!qp)
		return errno;
	err = ibv_modify_qp(qp, &init, IBV_QP_STATE | IBV_QP_PORT |
			    IBV_QP_PKEY_INDEX | IBV_QP_ACCESS_FLAGS);
	if (ibv_destroy_qp(qp) && !err)
		err = errno;
	return err;
}

static int parse_prot(const char *s)
{
	int prot = 0;

	for (; *s; s++)
		prot |= *s == 'r' ? PROT_READ : *s == 'w' ? PROT_WRITE :
			*s == 'x' ? PROT_EXEC : 0;
	return prot;
}

int main(int argc, char **argv)
{
	sigset_t term;
	int map = argc == 4 && !strcmp(argv[1], "map");
	int qp = argc == 3 && !strcmp(argv[1], "qp");
	int rxe = argc == 3 && !strcmp(argv[1], "rxe");
	struct verbs verbs = {};
	int fd = -1, err;
	char go;

	if (!map && !qp && !rxe) {
		fprintf(stderr,
			"usage: raceit map FILE PROT | raceit qp PKEY_INDEX | raceit rxe DEVICE\n");
		return 2;
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	if (rxe) {
		err = verbs_open(&verbs, argv[2]);
		if (err) {
			fprintf(stderr, "%s: %s\n", argv[2], strerror(-err));
			return 1;
		}
	} else {
		fd = open(map ? argv[2] : MOCKHCA_CTL_PATH, O_RDWR);
		if (fd < 0) {
			perror(map ? argv[2] : MOCKHCA_CTL_PATH);
			return 1;
		}
	}
	/*
	 * Set up, wait for stdin to close: the test sets up every worker
	 * before any of them loops (under TCG a worker's setup competing with
	 * five running loops took seconds), then starts them together.
	 */
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &go, 1) > 0)
		;
	printf("running\n");
	fflush(stdout);
	while (!terminated())
		count(map ? map_once(fd, parse_prot(argv[3])) :
		      rxe ? rxe_once(&verbs) : qp_once(fd, atoi(argv[2])));
	printf("ok=%lu eacces=%lu other=%lu", ok, eacces, other);
	if (other)
		printf(" first_other=%s", strerror(first_other));
	printf("\n");
	return 0;
}
