// SPDX-License-Identifier: GPL-2.0
/*
 * raceit: repeat one decided operation until SIGTERM and count what the
 * kernel answered, for the tests that reload policies, switch modes and
 * unload modules underneath running tasks.
 *
 *   raceit map FILE PROT       mmap FILE (MAP_SHARED) with PROT (r, w, x)
 *   raceit qp PKEY_INDEX       mock HCA: create an RC QP, RESET->INIT on
 *                              port 1 at PKEY_INDEX, destroy
 *
 * Prints "ok=N eacces=N other=N" (and the first other errno) on SIGTERM.
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
	int fd;

	if (!map && !qp) {
		fprintf(stderr, "usage: raceit map FILE PROT | raceit qp PKEY_INDEX\n");
		return 2;
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	fd = open(map ? argv[2] : MOCKHCA_CTL_PATH, O_RDWR);
	if (fd < 0) {
		perror(map ? argv[2] : MOCKHCA_CTL_PATH);
		return 1;
	}
	/* Tell the test that the loop runs. */
	printf("running\n");
	fflush(stdout);
	while (!terminated())
		count(map ? map_once(fd, parse_prot(argv[3])) :
			    qp_once(fd, atoi(argv[2])));
	printf("ok=%lu eacces=%lu other=%lu", ok, eacces, other);
	if (other)
		printf(" first_other=%s", strerror(first_other));
	printf("\n");
	return 0;
}
