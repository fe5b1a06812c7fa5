/* The S3 test server and the aws CLI (see s3_server.h). */
#include "s3_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testhelp.h"

#define S3_SCRIPT HOLLOW_TESTS_DIR "/../scripts/s3.sh"
#define AWS_BIN "/usr/bin/aws"

/* servers this process started and has not stopped: killed at exit, so a
 * failing test (Check exits its child) leaves no server behind */
#define MAX_LIVE 16
static char live_state[MAX_LIVE][PATH_MAX];
static pid_t live_owner[MAX_LIVE]; /* a forked test leaves its parent's alone */
static bool atexit_set;

static void kill_live_servers(void)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live_state[i][0] == 0 || live_owner[i] != getpid())
            continue;
        char pidfile[PATH_MAX + 16];
        snprintf(pidfile, sizeof pidfile, "%s/s3rver.pid", live_state[i]);
        FILE *f = fopen(pidfile, "r");
        long pid = 0;
        if (f != NULL) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (pid > 1)
            kill((pid_t)pid, SIGKILL);
        live_state[i][0] = 0;
    }
}

static void set_live(const char *state, bool live)
{
    int free_slot = -1;
    for (int i = 0; i < MAX_LIVE; i++) {
        if (strcmp(live_state[i], state) == 0) {
            if (!live)
                live_state[i][0] = 0;
            return;
        }
        if (live_state[i][0] == 0 && free_slot < 0)
            free_slot = i;
    }
    if (!live)
        return;
    ck_assert_msg(free_slot >= 0, "more than %d S3 servers at once", MAX_LIVE);
    snprintf(live_state[free_slot], PATH_MAX, "%s", state);
    live_owner[free_slot] = getpid();
    if (!atexit_set) {
        atexit(kill_live_servers);
        atexit_set = true;
    }
}

/*
 * Run argv with the extra environment `env` ("NAME=value", or "NAME" to
 * unset; NULL-terminated) and with stdin from /dev/null; stdout and stderr
 * into out. Returns the exit status, or 128+N for signal N.
 */
/* whether environ entry `e` ("NAME=value") has the name of override `o` */
static bool same_name(const char *e, const char *o)
{
    size_t n = strcspn(o, "=");
    return strncmp(e, o, n) == 0 && e[n] == '=';
}

extern char **environ;

static int run_capture(char *const argv[], const char *const env[], char *out,
                       size_t cap)
{
    /* The child's environment is built here, before fork: the test is
     * multi-threaded, and a child that allocates (setenv) can wait forever
     * on an allocator lock another thread held at the fork (seen under
     * ThreadSanitizer). The child only calls async-signal-safe functions. */
    size_t ne = 0, no = 0;
    while (environ[ne] != NULL)
        ne++;
    while (env != NULL && env[no] != NULL)
        no++;
    char **envp = calloc(ne + no + 1, sizeof *envp);
    ck_assert_msg(envp != NULL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < ne; i++) {
        bool replaced = false;
        for (size_t j = 0; j < no && !replaced; j++)
            replaced = same_name(environ[i], env[j]);
        if (!replaced)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < no; j++)
        if (strchr(env[j], '=') != NULL) /* "NAME" alone unsets */
            envp[k++] = (char *)env[j];
    envp[k] = NULL;

    int fds[2];
    ck_assert_msg(pipe(fds) == 0, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execve(argv[0], argv, envp);
        static const char msg[] = "exec failed\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(127);
    }
    free(envp);
    close(fds[1]);
    size_t len = 0;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* keep reading past cap, or a chatty child blocks on a full pipe */
        if (out != NULL && cap > 0 && len < cap - 1) {
            size_t k = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
            memcpy(out + len, buf, k);
            len += k;
        }
    }
    close(fds[0]);
    if (out != NULL && cap > 0)
        out[len] = 0;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        ck_assert_msg(errno == EINTR, "waitpid: %s", strerror(errno));
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ht_write_file(path, text, strlen(text));
}

