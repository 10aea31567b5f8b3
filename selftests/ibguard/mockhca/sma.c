// SPDX-License-Identifier: GPL-2.0
/*
 * mockhca: the embedded subnet management agent (and a performance
 * management agent with counters that stay zero), as the process_mad op.
 *
 * ib_mad calls process_mad for directed-route SMPs that end at this device
 * and for every MAD received on QP0/QP1 (verbs.c delivers LID-routed MADs
 * sent to a LID of this device); ib_core's sysfs calls it for the port
 * counters. Requests get a reply (IB_MAD_RESULT_REPLY); anything else,
 * responses included, goes on to ib_mad's agents (IB_MAD_RESULT_SUCCESS).
 *
 * SMA: Get NodeDescription, NodeInfo, GUIDInfo, PortInfo, P_KeyTable.
 * PMA: Get ClassPortInfo, PortCounters, PortCountersExtended (all zero).
 * Set and other attributes are answered "unsupported method/attribute".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/string.h>
#include <rdma/ib_mad.h>
#include <rdma/ib_pma.h>
#include <rdma/ib_smi.h>

#include "mockhca.h"

#define MOCK_UNSUPPORTED \
	cpu_to_be16(IB_MGMT_MAD_STATUS_UNSUPPORTED_METHOD_ATTRIB)
#define MOCK_INVALID	cpu_to_be16(IB_MGMT_MAD_STATUS_INVALID_ATTRIB_VALUE)

#define MOCK_PKEYS_PER_BLOCK	32
#define MOCK_GUIDS_PER_BLOCK	8
/* PMA attributes start after 40 reserved bytes of the MAD data */
#define MOCK_PMA_OFFSET		40

/* PortInfo values (IBA vol. 1, 14.2.5.6) */
#define MOCK_LINK_WIDTH_4X	2
#define MOCK_LINK_WIDTH_1X_4X	3
#define MOCK_LINK_SPEED_ALL	7	/* 2.5, 5 and 10 Gb/s a lane */
#define MOCK_LINK_SPEED_10G	4	/* QDR */
#define MOCK_LINK_DOWN_POLL	2
#define MOCK_VL0		1

static __be16 mock_node_desc(struct mock_dev *mdev, struct ib_smp *smp)
{
	BUILD_BUG_ON(sizeof(smp->data) < IB_DEVICE_NODE_DESC_MAX);
	memcpy(smp->data, mdev->ibdev.node_desc, IB_DEVICE_NODE_DESC_MAX);
	return 0;
}

static __be16 mock_node_info(struct mock_dev *mdev, u32 port,
			     struct ib_smp *smp)
{
	struct ib_node_info *ni = (struct ib_node_info *)smp->data;

	ni->base_version = IB_MGMT_BASE_VERSION;
	ni->class_version = 1;
	ni->node_type = RDMA_NODE_IB_CA;
	ni->num_ports = mdev->nports;
	ni->sys_guid = cpu_to_be64(mdev->guid);
	ni->node_guid = cpu_to_be64(mdev->guid);
	ni->port_guid = mock_port_guid(mdev, port);
	ni->partition_cap = cpu_to_be16(mdev->pkey_tbl_len);
	ni->device_id = cpu_to_be16(MOCK_DEVICE_ID);
	ni->revision = cpu_to_be32(MOCK_HW_REV);
	ni->local_port_num = port;
	ni->vendor_id[0] = (MOCK_VENDOR_ID >> 16) & 0xff;
	ni->vendor_id[1] = (MOCK_VENDOR_ID >> 8) & 0xff;
	ni->vendor_id[2] = MOCK_VENDOR_ID & 0xff;
	return 0;
}

static __be16 mock_guid_info(struct mock_dev *mdev, u32 port,
			     const struct ib_smp *in, struct ib_smp *smp)
{
	u32 block = be32_to_cpu(in->attr_mod);
	__be64 *guids = (__be64 *)smp->data;

	if (block >= DIV_ROUND_UP(MOCK_GID_TBL_LEN, MOCK_GUIDS_PER_BLOCK))
		return MOCK_INVALID;
	/* Only GUID index 0, the port GUID, exists */
	if (block == 0)
		guids[0] = mock_port_guid(mdev, port);
	return 0;
}

