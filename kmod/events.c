// SPDX-License-Identifier: GPL-2.0
/*
 * Decision events: hooks record denials (and "log" rule hits) into a small
 * ring without blocking or allocating; a work item turns them into netlink
 * multicast messages on the "events" group and compact kernel log lines.
 * Both are rate-limited; what does not fit is counted as dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include "ibguard.h"

#define EVENT_RING_SIZE	256
#define EVENT_PATH_LEN	256
#define EVENT_OPERATION_LEN 24

/*
 * What the work item reports after the hook returned. It holds values
 * only: the decision's pointers are cleared and what they name is copied.
 * The InfiniBand classes' operation names are string literals of
 * ibguard_ib.ko, and their devices belong to ib_core: either may be gone
 * by the time the work runs.
 */
struct event_record {
	struct ibguard_decision d;	/* its pointers are NULL */
	u32 pid, uid, gid;
	struct ibguard_subject_ids ids;
	char comm[TASK_COMM_LEN];
	char operation[EVENT_OPERATION_LEN];
	u32 dev;
	u64 ino;
	char path[EVENT_PATH_LEN];
	char device[IBGUARD_DEVICE_NAME_LEN];
};

static struct event_record *ring;
static unsigned int ring_head, ring_len;
static DEFINE_SPINLOCK(ring_lock);
static atomic64_t dropped = ATOMIC64_INIT(0);
/* Up to 200 events a second reach listeners; bursts beyond are dropped. */
static DEFINE_RATELIMIT_STATE(event_rs, HZ, 200);

static void events_work_fn(struct work_struct *work);
static DECLARE_WORK(events_work, events_work_fn);

const char *ibguard_class_name(u8 cls)
{
	static const char *const names[] = {
		[IBGUARD_CLASS_PKEY] = "pkey",
		[IBGUARD_CLASS_ENDPORT] = "endport",
		[IBGUARD_CLASS_MAP] = "map",
	};

	return cls < ARRAY_SIZE(names) ? names[cls] : "?";
}

static void fill_record(struct event_record *rec,
			const struct ibguard_decision *d)
{
	const struct cred *cred = d->who ? d->who->cred : current_cred();
	char *path;

	rec->d = *d;
	rec->d.operation = NULL;
	rec->d.path = NULL;
	rec->d.device = NULL;
	rec->d.who = NULL;
	strscpy(rec->operation, d->operation, sizeof(rec->operation));
	strscpy(rec->device, d->device ?: "", sizeof(rec->device));
	rec->uid = from_kuid(&init_user_ns, cred->euid);
	rec->gid = from_kgid(&init_user_ns, cred->egid);
	ibguard_subject_ids(d->who, &rec->ids);
	if (d->who) {
		/* A revocation: the task that set the object up. */
		rec->pid = d->who->pid;
		strscpy(rec->comm, d->who->comm, sizeof(rec->comm));
	} else {
		rec->pid = task_tgid_nr(current);
		get_task_comm(rec->comm, current);
	}
	rec->path[0] = '\0';
	if (d->path) {
		const struct inode *inode = d_inode(d->path->dentry);

		rec->dev = inode->i_sb->s_dev;
		rec->ino = inode->i_ino;
		/* d_path() neither sleeps nor allocates. */
		path = d_path(d->path, rec->path, sizeof(rec->path));
		if (IS_ERR(path))
			rec->path[0] = '\0';
		else
			memmove(rec->path, path, strlen(path) + 1);
	}
}

/* Called from hooks: never sleeps, never allocates. */
void ibguard_event_decision(const struct ibguard_decision *d)
{
	unsigned long flags;

	if (!__ratelimit(&event_rs)) {
		atomic64_inc(&dropped);
		return;
	}
	spin_lock_irqsave(&ring_lock, flags);
	if (ring_len == EVENT_RING_SIZE) {
		spin_unlock_irqrestore(&ring_lock, flags);
		atomic64_inc(&dropped);
		return;
	}
	fill_record(&ring[(ring_head + ring_len) % EVENT_RING_SIZE], d);
	ring_len++;
	spin_unlock_irqrestore(&ring_lock, flags);
	schedule_work(&events_work);
}

u64 ibguard_events_dropped(void)
{
	return atomic64_read(&dropped);
}

