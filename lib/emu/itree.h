/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An augmented AVL interval tree of inclusive ranges [start, last] over the
 * whole u64 space, embedded in its users' structs. Nodes are ordered by
 * (start, last, address), so ranges may overlap (reserved ranges do) or be
 * disjoint (areas). Each node also keeps, for its subtree:
 *   max_last  - the largest `last` (interval-tree pruning of intersections);
 *   min_start / max_start - the smallest and largest `start`;
 *   max_gap   - an upper bound of the free space between consecutive ranges
 *               inside the subtree (exact for disjoint ranges), which lets the
 *               IOVA allocator skip whole subtrees without a fitting hole.
 * Insert, remove, lookup: O(log n). Private header: never installed.
 */
#ifndef IOMMUFD_EMU_ITREE_H
#define IOMMUFD_EMU_ITREE_H

#include <stddef.h>
#include <stdint.h>

struct itree_node {
	struct itree_node *left, *right, *parent;
	uint64_t start, last;
	uint64_t max_last, min_start, max_start, max_gap;
	int height;
};

struct itree {
	struct itree_node *root;
	size_t count;
};

#define ITREE_INIT { NULL, 0 }

#define itree_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* insert n with n->start, n->last set (start <= last) */
void itree_insert(struct itree *t, struct itree_node *n);
void itree_remove(struct itree *t, struct itree_node *n);

struct itree_node *itree_first(const struct itree *t);
struct itree_node *itree_last(const struct itree *t);
struct itree_node *itree_next(const struct itree_node *n);
struct itree_node *itree_prev(const struct itree_node *n);

/* the first node (in order) intersecting [start, last], or NULL */
struct itree_node *itree_iter_first(const struct itree *t, uint64_t start, uint64_t last);
/* the next node after n intersecting [start, last], or NULL */
struct itree_node *itree_iter_next(const struct itree_node *n, uint64_t start, uint64_t last);

/* free space between a range ending at a_last and one starting at b_start */
static inline uint64_t itree_hole(uint64_t a_last, uint64_t b_start)
{
	return b_start > a_last ? b_start - a_last - 1 : 0;
}

#endif
