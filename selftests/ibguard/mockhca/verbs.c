// SPDX-License-Identifier: GPL-2.0
/*
 * mockhca: the ib_device operations.
 *
 * Nothing reaches a wire. Every op of ib_core's mandatory table exists so
 * that the device is a kernel-verbs provider and ib_mad/ib_umad attach. The
 * only traffic is MADs on QP0/QP1: post_send delivers a UD send to the QP0
 * or QP1 of the port whose LID is the destination (a port's LID is its
 * number), as if all ports of the device were on one subnet; ib_mad then
 * hands the MAD to process_mad (sma.c) and sends the reply back the same way.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <rdma/ib_mad.h>
#include <rdma/ib_verbs.h>

#include "mockhca.h"

#define MOCK_BASE_CAP_FLAGS	IB_PORT_SYS_IMAGE_GUID_SUP

u32 mock_port_cap_flags(struct mock_dev *mdev, u32 port)
{
	struct mock_port *mp = mock_port(mdev, port);
	unsigned long flags;
	u32 cap;

	spin_lock_irqsave(&mp->lock, flags);
	cap = MOCK_BASE_CAP_FLAGS | mp->cap_flags;
	spin_unlock_irqrestore(&mp->lock, flags);
	return cap;
}

/* Copies the whole P_Key table of @port (mdev->pkey_tbl_len entries). */
void mock_get_pkeys(struct mock_dev *mdev, u32 port, u16 *pkeys)
{
	struct mock_port *mp = mock_port(mdev, port);
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	memcpy(pkeys, mp->pkeys, mdev->pkey_tbl_len * sizeof(*pkeys));
	spin_unlock_irqrestore(&mp->lock, flags);
}

static int mock_get_pkey(struct mock_dev *mdev, u32 port, u32 index, u16 *pkey)
{
	struct mock_port *mp = mock_port(mdev, port);
	unsigned long flags;

	if (index >= mdev->pkey_tbl_len)
		return -EINVAL;
	spin_lock_irqsave(&mp->lock, flags);
	*pkey = mp->pkeys[index];
	spin_unlock_irqrestore(&mp->lock, flags);
	return 0;
}

/*
 * The index in @port's table of a P_Key that lets @pkey through: same
 * partition, not both limited members.
 */
static int mock_find_pkey(struct mock_dev *mdev, u32 port, u16 pkey)
{
	struct mock_port *mp = mock_port(mdev, port);
	unsigned long flags;
	int i, found = -ENOENT;

	if (!(pkey & 0x7fff))
		return -ENOENT;
	spin_lock_irqsave(&mp->lock, flags);
	for (i = 0; i < mdev->pkey_tbl_len; i++) {
		u16 p = mp->pkeys[i];

		if ((p & 0x7fff) == (pkey & 0x7fff) && ((p | pkey) & 0x8000)) {
			found = i;
			break;
		}
	}
	spin_unlock_irqrestore(&mp->lock, flags);
	return found;
}

static int mock_query_device(struct ib_device *ibdev,
			     struct ib_device_attr *attr,
			     struct ib_udata *udata)
{
	struct mock_dev *mdev = to_mdev(ibdev);

	if (udata && (udata->inlen || udata->outlen))
		return -EINVAL;

	memset(attr, 0, sizeof(*attr));
	attr->fw_ver = 1ULL << 32;
	attr->sys_image_guid = cpu_to_be64(mdev->guid);
	attr->max_mr_size = U64_MAX;
	attr->page_size_cap = PAGE_SIZE;
	attr->vendor_id = MOCK_VENDOR_ID;
	attr->vendor_part_id = MOCK_DEVICE_ID;
	attr->hw_ver = MOCK_HW_REV;
	attr->max_qp = 1 << 16;
	attr->max_qp_wr = MOCK_MAX_QP_WR;
	attr->device_cap_flags = IB_DEVICE_SYS_IMAGE_GUID;
	attr->max_send_sge = MOCK_MAX_SGE;
	attr->max_recv_sge = MOCK_MAX_SGE;
	attr->max_sge_rd = MOCK_MAX_SGE;
	attr->max_cq = 1 << 16;
	attr->max_cqe = MOCK_MAX_CQE;
	attr->max_mr = 1 << 16;
	attr->max_pd = 1 << 16;
	attr->max_qp_rd_atom = 16;
	attr->max_qp_init_rd_atom = 16;
	attr->max_res_rd_atom = 16 << 16;
	attr->atomic_cap = IB_ATOMIC_NONE;
	attr->max_ah = 1 << 16;
	attr->max_pkeys = mdev->pkey_tbl_len;
	attr->local_ca_ack_delay = 15;
	return 0;
}

