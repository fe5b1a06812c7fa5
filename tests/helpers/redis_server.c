/* A redis-server child for the online suites (redis_server.h). */
#define _GNU_SOURCE /* prctl */
#include "redis_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "testhelp.h"

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(s >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ck_assert_msg(bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
                      getsockname(s, (struct sockaddr *)&a, &len) == 0,
                  "bind: %s", strerror(errno));
    close(s);
    return ntohs(a.sin_port);
}

static void dump_log(const ht_redis *r)
{
    char path[600];
    snprintf(path, sizeof path, "%s/redis.log", r->dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL)
        fprintf(stderr, "redis.log: %s", line);
    fclose(f);
}

bool ht_redis_cmd(ht_redis *r, char *out, size_t cap, int argc,
                  const char **argv)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    if (c == NULL || c->err) {
        if (c != NULL)
            redisFree(c);
        return false;
    }
    redisSetTimeout(c, tv);
    bool ok = true;
    if (r->password[0] != '\0') {
        redisReply *a = redisCommand(c, "AUTH %s", r->password);
        ok = a != NULL && a->type != REDIS_REPLY_ERROR;
        if (a != NULL)
            freeReplyObject(a);
    }
    redisReply *rep = ok ? redisCommandArgv(c, argc, argv, NULL) : NULL;
    ok = rep != NULL;
    if (ok && cap > 0) {
        out[0] = '\0';
        if (rep->type == REDIS_REPLY_INTEGER)
            snprintf(out, cap, "%lld", rep->integer);
        else if (rep->str != NULL)
            snprintf(out, cap, "%s", rep->str);
    }
    if (rep != NULL)
        freeReplyObject(rep);
    redisFree(c);
    return ok;
}

/* start the server on r->port; false when it exited at start (the port
 * taken meanwhile, say) and `may_fail` */
static bool launch(ht_redis *r, bool may_fail)
{
    char conf[600];
    snprintf(conf, sizeof conf, "%s/redis.conf", r->dir);
    FILE *f = fopen(conf, "w");
    ck_assert_msg(f != NULL, "cannot write %s", conf);
    fprintf(f, "port %d\nbind 127.0.0.1\nsave \"\"\nappendonly no\n"
               "dir \"%s\"\nlogfile \"%s/redis.log\"\ndaemonize no\n",
            r->port, r->dir, r->dir);
    if (r->password[0] != '\0')
        fprintf(f, "requirepass \"%s\"\n", r->password);
    fclose(f);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* never outlive the test process */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("redis-server", "redis-server", conf, (char *)NULL);
        _exit(127);
    }
    r->pid = pid;
    snprintf(r->url, sizeof r->url, "redis://127.0.0.1:%d", r->port);
    int64_t deadline = ht_now_ms() + 10000;
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            r->pid = 0;
            if (may_fail)
                return false;
            dump_log(r);
            ck_abort_msg("redis-server exited at start (status %d; is it "
                         "installed? scripts/install-deps.sh)", st);
        }
        /* ours, not another server that took the port */
        char out[4096], want[48];
        const char *argv[2] = { "INFO", "server" };
        snprintf(want, sizeof want, "process_id:%ld\r", (long)pid);
        if (ht_redis_cmd(r, out, sizeof out, 2, argv) &&
            strstr(out, want) != NULL)
            return true;
        if (ht_now_ms() > deadline) {
            ht_redis_kill(r);
            dump_log(r);
            ck_abort_msg("redis-server did not answer on port %d", r->port);
        }
        ht_sleep_ms(10);
    }
}

void ht_redis_start(ht_redis *r, const char *state_dir, const char *password)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", state_dir);
    if (password != NULL)
        snprintf(r->password, sizeof r->password, "%s", password);
    /* another process may take the free port before the server binds it */
    for (int attempt = 0; attempt < 4; attempt++) {
        r->port = free_port();
        if (launch(r, attempt < 3))
            return;
    }
}

static void reap(ht_redis *r, int sig, int grace_ms)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, sig);
    int64_t deadline = ht_now_ms() + grace_ms;
    for (;;) {
        int st;
        pid_t got = waitpid(r->pid, &st, WNOHANG);
        if (got == r->pid || (got < 0 && errno == ECHILD))
            break;
        if (ht_now_ms() > deadline) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &st, 0);
            break;
        }
        ht_sleep_ms(5);
    }
    r->pid = 0;
}

void ht_redis_stop(ht_redis *r) { reap(r, SIGTERM, 5000); }

void ht_redis_kill(ht_redis *r) { reap(r, SIGKILL, 5000); }

void ht_redis_restart(ht_redis *r)
{
    ht_redis_kill(r);
    launch(r, false);
}
