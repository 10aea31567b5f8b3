/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ibguard_ib.ko internals: the pkey and endport classes, an ordinary
 * ib_core client on top of ibguard.ko.
 */
#ifndef IBGUARD_IB_H
#define IBGUARD_IB_H

#include <rdma/ib_verbs.h>
#include "ibguard.h"

/* ib_main.c */
void ibguard_ib_adopt_qps(void);

/* hook_pkey.c */
int ibguard_pkey_attach(void);
unsigned int ibguard_pkey_detach(void);
unsigned int ibguard_pkey_followed(void);
void ibguard_pkey_revalidate(void);
void ibguard_pkey_adopt_device(struct ib_device *device);
void ibguard_pkey_exit(void);
int ibguard_pkey_probe(const char **missing);

/* hook_endport.c */
int ibguard_endport_attach(void);
unsigned int ibguard_endport_detach(void);
unsigned int ibguard_endport_followed(void);
void ibguard_endport_exit(void);
int ibguard_endport_probe(const char **missing);
void ibguard_endport_revalidate(void);
void ibguard_endport_umad_going(void);
struct ib_mad_agent;
bool ibguard_from_user_agent(const struct ib_mad_agent *agent);
bool ibguard_endport_send_allowed(const struct ib_mad_agent *agent);

/*
 * Both hooks, if attached, hold this: a callback (or a redirected call) of
 * this module may still be running until it drops to zero.
 */
extern atomic_t ibguard_ib_inflight;

#endif /* IBGUARD_IB_H */
