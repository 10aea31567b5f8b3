// SPDX-License-Identifier: GPL-2.0
/*
 * The "ibguard" generic netlink family: the control plane ibguardctl talks
 * to. It lives in the initial network namespace only (netnsok is not set).
 * Reads need CAP_NET_ADMIN (they reveal the policy); changes need
 * CAP_MAC_ADMIN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include "ibguard.h"
#include "ibguard_compat.h"

/* ops->internal_flags */
#define IBGUARD_NL_MUTATES	BIT(0)

static const struct nla_policy ibguard_nl_policy[IBGUARD_ATTR_MAX + 1] = {
	[IBGUARD_ATTR_PAD] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_MODULE_VERSION] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_PROTOCOL_VERSION] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_MODE] = NLA_POLICY_MAX(NLA_U8, IBGUARD_MODE_MAX),
	[IBGUARD_ATTR_GENERATION] = { .type = NLA_U64 },
	[IBGUARD_ATTR_DEFAULT_PKEY] = NLA_POLICY_MAX(NLA_U8, IBGUARD_VERDICT_MAX),
	[IBGUARD_ATTR_DEFAULT_ENDPORT] = NLA_POLICY_MAX(NLA_U8, IBGUARD_VERDICT_MAX),
	[IBGUARD_ATTR_DEFAULT_MAP] = NLA_POLICY_MAX(NLA_U8, IBGUARD_VERDICT_MAX),
	[IBGUARD_ATTR_OPTIONS] = NLA_POLICY_MASK(NLA_U32, IBGUARD_OPT_ALL),
	/* validated rule by rule in rule.c */
	[IBGUARD_ATTR_RULE] = { .type = NLA_NESTED },
	[IBGUARD_ATTR_RULE_COUNT] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_DRY_RUN] = { .type = NLA_FLAG },
	[IBGUARD_ATTR_NO_REVOKE] = { .type = NLA_FLAG },
	[IBGUARD_ATTR_MEMORY] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_STAGING_MEMORY] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_CLASS_STATS] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_EVENTS_DROPPED] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_AUDIT_DROPPED] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_HOOKS] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_FOLLOWED_QPS] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_FOLLOWED_AGENTS] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_EVENT] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_RULE_STATS] = { .type = NLA_FLAG },
	[IBGUARD_ATTR_AVAILABLE] = { .type = NLA_REJECT },
	[IBGUARD_ATTR_LOCKED] = { .type = NLA_REJECT },
};

static struct genl_family ibguard_nl_family;

/*
 * The one load in progress, owned by the netlink socket that began it.
 * Both change under ibguard_lock; the socket release notifier reads
 * staging_portid without it first (WRITE_ONCE/READ_ONCE).
 */
static struct ibguard_staging *staging;
static u32 staging_portid;

static const u8 default_attrs[IBGUARD_NR_CLASSES] = {
	[IBGUARD_CLASS_PKEY] = IBGUARD_ATTR_DEFAULT_PKEY,
	[IBGUARD_CLASS_ENDPORT] = IBGUARD_ATTR_DEFAULT_ENDPORT,
	[IBGUARD_CLASS_MAP] = IBGUARD_ATTR_DEFAULT_MAP,
};

static void staging_free(void)
{
	if (!staging)
		return;
	ibguard_staging_release(staging);
	kfree(staging);
	staging = NULL;
	WRITE_ONCE(staging_portid, 0);
}

/* The staging, its rules array whole, and what its rules allocated. */
size_t ibguard_staging_memory(void)
{
	return staging ? sizeof(*staging) + staging->memory +
			 staging->capacity * sizeof(*staging->rules) : 0;
}

