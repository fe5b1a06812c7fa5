/*
 * Writing JSON for the --json output of hollow-cli commands (shapes in
 * docs/cli.md). Names and tags come from blobs, so strings are escaped:
 * the modified-UTF-8 NUL (C0 80) and WTF-8 lone surrogates the library
 * hands out become \u escapes, any other invalid byte U+FFFD, so the
 * output is always valid UTF-8 JSON.
 */
#ifndef HOLLOW_CLI_JSON_OUT_H
#define HOLLOW_CLI_JSON_OUT_H

#include <stdint.h>
#include <stdio.h>

/* `s` (NUL-terminated) as a JSON string, quotes included */
void json_string(FILE *f, const char *s);

/* a version or other 64-bit count: a number, or null when `v` <= 0 */
void json_version_or_null(FILE *f, int64_t v);

#endif