static int mock_modify_device(struct ib_device *ibdev, int mask,
			      struct ib_device_modify *props)
{
	if (mask & ~IB_DEVICE_MODIFY_NODE_DESC)
		return -EOPNOTSUPP;
	if (mask & IB_DEVICE_MODIFY_NODE_DESC)
		memcpy(ibdev->node_desc, props->node_desc,
		       IB_DEVICE_NODE_DESC_MAX);
	return 0;
}

static void mock_get_dev_fw_str(struct ib_device *ibdev, char *str)
{
	snprintf(str, IB_FW_VERSION_NAME_MAX, "1.0.0");
}

static int mock_query_port(struct ib_device *ibdev, u32 port,
			   struct ib_port_attr *attr)
{
	struct mock_dev *mdev = to_mdev(ibdev);

	/* ib_query_port() has zeroed *attr */
	attr->state = IB_PORT_ACTIVE;
	attr->phys_state = IB_PORT_PHYS_STATE_LINK_UP;
	attr->max_mtu = IB_MTU_4096;
	attr->active_mtu = IB_MTU_4096;
	attr->gid_tbl_len = MOCK_GID_TBL_LEN;
	attr->port_cap_flags = mock_port_cap_flags(mdev, port);
	attr->max_msg_sz = 0x80000000;
	attr->pkey_tbl_len = mdev->pkey_tbl_len;
	attr->lid = mock_port_lid(port);
	attr->sm_lid = MOCK_SM_LID;
	attr->lmc = 0;
	attr->max_vl_num = 1;
	attr->sm_sl = 0;
	attr->subnet_timeout = 18;
	attr->active_width = IB_WIDTH_4X;
	attr->active_speed = IB_SPEED_QDR;
	attr->subnet_prefix = mdev->subnet_prefix;
	return 0;
}

static int mock_modify_port(struct ib_device *ibdev, u32 port, int mask,
			    struct ib_port_modify *props)
{
	struct mock_port *mp = mock_port(to_mdev(ibdev), port);
	unsigned long flags;

	/* Shutdown, init type and Q_Key counter reset: nothing to do. */
	spin_lock_irqsave(&mp->lock, flags);
	mp->cap_flags |= props->set_port_cap_mask;
	mp->cap_flags &= ~props->clr_port_cap_mask;
	spin_unlock_irqrestore(&mp->lock, flags);
	return 0;
}

static int mock_get_port_immutable(struct ib_device *ibdev, u32 port,
				   struct ib_port_immutable *immutable)
{
	immutable->core_cap_flags = RDMA_CORE_PORT_IBA_IB;
	immutable->pkey_tbl_len = to_mdev(ibdev)->pkey_tbl_len;
	immutable->gid_tbl_len = MOCK_GID_TBL_LEN;
	immutable->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

static enum rdma_link_layer mock_get_link_layer(struct ib_device *ibdev,
						u32 port)
{
	return IB_LINK_LAYER_INFINIBAND;
}

static int mock_query_gid(struct ib_device *ibdev, u32 port, int index,
			  union ib_gid *gid)
{
	struct mock_dev *mdev = to_mdev(ibdev);

