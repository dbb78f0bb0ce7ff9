/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_TOOL_PARSE_H
#define IOMMUFD_TOOL_PARSE_H

/*
 * The parsers of what the command reads under --root (parse.c): pure
 * functions on bytes in memory, no file access, so that the libFuzzer target
 * tests/fuzz/fuzz-tool-parse.c runs them on any input. Whatever the input,
 * they stay in bounds and finish in time linear in its size.
 */
#include <stdbool.h>
#include <stddef.h>

#define NAME_COMPONENT_MAX 255 /* NAME_MAX: a path component taken from file contents */

/*
 * Can s (len bytes) be one component of a path built under the root? Not
 * empty, at most NAME_COMPONENT_MAX bytes, no '/', no NUL, not "." or "..".
 * (Control characters are allowed: tty_safe() makes them printable.)
 */
bool valid_component(const char *s, size_t len);

/* the first line of text (n bytes) without trailing white space into out; -EINVAL if it holds a NUL */
int first_line(const char *text, size_t n, char *out, size_t size);

/*
 * Kernel config text: for each of names[0..n), the value of its "NAME=value"
 * line into vals[i] (vals_size bytes each), "n" when there is none.
 */
void parse_config(const char *text, const char *const *names, size_t n, char (*vals)[16]);

/* does the text index (modules.builtin / modules.dep, '-' already '_') list module name? */
bool text_index_has(const char *text, const char *name);

/* does the kernel command line hold token tok (a "key=" token matches any value)? */
bool cmdline_has(const char *cmdline, const char *tok);

/*
 * Is buf (len bytes) a well-formed libkmod binary index (modules.*.bin:
 * magic, version 2, a trie whose every node, string and child offset lies in
 * the file and whose nodes each have one parent)? 0, or -EBADMSG with why.
 */
int kmod_index_check(const unsigned char *buf, size_t len, char *why, size_t why_size);

/* s made safe to print on a terminal: each control byte (an escape sequence's ESC too) becomes '?' */
void tty_safe(char *s);

#endif
