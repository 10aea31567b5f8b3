/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ibguard generic netlink protocol, shared by the kernel module and
 * ibguardctl. This header is the single definition of the protocol.
 *
 * Loading a policy:  POLICY_BEGIN (defaults, options, optional mode and
 * expected generation), POLICY_ADD (one or more IBGUARD_ATTR_RULE nests, at
 * most 64 KiB a message, any number of messages), POLICY_COMMIT (or
 * POLICY_ABORT). The staging belongs to the socket that began it: a second
 * BEGIN from any socket gets -EBUSY, and closing the socket frees it.
 */
#ifndef _UAPI_LINUX_IBGUARD_H
#define _UAPI_LINUX_IBGUARD_H

#define IBGUARD_GENL_NAME		"ibguard"
#define IBGUARD_GENL_VERSION		1
#define IBGUARD_MCGRP_EVENTS		"events"

/* Bumped whenever a command or attribute changes meaning. */
#define IBGUARD_PROTOCOL_VERSION	1

#define IBGUARD_MAX_RULES		1000000
#define IBGUARD_MAX_SOURCE_LEN		4096	/* a rule's source text */
#define IBGUARD_DEVICE_NAME_LEN		64	/* IB_DEVICE_NAME_MAX */
#define IBGUARD_FSTYPE_LEN		64

enum ibguard_cmd {
	IBGUARD_CMD_UNSPEC,
	IBGUARD_CMD_GET_STATUS,		/* reply: module and policy state */
	IBGUARD_CMD_POLICY_BEGIN,
	IBGUARD_CMD_POLICY_ADD,
	IBGUARD_CMD_POLICY_COMMIT,	/* IBGUARD_ATTR_DRY_RUN: validate only */
	IBGUARD_CMD_POLICY_ABORT,
	IBGUARD_CMD_POLICY_GET,		/* dump: a header, then one message a rule */
	IBGUARD_CMD_STATS_GET,		/* dump: class counters, then rule hits */
	IBGUARD_CMD_STATS_RESET,
	IBGUARD_CMD_SET_MODE,
	IBGUARD_CMD_EVENT,		/* multicast only */
	IBGUARD_CMD_LOCK,		/* until reboot: no rmmod, permissive, flush */
	__IBGUARD_CMD_MAX,
};

#define IBGUARD_CMD_MAX (__IBGUARD_CMD_MAX - 1)

enum ibguard_mode {
	IBGUARD_MODE_ENFORCING,
	IBGUARD_MODE_PERMISSIVE,
	__IBGUARD_MODE_MAX,
};

#define IBGUARD_MODE_MAX (__IBGUARD_MODE_MAX - 1)

enum ibguard_class {
	IBGUARD_CLASS_PKEY,
	IBGUARD_CLASS_ENDPORT,
	IBGUARD_CLASS_MAP,
	__IBGUARD_CLASS_MAX,
};

#define IBGUARD_CLASS_MAX (__IBGUARD_CLASS_MAX - 1)
#define IBGUARD_NR_CLASSES __IBGUARD_CLASS_MAX

enum ibguard_verdict {
	IBGUARD_VERDICT_ALLOW,
	IBGUARD_VERDICT_DENY,
	__IBGUARD_VERDICT_MAX,
};

#define IBGUARD_VERDICT_MAX (__IBGUARD_VERDICT_MAX - 1)

/* IBGUARD_ATTR_OPTIONS */
#define IBGUARD_OPT_PKEY_ON_ROCE	(1U << 0)
#define IBGUARD_OPT_ALL			IBGUARD_OPT_PKEY_ON_ROCE

/* IBGUARD_RULE_FLAGS */
#define IBGUARD_RULE_LOG		(1U << 0)	/* event when it decides */
#define IBGUARD_RULE_SHARED		(1U << 1)	/* map: MAP_SHARED only */
#define IBGUARD_RULE_FLAGS_ALL		(IBGUARD_RULE_LOG | IBGUARD_RULE_SHARED)

