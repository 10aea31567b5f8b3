// SPDX-License-Identifier: GPL-2.0
/*
 * The policy load protocol over raw netlink: one load at a time, staging
 * owned by its socket and freed when it closes, strict validation with
 * extended ACKs, nothing partial ever applied, CAP_MAC_ADMIN for changes.
 * Runs as root in the guest with ibguard.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "genl_util.h"

static struct genl_status get_state(struct genl_conn *conn)
{
	struct genl_status st;

	if (genl_get_status(conn, &st))
		st.generation = (uint64_t)-1;
	return st;
}

static int simple(struct genl_conn *conn, uint8_t cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return genl_transact(conn, genl_request(conn, buf, cmd,
						NLM_F_REQUEST | NLM_F_ACK),
			     NULL, NULL);
}

/* A valid map rule: /dev/zero's device (1:5), any minor of major 1. */
static void put_map_rule(struct nlmsghdr *nlh, uint8_t verdict)
{
	struct nlattr *rule = mnl_attr_nest_start(nlh, IBGUARD_ATTR_RULE);

	mnl_attr_put_u8(nlh, IBGUARD_RULE_CLASS, IBGUARD_CLASS_MAP);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_VERDICT, verdict);
	mnl_attr_put_strz(nlh, IBGUARD_RULE_SOURCE, "map chardev 1:5 deny");
	mnl_attr_put_u8(nlh, IBGUARD_RULE_MAP_OBJECT, IBGUARD_MAP_CHARDEV);
	mnl_attr_put_u32(nlh, IBGUARD_RULE_CHR_MAJOR, 1);
	mnl_attr_put_u32(nlh, IBGUARD_RULE_CHR_MINOR_LO, 5);
	mnl_attr_put_u32(nlh, IBGUARD_RULE_CHR_MINOR_HI, 5);
	mnl_attr_nest_end(nlh, rule);
}

static int add_rules(struct genl_conn *conn, int n)
{
	static char buf[65536];
	struct nlmsghdr *nlh;
	int i;

	nlh = genl_request(conn, buf, IBGUARD_CMD_POLICY_ADD,
			   NLM_F_REQUEST | NLM_F_ACK);
	for (i = 0; i < n; i++)
		put_map_rule(nlh, IBGUARD_VERDICT_ALLOW);
	return genl_transact(conn, nlh, NULL, NULL);
}

FIXTURE(load)
{
	struct genl_conn a, b;
};

FIXTURE_SETUP(load)
{
	ASSERT_EQ(0, genl_open(&self->a));
	ASSERT_EQ(0, genl_open(&self->b));
}

FIXTURE_TEARDOWN(load)
{
	genl_close(&self->a);
	genl_close(&self->b);
}

TEST_F(load, one_load_at_a_time)
{
	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	EXPECT_EQ(-EBUSY, simple(&self->b, IBGUARD_CMD_POLICY_BEGIN));
	EXPECT_STREQ("another policy load is in progress", self->b.ext_msg);
	EXPECT_EQ(-ENOENT, add_rules(&self->b, 1));
	EXPECT_EQ(-ENOENT, simple(&self->b, IBGUARD_CMD_POLICY_COMMIT));
	EXPECT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_ABORT));
	EXPECT_EQ(0, get_state(&self->b).staging);
}

TEST_F(load, closing_the_socket_frees_the_staging)
{
	struct genl_status before = get_state(&self->b);

	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	ASSERT_EQ(0, add_rules(&self->a, 100));
	EXPECT_LT(100 * 64, get_state(&self->b).staging);
	genl_close(&self->a);
	EXPECT_EQ(0, get_state(&self->b).staging);
	EXPECT_EQ(before.generation, get_state(&self->b).generation);
	EXPECT_EQ(0, simple(&self->b, IBGUARD_CMD_POLICY_BEGIN));
	EXPECT_EQ(0, simple(&self->b, IBGUARD_CMD_POLICY_ABORT));
	ASSERT_EQ(0, genl_open(&self->a));
}

