// SPDX-License-Identifier: LGPL-2.1-or-later
/* The JSON writer of --json. See json.h. */
#include <stdio.h>

#include "json.h"

/* length of the valid UTF-8 sequence at s, 0 if invalid (overlongs are let through) */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_write_string(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;
		int n;

		if (c >= 0x80) { /* valid UTF-8 as is, any other byte as U+FFFD */
			n = utf8_len((const unsigned char *)s);
			if (n)
				fwrite(s, 1, n, f);
			else
				fputs("\\ufffd", f);
			s += n ? n - 1 : 0;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			putc(c, f);
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
