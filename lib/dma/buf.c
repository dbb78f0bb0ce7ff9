// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DMA buffers: memory allocated, bound to a NUMA node, mapped and registered
 * in one call, and the way back in one call.
 *
 * Backings, tried in order for IOMMUFD_DMA_BACKING_ANY: hugetlb 1 GiB pages
 * (size >= 1 GiB), hugetlb 2 MiB pages (size >= 2 MiB), then normal
 * anonymous pages; with IOMMUFD_DMA_BUF_STRICT only the one asked for. A
 * hugetlb mmap() fails at once when the pool lacks the pages (the pages are
 * reserved at mmap time), so the fallback never meets a SIGBUS later. The
 * alignment of the VA is made by over-reserving and trimming; the IOVA gets
 * the same alignment. NUMA placement is an mbind(2) (raw system call, no
 * libnuma) of the range before its first touch.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dma-private.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004u
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MPOL_BIND_ 2
#define MPOL_MF_STRICT_ (1 << 0)
#define MPOL_MF_MOVE_ (1 << 1)
#define MAX_NUMA_NODES 1024

#define BUF_FLAGS (IOMMUFD_DMA_BUF_STRICT | IOMMUFD_DMA_BUF_NUMA)

struct iommufd_dma_buf {
	struct iommufd_dma *dma; /* a reference */
	void *va;
	size_t size;             /* asked for */
	size_t len;              /* mapped: size rounded to the page size of the backing */
	uint64_t iova;
	enum iommufd_dma_backing backing;
	int fd;
};

static uint64_t backing_page(enum iommufd_dma_backing b)
{
	switch (b) {
	case IOMMUFD_DMA_BACKING_HUGE_2M:
	case IOMMUFD_DMA_BACKING_MEMFD_HUGE_2M:
		return 1ull << 21;
	case IOMMUFD_DMA_BACKING_HUGE_1G:
		return 1ull << 30;
	default: {
		long ps = sysconf(_SC_PAGESIZE);

		return ps > 0 ? (uint64_t)ps : 4096;
	}
	}
}

static const char *backing_name(enum iommufd_dma_backing b)
{
	static const char *const names[] = { "any", "pages", "2 MiB hugepages", "1 GiB hugepages", "memfd",
					      "2 MiB hugetlb memfd" };

	return (unsigned)b < ARRAY_SIZE(names) ? names[b] : "?";
}

/*
 * Reserve len bytes aligned to align: an mmap of len + align (when align
 * exceeds what mmap gives) with the ends trimmed. page: the backing's page
 * size (hugetlb ranges must be trimmed at their page size). fd >= 0: a shared
 * mapping of that file over the aligned part.
 */
static void *map_aligned(size_t len, uint64_t align, uint64_t page, int mflags, int fd)
{
	size_t extra = align > page ? align : 0;
	uint8_t *p, *a;

	if (fd < 0 && !extra) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, mflags, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* an address range first, then the memory at its aligned part */
	p = mmap(NULL, len + extra, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = extra ? (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1)) : p;
	if (mmap(a, len, PROT_READ | PROT_WRITE, mflags | MAP_FIXED, fd, 0) == MAP_FAILED) {
		munmap(p, len + extra);
		return NULL;
	}
	if (a > p)
		munmap(p, a - p);
	if (p + len + extra > a + len)
		munmap(a + len, p + len + extra - (a + len));
	return a;
}

/* memory of backing b: 0 and *va (and *fd for a memfd), or -errno */
static int try_backing(enum iommufd_dma_backing b, size_t len, uint64_t align, void **va, int *fd)
{
	int anon = MAP_PRIVATE | MAP_ANONYMOUS, mflags;
	uint64_t page = backing_page(b);

	*fd = -1;
	switch (b) {
	case IOMMUFD_DMA_BACKING_PAGES:
		mflags = anon;
		break;
	case IOMMUFD_DMA_BACKING_HUGE_2M:
		mflags = anon | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT);
		break;
	case IOMMUFD_DMA_BACKING_HUGE_1G:
		mflags = anon | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT);
		break;
	case IOMMUFD_DMA_BACKING_MEMFD:
	case IOMMUFD_DMA_BACKING_MEMFD_HUGE_2M:
		*fd = memfd_create("iommufd-dma", MFD_CLOEXEC |
				   (b == IOMMUFD_DMA_BACKING_MEMFD ? 0 : MFD_HUGETLB | (21u << MAP_HUGE_SHIFT)));
		if (*fd < 0)
			return -errno;
		if (ftruncate(*fd, (off_t)len) < 0) {
			int e = -errno;

			close(*fd);
			*fd = -1;
			return e;
		}
		mflags = MAP_SHARED;
		break;
	default:
		return -EINVAL;
	}
	*va = map_aligned(len, align, page, mflags, *fd);
	if (!*va) {
		int e = -errno;

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return e ? e : -ENOMEM;
	}
	return 0;
}

