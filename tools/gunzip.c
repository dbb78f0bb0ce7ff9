// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gunzip() for iommufd(1): /proc/config.gz without zlib. A small inflate
 * (RFC 1951: stored, fixed and dynamic Huffman blocks) behind a gzip header
 * parser and CRC-32 check (RFC 1952), enough for one file of a few MiB.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gunzip.h"

struct inflate {
	const uint8_t *in;
	size_t inlen, pos;
	uint32_t bitbuf;
	int bitcnt;
	uint8_t *out;
	size_t outlen, outcap, outmax;
};

struct huffman {
	uint16_t count[16]; /* codes per length */
	uint16_t sym[288];  /* symbols ordered by code */
};

static int getbits(struct inflate *s, int n)
{
	int v;

	while (s->bitcnt < n) {
		if (s->pos >= s->inlen)
			return -1;
		s->bitbuf |= (uint32_t)s->in[s->pos++] << s->bitcnt;
		s->bitcnt += 8;
	}
	v = s->bitbuf & ((1u << n) - 1);
	s->bitbuf >>= n;
	s->bitcnt -= n;
	return v;
}

static void huffman_build(struct huffman *h, const uint8_t *lengths, int n)
{
	uint16_t offs[16];

	memset(h->count, 0, sizeof(h->count));
	for (int i = 0; i < n; i++)
		h->count[lengths[i]]++;
	h->count[0] = 0;
	offs[1] = 0;
	for (int l = 1; l < 15; l++)
		offs[l + 1] = offs[l] + h->count[l];
	for (int i = 0; i < n; i++)
		if (lengths[i])
			h->sym[offs[lengths[i]]++] = i;
}

/* canonical codes of one length are consecutive: walk lengths bit by bit */
static int huffman_decode(struct inflate *s, const struct huffman *h)
{
	int code = 0, first = 0, index = 0;

	for (int len = 1; len < 16; len++) {
		int b = getbits(s, 1);

		if (b < 0)
			return -1;
		code |= b;
		if (code - h->count[len] < first)
			return h->sym[index + code - first];
		index += h->count[len];
		first = (first + h->count[len]) << 1;
		code <<= 1;
	}
	return -1;
}

static int put_byte(struct inflate *s, uint8_t b)
{
	if (s->outlen == s->outcap) {
		uint8_t *n;

		if (s->outcap >= s->outmax)
			return -1;
		n = realloc(s->out, s->outcap ? s->outcap * 2 : 65536);
		if (!n)
			return -1;
		s->out = n;
		s->outcap = s->outcap ? s->outcap * 2 : 65536;
	}
	s->out[s->outlen++] = b;
	return 0;
}

static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27,
				       31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
				       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
					193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
					6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
					6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

static int inflate_codes(struct inflate *s, const struct huffman *lit, const struct huffman *dist)
{
	for (;;) {
		int sym = huffman_decode(s, lit), e, d;
		size_t len, back;

		if (sym < 0 || sym > 285)
			return -1;
		if (sym < 256) {
			if (put_byte(s, sym))
				return -1;
			continue;
		}
		if (sym == 256)
			return 0;
		sym -= 257;
		e = getbits(s, len_extra[sym]);
		d = huffman_decode(s, dist);
		if (e < 0 || d < 0 || d > 29)
			return -1;
		len = len_base[sym] + e;
		e = getbits(s, dist_extra[d]);
		if (e < 0)
			return -1;
		back = dist_base[d] + e;
		if (back > s->outlen)
			return -1;
		while (len--)
			if (put_byte(s, s->out[s->outlen - back]))
				return -1;
	}
}

static int inflate_dynamic(struct inflate *s)
{
	static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
					   11, 4, 12, 3, 13, 2, 14, 1, 15 };
	struct huffman lit, dist, cl;
	uint8_t lengths[320] = { 0 };
	int nlit = getbits(s, 5) + 257, ndist = getbits(s, 5) + 1, ncl = getbits(s, 4) + 4;

	if (nlit > 286 || ndist > 30 || ncl < 4)
		return -1;
	for (int i = 0; i < ncl; i++) {
		int v = getbits(s, 3);

		if (v < 0)
			return -1;
		lengths[order[i]] = v;
	}
	huffman_build(&cl, lengths, 19);
	for (int i = 0; i < nlit + ndist;) {
		int sym = huffman_decode(s, &cl), rep, val = 0;

		if (sym < 0)
			return -1;
		if (sym < 16) {
			lengths[i++] = sym;
			continue;
		}
		if (sym == 16) {
			if (i == 0)
				return -1;
			val = lengths[i - 1];
			rep = getbits(s, 2) + 3;
		} else {
			rep = sym == 17 ? getbits(s, 3) + 3 : getbits(s, 7) + 11;
		}
		if (rep < 3 || i + rep > nlit + ndist)
			return -1;
		while (rep--)
			lengths[i++] = val;
	}
	huffman_build(&lit, lengths, nlit);
	huffman_build(&dist, lengths + nlit, ndist);
	return inflate_codes(s, &lit, &dist);
}

static int inflate_fixed(struct inflate *s)
{
	struct huffman lit, dist;
	uint8_t lengths[288];

	memset(lengths, 8, 144);
	memset(lengths + 144, 9, 112);
	memset(lengths + 256, 7, 24);
	memset(lengths + 280, 8, 8);
	huffman_build(&lit, lengths, 288);
	memset(lengths, 5, 30);
	huffman_build(&dist, lengths, 30);
	return inflate_codes(s, &lit, &dist);
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}

char *gunzip(const uint8_t *in, size_t inlen, size_t outmax)
{
	struct inflate s = { .in = in, .inlen = inlen, .pos = 10, .outmax = outmax };
	int last = 0, type;
	uint32_t crc;

	if (inlen < 18 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8)
		return NULL;
	if (in[3] & 4) /* FEXTRA */
		s.pos += 2 + (in[10] | in[11] << 8);
	for (int f = 8; f <= 16; f <<= 1) /* FNAME, FCOMMENT */
		if (in[3] & f)
			while (s.pos < inlen && in[s.pos++])
				;
	if (in[3] & 2) /* FHCRC */
		s.pos += 2;
	while (!last) {
		last = getbits(&s, 1);
		type = getbits(&s, 2);
		if (last < 0 || type < 0 || type == 3)
			goto bad;
		if (type == 0) {
			size_t len;

			s.bitbuf = 0;
			s.bitcnt = 0;
			if (s.pos + 4 > inlen)
				goto bad;
			len = in[s.pos] | in[s.pos + 1] << 8;
			if ((len ^ (in[s.pos + 2] | in[s.pos + 3] << 8)) != 0xffff)
				goto bad;
			s.pos += 4;
			if (s.pos + len > inlen)
				goto bad;
			while (len--)
				if (put_byte(&s, in[s.pos++]))
					goto bad;
		} else if ((type == 1 ? inflate_fixed(&s) : inflate_dynamic(&s)) < 0) {
			goto bad;
		}
	}
	if (s.pos + 8 > inlen)
		goto bad;
	crc = in[s.pos] | in[s.pos + 1] << 8 | in[s.pos + 2] << 16 | (uint32_t)in[s.pos + 3] << 24;
	if (crc != crc32_of(s.out, s.outlen) || put_byte(&s, 0))
		goto bad;
	return (char *)s.out;
bad:
	free(s.out);
	return NULL;
}
