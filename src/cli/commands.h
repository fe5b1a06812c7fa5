/* The hollow-cli commands: one file each, src/cli/cmd_<verb>.c. */
#ifndef HOLLOW_CLI_COMMANDS_H
#define HOLLOW_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

int cmd_consume(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
/* pin and unpin share cmd_pin.c */
int cmd_pin(int argc, char **argv);
int cmd_produce(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_unpin(int argc, char **argv);

/* main.c: the list of commands, for the shell and `help` */
void cli_usage(FILE *f);
bool cli_is_command(const char *name);
/* run argv[0] (a command name) with its arguments: its exit code, or 2
 * after printing the usage for an unknown one */
int cli_run_command(int argc, char **argv);

/* true while `hollow-cli shell` runs commands (cmd_shell.c) */
extern bool cli_in_shell;

#endif
