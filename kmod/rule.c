// SPDX-License-Identifier: GPL-2.0
/*
 * Rules on the wire: validation of one IBGUARD_ATTR_RULE nest into a struct
 * ibguard_rule, and the reverse for dumps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include "ibguard.h"

static const struct nla_policy subject_policy[IBGUARD_SUBJ_ATTR_MAX + 1] = {
	[IBGUARD_SUBJ_PAD] = { .type = NLA_REJECT },
	[IBGUARD_SUBJ_TYPE] = NLA_POLICY_MAX(NLA_U8, IBGUARD_SUBJ_MAX),
	[IBGUARD_SUBJ_LO] = { .type = NLA_U32 },
	[IBGUARD_SUBJ_HI] = { .type = NLA_U32 },
	[IBGUARD_SUBJ_ID] = { .type = NLA_U64 },
	[IBGUARD_SUBJ_DEV] = { .type = NLA_U32 },
	[IBGUARD_SUBJ_INO] = { .type = NLA_U64 },
};

static struct netlink_range_validation minor_range = {
	.max = MINORMASK,
};

static const struct nla_policy rule_policy[IBGUARD_RULE_MAX + 1] = {
	[IBGUARD_RULE_PAD] = { .type = NLA_REJECT },
	[IBGUARD_RULE_CLASS] = NLA_POLICY_MAX(NLA_U8, IBGUARD_CLASS_MAX),
	[IBGUARD_RULE_VERDICT] = NLA_POLICY_MAX(NLA_U8, IBGUARD_VERDICT_MAX),
	[IBGUARD_RULE_FLAGS] = NLA_POLICY_MASK(NLA_U32, IBGUARD_RULE_FLAGS_ALL),
	[IBGUARD_RULE_SOURCE] = { .type = NLA_NUL_STRING,
				  .len = IBGUARD_MAX_SOURCE_LEN - 1 },
	[IBGUARD_RULE_SUBJECT] = NLA_POLICY_NESTED(subject_policy),
	[IBGUARD_RULE_INDEX] = { .type = NLA_REJECT },
	[IBGUARD_RULE_HITS] = { .type = NLA_REJECT },
	[IBGUARD_RULE_PKEY_LO] = { .type = NLA_U16 },
	[IBGUARD_RULE_PKEY_HI] = { .type = NLA_U16 },
	[IBGUARD_RULE_SUBNET] = { .type = NLA_U64 },
	[IBGUARD_RULE_DEVICE] = { .type = NLA_NUL_STRING,
				  .len = IBGUARD_DEVICE_NAME_LEN - 1 },
	[IBGUARD_RULE_PORT] = NLA_POLICY_RANGE(NLA_U32, 1, 255),
	[IBGUARD_RULE_MAP_OBJECT] = NLA_POLICY_MAX(NLA_U8, IBGUARD_MAP_MAX),
	[IBGUARD_RULE_DEV] = { .type = NLA_U32 },
	[IBGUARD_RULE_INO] = { .type = NLA_U64 },
	[IBGUARD_RULE_CHR_MAJOR] = NLA_POLICY_MAX(NLA_U32, 4095),
	[IBGUARD_RULE_CHR_MINOR_LO] = NLA_POLICY_FULL_RANGE(NLA_U32, &minor_range),
	[IBGUARD_RULE_CHR_MINOR_HI] = NLA_POLICY_FULL_RANGE(NLA_U32, &minor_range),
	[IBGUARD_RULE_FSTYPE] = { .type = NLA_NUL_STRING,
				  .len = IBGUARD_FSTYPE_LEN - 1 },
	[IBGUARD_RULE_PROT] = NLA_POLICY_MASK(NLA_U32, IBGUARD_PROT_ALL),
};

/* Attributes each class may carry beyond the common ones. */
static const u8 pkey_attrs[] = {
	IBGUARD_RULE_PKEY_LO, IBGUARD_RULE_PKEY_HI, IBGUARD_RULE_SUBNET,
};

static const u8 endport_attrs[] = {
	IBGUARD_RULE_DEVICE, IBGUARD_RULE_PORT,
};

static const u8 map_attrs[] = {
	IBGUARD_RULE_MAP_OBJECT, IBGUARD_RULE_DEV, IBGUARD_RULE_INO,
	IBGUARD_RULE_CHR_MAJOR, IBGUARD_RULE_CHR_MINOR_LO,
	IBGUARD_RULE_CHR_MINOR_HI, IBGUARD_RULE_FSTYPE, IBGUARD_RULE_PROT,
};

static bool attr_in(int type, const u8 *list, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (list[i] == type)
			return true;
	return false;
}

