// SPDX-License-Identifier: GPL-2.0
/*
 * The ibguard generic netlink family: registered, status round-trips,
 * strict validation, privileges, initial network namespace only.
 * Runs as root in the guest with ibguard.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "genl_util.h"

struct status {
	char version[32];
	uint32_t protocol;
	int mode;
	uint64_t generation;
	int seen;
};

static int status_cb(const struct nlmsghdr *nlh, void *data)
{
	struct status *st = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case IBGUARD_ATTR_MODULE_VERSION:
			snprintf(st->version, sizeof(st->version), "%s",
				 mnl_attr_get_str(attr));
			st->seen |= 1;
			break;
		case IBGUARD_ATTR_PROTOCOL_VERSION:
			st->protocol = mnl_attr_get_u32(attr);
			st->seen |= 2;
			break;
		case IBGUARD_ATTR_MODE:
			st->mode = mnl_attr_get_u8(attr);
			st->seen |= 4;
			break;
		case IBGUARD_ATTR_GENERATION:
			st->generation = mnl_attr_get_u64(attr);
			st->seen |= 8;
			break;
		}
	}
	return MNL_CB_OK;
}

static int get_status(struct genl_conn *conn, struct status *st)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(st, 0, sizeof(*st));
	nlh = genl_request(conn, buf, IBGUARD_CMD_GET_STATUS,
			   NLM_F_REQUEST | NLM_F_ACK);
	return genl_transact(conn, nlh, status_cb, st);
}

/* Runs fn in a child with no capabilities as uid/gid 65534; returns its result. */
static int as_nobody(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(100);
		_exit(fn() & 0xff);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 101;
}

static int status_errno(void)
{
	struct genl_conn conn;
	struct status st;
	int err = genl_open(&conn);

	if (err)
		return -err;
	err = get_status(&conn, &st);
	genl_close(&conn);
	return -err;
}

TEST(status_round_trip)
{
	struct genl_conn conn;
	struct status st;

	ASSERT_EQ(0, genl_open(&conn));
	ASSERT_EQ(0, get_status(&conn, &st));
	EXPECT_EQ(15, st.seen);
	EXPECT_STREQ("0.1.0", st.version);
	EXPECT_EQ((uint32_t)IBGUARD_PROTOCOL_VERSION, st.protocol);
	EXPECT_EQ(IBGUARD_MODE_ENFORCING, st.mode);
	EXPECT_EQ((uint64_t)0, st.generation);
	genl_close(&conn);
}

TEST(unknown_attribute_rejected)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genl_conn conn;
	struct status st = {};
	struct nlmsghdr *nlh;

	ASSERT_EQ(0, genl_open(&conn));
	nlh = genl_request(&conn, buf, IBGUARD_CMD_GET_STATUS,
			   NLM_F_REQUEST | NLM_F_ACK);
	mnl_attr_put_u32(nlh, IBGUARD_ATTR_MAX + 1, 1);
	EXPECT_EQ(-EINVAL, genl_transact(&conn, nlh, status_cb, &st));
	EXPECT_STREQ("Unknown attribute type", conn.ext_msg);
	EXPECT_EQ(0, st.seen);
	genl_close(&conn);
}

TEST(reply_only_attribute_rejected)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genl_conn conn;
	struct status st = {};
	struct nlmsghdr *nlh;

	ASSERT_EQ(0, genl_open(&conn));
	nlh = genl_request(&conn, buf, IBGUARD_CMD_GET_STATUS,
			   NLM_F_REQUEST | NLM_F_ACK);
	mnl_attr_put_strz(nlh, IBGUARD_ATTR_MODULE_VERSION, "9.9.9");
	EXPECT_EQ(-EINVAL, genl_transact(&conn, nlh, status_cb, &st));
	EXPECT_EQ(0, st.seen);
	genl_close(&conn);
}

TEST(unknown_command_rejected)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genl_conn conn;
	struct nlmsghdr *nlh;

	ASSERT_EQ(0, genl_open(&conn));
	nlh = genl_request(&conn, buf, IBGUARD_CMD_MAX + 1,
			   NLM_F_REQUEST | NLM_F_ACK);
	EXPECT_EQ(-EOPNOTSUPP, genl_transact(&conn, nlh, NULL, NULL));
	genl_close(&conn);
}

TEST(status_needs_cap_net_admin)
{
	EXPECT_EQ(EPERM, as_nobody(status_errno));
}

TEST(family_absent_outside_initial_netns)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct genl_conn conn;

		if (unshare(CLONE_NEWNET))
			_exit(100);
		_exit(-genl_open(&conn) & 0xff);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(ENOENT, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
