// SPDX-License-Identifier: GPL-2.0
#include "genl_util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	uint16_t *family = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID)
			*family = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

int genl_open(struct genl_conn *conn)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;
	int on = 1, err;

	memset(conn, 0, sizeof(*conn));
	conn->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!conn->sock)
		return -errno;
	setsockopt(mnl_socket_get_fd(conn->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &on, sizeof(on));
	if (mnl_socket_bind(conn->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		genl_close(conn);
		return err;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, IBGUARD_GENL_NAME);
	err = genl_transact(conn, nlh, family_cb, &conn->family);
	if (err) {
		genl_close(conn);
		return err;
	}
	return 0;
}

void genl_close(struct genl_conn *conn)
{
	if (conn->sock)
		mnl_socket_close(conn->sock);
	conn->sock = NULL;
}

struct nlmsghdr *genl_request(struct genl_conn *conn, void *buf, uint8_t cmd,
			      uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = conn->family;
	nlh->nlmsg_flags = flags;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = IBGUARD_GENL_VERSION;
	return nlh;
}

static void read_ext_ack(struct genl_conn *conn, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t echoed = (nlh->nlmsg_flags & NLM_F_CAPPED) ?
			sizeof(*nlh) : err->msg.nlmsg_len;
	size_t off = sizeof(int) + MNL_ALIGN(echoed);
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    sizeof(*nlh) + off >= nlh->nlmsg_len)
		return;
	mnl_attr_for_each(attr, nlh, off)
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
			snprintf(conn->ext_msg, sizeof(conn->ext_msg), "%s",
				 mnl_attr_get_str(attr));
}

int genl_transact(struct genl_conn *conn, struct nlmsghdr *req,
		  mnl_cb_t cb, void *data)
{
	char buf[32768];
	uint32_t portid = mnl_socket_get_portid(conn->sock);
	ssize_t len;
	int ret;

	conn->ext_msg[0] = '\0';
	conn->answered = false;
	req->nlmsg_seq = ++conn->seq;
	if (mnl_socket_sendto(conn->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		len = mnl_socket_recvfrom(conn->sock, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		if (mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_type == NLMSG_ERROR &&
		    nlh->nlmsg_seq == req->nlmsg_seq) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			conn->answered = true;
			if (err->error)
				read_ext_ack(conn, nlh);
			return err->error;
		}
		ret = mnl_cb_run(buf, len, req->nlmsg_seq, portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP) {
			conn->answered = true;
			return 0;
		}
	}
}

static int status_cb(const struct nlmsghdr *nlh, void *data)
{
	struct genl_status *st = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case IBGUARD_ATTR_GENERATION:
			st->generation = mnl_attr_get_u64(attr);
			break;
		case IBGUARD_ATTR_STAGING_MEMORY:
			st->staging = mnl_attr_get_u64(attr);
			break;
		case IBGUARD_ATTR_RULE_COUNT:
			st->rules = mnl_attr_get_u32(attr);
			break;
		case IBGUARD_ATTR_MODE:
			st->mode = mnl_attr_get_u8(attr);
			break;
		}
	}
	return MNL_CB_OK;
}

int genl_get_status(struct genl_conn *conn, struct genl_status *st)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	memset(st, 0, sizeof(*st));
	return genl_transact(conn, genl_request(conn, buf,
						IBGUARD_CMD_GET_STATUS,
						NLM_F_REQUEST | NLM_F_ACK),
			     status_cb, st);
}