/* config files of the aws CLI in <state>/aws: default profile and `wrong` */
static void write_aws_config(const ht_s3 *s)
{
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/aws", s->state);
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s",
                  dir, strerror(errno));
    write_text(dir, "config",
               "[default]\nregion = " HT_S3_REGION "\ns3 =\n"
               "    addressing_style = path\n"
               "[profile wrong]\nregion = " HT_S3_REGION "\ns3 =\n"
               "    addressing_style = path\n");
    write_text(dir, "credentials",
               "[default]\naws_access_key_id = " HT_S3_ACCESS_KEY "\n"
               "aws_secret_access_key = " HT_S3_SECRET_KEY "\n"
               "[wrong]\naws_access_key_id = " HT_S3_ACCESS_KEY "\n"
               "aws_secret_access_key = not-the-secret\n");
}

/* scripts/s3.sh <cmd> for this server; aborts the test on failure */
static void s3_script(ht_s3 *s, const char *cmd, bool fresh)
{
    char e_state[PATH_MAX + 16], e_port[32], e_bucket[96];
    char e_key[PATH_MAX + 16], e_cert[PATH_MAX + 16], e_ca[PATH_MAX + 16];
    snprintf(e_state, sizeof e_state, "S3_STATE=%s", s->state);
    snprintf(e_port, sizeof e_port, "S3_PORT=%d", s->port);
    snprintf(e_bucket, sizeof e_bucket, "S3_BUCKET=%s", s->bucket);
    const char *env[12];
    int n = 0;
    env[n++] = e_state;
    env[n++] = e_port;
    env[n++] = e_bucket;
    env[n++] = fresh ? "S3_FRESH=1" : "S3_FRESH";
    if (s->tls) {
        snprintf(e_key, sizeof e_key, "S3_TLS_KEY=%s", s->key);
        snprintf(e_cert, sizeof e_cert, "S3_TLS_CERT=%s", s->cert);
        env[n++] = e_key;
        env[n++] = e_cert;
        if (s->ca[0]) {
            snprintf(e_ca, sizeof e_ca, "S3_TLS_CA=%s", s->ca);
            env[n++] = e_ca;
        }
    } else {
        env[n++] = "S3_TLS_KEY";
        env[n++] = "S3_TLS_CERT";
    }
    env[n] = NULL;
    char *argv[] = {"/bin/bash", S3_SCRIPT, (char *)cmd, NULL};
    char out[8192];
    int rc = run_capture(argv, env, out, sizeof out);
    ck_assert_msg(rc == 0, "scripts/s3.sh %s (state %s) failed with %d:\n%s",
                  cmd, s->state, rc, out);
}

static void read_port(ht_s3 *s)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/port", s->state);
    size_t len = 0;
    uint8_t *p = ht_read_file(path, &len);
    s->port = atoi((const char *)p);
    free(p);
    ck_assert_msg(s->port > 0 && s->port < 65536, "bad port in %s", path);
    snprintf(s->endpoint, sizeof s->endpoint, "%s://127.0.0.1:%d",
             s->tls ? "https" : "http", s->port);
}

static void start(ht_s3 *s, bool fresh)
{
    s3_script(s, "start", fresh);
    s->running = true;
    set_live(s->state, true);
    read_port(s);
}

static void init(ht_s3 *s, const char *state_dir, const char *bucket)
{
    memset(s, 0, sizeof *s);
    ck_assert_msg(strlen(state_dir) < sizeof s->state, "state dir too long");
    ck_assert_msg(strlen(bucket) < sizeof s->bucket, "bucket name too long");
    snprintf(s->state, sizeof s->state, "%s", state_dir);
    snprintf(s->bucket, sizeof s->bucket, "%s", bucket);
    ck_assert_msg(mkdir(s->state, 0700) == 0 || errno == EEXIST,
                  "mkdir %s: %s", s->state, strerror(errno));
    write_aws_config(s);
}

void ht_s3_start(ht_s3 *s, const char *state_dir, const char *bucket)
{
    init(s, state_dir, bucket);
    start(s, true);
}

