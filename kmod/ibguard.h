/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ibguard internals shared by the module's files.
 */
#ifndef IBGUARD_H
#define IBGUARD_H

#include <linux/types.h>
#include <linux/rcupdate.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <uapi/linux/ibguard.h>

#define IBGUARD_VERSION "0.1.0"

struct cgroup;
struct genl_info;
struct netlink_ext_ack;
struct nlattr;
struct path;
struct sk_buff;

/* One subject condition of a rule; a rule's subjects must all match. */
struct ibguard_subject {
	u8 type;		/* enum ibguard_subject_type */
	u32 lo, hi;		/* uid, gid */
	u32 dev;		/* exe */
	u64 ino;		/* exe */
	struct cgroup *cgrp;	/* cgroup: a reference held by the rule */
	u64 cgroup_id;
};

struct ibguard_rule {
	u32 index;		/* position in the policy, 0-based */
	u8 cls;			/* enum ibguard_class */
	u8 verdict;		/* enum ibguard_verdict */
	u32 flags;		/* IBGUARD_RULE_* */
	u32 nr_subjects;
	struct ibguard_subject *subjects;
	char *source;
	union {
		struct {
			u16 lo, hi;
			bool any_subnet;
			u64 subnet;
		} pkey;
		struct {
			char *device;	/* NULL: any */
			u32 port;	/* 0: any */
		} endport;
		struct {
			u8 object;	/* enum ibguard_map_object */
			u32 prot;	/* IBGUARD_PROT_*; 0: any */
			u32 dev;
			u64 ino;
			u32 major, minor_lo, minor_hi;
			char *fstype;
		} map;
	};
};

/* rule.c: netlink attributes <-> struct ibguard_rule */
int ibguard_rule_parse(struct ibguard_rule *rule, const struct nlattr *nest,
		       struct netlink_ext_ack *extack);
void ibguard_rule_release(struct ibguard_rule *rule);
int ibguard_rule_fill(struct sk_buff *msg, const struct ibguard_rule *rule);
size_t ibguard_rule_memory(const struct ibguard_rule *rule);

/*
 * Who set up a live object, kept so that a later policy is decided against
 * that task, as the hooks decided at the time.
 */
struct ibguard_identity {
	const struct cred *cred;
	struct cgroup *cgrp;	/* NULL: none could be taken */
	u32 exe_dev;
	u64 exe_ino;		/* 0: no executable (kernel thread) */
	bool kthread;
	u32 pid;
	u32 auid;		/* audit login uid */
	char comm[16];
};

/* What a report says of a subject beyond its credentials. */
struct ibguard_subject_ids {
	u64 cgroup_id;		/* cgroup v2; 0: none */
	u32 exe_dev;		/* kernel encoding */
	u64 exe_ino;		/* 0: no executable */
};

/*
 * subject.c: does the current task (who == NULL) or a recorded one match
 * every subject of a rule?
 */
bool ibguard_subjects_match(const struct ibguard_rule *rule,
			    const struct ibguard_identity *who);
void ibguard_identity_get(struct ibguard_identity *who);
void ibguard_identity_of(struct ibguard_identity *who, struct task_struct *task);
void ibguard_identity_put(struct ibguard_identity *who);
void ibguard_subject_ids(const struct ibguard_identity *who,
			 struct ibguard_subject_ids *ids);

#include "index.h"

/* Per-CPU rule hit counters live in chunks: one alloc_percpu stays small. */
#define IBGUARD_HITS_PER_CHUNK 2048

/*
 * A compiled policy. Immutable once published: decisions read it under RCU
 * and a load replaces it as a whole.
 */
struct ibguard_policy {
	struct rcu_head rcu;
	u64 generation;
	u8 defaults[IBGUARD_NR_CLASSES];
	u32 options;
	u32 nr_rules;
	u32 class_rules[IBGUARD_NR_CLASSES];
	struct ibguard_rule *rules;
	size_t memory;

	/* map class indexes */
	struct ibguard_inode_index map_path, map_tree;
	struct ibguard_u32_key *map_chr;	/* key: major */
	struct ibguard_u32_key *map_fs;		/* key: hash of the type name */
	u32 nr_map_chr, nr_map_fs;

