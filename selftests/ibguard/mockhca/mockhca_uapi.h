/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mockhca: control device ABI (test only).
 *
 * /dev/mockhca lets a test create kernel QPs on the mock HCA through the real
 * ib_core verbs (ib_create_qp, ib_modify_qp, ib_query_qp, ib_destroy_qp) in
 * the calling task's context, and rewrite a port's P_Key table. Every ioctl
 * returns 0 or -1 with errno set to the kernel's error code (for example
 * EACCES when a security module denies ib_modify_qp). QPs belong to the open
 * file and are destroyed when it is closed.
 *
 * Usable from C user space: includes only <linux/ioctl.h> and
 * <linux/types.h>.
 */
#ifndef _MOCKHCA_UAPI_H
#define _MOCKHCA_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MOCKHCA_CTL_PATH	"/dev/mockhca"
#define MOCKHCA_ABI_VERSION	1
#define MOCKHCA_MAX_PORTS	4
#define MOCKHCA_MAX_PKEYS	128
#define MOCKHCA_NAME_MAX	64

/* QP types: the values of enum ib_qp_type (and of enum ibv_qp_type). */
#define MOCKHCA_QPT_RC		2
#define MOCKHCA_QPT_UD		4
/* A driver's own QP type (IB_QPT_RESERVED1), as mlx5's UMR QP. */
#define MOCKHCA_QPT_DRIVER	0x1000

/* QP states: the values of enum ib_qp_state (and of enum ibv_qp_state). */
#define MOCKHCA_QPS_RESET	0
#define MOCKHCA_QPS_INIT	1
#define MOCKHCA_QPS_RTR		2
#define MOCKHCA_QPS_RTS		3
#define MOCKHCA_QPS_SQD		4
#define MOCKHCA_QPS_SQE		5
#define MOCKHCA_QPS_ERR		6

/* attr_mask bits: the values of enum ib_qp_attr_mask (and of IBV_QP_*). */
#define MOCKHCA_QP_STATE		0x00000001
#define MOCKHCA_QP_CUR_STATE		0x00000002
#define MOCKHCA_QP_EN_SQD_ASYNC_NOTIFY	0x00000004
#define MOCKHCA_QP_ACCESS_FLAGS		0x00000008
#define MOCKHCA_QP_PKEY_INDEX		0x00000010
#define MOCKHCA_QP_PORT			0x00000020
#define MOCKHCA_QP_QKEY			0x00000040
#define MOCKHCA_QP_AV			0x00000080
#define MOCKHCA_QP_PATH_MTU		0x00000100
#define MOCKHCA_QP_TIMEOUT		0x00000200
#define MOCKHCA_QP_RETRY_CNT		0x00000400
#define MOCKHCA_QP_RNR_RETRY		0x00000800
#define MOCKHCA_QP_RQ_PSN		0x00001000
#define MOCKHCA_QP_MAX_QP_RD_ATOMIC	0x00002000
#define MOCKHCA_QP_ALT_PATH		0x00004000
#define MOCKHCA_QP_MIN_RNR_TIMER	0x00008000
#define MOCKHCA_QP_SQ_PSN		0x00010000
#define MOCKHCA_QP_MAX_DEST_RD_ATOMIC	0x00020000
#define MOCKHCA_QP_PATH_MIG_STATE	0x00040000
#define MOCKHCA_QP_CAP			0x00080000
#define MOCKHCA_QP_DEST_QPN		0x00100000

/* MOCKHCA_IOC_INFO: the mock device. */
struct mockhca_info {
	char name[MOCKHCA_NAME_MAX];	/* ib_device name, e.g. "mock0" */
	__u32 abi_version;		/* MOCKHCA_ABI_VERSION */
	__u32 ports;			/* physical ports, numbered from 1 */
	__u32 pkey_tbl_len;		/* P_Key table length of every port */
	__u32 reserved;
	__u64 subnet_prefix;		/* host byte order */
	__u64 node_guid;		/* host byte order; port N: + N */
};

/* MOCKHCA_IOC_CREATE_QP: ib_create_qp() on the mock device. */
struct mockhca_qp_create {
	__u32 qp_type;	/* in: MOCKHCA_QPT_RC or MOCKHCA_QPT_UD */
	__u32 port;	/* in: ib_qp_init_attr.port_num (0: none) */
	__u32 handle;	/* out: names the QP in the other ioctls */
	__u32 qp_num;	/* out */
};

