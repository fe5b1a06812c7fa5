/*
 * Tests of snapshot loading and the read accessors (include/hollow/read.h,
 * blob-format.md §3-§8):
 *
 *   truncation  every golden snapshot cut at many lengths fails cleanly
 *   corruption  seeded random byte flips never crash the reader or dumps
 *   hostile     hand-crafted blobs with impossible counts, widths, offsets,
 *               pointers and reference graphs
 *   golden      typed accessors against the Java-written expected dumps
 *   spec        the worked examples of §6.6, §7.2, §8.4 and §8.6, byte for
 *               byte
 *
 * Hostile blobs are built with hollow__buf from the layout of the spec,
 * starting from worked example 1 and mutating it. A counting allocator
 * refuses (and counts) any single allocation above 64 MiB and any that
 * would take more than 512 MiB in all, and checks that everything
 * allocated is freed.
 */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/reader.h"
#include "common/text.h"
#include "hollow/dump.h"
#include "hollow/read.h"
#include "hollow/schema.h"
#include "testhelp.h"

/* an assert for hot loops (ck_assert records a mark point per success) */
#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

static const hollow_read_options HEAP = HOLLOW_READ_OPTIONS_INIT;

/* ------------------------------------------------- counting allocator */

#define BIG_ALLOC ((size_t)64 << 20)

typedef struct alloc_hdr {
    size_t size;
    size_t pad; /* keeps the payload 16-byte aligned */
} alloc_hdr;

#define BUDGET ((size_t)512 << 20)

static size_t g_big_attempts; /* allocations refused for size */
static size_t g_over_budget;  /* refused: more than BUDGET live in all */
static size_t g_live;         /* bytes currently allocated */
static size_t g_peak;         /* largest g_live seen */

/* true (and counted) if n more bytes would exceed the total budget */
static bool over_budget(size_t n, size_t freed)
{
    if (g_live - freed + n <= BUDGET)
        return false;
    g_over_budget++;
    return true;
}

static void account(size_t add, size_t sub)
{
    g_live = g_live + add - sub;
    if (g_live > g_peak)
        g_peak = g_live;
}

