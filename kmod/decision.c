// SPDX-License-Identifier: GPL-2.0
/*
 * What every hook does once it knows the deciding rule (or that none
 * matched): count, report, and apply the mode. Called under rcu_read_lock()
 * from hook handlers; never sleeps.
 */
#include <linux/module.h>
#include "ibguard.h"

/* Every reported decision goes to the events and to the audit trail. */
static void report(const struct ibguard_decision *d)
{
	ibguard_audit_decision(d);
	ibguard_event_decision(d);
}

/*
 * Completes d (class, operation and object already set) from rule and p.
 * Returns true when the caller must deny the operation.
 */
bool ibguard_conclude(const struct ibguard_policy *p,
		      const struct ibguard_rule *rule,
		      struct ibguard_decision *d)
{
	if (ibguard_allow_quietly(p, rule, d->cls))
		return false;
	ibguard_stats_count(d->cls, IBGUARD_CHECKED);
	d->generation = p->generation;
	if (rule) {
		ibguard_policy_count_hit(p, rule->index);
		d->rule = rule->index;
		d->verdict = rule->verdict;
		d->logged = rule->flags & IBGUARD_RULE_LOG;
	} else {
		d->rule = -1;
		d->verdict = p->defaults[d->cls];
		d->logged = false;
	}

	if (d->verdict == IBGUARD_VERDICT_ALLOW) {
		/* logged: a quiet allow took the inline path */
		ibguard_stats_count(d->cls, IBGUARD_ALLOWED);
		report(d);
		return false;
	}

	d->permissive = ibguard_mode() == IBGUARD_MODE_PERMISSIVE;
	ibguard_stats_count(d->cls, d->permissive ? IBGUARD_WOULD_DENY :
						    IBGUARD_DENIED);
	report(d);
	return !d->permissive;
}
EXPORT_SYMBOL_GPL(ibguard_conclude);

/*
 * Re-decides a live object that d->who set up, after a policy change or a
 * change of the object's attributes (a P_Key table). rule is the policy's
 * first match for it; unresolvable means the object no longer names anything
 * the policy could allow (its P_Key index left the table), which cuts it off
 * as upstream does. Returns true when the caller must cut the object off:
 * the verdict is deny and the mode enforcing (permissive mode revokes
 * nothing). The hooks' decision counters are left alone.
 */
bool ibguard_revalidate(const struct ibguard_policy *p,
			const struct ibguard_rule *rule, bool unresolvable,
			struct ibguard_decision *d)
{
	d->generation = p->generation;
	if (unresolvable) {
		d->rule = -1;
		d->verdict = IBGUARD_VERDICT_DENY;
	} else if (rule) {
		d->rule = rule->index;
		d->verdict = rule->verdict;
	} else {
		d->rule = -1;
		d->verdict = p->defaults[d->cls];
	}
	return d->verdict == IBGUARD_VERDICT_DENY &&
	       ibguard_mode() == IBGUARD_MODE_ENFORCING;
}
EXPORT_SYMBOL_GPL(ibguard_revalidate);

/* The caller cut off what ibguard_revalidate() said to: count and report. */
void ibguard_revoked(struct ibguard_decision *d)
{
	d->revoked = true;
	ibguard_stats_count(d->cls, IBGUARD_REVOKED);
	report(d);
}
EXPORT_SYMBOL_GPL(ibguard_revoked);