/* Rejects an attribute that belongs to another class. */
static int check_class_attrs(struct nlattr **tb, u8 cls,
			     struct netlink_ext_ack *extack)
{
	int type;

	for (type = IBGUARD_RULE_PKEY_LO; type <= IBGUARD_RULE_MAX; type++) {
		bool ok;

		if (!tb[type])
			continue;
		switch (cls) {
		case IBGUARD_CLASS_PKEY:
			ok = attr_in(type, pkey_attrs, ARRAY_SIZE(pkey_attrs));
			break;
		case IBGUARD_CLASS_ENDPORT:
			ok = attr_in(type, endport_attrs,
				     ARRAY_SIZE(endport_attrs));
			break;
		default:
			ok = attr_in(type, map_attrs, ARRAY_SIZE(map_attrs));
			break;
		}
		if (!ok) {
			NL_SET_ERR_MSG_ATTR(extack, tb[type],
					    "attribute does not belong to the rule's class");
			return -EINVAL;
		}
	}
	return 0;
}

static bool name_is_valid(const char *name)
{
	const char *c;

	if (!*name)
		return false;
	for (c = name; *c; c++)
		if (!isalnum(*c) && *c != '_' && *c != '-' && *c != '.')
			return false;
	return true;
}

/*
 * A validated NLA_NUL_STRING attribute's string, up to its first NUL: what
 * the rule keeps and ibguard_rule_memory() counts. nla_strdup() would copy
 * the whole attribute, bytes after an embedded NUL included.
 */
static char *dup_string(const struct nlattr *attr)
{
	return kstrdup(nla_data(attr), GFP_KERNEL_ACCOUNT);
}

static int parse_pkey(struct ibguard_rule *rule, struct nlattr **tb,
		      const struct nlattr *nest, struct netlink_ext_ack *extack)
{
	if (!tb[IBGUARD_RULE_PKEY_LO] || !tb[IBGUARD_RULE_PKEY_HI]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "pkey rule without a P_Key range");
		return -EINVAL;
	}
	rule->pkey.lo = nla_get_u16(tb[IBGUARD_RULE_PKEY_LO]);
	rule->pkey.hi = nla_get_u16(tb[IBGUARD_RULE_PKEY_HI]);
	if (rule->pkey.lo > rule->pkey.hi) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_RULE_PKEY_HI],
				    "P_Key range is reversed");
		return -EINVAL;
	}
	rule->pkey.any_subnet = !tb[IBGUARD_RULE_SUBNET];
	if (tb[IBGUARD_RULE_SUBNET])
		rule->pkey.subnet = nla_get_u64(tb[IBGUARD_RULE_SUBNET]);
	return 0;
}

static int parse_endport(struct ibguard_rule *rule, struct nlattr **tb,
			 struct netlink_ext_ack *extack)
{
	if (tb[IBGUARD_RULE_DEVICE]) {
		if (!name_is_valid(nla_data(tb[IBGUARD_RULE_DEVICE]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_RULE_DEVICE],
					    "invalid device name");
			return -EINVAL;
		}
		rule->endport.device = dup_string(tb[IBGUARD_RULE_DEVICE]);
		if (!rule->endport.device)
			return -ENOMEM;
	}
	if (tb[IBGUARD_RULE_PORT])
		rule->endport.port = nla_get_u32(tb[IBGUARD_RULE_PORT]);
	return 0;
}