static size_t round_to(size_t v, uint64_t page)
{
	return (v + page - 1) & ~(size_t)(page - 1);
}

IOMMUFD_EXPORT int iommufd_dma_buf_alloc(struct iommufd_dma *dma, size_t size,
					 const struct iommufd_dma_buf_opts *opts, struct iommufd_dma_buf **ret)
{
	enum iommufd_dma_backing order[3];
	struct iommufd_dma_buf_opts o;
	struct iommufd_dma_buf *buf;
	size_t n = 0, len = 0;
	uint64_t align;
	void *va = NULL;
	int r, fd = -1, log2a;

	if (!dma)
		return FAIL(NULL, EINVAL, "dma is NULL");
	r = ifd_dma_check(dma, __func__);
	if (r)
		return r;
	if (!ret || !size)
		return FAIL(dma->ctx, EINVAL, "%s", !ret ? "ret is NULL" : "size is 0");
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return FAIL(dma->ctx, r, "opts: sz %zu %s", opts ? opts->sz : 0,
			    r == -E2BIG ? "has unknown non-zero fields" : "is too small");
	if (o.flags & ~BUF_FLAGS || o.reserved || o.backing > IOMMUFD_DMA_BACKING_MEMFD_HUGE_2M ||
	    (o.align & (o.align - 1)) || o.align > (1ull << 40))
		return FAIL(dma->ctx, EINVAL, "opts: flags 0x%x, backing %u, align 0x%llx, reserved %u",
			    o.flags, o.backing, (unsigned long long)o.align, o.reserved);
	if (o.flags & IOMMUFD_DMA_BUF_NUMA && (o.numa_node < 0 || o.numa_node >= MAX_NUMA_NODES))
		return FAIL(dma->ctx, EINVAL, "numa_node %d", o.numa_node);
	if (size > (SIZE_MAX >> 2))
		return FAIL(dma->ctx, ENOMEM, "size 0x%zx", size);

	if (o.backing != IOMMUFD_DMA_BACKING_ANY) {
		order[n++] = o.backing;
		if (!(o.flags & IOMMUFD_DMA_BUF_STRICT) && (o.backing == IOMMUFD_DMA_BACKING_HUGE_2M ||
							   o.backing == IOMMUFD_DMA_BACKING_HUGE_1G))
			order[n++] = IOMMUFD_DMA_BACKING_PAGES;
		if (!(o.flags & IOMMUFD_DMA_BUF_STRICT) && o.backing == IOMMUFD_DMA_BACKING_MEMFD_HUGE_2M)
			order[n++] = IOMMUFD_DMA_BACKING_MEMFD;
	} else {
		if (size >= (1ull << 30))
			order[n++] = IOMMUFD_DMA_BACKING_HUGE_1G;
		if (size >= (1ull << 21))
			order[n++] = IOMMUFD_DMA_BACKING_HUGE_2M;
		order[n++] = IOMMUFD_DMA_BACKING_PAGES;
	}
	r = -EINVAL;
	for (size_t i = 0; i < n; i++) {
		len = round_to(size, backing_page(order[i]));
		align = o.align ? o.align : backing_page(order[i]);
		r = try_backing(order[i], len, align, &va, &fd);
		if (!r) {
			o.backing = order[i];
			break;
		}
		dbg(dma->ctx, "dma buffer of 0x%zx bytes: no %s (%s)", size, backing_name(order[i]),
		    strerror(-r));
	}
	if (r)
		return FAIL(dma->ctx, r, "no memory for 0x%zx bytes from %s%s", size, backing_name(order[n - 1]),
			    n > 1 ? " nor the backings before it" : "");
	if (o.flags & IOMMUFD_DMA_BUF_NUMA) {
		unsigned long mask[MAX_NUMA_NODES / (8 * sizeof(unsigned long))] = { 0 };

		mask[o.numa_node / (8 * sizeof(unsigned long))] |= 1ul << (o.numa_node % (8 * sizeof(unsigned long)));
		if (syscall(SYS_mbind, va, len, MPOL_BIND_, mask, (unsigned long)MAX_NUMA_NODES + 1,
			    MPOL_MF_STRICT_ | MPOL_MF_MOVE_) < 0) {
			r = -errno;
			munmap(va, len);
			if (fd >= 0)
				close(fd);
			return FAIL(dma->ctx, r, "mbind of 0x%zx bytes to NUMA node %d", len, o.numa_node);
		}
	}
	/* fault the pages in where they are bound (best effort: the map pins them anyway) */
	(void)madvise(va, len, MADV_POPULATE_WRITE);

	buf = calloc(1, sizeof(*buf));
	if (!buf) {
		munmap(va, len);
		if (fd >= 0)
			close(fd);
		return FAIL(dma->ctx, ENOMEM, "DMA buffer of 0x%zx bytes", size);
	}
	align = o.align ? o.align : 0;
	log2a = align > dma->iova.granule ? __builtin_ctzll(align) : 0;
	pthread_mutex_lock(&dma->lock);
	r = ifd_dma_register_locked(dma, __func__, va, len, 0,
				    fd >= 0 && iommufd_ctx_supports(dma->ctx, IOMMUFD_REQ_IOAS_MAP_FILE) == 1 ? fd : -1,
				    &buf->iova, DMA_REGION_BUF | ((uint32_t)log2a << 16));
	pthread_mutex_unlock(&dma->lock);
	if (r) {
		munmap(va, len);
		if (fd >= 0)
			close(fd);
		free(buf);
		return r;
	}
	buf->dma = iommufd_dma_ref(dma);
	buf->va = va;
	buf->size = size;
	buf->len = len;
	buf->backing = o.backing;
	buf->fd = fd;
	*ret = buf;
	return 0;
}

