// SPDX-License-Identifier: GPL-2.0
/*
 * The endport class: which tasks may act as subnet manager, that is register
 * an SMI (QP0) MAD agent through /dev/infiniband/umadN, on which device and
 * port. Decided at ib_register_mad_agent(), where the QP type is an
 * argument, and again for every subnet-management MAD such an agent sends
 * (hook_pkey.c, where the send buffer is created): an agent registered under
 * one policy can no longer send once a later one denies it. Agents that
 * ib_core registers for itself (its SMA, SA, CM) are never denied: only
 * agents whose send handler lies in ib_umad, the module that registers on
 * behalf of user space, are checked.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <rdma/ib_mad.h>
#include "ib.h"

/* ib_umad's send handler, once seen: one address serves all its agents. */
static unsigned long umad_send_handler;

/*
 * __module_address() is not exported; sprint_symbol() names the module that
 * owns an address, and does not sleep.
 */
static bool in_ib_umad(unsigned long addr)
{
	char sym[KSYM_SYMBOL_LEN];
	size_t len;

	if (addr == READ_ONCE(umad_send_handler))
		return true;
	len = sprint_symbol(sym, addr);
	if (len < 10 || strcmp(sym + len - 10, " [ib_umad]"))
		return false;
	WRITE_ONCE(umad_send_handler, addr);
	return true;
}

/* Was agent registered by ib_umad on behalf of user space? */
bool ibguard_from_user_agent(const struct ib_mad_agent *agent)
{
	return in_ib_umad((unsigned long)agent->send_handler);
}

/*
 * May the current task act as subnet manager on (device, port)? Does not
 * sleep: MADs are created in atomic context too.
 */
bool ibguard_endport_allowed(struct ib_device *device, u32 port,
			     const char *operation)
{
	const struct ibguard_policy *p;
	struct ibguard_decision d = {
		.cls = IBGUARD_CLASS_ENDPORT,
		.operation = operation,
		.device = dev_name(&device->dev),
		.port = port,
	};
	bool deny = false;

	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	if (p)
		deny = ibguard_conclude(p, ibguard_endport_first_match(p, d.device,
								       d.port),
					&d);
	rcu_read_unlock();
	return !deny;
}

/*
 * struct ib_mad_agent *ib_register_mad_agent(struct ib_device *device,
 *	u32 port_num, enum ib_qp_type qp_type, struct ib_mad_reg_req *req,
 *	u8 rmpp_version, ib_mad_send_handler send_handler, ...)
 */
static void notrace register_agent_handler(unsigned long ip,
					   unsigned long parent_ip,
					   struct ftrace_ops *ops,
					   struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	if (regs->dx != IB_QPT_SMI || !in_ib_umad(regs->r9))
		return;
	/* ERR_PTR(-EACCES) and -EACCES are the same register value. */
	if (!ibguard_endport_allowed((struct ib_device *)regs->di, regs->si,
				     "register_smi_agent"))
		ibguard_deny_call(regs);
}

static struct ftrace_ops register_agent_ops = {
	.func = register_agent_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

static const char *const register_agent_fn[] = { "ib_register_mad_agent" };

int ibguard_endport_attach(void)
{
	return ibguard_attach(&register_agent_ops, register_agent_fn, 1);
}

void ibguard_endport_detach(void)
{
	ibguard_detach(&register_agent_ops);
}

/* Does ib_core have the endport class's attach point? */
int ibguard_endport_probe(const char **missing)
{
	return ibguard_attach_probe(register_agent_fn, 1, missing);
}

void ibguard_endport_exit(void)
{
	ftrace_free_filter(&register_agent_ops);
}
