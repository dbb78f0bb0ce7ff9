/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The type1 mode (include/iommufd.h "Modes"): a context on a VFIO container.
 * The iommufd commands the library issues on such a context (ifd_ioctl())
 * are answered here, with iommufd's rules, by VFIO container ioctls; the
 * devices of lib/device join the container through their groups. Private
 * header.
 */
#ifndef IOMMUFD_TYPE1_H
#define IOMMUFD_TYPE1_H

#include "private.h"

/* the IDs of the one IOAS and the one HWPT (the container's domain) */
#define IFD_T1_IOAS_ID 1u
#define IFD_T1_HWPT_ID 2u

/*
 * Set up ctx (mode, fd set) as a context on the container ctx->fd: probes
 * its API version and extensions; compat says whether iommufd serves it.
 * Returns 0 or -errno, recorded under func.
 */
int ifd_t1_init(struct iommufd_ctx *ctx, const char *func);
void ifd_t1_free(struct iommufd_ctx *ctx);
/* an iommufd command on a type1 context */
int ifd_t1_ioctl(struct iommufd_ctx *ctx, unsigned long req, void *arg);
/* iommufd_ctx_supports() of a type1 context: 1 or 0 */
int ifd_t1_supports(unsigned int cmd);
/* mode info flags and iommu type (lib/ctx.c) */
void ifd_t1_mode_info(struct iommufd_ctx *ctx, uint32_t *flags, uint32_t *iommu_type);

/*
 * Devices (lib/device). bind: the device bdf of IOMMU group group joins the
 * container (group opened or shared, viability checked, SET_CONTAINER,
 * SET_IOMMU with the pending maps replayed, GET_DEVICE_FD with the VF token);
 * *fd gets the device fd and *dev_id a DEVICE ID of the context. Failures
 * are recorded under func with their reason. A no-IOMMU group
 * (/dev/vfio/noiommu-<N>) sets the container's IOMMU to VFIO_NOIOMMU_IOMMU
 * and *noiommu: the device has no DEVICE ID (*dev_id 0). release: the device fd was
 * closed; the group leaves the container with its last device.
 */
int ifd_t1_dev_bind(struct iommufd_ctx *ctx, const char *func, const char *bdf, int group,
		    const uint8_t *token, int *fd, uint32_t *dev_id, bool *noiommu);
void ifd_t1_dev_release(struct iommufd_ctx *ctx, int group, bool attached);
/* attach to pt_id (the IOAS or the HWPT): 0 with *hwpt_id, or -errno recorded under func */
int ifd_t1_dev_attach(struct iommufd_ctx *ctx, const char *func, const char *name, uint32_t pt_id,
		      bool was_attached, uint32_t *hwpt_id);
/*
 * The group API (lib/device/group.c): a group the caller opened joined the
 * container (SET_CONTAINER done): set the IOMMU if needed. left: it went.
 */
int ifd_t1_group_joined(struct iommufd_ctx *ctx, const char *func, const char *path, bool noiommu);
void ifd_t1_group_left(struct iommufd_ctx *ctx);

#endif
