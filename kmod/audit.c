// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel audit records, for administrators who read denials with ausearch
 * and aureport: one record per reported decision (denials, would-denials,
 * "log" rule hits, revocations), one per policy load and per mode change.
 *
 * A decision is recorded from the hook, in the deciding task's context, so
 * that the record joins that task's syscall event as an SELinux AVC record
 * does; nothing here sleeps. Records follow the netlink events' rate limit
 * and what is not written is counted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/audit.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include "ibguard.h"

static atomic64_t audit_dropped = ATOMIC64_INIT(0);
static DEFINE_RATELIMIT_STATE(audit_rs, HZ, 200);

static const char *verdict_name(u8 verdict)
{
	return verdict == IBGUARD_VERDICT_DENY ? "deny" : "allow";
}

static const char *mode_name(enum ibguard_mode mode)
{
	return mode == IBGUARD_MODE_PERMISSIVE ? "permissive" : "enforcing";
}

/*
 * Strings a user controls (comm, paths, device names) in audit records and
 * kernel log lines, written the audit way (what audit_log_untrustedstring()
 * does; it is not exported to modules): in double quotes when that is
 * unambiguous, else every byte in upper-case hex, so that a blank, a quote
 * or a newline in the string can neither add a field nor start a line.
 */
static bool untrusted_needs_hex(const char *value)
{
	const unsigned char *c;

	for (c = (const unsigned char *)value; *c; c++)
		if (*c == '"' || *c < 0x21 || *c > 0x7e)
			return true;
	return false;
}

/*
 * Hex of value's bytes into buf, as many as fit with the terminating NUL.
 * Returns how many bytes of value it encoded.
 */
static size_t untrusted_hex(char *buf, size_t size, const char *value)
{
	size_t n = 0;

	for (; value[n] && 2 * n + 2 < size; n++) {
		buf[2 * n] = hex_asc_upper_hi((u8)value[n]);
		buf[2 * n + 1] = hex_asc_upper_lo((u8)value[n]);
	}
	buf[2 * n] = '\0';
	return n;
}

/*
 * value, written as above, into buf of size bytes: IBGUARD_UNTRUSTED_SIZE()
 * of value's array holds it whole. A string too long for buf is cut (hex
 * stays whole bytes; a quoted one loses its closing quote). Returns buf.
 */
char *ibguard_format_untrusted(char *buf, size_t size, const char *value)
{
	if (WARN_ON_ONCE(size < 3)) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	if (untrusted_needs_hex(value))
		untrusted_hex(buf, size, value);
	else
		snprintf(buf, size, "\"%s\"", value);
	return buf;
}

static void log_untrusted(struct audit_buffer *ab, const char *key,
			  const char *value)
{
	char hex[65];

	if (!untrusted_needs_hex(value)) {
		audit_log_format(ab, " %s=\"%s\"", key, value);
		return;
	}
	/* A path may be PATH_MAX long: in pieces, with no allocation. */
	audit_log_format(ab, " %s=", key);
	while (*value) {
		value += untrusted_hex(hex, sizeof(hex), value);
		audit_log_format(ab, "%s", hex);
	}
}

static void log_prot(struct audit_buffer *ab, u32 prot)
{
	audit_log_format(ab, " prot=%s%s%s%s",
			 prot & IBGUARD_PROT_READ ? "r" : "",
			 prot & IBGUARD_PROT_WRITE ? "w" : "",
			 prot & IBGUARD_PROT_EXEC ? "x" : "",
			 prot & IBGUARD_PROT_ALL ? "" : "-");
}

static void log_map_object(struct audit_buffer *ab,
			   const struct ibguard_decision *d)
{
	const struct inode *inode = d_inode(d->path->dentry);
	char *buf, *path;

	audit_log_format(ab, " dev=%u:%u ino=%lu",
			 MAJOR(inode->i_sb->s_dev), MINOR(inode->i_sb->s_dev),
			 inode->i_ino);
	if (S_ISCHR(inode->i_mode))
		audit_log_format(ab, " rdev=%u:%u", MAJOR(inode->i_rdev),
				 MINOR(inode->i_rdev));
	/* d_path() neither sleeps nor allocates; the buffer may fail. */
	buf = kmalloc(PATH_MAX, GFP_ATOMIC);
	if (buf) {
		path = d_path(d->path, buf, PATH_MAX);
		if (!IS_ERR(path))
			log_untrusted(ab, "path", path);
		kfree(buf);
	}
	log_prot(ab, d->prot);
	audit_log_format(ab, " shared=%u", d->shared);
}

