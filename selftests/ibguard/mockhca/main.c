// SPDX-License-Identifier: GPL-2.0
/*
 * mockhca: a test-only InfiniBand HCA without hardware, for the ibguard
 * selftests. It registers one ib_device with an InfiniBand link layer, a
 * configurable number of ports, P_Key table and subnet prefix, answers
 * subnet management queries (NodeInfo, PortInfo, P_KeyTable ...) so that
 * smpquery works, and offers /dev/mockhca to create and modify kernel QPs
 * through the real ib_core verbs (ctl.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <rdma/ib_verbs.h>

#include "mockhca.h"

static unsigned int ports = 2;
module_param(ports, uint, 0444);
MODULE_PARM_DESC(ports, "number of ports, 1..4 (default 2)");

static char *pkeys = "0xffff,0x8001,0x8002,0x0003";
module_param(pkeys, charp, 0444);
MODULE_PARM_DESC(pkeys,
		 "P_Key table of every port, comma-separated, index 0 first (default 0xffff,0x8001,0x8002,0x0003)");

static unsigned int pkey_tbl_len;
module_param(pkey_tbl_len, uint, 0444);
MODULE_PARM_DESC(pkey_tbl_len,
		 "P_Key table length, up to 128; the rest is 0 (default: as many as pkeys lists)");

static unsigned long long subnet_prefix = 0xfe80000000000000ULL;
module_param(subnet_prefix, ullong, 0444);
MODULE_PARM_DESC(subnet_prefix, "subnet prefix (default 0xfe80000000000000)");

static char *name = "mock0";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "ib_device name (default mock0)");

static unsigned long long guid = 0x020000fffe4d4800ULL;
module_param(guid, ullong, 0444);
MODULE_PARM_DESC(guid,
		 "node GUID; port N has GUID + N (default 0x020000fffe4d4800)");

static struct mock_dev *the_mdev;

static int mock_parse_pkeys(const char *list, u16 *table, u32 *count)
{
	char *buf, *p, *tok;
	int ret = 0;
	u32 n = 0;
	u16 v;

	buf = kstrdup(list ? list : "", GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = buf;
	while ((tok = strsep(&p, ",")) != NULL) {
		tok = strim(tok);
		if (!*tok || n == MOCKHCA_MAX_PKEYS) {
			ret = -EINVAL;
			break;
		}
		ret = kstrtou16(tok, 0, &v);
		if (ret)
			break;
		table[n++] = v;
	}
	kfree(buf);
	*count = n;
	return ret;
}

static int __init mock_init(void)
{
	struct mock_dev *mdev;
	struct ib_device *ibdev;
	u32 n, p;
	int ret;

	if (ports < 1 || ports > MOCKHCA_MAX_PORTS) {
		pr_err("ports=%u: must be 1..%u\n", ports, MOCKHCA_MAX_PORTS);
		return -EINVAL;
	}
	if (!name || !*name || strlen(name) >= IB_DEVICE_NAME_MAX) {
		pr_err("name: must be 1..%u characters\n", IB_DEVICE_NAME_MAX - 1);
		return -EINVAL;
	}

	mdev = ib_alloc_device(mock_dev, ibdev);
	if (!mdev)
		return -ENOMEM;
	ibdev = &mdev->ibdev;
	ida_init(&mdev->qpn_ida);
	spin_lock_init(&mdev->qp_lock);

	ret = mock_parse_pkeys(pkeys, mdev->port[0].pkeys, &n);
	if (ret) {
		pr_err("pkeys=%s: expected up to %u comma-separated 16-bit values\n",
		       pkeys, MOCKHCA_MAX_PKEYS);
		goto err_dealloc;
	}
	mdev->pkey_tbl_len = pkey_tbl_len ? pkey_tbl_len : n;
	if (mdev->pkey_tbl_len < n || mdev->pkey_tbl_len > MOCKHCA_MAX_PKEYS) {
		pr_err("pkey_tbl_len=%u: must be %u..%u\n", pkey_tbl_len, n,
		       MOCKHCA_MAX_PKEYS);
		ret = -EINVAL;
		goto err_dealloc;
	}
	mdev->nports = ports;
	mdev->subnet_prefix = subnet_prefix;
	mdev->guid = guid;
	for (p = 0; p < ports; p++) {
		spin_lock_init(&mdev->port[p].lock);
		memcpy(mdev->port[p].pkeys, mdev->port[0].pkeys,
		       sizeof(mdev->port[p].pkeys));
	}

	ibdev->node_type = RDMA_NODE_IB_CA;
	ibdev->phys_port_cnt = ports;
	ibdev->num_comp_vectors = 1;
	ibdev->node_guid = cpu_to_be64(guid);
	ibdev->local_dma_lkey = 0;
	snprintf(ibdev->node_desc, sizeof(ibdev->node_desc), "mockhca %s", name);
	ib_set_device_ops(ibdev, &mock_dev_ops);

	/* No DMA device: ib_core uses virtual DMA (ib_uses_virt_dma()) */
	ret = ib_register_device(ibdev, name, NULL);
	if (ret) {
		pr_err("ib_register_device(%s): %d\n", name, ret);
		goto err_dealloc;
	}

	ret = mock_ctl_register(mdev);
	if (ret)
		goto err_unregister;

	the_mdev = mdev;
	pr_info("%s: %u port(s), %u P_Key(s), subnet prefix 0x%016llx\n",
		dev_name(&ibdev->dev), mdev->nports, mdev->pkey_tbl_len,
		mdev->subnet_prefix);
	return 0;

err_unregister:
	ib_unregister_device(ibdev);
err_dealloc:
	ida_destroy(&mdev->qpn_ida);
	ib_dealloc_device(ibdev);
	return ret;
}

static void __exit mock_exit(void)
{
	struct mock_dev *mdev = the_mdev;

	mock_ctl_unregister();
	/* Waits until every client (ib_mad, ib_umad ...) has let go */
	ib_unregister_device(&mdev->ibdev);
	ida_destroy(&mdev->qpn_ida);
	ib_dealloc_device(&mdev->ibdev);
	pr_info("unloaded\n");
}

module_init(mock_init);
module_exit(mock_exit);

MODULE_DESCRIPTION("mockhca: test-only InfiniBand HCA for the ibguard selftests");
MODULE_LICENSE("GPL");