static int put_decision(struct sk_buff *msg, const struct event_record *rec)
{
	const struct ibguard_decision *d = &rec->d;
	u8 type = d->revoked ? IBGUARD_EVENT_REVOKED :
		  d->verdict == IBGUARD_VERDICT_DENY ? IBGUARD_EVENT_DENIED :
		  IBGUARD_EVENT_LOGGED;

	if (nla_put_u8(msg, IBGUARD_EVENT_TYPE, type) ||
	    nla_put_u8(msg, IBGUARD_EVENT_CLASS, d->cls) ||
	    nla_put_u8(msg, IBGUARD_EVENT_VERDICT, d->verdict) ||
	    (d->permissive && nla_put_flag(msg, IBGUARD_EVENT_PERMISSIVE)) ||
	    (d->rule >= 0 && nla_put_u32(msg, IBGUARD_EVENT_RULE, d->rule)) ||
	    nla_put_u32(msg, IBGUARD_EVENT_PID, rec->pid) ||
	    nla_put_string(msg, IBGUARD_EVENT_COMM, rec->comm) ||
	    nla_put_u32(msg, IBGUARD_EVENT_UID, rec->uid) ||
	    nla_put_u32(msg, IBGUARD_EVENT_GID, rec->gid) ||
	    nla_put_u64_64bit(msg, IBGUARD_EVENT_CGROUP, rec->ids.cgroup_id,
			      IBGUARD_EVENT_PAD) ||
	    (rec->ids.exe_ino &&
	     (nla_put_u32(msg, IBGUARD_EVENT_EXE_DEV, rec->ids.exe_dev) ||
	      nla_put_u64_64bit(msg, IBGUARD_EVENT_EXE_INO, rec->ids.exe_ino,
				IBGUARD_EVENT_PAD))) ||
	    nla_put_u64_64bit(msg, IBGUARD_EVENT_GENERATION, d->generation,
			      IBGUARD_EVENT_PAD) ||
	    nla_put_string(msg, IBGUARD_EVENT_OPERATION, rec->operation) ||
	    nla_put_u64_64bit(msg, IBGUARD_EVENT_DROPPED,
			      atomic64_read(&dropped), IBGUARD_EVENT_PAD))
		return -EMSGSIZE;
	if (d->cls == IBGUARD_CLASS_MAP &&
	    (nla_put_u32(msg, IBGUARD_EVENT_DEV, rec->dev) ||
	     nla_put_u64_64bit(msg, IBGUARD_EVENT_INO, rec->ino,
			       IBGUARD_EVENT_PAD) ||
	     nla_put_u32(msg, IBGUARD_EVENT_PROT, d->prot) ||
	     (d->shared && nla_put_flag(msg, IBGUARD_EVENT_SHARED)) ||
	     (rec->path[0] &&
	      nla_put_string(msg, IBGUARD_EVENT_PATH, rec->path))))
		return -EMSGSIZE;
	if (d->cls != IBGUARD_CLASS_MAP &&
	    (nla_put_string(msg, IBGUARD_EVENT_DEVICE, rec->device) ||
	     nla_put_u32(msg, IBGUARD_EVENT_PORT, d->port)))
		return -EMSGSIZE;
	if (d->revoked && nla_put_u32(msg, IBGUARD_EVENT_QP_NUM, d->qp_num))
		return -EMSGSIZE;
	if (d->cls == IBGUARD_CLASS_PKEY &&
	    (nla_put_u16(msg, IBGUARD_EVENT_PKEY, d->pkey) ||
	     nla_put_u64_64bit(msg, IBGUARD_EVENT_SUBNET, d->subnet,
			       IBGUARD_EVENT_PAD)))
		return -EMSGSIZE;
	return 0;
}

typedef int (*event_filler)(struct sk_buff *msg, const void *data);

static void send_event(event_filler fill, const void *data)
{
	struct sk_buff *msg;
	struct nlattr *nest;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto drop;
	hdr = ibguard_netlink_put_event(msg);
	if (!hdr)
		goto free;
	nest = nla_nest_start(msg, IBGUARD_ATTR_EVENT);
	if (!nest || fill(msg, data))
		goto free;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	/* -ESRCH only means nobody listens. */
	ibguard_netlink_multicast(msg, GFP_KERNEL);
	return;
free:
	nlmsg_free(msg);
drop:
	atomic64_inc(&dropped);
}

static int fill_decision(struct sk_buff *msg, const void *data)
{
	return put_decision(msg, data);
}

/* A record's strings that a user controls, escaped for the kernel log. */
struct event_log_strings {
	char comm[IBGUARD_UNTRUSTED_SIZE(TASK_COMM_LEN)];
	char path[IBGUARD_UNTRUSTED_SIZE(EVENT_PATH_LEN)];
	char device[IBGUARD_UNTRUSTED_SIZE(IBGUARD_DEVICE_NAME_LEN)];
};

/*
 * One line, so comm, path and device are written as in audit records
 * (ibguard_format_untrusted()): a comm set to "x uid=0" or a file name
 * with a newline must not add a field or forge a line.
 */
static void log_decision(const struct event_record *rec,
			 struct event_log_strings *s)
{
	const struct ibguard_decision *d = &rec->d;
	const char *what = d->revoked ? "revoked" :
			   d->verdict == IBGUARD_VERDICT_ALLOW ? "allowed" :
			   d->permissive ? "would deny" : "denied";
	char rule[16] = "default";