static void *cnt_malloc(void *opaque, size_t n)
{
    (void)opaque;
    if (n > BIG_ALLOC) {
        g_big_attempts++;
        return NULL;
    }
    if (over_budget(n, 0))
        return NULL;
    alloc_hdr *h = malloc(sizeof *h + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    account(n, 0);
    return h + 1;
}

static void *cnt_realloc(void *opaque, void *p, size_t n)
{
    if (p == NULL)
        return cnt_malloc(opaque, n);
    if (n > BIG_ALLOC) {
        g_big_attempts++;
        return NULL;
    }
    alloc_hdr *h = (alloc_hdr *)p - 1;
    size_t old = h->size;
    if (over_budget(n, old))
        return NULL;
    alloc_hdr *nh = realloc(h, sizeof *nh + n);
    if (nh == NULL)
        return NULL;
    nh->size = n;
    account(n, old);
    return nh + 1;
}

static void cnt_free(void *opaque, void *p)
{
    (void)opaque;
    if (p == NULL)
        return;
    alloc_hdr *h = (alloc_hdr *)p - 1;
    account(0, h->size);
    free(h);
}

/* install the counting allocator (each test runs in its own child) */
static void counting_allocator(void)
{
    static const hollow_allocator a = {cnt_malloc, cnt_realloc, cnt_free, NULL};
    hollow_set_allocator(&a);
    g_big_attempts = g_over_budget = g_live = g_peak = 0;
}

static void assert_no_big_alloc_no_leak(void)
{
    ck_assert_msg(g_big_attempts == 0,
                  "%zu allocations above 64 MiB were attempted",
                  g_big_attempts);
    ck_assert_msg(g_over_budget == 0,
                  "%zu allocations were refused: more than 512 MiB live",
                  g_over_budget);
    ck_assert_msg(g_live == 0, "%zu bytes still allocated", g_live);
}

/* ------------------------------------------------------------ sinks */

static int sink_discard(void *payload, const char *p, size_t n)
{
    (void)p;
    *(size_t *)payload += n;
    return 0;
}

static int sink_buf(void *payload, const char *p, size_t n)
{
    hollow__buf_put(payload, p, n);
    return 0;
}

/* the canonical dump as a NUL-terminated string (caller frees) */
static char *dump_text(const hollow_read_state *rs)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    HT_OK(hollow_dump_canonical(rs, sink_buf, &b));
    char *s = hollow__buf_cstr(&b);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* ------------------------------------------------------ error checks */

static void expect_load_corrupt(const uint8_t *p, size_t n, const char *what)
{
    hollow_read_state *rs = (hollow_read_state *)&rs;
    int rc = hollow_read_state_from_snapshot(&rs, p, n, &HEAP);
    ck_assert_msg(rc == HOLLOW_ECORRUPT, "%s: load returned %d (%s)", what, rc,
                  rc < 0 ? hollow_error_last()->message : "ok");
    ck_assert_msg(rs == NULL, "%s: *out not NULL on failure", what);
    ck_assert_msg(strstr(hollow_error_last()->message, "offset") != NULL,
                  "%s: message without offset: '%s'", what,
                  hollow_error_last()->message);
}

static hollow_read_state *load_ok(const uint8_t *p, size_t n, const char *what)
{
    hollow_read_state *rs = NULL;
    int rc = hollow_read_state_from_snapshot(&rs, p, n, &HEAP);
    ck_assert_msg(rc == HOLLOW_OK, "%s: load returned %d: %s", what, rc,
                  hollow_error_last()->message);
    ck_assert_ptr_nonnull(rs);
    return rs;
}

/* rc must be HOLLOW_ECORRUPT with a message */
static void expect_corrupt(int rc, const char *what)
{
    ck_assert_msg(rc == HOLLOW_ECORRUPT, "%s: returned %d, want ECORRUPT", what,
                  rc);
    ck_assert_msg(hollow_error_last()->message[0] != '\0', "%s: no message",
                  what);
}

/* ------------------------------------------------------ blob building */

static void put_vint(hollow__buf *b, int64_t v)
{
    hollow__buf_vint(b, (uint32_t)v); /* the 32-bit pattern (§1.2) */
}

static void put_vlong(hollow__buf *b, int64_t v)
{
    hollow__buf_vlong(b, (uint64_t)v);
}

static void put_words(hollow__buf *b, size_t n, const uint64_t *w)
{
    hollow__buf_vint(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        hollow__buf_be64(b, w[i]);
}

/* §1.7: i32 word count, then the words */
static void put_bitset(hollow__buf *b, uint32_t nwords, size_t n,
                       const int32_t *ords)
{
    uint64_t *w = calloc(nwords ? nwords : 1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt((uint32_t)ords[i] / 64, nwords);
        w[ords[i] / 64] |= (uint64_t)1 << (ords[i] % 64);
    }
    hollow__buf_be32(b, nwords);
    for (uint32_t i = 0; i < nwords; i++)
        hollow__buf_be64(b, w[i]);
    free(w);
}

/* §3.4 shard envelope as Java writes it: A = 1 + size(vint n), X = 0 */
static void put_envelope(hollow__buf *b, uint32_t n)
{
    uint8_t t[10];
    size_t k = hollow__vint_encode(t, n);
    put_vint(b, (int64_t)(1 + k));
    hollow__buf_putc(b, 0);
    hollow__buf_put(b, t, k);
}

typedef struct fspec {
    const char *name;
    const char *type; /* "INT", "STRING", "REFERENCE", ... */
    const char *ref;  /* REFERENCE only */
} fspec;

/* §4.1 OBJECT schema, id 6 with a one-path primary key when pk != NULL */
static void schema_object(hollow__buf *b, const char *name, const char *pk,
                          size_t nf, const fspec *f)
{
    hollow__buf_putc(b, pk ? 6 : 0);
    hollow__buf_mutf(b, name);
    if (pk != NULL) {
        put_vint(b, 1);
        hollow__buf_mutf(b, pk);
    }
    hollow__buf_be16(b, (uint16_t)nf);
    for (size_t i = 0; i < nf; i++) {
        hollow__buf_mutf(b, f[i].name);
        hollow__buf_mutf(b, f[i].type);
        if (f[i].ref != NULL)
            hollow__buf_mutf(b, f[i].ref);
    }
}

static void schema_list(hollow__buf *b, const char *name, const char *elem)
{
    hollow__buf_putc(b, 2);
    hollow__buf_mutf(b, name);
    hollow__buf_mutf(b, elem);
}

static void schema_set(hollow__buf *b, const char *name, const char *elem)
{
    hollow__buf_putc(b, 1);
    hollow__buf_mutf(b, name);
    hollow__buf_mutf(b, elem);
}

static void schema_map(hollow__buf *b, const char *name, const char *key,
                       const char *value)
{
    hollow__buf_putc(b, 3);
    hollow__buf_mutf(b, name);
    hollow__buf_mutf(b, key);
    hollow__buf_mutf(b, value);
}

/* §3.1 main header: version, tags -1 and 0x1111..., envelope, no tags */
static void put_header(hollow__buf *b, const hollow__buf *schemas,
                       uint32_t count)
{
    hollow__buf env = HOLLOW__BUF_INIT;
    put_vint(&env, count);
    hollow__buf_put(&env, schemas->ptr, schemas->len);
    hollow__buf_putc(&env, 0); /* forward-compatibility count */
    HT_OK(hollow__buf_check(&env));
    hollow__buf_be32(b, 1030);
    hollow__buf_be64(b, UINT64_MAX);
    hollow__buf_be64(b, 0x1111111111111111ull);
    put_vint(b, (int64_t)env.len);
    hollow__buf_put(b, env.ptr, env.len);
    hollow__buf_be16(b, 0);
    hollow__buf_free(&env);
}

/*
 * §6.5 OBJECT shard body: m, widths, fixed words packed from raw values
 * (nslots x nf, slot-major), var buffers.
 */
static void put_object_shard(hollow__buf *b, size_t nf, const uint8_t *widths,
                             int64_t nslots, const uint64_t *raw,
                             const char *const *var, const size_t *var_len)
{
    put_vint(b, nslots - 1);
    uint64_t rec = 0;
    for (size_t f = 0; f < nf; f++) {
        put_vint(b, widths[f]);
        rec += widths[f];
    }
    uint64_t nw = hollow__ceilw((uint64_t)nslots * rec);
    uint8_t *w = calloc(nw ? nw * 8 : 1, 1);
    ck_assert_ptr_nonnull(w);
    for (int64_t j = 0; j < nslots && raw != NULL; j++) {
        uint64_t off = (uint64_t)j * rec;
        for (size_t f = 0; f < nf; f++) {
            hollow__bits_write(w, off, widths[f], raw[(size_t)j * nf + f]);
            off += widths[f];
        }
    }
    put_vlong(b, (int64_t)nw);
    hollow__buf_put(b, w, nw * 8);
    free(w);
    for (size_t f = 0; f < nf; f++) {
        size_t n = var_len ? var_len[f] : 0;
        put_vlong(b, (int64_t)n);
        if (n > 0)
            hollow__buf_put(b, var[f], n);
    }
}

/* a finished blob: bytes plus the offsets the hostile tests patch */
typedef struct blob {
    hollow__buf b;
    size_t env_len_at;   /* schema envelope length E */
    size_t tags_at;      /* header tag count */
    size_t k_at;         /* type count K */
    size_t section_at;   /* first type section */
    size_t shards_at;    /* its shard envelope */
    size_t body_at;      /* its first shard (m) */
    size_t widths_at;    /* OBJECT widths / LIST P */
    size_t nwords_at;    /* fixed-length word count */
    size_t words_at;     /* first fixed word */
    size_t var_at;       /* first var buffer length */
    size_t bitset_at;    /* populated bit set */
} blob;

static const fspec MOVIE_FIELDS[] = {{"id", "INT", NULL},
                                     {"title", "STRING", NULL}};

/*
 * Worked example 1 (§6.6): Movie @PrimaryKey(id) { int id; string title; }
 * with (1, "Up"), (2, "Heat"), (-1, null); bit set of `bitset_words`
 * words (Java writes 256).
 */
static void movie_blob(blob *out, uint32_t bitset_words)
{
    memset(out, 0, sizeof *out);
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "Movie", "id", 2, MOVIE_FIELDS);
    ck_assert_uint_eq(sch.len, 39);
    hollow__buf *b = &out->b;
    put_header(b, &sch, 1);
    out->env_len_at = 20;
    out->tags_at = b->len - 2;
    out->k_at = b->len;
    put_vint(b, 1);
    out->section_at = b->len;
    hollow__buf_put(b, sch.ptr, sch.len);
    out->shards_at = b->len;
    put_envelope(b, 1);
    out->body_at = b->len;
    out->widths_at = b->len + 1;
    out->nwords_at = b->len + 3;
    out->words_at = b->len + 4;
    out->var_at = b->len + 12;
    static const uint8_t widths[] = {3, 4};
    static const uint64_t raw[] = {2, 2, 4, 6, 1, 8 | 6};
    static const char *const var[] = {"", "UpHeat"};
    static const size_t var_len[] = {0, 6};
    put_object_shard(b, 2, widths, 3, raw, var, var_len);
    out->bitset_at = b->len;
    static const int32_t pop[] = {0, 1, 2};
    put_bitset(b, bitset_words, 3, pop);
    HT_OK(hollow__buf_check(b));
    hollow__buf_free(&sch);
}

/* a copy of `in` with bytes [at, at + del) replaced by ins[0..ins_len) */
static hollow__buf splice(const hollow__buf *in, size_t at, size_t del,
                          const void *ins, size_t ins_len)
{
    ck_assert_uint_le(at + del, in->len);
    hollow__buf o = HOLLOW__BUF_INIT;
    hollow__buf_put(&o, in->ptr, at);
    hollow__buf_put(&o, ins, ins_len);
    hollow__buf_put(&o, in->ptr + at + del, in->len - at - del);
    HT_OK(hollow__buf_check(&o));
    return o;
}

/* load `in` spliced, expecting ECORRUPT with an offset in the message */
static void expect_splice_corrupt(const hollow__buf *in, size_t at, size_t del,
                                  const void *ins, size_t ins_len,
                                  const char *what)
{
    hollow__buf o = splice(in, at, del, ins, ins_len);
    expect_load_corrupt(o.ptr, o.len, what);
    hollow__buf_free(&o);
}

/* ------------------------------------------------ golden file access */

static uint8_t *golden(const char *scenario, const char *file, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", HOLLOW_GOLDEN_DIR, scenario, file);
    return ht_read_file(path, len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Sorted names of the entries of `dir` starting with `prefix`, directories
 * or files. Also called while the suite is built, outside any test, so it
 * uses no Check assertion: a failure returns 0 names, which the tests then
 * report.
 */
static size_t list_dir(char ***out, const char *dir, const char *prefix,
                       bool want_dirs)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", dir);
        return 0;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        DIR *sub = opendir(path);
        bool is_dir = sub != NULL;
        if (sub != NULL)
            closedir(sub);
        if (is_dir != want_dirs)
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        char *copy = strdup(e->d_name);
        if (grown == NULL || copy == NULL) {
            free(copy);
            names = grown ? grown : names;
            break;
        }
        names = grown;
        names[n++] = copy;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_str);
    *out = names;
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ======================================================= truncation */

static char **g_scenarios;
static size_t g_scenario_count;

/* one scenario per loop index: every snapshot-* cut at many lengths */
START_TEST(read_truncated_snapshots)
{
    ck_assert_msg((size_t)_i < g_scenario_count, "no golden scenarios in %s",
                  HOLLOW_GOLDEN_DIR);
    const char *scen = g_scenarios[_i];
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", HOLLOW_GOLDEN_DIR, scen);
    char **files = NULL;
    size_t nfiles = list_dir(&files, dir, "snapshot-", false);
    ck_assert_msg(nfiles > 0, "no snapshots in %s", scen);
    size_t density = 400 * (size_t)ht_scale();
    size_t loads = 0;
    for (size_t fi = 0; fi < nfiles; fi++) {
        size_t len = 0;
        uint8_t *data = golden(scen, files[fi], &len);
        hollow_read_state *rs = load_ok(data, len, files[fi]);
        hollow_read_state_release(rs);
        size_t stride = len < 4096 ? 1 : len / density;
        for (size_t k = 0; k < len; k++) {
            bool pick = len < 4096 || k < 512 || k + 64 >= len || k % stride == 0;
            if (!pick)
                continue;
            /* an exactly sized copy, so that ASan sees any read past k */
            uint8_t *cut = malloc(k ? k : 1);
            ck_assert_ptr_nonnull(cut);
            memcpy(cut, data, k);
            rs = (hollow_read_state *)&rs;
            int rc = hollow_read_state_from_snapshot(&rs, k ? cut : NULL, k,
                                                     &HEAP);
            REQUIRE(rc == HOLLOW_ECORRUPT,
                    "%s/%s cut at %zu: rc %d (%s)", scen, files[fi], k, rc,
                    rc < 0 ? hollow_error_last()->message : "loaded");
            REQUIRE(rs == NULL, "%s/%s cut at %zu: *out set", scen, files[fi],
                    k);
            const char *msg = hollow_error_last()->message;
            REQUIRE(msg[0] != '\0' && strstr(msg, "offset") != NULL,
                    "%s/%s cut at %zu: message '%s' has no offset", scen,
                    files[fi], k, msg);
            free(cut);
            loads++;
        }
        free(data);
    }
    ck_assert_uint_gt(loads, nfiles * 500);
    free_names(files, nfiles);
}
END_TEST

/* ======================================================= corruption */

/* everything a consumer can do with a state that loaded */
static void exercise_state(const hollow_read_state *rs)
{
    size_t total = 0;
    int rc = hollow_dump_canonical(rs, sink_discard, &total);
    REQUIRE(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT, "dump rc %d", rc);
    uint32_t c;
    rc = hollow_read_state_checksum(&c, rs);
    REQUIRE(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT, "checksum rc %d", rc);
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++) {
        const hollow_type *t = hollow_read_state_type_at(rs, i);
        rc = hollow_dump_deep(rs, hollow_type_name(t), sink_discard, &total);
        REQUIRE(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT || rc == HOLLOW_ERANGE ||
                    rc == HOLLOW_ENOMEM,
                "deep dump rc %d", rc);
    }
}

START_TEST(read_random_byte_flips)
{
    uint64_t seed = ht_seed("read_random_byte_flips");
    const char *const files[][2] = {
        {"a_primitives", "snapshot-20250101000000001"},
        {"b_collections", "snapshot-20250101000000001"},
        {"c_primary_keys", "snapshot-20250101000000001"},
        {"e_schema_change", "snapshot-20250101000000002"},
    };
    size_t nfiles = sizeof files / sizeof files[0];
    uint8_t *data[4 + 1];
    size_t len[4 + 1];
    for (size_t i = 0; i < nfiles; i++)
        data[i] = golden(files[i][0], files[i][1], &len[i]);
    blob ex;
    movie_blob(&ex, 1); /* the small §6.6 blob: flips hit every part */
    data[nfiles] = ex.b.ptr;
    len[nfiles] = ex.b.len;

    size_t loaded = 0, rounds = 2000 * (size_t)ht_scale();
    for (size_t iter = 0; iter < rounds; iter++) {
        size_t which = (size_t)(ht_rand(&seed) % (nfiles + 1));
        size_t n = len[which];
        uint8_t *m = malloc(n);
        ck_assert_ptr_nonnull(m);
        memcpy(m, data[which], n);
        int flips = 1 + (int)(ht_rand(&seed) % 4);
        for (int f = 0; f < flips; f++) {
            uint64_t r = ht_rand(&seed);
            size_t at = (size_t)(r % n);
            /* the first ~600 bytes hold headers and schemas: hit them more */
            if ((r >> 40) % 2 == 0 && n > 600)
                at = (size_t)((r >> 8) % 600);
            switch ((r >> 32) % 4) {
            case 0: m[at] ^= (uint8_t)(1u << ((r >> 48) % 8)); break;
            case 1: m[at] = 0; break;
            case 2: m[at] = 0xFF; break;
            default: m[at] = (uint8_t)(r >> 56); break;
            }
        }
        hollow_read_state *rs = NULL;
        int rc = hollow_read_state_from_snapshot(&rs, m, n, &HEAP);
        REQUIRE(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT ||
                    rc == HOLLOW_EVERSION,
                "iteration %zu: rc %d", iter, rc);
        free(m); /* heap mode: the state does not point into the input */
        if (rc == HOLLOW_OK) {
            loaded++;
            exercise_state(rs);
            hollow_read_state_release(rs);
        } else {
            REQUIRE(rs == NULL, "iteration %zu: *out set on failure", iter);
        }
    }
    /* most flips land in record data, so many mutants still load */
    ck_assert_uint_gt(loaded, rounds / 10);
    for (size_t i = 0; i < nfiles; i++)
        free(data[i]);
    hollow__buf_free(&ex.b);
}
END_TEST

/* ======================================================= hostile */

START_TEST(read_spec_object_example)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 256);
    /* §6.6: the complete blob is 2179 bytes */
    ck_assert_uint_eq(ex.b.len, 2179);
    static const uint8_t head[] = {
        0x00, 0x00, 0x04, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x29, 0x01, 0x06, 0x00,
        0x05, 'M',  'o',  'v',  'i',  'e',  0x01, 0x00, 0x02, 'i',  'd',  0x00,
        0x02, 0x00, 0x02, 'i',  'd',  0x00, 0x03, 'I',  'N',  'T',  0x00, 0x05,
        't',  'i',  't',  'l',  'e',  0x00, 0x06, 'S',  'T',  'R',  'I',  'N',
        'G',  0x00, 0x00, 0x00, 0x01};
    ck_assert(memcmp(ex.b.ptr, head, sizeof head) == 0);
    static const uint8_t tail[] = {
        0x02, 0x00, 0x01, 0x02, 0x03, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1C, 0x5A, 0x12, 0x00, 0x06, 'U',  'p',  'H',  'e',  'a',
        't',  0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x07};
    ck_assert(memcmp(ex.b.ptr + 104, tail, sizeof tail) == 0);
    for (size_t i = 104 + sizeof tail; i < ex.b.len; i++)
        ck_assert_uint_eq(ex.b.ptr[i], 0);

    hollow_read_state *rs = load_ok(ex.b.ptr, ex.b.len, "§6.6");
    ck_assert_int_eq(hollow_read_state_origin_tag(rs), -1);
    ck_assert_int_eq(hollow_read_state_randomized_tag(rs), 0x1111111111111111ll);
    ck_assert_uint_eq(hollow_read_state_header_tag_count(rs), 0);
    ck_assert_uint_eq(hollow_read_state_type_count(rs), 1);
    const hollow_type *t = hollow_read_state_type(rs, "Movie");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(hollow_type_kind(t), HOLLOW_SCHEMA_OBJECT);
    ck_assert_uint_eq(hollow_type_shard_count(t), 1);
    ck_assert_int_eq(hollow_type_max_ordinal(t), 2);
    ck_assert_uint_eq(hollow_type_record_count(t), 3);
    ck_assert_uint_eq(hollow_schema_key_count(hollow_type_schema(t)), 1);
    ck_assert_str_eq(hollow_schema_key_path(hollow_type_schema(t), 0), "id");

    static const int32_t ids[] = {1, 2, -1};
    static const char *const titles[] = {"Up", "Heat", NULL};
    for (int o = 0; o < 3; o++) {
        int32_t id = 0;
        HT_OK(hollow_object_int(&id, t, o, 0));
        ck_assert_int_eq(id, ids[o]);
        hollow_str s;
        char buf[16];
        int rc = hollow_object_string(&s, buf, sizeof buf, t, o, 1);
        if (titles[o] == NULL) {
            ck_assert_int_eq(rc, HOLLOW_NULL);
        } else {
            ck_assert_int_eq(rc, HOLLOW_OK);
            ck_assert_uint_eq(s.len, strlen(titles[o]));
            ck_assert(memcmp(s.ptr, titles[o], s.len) == 0);
        }
    }
    char *text = dump_text(rs);
    ck_assert_ptr_nonnull(strstr(text, "[0,{\"id\":1,\"title\":\"Up\"}],\n"
                                       "[1,{\"id\":2,\"title\":\"Heat\"}],\n"
                                       "[2,{\"id\":-1,\"title\":null}]\n"));
    hollow_free(text);
    hollow__buf rec = HOLLOW__BUF_INIT;
    HT_OK(hollow_dump_record(t, 1, sink_buf, &rec));
    ck_assert_str_eq(hollow__buf_cstr(&rec), "{\"id\":2,\"title\":\"Heat\"}");
    hollow__buf_free(&rec);
    size_t total = 0;
    ck_assert_int_eq(hollow_dump_record(t, 3, sink_discard, &total),
                     HOLLOW_ENOTFOUND);
    hollow_read_state_release(rs);

    /* Java-accepted variant: a bit set of exactly one word (§1.7) */
    blob small;
    movie_blob(&small, 1);
    rs = load_ok(small.b.ptr, small.b.len, "§6.6 small bit set");
    ck_assert_uint_eq(hollow_type_record_count(hollow_read_state_type(rs, "Movie")),
                      3);
    hollow_read_state_release(rs);
    hollow__buf_free(&small.b);
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_huge_shard_count)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    /* envelope 02 00 01 -> n = 2^30 (a power of two, far beyond the bytes) */
    static const uint8_t n30[] = {0x06, 0x00, 0x84, 0x80, 0x80, 0x80, 0x00};
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, n30, sizeof n30, "n = 2^30");
    /* n = 2^31 reads as a negative vint */
    static const uint8_t n31[] = {0x06, 0x00, 0x88, 0x80, 0x80, 0x80, 0x00};
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, n31, sizeof n31, "n = 2^31");
    /* n = 2^16 with too few bytes for the shard sections */
    static const uint8_t n16[] = {0x04, 0x00, 0x84, 0x80, 0x00};
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, n16, sizeof n16, "n = 2^16");
    /* a huge forward-compatibility length X */
    static const uint8_t bigx[] = {0x06, 0x87, 0xFF, 0xFF, 0xFF, 0x7F, 0x01};
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, bigx, sizeof bigx, "X");
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_huge_word_counts)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    /* fixed data word count (a vlong, §6.5): 2^40, 2^61, INT64_MAX */
    static const uint8_t w40[] = {0xA0, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t w61[] = {0xA0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t wmax[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    expect_splice_corrupt(&ex.b, ex.nwords_at, 1, w40, sizeof w40, "Nw 2^40");
    expect_splice_corrupt(&ex.b, ex.nwords_at, 1, w61, sizeof w61, "Nw 2^61");
    expect_splice_corrupt(&ex.b, ex.nwords_at, 1, wmax, sizeof wmax, "Nw max");
    /* fewer words than the slots need: 3 slots x 7 bits need 1 word */
    static const uint8_t w0[] = {0x00};
    expect_splice_corrupt(&ex.b, ex.nwords_at, 9, w0, sizeof w0, "Nw 0");
    /* var buffer length 2^40 */
    expect_splice_corrupt(&ex.b, ex.var_at, 1, w40, sizeof w40, "var L");
    /* bit set word count 2^31 - 1 */
    static const uint8_t bs[] = {0x7F, 0xFF, 0xFF, 0xFF};
    expect_splice_corrupt(&ex.b, ex.bitset_at, 4, bs, sizeof bs, "bit set");
    /* schema count and type count far beyond the bytes */
    static const uint8_t k[] = {0x87, 0xFF, 0xFF, 0xFF, 0x7F};
    expect_splice_corrupt(&ex.b, ex.k_at, 1, k, sizeof k, "K");
    expect_splice_corrupt(&ex.b, ex.env_len_at + 1, 1, k, sizeof k, "S");
    /* header tag count 32767 */
    static const uint8_t tags[] = {0x7F, 0xFF};
    expect_splice_corrupt(&ex.b, ex.tags_at, 2, tags, sizeof tags, "tags");
    /* field count 32767 */
    static const uint8_t fields[] = {0x7F, 0xFF};
    expect_splice_corrupt(&ex.b, ex.section_at + 13, 2, fields, sizeof fields,
                          "F");
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_negative_counts)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    static const uint8_t vl_m1[] = {0x81, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    static const uint8_t vi_m1[] = {0x8F, 0xFF, 0xFF, 0xFF, 0x7F};
    static const uint8_t vi_m2[] = {0x8F, 0xFF, 0xFF, 0xFF, 0x7E};
    static const uint8_t i32_m1[] = {0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t i16_min[] = {0x80, 0x00};
    expect_splice_corrupt(&ex.b, ex.nwords_at, 1, vl_m1, sizeof vl_m1, "Nw -1");
    expect_splice_corrupt(&ex.b, ex.var_at, 1, vl_m1, sizeof vl_m1, "L -1");
    expect_splice_corrupt(&ex.b, ex.bitset_at, 4, i32_m1, sizeof i32_m1,
                          "bit set -1");
    expect_splice_corrupt(&ex.b, ex.k_at, 1, vi_m1, sizeof vi_m1, "K -1");
    expect_splice_corrupt(&ex.b, ex.env_len_at + 1, 1, vi_m1, sizeof vi_m1,
                          "S -1");
    expect_splice_corrupt(&ex.b, ex.env_len_at, 1, vi_m2, sizeof vi_m2, "E -2");
    expect_splice_corrupt(&ex.b, ex.tags_at, 2, i16_min, sizeof i16_min,
                          "tags -32768");
    expect_splice_corrupt(&ex.b, ex.section_at + 13, 2, i16_min,
                          sizeof i16_min, "F -32768");
    expect_splice_corrupt(&ex.b, ex.body_at, 1, vi_m2, sizeof vi_m2, "m -2");
    expect_splice_corrupt(&ex.b, ex.shards_at, 1, vi_m1, sizeof vi_m1, "A -1");
    /* m = -1 (no slots) while the bit set says ordinals 0..2 exist */
    expect_splice_corrupt(&ex.b, ex.body_at, 1, vi_m1, sizeof vi_m1, "m -1");
    /* key path count -1 in the schema */
    expect_splice_corrupt(&ex.b, ex.section_at + 8, 1, vi_m1, sizeof vi_m1,
                          "P -1");
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

/* an OBJECT type `V { int v; }` of one shard with m slots and width w,
 * no data, and populated ordinals `pop` */
static void wide_empty_object(hollow__buf *b, int32_t m, uint8_t w,
                              size_t npop, const int32_t *pop)
{
    static const fspec f[] = {{"v", "INT", NULL}};
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "V", NULL, 1, f);
    put_header(b, &sch, 1);
    put_vint(b, 1);
    hollow__buf_put(b, sch.ptr, sch.len);
    put_envelope(b, 1);
    put_vint(b, m);
    put_vint(b, w);
    put_vlong(b, 0); /* Nw: nothing to store at width 0 */
    put_vlong(b, 0); /* L of v */
    put_bitset(b, 1, npop, pop);
    hollow__buf_free(&sch);
    HT_OK(hollow__buf_check(b));
}

START_TEST(read_hostile_max_ordinal_zero_width)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT;
    static const int32_t pop[] = {0, 5};
    wide_empty_object(&b, INT32_MAX - 1, 0, 2, pop);
    ck_assert_uint_lt(b.len, 100);
    hollow_read_state *rs = load_ok(b.ptr, b.len, "m = 2^31 - 2, width 0");
    const hollow_type *t = hollow_read_state_type(rs, "V");
    ck_assert_int_eq(hollow_type_max_ordinal(t), INT32_MAX - 1);
    ck_assert_uint_eq(hollow_type_record_count(t), 2);
    ck_assert_int_eq(hollow_type_next_ordinal(t, 0), 0);
    ck_assert_int_eq(hollow_type_next_ordinal(t, 1), 5);
    ck_assert_int_eq(hollow_type_next_ordinal(t, 6), HOLLOW_ORDINAL_NONE);
    ck_assert(!hollow_type_is_populated(t, INT32_MAX - 1));
    /* a 0-bit field reads 0 = ones(0): null, as in Java (§6.2) */
    int32_t v = 7;
    ck_assert_int_eq(hollow_object_int(&v, t, INT32_MAX - 1, 0), HOLLOW_NULL);
    ck_assert_int_eq(hollow_object_int(&v, t, 5, 0), HOLLOW_NULL);
    ck_assert_int_eq(hollow_object_int(&v, t, INT32_MAX, 0), HOLLOW_ENOTFOUND);
    char *text = dump_text(rs);
    ck_assert_ptr_nonnull(strstr(text, "[0,{\"v\":null}],\n[5,{\"v\":null}]\n]}"));
    hollow_free(text);
    size_t total = 0;
    HT_OK(hollow_dump_deep(rs, "V", sink_discard, &total));
    uint32_t c;
    HT_OK(hollow_read_state_checksum(&c, rs));
    /* a few KiB, not the gigabytes 2^31 slots would take if expanded */
    ck_assert_uint_lt(g_peak, 1 << 20);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);

    /* the same for LIST and SET types: P = Z = E = 0, no data */
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_list(&sch, "L", "V");
    schema_set(&sch, "S", "V");
    static const fspec f[] = {{"v", "INT", NULL}};
    hollow__buf vsch = HOLLOW__BUF_INIT;
    schema_object(&vsch, "V", NULL, 1, f);
    hollow__buf_put(&sch, vsch.ptr, vsch.len);
    put_header(&b, &sch, 3);
    put_vint(&b, 3);
    schema_list(&b, "L", "V");
    put_envelope(&b, 1);
    put_vint(&b, INT32_MAX - 1);
    put_vint(&b, 0);  /* P */
    put_vint(&b, 0);  /* E */
    put_vlong(&b, 0); /* T */
    put_words(&b, 0, NULL);
    put_words(&b, 0, NULL);
    put_bitset(&b, 1, 2, pop);
    schema_set(&b, "S", "V");
    put_envelope(&b, 1);
    put_vint(&b, INT32_MAX - 1);
    put_vint(&b, 0); /* P */
    put_vint(&b, 0); /* Z */
    put_vint(&b, 0); /* E */
    put_vlong(&b, 0);
    put_words(&b, 0, NULL);
    put_words(&b, 0, NULL);
    put_bitset(&b, 1, 2, pop);
    hollow__buf_put(&b, vsch.ptr, vsch.len);
    put_envelope(&b, 1);
    put_vint(&b, 0);
    put_vint(&b, 1);
    static const uint64_t one[] = {0};
    put_words(&b, 1, one);
    put_vlong(&b, 0);
    static const int32_t zero[] = {0};
    put_bitset(&b, 1, 1, zero);
    HT_OK(hollow__buf_check(&b));
    rs = load_ok(b.ptr, b.len, "LIST/SET m = 2^31 - 2");
    const hollow_type *lt = hollow_read_state_type(rs, "L");
    const hollow_type *st = hollow_read_state_type(rs, "S");
    uint32_t n = 9;
    HT_OK(hollow_list_size(&n, lt, INT32_MAX - 1));
    ck_assert_uint_eq(n, 0);
    hollow_ordinal e;
    ck_assert_int_eq(hollow_list_get(&e, lt, 5, 0), HOLLOW_ENOTFOUND);
    HT_OK(hollow_set_size(&n, st, INT32_MAX - 1));
    ck_assert_uint_eq(n, 0);
    bool has = true;
    HT_OK(hollow_set_contains(&has, st, 5, 0));
    ck_assert(!has);
    hollow_iter it;
    HT_OK(hollow_set_iter_init(&it, st, INT32_MAX - 1));
    ck_assert(!hollow_set_iter_next(&it, &e));
    exercise_state(rs);
    ck_assert_uint_lt(g_peak, 1 << 20);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
    hollow__buf_free(&vsch);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_populated_beyond_max)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 256);
    /* ordinal 3 with max ordinal 2 */
    static const uint8_t w3[] = {0, 0, 0, 0, 0, 0, 0, 0x0F};
    expect_splice_corrupt(&ex.b, ex.bitset_at + 4, 8, w3, sizeof w3, "ord 3");
    /* ordinal 16383, in the last of the 256 words */
    static const uint8_t top[] = {0x80, 0, 0, 0, 0, 0, 0, 0};
    expect_splice_corrupt(&ex.b, ex.b.len - 8, 8, top, sizeof top,
                          "ord 16383");
    hollow__buf_free(&ex.b);

    /* the width-0 type: ordinal 63 beyond m = 5 */
    hollow__buf b = HOLLOW__BUF_INIT;
    static const int32_t pop[] = {0, 63};
    wide_empty_object(&b, 5, 0, 2, pop);
    expect_load_corrupt(b.ptr, b.len, "ord 63 of 6 slots");
    hollow__buf_free(&b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_shard_count_not_power_of_two)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    static const uint8_t n3[] = {0x02, 0x00, 0x03};
    static const uint8_t n0[] = {0x02, 0x00, 0x00};
    static const uint8_t n6[] = {0x02, 0x00, 0x06};
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, n3, sizeof n3, "n = 3");
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, n0, sizeof n0, "n = 0");
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, n6, sizeof n6, "n = 6");
    /* A != 0 is not used to find n (§3.4): A = 5 loads unchanged */
    static const uint8_t a5[] = {0x05, 0x00, 0x01};
    hollow__buf o = splice(&ex.b, ex.shards_at, 3, a5, sizeof a5);
    hollow_read_state *rs = load_ok(o.ptr, o.len, "A = 5");
    hollow_read_state_release(rs);
    hollow__buf_free(&o);
    /* A = 0: the pre-2.1 layout, one shard and the body right after */
    static const uint8_t a0[] = {0x00};
    o = splice(&ex.b, ex.shards_at, 3, a0, sizeof a0);
    rs = load_ok(o.ptr, o.len, "A = 0");
    int32_t id;
    HT_OK(hollow_object_int(&id, hollow_read_state_type(rs, "Movie"), 1, 0));
    ck_assert_int_eq(id, 2);
    hollow_read_state_release(rs);
    hollow__buf_free(&o);
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_width_over_64)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    static const uint8_t w65[] = {0x41};
    static const uint8_t w200[] = {0x81, 0x48};
    expect_splice_corrupt(&ex.b, ex.widths_at, 1, w65, 1, "W_id 65");
    expect_splice_corrupt(&ex.b, ex.widths_at + 1, 1, w65, 1, "W_title 65");
    expect_splice_corrupt(&ex.b, ex.widths_at, 1, w200, 2, "W_id 200");
    /* 64 is fine: 3 slots of 68 bits need 4 words, the blob has 1 */
    static const uint8_t w64[] = {0x40};
    expect_splice_corrupt(&ex.b, ex.widths_at, 1, w64, 1, "W_id 64, 1 word");
    hollow__buf_free(&ex.b);

    /* collection widths: LIST P and E, SET P Z E, MAP P Z K V */
    static const char *const kinds[] = {"list", "set", "map"};
    static const int nwidths[] = {2, 3, 4};
    for (int kind = 0; kind < 3; kind++) {
        for (int which = 0; which < nwidths[kind]; which++) {
            hollow__buf sch = HOLLOW__BUF_INIT, b = HOLLOW__BUF_INIT;
            static const fspec f[] = {{"v", "INT", NULL}};
            schema_object(&sch, "V", NULL, 1, f);
            hollow__buf csch = HOLLOW__BUF_INIT;
            if (kind == 0)
                schema_list(&csch, "C", "V");
            else if (kind == 1)
                schema_set(&csch, "C", "V");
            else
                schema_map(&csch, "C", "V", "V");
            hollow__buf_put(&sch, csch.ptr, csch.len);
            put_header(&b, &sch, 2);
            put_vint(&b, 1);
            hollow__buf_put(&b, csch.ptr, csch.len);
            put_envelope(&b, 1);
            put_vint(&b, 0); /* one slot */
            for (int w = 0; w < nwidths[kind]; w++)
                put_vint(&b, w == which ? 65 : 1);
            put_vlong(&b, 0);
            static const uint64_t z[] = {0};
            put_words(&b, 1, z);
            put_words(&b, 1, z);
            static const int32_t pop[] = {0};
            put_bitset(&b, 1, 1, pop);
            HT_OK(hollow__buf_check(&b));
            char what[64];
            snprintf(what, sizeof what, "%s width %d = 65", kinds[kind], which);
            expect_load_corrupt(b.ptr, b.len, what);
            hollow__buf_free(&b);
            hollow__buf_free(&sch);
            hollow__buf_free(&csch);
        }
    }
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_non_minimal_varints)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    /* §1.2: a leading 0x80 is rejected in every number position */
    static const uint8_t e[] = {0x80, 0x29};
    static const uint8_t s[] = {0x80, 0x01};
    static const uint8_t k[] = {0x80, 0x01};
    static const uint8_t n[] = {0x03, 0x00, 0x80, 0x01};
    static const uint8_t a[] = {0x80, 0x02, 0x00, 0x01};
    static const uint8_t m[] = {0x80, 0x02};
    static const uint8_t w[] = {0x80, 0x03};
    static const uint8_t nw[] = {0x80, 0x01};
    static const uint8_t l[] = {0x80, 0x00};
    static const uint8_t p[] = {0x80, 0x01};
    expect_splice_corrupt(&ex.b, ex.env_len_at, 1, e, 2, "E");
    expect_splice_corrupt(&ex.b, ex.env_len_at + 1, 1, s, 2, "S");
    expect_splice_corrupt(&ex.b, ex.k_at, 1, k, 2, "K");
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, n, 4, "n");
    expect_splice_corrupt(&ex.b, ex.shards_at, 3, a, 4, "A");
    expect_splice_corrupt(&ex.b, ex.body_at, 1, m, 2, "m");
    expect_splice_corrupt(&ex.b, ex.widths_at, 1, w, 2, "W");
    expect_splice_corrupt(&ex.b, ex.nwords_at, 1, nw, 2, "Nw");
    expect_splice_corrupt(&ex.b, ex.var_at, 1, l, 2, "L");
    expect_splice_corrupt(&ex.b, ex.section_at + 8, 1, p, 2, "key paths");
    /* an over-wide (not non-minimal) K wraps to 1 as in Java: loads */
    static const uint8_t wide[] = {0xF0, 0x80, 0x80, 0x80, 0x01};
    hollow__buf o = splice(&ex.b, ex.k_at, 1, wide, sizeof wide);
    hollow_read_state *rs = load_ok(o.ptr, o.len, "over-wide K");
    hollow_read_state_release(rs);
    hollow__buf_free(&o);
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_trailing_bytes)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    for (size_t extra = 1; extra <= 9; extra++) {
        hollow__buf o = HOLLOW__BUF_INIT;
        hollow__buf_put(&o, ex.b.ptr, ex.b.len);
        for (size_t i = 0; i < extra; i++)
            hollow__buf_putc(&o, (uint8_t)i);
        expect_load_corrupt(o.ptr, o.len, "trailing bytes");
        hollow__buf_free(&o);
    }
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_duplicate_type_section)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    /* K = 2, the Movie section twice */
    hollow__buf o = HOLLOW__BUF_INIT;
    hollow__buf_put(&o, ex.b.ptr, ex.k_at);
    put_vint(&o, 2);
    hollow__buf_put(&o, ex.b.ptr + ex.section_at, ex.b.len - ex.section_at);
    hollow__buf_put(&o, ex.b.ptr + ex.section_at, ex.b.len - ex.section_at);
    HT_OK(hollow__buf_check(&o));
    expect_load_corrupt(o.ptr, o.len, "section twice");
    hollow__buf_free(&o);

    /* the header lists Movie twice */
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "Movie", "id", 2, MOVIE_FIELDS);
    schema_object(&sch, "Movie", "id", 2, MOVIE_FIELDS);
    put_header(&o, &sch, 2);
    hollow__buf_put(&o, ex.b.ptr + ex.k_at, ex.b.len - ex.k_at);
    HT_OK(hollow__buf_check(&o));
    hollow_read_state *rs = (hollow_read_state *)&rs;
    ck_assert_int_eq(hollow_read_state_from_snapshot(&rs, o.ptr, o.len, &HEAP),
                     HOLLOW_ECORRUPT);
    ck_assert_ptr_null(rs);
    hollow__buf_free(&o);

    /* pre-2.2 header (E = 0): the sections define the types; twice fails */
    hollow__buf_be32(&o, 1030);
    hollow__buf_be64(&o, 1);
    hollow__buf_be64(&o, 2);
    put_vint(&o, 0);
    hollow__buf_be16(&o, 0);
    put_vint(&o, 2);
    hollow__buf_put(&o, ex.b.ptr + ex.section_at, ex.b.len - ex.section_at);
    size_t one_section = o.len;
    hollow__buf_put(&o, ex.b.ptr + ex.section_at, ex.b.len - ex.section_at);
    HT_OK(hollow__buf_check(&o));
    expect_load_corrupt(o.ptr, o.len, "pre-2.2 section twice");
    /* ... and once loads, with the type from the section */
    o.ptr[4 + 16 + 1 + 2] = 1;
    rs = load_ok(o.ptr, one_section, "pre-2.2 header");
    ck_assert_uint_eq(hollow_read_state_type_count(rs), 1);
    ck_assert_ptr_nonnull(hollow_read_state_type(rs, "Movie"));
    hollow_read_state_release(rs);
    hollow__buf_free(&o);
    hollow__buf_free(&sch);
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

