// SPDX-License-Identifier: GPL-2.0
/*
 * mockhca: /dev/mockhca, the control device (ABI in mockhca_uapi.h).
 *
 * QPs are created, modified, queried and destroyed with ib_core's kernel
 * verbs in the context of the task making the ioctl, so whatever hooks
 * ib_core (ibguard) sees that task; errors are passed back unchanged. Each
 * open file has its own PD, CQ and QPs; closing it destroys them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

#include "mockhca.h"

#define MOCK_CTL_CQE		64
#define MOCK_CTL_QP_WR		16
#define MOCK_QP_ALL_ATTRS	GENMASK(20, 0)

struct mock_file {
	struct mutex lock;		/* pd, cq, qps */
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct xarray qps;		/* handle -> struct ib_qp * */
};

static struct mock_dev *ctl_mdev;

static int mock_ctl_open(struct inode *inode, struct file *filp)
{
	struct mock_file *mf;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL);
	if (!mf)
		return -ENOMEM;
	mutex_init(&mf->lock);
	xa_init_flags(&mf->qps, XA_FLAGS_ALLOC1);
	filp->private_data = mf;
	return nonseekable_open(inode, filp);
}

/* A QP's asynchronous events: IB_EVENT_QP_FATAL ones are counted. */
static void mock_ctl_qp_event(struct ib_event *event, void *context)
{
	atomic_t *fatal_events = context;

	if (event->event == IB_EVENT_QP_FATAL)
		atomic_inc(fatal_events);
}

/* ib_destroy_qp() and, if it worked, the QP's event counter. */
static int mock_ctl_destroy(struct ib_qp *qp)
{
	void *fatal_events = qp->qp_context;
	int ret = ib_destroy_qp(qp);

	if (!ret)
		kfree(fatal_events);
	return ret;
}

static int mock_ctl_release(struct inode *inode, struct file *filp)
{
	struct mock_file *mf = filp->private_data;
	struct ib_qp *qp;
	unsigned long id;
	int ret;

	xa_for_each(&mf->qps, id, qp) {
		ret = mock_ctl_destroy(qp);
		if (ret)
			pr_err("destroying QP %u on close: %d\n", qp->qp_num,
			       ret);
	}
	xa_destroy(&mf->qps);
	if (mf->cq)
		ib_free_cq(mf->cq);
	if (mf->pd)
		ib_dealloc_pd(mf->pd);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return 0;
}

/* The file's PD and CQ, made on first use; mf->lock held. */
static int mock_ctl_get_resources(struct mock_file *mf)
{
	struct ib_device *ibdev = &ctl_mdev->ibdev;
	struct ib_pd *pd;
	struct ib_cq *cq;

	if (mf->pd)
		return 0;
	pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(pd))
		return PTR_ERR(pd);
	cq = ib_alloc_cq(ibdev, NULL, MOCK_CTL_CQE, 0, IB_POLL_DIRECT);
	if (IS_ERR(cq)) {
		ib_dealloc_pd(pd);
		return PTR_ERR(cq);
	}
	mf->pd = pd;
	mf->cq = cq;
	return 0;
}