void ht_s3_start_tls(ht_s3 *s, const char *state_dir, const char *bucket,
                     const char *key, const char *cert)
{
    init(s, state_dir, bucket);
    s->tls = true;
    ck_assert_msg(strlen(key) < sizeof s->key && strlen(cert) < sizeof s->cert,
                  "TLS file names too long");
    snprintf(s->key, sizeof s->key, "%s", key);
    snprintf(s->cert, sizeof s->cert, "%s", cert);
    /* the bucket creation verifies the server with the CA beside the cert */
    const char *slash = strrchr(cert, '/');
    int dlen = slash != NULL ? (int)(slash - cert) : 1;
    char ca[PATH_MAX + 16];
    snprintf(ca, sizeof ca, "%.*s/ca.pem", dlen, slash != NULL ? cert : ".");
    if (access(ca, R_OK) == 0 && strlen(ca) < sizeof s->ca)
        snprintf(s->ca, sizeof s->ca, "%s", ca);
    start(s, true);
}

void ht_s3_stop(ht_s3 *s)
{
    s3_script(s, "stop", false);
    s->running = false;
    set_live(s->state, false);
}

void ht_s3_kill(ht_s3 *s)
{
    s3_script(s, "kill", false);
    s->running = false;
    set_live(s->state, false);
}

void ht_s3_restart(ht_s3 *s)
{
    if (s->running)
        ht_s3_stop(s);
    start(s, false);
}

int ht_aws(const ht_s3 *s, char *out, size_t cap, const char *fmt, ...)
{
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof args, "aws arguments too long");
    char cmd[8192 + 256];
    snprintf(cmd, sizeof cmd, AWS_BIN " --endpoint-url %s %s", s->endpoint,
             args);
    char e_config[PATH_MAX + 32], e_creds[PATH_MAX + 48];
    snprintf(e_config, sizeof e_config, "AWS_CONFIG_FILE=%s/aws/config",
             s->state);
    snprintf(e_creds, sizeof e_creds,
             "AWS_SHARED_CREDENTIALS_FILE=%s/aws/credentials", s->state);
    const char *env[] = {e_config,
                         e_creds,
                         "AWS_EC2_METADATA_DISABLED=true",
                         "AWS_PAGER=",
                         "AWS_ACCESS_KEY_ID",
                         "AWS_SECRET_ACCESS_KEY",
                         "AWS_SESSION_TOKEN",
                         "AWS_PROFILE",
                         "AWS_DEFAULT_PROFILE",
                         "AWS_REGION",
                         "AWS_DEFAULT_REGION",
                         "AWS_ENDPOINT_URL",
                         "AWS_CA_BUNDLE",
                         NULL};
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    return run_capture(argv, env, out, cap);
}

void ht_make_tls_cert(const char *dir)
{
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s",
                  dir, strerror(errno));
    write_text(dir, "server.ext",
               "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
               "basicConstraints = critical, CA:FALSE\n"
               "keyUsage = critical, digitalSignature, keyEncipherment\n"
               "extendedKeyUsage = serverAuth\n"
               "subjectKeyIdentifier = hash\n"
               "authorityKeyIdentifier = keyid\n");
    char cmd[4 * PATH_MAX + 1024];
    /* EC P-256 keys: generated in milliseconds, unlike RSA */
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
             " -nodes -keyout ca.key -out ca.pem -days 7"
             " -subj '/CN=hollow-c test CA'"
             " -addext 'basicConstraints=critical,CA:TRUE'"
             " -addext 'keyUsage=critical,keyCertSign,cRLSign'; "
             "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
             " -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1'; "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key"
             " -set_serial 0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \\n')"
             " -days 7 -extfile server.ext -out server.pem",
             dir);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    char out[8192];
    int rc = run_capture(argv, NULL, out, sizeof out);
    ck_assert_msg(rc == 0, "making TLS certificates in %s failed (%d):\n%s",
                  dir, rc, out);
}