/* §7.2 blob with a LIST pointer array of width P and the given words */
static void list_blob(hollow__buf *b, uint8_t P, uint64_t ptr_word)
{
    static const fspec f[] = {{"value", "INT", NULL}};
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "Integer", NULL, 1, f);
    schema_list(&sch, "ListOfInteger", "Integer");
    put_header(b, &sch, 2);
    put_vint(b, 2);
    schema_object(b, "Integer", NULL, 1, f);
    put_envelope(b, 1);
    static const uint8_t w7[] = {7};
    static const uint64_t ints[] = {20, 40, 60, 80};
    put_object_shard(b, 1, w7, 4, ints, NULL, NULL);
    static const int32_t pop4[] = {0, 1, 2, 3};
    put_bitset(b, 1, 4, pop4);
    schema_list(b, "ListOfInteger", "Integer");
    put_envelope(b, 1);
    put_vint(b, 2);       /* m */
    put_vint(b, P);       /* P */
    put_vint(b, 2);       /* E */
    put_vlong(b, 4);      /* T */
    put_words(b, 1, &ptr_word);
    static const uint64_t elems[] = {0xE2};
    put_words(b, 1, elems);
    static const int32_t pop3[] = {0, 1, 2};
    put_bitset(b, 1, 3, pop3);
    HT_OK(hollow__buf_check(b));
    hollow__buf_free(&sch);
}

