/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels ibguard and its test driver
 * are built for (Debian 12's 6.1 and 6.12), in one place.
 */
#ifndef IBGUARD_COMPAT_H
#define IBGUARD_COMPAT_H

#include <linux/fs.h>
#include <linux/version.h>
#include <net/genetlink.h>

/*
 * genl_family.pre_doit/post_doit take a const struct genl_split_ops * (the
 * "split ops" rework, v6.2). Both op types have the internal_flags that
 * ibguard_nl_pre_doit() reads, and genetlink copies a small op's
 * internal_flags into the split op it builds.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
typedef struct genl_split_ops ibguard_genl_pre_ops;
#else
typedef struct genl_ops ibguard_genl_pre_ops;
#endif

/*
 * struct genl_dumpit_info embeds a struct genl_info (v6.6): a dump's parsed
 * attributes are info->info.attrs, no longer info->attrs. The version
 * cut-offs here are upstream's; the builds check 6.1 and 6.12.
 */
static inline struct nlattr **
ibguard_dumpit_attrs(const struct genl_dumpit_info *info)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return info->info.attrs;
#else
	return info->attrs;
#endif
}

/*
 * ib_device_ops.create_cq's last argument: the whole uverbs_attr_bundle
 * (NULL for kernel CQs) since 6.11, the ib_udata before (the mock HCA).
 */
struct ib_udata;
struct uverbs_attr_bundle;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
typedef struct uverbs_attr_bundle ibguard_create_cq_arg;
#else
typedef struct ib_udata ibguard_create_cq_arg;
#endif

/*
 * The path user space named for a file, which map rules decide on (the
 * inode is d_inode() of its dentry). A stacked filesystem may map the file
 * of a lower layer in its place: overlayfs's mmap puts that file into the
 * vma after security_mmap_file() ran, so security_file_mprotect() gets it.
 * Before 6.8 overlayfs opens it with open_with_fake_path(): f_path is the
 * overlay path (f_inode the lower inode). Since then it is a backing file
 * (FMODE_BACKING) whose f_path is the lower path; file_user_path() gives
 * the overlay one.
 */
static inline const struct path *ibguard_file_user_path(const struct file *file)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	return file_user_path(file);
#else
	return &file->f_path;
#endif
}

#endif /* IBGUARD_COMPAT_H */
