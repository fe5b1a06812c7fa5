/* The hollow-cli commands: one file each, src/cli/cmd_<verb>.c. */
#ifndef HOLLOW_CLI_COMMANDS_H
#define HOLLOW_CLI_COMMANDS_H

int cmd_consume(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
/* pin and unpin share cmd_pin.c */
int cmd_pin(int argc, char **argv);
int cmd_produce(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_unpin(int argc, char **argv);

#endif