START_TEST(read_hostile_list_pointer_past_elements)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT;
    /* P = 6: ends 3, 3, 40 -- the element array holds 32 2-bit entries */
    list_blob(&b, 6, 3 | (3 << 6) | (40 << 12));
    hollow_read_state *rs = load_ok(b.ptr, b.len, "pointer past elements");
    const hollow_type *t = hollow_read_state_type(rs, "ListOfInteger");
    uint32_t n = 99;
    hollow_ordinal e;
    HT_OK(hollow_list_size(&n, t, 0));
    ck_assert_uint_eq(n, 3);
    HT_OK(hollow_list_get(&e, t, 0, 2));
    ck_assert_int_eq(e, 2);
    HT_OK(hollow_list_size(&n, t, 1));
    ck_assert_uint_eq(n, 0);
    expect_corrupt(hollow_list_size(&n, t, 2), "list_size past the array");
    expect_corrupt(hollow_list_get(&e, t, 2, 0), "list_get past the array");
    size_t total = 0;
    expect_corrupt(hollow_dump_canonical(rs, sink_discard, &total), "dump");
    expect_corrupt(hollow_dump_deep(rs, "ListOfInteger", sink_discard, &total),
                   "deep dump");
    uint32_t c;
    expect_corrupt(hollow_type_checksum(&c, t), "checksum");
    hollow_read_state_release(rs);
    hollow__buf_free(&b);

    /* pointers that go backwards: ends 3, 1, 4 */
    list_blob(&b, 3, 3 | (1 << 3) | (4 << 6));
    rs = load_ok(b.ptr, b.len, "pointers backwards");
    t = hollow_read_state_type(rs, "ListOfInteger");
    expect_corrupt(hollow_list_size(&n, t, 1), "start > end");
    expect_corrupt(hollow_list_get(&e, t, 1, 0), "start > end get");
    HT_OK(hollow_list_size(&n, t, 2)); /* [1, 4): elements 0, 2, 3 */
    ck_assert_uint_eq(n, 3);
    HT_OK(hollow_list_get(&e, t, 2, 2));
    ck_assert_int_eq(e, 3);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_string_end_past_buffer)
{
    counting_allocator();
    blob ex;
    movie_blob(&ex, 1);
    /* var buffer of title: 6 "UpHeat" -> 4 "UpHe"; end offsets stay 2, 6 */
    static const uint8_t four[] = {0x04, 'U', 'p', 'H', 'e'};
    hollow__buf o = splice(&ex.b, ex.var_at + 1, 7, four, sizeof four);
    hollow_read_state *rs = load_ok(o.ptr, o.len, "short var buffer");
    const hollow_type *t = hollow_read_state_type(rs, "Movie");
    hollow_str s;
    char buf[16];
    HT_OK(hollow_object_string(&s, buf, sizeof buf, t, 0, 1));
    ck_assert_uint_eq(s.len, 2);
    ck_assert(memcmp(s.ptr, "Up", 2) == 0);
    expect_corrupt(hollow_object_string(&s, buf, sizeof buf, t, 1, 1),
                   "string end past buffer");
    hollow_bytes raw;
    expect_corrupt(hollow_object_string_raw(&raw, t, 1, 1), "string_raw");
    uint16_t u[8];
    size_t ulen;
    expect_corrupt(hollow_object_string_utf16(u, 8, &ulen, t, 1, 1),
                   "string_utf16");
    hollow_value v;
    expect_corrupt(hollow_object_value(&v, t, 1, 1), "object_value");
    size_t total = 0;
    expect_corrupt(hollow_dump_canonical(rs, sink_discard, &total), "dump");
    uint32_t c;
    expect_corrupt(hollow_read_state_checksum(&c, rs), "checksum");
    hollow_read_state_release(rs);
    hollow__buf_free(&o);

    /* end offsets out of order: slot 1 ends at 1 < slot 0's 2 */
    blob bad;
    memset(&bad, 0, sizeof bad);
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "Movie", "id", 2, MOVIE_FIELDS);
    put_header(&bad.b, &sch, 1);
    put_vint(&bad.b, 1);
    hollow__buf_put(&bad.b, sch.ptr, sch.len);
    put_envelope(&bad.b, 1);
    static const uint8_t widths[] = {3, 4};
    static const uint64_t raw2[] = {2, 2, 4, 1, 1, 8 | 6};
    static const char *const var[] = {"", "UpHeat"};
    static const size_t var_len[] = {0, 6};
    put_object_shard(&bad.b, 2, widths, 3, raw2, var, var_len);
    static const int32_t pop[] = {0, 1, 2};
    put_bitset(&bad.b, 1, 3, pop);
    rs = load_ok(bad.b.ptr, bad.b.len, "offsets out of order");
    t = hollow_read_state_type(rs, "Movie");
    expect_corrupt(hollow_object_string(&s, buf, sizeof buf, t, 1, 1),
                   "start > end");
    /* and a STRING whose bytes are not varint units: 80 41 (non-minimal) */
    hollow_read_state_release(rs);
    hollow__buf_free(&bad.b);
    static const char *const var3[] = {"", "\x80\x41" "Heat"};
    static const uint64_t raw3[] = {2, 2, 4, 6, 1, 8 | 6};
    put_header(&bad.b, &sch, 1);
    put_vint(&bad.b, 1);
    hollow__buf_put(&bad.b, sch.ptr, sch.len);
    put_envelope(&bad.b, 1);
    put_object_shard(&bad.b, 2, widths, 3, raw3, var3, var_len);
    put_bitset(&bad.b, 1, 3, pop);
    rs = load_ok(bad.b.ptr, bad.b.len, "non-minimal string unit");
    t = hollow_read_state_type(rs, "Movie");
    expect_corrupt(hollow_object_string(&s, buf, sizeof buf, t, 0, 1),
                   "80 41 string");
    expect_corrupt(hollow_object_string_utf16(u, 8, &ulen, t, 0, 1),
                   "80 41 utf16");
    HT_OK(hollow_object_string(&s, buf, sizeof buf, t, 1, 1));
    ck_assert_uint_eq(s.len, 4);
    expect_corrupt(hollow_dump_canonical(rs, sink_discard, &total),
                   "80 41 dump");
    hollow_read_state_release(rs);
    hollow__buf_free(&bad.b);
    hollow__buf_free(&sch);
    hollow__buf_free(&ex.b);
    assert_no_big_alloc_no_leak();
}
END_TEST

static const fspec NODE_FIELDS[] = {{"id", "INT", NULL},
                                    {"next", "REFERENCE", "Node"}};

/* Node { int id; Node next; } with n records: id i, next[i] (-1 = null) */
static void node_blob(hollow__buf *b, int32_t n, const int32_t *next)
{
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "Node", NULL, 2, NODE_FIELDS);
    put_header(b, &sch, 1);
    put_vint(b, 1);
    hollow__buf_put(b, sch.ptr, sch.len);
    put_envelope(b, 1);
    uint8_t widths[2] = {(uint8_t)hollow__bitlen(2 * (uint64_t)n + 1),
                         (uint8_t)hollow__bitlen((uint64_t)n + 1)};
    uint64_t *raw = calloc((size_t)n * 2, sizeof *raw);
    int32_t *pop = calloc((size_t)n, sizeof *pop);
    ck_assert(raw != NULL && pop != NULL);
    for (int32_t i = 0; i < n; i++) {
        raw[2 * i] = 2 * (uint64_t)i;
        raw[2 * i + 1] = next[i] < 0 ? hollow__ones(widths[1]) : (uint64_t)next[i];
        pop[i] = i;
    }
    put_object_shard(b, 2, widths, n, raw, NULL, NULL);
    put_bitset(b, (uint32_t)hollow__ceilw((uint64_t)n), (size_t)n, pop);
    HT_OK(hollow__buf_check(b));
    free(raw);
    free(pop);
    hollow__buf_free(&sch);
}

START_TEST(read_hostile_reference_cycle)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT;
    static const int32_t next[] = {1, 0};
    node_blob(&b, 2, next);
    hollow_read_state *rs = load_ok(b.ptr, b.len, "cycle");
    /* the canonical dump prints ordinals: fine */
    char *text = dump_text(rs);
    ck_assert_ptr_nonnull(strstr(text, "[0,{\"id\":0,\"next\":1}],\n"
                                       "[1,{\"id\":1,\"next\":0}]"));
    hollow_free(text);
    size_t total = 0;
    expect_corrupt(hollow_dump_deep(rs, "Node", sink_discard, &total),
                   "deep dump of a cycle");
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "cycle"));
    uint32_t c;
    HT_OK(hollow_read_state_checksum(&c, rs));
    hollow_read_state_release(rs);
    hollow__buf_free(&b);

    /* a self-reference */
    static const int32_t self[] = {0};
    node_blob(&b, 1, self);
    rs = load_ok(b.ptr, b.len, "self");
    expect_corrupt(hollow_dump_deep(rs, "Node", sink_discard, &total),
                   "deep dump of a self-reference");
    hollow_read_state_release(rs);
    hollow__buf_free(&b);

    /* a reference to an unpopulated ordinal: node 1 -> 5 (no such slot) */
    static const int32_t dangling[] = {-1, 5, 0, 0, 0, 0};
    node_blob(&b, 6, dangling);
    /* unpopulate ordinals 2..5: the bit set is the last 8 bytes */
    b.ptr[b.len - 1] = 0x03;
    rs = load_ok(b.ptr, b.len, "dangling");
    expect_corrupt(hollow_dump_deep(rs, "Node", sink_discard, &total),
                   "deep dump of a dangling reference");
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    assert_no_big_alloc_no_leak();
}
END_TEST

START_TEST(read_hostile_deep_reference_chain)
{
    counting_allocator();
    enum { N = 100000 };
    int32_t *next = malloc(N * sizeof *next);
    ck_assert_ptr_nonnull(next);
    for (int32_t i = 0; i < N; i++)
        next[i] = i + 1 < N ? i + 1 : -1;
    hollow__buf b = HOLLOW__BUF_INIT;
    node_blob(&b, N, next);
    free(next);
    hollow_read_state *rs = load_ok(b.ptr, b.len, "chain");
    hollow_ordinal r;
    HT_OK(hollow_object_ref(&r, hollow_read_state_type(rs, "Node"), 77, 1));
    ck_assert_int_eq(r, 78);
    ck_assert_int_eq(hollow_object_ref(&r, hollow_read_state_type(rs, "Node"),
                                       N - 1, 1),
                     HOLLOW_NULL);
    size_t total = 0;
    /* an error (too deep) or a dump; no stack overflow */
    int rc = hollow_dump_deep(rs, "Node", sink_discard, &total);
    ck_assert_msg(rc == HOLLOW_OK || rc == HOLLOW_ECORRUPT,
                  "deep dump of a 100000 chain: %d", rc);
    HT_OK(hollow_dump_canonical(rs, sink_discard, &total));
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    assert_no_big_alloc_no_leak();
}
END_TEST

/* Pair { Pair a; Pair b; }: records 0..depth-1 point twice at the next
 * one, record `depth` is a leaf; then `roots` more records point once at
 * record 0 (a) and hold null (b). */
static void pair_dag_blob(hollow__buf *b, int depth, int roots)
{
    static const fspec f[] = {{"a", "REFERENCE", "Pair"},
                              {"b", "REFERENCE", "Pair"}};
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "Pair", NULL, 2, f);
    put_header(b, &sch, 1);
    put_vint(b, 1);
    hollow__buf_put(b, sch.ptr, sch.len);
    put_envelope(b, 1);
    int n = depth + 1 + roots;
    uint8_t w = (uint8_t)hollow__bitlen((uint64_t)n + 1);
    uint8_t widths[2] = {w, w};
    uint64_t *raw = calloc(2 * (size_t)n, sizeof *raw);
    int32_t *pop = calloc((size_t)n, sizeof *pop);
    ck_assert(raw != NULL && pop != NULL);
    for (int i = 0; i < n; i++) {
        uint64_t null = hollow__ones(w);
        if (i < depth) {
            raw[2 * i] = raw[2 * i + 1] = (uint64_t)i + 1;
        } else if (i == depth) {
            raw[2 * i] = raw[2 * i + 1] = null;
        } else {
            raw[2 * i] = 0;
            raw[2 * i + 1] = null;
        }
        pop[i] = i;
    }
    put_object_shard(b, 2, widths, n, raw, NULL, NULL);
    put_bitset(b, (uint32_t)hollow__ceilw((uint64_t)n), (size_t)n, pop);
    HT_OK(hollow__buf_check(b));
    free(raw);
    free(pop);
    hollow__buf_free(&sch);
}

/*
 * A DAG whose deep text doubles per level: the blob is tiny, the deep text
 * of record 0 would be 2^40 copies of the leaf. dump.h: HOLLOW_ERANGE once
 * one record's deep text would exceed 16 MiB, without asking for more.
 */
START_TEST(read_hostile_deep_dump_exponential_dag)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT;
    pair_dag_blob(&b, 40, 0);
    ck_assert_uint_lt(b.len, 256);
    hollow_read_state *rs = load_ok(b.ptr, b.len, "dag");
    size_t total = 0;
    int rc = hollow_dump_deep(rs, "Pair", sink_discard, &total);
    ck_assert_msg(rc == HOLLOW_ERANGE, "deep dump rc %d (%s)", rc,
                  rc < 0 ? hollow_error_last()->message : "");
    ck_assert_uint_eq(total, 0); /* nothing written before the failure */
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    /* a 200-byte blob must not make the library ask for > 64 MiB at once */
    assert_no_big_alloc_no_leak();
    ck_assert_msg(g_peak < ((size_t)256 << 20), "peak %zu bytes", g_peak);
}
END_TEST

/*
 * The same doubling stopped below the 16 MiB limit (2^19 leaves, ~10 MiB of
 * text), and 150 records that each reference it once: every record's deep
 * text is within the limit, but together they are ~1.5 GB, from a blob of
 * under 1 KiB. The deep dump must refuse that too, not hold it all.
 */
START_TEST(read_hostile_deep_dump_wide_dag)
{
    counting_allocator();
    hollow__buf b = HOLLOW__BUF_INIT;
    pair_dag_blob(&b, 19, 150);
    ck_assert_uint_lt(b.len, 1024);
    hollow_read_state *rs = load_ok(b.ptr, b.len, "wide dag");
    size_t total = 0;
    int rc = hollow_dump_deep(rs, "Pair", sink_discard, &total);
    ck_assert_msg(rc == HOLLOW_OK || rc == HOLLOW_ERANGE || rc == HOLLOW_ENOMEM,
                  "deep dump rc %d", rc);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    fprintf(stderr, "read_hostile_deep_dump_wide_dag: rc %d, peak %zu bytes, "
            "%zu refused over 512 MiB\n", rc, g_peak, g_over_budget);
    assert_no_big_alloc_no_leak();
}
END_TEST

/*
 * Many shards of an OBJECT type with no fields: each shard section is two
 * bytes (m = 0, Nw = 0), while each shard costs the state a fixed struct
 * and a few small arrays (about 90x the 2 bytes). Past 4096 + one per 8
 * bytes of blob such shards are refused (docs/limits.md); below that the
 * state holds at most 64x the blob plus 2 MiB.
 */
static void many_shards_blob(hollow__buf *b, int shards)
{
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "E", NULL, 0, NULL);
    put_header(b, &sch, 1);
    put_vint(b, 1);
    hollow__buf_put(b, sch.ptr, sch.len);
    put_envelope(b, (uint32_t)shards);
    put_vint(b, shards - 1); /* M: one slot per shard */
    for (int s = 0; s < shards; s++) {
        put_vint(b, 0);
        put_vlong(b, 0);
    }
    const int32_t pop[] = {0, 1, shards - 1};
    put_bitset(b, (uint32_t)shards / 64, 3, pop);
    HT_OK(hollow__buf_check(b));
    hollow__buf_free(&sch);
}

START_TEST(read_hostile_many_shards_memory)
{
    counting_allocator();
    enum { SHARDS = 1 << 12 };
    hollow__buf b = HOLLOW__BUF_INIT;
    many_shards_blob(&b, SHARDS);
    size_t blob_len = b.len;
    hollow_read_state *rs = load_ok(b.ptr, b.len, "many shards");
    hollow__buf_free(&b);
    const hollow_type *t = hollow_read_state_type(rs, "E");
    ck_assert_uint_eq(hollow_type_shard_count(t), SHARDS);
    ck_assert_uint_eq(hollow_type_record_count(t), 3);
    ck_assert_int_eq(hollow_type_next_ordinal(t, 2), SHARDS - 1);
    size_t held = g_live;
    fprintf(stderr, "read_hostile_many_shards_memory: blob %zu bytes, state "
            "%zu bytes (%.1fx), peak %zu\n", blob_len, held,
            (double)held / (double)blob_len, g_peak);
    hollow_read_state_release(rs);
    ck_assert_msg(held <= 64 * blob_len + (2u << 20),
                  "a %zu-byte blob holds %zu bytes", blob_len, held);

    /* 2^16 of them in 139 kB: over the limit */
    many_shards_blob(&b, 1 << 16);
    rs = (hollow_read_state *)&rs;
    int rc = hollow_read_state_from_snapshot(&rs, b.ptr, b.len, &HEAP);
    ck_assert_msg(rc == HOLLOW_ERANGE &&
                      strstr(hollow_error_last()->message, "limit") != NULL,
                  "load returned %d: %s", rc, hollow_error_last()->message);
    ck_assert_ptr_null(rs);
    ck_assert_msg(g_peak <= 64 * b.len + (2u << 20), "peak %zu", g_peak);
    hollow__buf_free(&b);
    assert_no_big_alloc_no_leak();
}
END_TEST

