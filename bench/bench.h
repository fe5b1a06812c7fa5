/* hollow-bench: shared helpers of the subcommands (bench/bench_<area>.c). */
#ifndef HOLLOW_BENCH_H
#define HOLLOW_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* monotonic clock in seconds */
double bench_now(void);
/* bytes live through the library's allocator (a counting allocator that
 * hollow-bench installs at start-up) */
long bench_live_bytes(void);
/* whether the arguments ask for help (--help or -h): the subcommand then
 * prints its usage on stdout and exits 0 */
int bench_help_asked(int argc, char **argv);
/* read a whole file; exits on failure */
uint8_t *bench_read_file(const char *path, size_t *len);

int bench_chain(int argc, char **argv);
int bench_announcer(int argc, char **argv);
int bench_announcer_redis(int argc, char **argv);
int bench_s3(int argc, char **argv);
int bench_movies(int argc, char **argv);
int bench_import(int argc, char **argv);
int bench_types(int argc, char **argv);

#endif