	if (index < 0 || index >= MOCK_GID_TBL_LEN)
		return -EINVAL;
	gid->global.subnet_prefix = cpu_to_be64(mdev->subnet_prefix);
	gid->global.interface_id = mock_port_guid(mdev, port);
	return 0;
}

static int mock_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			   u16 *pkey)
{
	return mock_get_pkey(to_mdev(ibdev), port, index, pkey);
}

static int mock_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	return udata ? -EOPNOTSUPP : 0;
}

static int mock_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	return 0;
}

static int mock_create_ah(struct ib_ah *ibah,
			  struct rdma_ah_init_attr *init_attr,
			  struct ib_udata *udata)
{
	struct rdma_ah_attr *attr = init_attr->ah_attr;
	struct mock_ah *ah = to_mah(ibah);

	if (udata)
		return -EOPNOTSUPP;
	if (attr->type != RDMA_AH_ATTR_TYPE_IB)
		return -EINVAL;
	ah->dlid = rdma_ah_get_dlid(attr);
	ah->sl = rdma_ah_get_sl(attr);
	ah->src_path_bits = rdma_ah_get_path_bits(attr);
	ah->port = rdma_ah_get_port_num(attr);
	return 0;
}

static int mock_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	struct mock_ah *ah = to_mah(ibah);

	memset(attr, 0, sizeof(*attr));
	attr->type = RDMA_AH_ATTR_TYPE_IB;
	rdma_ah_set_dlid(attr, ah->dlid);
	rdma_ah_set_sl(attr, ah->sl);
	rdma_ah_set_path_bits(attr, ah->src_path_bits);
	rdma_ah_set_port_num(attr, ah->port);
	return 0;
}

static int mock_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	return 0;
}

static int mock_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
			  ibguard_create_cq_arg *uarg)
{
	struct mock_cq *cq = to_mcq(ibcq);

	if (uarg || attr->flags)
		return -EOPNOTSUPP;
	if (!attr->cqe || attr->cqe > MOCK_MAX_CQE)
		return -EINVAL;

	cq->ring = kvcalloc(attr->cqe, sizeof(*cq->ring), GFP_KERNEL);
	if (!cq->ring)
		return -ENOMEM;
	spin_lock_init(&cq->lock);
	cq->size = attr->cqe;
	ibcq->cqe = attr->cqe;
	return 0;
}

static int mock_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	kvfree(to_mcq(ibcq)->ring);
	return 0;
}

static int mock_poll_cq(struct ib_cq *ibcq, int num_entries, struct ib_wc *wc)
{
	struct mock_cq *cq = to_mcq(ibcq);
	unsigned long flags;
	int n = 0;

	spin_lock_irqsave(&cq->lock, flags);
	while (n < num_entries && cq->count) {
		wc[n++] = cq->ring[cq->head];
		cq->head = (cq->head + 1) % cq->size;
		cq->count--;
	}
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

static int mock_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags how)
{
	struct mock_cq *cq = to_mcq(ibcq);
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&cq->lock, flags);
	if (how & IB_CQ_SOLICITED_MASK)
		cq->armed = true;
	if ((how & IB_CQ_REPORT_MISSED_EVENTS) && cq->count)
		ret = 1;
	spin_unlock_irqrestore(&cq->lock, flags);
	return ret;
}

/*
 * Adds a completion; calls the completion handler if the CQ is armed (never
 * otherwise: an IB_POLL_DIRECT CQ must not see its handler called).
 */
static void mock_cq_push(struct mock_cq *cq, const struct ib_wc *wc)
{
	unsigned long flags;
	bool notify = false;

	spin_lock_irqsave(&cq->lock, flags);
	if (cq->count == cq->size) {
		spin_unlock_irqrestore(&cq->lock, flags);
		pr_warn_ratelimited("CQ overflow, completion dropped\n");
		return;
	}
	cq->ring[(cq->head + cq->count) % cq->size] = *wc;
	cq->count++;
	if (cq->armed) {
		cq->armed = false;
		notify = true;
	}
	spin_unlock_irqrestore(&cq->lock, flags);

	if (notify && cq->ibcq.comp_handler)
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
}