/* fixed-width values that no Java writer produces */
START_TEST(read_hostile_field_values)
{
    counting_allocator();
    static const fspec f[] = {{"b", "BOOLEAN", NULL},
                              {"r", "REFERENCE", "X"},
                              {"i", "INT", NULL},
                              {"l", "LONG", NULL}};
    hollow__buf sch = HOLLOW__BUF_INIT, b = HOLLOW__BUF_INIT;
    schema_object(&sch, "X", NULL, 4, f);
    put_header(&b, &sch, 1);
    put_vint(&b, 1);
    hollow__buf_put(&b, sch.ptr, sch.len);
    put_envelope(&b, 1);
    static const uint8_t widths[] = {2, 40, 64, 64};
    /* slot 0: boolean 2, reference 2^33, INT raw 2^33 + 2, LONG all ones
     * slot 1: boolean 3 (null), reference ones(40) (null), INT 1, LONG 1 */
    static const uint64_t raw[] = {2, (uint64_t)1 << 33, ((uint64_t)1 << 33) + 2,
                                   UINT64_MAX, 3, ((uint64_t)1 << 40) - 1, 1, 1};
    put_object_shard(&b, 4, widths, 2, raw, NULL, NULL);
    static const int32_t pop[] = {0, 1};
    put_bitset(&b, 1, 2, pop);
    HT_OK(hollow__buf_check(&b));
    hollow_read_state *rs = load_ok(b.ptr, b.len, "field values");
    const hollow_type *t = hollow_read_state_type(rs, "X");
    bool bv;
    hollow_ordinal r;
    int32_t i;
    int64_t l;
    expect_corrupt(hollow_object_bool(&bv, t, 0, 0), "boolean 2");
    expect_corrupt(hollow_object_ref(&r, t, 0, 1), "reference 2^33");
    ck_assert_int_eq(hollow_object_bool(&bv, t, 1, 0), HOLLOW_NULL);
    ck_assert_int_eq(hollow_object_ref(&r, t, 1, 1), HOLLOW_NULL);
    ck_assert_int_eq(r, HOLLOW_ORDINAL_NONE);
    /* INT wider than 32 bits keeps the low 32 (as Java's int cast) */
    HT_OK(hollow_object_int(&i, t, 0, 2));
    ck_assert_int_eq(i, 1);
    ck_assert_int_eq(hollow_object_long(&l, t, 0, 3), HOLLOW_NULL);
    ck_assert_int_eq(l, INT64_MIN);
    HT_OK(hollow_object_long(&l, t, 1, 3));
    ck_assert_int_eq(l, -1);
    size_t total = 0;
    expect_corrupt(hollow_dump_canonical(rs, sink_discard, &total), "dump");
    uint32_t c;
    HT_OK(hollow_read_state_checksum(&c, rs)); /* raw bits only */
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
    assert_no_big_alloc_no_leak();
}
END_TEST

/* SET tables that are not what Java writes: lookups must still end */
START_TEST(read_hostile_set_tables)
{
    counting_allocator();
    static const fspec f[] = {{"value", "INT", NULL}};
    hollow__buf sch = HOLLOW__BUF_INIT;
    schema_object(&sch, "Integer", NULL, 1, f);
    schema_set(&sch, "SetOfInteger", "Integer");
    for (int variant = 0; variant < 4; variant++) {
        hollow__buf b = HOLLOW__BUF_INIT;
        put_header(&b, &sch, 2);
        put_vint(&b, 2);
        schema_object(&b, "Integer", NULL, 1, f);
        put_envelope(&b, 1);
        static const uint8_t w4[] = {4};
        static const uint64_t ints[] = {0, 2, 4, 6, 8};
        put_object_shard(&b, 1, w4, 5, ints, NULL, NULL);
        static const int32_t pop5[] = {0, 1, 2, 3, 4};
        put_bitset(&b, 1, 5, pop5);
        schema_set(&b, "SetOfInteger", "Integer");
        put_envelope(&b, 1);
        put_vint(&b, 0); /* one set */
        uint64_t ptr, buckets;
        uint8_t P = 3, Z = 2, E = 3;
        switch (variant) {
        case 0: /* 3 buckets (not a power of two), all full: 1, 3, 4 */
            ptr = 3 | (3 << 3);
            buckets = 1 | (3 << 3) | (4 << 6);
            break;
        case 1: /* 4 buckets all full, size 3 claimed */
            ptr = 4 | (3 << 3);
            buckets = 1 | (3 << 3) | (4 << 6) | (2 << 9);
            break;
        case 2: /* E = 32: the 1-word array holds 2 buckets, end 7 is past */
            E = 32;
            ptr = 7 | (1 << 3);
            buckets = 1;
            break;
        default: /* element width 0: an array of 0-bit buckets holds none,
                    so 4 buckets are past its end */
            E = 0;
            ptr = 4 | (1 << 3);
            buckets = 0;
            break;
        }
        put_vint(&b, P);
        put_vint(&b, Z);
        put_vint(&b, E);
        put_vlong(&b, 4);
        put_words(&b, 1, &ptr);
        put_words(&b, 1, &buckets);
        static const int32_t pop1[] = {0};
        put_bitset(&b, 1, 1, pop1);
        HT_OK(hollow__buf_check(&b));
        hollow_read_state *rs = load_ok(b.ptr, b.len, "set variant");
        const hollow_type *t = hollow_read_state_type(rs, "SetOfInteger");
        bool has = false;
        hollow_iter it;
        hollow_ordinal e;
        switch (variant) {
        case 0:
        case 1:
            HT_OK(hollow_set_contains(&has, t, 0, 4));
            ck_assert(has);
            HT_OK(hollow_set_contains(&has, t, 0, 0)); /* absent, no empty */
            ck_assert(!has);
            HT_OK(hollow_set_iter_init(&it, t, 0));
            for (int i = 0; i < 3; i++)
                ck_assert(hollow_set_iter_next(&it, &e));
            break;
        case 2:
            expect_corrupt(hollow_set_contains(&has, t, 0, 1), "past array");
            expect_corrupt(hollow_set_iter_init(&it, t, 0), "iter past");
            break;
        default:
            expect_corrupt(hollow_set_contains(&has, t, 0, 0), "E = 0");
            expect_corrupt(hollow_set_iter_init(&it, t, 0), "E = 0 iter");
            break;
        }
        exercise_state(rs);
        hollow_read_state_release(rs);
        hollow__buf_free(&b);
    }
    hollow__buf_free(&sch);
    assert_no_big_alloc_no_leak();
}
END_TEST

/* ==================================================== golden accessors */

/* one token of a dump record line: the raw text of a JSON value */
typedef struct tok {
    const char *p;
    size_t n;
} tok;

static bool tok_is(tok t, const char *s)
{
    return t.n == strlen(s) && memcmp(t.p, s, t.n) == 0;
}

/*
 * Split a canonical dump record line `[<ord>,{"f1":v1,"f2":v2,...}]` into
 * the ordinal and the raw value tokens, checking the field names. (The
 * a_primitives dump holds lone surrogates and integer literals beyond 64
 * bits, which jansson refuses, so these lines are split by hand.)
 */
static void split_record(const char *line, int32_t *ord, tok *vals, size_t nf,
                         const char *const *names)
{
    const char *p = line;
    ck_assert_msg(*p == '[', "record line '%.40s'", line);
    char *end;
    *ord = (int32_t)strtol(p + 1, &end, 10);
    p = end;
    ck_assert(p[0] == ',' && p[1] == '{');
    p += 2;
    for (size_t f = 0; f < nf; f++) {
        size_t nl = strlen(names[f]);
        ck_assert_msg(p[0] == '"' && strncmp(p + 1, names[f], nl) == 0 &&
                          p[nl + 1] == '"' && p[nl + 2] == ':',
                      "field %s at '%.40s'", names[f], p);
        p += nl + 3;
        const char *v = p;
        if (*p == '"') {
            p++;
            while (*p != '"') {
                ck_assert(*p != '\0');
                p += *p == '\\' ? 2 : 1;
            }
            p++;
        } else {
            while (*p != ',' && *p != '}')
                p++;
        }
        vals[f].p = v;
        vals[f].n = (size_t)(p - v);
        ck_assert(*p == (f + 1 < nf ? ',' : '}'));
        p++;
    }
    ck_assert(p[0] == ']');
}

static unsigned hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    ck_assert_msg(c >= 'A' && c <= 'F', "bad hex digit %c", c);
    return (unsigned)(c - 'A' + 10);
}

/* a JSON string token (with quotes) as UTF-16 units; returns the count */
static size_t json_units(tok t, uint16_t *out, size_t cap)
{
    ck_assert(t.n >= 2 && t.p[0] == '"' && t.p[t.n - 1] == '"');
    size_t k = 0;
    for (size_t i = 1; i + 1 < t.n;) {
        ck_assert_uint_lt(k + 2, cap);
        unsigned char c = (unsigned char)t.p[i];
        if (c == '\\') {
            char e = t.p[i + 1];
            switch (e) {
            case 'n': out[k++] = '\n'; i += 2; break;
            case 't': out[k++] = '\t'; i += 2; break;
            case 'r': out[k++] = '\r'; i += 2; break;
            case 'b': out[k++] = '\b'; i += 2; break;
            case 'f': out[k++] = '\f'; i += 2; break;
            case 'u':
                out[k++] = (uint16_t)(hexval(t.p[i + 2]) << 12 |
                                      hexval(t.p[i + 3]) << 8 |
                                      hexval(t.p[i + 4]) << 4 |
                                      hexval(t.p[i + 5]));
                i += 6;
                break;
            default: out[k++] = (uint16_t)e; i += 2; break; /* " \ / */
            }
            continue;
        }
        size_t clen = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        long u = hollow__utf8_to_utf16(out + k, t.p + i, clen);
        ck_assert_int_gt(u, 0);
        k += (size_t)u;
        i += clen;
    }
    return k;
}

/* NUL-terminated copy of a token (numbers) */
static void tok_cstr(tok t, char *buf, size_t cap)
{
    ck_assert_uint_lt(t.n, cap);
    memcpy(buf, t.p, t.n);
    buf[t.n] = '\0';
}

/* one field of an a_primitives record against its dump token */
static void check_prim_field(const hollow_type *t, int32_t o, size_t f, tok v)
{
    hollow_field_type ft = hollow_schema_field_type(hollow_type_schema(t), f);
    bool is_null = tok_is(v, "null");
    char num[64];
    int rc;
    hollow_value gv;
    int grc = hollow_object_value(&gv, t, o, f);
    ck_assert_int_eq(grc, is_null ? HOLLOW_NULL : HOLLOW_OK);
    ck_assert_int_eq(gv.type, ft);
    ck_assert(gv.is_null == is_null);
    switch (ft) {
    case HOLLOW_FIELD_INT: {
        int32_t x = 0;
        rc = hollow_object_int(&x, t, o, f);
        if (is_null) {
            ck_assert_int_eq(rc, HOLLOW_NULL);
            ck_assert_int_eq(x, INT32_MIN);
        } else {
            tok_cstr(v, num, sizeof num);
            ck_assert_int_eq(rc, HOLLOW_OK);
            ck_assert_int_eq(x, strtol(num, NULL, 10));
        }
        break;
    }
    case HOLLOW_FIELD_LONG: {
        int64_t x = 0;
        rc = hollow_object_long(&x, t, o, f);
        if (is_null) {
            ck_assert_int_eq(rc, HOLLOW_NULL);
            ck_assert_int_eq(x, INT64_MIN);
        } else {
            tok_cstr(v, num, sizeof num);
            ck_assert_int_eq(rc, HOLLOW_OK);
            ck_assert_int_eq(x, strtoll(num, NULL, 10));
        }
        break;
    }
    case HOLLOW_FIELD_FLOAT:
    case HOLLOW_FIELD_DOUBLE: {
        bool is_f = ft == HOLLOW_FIELD_FLOAT;
        float xf = 0;
        double x = 0;
        rc = is_f ? hollow_object_float(&xf, t, o, f)
                  : hollow_object_double(&x, t, o, f);
        if (is_f)
            x = xf;
        if (is_null) {
            ck_assert_int_eq(rc, HOLLOW_NULL);
            ck_assert(isnan(x));
        } else if (tok_is(v, "\"NaN\"")) {
            ck_assert_int_eq(rc, HOLLOW_OK);
            ck_assert(isnan(x));
        } else if (tok_is(v, "\"Infinity\"") || tok_is(v, "\"-Infinity\"")) {
            ck_assert_int_eq(rc, HOLLOW_OK);
            ck_assert(isinf(x) && (x < 0) == (v.p[1] == '-'));
        } else {
            tok_cstr(v, num, sizeof num);
            ck_assert_int_eq(rc, HOLLOW_OK);
            if (is_f) {
                float want = strtof(num, NULL);
                ck_assert_msg(memcmp(&want, &xf, 4) == 0,
                              "ordinal %d float %s read as %.9g", o, num, xf);
            } else {
                double want = strtod(num, NULL);
                ck_assert_msg(memcmp(&want, &x, 8) == 0,
                              "ordinal %d double %s read as %.17g", o, num, x);
            }
        }
        break;
    }
    case HOLLOW_FIELD_BOOLEAN: {
        bool x = true;
        rc = hollow_object_bool(&x, t, o, f);
        if (is_null) {
            ck_assert_int_eq(rc, HOLLOW_NULL);
        } else {
            ck_assert_int_eq(rc, HOLLOW_OK);
            ck_assert(x == tok_is(v, "true"));
            ck_assert(tok_is(v, "true") || tok_is(v, "false"));
        }
        break;
    }
    case HOLLOW_FIELD_STRING: {
        static uint16_t want[4096], got[4096];
        static char utf8[3 * 4096], expect8[3 * 4096];
        size_t n = 0;
        hollow_str s;
        rc = hollow_object_string(&s, utf8, sizeof utf8, t, o, f);
        if (is_null) {
            ck_assert_int_eq(rc, HOLLOW_NULL);
            ck_assert_int_eq(hollow_object_string_utf16(got, 4096, &n, t, o, f),
                             HOLLOW_NULL);
            break;
        }
        ck_assert_int_eq(rc, HOLLOW_OK);
        size_t k = json_units(v, want, 4096);
        HT_OK(hollow_object_string_utf16(got, 4096, &n, t, o, f));
        ck_assert_msg(n == k && memcmp(got, want, k * 2) == 0,
                      "ordinal %d: string %.*s differs", o, (int)v.n, v.p);
        /* UTF-8: pairs as 4 bytes, lone surrogates as 3 (read.h) */
        size_t k8 = hollow__utf16_to_utf8(expect8, want, k, 0);
        ck_assert_uint_eq(s.len, k8);
        ck_assert(memcmp(s.ptr, expect8, k8) == 0);
        /* the stored form is one varint per unit (§6.4) */
        hollow_bytes raw;
        HT_OK(hollow_object_string_raw(&raw, t, o, f));
        size_t rl = 0;
        uint8_t tmp[5];
        for (size_t i = 0; i < k; i++)
            rl += hollow__vint_encode(tmp, want[i]);
        ck_assert_uint_eq(raw.len, rl);
        break;
    }
    case HOLLOW_FIELD_BYTES: {
        hollow_bytes by;
        rc = hollow_object_bytes(&by, t, o, f);
        if (is_null) {
            ck_assert_int_eq(rc, HOLLOW_NULL);
            break;
        }
        ck_assert_int_eq(rc, HOLLOW_OK);
        ck_assert_uint_eq(by.len * 2 + 2, v.n);
        for (size_t i = 0; i < by.len; i++)
            ck_assert_uint_eq(by.ptr[i], hexval(v.p[1 + 2 * i]) << 4 |
                                             hexval(v.p[2 + 2 * i]));
        break;
    }
    case HOLLOW_FIELD_REFERENCE: ck_abort_msg("no references here"); break;
    }
}

