// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The emulated NVMe controller: its registers only (CAP, VS), no queues.
 */
#include <string.h>

#include "vfio.h"

int nvme_model_init(struct vdev *d)
{
	nvme_model_reset(d);
	return 0;
}

void nvme_model_free(struct vdev *d)
{
	(void)d;
}

void nvme_model_reset(struct vdev *d)
{
	uint64_t cap = 0x0000002000f007ffull; /* MQES 2047, CQR, TO 15 */
	uint32_t vs = 0x00010400;             /* VS 1.4 */

	memset(d->bar0, 0, d->bar0_size);
	memcpy(d->bar0, &cap, 8);
	memcpy(d->bar0 + 8, &vs, 4);
}

bool nvme_model_pending(struct vdev *d)
{
	(void)d;
	return false;
}

bool nvme_model_service(struct vdev *d)
{
	(void)d;
	return false;
}

void nvme_bar0_read(struct vdev *d, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, d->bar0 + off, len);
}

void nvme_bar0_write(struct vdev *d, uint64_t off, const void *buf, size_t len)
{
	memcpy(d->bar0 + off, buf, len);
}
