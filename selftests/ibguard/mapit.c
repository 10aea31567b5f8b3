// SPDX-License-Identifier: GPL-2.0
/*
 * mapit: map a file the way a test asks and report what the kernel said.
 *
 *   mapit FILE PROT [shared|private] [mprotect NEWPROT] [repeat N]
 *   mapit anon PROT
 *
 * PROT is any of r, w, x (or "-" for none). Prints "ok" or the errno name
 * of the first failure and exits 0 or 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int parse_prot(const char *s)
{
	int prot = PROT_NONE;

	for (; *s; s++) {
		if (*s == 'r')
			prot |= PROT_READ;
		else if (*s == 'w')
			prot |= PROT_WRITE;
		else if (*s == 'x')
			prot |= PROT_EXEC;
		else if (*s != '-') {
			fprintf(stderr, "mapit: bad protection '%s'\n", s);
			exit(2);
		}
	}
	return prot;
}

static int fail(const char *what)
{
	int err = errno;

	printf("%s\n", err == EACCES ? "EACCES" : err == EPERM ? "EPERM" :
	       strerror(err));
	fprintf(stderr, "mapit: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	int prot, flags = MAP_SHARED, newprot = -1, fd = -1, i;
	long repeat = 1, n;
	size_t len = 4096;
	void *addr;

	if (argc < 3) {
		fprintf(stderr, "usage: mapit FILE|anon PROT [shared|private] [mprotect NEWPROT] [repeat N]\n");
		return 2;
	}
	prot = parse_prot(argv[2]);
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "shared"))
			flags = MAP_SHARED;
		else if (!strcmp(argv[i], "private"))
			flags = MAP_PRIVATE;
		else if (!strcmp(argv[i], "mprotect") && i + 1 < argc)
			newprot = parse_prot(argv[++i]);
		else if (!strcmp(argv[i], "repeat") && i + 1 < argc)
			repeat = atol(argv[++i]);
		else {
			fprintf(stderr, "mapit: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (strcmp(argv[1], "anon")) {
		int oflags = (prot & PROT_WRITE) && flags == MAP_SHARED ? O_RDWR :
			     O_RDONLY;

		if (newprot >= 0 && (newprot & PROT_WRITE) && flags == MAP_SHARED)
			oflags = O_RDWR;
		fd = open(argv[1], oflags);
		if (fd < 0)
			return fail("open");
	} else {
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
	}
	for (n = 0; n < repeat; n++) {
		addr = mmap(NULL, len, prot, flags, fd, 0);
		if (addr == MAP_FAILED)
			return fail("mmap");
		if (newprot >= 0 && mprotect(addr, len, newprot))
			return fail("mprotect");
		munmap(addr, len);
	}
	printf("ok\n");
	return 0;
}
