/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IBGUARD_H
#define IBGUARD_H

#include <linux/types.h>
#include <uapi/linux/ibguard.h>

#define IBGUARD_VERSION "0.1.0"

int ibguard_netlink_init(void);
void ibguard_netlink_exit(void);

enum ibguard_mode ibguard_mode(void);
u64 ibguard_generation(void);

#endif /* IBGUARD_H */
