/*
 * Reading a whole input file for a hollow-cli command: a path, or `-` for
 * standard input (a pipe is read to its end, never taken for a truncated
 * blob). Errors say why (the OS's reason).
 */
#ifndef HOLLOW_CLI_INPUT_H
#define HOLLOW_CLI_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* how messages name `path`: "standard input" for `-` */
const char *cli_input_name(const char *path);

/*
 * Read all of `path` (or standard input for "-") into *out (malloc'd; the
 * caller frees it) and its length into *len: 0, or 1 after printing
 * "hollow-cli <cmd>: cannot read PATH: <reason>".
 */
int cli_read_input(uint8_t **out, size_t *len, const char *path,
                   const char *cmd);

#endif
