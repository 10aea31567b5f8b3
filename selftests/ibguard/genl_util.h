/* SPDX-License-Identifier: GPL-2.0 */
/* Small generic netlink helpers shared by the in-guest C tests. */
#ifndef IBGUARD_SELFTEST_GENL_UTIL_H
#define IBGUARD_SELFTEST_GENL_UTIL_H

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ibguard.h>
#include <stdbool.h>
#include <stdint.h>

struct genl_conn {
	struct mnl_socket *sock;
	uint16_t family;
	uint32_t seq;
	char ext_msg[256];	/* extended ACK message of the last error */
	/*
	 * Did the last genl_transact() get the kernel's answer? false when
	 * sending or receiving failed in the socket layer instead.
	 */
	bool answered;
};

/* Opens a socket and resolves the ibguard family. Returns 0 or -errno. */
int genl_open(struct genl_conn *conn);
void genl_close(struct genl_conn *conn);

/* Starts an ibguard request in buf. */
struct nlmsghdr *genl_request(struct genl_conn *conn, void *buf, uint8_t cmd,
			      uint16_t flags);

/*
 * Sends req and runs cb on each reply until the ACK. Returns 0 or the
 * kernel's -errno; conn->ext_msg holds its extended ACK message.
 */
int genl_transact(struct genl_conn *conn, struct nlmsghdr *req,
		  mnl_cb_t cb, void *data);

/* What GET_STATUS says about the policy and the load in progress. */
struct genl_status {
	uint64_t generation, staging;
	uint32_t rules;
	uint8_t mode;
};

/* Fills st from GET_STATUS. Returns 0 or the kernel's -errno. */
int genl_get_status(struct genl_conn *conn, struct genl_status *st);

#endif
