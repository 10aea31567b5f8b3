// SPDX-License-Identifier: GPL-2.0
/*
 * failload: every memory allocation a policy load makes in the kernel fails
 * in turn, and each such load must fail cleanly: an error answer, the active
 * policy exactly the one before, no staging memory left once the loading
 * socket is closed. Needs a kernel with fault injection (CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC, debugfs: the debug kernel of make check-debug) and
 * ibguard.ko loaded; run as root.
 *
 * usage: failload [-m MAX]
 *
 * Attempt n writes n to /proc/thread-self/fail-nth just before the load's
 * first message (BEGIN, ADD, COMMIT over one socket), so that the n-th
 * allocation this thread makes from then on fails, wherever it is: in the
 * socket layer, in ibguard's staging, in the commit's index build, or in an
 * answer. When n passes the number of allocations a load makes, no fault
 * fires and that load must succeed: the run ends there.
 *
 * A load whose answer is lost (the failed allocation was the answer's) may
 * have committed or not; the policy then has to be either the old or the new
 * one, whole. The policies alternate between two rule counts so that the
 * two can be told apart.
 *
 * Output: one line per attempt with -v; at the end "failload: N faults
 * injected, ..." with the errors seen. Exit: 0 all clean, 1 local error,
 * 2 a load left the kernel in a state it must not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/types.h>

#include "genl_util.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define MAX_ERRNO 256

static bool verbose;

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(value);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != len)
		err = -errno;
	close(fd);
	return err;
}

static long read_fail_nth(void)
{
	char buf[32] = "";
	int fd = open("/proc/thread-self/fail-nth", O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return len > 0 ? strtol(buf, NULL, 10) : -1;
}

static void put_subject_uid(struct nlmsghdr *nlh, uint32_t lo, uint32_t hi)
{
	struct nlattr *subj = mnl_attr_nest_start(nlh, IBGUARD_RULE_SUBJECT);

	mnl_attr_put_u8(nlh, IBGUARD_SUBJ_TYPE, IBGUARD_SUBJ_UID);
	mnl_attr_put_u32(nlh, IBGUARD_SUBJ_LO, lo);
	mnl_attr_put_u32(nlh, IBGUARD_SUBJ_HI, hi);
	mnl_attr_nest_end(nlh, subj);
}

static struct nlattr *rule_start(struct nlmsghdr *nlh, uint8_t class,
				 const char *source)
{
	struct nlattr *rule = mnl_attr_nest_start(nlh, IBGUARD_ATTR_RULE);

	mnl_attr_put_u8(nlh, IBGUARD_RULE_CLASS, class);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_VERDICT, IBGUARD_VERDICT_ALLOW);
	mnl_attr_put_strz(nlh, IBGUARD_RULE_SOURCE, source);
	return rule;
}

/*
 * Rules of every class and object kind, with subjects, so that each kind of
 * allocation the compiler makes is reached. All allow: the guest keeps
 * working whichever policy is active.
 */
