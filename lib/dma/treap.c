// SPDX-License-Identifier: LGPL-2.1-or-later
/* An intrusive treap with an augmentation hook: split/merge, expected O(log n). */
#include "dma-private.h"

/*
 * A node's priority: its address, mixed (the finaliser of splitmix64). It
 * only needs to be independent of the keys, and costs no field: a
 * registration stays at 48 bytes.
 */
static inline uint32_t prio(const struct ifd_tnode *n)
{
	uint64_t x = (uint64_t)(uintptr_t)n;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x;
}

static inline void upd(const struct ifd_treap *t, struct ifd_tnode *n)
{
	if (n && t->update)
		t->update(n);
}

/* split n into keys < key (*l) and keys >= key (*r) */
static void split(const struct ifd_treap *t, struct ifd_tnode *n, uint64_t key, struct ifd_tnode **l,
		  struct ifd_tnode **r)
{
	if (!n) {
		*l = *r = NULL;
		return;
	}
	if (n->key < key) {
		split(t, n->r, key, &n->r, r);
		*l = n;
	} else {
		split(t, n->l, key, l, &n->l);
		*r = n;
	}
	upd(t, n);
}

/* every key of a below every key of b */
static struct ifd_tnode *merge(const struct ifd_treap *t, struct ifd_tnode *a, struct ifd_tnode *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (prio(a) > prio(b)) {
		a->r = merge(t, a->r, b);
		upd(t, a);
		return a;
	}
	b->l = merge(t, a, b->l);
	upd(t, b);
	return b;
}

static struct ifd_tnode *insert(const struct ifd_treap *t, struct ifd_tnode *root, struct ifd_tnode *n)
{
	if (!root)
		return n;
	if (prio(n) > prio(root)) {
		split(t, root, n->key, &n->l, &n->r);
		upd(t, n);
		return n;
	}
	if (n->key < root->key)
		root->l = insert(t, root->l, n);
	else
		root->r = insert(t, root->r, n);
	upd(t, root);
	return root;
}

void ifd_treap_insert(struct ifd_treap *t, struct ifd_tnode *n)
{
	n->l = n->r = NULL;
	upd(t, n);
	t->root = insert(t, t->root, n);
	t->count++;
}

static struct ifd_tnode *remove_key(const struct ifd_treap *t, struct ifd_tnode *root, uint64_t key)
{
	if (!root)
		return NULL;
	if (root->key == key)
		return merge(t, root->l, root->r);
	if (key < root->key)
		root->l = remove_key(t, root->l, key);
	else
		root->r = remove_key(t, root->r, key);
	upd(t, root);
	return root;
}

void ifd_treap_remove(struct ifd_treap *t, struct ifd_tnode *n)
{
	t->root = remove_key(t, t->root, n->key);
	n->l = n->r = NULL;
	t->count--;
}

struct ifd_tnode *ifd_treap_le(const struct ifd_treap *t, uint64_t key)
{
	struct ifd_tnode *n = t->root, *best = NULL;

	while (n) {
		if (n->key <= key) {
			best = n;
			n = n->r;
		} else {
			n = n->l;
		}
	}
	return best;
}

struct ifd_tnode *ifd_treap_ge(const struct ifd_treap *t, uint64_t key)
{
	struct ifd_tnode *n = t->root, *best = NULL;

	while (n) {
		if (n->key >= key) {
			best = n;
			n = n->l;
		} else {
			n = n->r;
		}
	}
	return best;
}

struct ifd_tnode *ifd_treap_first(const struct ifd_treap *t)
{
	struct ifd_tnode *n = t->root;

	while (n && n->l)
		n = n->l;
	return n;
}

struct ifd_tnode *ifd_treap_next(const struct ifd_treap *t, const struct ifd_tnode *n)
{
	return n->key == UINT64_MAX ? NULL : ifd_treap_ge(t, n->key + 1);
}
