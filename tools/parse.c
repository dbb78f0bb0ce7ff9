// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The parsers of what the command reads under --root; see parse.h. Inputs
 * are NUL-terminated texts (slurp() adds the NUL; a NUL inside a file ends
 * the text early) or byte buffers with their length.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

bool valid_component(const char *s, size_t len)
{
	if (len == 0 || len > NAME_COMPONENT_MAX || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || !s[i])
			return false;
	return true;
}

int first_line(const char *text, size_t n, char *out, size_t size)
{
	size_t k = 0;

	while (k < n && text[k] != '\n') {
		if (!text[k])
			return -EINVAL;
		k++;
	}
	while (k && isspace((unsigned char)text[k - 1]))
		k--;
	snprintf(out, size, "%.*s", (int)(k < size ? k : size - 1), text);
	return 0;
}

void parse_config(const char *text, const char *const *names, size_t n, char (*vals)[16])
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		const char *p = text;

		snprintf(vals[i], sizeof(vals[i]), "n");
		while ((p = strstr(p, names[i]))) {
			bool bol = p == text || p[-1] == '\n';

			p += len;
			if (bol && *p == '=') {
				snprintf(vals[i], sizeof(vals[i]), "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
				break;
			}
		}
	}
}

bool text_index_has(const char *text, const char *name)
{
	char want[64];
	size_t n;
	const char *p = text;

	snprintf(want, sizeof(want), "/%s.ko", name);
	n = strlen(want);
	while (text && (p = strstr(p, want))) {
		char c = p[n];

		p += n;
		if (c == '\n' || c == ':' || c == '.' || c == 0)
			return true;
	}
	return false;
}

bool cmdline_has(const char *cmdline, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = cmdline; (p = strstr(p, tok)); p += n)
		if ((p == cmdline || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n] || tok[n - 1] == '='))
			return true;
	return false;
}

/*
 * The binary index of libkmod (libkmod/libkmod-index.c of kmod), integers
 * big-endian:
 *   u32 magic 0xB007F457, u32 version (major 2 in the high half), u32 root;
 *   a node offset: flags in the high nibble, the file offset in the rest
 *   (0: no node); at the node: [PREFIX] a NUL-terminated string,
 *   [CHILDS] char first, char last, u32 child[last - first + 1],
 *   [VALUES] u32 count, count times { u32 priority, a NUL-terminated string }.
 * libkmod maps the file and trusts it: strings run to their NUL, children are
 * copied into a 128-entry array, a node reached twice makes its walks loop.
 * So: every byte read lies in the file, first <= last and both ASCII (the
 * array bound; the chars are signed in one of libkmod's readers), each node has
 * one parent (no cycle, no sharing: the walks are linear in the file size),
 * and the trie is at most INDEX_DEPTH_MAX deep (libkmod recurses on it).
 */
#define INDEX_MAGIC 0xB007F457u
#define INDEX_NODE_PREFIX 0x80000000u
#define INDEX_NODE_VALUES 0x40000000u
#define INDEX_NODE_CHILDS 0x20000000u
#define INDEX_NODE_MASK 0x0FFFFFFFu
#define INDEX_DEPTH_MAX 4096

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int kmod_index_check(const unsigned char *buf, size_t len, char *why, size_t why_size)
{
	struct item {
		uint32_t off;
		uint32_t depth;
	} *stack = NULL;
	unsigned char *seen = NULL;
	size_t nstack = 0, cap = 0;
	const char *bad = NULL;
	uint32_t rootoff;

	snprintf(why, why_size, "%s", "");
	if (len < 12 || be32(buf) != INDEX_MAGIC || be32(buf + 4) >> 16 != 2) {
		snprintf(why, why_size, "not a version 2 index (magic, version)");
		return -EBADMSG;
	}
	if (len > INDEX_NODE_MASK) {
		snprintf(why, why_size, "larger than the offsets can address");
		return -EBADMSG;
	}
	rootoff = be32(buf + 8);
	if (!(rootoff & INDEX_NODE_MASK))
		return 0; /* empty */
	seen = calloc(len / 8 + 1, 1);
	if (!seen) {
		snprintf(why, why_size, "out of memory");
		return -EBADMSG;
	}
#define PUSH(o, d)                                                                      \
	do {                                                                            \
		size_t at_ = (o) & INDEX_NODE_MASK;                                     \
		if (at_ < 12 || at_ > len) { /* a node without fields may end the file */ \
			bad = "node offset outside the file";                          \
			goto out;                                                       \
		}                                                                       \
		if (seen[at_ / 8] & (1u << (at_ % 8))) {                                \
			bad = "a node reached twice (cycle or shared node)";           \
			goto out;                                                       \
		}                                                                       \
		seen[at_ / 8] |= 1u << (at_ % 8);                                       \
		if (nstack == cap) {                                                    \
			struct item *ns_;                                               \
			cap = cap ? 2 * cap : 64;                                       \
			ns_ = realloc(stack, cap * sizeof(*stack));                     \
			if (!ns_) {                                                     \
				bad = "out of memory";                                 \
				goto out;                                               \
			}                                                               \
			stack = ns_;                                                    \
		}                                                                       \
		stack[nstack++] = (struct item){ (o), (d) };                            \
	} while (0)

	PUSH(rootoff, 0);
	while (nstack) {
		struct item it = stack[--nstack];
		size_t p = it.off & INDEX_NODE_MASK;

		if (it.depth > INDEX_DEPTH_MAX) {
			bad = "trie too deep";
			goto out;
		}
		if (it.off & INDEX_NODE_PREFIX) {
			const unsigned char *z = memchr(buf + p, 0, len - p);

			if (!z) {
				bad = "prefix without its NUL";
				goto out;
			}
			p = z - buf + 1;
		}
		if (it.off & INDEX_NODE_CHILDS) {
			unsigned char first, last;

			if (len - p < 2) {
				bad = "children past the end";
				goto out;
			}
			first = buf[p];
			last = buf[p + 1];
			p += 2;
			if (first > last || last >= 0x80) {
				bad = "bad child range";
				goto out;
			}
			if ((len - p) / 4 < (size_t)(last - first + 1)) {
				bad = "children past the end";
				goto out;
			}
			for (int c = first; c <= last; c++, p += 4) {
				uint32_t child = be32(buf + p);

				if (child & INDEX_NODE_MASK)
					PUSH(child, it.depth + 1);
			}
		}
		if (it.off & INDEX_NODE_VALUES) {
			uint32_t count;

			if (len - p < 4) {
				bad = "values past the end";
				goto out;
			}
			count = be32(buf + p);
			p += 4;
			/* each value takes at least 5 bytes: the loop ends with the file */
			for (uint32_t v = 0; v < count; v++) {
				const unsigned char *z;

				if (len - p < 5 || !(z = memchr(buf + p + 4, 0, len - p - 4))) {
					bad = "values past the end";
					goto out;
				}
				p = z - buf + 1;
			}
		}
	}
#undef PUSH
out:
	free(stack);
	free(seen);
	if (bad) {
		snprintf(why, why_size, "%s", bad);
		return -EBADMSG;
	}
	return 0;
}

void tty_safe(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}