IOMMUFD_EXPORT int iommufd_dma_buf_free(struct iommufd_dma_buf *buf)
{
	struct iommufd_dma *dma;
	int r;

	if (!buf)
		return 0;
	dma = buf->dma;
	r = ifd_dma_check(dma, __func__);
	if (r)
		return r;
	pthread_mutex_lock(&dma->lock);
	r = ifd_dma_unregister_locked(dma, __func__, buf->va, buf->len, true);
	pthread_mutex_unlock(&dma->lock);
	/* pinned: the buffer stays; anything else: the registration is gone */
	if (r == -EBUSY)
		return r;
	munmap(buf->va, buf->len);
	if (buf->fd >= 0)
		close(buf->fd);
	iommufd_dma_unref(dma);
	free(buf);
	return r;
}

IOMMUFD_EXPORT void *iommufd_dma_buf_get_va(const struct iommufd_dma_buf *buf)
{
	return buf ? buf->va : NULL;
}

IOMMUFD_EXPORT uint64_t iommufd_dma_buf_get_iova(const struct iommufd_dma_buf *buf)
{
	return buf ? buf->iova : 0;
}

IOMMUFD_EXPORT size_t iommufd_dma_buf_get_size(const struct iommufd_dma_buf *buf)
{
	return buf ? buf->size : 0;
}

IOMMUFD_EXPORT enum iommufd_dma_backing iommufd_dma_buf_get_backing(const struct iommufd_dma_buf *buf)
{
	return buf ? buf->backing : IOMMUFD_DMA_BACKING_ANY;
}

IOMMUFD_EXPORT int iommufd_dma_buf_get_fd(const struct iommufd_dma_buf *buf)
{
	return buf ? buf->fd : -1;
}

IOMMUFD_EXPORT int iommufd_dma_buf_pin(struct iommufd_dma_buf *buf)
{
	if (!buf)
		return FAIL(NULL, EINVAL, "buf is NULL");
	return iommufd_dma_pin(buf->dma, buf->va);
}

IOMMUFD_EXPORT int iommufd_dma_buf_unpin(struct iommufd_dma_buf *buf)
{
	if (!buf)
		return FAIL(NULL, EINVAL, "buf is NULL");
	return iommufd_dma_unpin(buf->dma, buf->va);
}