static unsigned int put_rules(struct nlmsghdr *nlh, bool longer)
{
	struct nlattr *rule;
	unsigned int n = 0;

	rule = rule_start(nlh, IBGUARD_CLASS_PKEY,
			  "pkey 0x8001-0x80ff subnet fe80:: uid 1000-1999 allow");
	mnl_attr_put_u16(nlh, IBGUARD_RULE_PKEY_LO, 0x8001);
	mnl_attr_put_u16(nlh, IBGUARD_RULE_PKEY_HI, 0x80ff);
	mnl_attr_put_u64(nlh, IBGUARD_RULE_SUBNET, 0xfe80000000000000ULL);
	put_subject_uid(nlh, 1000, 1999);
	mnl_attr_nest_end(nlh, rule);
	n++;

	rule = rule_start(nlh, IBGUARD_CLASS_ENDPORT,
			  "endport mock0 port 1 uid 0 allow");
	mnl_attr_put_strz(nlh, IBGUARD_RULE_DEVICE, "mock0");
	mnl_attr_put_u32(nlh, IBGUARD_RULE_PORT, 1);
	put_subject_uid(nlh, 0, 0);
	mnl_attr_nest_end(nlh, rule);
	n++;

	rule = rule_start(nlh, IBGUARD_CLASS_MAP, "map chardev 1:5 allow");
	mnl_attr_put_u8(nlh, IBGUARD_RULE_MAP_OBJECT, IBGUARD_MAP_CHARDEV);
	mnl_attr_put_u32(nlh, IBGUARD_RULE_CHR_MAJOR, 1);
	mnl_attr_put_u32(nlh, IBGUARD_RULE_CHR_MINOR_LO, 5);
	mnl_attr_put_u32(nlh, IBGUARD_RULE_CHR_MINOR_HI, 5);
	mnl_attr_nest_end(nlh, rule);
	n++;

	rule = rule_start(nlh, IBGUARD_CLASS_MAP, "map fs tmpfs prot rw allow");
	mnl_attr_put_u8(nlh, IBGUARD_RULE_MAP_OBJECT, IBGUARD_MAP_FS);
	mnl_attr_put_strz(nlh, IBGUARD_RULE_FSTYPE, "tmpfs");
	mnl_attr_put_u32(nlh, IBGUARD_RULE_PROT,
			 IBGUARD_PROT_READ | IBGUARD_PROT_WRITE);
	mnl_attr_nest_end(nlh, rule);
	n++;

	if (longer) {
		struct stat st;

		if (stat("/", &st) == 0) {
			rule = rule_start(nlh, IBGUARD_CLASS_MAP,
					  "map tree / uid 0-99 allow");
			mnl_attr_put_u8(nlh, IBGUARD_RULE_MAP_OBJECT,
					IBGUARD_MAP_TREE);
			mnl_attr_put_u32(nlh, IBGUARD_RULE_DEV,
					 (major(st.st_dev) << IBGUARD_DEV_MINOR_BITS) |
					 minor(st.st_dev));
			mnl_attr_put_u64(nlh, IBGUARD_RULE_INO, st.st_ino);
			put_subject_uid(nlh, 0, 99);
			mnl_attr_nest_end(nlh, rule);
			n++;
		}
		rule = rule_start(nlh, IBGUARD_CLASS_PKEY, "pkey 0x7fff allow");
		mnl_attr_put_u16(nlh, IBGUARD_RULE_PKEY_LO, 0x7fff);
		mnl_attr_put_u16(nlh, IBGUARD_RULE_PKEY_HI, 0x7fff);
		mnl_attr_nest_end(nlh, rule);
		n++;
	}
	return n;
}

/*
 * One load over a fresh socket; returns 0 or the first error, *answered
 * whether that came from the kernel's answer (not the socket layer).
 */
static int load(__u32 fail_nth, bool longer, unsigned int *nr_rules,
		long *fail_nth_left, bool *answered)
{
	static char buf[65536];
	char num[16];
	struct genl_conn conn;
	struct timeval timeout = { .tv_sec = 5 };
	int err;

	err = genl_open(&conn);
	if (err)
		return err;
	/* A lost answer must not block the run. */
	setsockopt(mnl_socket_get_fd(conn.sock), SOL_SOCKET, SO_RCVTIMEO,
		   &timeout, sizeof(timeout));

	snprintf(num, sizeof(num), "%u", fail_nth);
	if (write_file("/proc/thread-self/fail-nth", num)) {
		fprintf(stderr,
			"failload: cannot arm /proc/thread-self/fail-nth: %s\n",
			strerror(errno));
		genl_close(&conn);
		exit(1);
	}
	err = genl_transact(&conn, genl_request(&conn, buf,
						IBGUARD_CMD_POLICY_BEGIN,
						NLM_F_REQUEST | NLM_F_ACK),
			    NULL, NULL);
	if (!err) {
		struct nlmsghdr *nlh = genl_request(&conn, buf,
						    IBGUARD_CMD_POLICY_ADD,
						    NLM_F_REQUEST | NLM_F_ACK);

		*nr_rules = put_rules(nlh, longer);
		err = genl_transact(&conn, nlh, NULL, NULL);
	}
	if (!err)
		err = genl_transact(&conn,
				    genl_request(&conn, buf,
						 IBGUARD_CMD_POLICY_COMMIT,
						 NLM_F_REQUEST | NLM_F_ACK),
				    NULL, NULL);
	*fail_nth_left = read_fail_nth();
	write_file("/proc/thread-self/fail-nth", "0");
	*answered = conn.answered;
	genl_close(&conn);
	return err;
}

static const char *const fault_knobs[][2] = {
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};