static int fill_status(struct sk_buff *msg)
{
	const struct ibguard_policy *p;
	u32 qps, agents;
	int i, err = 0;

	if (nla_put_string(msg, IBGUARD_ATTR_MODULE_VERSION, IBGUARD_VERSION) ||
	    nla_put_u32(msg, IBGUARD_ATTR_PROTOCOL_VERSION,
			IBGUARD_PROTOCOL_VERSION) ||
	    nla_put_u8(msg, IBGUARD_ATTR_MODE, ibguard_mode()) ||
	    nla_put_u64_64bit(msg, IBGUARD_ATTR_GENERATION,
			      ibguard_generation(), IBGUARD_ATTR_PAD) ||
	    nla_put_u64_64bit(msg, IBGUARD_ATTR_STAGING_MEMORY,
			      ibguard_staging_memory(), IBGUARD_ATTR_PAD) ||
	    nla_put_u64_64bit(msg, IBGUARD_ATTR_EVENTS_DROPPED,
			      ibguard_events_dropped(), IBGUARD_ATTR_PAD) ||
	    nla_put_u64_64bit(msg, IBGUARD_ATTR_AUDIT_DROPPED,
			      ibguard_audit_dropped(), IBGUARD_ATTR_PAD) ||
	    nla_put_u32(msg, IBGUARD_ATTR_HOOKS, ibguard_hooks_attached()) ||
	    nla_put_u32(msg, IBGUARD_ATTR_AVAILABLE, ibguard_classes_available()) ||
	    nla_put_u8(msg, IBGUARD_ATTR_LOCKED, ibguard_locked()))
		return -EMSGSIZE;
	if (ibguard_live_followed(&qps, &agents) &&
	    (nla_put_u32(msg, IBGUARD_ATTR_FOLLOWED_QPS, qps) ||
	     nla_put_u32(msg, IBGUARD_ATTR_FOLLOWED_AGENTS, agents)))
		return -EMSGSIZE;

	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	if (p) {
		for (i = 0; i < IBGUARD_NR_CLASSES; i++)
			if (nla_put_u8(msg, default_attrs[i], p->defaults[i]))
				err = -EMSGSIZE;
		if (nla_put_u32(msg, IBGUARD_ATTR_OPTIONS, p->options) ||
		    nla_put_u32(msg, IBGUARD_ATTR_RULE_COUNT, p->nr_rules) ||
		    nla_put_u64_64bit(msg, IBGUARD_ATTR_MEMORY, p->memory,
				      IBGUARD_ATTR_PAD))
			err = -EMSGSIZE;
	}
	rcu_read_unlock();
	return err;
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
	mutex_lock(&ibguard_lock);
	err = fill_status(msg);
	mutex_unlock(&ibguard_lock);
	if (err)
		goto out_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

out_free:
	nlmsg_free(msg);
	return err;
}

/* The staging of this socket, or an error explaining why there is none. */
static int own_staging(struct genl_info *info)
{
	int err = ibguard_check_alive();

	if (err)
		return err;
	if (!staging || staging_portid != info->snd_portid) {
		GENL_SET_ERR_MSG(info, "no policy load in progress on this socket");
		return -ENOENT;
	}
	return 0;
}

static int ibguard_nl_policy_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	int i, err;

	mutex_lock(&ibguard_lock);
	err = ibguard_check_alive();
	if (err)
		goto out;
	if (staging) {
		GENL_SET_ERR_MSG(info, "another policy load is in progress");
		err = -EBUSY;
		goto out;
	}
	if (attrs[IBGUARD_ATTR_GENERATION] &&
	    nla_get_u64(attrs[IBGUARD_ATTR_GENERATION]) != ibguard_generation()) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[IBGUARD_ATTR_GENERATION],
				    "the active policy changed since it was read");
		err = -ESTALE;
		goto out;
	}
	staging = kzalloc(sizeof(*staging), GFP_KERNEL_ACCOUNT);
	if (!staging) {
		err = -ENOMEM;
		goto out;
	}
	WRITE_ONCE(staging_portid, info->snd_portid);
	for (i = 0; i < IBGUARD_NR_CLASSES; i++)
		if (attrs[default_attrs[i]])
			staging->defaults[i] = nla_get_u8(attrs[default_attrs[i]]);
	if (attrs[IBGUARD_ATTR_OPTIONS])
		staging->options = nla_get_u32(attrs[IBGUARD_ATTR_OPTIONS]);
	if (attrs[IBGUARD_ATTR_MODE]) {
		staging->set_mode = true;
		staging->mode = nla_get_u8(attrs[IBGUARD_ATTR_MODE]);
	}
