// SPDX-License-Identifier: LGPL-2.1-or-later
/* A strict JSON syntax check for the tests of the command (see json-check.h). */
#include <stddef.h>
#include <string.h>

#include "json-check.h"

static const char *jvalue(const char *s, int depth);

static const char *jws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

/* length of the well-formed UTF-8 sequence at s (by its code point's value), 0 if none */
static int utf8_seq(const unsigned char *s)
{
	int n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	unsigned int v = s[0] & (0x7f >> n);

	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (!n || (n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

static const char *jstr(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if ((unsigned char)*s >= 0x80) {
			int n = utf8_seq((const unsigned char *)s);

			if (!n)
				return NULL;
			s += n;
			continue;
		}
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!s[i] || !strchr("0123456789abcdefABCDEF", s[i]))
						return NULL;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
		s++;
	}
	return s + 1;
}

static const char *jseq(const char *s, char close, int obj, int depth)
{
	s = jws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (obj) {
			if (!(s = jstr(jws(s))))
				return NULL;
			s = jws(s);
			if (*s++ != ':')
				return NULL;
		}
		if (!(s = jvalue(s, depth + 1)))
			return NULL;
		s = jws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *jvalue(const char *s, int depth)
{
	s = jws(s);
	if (depth > 64)
		return NULL;
	if (*s == '{')
		return jseq(s, '}', 1, depth);
	if (*s == '[')
		return jseq(s, ']', 0, depth);
	if (*s == '"')
		return jstr(s);
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		s++;
		while (*s >= '0' && *s <= '9')
			s++;
		return s;
	}
	return NULL;
}

bool json_check(const char *text)
{
	const char *end = jvalue(text, 0);

	return end && !*jws(end);
}