	if (d->rule >= 0)
		snprintf(rule, sizeof(rule), "rule %d", d->rule + 1);
	ibguard_format_untrusted(s->comm, sizeof(s->comm), rec->comm);
	if (!rec->path[0])
		strscpy(s->path, "?", sizeof(s->path));
	else
		ibguard_format_untrusted(s->path, sizeof(s->path), rec->path);
	ibguard_format_untrusted(s->device, sizeof(s->device), rec->device);
	if (d->cls == IBGUARD_CLASS_MAP)
		pr_notice_ratelimited("%s %s %s by %s: pid=%u comm=%s uid=%u gid=%u dev=%u:%u ino=%llu prot=%s%s%s%s path=%s\n",
				      what, ibguard_class_name(d->cls), rec->operation,
				      rule, rec->pid, s->comm, rec->uid,
				      rec->gid, MAJOR(rec->dev), MINOR(rec->dev),
				      rec->ino,
				      d->prot & IBGUARD_PROT_READ ? "r" : "",
				      d->prot & IBGUARD_PROT_WRITE ? "w" : "",
				      d->prot & IBGUARD_PROT_EXEC ? "x" : "",
				      d->shared ? " shared" : "",
				      s->path);
	else if (d->cls == IBGUARD_CLASS_PKEY && d->revoked)
		pr_notice_ratelimited("%s %s %s by %s: qp=%u pid=%u comm=%s uid=%u gid=%u device=%s port=%u pkey=0x%04x subnet=0x%016llx\n",
				      what, ibguard_class_name(d->cls), rec->operation,
				      rule, d->qp_num, rec->pid, s->comm,
				      rec->uid, rec->gid, s->device, d->port,
				      d->pkey, d->subnet);
	else if (d->cls == IBGUARD_CLASS_PKEY)
		pr_notice_ratelimited("%s %s %s by %s: pid=%u comm=%s uid=%u gid=%u device=%s port=%u pkey=0x%04x subnet=0x%016llx\n",
				      what, ibguard_class_name(d->cls), rec->operation,
				      rule, rec->pid, s->comm, rec->uid,
				      rec->gid, s->device, d->port, d->pkey,
				      d->subnet);
	else
		pr_notice_ratelimited("%s %s %s by %s: pid=%u comm=%s uid=%u gid=%u device=%s port=%u\n",
				      what, ibguard_class_name(d->cls), rec->operation,
				      rule, rec->pid, s->comm, rec->uid,
				      rec->gid, s->device, d->port);
}

static void events_work_fn(struct work_struct *work)
{
	struct {
		struct event_record rec;
		struct event_log_strings log;
	} *buf;
	struct event_record *rec;
	unsigned long flags;

	buf = kmalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return;
	rec = &buf->rec;
	for (;;) {
		spin_lock_irqsave(&ring_lock, flags);
		if (!ring_len) {
			spin_unlock_irqrestore(&ring_lock, flags);
			break;
		}
		*rec = ring[ring_head];
		ring_head = (ring_head + 1) % EVENT_RING_SIZE;
		ring_len--;
		spin_unlock_irqrestore(&ring_lock, flags);
		if (rec->d.verdict == IBGUARD_VERDICT_DENY)
			log_decision(rec, &buf->log);
		send_event(fill_decision, rec);
	}
	kfree(buf);
}

struct policy_event {
	u8 type, mode;
	u64 generation;
};

static int fill_policy(struct sk_buff *msg, const void *data)
{
	const struct policy_event *ev = data;

	if (nla_put_u8(msg, IBGUARD_EVENT_TYPE, ev->type) ||
	    nla_put_u64_64bit(msg, IBGUARD_EVENT_GENERATION, ev->generation,
			      IBGUARD_EVENT_PAD) ||
	    nla_put_u8(msg, IBGUARD_EVENT_MODE, ev->mode) ||
	    nla_put_u32(msg, IBGUARD_EVENT_PID, task_tgid_nr(current)) ||
	    nla_put_string(msg, IBGUARD_EVENT_COMM, current->comm) ||
	    nla_put_u32(msg, IBGUARD_EVENT_UID,
			from_kuid(&init_user_ns, current_euid())))
		return -EMSGSIZE;
	return 0;
}

/* Policy loads and mode changes, from the loading task's context. */
void ibguard_event_policy(enum ibguard_event_type type, u64 generation, u8 mode)
{
	struct policy_event ev = {
		.type = type, .mode = mode, .generation = generation,
	};

	send_event(fill_policy, &ev);
}

int ibguard_events_init(void)
{
	ring = kcalloc(EVENT_RING_SIZE, sizeof(*ring), GFP_KERNEL);
	return ring ? 0 : -ENOMEM;
}

/* Hooks are detached by now; drain what they left. */
void ibguard_events_exit(void)
{
	flush_work(&events_work);
	kfree(ring);
}