out:
	mutex_unlock(&ibguard_lock);
	return err;
}

static int grow_staging(u32 needed)
{
	struct ibguard_rule *rules;
	u32 capacity;

	if (needed <= staging->capacity)
		return 0;
	capacity = max3(needed, staging->capacity * 2, 64U);
	rules = kvcalloc(capacity, sizeof(*rules), GFP_KERNEL_ACCOUNT);
	if (!rules)
		return -ENOMEM;
	if (staging->nr_rules)
		memcpy(rules, staging->rules,
		       staging->nr_rules * sizeof(*rules));
	kvfree(staging->rules);
	staging->rules = rules;
	staging->capacity = capacity;
	return 0;
}

/*
 * Adds every rule of the message, or none: a rejected rule leaves the
 * staging as it was, and the extended ACK points at the offending attribute.
 */
static int ibguard_nl_policy_add(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *attr;
	u32 first, n = 0, i;
	size_t memory = 0;
	int rem, err;

	mutex_lock(&ibguard_lock);
	err = own_staging(info);
	if (err)
		goto out;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem)
		if (nla_type(attr) == IBGUARD_ATTR_RULE)
			n++;
	first = staging->nr_rules;
	if (n > IBGUARD_MAX_RULES - first) {
		GENL_SET_ERR_MSG(info, "too many rules");
		err = -E2BIG;
		goto out;
	}
	err = grow_staging(first + n);
	if (err)
		goto out;

	i = first;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		struct ibguard_rule *rule = &staging->rules[i];

		if (nla_type(attr) != IBGUARD_ATTR_RULE)
			continue;
		err = ibguard_rule_parse(rule, attr, info->extack);
		if (err) {
			/* The failed rule is released with the others. */
			i++;
			break;
		}
		rule->index = i++;
		memory += ibguard_rule_memory(rule);
		cond_resched();
	}
	if (err) {
		while (i-- > first)
			ibguard_rule_release(&staging->rules[i]);
		goto out;
	}
	staging->nr_rules = i;
	staging->memory += memory;
out:
	mutex_unlock(&ibguard_lock);
	return err;
}

static int ibguard_nl_policy_commit(struct sk_buff *skb, struct genl_info *info)
{
	bool dry_run = nla_get_flag(info->attrs[IBGUARD_ATTR_DRY_RUN]);
	bool revoke = !nla_get_flag(info->attrs[IBGUARD_ATTR_NO_REVOKE]);
	struct ibguard_policy *p;
	bool set_mode;
	u8 mode;
	int err;

	mutex_lock(&ibguard_lock);
	err = own_staging(info);
	if (err)
		goto out;
	set_mode = staging->set_mode;
	mode = staging->mode;
	p = ibguard_policy_build(staging, info->extack);
	staging_free();
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
		goto out;
	}
	err = ibguard_policy_allowed_when_locked(p, info->extack);
	if (!err && set_mode)
		err = ibguard_mode_allowed(mode, info->extack);
	if (err || dry_run) {
		ibguard_policy_free(p);
		goto out;
	}
	err = ibguard_policy_install(p, info->extack);
	if (err) {
		ibguard_policy_free(p);
		goto out;
	}
	ibguard_audit_policy_load(p, set_mode ? mode : ibguard_mode(), revoke);
	/* Checked above: cannot fail. */
	if (set_mode)
		WARN_ON_ONCE(ibguard_set_mode(mode, info->extack));
	if (revoke)
		ibguard_revalidate_live();
	ibguard_event_policy(IBGUARD_EVENT_POLICY_LOADED, ibguard_generation(),
			     ibguard_mode());
out:
	mutex_unlock(&ibguard_lock);
	return err;
}

static int ibguard_nl_policy_abort(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	mutex_lock(&ibguard_lock);
	err = own_staging(info);
	if (!err)
		staging_free();
	mutex_unlock(&ibguard_lock);
	return err;
}