static __be16 mock_port_info(struct mock_dev *mdev, u32 port,
			     const struct ib_smp *in, struct ib_smp *smp)
{
	struct ib_port_info *pi = (struct ib_port_info *)smp->data;
	u32 which = be32_to_cpu(in->attr_mod);

	BUILD_BUG_ON(sizeof(*pi) > sizeof(smp->data));
	/* 0: the port that received the SMP */
	if (!which)
		which = port;
	if (which > mdev->nports)
		return MOCK_INVALID;

	pi->gid_prefix = cpu_to_be64(mdev->subnet_prefix);
	pi->lid = cpu_to_be16(mock_port_lid(which));
	pi->sm_lid = cpu_to_be16(MOCK_SM_LID);
	pi->cap_mask = cpu_to_be32(mock_port_cap_flags(mdev, which));
	pi->local_port_num = port;
	pi->link_width_enabled = MOCK_LINK_WIDTH_4X;
	pi->link_width_supported = MOCK_LINK_WIDTH_1X_4X;
	pi->link_width_active = MOCK_LINK_WIDTH_4X;
	pi->linkspeed_portstate = MOCK_LINK_SPEED_ALL << 4 | IB_PORT_ACTIVE;
	pi->portphysstate_linkdown =
		IB_PORT_PHYS_STATE_LINK_UP << 4 | MOCK_LINK_DOWN_POLL;
	pi->linkspeedactive_enabled =
		MOCK_LINK_SPEED_10G << 4 | MOCK_LINK_SPEED_ALL;
	pi->neighbormtu_mastersmsl = IB_MTU_4096 << 4;
	pi->vlcap_inittype = MOCK_VL0 << 4;
	pi->inittypereply_mtucap = IB_MTU_4096;
	pi->vlstallcnt_hoqlife = 7 << 5 | 16;
	pi->operationalvl_pei_peo_fpi_fpo = MOCK_VL0 << 4;
	pi->guid_cap = MOCK_GID_TBL_LEN;
	pi->clientrereg_resv_subnetto = 18;
	pi->resv_resptimevalue = 20;
	pi->localphyerrors_overrunerrors = 8 << 4 | 8;
	return 0;
}

static __be16 mock_pkey_table(struct mock_dev *mdev, u32 port,
			      const struct ib_smp *in, struct ib_smp *smp)
{
	/* For a CA the block number is the low 16 bits */
	u32 first = (be32_to_cpu(in->attr_mod) & 0xffff) * MOCK_PKEYS_PER_BLOCK;
	__be16 *out = (__be16 *)smp->data;
	u16 pkeys[MOCKHCA_MAX_PKEYS];
	u32 i;

	if (first >= mdev->pkey_tbl_len)
		return MOCK_INVALID;
	mock_get_pkeys(mdev, port, pkeys);
	for (i = 0; i < MOCK_PKEYS_PER_BLOCK; i++)
		if (first + i < mdev->pkey_tbl_len)
			out[i] = cpu_to_be16(pkeys[first + i]);
	return 0;
}

static int mock_sma(struct mock_dev *mdev, u32 port, const struct ib_mad *in,
		    struct ib_mad *out)
{
	const struct ib_smp *ismp = (const struct ib_smp *)in;
	struct ib_smp *smp = (struct ib_smp *)out;
	__be16 status;

	if (ismp->method != IB_MGMT_METHOD_GET &&
	    ismp->method != IB_MGMT_METHOD_SET)
		return IB_MAD_RESULT_SUCCESS;

	memcpy(out, in, sizeof(*out));
	memset(smp->data, 0, sizeof(smp->data));
	smp->method = IB_MGMT_METHOD_GET_RESP;