static struct ib_mr *mock_get_dma_mr(struct ib_pd *ibpd, int access)
{
	struct mock_dev *mdev = to_mdev(ibpd->device);
	struct mock_mr *mr;

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	mr->ibmr.lkey = atomic_inc_return(&mdev->next_key);
	mr->ibmr.rkey = mr->ibmr.lkey;
	return &mr->ibmr;
}

static struct ib_mr *mock_reg_user_mr(struct ib_pd *ibpd, u64 start,
				      u64 length, u64 virt_addr, int access,
				      struct ib_udata *udata)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static int mock_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	kfree(container_of(ibmr, struct mock_mr, ibmr));
	return 0;
}

static bool mock_is_mad_qp(struct ib_qp *ibqp)
{
	return ibqp->qp_type == IB_QPT_SMI || ibqp->qp_type == IB_QPT_GSI;
}

static struct mock_qp **mock_mad_qp_slot(struct mock_dev *mdev, u32 port,
					 enum ib_qp_type type)
{
	struct mock_port *mp = mock_port(mdev, port);

	return type == IB_QPT_SMI ? &mp->qp0 : &mp->qp1;
}

static int mock_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
			  struct ib_udata *udata)
{
	struct mock_dev *mdev = to_mdev(ibqp->device);
	struct mock_qp *qp = to_mqp(ibqp);
	struct ib_qp_cap *cap = &init->cap;
	struct mock_qp **slot;
	unsigned long flags;
	int qpn;

	if (udata)
		return -EOPNOTSUPP;
	if (init->srq || init->rwq_ind_tbl || init->create_flags)
		return -EOPNOTSUPP;
	switch (init->qp_type) {
	case IB_QPT_SMI:
	case IB_QPT_GSI:
		if (!rdma_is_port_valid(ibqp->device, init->port_num))
			return -EINVAL;
		break;
	case IB_QPT_RC:
	case IB_QPT_UD:
	case IB_QPT_RESERVED1:	/* as a driver's own QP */
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!init->send_cq || !init->recv_cq)
		return -EINVAL;
	if (cap->max_send_wr > MOCK_MAX_QP_WR ||
	    cap->max_recv_wr > MOCK_MAX_QP_WR ||
	    cap->max_send_sge > MOCK_MAX_SGE ||
	    cap->max_recv_sge > MOCK_MAX_SGE || cap->max_inline_data)
		return -EINVAL;

	spin_lock_init(&qp->lock);
	qp->rq_size = max(cap->max_recv_wr, 1U);
	qp->rq = kcalloc(qp->rq_size, sizeof(*qp->rq), GFP_KERNEL);
	if (!qp->rq)
		return -ENOMEM;
	qp->sq_sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	qp->max_send_wr = cap->max_send_wr;
	qp->max_recv_sge = cap->max_recv_sge;
	qp->attr.qp_state = IB_QPS_RESET;
	qp->attr.cap = *cap;

	if (mock_is_mad_qp(ibqp)) {
		qp->mad_port = init->port_num;
		qp->attr.port_num = init->port_num;
		spin_lock_irqsave(&mdev->qp_lock, flags);
		slot = mock_mad_qp_slot(mdev, init->port_num, init->qp_type);
		if (*slot) {
			spin_unlock_irqrestore(&mdev->qp_lock, flags);
			kfree(qp->rq);
			return -EBUSY;
		}
		*slot = qp;
		spin_unlock_irqrestore(&mdev->qp_lock, flags);
		ibqp->qp_num = init->qp_type == IB_QPT_SMI ? 0 : 1;
		return 0;
	}

	qpn = ida_alloc_range(&mdev->qpn_ida, 2, 0xffffff, GFP_KERNEL);
	if (qpn < 0) {
		kfree(qp->rq);
		return qpn;
	}
	ibqp->qp_num = qpn;
	return 0;
}