	/* pkey: segment tree entries; endport: by (device, port) hash */
	struct ibguard_u32_key *pkey_index, *endport_index;
	u32 nr_pkey_index, nr_endport_index;
	u32 pkey_level_bounds[IBGUARD_PKEY_TREE_DEPTH + 1];

	u64 __percpu **hits;	/* nr_rules counters in chunks */
	u32 nr_hit_chunks;
};

/* A policy being assembled by POLICY_BEGIN/ADD; see netlink.c. */
struct ibguard_staging {
	u8 defaults[IBGUARD_NR_CLASSES];
	u32 options;
	bool set_mode;
	u8 mode;
	u32 nr_rules, capacity;
	struct ibguard_rule *rules;
	size_t memory;
};

/* policy.c */
struct ibguard_policy *ibguard_policy_build(struct ibguard_staging *staging,
					    struct netlink_ext_ack *extack);
void ibguard_policy_free(struct ibguard_policy *policy);
void ibguard_staging_release(struct ibguard_staging *staging);
const struct ibguard_rule *ibguard_map_first_match(const struct ibguard_policy *p,
						   const struct path *path,
						   u32 prot, bool shared);
const struct ibguard_rule *ibguard_pkey_first_match(const struct ibguard_policy *p,
						    u16 pkey, u64 subnet,
						    const struct ibguard_identity *who);
const struct ibguard_rule *ibguard_endport_first_match(const struct ibguard_policy *p,
						       const char *device,
						       u32 port,
						       const struct ibguard_identity *who);
u64 ibguard_policy_rule_hits(const struct ibguard_policy *p, u32 rule);
void ibguard_policy_reset_hits(struct ibguard_policy *p);

/* main.c: the active policy and the mode */
extern struct ibguard_policy __rcu *ibguard_active_policy;
extern struct mutex ibguard_lock;
int ibguard_check_alive(void);
enum ibguard_mode ibguard_mode(void);
int ibguard_mode_allowed(enum ibguard_mode mode, struct netlink_ext_ack *extack);
int ibguard_set_mode(enum ibguard_mode mode, struct netlink_ext_ack *extack);
int ibguard_lock_enforcement(struct netlink_ext_ack *extack);
bool ibguard_locked(void);
int ibguard_policy_allowed_when_locked(const struct ibguard_policy *p,
				       struct netlink_ext_ack *extack);
u64 ibguard_generation(void);
int ibguard_policy_install(struct ibguard_policy *policy,
			   struct netlink_ext_ack *extack);
void ibguard_revalidate_live(void);
u32 ibguard_hooks_attached(void);
u32 ibguard_classes_available(void);
bool ibguard_live_followed(u32 *qps, u32 *agents);

/* stats.c */
enum ibguard_counter {
	IBGUARD_CHECKED,
	IBGUARD_ALLOWED,
	IBGUARD_DENIED,
	IBGUARD_WOULD_DENY,
	IBGUARD_REVOKED,
	IBGUARD_NR_COUNTERS,
};

struct ibguard_class_counters {
	u64 count[IBGUARD_NR_CLASSES][IBGUARD_NR_COUNTERS];
};

/* Not exported: decisions are counted in ibguard.ko only (decision.c). */
extern struct ibguard_class_counters __percpu *ibguard_counters;

/* Inline: every decision counts, and a call is a good part of its cost. */
static inline void ibguard_stats_count(enum ibguard_class cls,
				       enum ibguard_counter counter)
{
	this_cpu_inc(ibguard_counters->count[cls][counter]);
}

int ibguard_stats_init(void);
void ibguard_stats_exit(void);
u64 ibguard_stats_read(enum ibguard_class cls, enum ibguard_counter counter);
void ibguard_stats_reset(void);

/* events.c */
struct ibguard_decision {
	u8 cls;
	u8 verdict;
	bool permissive;
	bool logged;		/* decided by a "log" rule */
	s32 rule;		/* -1: the class default */
	u64 generation;		/* of the deciding policy */
	const char *operation;
	/* map: the path user space named (ibguard_file_user_path()) */
	const struct path *path;
	u32 prot;
	bool shared;
	/* pkey, endport */
	const char *device;
	u32 port;
	u16 pkey;
	u64 subnet;
	/* revocations: the QP and who set it up (not the current task) */
	bool revoked;
	u32 qp_num;
	const struct ibguard_identity *who;
};