static int ibguard_nl_set_mode(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	if (GENL_REQ_ATTR_CHECK(info, IBGUARD_ATTR_MODE))
		return -EINVAL;
	mutex_lock(&ibguard_lock);
	err = ibguard_check_alive();
	if (!err)
		err = ibguard_set_mode(nla_get_u8(info->attrs[IBGUARD_ATTR_MODE]),
				       info->extack);
	/* What permissive mode let through is decided again. */
	if (!err && ibguard_mode() == IBGUARD_MODE_ENFORCING)
		ibguard_revalidate_live();
	mutex_unlock(&ibguard_lock);
	return err;
}

static int ibguard_nl_lock(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	mutex_lock(&ibguard_lock);
	err = ibguard_check_alive();
	if (!err)
		err = ibguard_lock_enforcement(info->extack);
	mutex_unlock(&ibguard_lock);
	return err;
}

static int ibguard_nl_stats_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct ibguard_policy *p;

	mutex_lock(&ibguard_lock);
	ibguard_stats_reset();
	p = rcu_dereference_protected(ibguard_active_policy,
				      lockdep_is_held(&ibguard_lock));
	if (p)
		ibguard_policy_reset_hits(p);
	mutex_unlock(&ibguard_lock);
	return 0;
}

/*
 * Dumps: cb->args[0] is the next rule (0: the header comes first),
 * cb->args[1] whether rule messages are wanted. cb->seq carries the
 * generation so that a dump spanning a policy load is flagged
 * NLM_F_DUMP_INTR and the reader retries. It is never 0, which
 * nl_dump_check_consistent() takes for "no sequence yet": a dump begun
 * before any policy was loaded (generation 0) is flagged too. 32 bits
 * suffice: two calls of one dump are never 2^32 loads apart.
 */
static unsigned int dump_seq(const struct ibguard_policy *p)
{
	return (u32)(p ? p->generation : 0) + 1 ?: 1;
}

static void *dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				cb->nlh->nlmsg_seq, &ibguard_nl_family,
				NLM_F_MULTI, cmd);

	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

static int put_policy_header(struct sk_buff *skb, const struct ibguard_policy *p)
{
	int i;

	if (nla_put_u64_64bit(skb, IBGUARD_ATTR_GENERATION, p->generation,
			      IBGUARD_ATTR_PAD) ||
	    nla_put_u8(skb, IBGUARD_ATTR_MODE, ibguard_mode()) ||
	    nla_put_u32(skb, IBGUARD_ATTR_OPTIONS, p->options) ||
	    nla_put_u32(skb, IBGUARD_ATTR_RULE_COUNT, p->nr_rules))
		return -EMSGSIZE;
	for (i = 0; i < IBGUARD_NR_CLASSES; i++)
		if (nla_put_u8(skb, default_attrs[i], p->defaults[i]))
			return -EMSGSIZE;
	return 0;
}

