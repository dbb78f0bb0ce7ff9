/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_TOOL_JSON_H
#define IOMMUFD_TOOL_JSON_H

/*
 * The JSON writer of --json: pretty-printed objects and arrays, two spaces
 * per level, a newline after the outermost value. Every string, key or
 * value, goes through json_write_string().
 */
#include <stdbool.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_DEPTH_MAX + 1]; /* no member yet at this depth */
};

void json_init(struct json *j, FILE *f);
/* "key": { or [ (key NULL inside arrays and for the outermost value) */
void json_open(struct json *j, const char *key, char bracket);
void json_close(struct json *j, char bracket);
/* "key": "val", or null when val is NULL */
void json_str(struct json *j, const char *key, const char *val);
void json_int(struct json *j, const char *key, long long v);
void json_bool(struct json *j, const char *key, bool v);

/* s as a JSON string, quotes included */
void json_write_string(FILE *f, const char *s);

#endif
