/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NVMe PRP lists from translation: a driver gets a read request for a
 * scatter list of its own memory (an iovec, as from readv()), translates it
 * to IOVA segments with the DMA layer and builds the command's PRP1/PRP2 and
 * PRP list, as an NVMe read of that size would carry. It prints them; it
 * needs no device (only /dev/iommu), so it runs on the emulator too.
 *
 *   nvme-prp
 *
 *   cc nvme-prp.c $(pkg-config --cflags --libs libiommufd) -o nvme-prp
 *
 * PRP rules (NVMe base specification, "Physical Region Page Entry and
 * List"): PRP1 is the first byte's address (any dword offset); every other
 * entry is a page start. Up to two pages: PRP2 is the second page. More:
 * PRP2 is the IOVA of a PRP list, one 8-byte entry per page, whose last
 * entry points to the next list page when a list page is full. A segment
 * that starts or ends inside a page anywhere but at the ends of the transfer
 * cannot be described by PRPs (the driver would use an SGL or bounce).
 */
#include <iommufd.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#define PAGE 4096u
#define PRP_PER_PAGE (PAGE / 8)
#define MAX_SEGS 64

static int fail(const char *what, int r)
{
	fprintf(stderr, "nvme-prp: %s: %s (%s)\n", what, strerror(-r), iommufd_last_error());
	return r;
}

/*
 * Fill prp1/prp2 and the list (in list_buf, a DMA buffer of list_pages pages)
 * for segs. Returns the number of list entries written, or -EINVAL.
 */
static int build_prps(const struct iommufd_dma_seg *segs, size_t nr, struct iommufd_dma_buf *list_buf,
		      size_t list_pages, uint64_t *prp1, uint64_t *prp2)
{
	uint64_t *list = iommufd_dma_buf_get_va(list_buf), list_iova = iommufd_dma_buf_get_iova(list_buf);
	uint64_t pages[PRP_PER_PAGE * 8];
	size_t np = 0, n = 0;

	/* the page addresses after PRP1's */
	for (size_t i = 0; i < nr; i++) {
		uint64_t s = segs[i].iova, e = segs[i].iova + segs[i].len;

		if ((i > 0 && s % PAGE) || (i + 1 < nr && e % PAGE))
			return -EINVAL; /* a hole inside the transfer: not PRP-describable */
		if (i == 0) {
			*prp1 = s;
			s = (s / PAGE + 1) * PAGE;
		}
		for (; s < e; s += PAGE) {
			if (np == sizeof(pages) / sizeof(pages[0]))
				return -EINVAL;
			pages[np++] = s;
		}
	}
	*prp2 = 0;
	if (np == 1)
		*prp2 = pages[0];
	if (np <= 1)
		return 0;
	/* a list: a full list page keeps its last slot for the next list page */
	*prp2 = list_iova;
	for (size_t k = 0, slot = 0; k < np; k++, slot++) {
		if (slot == PRP_PER_PAGE - 1 && np - k > 1) {
			if ((n + 1) / PRP_PER_PAGE >= list_pages)
				return -EINVAL;
			uint64_t next = list_iova + (n / PRP_PER_PAGE + 1) * PAGE;

			list[n++] = next;
			slot = 0;
		}
		list[n++] = pages[k];
	}
	return (int)n;
}

int main(void)
{
	struct iommufd_dma_buf *a = NULL, *b = NULL, *list = NULL;
	struct iommufd_dma_seg segs[MAX_SEGS];
	struct iommufd_ctx *ctx = NULL;
	struct iommufd_dma *dma = NULL;
	uint64_t prp1, prp2;
	uint32_t ioas;
	size_t nr;
	int r, n;

	if ((r = iommufd_ctx_new(&ctx)) < 0 || (r = iommufd_ioas_alloc(ctx, &ioas)) < 0 ||
	    (r = iommufd_dma_new(ctx, ioas, NULL, &dma)) < 0) {
		fail("context, IOAS and DMA manager", r);
		goto out;
	}
	/* the driver's buffers, and a page for the PRP list */
	if ((r = iommufd_dma_buf_alloc(dma, 16 * PAGE, NULL, &a)) < 0 ||
	    (r = iommufd_dma_buf_alloc(dma, 64 * PAGE, NULL, &b)) < 0 ||
	    (r = iommufd_dma_buf_alloc(dma, PAGE, NULL, &list)) < 0) {
		fail("iommufd_dma_buf_alloc", r);
		goto out;
	}
	{
		/* a 68 KiB read: the tail of a (from an offset), then the head of b */
		uint8_t *va = iommufd_dma_buf_get_va(a), *vb = iommufd_dma_buf_get_va(b);
		struct iovec iov[] = {
			{ va + 12 * PAGE + 512, 4 * PAGE - 512 },
			{ vb, 13 * PAGE + 512 },
		};

		r = iommufd_dma_translate_iov(dma, iov, 2, segs, MAX_SEGS, &nr);
		if (r < 0) {
			fail("iommufd_dma_translate_iov", r);
			goto out;
		}
		printf("read of %zu bytes in %zu IOVA segments:\n", iov[0].iov_len + iov[1].iov_len, nr);
		for (size_t i = 0; i < nr; i++)
			printf("  segment %zu: iova 0x%" PRIx64 " length 0x%" PRIx64 "\n", i, segs[i].iova,
			       segs[i].len);
	}
	n = build_prps(segs, nr, list, 1, &prp1, &prp2);
	if (n < 0) {
		r = fail("build the PRPs", n);
		goto out;
	}
	printf("PRP1 0x%" PRIx64 "\nPRP2 0x%" PRIx64 "%s\n", prp1, prp2, n ? " (the PRP list)" : "");
	for (int i = 0; i < n; i++)
		printf("  list[%d] 0x%" PRIx64 "\n", i, ((uint64_t *)iommufd_dma_buf_get_va(list))[i]);
	r = 0;
out:
	iommufd_dma_buf_free(list);
	iommufd_dma_buf_free(b);
	iommufd_dma_buf_free(a);
	iommufd_dma_unref(dma);
	iommufd_ctx_unref(ctx);
	return r < 0 ? 1 : 0;
}