/* check every record of `type` against its lines in the dump text */
static size_t check_prims_type(const hollow_type *t, const char *text,
                               const char *type)
{
    const hollow_schema *s = hollow_type_schema(t);
    size_t nf = hollow_schema_field_count(s);
    const char *names[16];
    tok vals[16];
    ck_assert_uint_le(nf, 16);
    for (size_t f = 0; f < nf; f++)
        names[f] = hollow_schema_field_name(s, f);
    char head[128];
    snprintf(head, sizeof head, "{\"name\":\"%s\",\"kind\":\"OBJECT\"", type);
    const char *p = strstr(text, head);
    ck_assert_ptr_nonnull(p);
    p = strchr(p, '\n') + 1;
    size_t records = 0;
    hollow_ordinal expect_ord = hollow_type_next_ordinal(t, 0);
    while (*p == '[') {
        int32_t ord;
        split_record(p, &ord, vals, nf, names);
        ck_assert_int_eq(ord, expect_ord);
        for (size_t f = 0; f < nf; f++)
            check_prim_field(t, ord, f, vals[f]);
        records++;
        expect_ord = hollow_type_next_ordinal(t, ord + 1);
        p = strchr(p, '\n') + 1;
    }
    ck_assert_int_eq(expect_ord, HOLLOW_ORDINAL_NONE);
    ck_assert_uint_eq(records, hollow_type_record_count(t));
    return records;
}

START_TEST(read_golden_primitives_accessors)
{
    size_t len = 0, tlen = 0;
    uint8_t *data = golden("a_primitives", "snapshot-20250101000000001", &len);
    char *text = (char *)golden("a_primitives", "expected/20250101000000001.json",
                                &tlen);
    hollow_read_state *rs = load_ok(data, len, "a_primitives");
    free(data);

    /* header fields from the dump's header lines */
    const char *tagline = strstr(text, "\"randomizedTag\":");
    ck_assert_ptr_nonnull(tagline);
    ck_assert_int_eq(hollow_read_state_randomized_tag(rs),
                     strtoll(tagline + 16, NULL, 10));
    ck_assert_str_eq(hollow_read_state_header_tag(rs, "hollow.schema.hash"),
                     "242885321");
    ck_assert_ptr_null(hollow_read_state_header_tag(rs, "no.such.tag"));

    const hollow_type *prims = hollow_read_state_type(rs, "Prims");
    const hollow_type *flags = hollow_read_state_type(rs, "Flags");
    ck_assert_ptr_nonnull(prims);
    ck_assert_ptr_nonnull(flags);
    ck_assert_uint_eq(check_prims_type(prims, text, "Prims"), 72);
    ck_assert_uint_eq(check_prims_type(flags, text, "Flags"), 4);

    /* the wrong accessor for a field's type: HOLLOW_EINVAL */
    int32_t i32;
    int64_t i64;
    float fl;
    double d;
    bool b;
    hollow_ordinal r;
    hollow_bytes by;
    hollow_str s;
    char buf[64];
    size_t n;
    uint16_t u16[8];
    ck_assert_int_eq(hollow_object_long(&i64, prims, 0, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_int(&i32, prims, 0, 2), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_double(&d, prims, 0, 3), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_float(&fl, prims, 0, 4), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_int(&i32, prims, 0, 5), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_bytes(&by, prims, 0, 6), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_string(&s, buf, sizeof buf, prims, 0, 7),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_string_utf16(u16, 8, &n, prims, 0, 7),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_ref(&r, prims, 0, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_object_bool(&b, prims, 0, 0), HOLLOW_EINVAL);
    /* no such field */
    ck_assert_int_eq(hollow_object_int(&i32, prims, 0, 8), HOLLOW_EINVAL);
    hollow_value v;
    ck_assert_int_eq(hollow_object_value(&v, prims, 0, 99), HOLLOW_EINVAL);
    /* collection calls on an OBJECT type */
    uint32_t sz;
    ck_assert_int_eq(hollow_list_size(&sz, prims, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_set_size(&sz, prims, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_map_size(&sz, prims, 0), HOLLOW_EINVAL);
    /* ordinals without a slot: HOLLOW_ENOTFOUND */
    hollow_ordinal max = hollow_type_max_ordinal(prims);
    ck_assert_int_eq(hollow_object_int(&i32, prims, max + 1, 0),
                     HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_object_int(&i32, prims, INT32_MAX, 0),
                     HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_object_int(&i32, prims, -1, 0), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_object_string(&s, buf, sizeof buf, prims, max + 1, 6),
                     HOLLOW_ENOTFOUND);
    ck_assert(!hollow_type_is_populated(prims, max + 1));
    ck_assert(!hollow_type_is_populated(prims, -1));

    /* "héllo" (ordinal 4): 6 UTF-8 bytes; a 3-byte buffer gives ERANGE */
    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(hollow_object_string(&s, buf, 3, prims, 4, 6),
                     HOLLOW_ERANGE);
    ck_assert_uint_eq(s.len, 6);
    ck_assert_int_eq(buf[3], 'Z'); /* nothing written past cap */
    HT_OK(hollow_object_string(&s, buf, 6, prims, 4, 6));
    ck_assert_uint_eq(s.len, 6);
    ck_assert(s.ptr == buf && memcmp(buf, "h\xC3\xA9llo", 6) == 0);
    ck_assert_int_eq(hollow_object_string_utf16(u16, 2, &n, prims, 4, 6),
                     HOLLOW_ERANGE);
    ck_assert_uint_eq(n, 5);
    /* "😀 emoji" (ordinal 6): the pair becomes 4 bytes, 10 in all */
    ck_assert_int_eq(hollow_object_string(&s, NULL, 0, prims, 6, 6),
                     HOLLOW_ERANGE);
    ck_assert_uint_eq(s.len, 10);
    /* an ASCII string is a view into the state, buf untouched */
    memset(buf, 'Z', sizeof buf);
    HT_OK(hollow_object_string(&s, buf, 1, prims, 3, 6));
    ck_assert_uint_eq(s.len, 11);
    ck_assert(s.ptr != buf && memcmp(s.ptr, "hello world", 11) == 0);
    ck_assert_int_eq(buf[0], 'Z');
    /* the lone surrogate of "lone\ud800surrogate" (ordinal 12): ED A0 80 */
    HT_OK(hollow_object_string(&s, buf, sizeof buf, prims, 12, 6));
    ck_assert_uint_eq(s.len, 16);
    ck_assert(memcmp(s.ptr, "lone\xED\xA0\x80surrogate", 16) == 0);

    hollow_read_state_release(rs);
    free(text);
}
END_TEST

/* ---------------------------------------------- jansson-driven checks */

static const char *kind_name(hollow_schema_kind k)
{
    switch (k) {
    case HOLLOW_SCHEMA_OBJECT: return "OBJECT";
    case HOLLOW_SCHEMA_LIST: return "LIST";
    case HOLLOW_SCHEMA_SET: return "SET";
    default: return "MAP";
    }
}

static int cmp_ord(const void *a, const void *b)
{
    hollow_ordinal x = *(const hollow_ordinal *)a, y = *(const hollow_ordinal *)b;
    return (x > y) - (x < y);
}

static int cmp_pair(const void *a, const void *b)
{
    const hollow_ordinal *x = a, *y = b;
    if (x[0] != y[0])
        return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static void check_object_json(const hollow_type *t, hollow_ordinal o,
                              json_t *rec)
{
    const hollow_schema *s = hollow_type_schema(t);
    ck_assert(json_is_object(rec));
    ck_assert_uint_eq(json_object_size(rec), hollow_schema_field_count(s));
    for (size_t f = 0; f < hollow_schema_field_count(s); f++) {
        const char *name = hollow_schema_field_name(s, f);
        json_t *jv = json_object_get(rec, name);
        ck_assert_msg(jv != NULL, "%s.%s missing", hollow_type_name(t), name);
        hollow_value v;
        int rc = hollow_object_value(&v, t, o, f);
        ck_assert_msg(rc == (json_is_null(jv) ? HOLLOW_NULL : HOLLOW_OK),
                      "%s %d .%s: rc %d", hollow_type_name(t), o, name, rc);
        if (json_is_null(jv))
            continue;
        switch (v.type) {
        case HOLLOW_FIELD_INT: {
            int32_t x;
            HT_OK(hollow_object_int(&x, t, o, f));
            ck_assert_int_eq(x, json_integer_value(jv));
            break;
        }
        case HOLLOW_FIELD_LONG: {
            int64_t x;
            HT_OK(hollow_object_long(&x, t, o, f));
            ck_assert_int_eq(x, json_integer_value(jv));
            break;
        }
        case HOLLOW_FIELD_REFERENCE: {
            hollow_ordinal x;
            HT_OK(hollow_object_ref(&x, t, o, f));
            ck_assert_int_eq(x, json_integer_value(jv));
            break;
        }
        case HOLLOW_FIELD_BOOLEAN: {
            bool x;
            HT_OK(hollow_object_bool(&x, t, o, f));
            ck_assert(x == json_is_true(jv));
            break;
        }
        case HOLLOW_FIELD_DOUBLE:
        case HOLLOW_FIELD_FLOAT: {
            double x;
            if (v.type == HOLLOW_FIELD_FLOAT) {
                float xf;
                HT_OK(hollow_object_float(&xf, t, o, f));
                x = xf;
            } else {
                HT_OK(hollow_object_double(&x, t, o, f));
            }
            if (json_is_string(jv)) {
                ck_assert(strcmp(json_string_value(jv), "NaN") == 0 ? isnan(x)
                                                                    : isinf(x));
            } else if (v.type == HOLLOW_FIELD_FLOAT) {
                ck_assert((float)json_number_value(jv) == (float)x);
            } else {
                ck_assert(json_number_value(jv) == x);
            }
            break;
        }
        case HOLLOW_FIELD_STRING: {
            static char buf[1 << 16];
            hollow_str s8;
            HT_OK(hollow_object_string(&s8, buf, sizeof buf, t, o, f));
            ck_assert_uint_eq(s8.len, json_string_length(jv));
            ck_assert(memcmp(s8.ptr, json_string_value(jv), s8.len) == 0);
            break;
        }
        case HOLLOW_FIELD_BYTES: {
            hollow_bytes by;
            HT_OK(hollow_object_bytes(&by, t, o, f));
            const char *hex = json_string_value(jv);
            ck_assert_uint_eq(strlen(hex), by.len * 2);
            for (size_t i = 0; i < by.len; i++)
                ck_assert_uint_eq(by.ptr[i],
                                  hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
            break;
        }
        }
    }
}

static void check_list_json(const hollow_type *t, hollow_ordinal o, json_t *rec)
{
    uint32_t n;
    HT_OK(hollow_list_size(&n, t, o));
    ck_assert_uint_eq(n, json_array_size(rec));
    for (uint32_t i = 0; i < n; i++) {
        hollow_ordinal e;
        HT_OK(hollow_list_get(&e, t, o, i));
        ck_assert_int_eq(e, json_integer_value(json_array_get(rec, i)));
    }
    hollow_ordinal e;
    ck_assert_int_eq(hollow_list_get(&e, t, o, n), HOLLOW_ENOTFOUND);
}

/* SET: iteration (sorted) = the dump's elements; contains for members and
 * for up to 64 populated non-members of the element type */
static void check_set_json(const hollow_read_state *rs, const hollow_type *t,
                           hollow_ordinal o, json_t *rec)
{
    size_t n = json_array_size(rec);
    uint32_t size;
    HT_OK(hollow_set_size(&size, t, o));
    ck_assert_uint_eq(size, n);
    hollow_ordinal *got = calloc(n + 1, sizeof *got);
    ck_assert_ptr_nonnull(got);
    hollow_iter it;
    HT_OK(hollow_set_iter_init(&it, t, o));
    size_t k = 0;
    hollow_ordinal e;
    while (hollow_set_iter_next(&it, &e)) {
        ck_assert_uint_lt(k, n);
        got[k++] = e;
    }
    ck_assert_uint_eq(k, n);
    qsort(got, n, sizeof *got, cmp_ord);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(got[i], json_integer_value(json_array_get(rec, i)));
        bool has = false;
        HT_OK(hollow_set_contains(&has, t, o, got[i]));
        ck_assert_msg(has, "%s %d lacks %d", hollow_type_name(t), o, got[i]);
    }
    const hollow_type *et =
        hollow_read_state_type(rs, hollow_schema_element_type(hollow_type_schema(t)));
    ck_assert_ptr_nonnull(et);
    int absent = 0;
    for (hollow_ordinal x = hollow_type_next_ordinal(et, 0); x >= 0 && absent < 64;
         x = hollow_type_next_ordinal(et, x + 1)) {
        if (bsearch(&x, got, n, sizeof *got, cmp_ord) != NULL)
            continue;
        bool has = true;
        HT_OK(hollow_set_contains(&has, t, o, x));
        ck_assert_msg(!has, "%s %d claims %d", hollow_type_name(t), o, x);
        absent++;
    }
    /* ordinals with no record at all are not members either (read.h: 0
     * and *out says), with or without a hash key */
    hollow_ordinal none[] = {HOLLOW_ORDINAL_NONE, hollow_type_max_ordinal(et) + 1,
                             INT32_MAX};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        bool has = true;
        int rc = hollow_set_contains(&has, t, o, none[i]);
        ck_assert_msg(rc == HOLLOW_OK && !has,
                      "%s %d contains(%d): rc %d (%s), has %d",
                      hollow_type_name(t), o, none[i], rc,
                      rc < 0 ? hollow_error_last()->message : "", has);
    }
    free(got);
}

static void check_map_json(const hollow_read_state *rs, const hollow_type *t,
                           hollow_ordinal o, json_t *rec)
{
    size_t n = json_array_size(rec);
    uint32_t size;
    HT_OK(hollow_map_size(&size, t, o));
    ck_assert_uint_eq(size, n);
    hollow_ordinal *got = calloc(2 * n + 2, sizeof *got);
    ck_assert_ptr_nonnull(got);
    hollow_iter it;
    HT_OK(hollow_map_iter_init(&it, t, o));
    size_t k = 0;
    hollow_ordinal key, value;
    while (hollow_map_iter_next(&it, &key, &value)) {
        ck_assert_uint_lt(k, n);
        got[2 * k] = key;
        got[2 * k + 1] = value;
        k++;
    }
    ck_assert_uint_eq(k, n);
    qsort(got, n, 2 * sizeof *got, cmp_pair);
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(rec, i);
        ck_assert_int_eq(got[2 * i], json_integer_value(json_array_get(pair, 0)));
        ck_assert_int_eq(got[2 * i + 1],
                         json_integer_value(json_array_get(pair, 1)));
        hollow_ordinal v = -7;
        HT_OK(hollow_map_get(&v, t, o, got[2 * i]));
        ck_assert_int_eq(v, got[2 * i + 1]);
    }
    const hollow_type *kt =
        hollow_read_state_type(rs, hollow_schema_element_type(hollow_type_schema(t)));
    ck_assert_ptr_nonnull(kt);
    int absent = 0;
    for (hollow_ordinal x = hollow_type_next_ordinal(kt, 0); x >= 0 && absent < 64;
         x = hollow_type_next_ordinal(kt, x + 1)) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= got[2 * i] == x;
        if (found)
            continue;
        hollow_ordinal v = 5;
        ck_assert_int_eq(hollow_map_get(&v, t, o, x), HOLLOW_ENOTFOUND);
        ck_assert_int_eq(v, HOLLOW_ORDINAL_NONE);
        absent++;
    }
    free(got);
}

/* every record of every type of `rs` against a parsed canonical dump */
static size_t check_state_json(const hollow_read_state *rs, json_t *doc)
{
    json_t *types = json_object_get(doc, "types");
    ck_assert(json_is_array(types));
    ck_assert_uint_eq(json_array_size(types), hollow_read_state_type_count(rs));
    size_t records = 0;
    for (size_t i = 0; i < json_array_size(types); i++) {
        json_t *jt = json_array_get(types, i);
        const char *name = json_string_value(json_object_get(jt, "name"));
        const hollow_type *t = hollow_read_state_type(rs, name);
        ck_assert_msg(t != NULL, "type %s missing", name);
        ck_assert(hollow_read_state_type_sorted(rs, i) == t);
        ck_assert_str_eq(json_string_value(json_object_get(jt, "kind")),
                         kind_name(hollow_type_kind(t)));
        ck_assert_int_eq(json_integer_value(json_object_get(jt, "numShards")),
                         hollow_type_shard_count(t));
        ck_assert_int_eq(json_integer_value(json_object_get(jt, "count")),
                         hollow_type_record_count(t));
        json_t *recs = json_object_get(jt, "records");
        hollow_ordinal o = hollow_type_next_ordinal(t, 0);
        for (size_t r = 0; r < json_array_size(recs); r++) {
            json_t *jr = json_array_get(recs, r);
            ck_assert_int_eq(o, json_integer_value(json_array_get(jr, 0)));
            ck_assert(hollow_type_is_populated(t, o));
            json_t *val = json_array_get(jr, 1);
            switch (hollow_type_kind(t)) {
            case HOLLOW_SCHEMA_OBJECT: check_object_json(t, o, val); break;
            case HOLLOW_SCHEMA_LIST: check_list_json(t, o, val); break;
            case HOLLOW_SCHEMA_SET: check_set_json(rs, t, o, val); break;
            case HOLLOW_SCHEMA_MAP: check_map_json(rs, t, o, val); break;
            }
            records++;
            o = hollow_type_next_ordinal(t, o + 1);
        }
        ck_assert_int_eq(o, HOLLOW_ORDINAL_NONE);
    }
    return records;
}

static json_t *load_json(const char *scenario, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", HOLLOW_GOLDEN_DIR, scenario, file);
    json_error_t err;
    json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &err);
    ck_assert_msg(doc != NULL, "%s: line %d: %s", path, err.line, err.text);
    return doc;
}

START_TEST(read_golden_collections_accessors)
{
    size_t len;
    uint8_t *data = golden("b_collections", "snapshot-20250101000000001", &len);
    hollow_read_state *rs = load_ok(data, len, "b_collections");
    free(data);
    json_t *doc = load_json("b_collections", "expected/20250101000000001.json");
    /* the dump's 12 types hold 150 records */
    ck_assert_uint_eq(check_state_json(rs, doc), 150);
    /* list calls on a SET, set calls on a MAP, map calls on a LIST */
    const hollow_type *set = hollow_read_state_type(rs, "SetOfString");
    const hollow_type *map = hollow_read_state_type(rs, "MapOfStringToString");
    const hollow_type *list = hollow_read_state_type(rs, "ListOfString");
    uint32_t n;
    hollow_iter it;
    ck_assert_int_eq(hollow_list_size(&n, set, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_set_iter_init(&it, map, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_map_iter_init(&it, list, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_set_size(&n, set, hollow_type_max_ordinal(set) + 1),
                     HOLLOW_ENOTFOUND);
    json_decref(doc);
    hollow_read_state_release(rs);
}
END_TEST

START_TEST(read_golden_sharded_accessors)
{
    /* d_sharding: Item in 16 shards, collections sharded too */
    size_t len;
    uint8_t *data = golden("d_sharding", "snapshot-20250101000000001", &len);
    hollow_read_state *rs = load_ok(data, len, "d_sharding");
    free(data);
    const hollow_type *item = hollow_read_state_type(rs, "Item");
    ck_assert_uint_gt(hollow_type_shard_count(item), 1);
    json_t *doc = load_json("d_sharding", "expected/20250101000000001.json");
    ck_assert_uint_gt(check_state_json(rs, doc), 1000);
    json_decref(doc);
    hollow_read_state_release(rs);
}
END_TEST

/* §11.5 bucket hash of element/key record e of a SET/MAP type (key paths
 * that are plain INT or STRING fields of the element type) */
static uint32_t bucket_hash(const hollow_read_state *rs, const hollow_type *coll,
                            hollow_ordinal e)
{
    const hollow_schema *cs = hollow_type_schema(coll);
    if (hollow_schema_key_count(cs) == 0)
        return hollow__hash_int((uint32_t)e);
    const hollow_type *kt =
        hollow_read_state_type(rs, hollow_schema_element_type(cs));
    uint32_t h = 0;
    for (size_t i = 0; i < hollow_schema_key_count(cs); i++) {
        int f = hollow_schema_field_index(hollow_type_schema(kt),
                                          hollow_schema_key_path(cs, i));
        ck_assert_int_ge(f, 0);
        uint32_t fh;
        int32_t x;
        uint16_t u[1024];
        size_t n;
        switch (hollow_schema_field_type(hollow_type_schema(kt), (size_t)f)) {
        case HOLLOW_FIELD_INT:
            HT_OK(hollow_object_int(&x, kt, e, (size_t)f));
            fh = (uint32_t)x;
            break;
        case HOLLOW_FIELD_STRING:
            HT_OK(hollow_object_string_utf16(u, 1024, &n, kt, e, (size_t)f));
            fh = hollow__java_string_hash(u, n);
            break;
        default: ck_abort_msg("unexpected key field type"); fh = 0; break;
        }
        h = (h * 31u) ^ hollow__hash_int(fh);
    }
    return h;
}

/* Java's placement (§8.3): ascending elements, linear probing */
static void place(hollow_ordinal *table, uint32_t t, const hollow_ordinal *elems,
                  const uint32_t *hashes, size_t n)
{
    for (uint32_t i = 0; i < t; i++)
        table[i] = HOLLOW_ORDINAL_NONE;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = hashes[i] & (t - 1);
        while (table[b] != HOLLOW_ORDINAL_NONE)
            b = (b + 1) & (t - 1);
        table[b] = (hollow_ordinal)i;
    }
    (void)elems;
}

/* iteration order of every SET/MAP record = Java's bucket order */
static void check_bucket_order(const hollow_read_state *rs, const hollow_type *t)
{
    bool is_map = hollow_type_kind(t) == HOLLOW_SCHEMA_MAP;
    for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0;
         o = hollow_type_next_ordinal(t, o + 1)) {
        hollow_ordinal keys[256], vals[256], order_k[256], order_v[256];
        uint32_t hashes[256];
        size_t n = 0;
        hollow_iter it;
        if (is_map)
            HT_OK(hollow_map_iter_init(&it, t, o));
        else
            HT_OK(hollow_set_iter_init(&it, t, o));
        while (is_map ? hollow_map_iter_next(&it, &keys[n], &vals[n])
                      : hollow_set_iter_next(&it, &keys[n])) {
            order_k[n] = keys[n];
            order_v[n] = is_map ? vals[n] : 0;
            n++;
            ck_assert_uint_lt(n, 256);
        }
        /* ascending (key, value): the order Java inserts in */
        hollow_ordinal pairs[512];
        for (size_t i = 0; i < n; i++) {
            pairs[2 * i] = keys[i];
            pairs[2 * i + 1] = is_map ? vals[i] : 0;
        }
        qsort(pairs, n, 2 * sizeof *pairs, cmp_pair);
        for (size_t i = 0; i < n; i++)
            hashes[i] = bucket_hash(rs, t, pairs[2 * i]);
        uint32_t tsize = hollow__hash_table_size((uint32_t)n);
        hollow_ordinal table[512];
        ck_assert_uint_le(tsize, 512);
        place(table, tsize, pairs, hashes, n);
        size_t k = 0;
        for (uint32_t b = 0; b < tsize; b++) {
            if (table[b] == HOLLOW_ORDINAL_NONE)
                continue;
            size_t idx = (size_t)table[b];
            ck_assert_msg(order_k[k] == pairs[2 * idx] &&
                              order_v[k] == pairs[2 * idx + 1],
                          "%s %d: element %zu is %d, Java's bucket order has %d",
                          hollow_type_name(t), o, k, order_k[k], pairs[2 * idx]);
            k++;
        }
        ck_assert_uint_eq(k, n);
    }
}

/* the key values of element/key record e, as probes (STRING as UTF-8) */
static void key_probe(hollow_value *out, char *buf, size_t cap,
                      const hollow_read_state *rs, const hollow_type *coll,
                      hollow_ordinal e)
{
    const hollow_schema *cs = hollow_type_schema(coll);
    const hollow_type *kt = hollow_read_state_type(rs, hollow_schema_element_type(cs));
    int f = hollow_schema_field_index(hollow_type_schema(kt),
                                      hollow_schema_key_path(cs, 0));
    ck_assert_int_ge(f, 0);
    memset(out, 0, sizeof *out);
    out->type = hollow_schema_field_type(hollow_type_schema(kt), (size_t)f);
    if (out->type == HOLLOW_FIELD_INT) {
        HT_OK(hollow_object_int(&out->u.i, kt, e, (size_t)f));
    } else {
        ck_assert_int_eq(out->type, HOLLOW_FIELD_STRING);
        HT_OK(hollow_object_string(&out->u.str, buf, cap, kt, e, (size_t)f));
    }
}

START_TEST(read_golden_hash_keys_and_bucket_order)
{
    size_t len;
    uint8_t *data = golden("b_collections", "snapshot-20250101000000001", &len);
    hollow_read_state *rs = load_ok(data, len, "b_collections");
    free(data);
    static const char *const colls[] = {
        "SetOfString",         "HashedSetOfString",  "SetOfPerson",
        "MapOfStringToString", "MapOfStringToPerson", "MapOfPersonToListOfString"};
    for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++) {
        const hollow_type *t = hollow_read_state_type(rs, colls[i]);
        ck_assert_ptr_nonnull(t);
        check_bucket_order(rs, t);
    }

    /* @HashKey lookups by key values */
    static const char *const keyed[] = {"SetOfPerson", "HashedSetOfString",
                                        "MapOfStringToPerson"};
    size_t finds = 0;
    for (size_t i = 0; i < 3; i++) {
        const hollow_type *t = hollow_read_state_type(rs, keyed[i]);
        bool is_map = hollow_type_kind(t) == HOLLOW_SCHEMA_MAP;
        ck_assert_uint_eq(hollow_schema_key_count(hollow_type_schema(t)), 1);
        for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0;
             o = hollow_type_next_ordinal(t, o + 1)) {
            hollow_iter it;
            hollow_ordinal e, v;
            if (is_map)
                HT_OK(hollow_map_iter_init(&it, t, o));
            else
                HT_OK(hollow_set_iter_init(&it, t, o));
            while (is_map ? hollow_map_iter_next(&it, &e, &v)
                          : hollow_set_iter_next(&it, &e)) {
                hollow_value probe;
                char buf[256];
                key_probe(&probe, buf, sizeof buf, rs, t, e);
                hollow_ordinal fk = -9, fv = -9;
                if (is_map) {
                    HT_OK(hollow_map_find(&fk, &fv, t, o, &probe, 1));
                    ck_assert_int_eq(fv, v);
                } else {
                    HT_OK(hollow_set_find(&fk, t, o, &probe, 1));
                }
                ck_assert_int_eq(fk, e);
                finds++;
            }
            /* absent key values */
            hollow_value probe;
            memset(&probe, 0, sizeof probe);
            probe.type = strcmp(keyed[i], "SetOfPerson") == 0
                             ? HOLLOW_FIELD_INT
                             : HOLLOW_FIELD_STRING;
            probe.u.i = 987654321;
            if (probe.type == HOLLOW_FIELD_STRING) {
                probe.u.str.ptr = "no such value \xE2\x82\xAC";
                probe.u.str.len = strlen(probe.u.str.ptr);
            }
            hollow_ordinal fk = 3, fv = 3;
            int rc = is_map ? hollow_map_find(&fk, &fv, t, o, &probe, 1)
                            : hollow_set_find(&fk, t, o, &probe, 1);
            ck_assert_int_eq(rc, HOLLOW_ENOTFOUND);
            ck_assert_int_eq(fk, HOLLOW_ORDINAL_NONE);
            /* probe of the wrong type, wrong count */
            probe.type = probe.type == HOLLOW_FIELD_INT ? HOLLOW_FIELD_LONG
                                                        : HOLLOW_FIELD_INT;
            rc = is_map ? hollow_map_find(&fk, &fv, t, o, &probe, 1)
                        : hollow_set_find(&fk, t, o, &probe, 1);
            ck_assert_int_eq(rc, HOLLOW_EINVAL);
            hollow_value two[2];
            memset(two, 0, sizeof two);
            rc = is_map ? hollow_map_find(&fk, &fv, t, o, two, 2)
                        : hollow_set_find(&fk, t, o, two, 2);
            ck_assert_int_eq(rc, HOLLOW_EINVAL);
        }
    }
    ck_assert_uint_gt(finds, 20);
    /* a set without @HashKey refuses key lookups */
    hollow_value probe;
    memset(&probe, 0, sizeof probe);
    probe.type = HOLLOW_FIELD_STRING;
    probe.u.str.ptr = "x";
    probe.u.str.len = 1;
    hollow_ordinal fk;
    ck_assert_int_eq(hollow_set_find(&fk, hollow_read_state_type(rs, "SetOfString"),
                                     0, &probe, 1),
                     HOLLOW_EINVAL);
    hollow_read_state_release(rs);
}
END_TEST