static int parse_map(struct ibguard_rule *rule, struct nlattr **tb,
		     const struct nlattr *nest, struct netlink_ext_ack *extack)
{
	struct nlattr *lo = tb[IBGUARD_RULE_CHR_MINOR_LO];
	struct nlattr *hi = tb[IBGUARD_RULE_CHR_MINOR_HI];

	if (!tb[IBGUARD_RULE_MAP_OBJECT]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "map rule without an object");
		return -EINVAL;
	}
	rule->map.object = nla_get_u8(tb[IBGUARD_RULE_MAP_OBJECT]);
	if (tb[IBGUARD_RULE_PROT])
		rule->map.prot = nla_get_u32(tb[IBGUARD_RULE_PROT]);

	switch (rule->map.object) {
	case IBGUARD_MAP_PATH:
	case IBGUARD_MAP_TREE:
		if (!tb[IBGUARD_RULE_DEV] || !tb[IBGUARD_RULE_INO]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_RULE_MAP_OBJECT],
					    "path and tree objects need a device and inode");
			return -EINVAL;
		}
		rule->map.dev = nla_get_u32(tb[IBGUARD_RULE_DEV]);
		rule->map.ino = nla_get_u64(tb[IBGUARD_RULE_INO]);
		break;
	case IBGUARD_MAP_CHARDEV:
		if (!tb[IBGUARD_RULE_CHR_MAJOR] || !lo != !hi) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_RULE_MAP_OBJECT],
					    "chardev object needs a major and both or no minor bounds");
			return -EINVAL;
		}
		rule->map.major = nla_get_u32(tb[IBGUARD_RULE_CHR_MAJOR]);
		rule->map.minor_lo = lo ? nla_get_u32(lo) : 0;
		rule->map.minor_hi = hi ? nla_get_u32(hi) : MINORMASK;
		if (rule->map.minor_lo > rule->map.minor_hi) {
			NL_SET_ERR_MSG_ATTR(extack, hi, "minor range is reversed");
			return -EINVAL;
		}
		break;
	case IBGUARD_MAP_FS:
		if (!tb[IBGUARD_RULE_FSTYPE] ||
		    !name_is_valid(nla_data(tb[IBGUARD_RULE_FSTYPE]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_RULE_MAP_OBJECT],
					    "fs object needs a valid filesystem type");
			return -EINVAL;
		}
		rule->map.fstype = dup_string(tb[IBGUARD_RULE_FSTYPE]);
		if (!rule->map.fstype)
			return -ENOMEM;
		break;
	}
	/* Object attributes of another object kind are a caller bug. */
	if ((rule->map.object != IBGUARD_MAP_PATH &&
	     rule->map.object != IBGUARD_MAP_TREE &&
	     (tb[IBGUARD_RULE_DEV] || tb[IBGUARD_RULE_INO])) ||
	    (rule->map.object != IBGUARD_MAP_CHARDEV &&
	     (tb[IBGUARD_RULE_CHR_MAJOR] || lo || hi)) ||
	    (rule->map.object != IBGUARD_MAP_FS && tb[IBGUARD_RULE_FSTYPE])) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_RULE_MAP_OBJECT],
				    "attribute of another map object kind");
		return -EINVAL;
	}
	return 0;
}

static int parse_subject(struct ibguard_subject *subj, const struct nlattr *nest,
			 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[IBGUARD_SUBJ_ATTR_MAX + 1];
	struct cgroup *cgrp;
	int err;

	err = nla_parse_nested(tb, IBGUARD_SUBJ_ATTR_MAX, nest, subject_policy,
			       extack);
	if (err)
		return err;
	if (!tb[IBGUARD_SUBJ_TYPE]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "subject without a type");
		return -EINVAL;
	}
	subj->type = nla_get_u8(tb[IBGUARD_SUBJ_TYPE]);
	switch (subj->type) {
	case IBGUARD_SUBJ_UID:
	case IBGUARD_SUBJ_GID:
		if (!tb[IBGUARD_SUBJ_LO] || !tb[IBGUARD_SUBJ_HI]) {
			NL_SET_ERR_MSG_ATTR(extack, nest, "id subject without a range");
			return -EINVAL;
		}
		subj->lo = nla_get_u32(tb[IBGUARD_SUBJ_LO]);
		subj->hi = nla_get_u32(tb[IBGUARD_SUBJ_HI]);
		if (subj->lo > subj->hi) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_SUBJ_HI],
					    "id range is reversed");
			return -EINVAL;
		}
		break;
	case IBGUARD_SUBJ_CGROUP:
		if (!tb[IBGUARD_SUBJ_ID]) {
			NL_SET_ERR_MSG_ATTR(extack, nest, "cgroup subject without an id");
			return -EINVAL;
		}
		subj->cgroup_id = nla_get_u64(tb[IBGUARD_SUBJ_ID]);
		cgrp = cgroup_get_from_id(subj->cgroup_id);
		if (IS_ERR(cgrp)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_SUBJ_ID],
					    "no cgroup v2 with this id");
			return -ENOENT;
		}
		subj->cgrp = cgrp;
		break;
	case IBGUARD_SUBJ_EXE:
		if (!tb[IBGUARD_SUBJ_DEV] || !tb[IBGUARD_SUBJ_INO]) {
			NL_SET_ERR_MSG_ATTR(extack, nest, "exe subject without device and inode");
			return -EINVAL;
		}
		subj->dev = nla_get_u32(tb[IBGUARD_SUBJ_DEV]);
		subj->ino = nla_get_u64(tb[IBGUARD_SUBJ_INO]);
		break;
	case IBGUARD_SUBJ_KERNEL:
		break;
	}
	return 0;
}

static int parse_subjects(struct ibguard_rule *rule, const struct nlattr *nest,
			  struct netlink_ext_ack *extack)
{
	const struct nlattr *attr;
	int rem, n = 0, err;