static int mock_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct mock_dev *mdev = to_mdev(ibqp->device);
	struct mock_qp *qp = to_mqp(ibqp);
	struct mock_qp **slot;
	unsigned long flags;

	if (mock_is_mad_qp(ibqp)) {
		/* After this no post_send can deliver to this QP. */
		spin_lock_irqsave(&mdev->qp_lock, flags);
		slot = mock_mad_qp_slot(mdev, qp->mad_port, ibqp->qp_type);
		if (*slot == qp)
			*slot = NULL;
		spin_unlock_irqrestore(&mdev->qp_lock, flags);
	} else {
		ida_free(&mdev->qpn_ida, ibqp->qp_num);
	}
	kfree(qp->rq);
	return 0;
}

/* Completes every posted receive with a flush error; qp->lock held. */
static void mock_flush_rq(struct mock_qp *qp)
{
	struct ib_wc wc = {
		.status = IB_WC_WR_FLUSH_ERR,
		.opcode = IB_WC_RECV,
		.qp = &qp->ibqp,
	};

	while (qp->rq_count) {
		wc.wr_id = qp->rq[qp->rq_head].wr_id;
		qp->rq_head = (qp->rq_head + 1) % qp->rq_size;
		qp->rq_count--;
		mock_cq_push(to_mcq(qp->ibqp.recv_cq), &wc);
	}
}

static int mock_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			  int mask, struct ib_udata *udata)
{
	struct mock_dev *mdev = to_mdev(ibqp->device);
	struct mock_qp *qp = to_mqp(ibqp);
	struct ib_qp_attr *cur = &qp->attr;
	unsigned long flags;

	if (udata && (udata->inlen || udata->outlen))
		return -EOPNOTSUPP;
	if (mask & ~(IB_QP_ATTR_STANDARD_BITS | IB_QP_RATE_LIMIT))
		return -EOPNOTSUPP;
	if (mask & IB_QP_CAP)
		return -EOPNOTSUPP;
	if ((mask & IB_QP_STATE) && attr->qp_state > IB_QPS_ERR)
		return -EINVAL;
	if ((mask & IB_QP_PORT) &&
	    !rdma_is_port_valid(ibqp->device, attr->port_num))
		return -EINVAL;
	if ((mask & IB_QP_PKEY_INDEX) && attr->pkey_index >= mdev->pkey_tbl_len)
		return -EINVAL;
	if ((mask & IB_QP_ALT_PATH) &&
	    (!rdma_is_port_valid(ibqp->device, attr->alt_port_num) ||
	     attr->alt_pkey_index >= mdev->pkey_tbl_len))
		return -EINVAL;
	if ((mask & IB_QP_PATH_MTU) &&
	    (attr->path_mtu < IB_MTU_256 || attr->path_mtu > IB_MTU_4096))
		return -EINVAL;

	/* Every transition is accepted; the values are only remembered. */
	spin_lock_irqsave(&qp->lock, flags);
	if (mask & IB_QP_EN_SQD_ASYNC_NOTIFY)
		cur->en_sqd_async_notify = attr->en_sqd_async_notify;
	if (mask & IB_QP_ACCESS_FLAGS)
		cur->qp_access_flags = attr->qp_access_flags;
	if (mask & IB_QP_PKEY_INDEX)
		cur->pkey_index = attr->pkey_index;
	if (mask & IB_QP_PORT)
		cur->port_num = attr->port_num;
	if (mask & IB_QP_QKEY)
		cur->qkey = attr->qkey;
	if (mask & IB_QP_AV) {
		cur->ah_attr = attr->ah_attr;
		cur->ah_attr.grh.sgid_attr = NULL;
	}
	if (mask & IB_QP_PATH_MTU)
		cur->path_mtu = attr->path_mtu;
	if (mask & IB_QP_TIMEOUT)
		cur->timeout = attr->timeout;
	if (mask & IB_QP_RETRY_CNT)
		cur->retry_cnt = attr->retry_cnt;
	if (mask & IB_QP_RNR_RETRY)
		cur->rnr_retry = attr->rnr_retry;
	if (mask & IB_QP_RQ_PSN)
		cur->rq_psn = attr->rq_psn;
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		cur->max_rd_atomic = attr->max_rd_atomic;
	if (mask & IB_QP_ALT_PATH) {
		cur->alt_ah_attr = attr->alt_ah_attr;
		cur->alt_ah_attr.grh.sgid_attr = NULL;
		cur->alt_pkey_index = attr->alt_pkey_index;
		cur->alt_port_num = attr->alt_port_num;
		cur->alt_timeout = attr->alt_timeout;
	}
	if (mask & IB_QP_MIN_RNR_TIMER)
		cur->min_rnr_timer = attr->min_rnr_timer;
	if (mask & IB_QP_SQ_PSN)
		cur->sq_psn = attr->sq_psn;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC)
		cur->max_dest_rd_atomic = attr->max_dest_rd_atomic;
	if (mask & IB_QP_PATH_MIG_STATE)
		cur->path_mig_state = attr->path_mig_state;
	if (mask & IB_QP_DEST_QPN)
		cur->dest_qp_num = attr->dest_qp_num;
	if (mask & IB_QP_RATE_LIMIT)
		cur->rate_limit = attr->rate_limit;
	if (mask & IB_QP_STATE) {
		cur->qp_state = attr->qp_state;
		if (attr->qp_state == IB_QPS_ERR) {
			mock_flush_rq(qp);
		} else if (attr->qp_state == IB_QPS_RESET) {
			qp->rq_head = 0;
			qp->rq_count = 0;
		}
	}
	spin_unlock_irqrestore(&qp->lock, flags);
	return 0;
}

