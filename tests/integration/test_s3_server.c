/*
 * The S3 test server and its helpers (tests/helpers/s3_server.h), proven
 * with the independent client /usr/bin/aws: a file copied up and back is
 * byte-identical and lies in the server's own state directory; a wrong
 * secret is refused by the server (SignatureDoesNotMatch), so it verifies
 * SigV4; a server killed with SIGKILL and restarted on the same port keeps
 * its objects; two servers run side by side on their own ports; a TLS
 * server is reached with its CA (--ca-bundle) and refused without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_server.h"
#include "testhelp.h"

static char out[65536];

/* a file of `len` seeded bytes at dir/name; returns its path in path */
static void make_file(char *path, size_t cap, const char *dir,
                      const char *name, size_t len, uint64_t seed)
{
    uint8_t *p = malloc(len);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(ht_rand(&seed) >> 56);
    snprintf(path, cap, "%s/%s", dir, name);
    ht_write_file(path, p, len);
    free(p);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    uint8_t *pa = ht_read_file(a, &la);
    uint8_t *pb = ht_read_file(b, &lb);
    ck_assert_msg(la == lb, "%s has %zu bytes, %s %zu", a, la, b, lb);
    ck_assert_msg(memcmp(pa, pb, la) == 0, "%s and %s differ", a, b);
    free(pa);
    free(pb);
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

START_TEST(s3_server_copy_up_and_back_is_byte_identical)
{
    char dir[4096], state[4200], src[4200], back[4200], obj[4400];
    ht_tmpdir(dir, sizeof dir, "s3srv");
    snprintf(state, sizeof state, "%s/s3", dir);
    ht_s3 s;
    ht_s3_start(&s, state, "round-trip");
    ck_assert_int_gt(s.port, 0);
    ck_assert_str_eq(s.bucket, "round-trip");
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d", s.port);
    ck_assert_str_eq(s.endpoint, want);
    ck_assert(port_accepts(s.port));

    /* 9 MB: above the CLI's 8 MB threshold, so the upload is multipart */
    make_file(src, sizeof src, dir, "blob.bin", 9u << 20, 7);
    int rc = ht_aws(&s, out, sizeof out, "s3 cp '%s' s3://round-trip/blobs/snapshot-1",
                    src);
    ck_assert_msg(rc == 0, "aws s3 cp up: %d\n%s", rc, out);
    snprintf(back, sizeof back, "%s/back.bin", dir);
    rc = ht_aws(&s, out, sizeof out, "s3 cp s3://round-trip/blobs/snapshot-1 '%s'",
                back);
    ck_assert_msg(rc == 0, "aws s3 cp down: %d\n%s", rc, out);
    assert_same_file(src, back);

    /* the object lives in this server's state directory */
    snprintf(obj, sizeof obj, "%s/data/round-trip/blobs/snapshot-1._S3rver_object",
             state);
    ck_assert_msg(file_exists(obj), "%s missing", obj);
    assert_same_file(src, obj);

    rc = ht_aws(&s, out, sizeof out,
                "s3api head-object --bucket round-trip --key blobs/snapshot-1");
    ck_assert_msg(rc == 0, "head-object: %d\n%s", rc, out);
    ck_assert_msg(strstr(out, "\"ContentLength\": 9437184") != NULL, "%s", out);

    /* stopped: no pidfile left (the freed port itself may already serve
     * another suite's server under ctest -j) */
    ht_s3_stop(&s);
    ck_assert(!s.running);
    snprintf(obj, sizeof obj, "%s/s3rver.pid", state);
    ck_assert(!file_exists(obj));
    ht_remove_dir(dir);
}
END_TEST

START_TEST(s3_server_refuses_a_wrong_secret)
{
    char dir[4096], state[4200], src[4200];
    ht_tmpdir(dir, sizeof dir, "s3srv");
    snprintf(state, sizeof state, "%s/s3", dir);
    ht_s3 s;
    ht_s3_start(&s, state, "signed");
    make_file(src, sizeof src, dir, "small.bin", 1000, 3);

    int rc = ht_aws(&s, out, sizeof out,
                    "--profile wrong s3 cp '%s' s3://signed/small", src);
    ck_assert_msg(rc != 0, "a wrong secret was accepted:\n%s", out);
    ck_assert_msg(strstr(out, "SignatureDoesNotMatch") != NULL, "%s", out);

    /* nothing was stored, and the right secret works */
    char obj[4400];
    snprintf(obj, sizeof obj, "%s/data/signed/small._S3rver_object", state);
    ck_assert_msg(!file_exists(obj), "%s stored", obj);
    rc = ht_aws(&s, out, sizeof out, "s3 cp '%s' s3://signed/small", src);
    ck_assert_msg(rc == 0, "%s", out);
    rc = ht_aws(&s, out, sizeof out, "s3 ls s3://signed/");
    ck_assert_msg(rc == 0 && strstr(out, " 1000 small") != NULL, "%s", out);
    ht_s3_stop(&s);
    ht_remove_dir(dir);
}
END_TEST

START_TEST(s3_server_killed_and_restarted_keeps_objects)
{
    char dir[4096], state[4200], src[4200], back[4200];
    ht_tmpdir(dir, sizeof dir, "s3srv");
    snprintf(state, sizeof state, "%s/s3", dir);
    ht_s3 s;
    ht_s3_start(&s, state, "durable");
    int port = s.port;
    make_file(src, sizeof src, dir, "blob.bin", 300000, 11);
    int rc = ht_aws(&s, out, sizeof out, "s3 cp '%s' s3://durable/deltas/delta-1-2",
                    src);
    ck_assert_msg(rc == 0, "%s", out);

    ht_s3_kill(&s);
    ck_assert(!s.running);

    ht_s3_restart(&s);
    ck_assert_int_eq(s.port, port);
    ck_assert(port_accepts(port));
    snprintf(back, sizeof back, "%s/back.bin", dir);
    rc = ht_aws(&s, out, sizeof out, "s3 cp s3://durable/deltas/delta-1-2 '%s'",
                back);
    ck_assert_msg(rc == 0, "%s", out);
    assert_same_file(src, back);

    /* a restart of a running server (SIGTERM) keeps them too */
    ht_s3_restart(&s);
    ck_assert_int_eq(s.port, port);
    rc = ht_aws(&s, out, sizeof out, "s3 ls s3://durable/deltas/");
    ck_assert_msg(rc == 0 && strstr(out, " 300000 delta-1-2") != NULL, "%s",
                  out);
    ht_s3_stop(&s);
    ht_remove_dir(dir);
}
END_TEST

START_TEST(s3_server_two_servers_side_by_side)
{
    char dir[4096], sa[4200], sb[4200], src[4200];
    ht_tmpdir(dir, sizeof dir, "s3srv");
    snprintf(sa, sizeof sa, "%s/a", dir);
    snprintf(sb, sizeof sb, "%s/b", dir);
    ht_s3 a, b;
    ht_s3_start(&a, sa, "bucket-a");
    ht_s3_start(&b, sb, "bucket-b");
    ck_assert_int_ne(a.port, b.port);
    make_file(src, sizeof src, dir, "x.bin", 100, 5);
    int rc = ht_aws(&a, out, sizeof out, "s3 cp '%s' s3://bucket-a/x", src);
    ck_assert_msg(rc == 0, "%s", out);
    /* b has neither the bucket nor the object */
    rc = ht_aws(&b, out, sizeof out, "s3 ls s3://bucket-a/");
    ck_assert_msg(rc != 0 && strstr(out, "NoSuchBucket") != NULL, "%s", out);
    ht_s3_stop(&a);
    ck_assert(port_accepts(b.port));
    ht_s3_stop(&b);
    ht_remove_dir(dir);
}
END_TEST

START_TEST(s3_server_tls_needs_the_ca)
{
    char dir[4096], certs[4200], state[4200], key[4300], cert[4300];
    char ca[4300], src[4200], back[4200];
    ht_tmpdir(dir, sizeof dir, "s3srv");
    snprintf(certs, sizeof certs, "%s/certs", dir);
    snprintf(state, sizeof state, "%s/s3", dir);
    ht_make_tls_cert(certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    ck_assert(file_exists(key) && file_exists(cert) && file_exists(ca));

    ht_s3 s;
    ht_s3_start_tls(&s, state, "secure", key, cert);
    ck_assert(s.tls);
    char want[64];
    snprintf(want, sizeof want, "https://127.0.0.1:%d", s.port);
    ck_assert_str_eq(s.endpoint, want);

    make_file(src, sizeof src, dir, "blob.bin", 200000, 13);
    int rc = ht_aws(&s, out, sizeof out, "--ca-bundle '%s' s3 cp '%s' s3://secure/b",
                    ca, src);
    ck_assert_msg(rc == 0, "%s", out);
    snprintf(back, sizeof back, "%s/back.bin", dir);
    rc = ht_aws(&s, out, sizeof out, "--ca-bundle '%s' s3 cp s3://secure/b '%s'",
                ca, back);
    ck_assert_msg(rc == 0, "%s", out);
    assert_same_file(src, back);

    /* without the CA the client refuses the server's certificate */
    rc = ht_aws(&s, out, sizeof out, "s3 ls s3://secure/");
    ck_assert_msg(rc != 0, "an unknown CA was trusted:\n%s", out);
    ck_assert_msg(strstr(out, "CERTIFICATE_VERIFY_FAILED") != NULL, "%s", out);
    ht_s3_stop(&s);
    ht_remove_dir(dir);
}
END_TEST

static Suite *s3_server_suite(void)
{
    Suite *s = suite_create("s3_server");
    TCase *tc = tcase_create("server");
    tcase_add_test(tc, s3_server_copy_up_and_back_is_byte_identical);
    tcase_add_test(tc, s3_server_refuses_a_wrong_secret);
    tcase_add_test(tc, s3_server_killed_and_restarted_keeps_objects);
    tcase_add_test(tc, s3_server_two_servers_side_by_side);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls");
    tcase_add_test(tc, s3_server_tls_needs_the_ca);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(s3_server_suite()); }
