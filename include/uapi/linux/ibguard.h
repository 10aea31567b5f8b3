/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ibguard generic netlink protocol, shared by the kernel module and
 * ibguardctl. This header is the single definition of the protocol.
 */
#ifndef _UAPI_LINUX_IBGUARD_H
#define _UAPI_LINUX_IBGUARD_H

#define IBGUARD_GENL_NAME		"ibguard"
#define IBGUARD_GENL_VERSION		1
#define IBGUARD_MCGRP_EVENTS		"events"

/* Bumped whenever a command or attribute changes meaning. */
#define IBGUARD_PROTOCOL_VERSION	1

enum ibguard_cmd {
	IBGUARD_CMD_UNSPEC,
	IBGUARD_CMD_GET_STATUS,		/* reply: module and policy state */
	__IBGUARD_CMD_MAX,
};

#define IBGUARD_CMD_MAX (__IBGUARD_CMD_MAX - 1)

enum ibguard_mode {
	IBGUARD_MODE_ENFORCING,
	IBGUARD_MODE_PERMISSIVE,
	__IBGUARD_MODE_MAX,
};

#define IBGUARD_MODE_MAX (__IBGUARD_MODE_MAX - 1)

enum ibguard_attr {
	IBGUARD_ATTR_UNSPEC,
	IBGUARD_ATTR_PAD,
	IBGUARD_ATTR_MODULE_VERSION,	/* string */
	IBGUARD_ATTR_PROTOCOL_VERSION,	/* u32 */
	IBGUARD_ATTR_MODE,		/* u8, enum ibguard_mode */
	IBGUARD_ATTR_GENERATION,	/* u64: policy generation, 0 before any load */
	__IBGUARD_ATTR_MAX,
};

#define IBGUARD_ATTR_MAX (__IBGUARD_ATTR_MAX - 1)

#endif /* _UAPI_LINUX_IBGUARD_H */
