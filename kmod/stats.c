// SPDX-License-Identifier: GPL-2.0
/*
 * Per-class decision counters, per CPU so that hooks never share a cache
 * line. Rule hit counters live with their policy (policy.c).
 */
#include <linux/percpu.h>
#include <linux/string.h>
#include "ibguard.h"

struct class_counters {
	u64 count[IBGUARD_NR_CLASSES][IBGUARD_NR_COUNTERS];
};

static struct class_counters __percpu *counters;

int ibguard_stats_init(void)
{
	counters = alloc_percpu(struct class_counters);
	return counters ? 0 : -ENOMEM;
}

void ibguard_stats_exit(void)
{
	free_percpu(counters);
}

void ibguard_stats_count(enum ibguard_class cls, enum ibguard_counter counter)
{
	this_cpu_inc(counters->count[cls][counter]);
}

u64 ibguard_stats_read(enum ibguard_class cls, enum ibguard_counter counter)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(counters, cpu)->count[cls][counter];
	return sum;
}

/* Counters that change while being reset may keep an increment or two. */
void ibguard_stats_reset(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(counters, cpu), 0, sizeof(struct class_counters));
}
