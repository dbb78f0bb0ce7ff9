// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The JSON writer of the iommufd command (tools/json.c, compiled in): every
 * string of 1 and 2 bytes, the 3- and 4-byte sequences around the edges of
 * UTF-8, and whole documents come out as valid JSON in valid UTF-8; decoded
 * back, a string is its input with each byte that is not part of a
 * well-formed UTF-8 sequence replaced by U+FFFD.
 *
 * The checks here decode UTF-8 by code point value (overlong, surrogate,
 * above U+10FFFF), not by the byte ranges the writer uses.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "json.h"

/* decode one UTF-8 sequence at s[0..len): its length, or 0 if not well formed */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t v;

	if (!n || n > len)
		return 0;
	v = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static size_t utf8_encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* what the string in should decode to: each ill-formed byte as U+FFFD */
static size_t expected(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t o = 0;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(in + i, len - i, &cp);

		if (n) {
			memcpy(out + o, in + i, n);
			o += n;
			i += n;
		} else {
			o += utf8_encode(0xfffd, out + o);
			i++;
		}
	}
	return o;
}

static int hexval(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Decode the JSON string at *p (RFC 8259: no raw control character, only the
 * defined escapes, valid UTF-8) into out; *p moves past it. false if invalid.
 */
static bool json_decode_string(const unsigned char **p, const unsigned char *end, unsigned char *out,
			       size_t *olen)
{
	const unsigned char *s = *p;
	size_t o = 0;
	uint32_t cp;

	if (s >= end || *s++ != '"')
		return false;
	while (s < end && *s != '"') {
		if (*s < 0x20) {
			return false;
		} else if (*s == '\\') {
			static const char esc[] = "\"\\/bfnrt", val[] = "\"\\/\b\f\n\r\t";
			const char *e;

			if (++s >= end)
				return false;
			if (*s == 'u') {
				cp = 0;
				for (int i = 1; i <= 4; i++) {
					if (s + i >= end || hexval(s[i]) < 0)
						return false;
					cp = cp << 4 | hexval(s[i]);
				}
				if (cp >= 0xd800 && cp <= 0xdfff) /* the writer has no reason for pairs */
					return false;
				o += utf8_encode(cp, out + o);
				s += 5;
			} else if (*s && (e = strchr(esc, *s))) {
				out[o++] = val[e - esc];
				s++;
			} else {
				return false;
			}
		} else {
			size_t n = utf8_decode(s, end - s, &cp);

			if (!n)
				return false;
			memcpy(out + o, s, n);
			o += n;
			s += n;
		}
	}
	if (s >= end)
		return false;
	*p = s + 1;
	*olen = o;
	return true;
}

static char outbuf[4096];
static unsigned char dec[4096], want[4096];

/* write in as a JSON string, check it is one and decodes to what it should */
static void check_string(const unsigned char *in, size_t len)
{
	FILE *f = fmemopen(outbuf, sizeof(outbuf), "w");
	char s[16];
	const unsigned char *p = (const unsigned char *)outbuf;
	size_t olen = 0, wlen, n;

	assert_true(len < sizeof(s));
	memcpy(s, in, len);
	s[len] = 0;
	assert_non_null(f);
	json_write_string(f, s);
	n = ftell(f);
	assert_int_equal(fclose(f), 0);
	if (!json_decode_string(&p, (const unsigned char *)outbuf + n, dec, &olen) ||
	    p != (const unsigned char *)outbuf + n)
		fail_msg("not a JSON string: %.*s", (int)n, outbuf);
	wlen = expected(in, len, want);
	if (olen != wlen || memcmp(dec, want, olen)) {
		char hex[64] = "";

		for (size_t i = 0; i < len; i++)
			snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), " %02x", in[i]);
		fail_msg("input%s: written as %.*s", hex, (int)n, outbuf);
	}
}

static void test_short_strings(void **state)
{
	unsigned char b[4];

	for (int i = 1; i < 256; i++) {
		b[0] = i;
		check_string(b, 1);
		for (int k = 1; k < 256; k++) {
			b[1] = k;
			check_string(b, 2);
		}
	}
}

/* 3- and 4-byte leads with every second byte, a few third and fourth ones */
static void test_long_sequences(void **state)
{
	static const unsigned char tail[] = { 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0x41, 0x01 };
	unsigned char b[6];

	for (int lead = 0xe0; lead < 0x100; lead++) {
		b[0] = lead;
		for (int k = 1; k < 256; k++) {
			b[1] = k;
			for (size_t t = 0; t < sizeof(tail); t++) {
				b[2] = tail[t];
				check_string(b, 3);
				if (lead < 0xf0)
					continue;
				b[3] = 0x80;
				check_string(b, 4);
				b[4] = 'x';
				check_string(b, 5);
			}
		}
	}
}

/* a whole document through the writer: the layout, keys escaped too */
static void test_document(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct json j;

	assert_non_null(f);
	json_init(&j, f);
	json_open(&j, NULL, '{');
	json_str(&j, "name", "a\xff\x01\"\\b");
	json_str(&j, "k\x7f\xc0", NULL);
	json_open(&j, "list", '[');
	json_int(&j, NULL, -42);
	json_bool(&j, NULL, true);
	json_open(&j, NULL, '{');
	json_close(&j, '}');
	json_close(&j, ']');
	json_open(&j, "empty", '[');
	json_close(&j, ']');
	json_close(&j, '}');
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "{\n"
				  "  \"name\": \"a\\ufffd\\u0001\\\"\\\\b\",\n"
				  "  \"k\\u007f\\ufffd\": null,\n"
				  "  \"list\": [\n"
				  "    -42,\n"
				  "    true,\n"
				  "    {}\n"
				  "  ],\n"
				  "  \"empty\": []\n"
				  "}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_strings),
		cmocka_unit_test(test_long_sequences),
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests_name("tool-json", tests, NULL, NULL);
}