static int mock_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			 int mask, struct ib_qp_init_attr *init)
{
	struct mock_qp *qp = to_mqp(ibqp);
	unsigned long flags;

	spin_lock_irqsave(&qp->lock, flags);
	*attr = qp->attr;
	spin_unlock_irqrestore(&qp->lock, flags);
	attr->cur_qp_state = attr->qp_state;

	memset(init, 0, sizeof(*init));
	init->qp_type = ibqp->qp_type;
	init->send_cq = ibqp->send_cq;
	init->recv_cq = ibqp->recv_cq;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sq_sig_all ? IB_SIGNAL_ALL_WR : IB_SIGNAL_REQ_WR;
	init->port_num = qp->mad_port;
	return 0;
}

static int mock_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
			  const struct ib_recv_wr **bad_wr)
{
	struct mock_qp *qp = to_mqp(ibqp);
	struct mock_rwqe *e;
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&qp->lock, flags);
	for (; wr; wr = wr->next) {
		if (qp->attr.qp_state == IB_QPS_RESET ||
		    wr->num_sge > qp->max_recv_sge) {
			ret = -EINVAL;
			break;
		}
		if (qp->rq_count == qp->rq_size) {
			ret = -ENOMEM;
			break;
		}
		e = &qp->rq[(qp->rq_head + qp->rq_count) % qp->rq_size];
		e->wr_id = wr->wr_id;
		e->num_sge = wr->num_sge;
		memcpy(e->sge, wr->sg_list, wr->num_sge * sizeof(*e->sge));
		qp->rq_count++;
	}
	if (qp->attr.qp_state == IB_QPS_ERR)
		mock_flush_rq(qp);
	spin_unlock_irqrestore(&qp->lock, flags);

	if (ret)
		*bad_wr = wr;
	return ret;
}

/*
 * With virtual DMA (no DMA device, see ib_uses_virt_dma()) the addresses
 * ib_core's DMA mapping helpers hand out are kernel virtual addresses.
 */
static void *mock_sge_ptr(const struct ib_sge *sge)
{
	return (void *)(uintptr_t)sge->addr;
}