/* IBGUARD_RULE_PROT: the rule applies when the request asks for any */
#define IBGUARD_PROT_READ		(1U << 0)
#define IBGUARD_PROT_WRITE		(1U << 1)
#define IBGUARD_PROT_EXEC		(1U << 2)
#define IBGUARD_PROT_ALL \
	(IBGUARD_PROT_READ | IBGUARD_PROT_WRITE | IBGUARD_PROT_EXEC)

/* IBGUARD_RULE_MAP_OBJECT */
enum ibguard_map_object {
	IBGUARD_MAP_PATH,	/* DEV + INO: that inode */
	IBGUARD_MAP_TREE,	/* DEV + INO of a directory: all below it */
	IBGUARD_MAP_CHARDEV,	/* CHR_MAJOR, CHR_MINOR_LO/HI (absent: all) */
	IBGUARD_MAP_FS,		/* FSTYPE */
	__IBGUARD_MAP_MAX,
};

#define IBGUARD_MAP_MAX (__IBGUARD_MAP_MAX - 1)

/* IBGUARD_SUBJ_TYPE */
enum ibguard_subject_type {
	IBGUARD_SUBJ_UID,	/* LO..HI: effective uid */
	IBGUARD_SUBJ_GID,	/* LO..HI: effective gid or a supplementary group */
	IBGUARD_SUBJ_CGROUP,	/* ID: that cgroup v2 or below */
	IBGUARD_SUBJ_EXE,	/* DEV + INO of the task's executable */
	IBGUARD_SUBJ_KERNEL,	/* kernel threads */
	__IBGUARD_SUBJ_MAX,
};

#define IBGUARD_SUBJ_MAX (__IBGUARD_SUBJ_MAX - 1)

/*
 * Device numbers (IBGUARD_RULE_DEV, IBGUARD_SUBJ_DEV) are the kernel's
 * internal encoding, (major << 20) | minor.
 */
#define IBGUARD_DEV_MINOR_BITS		20

enum ibguard_attr {
	IBGUARD_ATTR_UNSPEC,
	IBGUARD_ATTR_PAD,
	IBGUARD_ATTR_MODULE_VERSION,	/* string */
	IBGUARD_ATTR_PROTOCOL_VERSION,	/* u32 */
	IBGUARD_ATTR_MODE,		/* u8, enum ibguard_mode */
	IBGUARD_ATTR_GENERATION,	/* u64: policy generation, 0 before any load */
	IBGUARD_ATTR_DEFAULT_PKEY,	/* u8, enum ibguard_verdict */
	IBGUARD_ATTR_DEFAULT_ENDPORT,	/* u8, enum ibguard_verdict */
	IBGUARD_ATTR_DEFAULT_MAP,	/* u8, enum ibguard_verdict */
	IBGUARD_ATTR_OPTIONS,		/* u32, IBGUARD_OPT_* */
	IBGUARD_ATTR_RULE,		/* nest, enum ibguard_rule_attr */
	IBGUARD_ATTR_RULE_COUNT,	/* u32 */
	IBGUARD_ATTR_DRY_RUN,		/* flag */
	IBGUARD_ATTR_MEMORY,		/* u64: bytes the active policy uses */
	IBGUARD_ATTR_STAGING_MEMORY,	/* u64: bytes held by a load in progress */
	IBGUARD_ATTR_CLASS_STATS,	/* nest, enum ibguard_stats_attr */
	IBGUARD_ATTR_EVENTS_DROPPED,	/* u64 */
	IBGUARD_ATTR_HOOKS,		/* u32: bit per class whose hooks are attached */
	IBGUARD_ATTR_EVENT,		/* nest, enum ibguard_event_attr */
	IBGUARD_ATTR_RULE_STATS,	/* flag in a STATS_GET request: rule hits too */
	IBGUARD_ATTR_AVAILABLE,		/* u32: bit per class that can be enforced */
	IBGUARD_ATTR_LOCKED,		/* u8: 1 once IBGUARD_CMD_LOCK succeeded */
	IBGUARD_ATTR_NO_REVOKE,		/* flag in a COMMIT: live QPs keep going */
	IBGUARD_ATTR_AUDIT_DROPPED,	/* u64: audit records not written */
	IBGUARD_ATTR_FOLLOWED_QPS,	/* u32: live QPs a load revalidates */
	IBGUARD_ATTR_FOLLOWED_AGENTS,	/* u32: user-space SMI agents, likewise */
	__IBGUARD_ATTR_MAX,
};

