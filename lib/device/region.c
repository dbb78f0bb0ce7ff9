// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The capability chain of VFIO_DEVICE_GET_REGION_INFO, decoded. The kernel
 * (drivers/vfio/vfio_main.c vfio_info_cap_shift) writes the chain after the
 * info struct when argsz has room for it, else the argsz it needs with
 * cap_offset 0: ask with the bare struct, then again with that argsz.
 * Capabilities this library does not know are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device-private.h"

#define CAPS_MAX_ARGSZ (1u << 20)

static int caps_walk(const unsigned char *buf, uint32_t argsz, uint32_t at,
		     struct iommufd_region_caps *out)
{
	for (unsigned int hops = 0; at; hops++) {
		struct kabi_vfio_info_cap_header h;

		if (hops > 64 || at < sizeof(struct kabi_vfio_region_info) || at > argsz ||
		    argsz - at < sizeof(h))
			return -EPROTO;
		memcpy(&h, buf + at, sizeof(h));
		switch (h.id) {
		case KABI_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE:
			out->caps |= IOMMUFD_REGION_CAP_MSIX_MAPPABLE;
			break;
		case KABI_VFIO_REGION_INFO_CAP_TYPE: {
			struct kabi_vfio_region_info_cap_type t;

			if (argsz - at < sizeof(t))
				return -EPROTO;
			memcpy(&t, buf + at, sizeof(t));
			out->caps |= IOMMUFD_REGION_CAP_TYPE;
			out->type = t.type;
			out->subtype = t.subtype;
			break;
		}
		case KABI_VFIO_REGION_INFO_CAP_SPARSE_MMAP: {
			struct kabi_vfio_region_info_cap_sparse_mmap s;
			struct kabi_vfio_region_sparse_mmap_area a;

			if (argsz - at < sizeof(s))
				return -EPROTO;
			memcpy(&s, buf + at, sizeof(s));
			if ((uint64_t)s.nr_areas * sizeof(a) > argsz - at - sizeof(s))
				return -EPROTO;
			out->caps |= IOMMUFD_REGION_CAP_SPARSE_MMAP;
			out->nr_areas = s.nr_areas;
			for (uint32_t i = 0; i < s.nr_areas && i < out->max_areas && out->areas; i++) {
				memcpy(&a, buf + at + sizeof(s) + i * sizeof(a), sizeof(a));
				out->areas[i].offset = a.offset;
				out->areas[i].size = a.size;
			}
			break;
		}
		default:
			break; /* unknown: skipped */
		}
		at = h.next;
	}
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_get_region_caps(struct iommufd_device *dev, uint32_t index,
						  struct iommufd_region_caps *caps)
{
	struct kabi_vfio_region_info ri = { .argsz = sizeof(ri), .index = index };
	struct iommufd_region_caps out;
	unsigned char *buf = NULL;
	struct iommufd_ctx *ctx;
	int r;

	if (!dev || !caps)
		return FAIL(NULL, EINVAL, "dev or caps is NULL");
	pthread_mutex_lock(&dev->lock);
	ctx = dev->ctx;
	pthread_mutex_unlock(&dev->lock);
	r = ifd_ext_copy_in(&out, sizeof(out), caps, sizeof(size_t));
	if (r)
		return FAIL(ctx, r, "caps->sz %zu", caps->sz);
	r = ifd_owner_check(dev->pid, ctx, __func__, "device", dev->name);
	if (r)
		return r;
	out.caps = 0;
	out.type = out.subtype = 0;
	out.nr_areas = 0;
	/* first call: the bare struct; the kernel says the argsz of the chain */
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_GET_REGION_INFO, &ri);
	if (r < 0)
		return FAIL(ctx, r, "%s: VFIO_DEVICE_GET_REGION_INFO(%u)%s", dev->name, index,
			    r == -EINVAL ? ": no such region, or the device is not bound" : "");
	if ((ri.flags & KABI_VFIO_REGION_INFO_FLAG_CAPS) && ri.argsz > sizeof(ri)) {
		uint32_t argsz = ri.argsz;

		if (argsz > CAPS_MAX_ARGSZ)
			return FAIL(ctx, EPROTO, "%s: region %u: the kernel asks argsz %u for its capabilities",
				    dev->name, index, argsz);
		buf = calloc(1, argsz);
		if (!buf)
			return FAIL(ctx, ENOMEM, "%s: region %u capabilities", dev->name, index);
		ri = (struct kabi_vfio_region_info){ .argsz = argsz, .index = index };
		memcpy(buf, &ri, sizeof(ri));
		r = dev_ioctl(dev, KABI_VFIO_DEVICE_GET_REGION_INFO, buf);
		if (r >= 0) {
			memcpy(&ri, buf, sizeof(ri));
			if (ri.argsz > argsz)
				r = -EAGAIN; /* the chain grew between the calls */
			else
				r = caps_walk(buf, argsz, ri.cap_offset, &out);
		}
		free(buf);
		if (r < 0)
			return FAIL(ctx, r, "%s: region %u capability chain%s", dev->name, index,
				    r == -EPROTO ? ": malformed (an offset outside the answer, or a loop)" : "");
	}
	ifd_ext_copy_out(caps, &out, sizeof(out));
	return 0;
}