/* ========================================================== spec */

/* header + sections given as literal bytes, bit sets appended (256 words) */
static void spec_blob(hollow__buf *b, const hollow__buf *schemas, uint32_t count)
{
    put_header(b, schemas, count);
    put_vint(b, count);
}

static const uint8_t INTEGER_SCHEMA[] = {0x00, 0x00, 0x07, 'I', 'n', 't', 'e',
                                         'g',  'e',  'r',  0x00, 0x01, 0x00,
                                         0x05, 'v',  'a',  'l',  'u',  'e',
                                         0x00, 0x03, 'I',  'N',  'T'};

START_TEST(read_spec_list_example)
{
    /* §7.2 */
    static const uint8_t list_schema[] = {
        0x02, 0x00, 0x0D, 'L', 'i', 's', 't', 'O', 'f', 'I', 'n', 't', 'e',
        'g',  'e',  'r',  0x00, 0x07, 'I', 'n', 't', 'e', 'g', 'e', 'r'};
    static const uint8_t integer_body[] = {0x02, 0x00, 0x01, 0x03, 0x07, 0x01,
                                           0x00, 0x00, 0x00, 0x00, 0x0A, 0x0F,
                                           0x14, 0x14, 0x00};
    static const uint8_t list_body[] = {
        0x02, 0x00, 0x01, 0x02, 0x03, 0x02, 0x04, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x1B, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xE2};
    hollow__buf sch = HOLLOW__BUF_INIT, b = HOLLOW__BUF_INIT;
    hollow__buf_put(&sch, INTEGER_SCHEMA, sizeof INTEGER_SCHEMA);
    hollow__buf_put(&sch, list_schema, sizeof list_schema);
    spec_blob(&b, &sch, 2);
    hollow__buf_put(&b, INTEGER_SCHEMA, sizeof INTEGER_SCHEMA);
    hollow__buf_put(&b, integer_body, sizeof integer_body);
    static const int32_t pop4[] = {0, 1, 2, 3};
    put_bitset(&b, 256, 4, pop4);
    hollow__buf_put(&b, list_schema, sizeof list_schema);
    hollow__buf_put(&b, list_body, sizeof list_body);
    static const int32_t pop3[] = {0, 1, 2};
    put_bitset(&b, 256, 3, pop3);
    HT_OK(hollow__buf_check(&b));

    hollow_read_state *rs = load_ok(b.ptr, b.len, "§7.2");
    const hollow_type *ints = hollow_read_state_type(rs, "Integer");
    const hollow_type *lists = hollow_read_state_type(rs, "ListOfInteger");
    ck_assert_int_eq(hollow_type_kind(lists), HOLLOW_SCHEMA_LIST);
    ck_assert_str_eq(hollow_schema_element_type(hollow_type_schema(lists)),
                     "Integer");
    for (int o = 0; o < 4; o++) {
        int32_t v;
        HT_OK(hollow_object_int(&v, ints, o, 0));
        ck_assert_int_eq(v, 10 * (o + 1));
    }
    static const int32_t want[3][3] = {{2, 0, 2}, {0}, {3}};
    static const uint32_t sizes[] = {3, 0, 1};
    for (int o = 0; o < 3; o++) {
        uint32_t n;
        HT_OK(hollow_list_size(&n, lists, o));
        ck_assert_uint_eq(n, sizes[o]);
        for (uint32_t i = 0; i < n; i++) {
            hollow_ordinal e;
            HT_OK(hollow_list_get(&e, lists, o, i));
            ck_assert_int_eq(e, want[o][i]);
        }
        hollow_ordinal e;
        ck_assert_int_eq(hollow_list_get(&e, lists, o, n), HOLLOW_ENOTFOUND);
    }
    uint32_t n;
    ck_assert_int_eq(hollow_list_size(&n, lists, 3), HOLLOW_ENOTFOUND);
    char *text = dump_text(rs);
    ck_assert_ptr_nonnull(strstr(text, "[0,[2,0,2]],\n[1,[]],\n[2,[3]]\n"));
    hollow_free(text);
    hollow__buf deep = HOLLOW__BUF_INIT;
    HT_OK(hollow_dump_deep(rs, "ListOfInteger", sink_buf, &deep));
    char *dt = hollow__buf_cstr(&deep);
    ck_assert_ptr_nonnull(strstr(dt, "[{\"value\":30},{\"value\":10},{\"value\":30}]"));
    hollow__buf_free(&deep);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
}
END_TEST

