/* Test helpers (see testhelp.h). */
#include "testhelp.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hollow/read.h"
#include "hollow/write.h"

uint8_t *ht_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

void ht_write_file(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_int_eq(fwrite(p, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

void ht_sha256_hex(const void *p, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    ck_assert(EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) == 1);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    out[64] = 0;
}

uint64_t ht_seed(const char *test_name)
{
    const char *env = getenv("HOLLOW_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    fprintf(stderr, "%s: seed %llu (HOLLOW_TEST_SEED to repeat)\n", test_name,
            (unsigned long long)seed);
    return seed;
}

uint64_t ht_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int ht_scale(void)
{
    const char *env = getenv("HOLLOW_TEST_SCALE");
    int s = env ? atoi(env) : 1;
    return s > 0 ? s : 1;
}

void ht_tmpdir(char *dir, size_t cap, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/%s.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp",
             prefix);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir,
                  strerror(errno));
}

void ht_remove_dir(const char *dir)
{
    chmod(dir, 0755); /* some tests make a directory read-only */
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            ht_remove_dir(path);
    }
    closedir(d);
    rmdir(dir);
}

int64_t ht_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ht_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

struct timespec ht_deadline(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

static ht_blob chain_blob(const char *dir, const char *name)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ht_blob b;
    b.p = ht_read_file(path, &b.len);
    return b;
}

void ht_chain_load(ht_chain *c, const char *scenario)
{
    char dir[1024], path[1100], name[256];
    snprintf(dir, sizeof dir, "%s/%s", HOLLOW_GOLDEN_DIR, scenario);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_error_t err;
    json_t *m = json_load_file(path, 0, &err);
    ck_assert_msg(m != NULL, "%s: %s", path, err.text);
    json_t *vs = json_object_get(m, "versions");
    size_t nv = json_array_size(vs);
    ck_assert_uint_gt(nv, 0);
    ck_assert_uint_le(2 * (nv - 1), HT_CHAIN_MAX_STEPS);
    snprintf(name, sizeof name, "snapshot-%lld",
             (long long)json_integer_value(json_array_get(vs, 0)));
    c->snapshot = chain_blob(dir, name);
    c->nsteps = 0;
    for (size_t i = 0; i + 1 < nv; i++) {
        snprintf(name, sizeof name, "delta-%lld-%lld",
                 (long long)json_integer_value(json_array_get(vs, i)),
                 (long long)json_integer_value(json_array_get(vs, i + 1)));
        c->steps[c->nsteps++] = chain_blob(dir, name);
    }
    for (size_t i = nv - 1; i > 0; i--) {
        snprintf(name, sizeof name, "reversedelta-%lld-%lld",
                 (long long)json_integer_value(json_array_get(vs, i)),
                 (long long)json_integer_value(json_array_get(vs, i - 1)));
        c->steps[c->nsteps++] = chain_blob(dir, name);
    }
    json_decref(m);
}

void ht_chain_free(ht_chain *c)
{
    free(c->snapshot.p);
    for (int i = 0; i < c->nsteps; i++)
        free(c->steps[i].p);
}

/*
 * Check reads CK_DEFAULT_TIMEOUT when a TCase is created (default 4 s), so
 * set it before main(): a test binary run by hand gets the same 600 s as
 * under CTest. A TCase's own tcase_set_timeout() still wins.
 */
__attribute__((constructor)) static void ht_default_timeout(void)
{
    setenv("CK_DEFAULT_TIMEOUT", "600", 0);
}

int ht_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int ht_mem_sink(void *payload, const void *data, size_t len)
{
    ht_mem *m = payload;
    if (m->len + len > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 65536;
        while (nc < m->len + len)
            nc *= 2;
        m->p = realloc(m->p, nc);
        ck_assert_ptr_nonnull(m->p);
        m->cap = nc;
    }
    if (len > 0)
        memcpy(m->p + m->len, data, len);
    m->len += len;
    return 0;
}

int ht_mem_text_sink(void *payload, const char *data, size_t len)
{
    return ht_mem_sink(payload, data, len);
}

void ht_copy_record(hollow_record *r, const hollow_type *t, hollow_ordinal o)
{
    const hollow_schema *s = hollow_type_schema(t);
    const hollow_schema *ws = hollow_record_schema(r);
    hollow_record_reset(r);
    switch (hollow_schema_kind_of(s)) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < hollow_schema_field_count(s); f++) {
            int wf = hollow_schema_field_index(ws, hollow_schema_field_name(s, f));
            ck_assert_int_ge(wf, 0);
            size_t w = (size_t)wf;
            hollow_value v;
            HT_OK(hollow_object_value(&v, t, o, f));
            if (v.is_null) {
                HT_OK(hollow_record_set_null(r, w));
                continue;
            }
            switch (v.type) {
            case HOLLOW_FIELD_INT: HT_OK(hollow_record_set_int(r, w, v.u.i)); break;
            case HOLLOW_FIELD_LONG: HT_OK(hollow_record_set_long(r, w, v.u.l)); break;
            case HOLLOW_FIELD_FLOAT: HT_OK(hollow_record_set_float(r, w, v.u.f)); break;
            case HOLLOW_FIELD_DOUBLE: HT_OK(hollow_record_set_double(r, w, v.u.d)); break;
            case HOLLOW_FIELD_BOOLEAN: HT_OK(hollow_record_set_bool(r, w, v.u.b)); break;
            case HOLLOW_FIELD_REFERENCE: HT_OK(hollow_record_set_ref(r, w, v.u.ref)); break;
            case HOLLOW_FIELD_BYTES:
                HT_OK(hollow_record_set_bytes(r, w, v.u.bytes.ptr, v.u.bytes.len));
                break;
            case HOLLOW_FIELD_STRING: {
                static uint16_t units[1 << 16];
                size_t n;
                HT_OK(hollow_object_string_utf16(units, 1 << 16, &n, t, o, f));
                HT_OK(hollow_record_set_string_utf16(r, w, units, n));
                break;
            }
            }
        }
        break;
    case HOLLOW_SCHEMA_LIST: {
        uint32_t n;
        HT_OK(hollow_list_size(&n, t, o));
        for (uint32_t i = 0; i < n; i++) {
            hollow_ordinal e;
            HT_OK(hollow_list_get(&e, t, o, i));
            HT_OK(hollow_record_add_element(r, e));
        }
        break;
    }
    case HOLLOW_SCHEMA_SET: {
        hollow_iter it;
        hollow_ordinal e;
        HT_OK(hollow_set_iter_init(&it, t, o));
        while (hollow_set_iter_next(&it, &e))
            HT_OK(hollow_record_add_element(r, e));
        break;
    }
    case HOLLOW_SCHEMA_MAP: {
        hollow_iter it;
        hollow_ordinal k, v;
        HT_OK(hollow_map_iter_init(&it, t, o));
        while (hollow_map_iter_next(&it, &k, &v))
            HT_OK(hollow_record_put_entry(r, k, v));
        break;
    }
    }
}
