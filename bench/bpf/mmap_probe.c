// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_probe: one mapping operation for selftest.sh.
 *
 * usage: mmap_probe OP [FILE]
 *   mmap-r        mmap(FILE, PROT_READ, MAP_SHARED)
 *   mmap-rw       mmap(FILE, PROT_READ | PROT_WRITE, MAP_SHARED)
 *   mprotect-rw   mmap(FILE, PROT_READ, MAP_SHARED), then
 *                 mprotect(PROT_READ | PROT_WRITE)
 *   anon-rw       mmap(NULL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
 *
 * Prints "OK" and exits 0 when the operation succeeds; prints the errno
 * name (e.g. "EACCES") and exits 1 when it fails; exits 2 when the probe
 * itself cannot run (usage, open, or the setup mmap of mprotect-rw).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int result(int ok, int err)
{
	if (ok) {
		puts("OK");
		return 0;
	}
	puts(strerrorname_np(err) ? strerrorname_np(err) : "E?");
	return 1;
}

int main(int argc, char **argv)
{
	const size_t len = 4096;
	const char *op;
	void *p;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: mmap_probe OP [FILE]\n");
		return 2;
	}
	op = argv[1];
	if (!strcmp(op, "anon-rw")) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return result(p != MAP_FAILED, errno);
	}
	if (argc != 3) {
		fprintf(stderr, "mmap_probe: %s needs a FILE\n", op);
		return 2;
	}
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "mmap_probe: cannot open %s: %s\n", argv[2],
			strerror(errno));
		return 2;
	}
	if (!strcmp(op, "mmap-r")) {
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		return result(p != MAP_FAILED, errno);
	}
	if (!strcmp(op, "mmap-rw")) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		return result(p != MAP_FAILED, errno);
	}
	if (!strcmp(op, "mprotect-rw")) {
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "mmap_probe: setup mmap(PROT_READ) of %s: %s\n",
				argv[2], strerror(errno));
			return 2;
		}
		if (mprotect(p, len, PROT_READ | PROT_WRITE))
			return result(0, errno);
		return result(1, 0);
	}
	fprintf(stderr, "mmap_probe: unknown OP %s\n", op);
	return 2;
}