/* Writes @len bytes (@src, or zeros if NULL) at offset *@pos of the SGEs. */
static void mock_sge_write(const struct mock_rwqe *e, u32 *pos,
			   const void *src, u32 len)
{
	u32 off = *pos, i, n;

	for (i = 0; i < e->num_sge && len; i++) {
		const struct ib_sge *sge = &e->sge[i];

		if (off >= sge->length) {
			off -= sge->length;
			continue;
		}
		n = min(len, sge->length - off);
		if (src) {
			memcpy(mock_sge_ptr(sge) + off, src, n);
			src += n;
		} else {
			memset(mock_sge_ptr(sge) + off, 0, n);
		}
		*pos += n;
		len -= n;
		off = 0;
	}
}

/* Receives a UD message on QP0/QP1 @dqp; mdev->qp_lock held. */
static void mock_receive(struct mock_qp *dqp, struct ib_wc *wc,
			 const void *buf, u32 len)
{
	struct mock_rwqe e;
	u32 space = 0, pos = 0, i;
	bool ok;

	spin_lock(&dqp->lock);
	ok = dqp->rq_count && (dqp->attr.qp_state == IB_QPS_RTR ||
			       dqp->attr.qp_state == IB_QPS_RTS ||
			       dqp->attr.qp_state == IB_QPS_SQD ||
			       dqp->attr.qp_state == IB_QPS_SQE);
	if (ok) {
		e = dqp->rq[dqp->rq_head];
		dqp->rq_head = (dqp->rq_head + 1) % dqp->rq_size;
		dqp->rq_count--;
	}
	spin_unlock(&dqp->lock);
	if (!ok) {
		pr_debug("QP%u: no receive posted, message dropped\n",
			 dqp->ibqp.qp_num);
		return;
	}

	for (i = 0; i < e.num_sge; i++)
		space += e.sge[i].length;
	if (space < sizeof(struct ib_grh) + len) {
		wc->status = IB_WC_LOC_LEN_ERR;
	} else {
		/* UD: the first 40 bytes hold the GRH, absent here */
		mock_sge_write(&e, &pos, NULL, sizeof(struct ib_grh));
		mock_sge_write(&e, &pos, buf, len);
		wc->status = IB_WC_SUCCESS;
	}
	wc->wr_id = e.wr_id;
	wc->opcode = IB_WC_RECV;
	wc->byte_len = sizeof(struct ib_grh) + len;
	wc->qp = &dqp->ibqp;
	mock_cq_push(to_mcq(dqp->ibqp.recv_cq), wc);
}

/* Delivers a MAD sent on QP0/QP1 @sqp to the QP0/QP1 at its DLID. */
static void mock_loopback(struct mock_dev *mdev, struct mock_qp *sqp,
			  const struct ib_ud_wr *wr, const void *buf, u32 len)
{
	struct mock_ah *ah = to_mah(wr->ah);
	u32 sport = sqp->mad_port, dport = ah->dlid;
	struct ib_wc wc = {};
	struct mock_qp *dqp;
	unsigned long flags;
	u16 pkey;
	int idx = 0;

	/* LID N is port N; anything else (permissive LID ...) is lost */
	if (dport < 1 || dport > mdev->nports)
		return;
	if (wr->remote_qpn != sqp->ibqp.qp_num)
		return;
	if (sqp->ibqp.qp_type == IB_QPT_GSI) {
		if (mock_get_pkey(mdev, sport, wr->pkey_index, &pkey))
			return;
		idx = mock_find_pkey(mdev, dport, pkey);
		if (idx < 0)
			return;
	}

	wc.src_qp = sqp->ibqp.qp_num;
	wc.slid = mock_port_lid(sport) | ah->src_path_bits;
	wc.sl = ah->sl;
	wc.pkey_index = idx;
	wc.port_num = dport;
	if (wr->wr.opcode == IB_WR_SEND_WITH_IMM) {
		wc.ex.imm_data = wr->wr.ex.imm_data;
		wc.wc_flags |= IB_WC_WITH_IMM;
	}

	spin_lock_irqsave(&mdev->qp_lock, flags);
	dqp = sqp->ibqp.qp_type == IB_QPT_SMI ?
		mock_port(mdev, dport)->qp0 : mock_port(mdev, dport)->qp1;
	if (dqp)
		mock_receive(dqp, &wc, buf, len);
	spin_unlock_irqrestore(&mdev->qp_lock, flags);
}

