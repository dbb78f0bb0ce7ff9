// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Augmented AVL interval tree (see itree.h). Written from scratch for the
 * emulator: parent pointers, rebalancing from the changed node up to the root,
 * which also refreshes the augmented fields on the way.
 */
#include "itree.h"

static inline int height(const struct itree_node *n)
{
	return n ? n->height : 0;
}

static inline uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void update(struct itree_node *n)
{
	struct itree_node *l = n->left, *r = n->right;
	uint64_t prefix = n->last, gap = 0;
	int hl = height(l), hr = height(r);

	n->height = 1 + (hl > hr ? hl : hr);
	n->min_start = n->start;
	n->max_start = n->start;
	n->max_last = n->last;
	if (l) {
		n->min_start = l->min_start;
		n->max_last = max64(n->max_last, l->max_last);
		gap = max64(l->max_gap, itree_hole(l->max_last, n->start));
		prefix = max64(prefix, l->max_last);
	}
	if (r) {
		n->max_start = r->max_start;
		n->max_last = max64(n->max_last, r->max_last);
		gap = max64(gap, max64(r->max_gap, itree_hole(prefix, r->min_start)));
	}
	n->max_gap = gap;
}

static void replace_child(struct itree *t, struct itree_node *parent, struct itree_node *old,
			  struct itree_node *new)
{
	if (!parent)
		t->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/* x's right child y becomes the subtree root */
static struct itree_node *rotate_left(struct itree *t, struct itree_node *x)
{
	struct itree_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->parent = x->parent;
	replace_child(t, x->parent, x, y);
	y->left = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

static struct itree_node *rotate_right(struct itree *t, struct itree_node *x)
{
	struct itree_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->parent = x->parent;
	replace_child(t, x->parent, x, y);
	y->right = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

static void rebalance(struct itree *t, struct itree_node *p)
{
	while (p) {
		int bf;

		update(p);
		bf = height(p->left) - height(p->right);
		if (bf > 1) {
			if (height(p->left->left) < height(p->left->right))
				rotate_left(t, p->left);
			p = rotate_right(t, p);
		} else if (bf < -1) {
			if (height(p->right->right) < height(p->right->left))
				rotate_right(t, p->right);
			p = rotate_left(t, p);
		}
		p = p->parent;
	}
}

static int cmp(const struct itree_node *a, const struct itree_node *b)
{
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->last != b->last)
		return a->last < b->last ? -1 : 1;
	if (a != b)
		return (uintptr_t)a < (uintptr_t)b ? -1 : 1;
	return 0;
}

void itree_insert(struct itree *t, struct itree_node *n)
{
	struct itree_node **link = &t->root, *parent = NULL;

	while (*link) {
		parent = *link;
		link = cmp(n, parent) < 0 ? &parent->left : &parent->right;
	}
	n->left = n->right = NULL;
	n->parent = parent;
	*link = n;
	t->count++;
	rebalance(t, n);
}

void itree_remove(struct itree *t, struct itree_node *n)
{
	struct itree_node *fix;

	if (n->left && n->right) {
		struct itree_node *s = n->right;

		while (s->left)
			s = s->left;
		if (s->parent != n) {
			struct itree_node *sp = s->parent;

			sp->left = s->right;
			if (s->right)
				s->right->parent = sp;
			s->right = n->right;
			n->right->parent = s;
			fix = sp;
		} else {
			fix = s;
		}
		s->left = n->left;
		n->left->parent = s;
		s->parent = n->parent;
		replace_child(t, n->parent, n, s);
		s->height = n->height;
	} else {
		struct itree_node *child = n->left ? n->left : n->right;

		if (child)
			child->parent = n->parent;
		replace_child(t, n->parent, n, child);
		fix = n->parent;
	}
	n->left = n->right = n->parent = NULL;
	t->count--;
	rebalance(t, fix);
}

struct itree_node *itree_first(const struct itree *t)
{
	struct itree_node *n = t->root;

	while (n && n->left)
		n = n->left;
	return n;
}

struct itree_node *itree_last(const struct itree *t)
{
	struct itree_node *n = t->root;

	while (n && n->right)
		n = n->right;
	return n;
}

struct itree_node *itree_next(const struct itree_node *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct itree_node *)n;
	}
	while (n->parent && n->parent->right == n)
		n = n->parent;
	return n->parent;
}

struct itree_node *itree_prev(const struct itree_node *n)
{
	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return (struct itree_node *)n;
	}
	while (n->parent && n->parent->left == n)
		n = n->parent;
	return n->parent;
}

/*
 * The first node X (in order) with X->last >= start is the only candidate: any
 * intersecting node comes at or after it, so starts at or after X->start.
 */
struct itree_node *itree_iter_first(const struct itree *t, uint64_t start, uint64_t last)
{
	struct itree_node *n = t->root;

	while (n) {
		if (n->max_last < start)
			return NULL;
		if (n->left && n->left->max_last >= start) {
			n = n->left;
			continue;
		}
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
		n = n->right;
	}
	return NULL;
}

struct itree_node *itree_iter_next(const struct itree_node *n, uint64_t start, uint64_t last)
{
	struct itree_node *x = itree_next(n);

	for (; x && x->start <= last; x = itree_next(x))
		if (x->last >= start)
			return x;
	return NULL;
}