/*
 * Port ids are per network namespace: a socket in another namespace bound
 * to the loader's port id and closed there must not abandon the load.
 */
TEST_F(load, same_port_id_in_another_netns_is_not_the_loader)
{
	unsigned int portid = mnl_socket_get_portid(self->a.sock);
	int status;
	pid_t pid;

	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	ASSERT_EQ(0, add_rules(&self->a, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
					  .nl_pid = portid };
		int fd;

		if (unshare(CLONE_NEWNET))
			_exit(2);
		fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(3);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_LT(0, get_state(&self->b).staging);
	/* -ENOENT if the staging had gone. */
	EXPECT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_ABORT));
}

TEST_F(load, commit_installs_exactly_the_staged_rules)
{
	struct genl_status before = get_state(&self->a), after;

	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	ASSERT_EQ(0, add_rules(&self->a, 3));
	ASSERT_EQ(0, add_rules(&self->a, 4));
	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_COMMIT));
	after = get_state(&self->a);
	EXPECT_EQ(before.generation + 1, after.generation);
	EXPECT_EQ(7, after.rules);
	EXPECT_EQ(0, after.staging);
}

TEST_F(load, rejected_rule_changes_nothing)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genl_status before = get_state(&self->a), after;
	struct nlmsghdr *nlh;
	struct nlattr *rule;

	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	ASSERT_EQ(0, add_rules(&self->a, 2));
	/* A message with a good rule, then a pkey rule with a reversed range. */
	nlh = genl_request(&self->a, buf, IBGUARD_CMD_POLICY_ADD,
			   NLM_F_REQUEST | NLM_F_ACK);
	put_map_rule(nlh, IBGUARD_VERDICT_DENY);
	rule = mnl_attr_nest_start(nlh, IBGUARD_ATTR_RULE);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_CLASS, IBGUARD_CLASS_PKEY);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_VERDICT, IBGUARD_VERDICT_ALLOW);
	mnl_attr_put_strz(nlh, IBGUARD_RULE_SOURCE, "pkey 0x9-0x1 allow");
	mnl_attr_put_u16(nlh, IBGUARD_RULE_PKEY_LO, 9);
	mnl_attr_put_u16(nlh, IBGUARD_RULE_PKEY_HI, 1);
	mnl_attr_nest_end(nlh, rule);
	EXPECT_EQ(-EINVAL, genl_transact(&self->a, nlh, NULL, NULL));
	EXPECT_STREQ("P_Key range is reversed", self->a.ext_msg);
	/* The message's good rule was not kept either. */
	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_COMMIT));
	after = get_state(&self->a);
	EXPECT_EQ(before.generation + 1, after.generation);
	EXPECT_EQ(2, after.rules);
}

TEST_F(load, attribute_of_another_class_rejected)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *rule;

	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	nlh = genl_request(&self->a, buf, IBGUARD_CMD_POLICY_ADD,
			   NLM_F_REQUEST | NLM_F_ACK);
	rule = mnl_attr_nest_start(nlh, IBGUARD_ATTR_RULE);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_CLASS, IBGUARD_CLASS_ENDPORT);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_VERDICT, IBGUARD_VERDICT_DENY);
	mnl_attr_put_strz(nlh, IBGUARD_RULE_SOURCE, "endport * * deny");
	mnl_attr_put_u16(nlh, IBGUARD_RULE_PKEY_LO, 1);
	mnl_attr_nest_end(nlh, rule);
	EXPECT_EQ(-EINVAL, genl_transact(&self->a, nlh, NULL, NULL));
	EXPECT_STREQ("attribute does not belong to the rule's class",
		     self->a.ext_msg);
	EXPECT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_ABORT));
}