static int mock_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
			  const struct ib_send_wr **bad_wr)
{
	struct mock_dev *mdev = to_mdev(ibqp->device);
	struct mock_qp *qp = to_mqp(ibqp);
	u8 buf[IB_MGMT_MAD_SIZE];
	enum ib_qp_state state;
	unsigned long flags;
	struct ib_wc wc;
	u32 len, i;
	int ret = 0;

	if (!mock_is_mad_qp(ibqp)) {
		*bad_wr = wr;
		return -EOPNOTSUPP;
	}

	for (; wr; wr = wr->next) {
		spin_lock_irqsave(&qp->lock, flags);
		state = qp->attr.qp_state;
		spin_unlock_irqrestore(&qp->lock, flags);
		if (state != IB_QPS_RTS || wr->num_sge > MOCK_MAX_SGE ||
		    (wr->opcode != IB_WR_SEND &&
		     wr->opcode != IB_WR_SEND_WITH_IMM)) {
			ret = -EINVAL;
			break;
		}

		memset(&wc, 0, sizeof(wc));
		wc.wr_id = wr->wr_id;
		wc.opcode = IB_WC_SEND;
		wc.qp = ibqp;
		wc.status = IB_WC_SUCCESS;
		for (len = 0, i = 0; i < wr->num_sge; i++) {
			const struct ib_sge *sge = &wr->sg_list[i];

			if (sge->length > sizeof(buf) - len) {
				wc.status = IB_WC_LOC_LEN_ERR;
				break;
			}
			memcpy(buf + len, mock_sge_ptr(sge), sge->length);
			len += sge->length;
		}

		if (qp->sq_sig_all || (wr->send_flags & IB_SEND_SIGNALED))
			mock_cq_push(to_mcq(ibqp->send_cq), &wc);
		if (wc.status == IB_WC_SUCCESS)
			mock_loopback(mdev, qp, ud_wr(wr), buf, len);
	}
	if (ret)
		*bad_wr = wr;
	return ret;
}

const struct ib_device_ops mock_dev_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_UNKNOWN,

	.alloc_pd = mock_alloc_pd,
	.create_ah = mock_create_ah,
	.create_cq = mock_create_cq,
	.create_qp = mock_create_qp,
	.dealloc_pd = mock_dealloc_pd,
	.dereg_mr = mock_dereg_mr,
	.destroy_ah = mock_destroy_ah,
	.destroy_cq = mock_destroy_cq,
	.destroy_qp = mock_destroy_qp,
	.get_dev_fw_str = mock_get_dev_fw_str,
	.get_dma_mr = mock_get_dma_mr,
	.get_link_layer = mock_get_link_layer,
	.get_port_immutable = mock_get_port_immutable,
	.modify_device = mock_modify_device,
	.modify_port = mock_modify_port,
	.modify_qp = mock_modify_qp,
	.poll_cq = mock_poll_cq,
	.post_recv = mock_post_recv,
	.post_send = mock_post_send,
	.process_mad = mock_process_mad,
	.query_ah = mock_query_ah,
	.query_device = mock_query_device,
	.query_gid = mock_query_gid,
	.query_pkey = mock_query_pkey,
	.query_port = mock_query_port,
	.query_qp = mock_query_qp,
	.reg_user_mr = mock_reg_user_mr,
	.req_notify_cq = mock_req_notify_cq,

	INIT_RDMA_OBJ_SIZE(ib_ah, mock_ah, ibah),
	INIT_RDMA_OBJ_SIZE(ib_cq, mock_cq, ibcq),
	INIT_RDMA_OBJ_SIZE(ib_pd, mock_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, mock_qp, ibqp),
};
