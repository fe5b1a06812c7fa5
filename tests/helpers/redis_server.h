/*
 * A real redis-server for the online suites: started on a free loopback
 * port as a child of the test process, with nothing persisted (so a
 * restart is empty), and stopped by its PID. A server that cannot start
 * fails the test (online tests never skip).
 */
#ifndef HOLLOW_REDIS_SERVER_H
#define HOLLOW_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct ht_redis {
    pid_t pid;          /* 0: not running */
    int port;
    char url[64];       /* redis://127.0.0.1:PORT (no password) */
    char dir[512];      /* its working directory and log */
    char password[128]; /* "" for none */
} ht_redis;

/* start on a free port; `password` NULL for none; aborts the test on
 * failure (with the server's log) */
void ht_redis_start(ht_redis *r, const char *state_dir, const char *password);
/* SIGTERM, then SIGKILL after 5 s; reaps it */
void ht_redis_stop(ht_redis *r);
/* SIGKILL at once (a crash); reaps it */
void ht_redis_kill(ht_redis *r);
/* kill it and start it again, empty, on the same port */
void ht_redis_restart(ht_redis *r);
/* run one command (argv of strings) with redis-cli semantics; returns
 * the reply as text in out ("" for nil), false on a connection error */
bool ht_redis_cmd(ht_redis *r, char *out, size_t cap, int argc,
                  const char **argv);

#endif