#define IBGUARD_ATTR_MAX (__IBGUARD_ATTR_MAX - 1)

enum ibguard_rule_attr {
	IBGUARD_RULE_UNSPEC,
	IBGUARD_RULE_PAD,
	IBGUARD_RULE_CLASS,		/* u8, enum ibguard_class */
	IBGUARD_RULE_VERDICT,		/* u8, enum ibguard_verdict */
	IBGUARD_RULE_FLAGS,		/* u32, IBGUARD_RULE_* */
	IBGUARD_RULE_SOURCE,		/* string: the rule as written */
	IBGUARD_RULE_SUBJECT,		/* nest, enum ibguard_subject_attr; repeated */
	IBGUARD_RULE_INDEX,		/* u32: position in its class (dumps) */
	IBGUARD_RULE_HITS,		/* u64 (stats dumps) */
	/* pkey */
	IBGUARD_RULE_PKEY_LO,		/* u16 */
	IBGUARD_RULE_PKEY_HI,		/* u16 */
	IBGUARD_RULE_SUBNET,		/* u64, host order; absent: any */
	/* endport */
	IBGUARD_RULE_DEVICE,		/* string; absent: any */
	IBGUARD_RULE_PORT,		/* u32; absent: any */
	/* map */
	IBGUARD_RULE_MAP_OBJECT,	/* u8, enum ibguard_map_object */
	IBGUARD_RULE_DEV,		/* u32, path and tree */
	IBGUARD_RULE_INO,		/* u64, path and tree */
	IBGUARD_RULE_CHR_MAJOR,		/* u32 */
	IBGUARD_RULE_CHR_MINOR_LO,	/* u32 */
	IBGUARD_RULE_CHR_MINOR_HI,	/* u32 */
	IBGUARD_RULE_FSTYPE,		/* string */
	IBGUARD_RULE_PROT,		/* u32, IBGUARD_PROT_*; absent: any */
	__IBGUARD_RULE_MAX,
};

#define IBGUARD_RULE_MAX (__IBGUARD_RULE_MAX - 1)

enum ibguard_subject_attr {
	IBGUARD_SUBJ_UNSPEC,
	IBGUARD_SUBJ_PAD,
	IBGUARD_SUBJ_TYPE,		/* u8, enum ibguard_subject_type */
	IBGUARD_SUBJ_LO,		/* u32 */
	IBGUARD_SUBJ_HI,		/* u32 */
	IBGUARD_SUBJ_ID,		/* u64: cgroup id */
	IBGUARD_SUBJ_DEV,		/* u32 */
	IBGUARD_SUBJ_INO,		/* u64 */
	__IBGUARD_SUBJ_ATTR_MAX,
};

#define IBGUARD_SUBJ_ATTR_MAX (__IBGUARD_SUBJ_ATTR_MAX - 1)