	if (ismp->method == IB_MGMT_METHOD_SET)
		status = MOCK_UNSUPPORTED;
	else if (ismp->attr_id == IB_SMP_ATTR_NODE_DESC)
		status = mock_node_desc(mdev, smp);
	else if (ismp->attr_id == IB_SMP_ATTR_NODE_INFO)
		status = mock_node_info(mdev, port, smp);
	else if (ismp->attr_id == IB_SMP_ATTR_GUID_INFO)
		status = mock_guid_info(mdev, port, ismp, smp);
	else if (ismp->attr_id == IB_SMP_ATTR_PORT_INFO)
		status = mock_port_info(mdev, port, ismp, smp);
	else if (ismp->attr_id == IB_SMP_ATTR_PKEY_TABLE)
		status = mock_pkey_table(mdev, port, ismp, smp);
	else
		status = MOCK_UNSUPPORTED;

	smp->status = status;
	if (ismp->mgmt_class == IB_MGMT_CLASS_SUBN_DIRECTED_ROUTE)
		smp->status |= IB_SMP_DIRECTION;
	return IB_MAD_RESULT_SUCCESS | IB_MAD_RESULT_REPLY;
}

static int mock_pma(struct mock_dev *mdev, u32 port, const struct ib_mad *in,
		    struct ib_mad *out)
{
	const struct ib_mad_hdr *hdr = &in->mad_hdr;
	struct ib_class_port_info *cpi;
	struct ib_pma_portcounters *pc;
	__be16 status = 0;

	if (hdr->method != IB_MGMT_METHOD_GET &&
	    hdr->method != IB_MGMT_METHOD_SET)
		return IB_MAD_RESULT_SUCCESS;

	memcpy(out, in, sizeof(*out));
	memset(out->data, 0, sizeof(out->data));
	out->mad_hdr.method = IB_MGMT_METHOD_GET_RESP;

	if (hdr->attr_id == IB_PMA_CLASS_PORT_INFO) {
		cpi = (struct ib_class_port_info *)(out->data + MOCK_PMA_OFFSET);
		if (hdr->method == IB_MGMT_METHOD_SET) {
			status = MOCK_UNSUPPORTED;
		} else {
			cpi->base_version = IB_MGMT_BASE_VERSION;
			cpi->class_version = 1;
			cpi->cap_mask2_resp_time = cpu_to_be32(18);
		}
	} else if (hdr->attr_id == IB_PMA_PORT_COUNTERS ||
		   hdr->attr_id == IB_PMA_PORT_COUNTERS_EXT) {
		/* Same leading PortSelect/CounterSelect in both */
		pc = (struct ib_pma_portcounters *)(out->data + MOCK_PMA_OFFSET);
		memcpy(pc, in->data + MOCK_PMA_OFFSET, 4);
		if (pc->port_select > mdev->nports && pc->port_select != 0xff)
			status = MOCK_INVALID;
		/* Set resets the counters: they are zero anyway */
	} else {
		status = MOCK_UNSUPPORTED;
	}
	out->mad_hdr.status = status;
	return IB_MAD_RESULT_SUCCESS | IB_MAD_RESULT_REPLY;
}

int mock_process_mad(struct ib_device *ibdev, int mad_flags, u32 port,
		     const struct ib_wc *in_wc, const struct ib_grh *in_grh,
		     const struct ib_mad *in, struct ib_mad *out,
		     size_t *out_mad_size, u16 *out_mad_pkey_index)
{
	struct mock_dev *mdev = to_mdev(ibdev);
	int ret;

	if (!rdma_is_port_valid(ibdev, port) || *out_mad_size < sizeof(*out))
		return IB_MAD_RESULT_FAILURE;
	if (in->mad_hdr.base_version != IB_MGMT_BASE_VERSION)
		return IB_MAD_RESULT_SUCCESS;

	switch (in->mad_hdr.mgmt_class) {
	case IB_MGMT_CLASS_SUBN_LID_ROUTED:
	case IB_MGMT_CLASS_SUBN_DIRECTED_ROUTE:
		ret = mock_sma(mdev, port, in, out);
		break;
	case IB_MGMT_CLASS_PERF_MGMT:
		ret = mock_pma(mdev, port, in, out);
		break;
	default:
		return IB_MAD_RESULT_SUCCESS;
	}
	if (ret & IB_MAD_RESULT_REPLY)
		*out_mad_size = sizeof(*out);
	return ret;
}