int ibguard_events_init(void);
void ibguard_events_exit(void);
void ibguard_event_decision(const struct ibguard_decision *decision);
const char *ibguard_class_name(u8 cls);
void ibguard_event_policy(enum ibguard_event_type type, u64 generation, u8 mode);
u64 ibguard_events_dropped(void);

/* audit.c */
/* Room for a string from a char[n] once ibguard_format_untrusted() wrote it. */
#define IBGUARD_UNTRUSTED_SIZE(n) (2 * (n) + 1)
char *ibguard_format_untrusted(char *buf, size_t size, const char *value);
void ibguard_audit_decision(const struct ibguard_decision *d);
void ibguard_audit_policy_load(const struct ibguard_policy *p,
			       enum ibguard_mode mode, bool revoke);
void ibguard_audit_mode(enum ibguard_mode old_mode, enum ibguard_mode mode,
			u64 generation);
void ibguard_audit_lock(enum ibguard_mode mode, u64 generation);
u64 ibguard_audit_dropped(void);

/* netlink.c */
int ibguard_netlink_init(void);
void ibguard_netlink_exit(void);
size_t ibguard_staging_memory(void);
int ibguard_netlink_multicast(struct sk_buff *msg, gfp_t gfp);
void *ibguard_netlink_put_event(struct sk_buff *msg);

/*
 * main.c: the InfiniBand classes live in ibguard_ib.ko, which hands its
 * attach and detach here so that its hooks follow the policy like map's.
 */
struct ibguard_hook_ops {
	struct module *owner;
	int (*attach)(void);
	void (*detach)(void);
	/* a new policy is active: re-decide live objects (must not block) */
	void (*revalidate)(void);
	/* how many QPs and user-space SMI agents revalidation would reach */
	void (*followed)(u32 *qps, u32 *agents);
};

int ibguard_register_ib_hooks(const struct ibguard_hook_ops *ops);
void ibguard_unregister_ib_hooks(const struct ibguard_hook_ops *ops);

/* decision.c */
static inline void ibguard_policy_count_hit(const struct ibguard_policy *p,
					    u32 rule)
{
	if (WARN_ON_ONCE(rule >= p->nr_rules))
		return;
	this_cpu_inc(*(p->hits[rule / IBGUARD_HITS_PER_CHUNK] +
		       rule % IBGUARD_HITS_PER_CHUNK));
}

/*
 * Most decisions are allows that nothing reports. A hook may take this
 * inline path first and build a struct ibguard_decision for
 * ibguard_conclude() only when it returns false; ibguard_conclude() starts
 * with it too. Counts the decision when it returns true. ibguard.ko only.
 */
static inline bool ibguard_allow_quietly(const struct ibguard_policy *p,
					 const struct ibguard_rule *rule,
					 enum ibguard_class cls)
{
	u8 verdict = rule ? rule->verdict : p->defaults[cls];

	if (verdict != IBGUARD_VERDICT_ALLOW ||
	    (rule && (rule->flags & IBGUARD_RULE_LOG)))
		return false;
	ibguard_stats_count(cls, IBGUARD_CHECKED);
	ibguard_stats_count(cls, IBGUARD_ALLOWED);
	if (rule)
		ibguard_policy_count_hit(p, rule->index);
	return true;
}

bool ibguard_conclude(const struct ibguard_policy *p,
		      const struct ibguard_rule *rule,
		      struct ibguard_decision *d);
bool ibguard_revalidate(const struct ibguard_policy *p,
			const struct ibguard_rule *rule, bool unresolvable,
			struct ibguard_decision *d);
void ibguard_revoked(struct ibguard_decision *d);

/* hook_map.c; attach and detach with the policy lock held */
int ibguard_map_attach(void);
void ibguard_map_detach(void);
bool ibguard_map_is_attached(void);
void ibguard_map_exit(void);
int ibguard_map_probe(const char **missing);

/* attach.c: deny-before-call through ftrace */
struct ftrace_ops;
struct pt_regs;
int ibguard_attach(struct ftrace_ops *ops, const char *const *names,
		   unsigned int nr_names);
int ibguard_attach_probe(const char *const *names, unsigned int nr_names,
			 const char **missing);
void ibguard_detach(struct ftrace_ops *ops);
void ibguard_deny_call(struct pt_regs *regs);
void ibguard_attach_exit(void);

#endif /* IBGUARD_H */
