// SPDX-License-Identifier: GPL-2.0
/*
 * map_guard: loads map_guard.bpf.o, fills its rule map from KEYFILE,
 * attaches its two BPF LSM programs (mmap_file, file_mprotect), prints
 * "map_guard: ready N entries" and holds them until SIGTERM or SIGINT.
 *
 * usage: map_guard OBJ KEYFILE
 *
 * KEYFILE: one entry a line, "PATH PROTMASK UIDMIN UIDMAX VERDICT", e.g.
 * "/tmp/x/f1 2 0 0 1" (deny PROT_WRITE mappings of /tmp/x/f1 to euid 0).
 * PROTMASK is a combination of PROT_READ (1), PROT_WRITE (2), PROT_EXEC (4);
 * VERDICT is 0 (allow) or 1 (deny). Blank lines and lines starting with '#'
 * are ignored. PATH may not contain white space.
 *
 * Exit status: 0 after a signal, 1 on any error (named on stderr).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAP_NAME "map_guard_rules"
#define PROG_MMAP "map_guard_mmap_file"
#define PROG_MPROTECT "map_guard_file_mprotect"

/* Keep in sync with map_guard.bpf.c. */
struct map_guard_key {
	uint64_t dev;
	uint64_t ino;
};

struct map_guard_value {
	uint32_t prot_mask;
	uint32_t uid_min;
	uint32_t uid_max;
	uint32_t verdict;
};

struct entry {
	struct map_guard_key key;
	struct map_guard_value value;
	unsigned long line;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

/*
 * stat()'s st_dev is the userspace encoding of dev_t; the kernel's
 * sb->s_dev, which the BPF program reads, is MAJOR << 20 | MINOR.
 */
static uint64_t kernel_dev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int push_entry(struct entries *es, const struct entry *e)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 1024;
		struct entry *v = realloc(es->v, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "map_guard: out of memory reading entries\n");
			return -1;
		}
		es->v = v;
		es->cap = cap;
	}
	es->v[es->n++] = *e;
	return 0;
}

/* Reads and stat()s every entry of path; 0 or -1 (reported). */
static int read_keyfile(const char *path, struct entries *es)
{
	char *line = NULL;
	size_t size = 0;
	unsigned long lineno = 0;
	int ret = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "map_guard: cannot open key file %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	for (;;) {
		const char *delim = " \t\r\n";
		char *fields[6], *save = NULL;
		struct entry e = { 0 };
		struct stat st;
		ssize_t len;
		int n = 0;

		errno = 0;
		len = getline(&line, &size, f);
		if (len < 0) {
			if (errno) {
				fprintf(stderr, "map_guard: cannot read key file %s: %s\n",
					path, strerror(errno));
				goto out;
			}
			break;
		}
		lineno++;
		for (char *tok = strtok_r(line, delim, &save); tok && n < 6;
		     tok = strtok_r(NULL, delim, &save))
			fields[n++] = tok;
		if (n == 0 || fields[0][0] == '#')
			continue;
		if (n != 5 || parse_u32(fields[1], &e.value.prot_mask) ||
		    parse_u32(fields[2], &e.value.uid_min) ||
		    parse_u32(fields[3], &e.value.uid_max) ||
		    parse_u32(fields[4], &e.value.verdict)) {
			fprintf(stderr,
				"map_guard: %s:%lu: expected \"PATH PROTMASK UIDMIN UIDMAX VERDICT\"\n",
				path, lineno);
			goto out;
		}
		if (!e.value.prot_mask || e.value.prot_mask & ~7U) {
			fprintf(stderr,
				"map_guard: %s:%lu: PROTMASK %u is not a non-empty combination of 1 (read), 2 (write), 4 (exec)\n",
				path, lineno, e.value.prot_mask);
			goto out;
		}
		if (e.value.uid_min > e.value.uid_max) {
			fprintf(stderr, "map_guard: %s:%lu: UIDMIN %u > UIDMAX %u\n",
				path, lineno, e.value.uid_min, e.value.uid_max);
			goto out;
		}
		if (e.value.verdict > 1) {
			fprintf(stderr,
				"map_guard: %s:%lu: VERDICT %u is neither 0 (allow) nor 1 (deny)\n",
				path, lineno, e.value.verdict);
			goto out;
		}
		if (stat(fields[0], &st)) {
			fprintf(stderr, "map_guard: %s:%lu: cannot stat %s: %s\n",
				path, lineno, fields[0], strerror(errno));
			goto out;
		}
		e.key.dev = kernel_dev(st.st_dev);
		e.key.ino = st.st_ino;
		e.line = lineno;
		if (push_entry(es, &e))
			goto out;
	}
	ret = 0;
out:
	free(line);
	fclose(f);
	return ret;
}

static struct bpf_program *find_prog(struct bpf_object *obj, const char *name,
				     const char *objpath)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);

	if (!prog)
		fprintf(stderr, "map_guard: %s has no BPF program %s\n", objpath,
			name);
	return prog;
}