/*
 * MOCKHCA_IOC_MODIFY_QP: ib_modify_qp(qp, attr, attr_mask) with the fields
 * that attr_mask selects. MOCKHCA_QP_AV builds an InfiniBand address vector
 * (no GRH) from dlid and sl on the QP's port (the port field when
 * MOCKHCA_QP_PORT is also set); MOCKHCA_QP_ALT_PATH uses alt_port,
 * alt_pkey_index, alt_dlid, alt_sl and alt_timeout.
 *
 * MOCKHCA_IOC_QUERY_QP: ib_query_qp(); handle and attr_mask in (0: all),
 * every field out, qp_type and qp_num included, and how many
 * IB_EVENT_QP_FATAL events the QP's event handler has received.
 */
struct mockhca_qp_attr {
	__u32 handle;
	__u32 attr_mask;	/* MOCKHCA_QP_* */
	__u32 qp_state;		/* MOCKHCA_QPS_* */
	__u32 cur_qp_state;
	__u32 port;
	__u32 pkey_index;
	__u32 qkey;
	__u32 dest_qp_num;
	__u32 rq_psn;
	__u32 sq_psn;
	__u32 path_mtu;		/* enum ib_mtu: 1 (256) .. 5 (4096) */
	__u32 qp_access_flags;
	__u32 dlid;
	__u32 sl;
	__u32 timeout;
	__u32 retry_cnt;
	__u32 rnr_retry;
	__u32 min_rnr_timer;
	__u32 max_rd_atomic;
	__u32 max_dest_rd_atomic;
	__u32 alt_port;
	__u32 alt_pkey_index;
	__u32 alt_dlid;
	__u32 alt_sl;
	__u32 alt_timeout;
	__u32 path_mig_state;
	__u32 qp_type;		/* query only */
	__u32 qp_num;		/* query only */
	__u32 fatal_events;	/* query only: IB_EVENT_QP_FATAL received */
	__u32 reserved[3];	/* zero */
};

/*
 * MOCKHCA_IOC_SET_PKEYS (CAP_SYS_ADMIN): replace the P_Key table of port with
 * pkeys[0..count-1] (the remaining entries up to the table length become 0),
 * dispatch IB_EVENT_PKEY_CHANGE and wait until ib_core's P_Key cache has been
 * updated and the event delivered.
 * MOCKHCA_IOC_GET_PKEYS: port in; count (the table length) and pkeys out.
 * MOCKHCA_IOC_GET_CACHED_PKEYS: the same from ib_core's P_Key cache
 * (ib_get_cached_pkey(), what ib_core and security hooks look at).
 */
struct mockhca_pkeys {
	__u32 port;
	__u32 count;
	__u16 pkeys[MOCKHCA_MAX_PKEYS];
};

#define MOCKHCA_IOC_MAGIC	0xEA
#define MOCKHCA_IOC_INFO	_IOR(MOCKHCA_IOC_MAGIC, 0x00, struct mockhca_info)
#define MOCKHCA_IOC_CREATE_QP	_IOWR(MOCKHCA_IOC_MAGIC, 0x01, struct mockhca_qp_create)
#define MOCKHCA_IOC_MODIFY_QP	_IOW(MOCKHCA_IOC_MAGIC, 0x02, struct mockhca_qp_attr)
#define MOCKHCA_IOC_QUERY_QP	_IOWR(MOCKHCA_IOC_MAGIC, 0x03, struct mockhca_qp_attr)
#define MOCKHCA_IOC_DESTROY_QP	_IOW(MOCKHCA_IOC_MAGIC, 0x04, __u32)
#define MOCKHCA_IOC_SET_PKEYS	_IOW(MOCKHCA_IOC_MAGIC, 0x05, struct mockhca_pkeys)
#define MOCKHCA_IOC_GET_PKEYS	_IOWR(MOCKHCA_IOC_MAGIC, 0x06, struct mockhca_pkeys)
#define MOCKHCA_IOC_GET_CACHED_PKEYS \
	_IOWR(MOCKHCA_IOC_MAGIC, 0x07, struct mockhca_pkeys)

#endif /* _MOCKHCA_UAPI_H */
