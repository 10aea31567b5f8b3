/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mockhca: a test-only InfiniBand HCA without hardware.
 */
#ifndef MOCKHCA_H
#define MOCKHCA_H

#include <linux/idr.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <rdma/ib_mad.h>
#include <rdma/ib_verbs.h>

#include "ibguard_compat.h"
#include "mockhca_uapi.h"

#define MOCK_MAX_SGE		4
#define MOCK_MAX_QP_WR		16384
#define MOCK_MAX_CQE		65536
#define MOCK_GID_TBL_LEN	1
#define MOCK_SM_LID		1
#define MOCK_VENDOR_ID		0x000000
#define MOCK_DEVICE_ID		0x4d48	/* "MH" */
#define MOCK_HW_REV		1

struct mock_qp;

struct mock_port {
	spinlock_t lock;		/* pkeys, cap_flags */
	u16 pkeys[MOCKHCA_MAX_PKEYS];
	u32 cap_flags;
	/* ib_mad's QP0 and QP1 of this port; under mock_dev.qp_lock */
	struct mock_qp *qp0;
	struct mock_qp *qp1;
};

struct mock_dev {
	struct ib_device ibdev;
	u32 nports;
	u32 pkey_tbl_len;
	u64 subnet_prefix;
	u64 guid;			/* node GUID; port N has guid + N */
	spinlock_t qp_lock;		/* mock_port.qp0/qp1 */
	struct ida qpn_ida;
	atomic_t next_key;
	struct mock_port port[MOCKHCA_MAX_PORTS];
};

struct mock_pd {
	struct ib_pd ibpd;
};

struct mock_ah {
	struct ib_ah ibah;
	u16 dlid;
	u8 sl;
	u8 src_path_bits;
	u32 port;
};

struct mock_cq {
	struct ib_cq ibcq;
	spinlock_t lock;		/* ring, head, count, armed */
	struct ib_wc *ring;
	u32 size;
	u32 head;
	u32 count;
	bool armed;
};

struct mock_rwqe {
	u64 wr_id;
	u32 num_sge;
	struct ib_sge sge[MOCK_MAX_SGE];
};

struct mock_qp {
	struct ib_qp ibqp;
	spinlock_t lock;		/* attr, rq */
	struct ib_qp_attr attr;		/* what modify_qp last set */
	u32 mad_port;			/* QP0/QP1: their port */
	bool sq_sig_all;
	u32 max_send_wr;
	u32 max_recv_sge;
	struct mock_rwqe *rq;
	u32 rq_size;
	u32 rq_head;
	u32 rq_count;
};

struct mock_mr {
	struct ib_mr ibmr;
};

static inline struct mock_dev *to_mdev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct mock_dev, ibdev);
}

static inline struct mock_port *mock_port(struct mock_dev *mdev, u32 port)
{
	return &mdev->port[port - 1];
}

static inline struct mock_qp *to_mqp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct mock_qp, ibqp);
}

static inline struct mock_cq *to_mcq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct mock_cq, ibcq);
}

static inline struct mock_ah *to_mah(struct ib_ah *ibah)
{
	return container_of(ibah, struct mock_ah, ibah);
}

/* A port's LID is its number; LID 1 (port 1) is also the SM's LID. */
static inline u16 mock_port_lid(u32 port)
{
	return port;
}

static inline __be64 mock_port_guid(struct mock_dev *mdev, u32 port)
{
	return cpu_to_be64(mdev->guid + port);
}

/* verbs.c */
extern const struct ib_device_ops mock_dev_ops;
u32 mock_port_cap_flags(struct mock_dev *mdev, u32 port);
void mock_get_pkeys(struct mock_dev *mdev, u32 port, u16 *pkeys);

/* sma.c */
int mock_process_mad(struct ib_device *ibdev, int mad_flags, u32 port,
		     const struct ib_wc *in_wc, const struct ib_grh *in_grh,
		     const struct ib_mad *in, struct ib_mad *out,
		     size_t *out_mad_size, u16 *out_mad_pkey_index);

/* ctl.c */
int mock_ctl_register(struct mock_dev *mdev);
void mock_ctl_unregister(void);

#endif /* MOCKHCA_H */