static int put_class_stats(struct sk_buff *skb, const struct ibguard_policy *p)
{
	int cls;

	for (cls = 0; cls < IBGUARD_NR_CLASSES; cls++) {
		struct nlattr *nest = nla_nest_start(skb, IBGUARD_ATTR_CLASS_STATS);

		if (!nest ||
		    nla_put_u8(skb, IBGUARD_STATS_CLASS, cls) ||
		    nla_put_u64_64bit(skb, IBGUARD_STATS_CHECKED,
				      ibguard_stats_read(cls, IBGUARD_CHECKED),
				      IBGUARD_STATS_PAD) ||
		    nla_put_u64_64bit(skb, IBGUARD_STATS_ALLOWED,
				      ibguard_stats_read(cls, IBGUARD_ALLOWED),
				      IBGUARD_STATS_PAD) ||
		    nla_put_u64_64bit(skb, IBGUARD_STATS_DENIED,
				      ibguard_stats_read(cls, IBGUARD_DENIED),
				      IBGUARD_STATS_PAD) ||
		    nla_put_u64_64bit(skb, IBGUARD_STATS_WOULD_DENY,
				      ibguard_stats_read(cls, IBGUARD_WOULD_DENY),
				      IBGUARD_STATS_PAD) ||
		    nla_put_u64_64bit(skb, IBGUARD_STATS_REVOKED,
				      ibguard_stats_read(cls, IBGUARD_REVOKED),
				      IBGUARD_STATS_PAD) ||
		    nla_put_u32(skb, IBGUARD_STATS_RULES,
				p ? p->class_rules[cls] : 0) ||
		    nla_put_u8(skb, IBGUARD_STATS_DEFAULT,
			       p ? p->defaults[cls] : IBGUARD_VERDICT_ALLOW))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return nla_put_u64_64bit(skb, IBGUARD_ATTR_EVENTS_DROPPED,
				 ibguard_events_dropped(), IBGUARD_ATTR_PAD) ||
	       nla_put_u64_64bit(skb, IBGUARD_ATTR_AUDIT_DROPPED,
				 ibguard_audit_dropped(), IBGUARD_ATTR_PAD) ||
	       nla_put_u64_64bit(skb, IBGUARD_ATTR_GENERATION,
				 p ? p->generation : 0, IBGUARD_ATTR_PAD) ?
	       -EMSGSIZE : 0;
}

static int put_rule(struct sk_buff *skb, const struct ibguard_policy *p,
		    u32 i, bool hits)
{
	struct nlattr *nest = nla_nest_start(skb, IBGUARD_ATTR_RULE);

	if (!nest || ibguard_rule_fill(skb, &p->rules[i]) ||
	    (hits && nla_put_u64_64bit(skb, IBGUARD_RULE_HITS,
				       ibguard_policy_rule_hits(p, i),
				       IBGUARD_RULE_PAD)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int dump_policy_or_stats(struct sk_buff *skb, struct netlink_callback *cb,
				u8 cmd, bool rules, bool hits)
{
	const struct ibguard_policy *p;
	long pos = cb->args[0];
	void *hdr;
	int err = 0;

	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	cb->seq = dump_seq(p);
	if (pos == 0) {
		hdr = dump_put(skb, cb, cmd);
		if (!hdr) {
			err = -EMSGSIZE;
			goto out;
		}
		if (cmd == IBGUARD_CMD_STATS_GET)
			err = put_class_stats(skb, p);
		else if (p)
			err = put_policy_header(skb, p);
		if (err) {
			genlmsg_cancel(skb, hdr);
			goto out;
		}
		genlmsg_end(skb, hdr);
		pos = 1;
	}
	for (; rules && p && pos <= p->nr_rules; pos++) {
		hdr = dump_put(skb, cb, cmd);
		if (hdr && put_rule(skb, p, pos - 1, hits)) {
			genlmsg_cancel(skb, hdr);
			hdr = NULL;
		}
		if (!hdr) {
			/*
			 * Not even alone in an empty skb: the reader's buffer
			 * is too small for this rule. Say so rather than end
			 * the dump without it.
			 */
			if (!skb->len)
				err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
	}
out:
	rcu_read_unlock();
	cb->args[0] = pos;
	/* What does not fit an empty skb ends the dump with an error. */
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int ibguard_nl_policy_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	return dump_policy_or_stats(skb, cb, IBGUARD_CMD_POLICY_GET, true, false);
}

static int ibguard_nl_stats_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	bool rules = nla_get_flag(ibguard_dumpit_attrs(info)[IBGUARD_ATTR_RULE_STATS]);

	return dump_policy_or_stats(skb, cb, IBGUARD_CMD_STATS_GET, rules, true);
}

static int ibguard_nl_pre_doit(const ibguard_genl_pre_ops *ops, struct sk_buff *skb,
			       struct genl_info *info)
{
	if ((ops->internal_flags & IBGUARD_NL_MUTATES) &&
	    !netlink_capable(skb, CAP_MAC_ADMIN)) {
		GENL_SET_ERR_MSG(info, "changing ibguard's state needs CAP_MAC_ADMIN");
		return -EPERM;
	}
	return 0;
}

static const struct genl_small_ops ibguard_nl_ops[] = {
	{
		.cmd = IBGUARD_CMD_GET_STATUS,
		.doit = ibguard_nl_get_status,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IBGUARD_CMD_POLICY_BEGIN,
		.doit = ibguard_nl_policy_begin,
		.internal_flags = IBGUARD_NL_MUTATES,
	},
	{
		.cmd = IBGUARD_CMD_POLICY_ADD,
		.doit = ibguard_nl_policy_add,
		.internal_flags = IBGUARD_NL_MUTATES,
	},
	{
		.cmd = IBGUARD_CMD_POLICY_COMMIT,
		.doit = ibguard_nl_policy_commit,
		.internal_flags = IBGUARD_NL_MUTATES,
	},
	{
		.cmd = IBGUARD_CMD_POLICY_ABORT,
		.doit = ibguard_nl_policy_abort,
		.internal_flags = IBGUARD_NL_MUTATES,
	},
	{
		.cmd = IBGUARD_CMD_POLICY_GET,
		.dumpit = ibguard_nl_policy_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IBGUARD_CMD_STATS_GET,
		.dumpit = ibguard_nl_stats_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IBGUARD_CMD_STATS_RESET,
		.doit = ibguard_nl_stats_reset,
		.internal_flags = IBGUARD_NL_MUTATES,
	},
	{
		.cmd = IBGUARD_CMD_SET_MODE,
		.doit = ibguard_nl_set_mode,
		.internal_flags = IBGUARD_NL_MUTATES,
	},
	{
		.cmd = IBGUARD_CMD_LOCK,
		.doit = ibguard_nl_lock,
		.internal_flags = IBGUARD_NL_MUTATES,
	},
};

static const struct genl_multicast_group ibguard_nl_mcgrps[] = {
	{ .name = IBGUARD_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family ibguard_nl_family = {
	.name = IBGUARD_GENL_NAME,
	.version = IBGUARD_GENL_VERSION,
	.maxattr = IBGUARD_ATTR_MAX,
	.policy = ibguard_nl_policy,
	.module = THIS_MODULE,
	.pre_doit = ibguard_nl_pre_doit,
	.small_ops = ibguard_nl_ops,
	.n_small_ops = ARRAY_SIZE(ibguard_nl_ops),
	.mcgrps = ibguard_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ibguard_nl_mcgrps),
};

void *ibguard_netlink_put_event(struct sk_buff *msg)
{
	return genlmsg_put(msg, 0, 0, &ibguard_nl_family, 0, IBGUARD_CMD_EVENT);
}

int ibguard_netlink_multicast(struct sk_buff *msg, gfp_t gfp)
{
	return genlmsg_multicast(&ibguard_nl_family, msg, 0, 0, gfp);
}

/* A loader that exits or crashes mid-load leaves no staging behind. */
static int ibguard_nl_notify(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;

	/*
	 * Port ids are per network namespace, and loads come only from the
	 * initial one: a socket elsewhere with the loader's port id is not it.
	 */
	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;
	/*
	 * Every generic netlink socket of the namespace closing comes here,
	 * and a commit holds ibguard_lock while it builds a large policy and
	 * waits for a grace period: unrelated sockets must not wait for it.
	 * The loader's socket set staging_portid in its own sendmsg(), which
	 * is over before that socket can be released, so the unlocked read
	 * sees its port id; whatever else it sees is checked again below.
	 */
	if (READ_ONCE(staging_portid) != n->portid)
		return NOTIFY_DONE;
	mutex_lock(&ibguard_lock);
	if (staging && staging_portid == n->portid) {
		pr_info("policy load by port %u abandoned; staging freed\n",
			n->portid);
		staging_free();
	}
	mutex_unlock(&ibguard_lock);
	return NOTIFY_DONE;
}

static struct notifier_block ibguard_nl_notifier = {
	.notifier_call = ibguard_nl_notify,
};

int __init ibguard_netlink_init(void)
{
	int err = netlink_register_notifier(&ibguard_nl_notifier);

	if (err)
		return err;
	err = genl_register_family(&ibguard_nl_family);
	if (err)
		netlink_unregister_notifier(&ibguard_nl_notifier);
	return err;
}

void ibguard_netlink_exit(void)
{
	genl_unregister_family(&ibguard_nl_family);
	netlink_unregister_notifier(&ibguard_nl_notifier);
	mutex_lock(&ibguard_lock);
	staging_free();
	mutex_unlock(&ibguard_lock);
}
