// SPDX-License-Identifier: GPL-2.0
/*
 * Per-class decision counters, per CPU so that hooks never share a cache
 * line; decisions count inline (ibguard.h). Rule hit counters live with
 * their policy (policy.c).
 */
#include <linux/percpu.h>
#include <linux/string.h>
#include "ibguard.h"

struct ibguard_class_counters __percpu *ibguard_counters;

int ibguard_stats_init(void)
{
	ibguard_counters = alloc_percpu(struct ibguard_class_counters);
	return ibguard_counters ? 0 : -ENOMEM;
}

void ibguard_stats_exit(void)
{
	free_percpu(ibguard_counters);
}

u64 ibguard_stats_read(enum ibguard_class cls, enum ibguard_counter counter)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(ibguard_counters, cpu)->count[cls][counter];
	return sum;
}

/* Counters that change while being reset may keep an increment or two. */
void ibguard_stats_reset(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(ibguard_counters, cpu), 0,
		       sizeof(struct ibguard_class_counters));
}
