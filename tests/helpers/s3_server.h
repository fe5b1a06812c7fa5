/*
 * A real S3 server for the online tests: @20minutes/s3rver 4.0.4 (it
 * verifies SigV4) started through scripts/s3.sh on a free loopback port and
 * stopped by its PID, plus the independent client /usr/bin/aws and the
 * certificates of a TLS test server. Credentials are S3RVER / S3RVER.
 * Every start/stop/kill aborts the test on failure; a server still running
 * when the test process exits is killed then.
 */
#ifndef HOLLOW_TEST_S3_SERVER_H
#define HOLLOW_TEST_S3_SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define HT_S3_ACCESS_KEY "S3RVER"
#define HT_S3_SECRET_KEY "S3RVER"
#define HT_S3_REGION "us-east-1"

typedef struct ht_s3 {
    char state[PATH_MAX];  /* the server's directory: data/, s3rver.log, aws/ */
    int port;
    char endpoint[128];    /* http(s)://127.0.0.1:PORT */
    char bucket[64];
    bool tls;
    char key[PATH_MAX];    /* TLS only: server key and certificate */
    char cert[PATH_MAX];
    char ca[PATH_MAX];     /* TLS only: <dir of cert>/ca.pem when it exists */
    bool running;
} ht_s3;

/* start a server with an empty store in state_dir (created if missing) and
 * create `bucket` (signed) */
void ht_s3_start(ht_s3 *s, const char *state_dir, const char *bucket);
/* the same over https with this key and certificate (ht_make_tls_cert) */
void ht_s3_start_tls(ht_s3 *s, const char *state_dir, const char *bucket,
                     const char *key, const char *cert);
/* SIGTERM (SIGKILL after 5 s) */
void ht_s3_stop(ht_s3 *s);
/* SIGKILL, as a crash mid-request */
void ht_s3_kill(ht_s3 *s);
/* stop (when running) and start again on the same port with the same data */
void ht_s3_restart(ht_s3 *s);

/*
 * Run /usr/bin/aws (never a shim on PATH) against the server:
 *   /usr/bin/aws --endpoint-url ENDPOINT <fmt ...>
 * The formatted arguments are split by /bin/sh (quote paths as in a shell).
 * Region us-east-1, path addressing, credentials S3RVER/S3RVER from config
 * files in <state>/aws; `--profile wrong` signs with a wrong secret.
 * AWS_EC2_METADATA_DISABLED=true, and AWS_* variables of the caller are not
 * passed on. Returns the exit status (128+N for signal N); stdout and stderr
 * go to out (NUL-terminated, truncated to cap).
 */
int ht_aws(const ht_s3 *s, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* a CA and a server certificate made by the openssl CLI: dir/ca.pem,
 * dir/server.key, dir/server.pem for 127.0.0.1 and localhost
 * (subjectAltName), signed by the CA; aborts the test on failure */
void ht_make_tls_cert(const char *dir);

#endif