static int mock_ctl_info(void __user *arg)
{
	struct mock_dev *mdev = ctl_mdev;
	struct mockhca_info info = {};

	strscpy(info.name, dev_name(&mdev->ibdev.dev), sizeof(info.name));
	info.abi_version = MOCKHCA_ABI_VERSION;
	info.ports = mdev->nports;
	info.pkey_tbl_len = mdev->pkey_tbl_len;
	info.subnet_prefix = mdev->subnet_prefix;
	info.node_guid = mdev->guid;
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static int mock_ctl_create_qp(struct mock_file *mf, void __user *arg)
{
	struct mockhca_qp_create req;
	struct ib_qp_init_attr init = {};
	struct ib_qp *qp;
	u32 id;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.qp_type != MOCKHCA_QPT_RC && req.qp_type != MOCKHCA_QPT_UD &&
	    req.qp_type != MOCKHCA_QPT_DRIVER)
		return -EINVAL;

	mutex_lock(&mf->lock);
	ret = mock_ctl_get_resources(mf);
	if (ret)
		goto out;

	init.qp_type = req.qp_type;
	init.send_cq = mf->cq;
	init.recv_cq = mf->cq;
	init.sq_sig_type = IB_SIGNAL_REQ_WR;
	init.port_num = req.port;
	init.cap.max_send_wr = MOCK_CTL_QP_WR;
	init.cap.max_recv_wr = MOCK_CTL_QP_WR;
	init.cap.max_send_sge = 1;
	init.cap.max_recv_sge = 1;
	init.event_handler = mock_ctl_qp_event;
	init.qp_context = kzalloc(sizeof(atomic_t), GFP_KERNEL);
	if (!init.qp_context) {
		ret = -ENOMEM;
		goto out;
	}
	qp = ib_create_qp(mf->pd, &init);
	if (IS_ERR(qp)) {
		kfree(init.qp_context);
		ret = PTR_ERR(qp);
		goto out;
	}

	ret = xa_alloc(&mf->qps, &id, qp, xa_limit_31b, GFP_KERNEL);
	if (ret)
		goto err_destroy;
	req.handle = id;
	req.qp_num = qp->qp_num;
	if (copy_to_user(arg, &req, sizeof(req))) {
		xa_erase(&mf->qps, id);
		ret = -EFAULT;
		goto err_destroy;
	}
	mutex_unlock(&mf->lock);
	return 0;

err_destroy:
	mock_ctl_destroy(qp);
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static void mock_ctl_ib_path(struct rdma_ah_attr *ah, u32 port, u32 dlid,
			     u32 sl)
{
	ah->type = RDMA_AH_ATTR_TYPE_IB;
	rdma_ah_set_port_num(ah, port);
	rdma_ah_set_dlid(ah, dlid);
	rdma_ah_set_sl(ah, sl);
}

static int mock_ctl_modify_qp(struct mock_file *mf, void __user *arg)
{
	struct mockhca_qp_attr ua;
	struct ib_qp_attr attr = {};
	struct ib_qp *qp;
	u32 mask;
	int ret;

	if (copy_from_user(&ua, arg, sizeof(ua)))
		return -EFAULT;
	mask = ua.attr_mask;
	if (mask & ~MOCK_QP_ALL_ATTRS)
		return -EINVAL;

	attr.qp_state = ua.qp_state;
	attr.cur_qp_state = ua.cur_qp_state;
	attr.port_num = ua.port;
	attr.pkey_index = ua.pkey_index;
	attr.qkey = ua.qkey;
	attr.dest_qp_num = ua.dest_qp_num;
	attr.rq_psn = ua.rq_psn;
	attr.sq_psn = ua.sq_psn;
	attr.path_mtu = ua.path_mtu;
	attr.qp_access_flags = ua.qp_access_flags;
	attr.timeout = ua.timeout;
	attr.retry_cnt = ua.retry_cnt;
	attr.rnr_retry = ua.rnr_retry;
	attr.min_rnr_timer = ua.min_rnr_timer;
	attr.max_rd_atomic = ua.max_rd_atomic;
	attr.max_dest_rd_atomic = ua.max_dest_rd_atomic;
	attr.path_mig_state = ua.path_mig_state;
	attr.alt_port_num = ua.alt_port;
	attr.alt_pkey_index = ua.alt_pkey_index;
	attr.alt_timeout = ua.alt_timeout;
	if (mask & MOCKHCA_QP_ALT_PATH)
		mock_ctl_ib_path(&attr.alt_ah_attr, ua.alt_port, ua.alt_dlid,
				 ua.alt_sl);

	mutex_lock(&mf->lock);
	qp = xa_load(&mf->qps, ua.handle);
	if (!qp) {
		ret = -ENOENT;
		goto out;
	}
	/*
	 * ib_core trusts a kernel caller's port numbers (it indexes its port
	 * data with them): check them here as uverbs does for user space.
	 */
	if (((mask & MOCKHCA_QP_PORT) && !rdma_is_port_valid(qp->device, ua.port)) ||
	    ((mask & MOCKHCA_QP_ALT_PATH) &&
	     !rdma_is_port_valid(qp->device, ua.alt_port))) {
		ret = -EINVAL;
		goto out;
	}
	if (mask & MOCKHCA_QP_AV)
		mock_ctl_ib_path(&attr.ah_attr,
				 mask & MOCKHCA_QP_PORT ? ua.port : qp->port,
				 ua.dlid, ua.sl);
	ret = ib_modify_qp(qp, &attr, mask);
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static int mock_ctl_query_qp(struct mock_file *mf, void __user *arg)
{
	struct mockhca_qp_attr ua;
	struct ib_qp_init_attr init;
	struct ib_qp_attr attr;
	struct ib_qp *qp;
	u32 handle, mask;
	int ret;

	if (copy_from_user(&ua, arg, sizeof(ua)))
		return -EFAULT;
	if (ua.attr_mask & ~MOCK_QP_ALL_ATTRS)
		return -EINVAL;

	mutex_lock(&mf->lock);
	qp = xa_load(&mf->qps, ua.handle);
	if (!qp) {
		ret = -ENOENT;
		goto out;
	}
	memset(&attr, 0, sizeof(attr));
	ret = ib_query_qp(qp, &attr,
			  ua.attr_mask ? ua.attr_mask : MOCK_QP_ALL_ATTRS,
			  &init);
	if (ret)
		goto out;

	handle = ua.handle;
	mask = ua.attr_mask;
	memset(&ua, 0, sizeof(ua));
	ua.handle = handle;
	ua.attr_mask = mask;
	ua.qp_state = attr.qp_state;
	ua.cur_qp_state = attr.cur_qp_state;
	ua.port = attr.port_num;
	ua.pkey_index = attr.pkey_index;
	ua.qkey = attr.qkey;
	ua.dest_qp_num = attr.dest_qp_num;
	ua.rq_psn = attr.rq_psn;
	ua.sq_psn = attr.sq_psn;
	ua.path_mtu = attr.path_mtu;
	ua.qp_access_flags = attr.qp_access_flags;
	ua.dlid = rdma_ah_get_dlid(&attr.ah_attr);
	ua.sl = rdma_ah_get_sl(&attr.ah_attr);
	ua.timeout = attr.timeout;
	ua.retry_cnt = attr.retry_cnt;
	ua.rnr_retry = attr.rnr_retry;
	ua.min_rnr_timer = attr.min_rnr_timer;
	ua.max_rd_atomic = attr.max_rd_atomic;
	ua.max_dest_rd_atomic = attr.max_dest_rd_atomic;
	ua.alt_port = attr.alt_port_num;
	ua.alt_pkey_index = attr.alt_pkey_index;
	ua.alt_dlid = rdma_ah_get_dlid(&attr.alt_ah_attr);
	ua.alt_sl = rdma_ah_get_sl(&attr.alt_ah_attr);
	ua.alt_timeout = attr.alt_timeout;
	ua.path_mig_state = attr.path_mig_state;
	ua.qp_type = qp->qp_type;
	ua.qp_num = qp->qp_num;
	ua.fatal_events = atomic_read((atomic_t *)qp->qp_context);
out:
	mutex_unlock(&mf->lock);
	if (!ret && copy_to_user(arg, &ua, sizeof(ua)))
		ret = -EFAULT;
	return ret;
}

static int mock_ctl_destroy_qp(struct mock_file *mf, u32 __user *arg)
{
	struct ib_qp *qp;
	u32 handle;
	int ret;

	if (get_user(handle, arg))
		return -EFAULT;

	mutex_lock(&mf->lock);
	qp = xa_load(&mf->qps, handle);
	if (!qp) {
		ret = -ENOENT;
		goto out;
	}
	ret = mock_ctl_destroy(qp);
	if (!ret)
		xa_erase(&mf->qps, handle);
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static int mock_ctl_set_pkeys(void __user *arg)
{
	struct mock_dev *mdev = ctl_mdev;
	struct mockhca_pkeys *req;
	struct mock_port *mp;
	struct ib_event event = {};
	unsigned long flags;
	int ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (!rdma_is_port_valid(&mdev->ibdev, req->port) ||
	    req->count > mdev->pkey_tbl_len) {
		ret = -EINVAL;
		goto out;
	}

	mp = mock_port(mdev, req->port);
	spin_lock_irqsave(&mp->lock, flags);
	memset(mp->pkeys, 0, sizeof(mp->pkeys));
	memcpy(mp->pkeys, req->pkeys, req->count * sizeof(req->pkeys[0]));
	spin_unlock_irqrestore(&mp->lock, flags);

	event.device = &mdev->ibdev;
	event.element.port_num = req->port;
	event.event = IB_EVENT_PKEY_CHANGE;
	ib_dispatch_event(&event);
	/*
	 * ib_core updates its P_Key cache, then calls the event handlers, from
	 * a work item on ib_wq: wait for both.
	 */
	flush_workqueue(ib_wq);
	pr_info("%s port %u: P_Key table replaced (%u entries)\n",
		dev_name(&mdev->ibdev.dev), req->port, req->count);
out:
	kfree(req);
	return ret;
}

/* The driver's table, or ib_core's cache of it (ib_get_cached_pkey()) */
static int mock_ctl_get_pkeys(void __user *arg, bool cached)
{
	struct mock_dev *mdev = ctl_mdev;
	struct mockhca_pkeys *req;
	int ret = 0;
	u32 i;

	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (!rdma_is_port_valid(&mdev->ibdev, req->port)) {
		ret = -EINVAL;
		goto out;
	}
	memset(req->pkeys, 0, sizeof(req->pkeys));
	if (!cached)
		mock_get_pkeys(mdev, req->port, req->pkeys);
	for (i = 0; cached && i < mdev->pkey_tbl_len; i++) {
		ret = ib_get_cached_pkey(&mdev->ibdev, req->port, i,
					 &req->pkeys[i]);
		if (ret)
			goto out;
	}
	req->count = mdev->pkey_tbl_len;
	if (copy_to_user(arg, req, sizeof(*req)))
		ret = -EFAULT;
out:
	kfree(req);
	return ret;
}

static long mock_ctl_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct mock_file *mf = filp->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MOCKHCA_IOC_INFO:
		return mock_ctl_info(uarg);
	case MOCKHCA_IOC_CREATE_QP:
		return mock_ctl_create_qp(mf, uarg);
	case MOCKHCA_IOC_MODIFY_QP:
		return mock_ctl_modify_qp(mf, uarg);
	case MOCKHCA_IOC_QUERY_QP:
		return mock_ctl_query_qp(mf, uarg);
	case MOCKHCA_IOC_DESTROY_QP:
		return mock_ctl_destroy_qp(mf, uarg);
	case MOCKHCA_IOC_SET_PKEYS:
		return mock_ctl_set_pkeys(uarg);
	case MOCKHCA_IOC_GET_PKEYS:
		return mock_ctl_get_pkeys(uarg, false);
	case MOCKHCA_IOC_GET_CACHED_PKEYS:
		return mock_ctl_get_pkeys(uarg, true);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations mock_ctl_fops = {
	.owner = THIS_MODULE,
	.open = mock_ctl_open,
	.release = mock_ctl_release,
	.unlocked_ioctl = mock_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* Everyone may make QPs (ibguard tests several users); see SET_PKEYS */
static struct miscdevice mock_ctl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mockhca",
	.fops = &mock_ctl_fops,
	.mode = 0666,
};

int mock_ctl_register(struct mock_dev *mdev)
{
	int ret;

	/* The ABI's values are ib_core's */
	BUILD_BUG_ON(MOCKHCA_QP_STATE != IB_QP_STATE);
	BUILD_BUG_ON(MOCKHCA_QP_PKEY_INDEX != IB_QP_PKEY_INDEX);
	BUILD_BUG_ON(MOCKHCA_QP_PORT != IB_QP_PORT);
	BUILD_BUG_ON(MOCKHCA_QP_AV != IB_QP_AV);
	BUILD_BUG_ON(MOCKHCA_QP_ALT_PATH != IB_QP_ALT_PATH);
	BUILD_BUG_ON(MOCKHCA_QP_DEST_QPN != IB_QP_DEST_QPN);
	BUILD_BUG_ON(MOCK_QP_ALL_ATTRS != IB_QP_ATTR_STANDARD_BITS);
	BUILD_BUG_ON(MOCKHCA_QPS_RESET != IB_QPS_RESET);
	BUILD_BUG_ON(MOCKHCA_QPS_RTS != IB_QPS_RTS);
	BUILD_BUG_ON(MOCKHCA_QPS_ERR != IB_QPS_ERR);
	BUILD_BUG_ON(MOCKHCA_QPT_RC != IB_QPT_RC);
	BUILD_BUG_ON(MOCKHCA_QPT_UD != IB_QPT_UD);
	BUILD_BUG_ON(MOCKHCA_QPT_DRIVER != IB_QPT_RESERVED1);

	ctl_mdev = mdev;
	ret = misc_register(&mock_ctl_misc);
	if (ret)
		pr_err("cannot register /dev/%s: %d\n", mock_ctl_misc.name, ret);
	return ret;
}

void mock_ctl_unregister(void)
{
	misc_deregister(&mock_ctl_misc);
}