TEST_F(load, unknown_cgroup_rejected)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *rule, *subj;

	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	nlh = genl_request(&self->a, buf, IBGUARD_CMD_POLICY_ADD,
			   NLM_F_REQUEST | NLM_F_ACK);
	rule = mnl_attr_nest_start(nlh, IBGUARD_ATTR_RULE);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_CLASS, IBGUARD_CLASS_ENDPORT);
	mnl_attr_put_u8(nlh, IBGUARD_RULE_VERDICT, IBGUARD_VERDICT_DENY);
	mnl_attr_put_strz(nlh, IBGUARD_RULE_SOURCE, "endport * * deny cgroup /x");
	subj = mnl_attr_nest_start(nlh, IBGUARD_RULE_SUBJECT);
	mnl_attr_put_u8(nlh, IBGUARD_SUBJ_TYPE, IBGUARD_SUBJ_CGROUP);
	mnl_attr_put_u64(nlh, IBGUARD_SUBJ_ID, 0x7fffffffffffULL);
	mnl_attr_nest_end(nlh, subj);
	mnl_attr_nest_end(nlh, rule);
	EXPECT_EQ(-ENOENT, genl_transact(&self->a, nlh, NULL, NULL));
	EXPECT_STREQ("no cgroup v2 with this id", self->a.ext_msg);
	EXPECT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_ABORT));
}

TEST_F(load, dry_run_changes_nothing)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genl_status before = get_state(&self->a), after;
	struct nlmsghdr *nlh;

	ASSERT_EQ(0, simple(&self->a, IBGUARD_CMD_POLICY_BEGIN));
	ASSERT_EQ(0, add_rules(&self->a, 5));
	nlh = genl_request(&self->a, buf, IBGUARD_CMD_POLICY_COMMIT,
			   NLM_F_REQUEST | NLM_F_ACK);
	mnl_attr_put(nlh, IBGUARD_ATTR_DRY_RUN, 0, NULL);
	EXPECT_EQ(0, genl_transact(&self->a, nlh, NULL, NULL));
	after = get_state(&self->a);
	EXPECT_EQ(before.generation, after.generation);
	EXPECT_EQ(before.rules, after.rules);
	EXPECT_EQ(0, after.staging);
}

TEST_F(load, stale_generation_refused)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genl_status before = get_state(&self->a);
	struct nlmsghdr *nlh;

	nlh = genl_request(&self->a, buf, IBGUARD_CMD_POLICY_BEGIN,
			   NLM_F_REQUEST | NLM_F_ACK);
	mnl_attr_put_u64(nlh, IBGUARD_ATTR_GENERATION, before.generation + 1);
	EXPECT_EQ(-ESTALE, genl_transact(&self->a, nlh, NULL, NULL));
	EXPECT_EQ(0, get_state(&self->a).staging);
}

TEST_F(load, invalid_mode_rejected)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_request(&self->a, buf, IBGUARD_CMD_SET_MODE,
			   NLM_F_REQUEST | NLM_F_ACK);
	mnl_attr_put_u8(nlh, IBGUARD_ATTR_MODE, IBGUARD_MODE_MAX + 1);
	EXPECT_EQ(-ERANGE, genl_transact(&self->a, nlh, NULL, NULL));
	EXPECT_EQ(IBGUARD_MODE_ENFORCING, get_state(&self->a).mode);
	nlh = genl_request(&self->a, buf, IBGUARD_CMD_SET_MODE,
			   NLM_F_REQUEST | NLM_F_ACK);
	EXPECT_EQ(-EINVAL, genl_transact(&self->a, nlh, NULL, NULL));
}

static int begin_errno(void)
{
	struct genl_conn conn;
	int err = genl_open(&conn);

	if (!err)
		err = simple(&conn, IBGUARD_CMD_POLICY_BEGIN);
	return -err;
}

TEST(changes_need_cap_mac_admin)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(100);
		_exit(begin_errno());
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(EPERM, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