static void log_object(struct audit_buffer *ab,
		       const struct ibguard_decision *d)
{
	if (d->cls == IBGUARD_CLASS_MAP) {
		log_map_object(ab, d);
		return;
	}
	log_untrusted(ab, "device", d->device ?: "");
	audit_log_format(ab, " port=%u", d->port);
	if (d->cls == IBGUARD_CLASS_PKEY)
		audit_log_format(ab, " pkey=0x%04x subnet=%04x:%04x:%04x:%04x",
				 d->pkey, (u16)(d->subnet >> 48),
				 (u16)(d->subnet >> 32), (u16)(d->subnet >> 16),
				 (u16)d->subnet);
	if (d->revoked)
		audit_log_format(ab, " qp=%u", d->qp_num);
}

#define AUDIT_MAX_GROUPS 32

/*
 * What group, cgroup and exe subjects match on, beyond audit's own task
 * fields: the supplementary groups (the first AUDIT_MAX_GROUPS, then
 * "..."), the cgroup v2 id and the executable's inode.
 */
static void log_match_ids(struct audit_buffer *ab, const struct cred *cred,
			  const struct ibguard_identity *who)
{
	const struct group_info *groups = cred->group_info;
	struct ibguard_subject_ids ids;
	int i;

	audit_log_format(ab, " groups=");
	if (!groups->ngroups)
		audit_log_format(ab, "(none)");
	for (i = 0; i < groups->ngroups && i < AUDIT_MAX_GROUPS; i++)
		audit_log_format(ab, "%s%u", i ? "," : "",
				 from_kgid(&init_user_ns, groups->gid[i]));
	if (groups->ngroups > AUDIT_MAX_GROUPS)
		audit_log_format(ab, ",...");
	ibguard_subject_ids(who, &ids);
	audit_log_format(ab, " cgroup=%llu exe_dev=%u:%u exe_ino=%llu",
			 ids.cgroup_id, MAJOR(ids.exe_dev), MINOR(ids.exe_dev),
			 ids.exe_ino);
}

/* The deciding task. */
static void log_current(struct audit_buffer *ab)
{
	audit_log_task_info(ab);
	log_match_ids(ab, current_cred(), NULL);
}

/* A revocation: the task that set the object up, as it was recorded. */
static void log_recorded(struct audit_buffer *ab,
			 const struct ibguard_identity *who)
{
	audit_log_format(ab, " pid=%u auid=%u uid=%u gid=%u euid=%u egid=%u",
			 who->pid, who->auid,
			 from_kuid(&init_user_ns, who->cred->uid),
			 from_kgid(&init_user_ns, who->cred->gid),
			 from_kuid(&init_user_ns, who->cred->euid),
			 from_kgid(&init_user_ns, who->cred->egid));
	log_untrusted(ab, "comm", who->comm);
	log_match_ids(ab, who->cred, who);
}

/* Called from hooks and from revalidation, under rcu_read_lock(). */
void ibguard_audit_decision(const struct ibguard_decision *d)
{
	struct audit_buffer *ab;
	bool denied;

	if (audit_enabled == AUDIT_OFF)
		return;
	if (!__ratelimit(&audit_rs)) {
		atomic64_inc(&audit_dropped);
		return;
	}
	ab = audit_log_start(d->who ? NULL : audit_context(), GFP_ATOMIC,
			     IBGUARD_AUDIT_DECISION);
	if (!ab) {
		atomic64_inc(&audit_dropped);
		return;
	}
	denied = d->verdict == IBGUARD_VERDICT_DENY && !d->permissive;
	audit_log_format(ab, "lsm=ibguard class=%s op=%s verdict=%s permissive=%u revoked=%u",
			 ibguard_class_name(d->cls), d->operation,
			 verdict_name(d->verdict), d->permissive, d->revoked);
	if (d->rule >= 0)
		audit_log_format(ab, " rule=%d", d->rule + 1);
	else
		audit_log_format(ab, " rule=default");
	audit_log_format(ab, " generation=%llu", d->generation);
	log_object(ab, d);
	if (d->who)
		log_recorded(ab, d->who);
	else
		log_current(ab);
	audit_log_format(ab, " res=%u", !denied);
	audit_log_end(ab);
}

u64 ibguard_audit_dropped(void)
{
	return atomic64_read(&audit_dropped);
}

static u32 current_auid(void)
{
	return from_kuid(&init_user_ns, audit_get_loginuid(current));
}

