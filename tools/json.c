// SPDX-License-Identifier: LGPL-2.1-or-later
/* The JSON writer of --json. See json.h. */
#include <stdio.h>

#include "json.h"

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629; table 3-7 of the
 * Unicode standard): no overlong form, no surrogate (U+D800..U+DFFF), nothing
 * above U+10FFFF. 0 when the bytes at s are not one.
 */
static int utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
	int n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong below U+0800 */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong below U+10000 */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi) /* a NUL stops here: no read past it */
		return 0;
	for (int i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * The one place strings are escaped. Whatever the bytes (file contents and
 * names from sysfs or a --root tree), the output is valid JSON in valid UTF-8:
 * well-formed UTF-8 is copied, every other byte >= 0x80 becomes U+FFFD (one
 * per byte), control characters and DEL are escaped.
 */
void json_write_string(FILE *f, const char *s)
{
	putc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int n;

		switch (*p) {
		case '"':
		case '\\':
			putc('\\', f);
			putc(*p, f);
			continue;
		case '\b':
			fputs("\\b", f);
			continue;
		case '\f':
			fputs("\\f", f);
			continue;
		case '\n':
			fputs("\\n", f);
			continue;
		case '\r':
			fputs("\\r", f);
			continue;
		case '\t':
			fputs("\\t", f);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else if (*p < 0x80) {
			putc(*p, f);
		} else if ((n = utf8_len(p))) {
			fwrite(p, 1, n, f);
			p += n - 1;
		} else {
			fputs("\\ufffd", f);
		}
	}
	putc('"', f);
}

void json_init(struct json *j, FILE *f)
{
	*j = (struct json){ .f = f };
}

/* separator, indentation and "key": of the next member (key NULL in arrays) */
static void json_key(struct json *j, const char *key)
{
	if (j->depth > 0) {
		fprintf(j->f, "%s\n%*s", j->first[j->depth] ? "" : ",", 2 * j->depth, "");
		j->first[j->depth] = false;
	}
	if (key) {
		json_write_string(j->f, key);
		fputs(": ", j->f);
	}
}

void json_open(struct json *j, const char *key, char bracket)
{
	json_key(j, key);
	putc(bracket, j->f);
	if (j->depth < JSON_DEPTH_MAX)
		j->first[++j->depth] = true;
}

void json_close(struct json *j, char bracket)
{
	bool empty = j->depth > 0 && j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	putc(bracket, j->f);
	if (j->depth == 0)
		putc('\n', j->f);
}

void json_str(struct json *j, const char *key, const char *val)
{
	json_key(j, key);
	if (val)
		json_write_string(j->f, val);
	else
		fputs("null", j->f);
}

void json_int(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	fprintf(j->f, "%lld", v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}