enum ibguard_stats_attr {
	IBGUARD_STATS_UNSPEC,
	IBGUARD_STATS_PAD,
	IBGUARD_STATS_CLASS,		/* u8 */
	IBGUARD_STATS_CHECKED,		/* u64 */
	IBGUARD_STATS_ALLOWED,		/* u64 */
	IBGUARD_STATS_DENIED,		/* u64 */
	IBGUARD_STATS_WOULD_DENY,	/* u64: permissive mode */
	IBGUARD_STATS_RULES,		/* u32: rules of this class */
	IBGUARD_STATS_DEFAULT,		/* u8: the class default verdict */
	IBGUARD_STATS_REVOKED,		/* u64: live objects a later policy cut off */
	__IBGUARD_STATS_MAX,
};

#define IBGUARD_STATS_MAX (__IBGUARD_STATS_MAX - 1)

enum ibguard_event_type {
	IBGUARD_EVENT_DENIED,		/* a denial (or would-deny) */
	IBGUARD_EVENT_LOGGED,		/* a "log" rule decided */
	IBGUARD_EVENT_POLICY_LOADED,
	IBGUARD_EVENT_MODE_CHANGED,
	IBGUARD_EVENT_REVOKED,		/* a live QP moved to the error state */
	__IBGUARD_EVENT_MAX,
};

enum ibguard_event_attr {
	IBGUARD_EVENT_UNSPEC,
	IBGUARD_EVENT_PAD,
	IBGUARD_EVENT_TYPE,		/* u8, enum ibguard_event_type */
	IBGUARD_EVENT_CLASS,		/* u8 */
	IBGUARD_EVENT_VERDICT,		/* u8 */
	IBGUARD_EVENT_PERMISSIVE,	/* flag: not enforced */
	IBGUARD_EVENT_RULE,		/* u32: deciding rule's index; absent: default */
	IBGUARD_EVENT_PID,		/* u32 */
	IBGUARD_EVENT_COMM,		/* string */
	IBGUARD_EVENT_UID,		/* u32 */
	IBGUARD_EVENT_GID,		/* u32 */
	IBGUARD_EVENT_GENERATION,	/* u64 */
	IBGUARD_EVENT_MODE,		/* u8 */
	IBGUARD_EVENT_DEV,		/* u32: map object */
	IBGUARD_EVENT_INO,		/* u64 */
	IBGUARD_EVENT_PROT,		/* u32, IBGUARD_PROT_* */
	IBGUARD_EVENT_SHARED,		/* flag */
	IBGUARD_EVENT_OPERATION,	/* string: "mmap", "mprotect", ... */
	IBGUARD_EVENT_PATH,		/* string, when cheaply known */
	IBGUARD_EVENT_DROPPED,		/* u64: events dropped before this one */
	IBGUARD_EVENT_PKEY,		/* u16: pkey object */
	IBGUARD_EVENT_SUBNET,		/* u64: pkey object's subnet prefix */
	IBGUARD_EVENT_DEVICE,		/* string: pkey and endport objects */
	IBGUARD_EVENT_PORT,		/* u32 */
	IBGUARD_EVENT_QP_NUM,		/* u32: the revoked QP */
	IBGUARD_EVENT_CGROUP,		/* u64: the subject's cgroup v2 id */
	IBGUARD_EVENT_EXE_DEV,		/* u32: its executable's filesystem */
	IBGUARD_EVENT_EXE_INO,		/* u64: its executable; absent: none */
	__IBGUARD_EVENT_ATTR_MAX,
};

#define IBGUARD_EVENT_ATTR_MAX (__IBGUARD_EVENT_ATTR_MAX - 1)

/*
 * Kernel audit record types. Decisions have a type of their own in the
 * range the kernel gives to MAC modules (1400-1499), above the ones
 * upstream modules use; policy loads and mode changes use the types SELinux
 * uses for the same facts, with lsm=ibguard.
 */
#define IBGUARD_AUDIT_DECISION		1490
#define IBGUARD_AUDIT_POLICY_LOAD	1403	/* AUDIT_MAC_POLICY_LOAD */
#define IBGUARD_AUDIT_STATUS		1404	/* AUDIT_MAC_STATUS */

#endif /* _UAPI_LINUX_IBGUARD_H */