/* the §8.4 / §8.6 blob: Integer 0..4, the map of §8.6, the set of §8.4 */
static void set_map_blob(hollow__buf *b)
{
    static const uint8_t set_schema[] = {
        0x01, 0x00, 0x0C, 'S', 'e', 't', 'O', 'f', 'I', 'n', 't', 'e', 'g',
        'e',  'r',  0x00, 0x07, 'I', 'n', 't', 'e', 'g', 'e', 'r'};
    static const uint8_t map_schema[] = {
        0x03, 0x00, 0x15, 'M', 'a', 'p', 'O', 'f', 'I', 'n', 't', 'e', 'g',
        'e',  'r',  'T',  'o',  'I', 'n', 't', 'e', 'g', 'e', 'r', 0x00, 0x07,
        'I',  'n',  't',  'e',  'g', 'e', 'r', 0x00, 0x07, 'I', 'n', 't', 'e',
        'g',  'e',  'r'};
    static const uint8_t set_body[] = {
        0x02, 0x00, 0x01, 0x01, 0x03, 0x02, 0x03, 0x06, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0xDC, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x78, 0x7B};
    static const uint8_t map_body[] = {
        0x02, 0x00, 0x01, 0x00, 0x03, 0x02, 0x03, 0x02, 0x04, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x03, 0xC4, 0xE3};
    /* Integer values 0..4: zigzag 0, 2, 4, 6, 8 in 4 bits = 0x86420 */
    static const uint8_t integer_body[] = {0x02, 0x00, 0x01, 0x04, 0x04, 0x01,
                                           0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
                                           0x64, 0x20, 0x00};
    hollow__buf sch = HOLLOW__BUF_INIT;
    hollow__buf_put(&sch, INTEGER_SCHEMA, sizeof INTEGER_SCHEMA);
    hollow__buf_put(&sch, map_schema, sizeof map_schema);
    hollow__buf_put(&sch, set_schema, sizeof set_schema);
    spec_blob(b, &sch, 3);
    hollow__buf_put(b, INTEGER_SCHEMA, sizeof INTEGER_SCHEMA);
    hollow__buf_put(b, integer_body, sizeof integer_body);
    static const int32_t pop5[] = {0, 1, 2, 3, 4};
    put_bitset(b, 256, 5, pop5);
    hollow__buf_put(b, map_schema, sizeof map_schema);
    hollow__buf_put(b, map_body, sizeof map_body);
    static const int32_t pop1[] = {0};
    put_bitset(b, 256, 1, pop1);
    hollow__buf_put(b, set_schema, sizeof set_schema);
    hollow__buf_put(b, set_body, sizeof set_body);
    static const int32_t pop2[] = {0, 1};
    put_bitset(b, 256, 2, pop2);
    HT_OK(hollow__buf_check(b));
    hollow__buf_free(&sch);
}

START_TEST(read_spec_set_example)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    set_map_blob(&b);
    hollow_read_state *rs = load_ok(b.ptr, b.len, "§8.4");
    const hollow_type *set = hollow_read_state_type(rs, "SetOfInteger");
    ck_assert_int_eq(hollow_type_kind(set), HOLLOW_SCHEMA_SET);
    /* set 0 = {1, 3, 4}: buckets 3, empty, 1, 4 -> iteration 3, 1, 4 */
    uint32_t n;
    HT_OK(hollow_set_size(&n, set, 0));
    ck_assert_uint_eq(n, 3);
    hollow_iter it;
    hollow_ordinal e;
    HT_OK(hollow_set_iter_init(&it, set, 0));
    static const hollow_ordinal order0[] = {3, 1, 4};
    for (int i = 0; i < 3; i++) {
        ck_assert(hollow_set_iter_next(&it, &e));
        ck_assert_int_eq(e, order0[i]);
    }
    ck_assert(!hollow_set_iter_next(&it, &e));
    /* set 1 = {0}: buckets empty, 0 */
    HT_OK(hollow_set_size(&n, set, 1));
    ck_assert_uint_eq(n, 1);
    HT_OK(hollow_set_iter_init(&it, set, 1));
    ck_assert(hollow_set_iter_next(&it, &e));
    ck_assert_int_eq(e, 0);
    ck_assert(!hollow_set_iter_next(&it, &e));
    for (hollow_ordinal x = 0; x < 6; x++) {
        bool has;
        HT_OK(hollow_set_contains(&has, set, 0, x));
        ck_assert(has == (x == 1 || x == 3 || x == 4));
        HT_OK(hollow_set_contains(&has, set, 1, x));
        ck_assert(has == (x == 0));
    }
    ck_assert_int_eq(hollow_set_size(&n, set, 2), HOLLOW_ENOTFOUND);
    char *text = dump_text(rs);
    ck_assert_ptr_nonnull(strstr(text, "[0,[1,3,4]],\n[1,[0]]\n"));
    hollow_free(text);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
}
END_TEST

START_TEST(read_spec_map_example)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    set_map_blob(&b);
    hollow_read_state *rs = load_ok(b.ptr, b.len, "§8.6");
    const hollow_type *map = hollow_read_state_type(rs, "MapOfIntegerToInteger");
    ck_assert_int_eq(hollow_type_kind(map), HOLLOW_SCHEMA_MAP);
    ck_assert_str_eq(hollow_schema_value_type(hollow_type_schema(map)), "Integer");
    uint32_t n;
    HT_OK(hollow_map_size(&n, map, 0));
    ck_assert_uint_eq(n, 2);
    /* buckets: 3 -> 0, empty, 1 -> 2, empty */
    hollow_iter it;
    hollow_ordinal k, v;
    HT_OK(hollow_map_iter_init(&it, map, 0));
    ck_assert(hollow_map_iter_next(&it, &k, &v));
    ck_assert_int_eq(k, 3);
    ck_assert_int_eq(v, 0);
    ck_assert(hollow_map_iter_next(&it, &k, &v));
    ck_assert_int_eq(k, 1);
    ck_assert_int_eq(v, 2);
    ck_assert(!hollow_map_iter_next(&it, &k, &v));
    HT_OK(hollow_map_get(&v, map, 0, 1));
    ck_assert_int_eq(v, 2);
    HT_OK(hollow_map_get(&v, map, 0, 3));
    ck_assert_int_eq(v, 0);
    for (hollow_ordinal x = -1; x < 6; x++) {
        if (x == 1 || x == 3)
            continue;
        v = 9;
        ck_assert_int_eq(hollow_map_get(&v, map, 0, x), HOLLOW_ENOTFOUND);
        ck_assert_int_eq(v, HOLLOW_ORDINAL_NONE);
    }
    char *text = dump_text(rs);
    ck_assert_ptr_nonnull(strstr(text, "[0,[[1,2],[3,0]]]\n"));
    hollow_free(text);
    hollow__buf deep = HOLLOW__BUF_INIT;
    HT_OK(hollow_dump_deep(rs, "MapOfIntegerToInteger", sink_buf, &deep));
    char *dt = hollow__buf_cstr(&deep);
    ck_assert_ptr_nonnull(
        strstr(dt, "[[{\"value\":1},{\"value\":2}],[{\"value\":3},{\"value\":0}]]"));
    hollow__buf_free(&deep);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);
}
END_TEST

START_TEST(read_spec_empty_state)
{
    /* §16.1: a state with no types at all */
    static const uint8_t empty[] = {0x00, 0x00, 0x04, 0x06, 1, 2, 3, 4, 5, 6,
                                    7,    8,    9,    10,   11, 12, 13, 14, 15,
                                    16,   0x02, 0x00, 0x00, 0x00, 0x00, 0x00};
    hollow_read_state *rs = load_ok(empty, sizeof empty, "empty state");
    ck_assert_uint_eq(hollow_read_state_type_count(rs), 0);
    ck_assert_int_eq(hollow_read_state_origin_tag(rs), 0x0102030405060708ll);
    ck_assert_int_eq(hollow_read_state_randomized_tag(rs), 0x090A0B0C0D0E0F10ll);
    ck_assert_ptr_null(hollow_read_state_type_at(rs, 0));
    ck_assert_ptr_null(hollow_read_state_type(rs, "Movie"));
    char *text = dump_text(rs);
    size_t tl = strlen(text);
    static const char end[] = "\"schemas\":[\n],\n\"types\":[\n]}\n";
    ck_assert_uint_ge(tl, sizeof end - 1);
    ck_assert_str_eq(text + tl - (sizeof end - 1), end);
    hollow_free(text);
    uint32_t c;
    HT_OK(hollow_read_state_checksum(&c, rs));
    ck_assert_uint_eq(c, 0);
    size_t total;
    ck_assert_int_eq(hollow_dump_deep(rs, "Movie", sink_discard, &total),
                     HOLLOW_ENOTFOUND);
    hollow_read_state_release(rs);
    /* the wrong format version */
    uint8_t v[sizeof empty];
    memcpy(v, empty, sizeof v);
    v[3] = 0x07;
    rs = (hollow_read_state *)&rs;
    ck_assert_int_eq(hollow_read_state_from_snapshot(&rs, v, sizeof v, NULL),
                     HOLLOW_EVERSION);
    ck_assert_ptr_null(rs);
    /* arguments */
    ck_assert_int_eq(hollow_read_state_from_snapshot(NULL, empty, sizeof empty,
                                                     NULL),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_read_state_from_snapshot(&rs, NULL, 5, NULL),
                     HOLLOW_EINVAL);
    hollow_read_options mm = HOLLOW_READ_OPTIONS_INIT;
    mm.memory_mode = HOLLOW_MEMORY_MMAP;
    ck_assert_int_eq(hollow_read_state_from_snapshot(&rs, empty, sizeof empty,
                                                     &mm),
                     HOLLOW_EINVAL);
}
END_TEST

START_TEST(read_spec_empty_type_and_shard)
{
    /* §16.1: a type with M = -1, and two shards of which one is empty */
    static const fspec f[] = {{"value", "INT", NULL}};
    hollow__buf sch = HOLLOW__BUF_INIT, b = HOLLOW__BUF_INIT;
    schema_object(&sch, "A", NULL, 1, f);
    schema_object(&sch, "B", NULL, 1, f);
    put_header(&b, &sch, 2);
    put_vint(&b, 2);
    schema_object(&b, "A", NULL, 1, f);
    put_envelope(&b, 1);
    put_object_shard(&b, 1, (const uint8_t[]){0}, 0, NULL, NULL, NULL);
    put_bitset(&b, 0, 0, NULL);
    schema_object(&b, "B", NULL, 1, f);
    put_envelope(&b, 2);
    put_vint(&b, 0); /* M = 0: shard 0 has one slot, shard 1 none */
    static const uint64_t one[] = {2};
    put_object_shard(&b, 1, (const uint8_t[]){2}, 1, one, NULL, NULL);
    put_object_shard(&b, 1, (const uint8_t[]){2}, 0, NULL, NULL, NULL);
    static const int32_t pop[] = {0};
    put_bitset(&b, 1, 1, pop);
    HT_OK(hollow__buf_check(&b));
    hollow_read_state *rs = load_ok(b.ptr, b.len, "empty type and shard");
    const hollow_type *a = hollow_read_state_type(rs, "A");
    const hollow_type *bt = hollow_read_state_type(rs, "B");
    ck_assert_int_eq(hollow_type_max_ordinal(a), -1);
    ck_assert_uint_eq(hollow_type_record_count(a), 0);
    ck_assert_int_eq(hollow_type_next_ordinal(a, 0), HOLLOW_ORDINAL_NONE);
    int32_t v;
    ck_assert_int_eq(hollow_object_int(&v, a, 0, 0), HOLLOW_ENOTFOUND);
    ck_assert_uint_eq(hollow_type_shard_count(bt), 2);
    ck_assert_int_eq(hollow_type_max_ordinal(bt), 0);
    HT_OK(hollow_object_int(&v, bt, 0, 0));
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(hollow_object_int(&v, bt, 1, 0), HOLLOW_ENOTFOUND);
    exercise_state(rs);
    hollow_read_state_release(rs);
    hollow__buf_free(&b);

    /* M says 3 slots, but shard 1's m = 1 exceeds maxShardOrdinal = 0 */
    put_header(&b, &sch, 2);
    put_vint(&b, 1);
    schema_object(&b, "B", NULL, 1, f);
    put_envelope(&b, 2);
    put_vint(&b, 2);
    static const uint64_t two[] = {2, 4};
    put_object_shard(&b, 1, (const uint8_t[]){3}, 2, two, NULL, NULL);
    put_object_shard(&b, 1, (const uint8_t[]){3}, 2, two, NULL, NULL);
    put_bitset(&b, 1, 1, pop);
    HT_OK(hollow__buf_check(&b));
    hollow_read_state *bad = (hollow_read_state *)&bad;
    ck_assert_int_eq(hollow_read_state_from_snapshot(&bad, b.ptr, b.len, NULL),
                     HOLLOW_ECORRUPT);
    ck_assert_ptr_null(bad);
    hollow__buf_free(&b);
    hollow__buf_free(&sch);
}
END_TEST

/* ========================================================== suite */

static Suite *read_suite(void)
{
    Suite *s = suite_create("read");
    TCase *tc = tcase_create("truncation");
    g_scenario_count = list_dir(&g_scenarios, HOLLOW_GOLDEN_DIR, "", true);
    /* with no scenario found, index 0 runs and fails on the empty list */
    tcase_add_loop_test(tc, read_truncated_snapshots, 0,
                        g_scenario_count ? (int)g_scenario_count : 1);
    suite_add_tcase(s, tc);

    tc = tcase_create("corruption");
    tcase_add_test(tc, read_random_byte_flips);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_test(tc, read_spec_object_example);
    tcase_add_test(tc, read_hostile_huge_shard_count);
    tcase_add_test(tc, read_hostile_huge_word_counts);
    tcase_add_test(tc, read_hostile_negative_counts);
    tcase_add_test(tc, read_hostile_max_ordinal_zero_width);
    tcase_add_test(tc, read_hostile_populated_beyond_max);
    tcase_add_test(tc, read_hostile_shard_count_not_power_of_two);
    tcase_add_test(tc, read_hostile_width_over_64);
    tcase_add_test(tc, read_hostile_non_minimal_varints);
    tcase_add_test(tc, read_hostile_trailing_bytes);
    tcase_add_test(tc, read_hostile_duplicate_type_section);
    tcase_add_test(tc, read_hostile_list_pointer_past_elements);
    tcase_add_test(tc, read_hostile_string_end_past_buffer);
    tcase_add_test(tc, read_hostile_reference_cycle);
    tcase_add_test(tc, read_hostile_deep_reference_chain);
    tcase_add_test(tc, read_hostile_deep_dump_exponential_dag);
    tcase_add_test(tc, read_hostile_deep_dump_wide_dag);
    tcase_add_test(tc, read_hostile_many_shards_memory);
    tcase_add_test(tc, read_hostile_field_values);
    tcase_add_test(tc, read_hostile_set_tables);
    suite_add_tcase(s, tc);

    tc = tcase_create("golden");
    tcase_add_test(tc, read_golden_primitives_accessors);
    tcase_add_test(tc, read_golden_collections_accessors);
    tcase_add_test(tc, read_golden_sharded_accessors);
    tcase_add_test(tc, read_golden_hash_keys_and_bucket_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("spec");
    tcase_add_test(tc, read_spec_list_example);
    tcase_add_test(tc, read_spec_set_example);
    tcase_add_test(tc, read_spec_map_example);
    tcase_add_test(tc, read_spec_empty_state);
    tcase_add_test(tc, read_spec_empty_type_and_shard);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = ht_run_suite(read_suite());
    free_names(g_scenarios, g_scenario_count);
    return rc;
}