	nla_for_each_nested(attr, nest, rem)
		if (nla_type(attr) == IBGUARD_RULE_SUBJECT)
			n++;
	if (!n)
		return 0;
	rule->subjects = kcalloc(n, sizeof(*rule->subjects), GFP_KERNEL_ACCOUNT);
	if (!rule->subjects)
		return -ENOMEM;
	nla_for_each_nested(attr, nest, rem) {
		if (nla_type(attr) != IBGUARD_RULE_SUBJECT)
			continue;
		err = parse_subject(&rule->subjects[rule->nr_subjects], attr,
				    extack);
		if (err)
			return err;
		rule->nr_subjects++;
	}
	return 0;
}

/*
 * Fills rule from nest. On error the extended ACK names the offending
 * attribute, and the caller releases whatever was filled in.
 */
int ibguard_rule_parse(struct ibguard_rule *rule, const struct nlattr *nest,
		       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[IBGUARD_RULE_MAX + 1];
	int err;

	/*
	 * Subjects repeat, so the table keeps only the last; parse_subjects()
	 * walks the nest itself after strict validation here.
	 */
	err = nla_parse_nested(tb, IBGUARD_RULE_MAX, nest, rule_policy, extack);
	if (err)
		return err;
	if (!tb[IBGUARD_RULE_CLASS] || !tb[IBGUARD_RULE_VERDICT] ||
	    !tb[IBGUARD_RULE_SOURCE]) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "rule needs a class, a verdict and its source text");
		return -EINVAL;
	}
	rule->cls = nla_get_u8(tb[IBGUARD_RULE_CLASS]);
	rule->verdict = nla_get_u8(tb[IBGUARD_RULE_VERDICT]);
	if (tb[IBGUARD_RULE_FLAGS])
		rule->flags = nla_get_u32(tb[IBGUARD_RULE_FLAGS]);
	if ((rule->flags & IBGUARD_RULE_SHARED) &&
	    rule->cls != IBGUARD_CLASS_MAP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IBGUARD_RULE_FLAGS],
				    "'shared' applies to map rules only");
		return -EINVAL;
	}
	err = check_class_attrs(tb, rule->cls, extack);
	if (err)
		return err;
	rule->source = dup_string(tb[IBGUARD_RULE_SOURCE]);
	if (!rule->source)
		return -ENOMEM;

	switch (rule->cls) {
	case IBGUARD_CLASS_PKEY:
		err = parse_pkey(rule, tb, nest, extack);
		break;
	case IBGUARD_CLASS_ENDPORT:
		err = parse_endport(rule, tb, extack);
		break;
	default:
		err = parse_map(rule, tb, nest, extack);
		break;
	}
	if (err)
		return err;
	return parse_subjects(rule, nest, extack);
}

void ibguard_rule_release(struct ibguard_rule *rule)
{
	u32 i;

	for (i = 0; i < rule->nr_subjects; i++)
		if (rule->subjects[i].cgrp)
			cgroup_put(rule->subjects[i].cgrp);
	kfree(rule->subjects);
	kfree(rule->source);
	if (rule->cls == IBGUARD_CLASS_ENDPORT)
		kfree(rule->endport.device);
	else if (rule->cls == IBGUARD_CLASS_MAP)
		kfree(rule->map.fstype);
	memset(rule, 0, sizeof(*rule));
}

/*
 * What a parsed rule allocated beyond its slot in the rules array, which
 * the staging and the policy count whole (capacity, not rules).
 */
size_t ibguard_rule_memory(const struct ibguard_rule *rule)
{
	size_t bytes = strlen(rule->source) + 1 +
		       rule->nr_subjects * sizeof(*rule->subjects);

	if (rule->cls == IBGUARD_CLASS_ENDPORT && rule->endport.device)
		bytes += strlen(rule->endport.device) + 1;
	if (rule->cls == IBGUARD_CLASS_MAP && rule->map.fstype)
		bytes += strlen(rule->map.fstype) + 1;
	return bytes;
}

/* The dump carries what the tool prints: index, class, verdict, source. */
int ibguard_rule_fill(struct sk_buff *msg, const struct ibguard_rule *rule)
{
	if (nla_put_u32(msg, IBGUARD_RULE_INDEX, rule->index) ||
	    nla_put_u8(msg, IBGUARD_RULE_CLASS, rule->cls) ||
	    nla_put_u8(msg, IBGUARD_RULE_VERDICT, rule->verdict) ||
	    nla_put_u32(msg, IBGUARD_RULE_FLAGS, rule->flags) ||
	    nla_put_string(msg, IBGUARD_RULE_SOURCE, rule->source))
		return -EMSGSIZE;
	return 0;
}
