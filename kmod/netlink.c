// SPDX-License-Identifier: GPL-2.0
/*
 * The "ibguard" generic netlink family: the control plane ibguardctl talks to.
 * It lives in the initial network namespace only (netnsok is not set).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include "ibguard.h"

static const struct nla_policy ibguard_nl_policy[IBGUARD_ATTR_MAX + 1] = {
	[IBGUARD_ATTR_PAD] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_MODULE_VERSION] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_PROTOCOL_VERSION] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_MODE] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_GENERATION] = { .type = NLA_REJECT },
};

static struct genl_family ibguard_nl_family;

static int ibguard_nl_fill_status(struct sk_buff *msg)
{
	if (nla_put_string(msg, IBGUARD_ATTR_MODULE_VERSION, IBGUARD_VERSION) ||
	    nla_put_u32(msg, IBGUARD_ATTR_PROTOCOL_VERSION,
			IBGUARD_PROTOCOL_VERSION) ||
	    nla_put_u8(msg, IBGUARD_ATTR_MODE, ibguard_mode()) ||
	    nla_put_u64_64bit(msg, IBGUARD_ATTR_GENERATION,
			      ibguard_generation(), IBGUARD_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}

static int ibguard_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ibguard_nl_family, 0,
				IBGUARD_CMD_GET_STATUS);
	if (!hdr) {
		err = -EMSGSIZE;
		goto out_free;
	}
	err = ibguard_nl_fill_status(msg);
	if (err)
		goto out_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

out_free:
	nlmsg_free(msg);
	return err;
}

static const struct genl_small_ops ibguard_nl_ops[] = {
	{
		.cmd = IBGUARD_CMD_GET_STATUS,
		.doit = ibguard_nl_get_status,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group ibguard_nl_mcgrps[] = {
	{ .name = IBGUARD_MCGRP_EVENTS },
};

static struct genl_family ibguard_nl_family = {
	.name = IBGUARD_GENL_NAME,
	.version = IBGUARD_GENL_VERSION,
	.maxattr = IBGUARD_ATTR_MAX,
	.policy = ibguard_nl_policy,
	.module = THIS_MODULE,
	.small_ops = ibguard_nl_ops,
	.n_small_ops = ARRAY_SIZE(ibguard_nl_ops),
	.mcgrps = ibguard_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ibguard_nl_mcgrps),
};

int __init ibguard_netlink_init(void)
{
	return genl_register_family(&ibguard_nl_family);
}

void ibguard_netlink_exit(void)
{
	genl_unregister_family(&ibguard_nl_family);
}