static struct bpf_link *attach(struct bpf_program *prog, const char *name)
{
	struct bpf_link *link = bpf_program__attach_lsm(prog);

	if (!link)
		fprintf(stderr, "map_guard: cannot attach BPF LSM program %s: %s\n",
			name, strerror(errno));
	return link;
}

int main(int argc, char **argv)
{
	struct bpf_link *mmap_link = NULL, *mprotect_link = NULL;
	struct bpf_program *mmap_prog, *mprotect_prog;
	struct entries es = { 0 };
	struct bpf_object *obj = NULL;
	struct bpf_map *map;
	sigset_t sigs;
	int status = 1;
	int fd, sig, err;

	if (argc != 3) {
		fprintf(stderr, "usage: map_guard OBJ KEYFILE\n");
		return 1;
	}

	/*
	 * Block the signals now and take them with sigwait() once attached:
	 * a signal arriving during setup then still ends in the cleanup.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	err = sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (err) {
		fprintf(stderr, "map_guard: cannot block SIGTERM/SIGINT: %s\n",
			strerror(errno));
		return 1;
	}

	if (read_keyfile(argv[2], &es))
		goto cleanup;

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "map_guard: cannot open BPF object %s: %s\n",
			argv[1], strerror(errno));
		goto cleanup;
	}
	map = bpf_object__find_map_by_name(obj, MAP_NAME);
	if (!map) {
		fprintf(stderr, "map_guard: %s has no map %s\n", argv[1], MAP_NAME);
		goto cleanup;
	}
	if (bpf_map__key_size(map) != sizeof(struct map_guard_key) ||
	    bpf_map__value_size(map) != sizeof(struct map_guard_value)) {
		fprintf(stderr,
			"map_guard: map %s in %s has key/value size %u/%u, expected %zu/%zu\n",
			MAP_NAME, argv[1], bpf_map__key_size(map),
			bpf_map__value_size(map), sizeof(struct map_guard_key),
			sizeof(struct map_guard_value));
		goto cleanup;
	}
	if (es.n > UINT32_MAX) {
		fprintf(stderr, "map_guard: %zu entries are too many\n", es.n);
		goto cleanup;
	}
	err = bpf_map__set_max_entries(map, es.n ? (uint32_t)es.n : 1);
	if (err) {
		fprintf(stderr, "map_guard: cannot size map %s to %zu entries: %s\n",
			MAP_NAME, es.n, strerror(-err));
		goto cleanup;
	}
	mmap_prog = find_prog(obj, PROG_MMAP, argv[1]);
	mprotect_prog = find_prog(obj, PROG_MPROTECT, argv[1]);
	if (!mmap_prog || !mprotect_prog)
		goto cleanup;

	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "map_guard: cannot load BPF object %s: %s\n",
			argv[1], strerror(-err));
		goto cleanup;
	}

	fd = bpf_map__fd(map);
	for (size_t i = 0; i < es.n; i++) {
		const struct entry *e = &es.v[i];

		/*
		 * One value per inode: a second line naming the same inode
		 * (a hard link, the same path twice) cannot be expressed.
		 */
		if (bpf_map_update_elem(fd, &e->key, &e->value, BPF_NOEXIST)) {
			if (errno == EEXIST)
				fprintf(stderr,
					"map_guard: %s:%lu: the file (dev %#llx, ino %llu) already has an entry\n",
					argv[2], e->line,
					(unsigned long long)e->key.dev,
					(unsigned long long)e->key.ino);
			else
				fprintf(stderr,
					"map_guard: %s:%lu: cannot add the entry to map %s: %s\n",
					argv[2], e->line, MAP_NAME,
					strerror(errno));
			goto cleanup;
		}
	}

	mmap_link = attach(mmap_prog, PROG_MMAP);
	if (!mmap_link)
		goto cleanup;
	mprotect_link = attach(mprotect_prog, PROG_MPROTECT);
	if (!mprotect_link)
		goto cleanup;

	printf("map_guard: ready %zu entries\n", es.n);
	if (fflush(stdout)) {
		fprintf(stderr, "map_guard: cannot write to stdout: %s\n",
			strerror(errno));
		goto cleanup;
	}

	err = sigwait(&sigs, &sig);
	if (err) {
		fprintf(stderr, "map_guard: sigwait failed: %s\n", strerror(err));
		goto cleanup;
	}
	status = 0;

cleanup:
	/* Detach before unloading; bpf_link__destroy(NULL) is a no-op. */
	err = bpf_link__destroy(mprotect_link);
	if (err) {
		fprintf(stderr, "map_guard: cannot detach %s: %s\n", PROG_MPROTECT,
			strerror(-err));
		status = 1;
	}
	err = bpf_link__destroy(mmap_link);
	if (err) {
		fprintf(stderr, "map_guard: cannot detach %s: %s\n", PROG_MMAP,
			strerror(-err));
		status = 1;
	}
	bpf_object__close(obj);
	free(es.v);
	return status;
}