int main(int argc, char **argv)
{
	unsigned long errors[MAX_ERRNO] = {};
	unsigned long injected = 0, lost = 0, committed_anyway = 0;
	unsigned int max = 2000, n, i;
	struct genl_conn probe;
	struct genl_status before, after;
	bool bad = false;
	int opt;

	while ((opt = getopt(argc, argv, "m:v")) != -1) {
		switch (opt) {
		case 'm':
			max = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: failload [-m MAX] [-v]\n");
			return 1;
		}
	}
	for (i = 0; i < ARRAY_SIZE(fault_knobs); i++) {
		if (write_file(fault_knobs[i][0], fault_knobs[i][1])) {
			fprintf(stderr,
				"failload: %s: %s (a kernel with CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and debugfs?)\n",
				fault_knobs[i][0], strerror(errno));
			return 1;
		}
	}
	if (genl_open(&probe) || genl_get_status(&probe, &before)) {
		fprintf(stderr, "failload: cannot reach the ibguard family (module loaded?)\n");
		return 1;
	}

	for (n = 1; n <= max; n++) {
		bool longer = n % 2;
		unsigned int nr_rules = 0;
		long left = -1;
		bool answered = false;
		int err = load(n, longer, &nr_rules, &left, &answered);

		if (genl_get_status(&probe, &after)) {
			fprintf(stderr, "failload: attempt %u: GET_STATUS failed\n", n);
			return 1;
		}
		if (verbose)
			fprintf(stdout,
				"attempt %u: %s, fail-nth left %ld, generation %llu, %u rules, staging %llu\n",
			       n, err ? strerror(-err) : "loaded", left,
			       (unsigned long long)after.generation, after.rules,
			       (unsigned long long)after.staging);
		if (after.staging) {
			fprintf(stderr,
				"failload: attempt %u: %llu staging bytes left after the socket closed\n",
				n, (unsigned long long)after.staging);
			bad = true;
		}
		if (left > 0) {
			/* No fault fired: the load ran to its end. */
			if (err || after.generation != before.generation + 1 ||
			    after.rules != nr_rules) {
				fprintf(stderr,
					"failload: attempt %u without a fault: %s, generation %llu -> %llu, %u rules (sent %u)\n",
					n, err ? strerror(-err) : "loaded",
					(unsigned long long)before.generation,
					(unsigned long long)after.generation,
					after.rules, nr_rules);
				return 2;
			}
			fprintf(stdout,
				"failload: %lu faults injected into policy loads (ENOMEM %lu, ENOBUFS %lu, answer lost or its read failed %lu, committed despite a fault %lu); each left the previous policy whole and no staging memory; load %u without a fault succeeded\n",
			       injected, errors[ENOMEM], errors[ENOBUFS], lost,
			       committed_anyway, n);
			return bad ? 2 : 0;
		}
		injected++;
		if (err == -EAGAIN || err == -ETIMEDOUT || (err && !answered)) {
			/*
			 * No answer read: it was lost, or recvmsg() failed
			 * after taking it (with audit on, storing the sender's
			 * address allocates: audit_sockaddr()).
			 */
			lost++;
		} else if (err < 0 && -err < MAX_ERRNO) {
			errors[-err]++;
			if (err != -ENOMEM && err != -ENOBUFS) {
				fprintf(stderr,
					"failload: attempt %u: error %s, expected ENOMEM or ENOBUFS\n",
					n, strerror(-err));
				bad = true;
			}
		}
		if (after.generation == before.generation + 1 &&
		    after.rules == nr_rules && answered) {
			/*
			 * The fault hit something after the commit point (the
			 * answer's socket buffer accounting, say): the commit
			 * stood. Fine if the load was told so.
			 */
			if (err && err != -ENOBUFS) {
				fprintf(stderr,
					"failload: attempt %u: the policy was committed but the load got %s\n",
					n, strerror(-err));
				bad = true;
			}
			committed_anyway++;
		} else if (after.generation == before.generation + 1 &&
			   after.rules == nr_rules) {
			committed_anyway++;
		} else if (after.generation != before.generation ||
			   after.rules != before.rules) {
			fprintf(stderr,
				"failload: attempt %u (%s): generation %llu -> %llu, %u -> %u rules: neither the old policy nor the new one\n",
				n, err ? strerror(-err) : "no error",
				(unsigned long long)before.generation,
				(unsigned long long)after.generation,
				before.rules, after.rules);
			return 2;
		} else if (!err) {
			fprintf(stderr,
				"failload: attempt %u: the load was answered with success but the policy did not change\n",
				n);
			return 2;
		}
		before = after;
	}
	fprintf(stderr,
		"failload: still injecting faults after %u attempts (-m)\n",
		max);
	return 1;
}