/* The current task's comm for a kernel log line, written as above. */
#define COMM_TEXT_SIZE IBGUARD_UNTRUSTED_SIZE(TASK_COMM_LEN)
static const char *current_comm_text(char buf[COMM_TEXT_SIZE])
{
	char comm[TASK_COMM_LEN];

	get_task_comm(comm, current);
	return ibguard_format_untrusted(buf, COMM_TEXT_SIZE, comm);
}

/* A load has been committed: p is active, mode the mode it runs in. */
void ibguard_audit_policy_load(const struct ibguard_policy *p,
			       enum ibguard_mode mode, bool revoke)
{
	const u8 *def = p->defaults;
	const u32 *n = p->class_rules;
	bool roce = p->options & IBGUARD_OPT_PKEY_ON_ROCE;
	char comm[COMM_TEXT_SIZE];
	struct audit_buffer *ab;

	pr_info("policy generation %llu loaded by pid %d (%s, auid %u): %u pkey, %u endport, %u map rules; defaults pkey %s, endport %s, map %s; options %s; mode %s%s\n",
		p->generation, task_tgid_nr(current), current_comm_text(comm),
		current_auid(), n[IBGUARD_CLASS_PKEY], n[IBGUARD_CLASS_ENDPORT],
		n[IBGUARD_CLASS_MAP], verdict_name(def[IBGUARD_CLASS_PKEY]),
		verdict_name(def[IBGUARD_CLASS_ENDPORT]),
		verdict_name(def[IBGUARD_CLASS_MAP]),
		roce ? "pkey-on-roce" : "none", mode_name(mode),
		revoke ? "" : "; live objects not revalidated");
	if (audit_enabled == AUDIT_OFF)
		return;
	ab = audit_log_start(audit_context(), GFP_KERNEL,
			     IBGUARD_AUDIT_POLICY_LOAD);
	if (!ab) {
		atomic64_inc(&audit_dropped);
		return;
	}
	audit_log_format(ab,
			 "lsm=ibguard op=load generation=%llu mode=%s rules=%u pkey_rules=%u endport_rules=%u map_rules=%u",
			 p->generation, mode_name(mode), p->nr_rules,
			 n[IBGUARD_CLASS_PKEY], n[IBGUARD_CLASS_ENDPORT],
			 n[IBGUARD_CLASS_MAP]);
	audit_log_format(ab,
			 " default_pkey=%s default_endport=%s default_map=%s pkey_on_roce=%u revoke=%u",
			 verdict_name(def[IBGUARD_CLASS_PKEY]),
			 verdict_name(def[IBGUARD_CLASS_ENDPORT]),
			 verdict_name(def[IBGUARD_CLASS_MAP]), roce, revoke);
	audit_log_task_info(ab);
	audit_log_format(ab, " res=1");
	audit_log_end(ab);
}

static void status_record(const char *op, enum ibguard_mode old_mode,
			  enum ibguard_mode mode, u64 generation)
{
	struct audit_buffer *ab;

	if (audit_enabled == AUDIT_OFF)
		return;
	ab = audit_log_start(audit_context(), GFP_KERNEL, IBGUARD_AUDIT_STATUS);
	if (!ab) {
		atomic64_inc(&audit_dropped);
		return;
	}
	audit_log_format(ab, "lsm=ibguard op=%s mode=%s old_mode=%s locked=%u generation=%llu",
			 op, mode_name(mode), mode_name(old_mode),
			 ibguard_locked(), generation);
	audit_log_task_info(ab);
	audit_log_format(ab, " res=1");
	audit_log_end(ab);
}

void ibguard_audit_mode(enum ibguard_mode old_mode, enum ibguard_mode mode,
			u64 generation)
{
	char comm[COMM_TEXT_SIZE];

	pr_info("mode set to %s (was %s) by pid %d (%s, auid %u), policy generation %llu\n",
		mode_name(mode), mode_name(old_mode), task_tgid_nr(current),
		current_comm_text(comm), current_auid(), generation);
	status_record("mode", old_mode, mode, generation);
}

void ibguard_audit_lock(enum ibguard_mode mode, u64 generation)
{
	char comm[COMM_TEXT_SIZE];

	pr_notice("locked by pid %d (%s, auid %u): rmmod, permissive mode, flush and policies that can deny nothing are refused until reboot\n",
		  task_tgid_nr(current), current_comm_text(comm), current_auid());
	status_record("lock", mode, mode, generation);
}
