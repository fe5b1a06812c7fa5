/*
 * Applying deltas (blob-format.md §9): the worked examples of §9.4 byte for
 * byte (including Java's ghost records), shard sharing, chain checks
 * (origin tags, truncation, schema changes), and that the state a delta
 * starts from never changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob_int.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "hollow/dump.h"
#include "hollow/read.h"
#include "read/read_int.h"
#include "testhelp.h"

/* ---------------------------------------------- §6.6 and §9.4 blobs */

static void movie_schema(hollow__buf *b)
{
    static const uint8_t s[] = {0x06, 0, 5, 'M', 'o', 'v', 'i', 'e', 1, 0, 2,
                                'i', 'd', 0, 2, 0, 2, 'i', 'd', 0, 3, 'I', 'N',
                                'T', 0, 5, 't', 'i', 't', 'l', 'e', 0, 6, 'S',
                                'T', 'R', 'I', 'N', 'G'};
    hollow__buf_put(b, s, sizeof s);
}

static void header(hollow__buf *b, uint8_t origin, uint8_t dest)
{
    hollow__buf_be32(b, 1030);
    for (int i = 0; i < 8; i++)
        hollow__buf_putc(b, origin);
    for (int i = 0; i < 8; i++)
        hollow__buf_putc(b, dest);
    hollow__buf_putc(b, 0x29); /* envelope 41 */
    hollow__buf_putc(b, 1);
    movie_schema(b);
    hollow__buf_putc(b, 0);
    hollow__buf_be16(b, 0);     /* no header tags */
    hollow__buf_putc(b, 1);     /* one type section */
    movie_schema(b);
    static const uint8_t env[] = {2, 0, 1};
    hollow__buf_put(b, env, 3);
}

/* §6.6: state A, 2179 bytes */
static hollow__buf example_snapshot(void)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    header(&b, 0xFF, 0x11);
    static const uint8_t body[] = {0x02, 0x03, 0x04, 0x01, 0, 0, 0, 0, 0,
                                   0x1C, 0x5A, 0x12, 0x00, 0x06, 'U', 'p', 'H',
                                   'e', 'a', 't', 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                   0, 7};
    hollow__buf_put(&b, body, sizeof body);
    for (int i = 0; i < 255 * 8; i++)
        hollow__buf_putc(&b, 0);
    ck_assert_uint_eq(b.len, 2179);
    return b;
}

static hollow__buf example_delta(uint8_t origin, uint8_t dest,
                                 const uint8_t *body, size_t n)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    header(&b, origin, dest);
    hollow__buf_put(&b, body, n);
    return b;
}

static const uint8_t A_TO_B[] = {0x03, 0x01, 0x01, 0x01, 0x03, 0x0A, 0x05,
                                 0x01, 0, 0, 0, 0, 0, 0, 0x12, 0x58, 0x00,
                                 0x04, 'J', 'a', 'w', 's'};
static const uint8_t B_TO_A[] = {0x03, 0x01, 0x03, 0x01, 0x01, 0x0A, 0x05,
                                 0x01, 0, 0, 0, 0, 0, 0, 0x10, 0x04, 0x00,
                                 0x04, 'H', 'e', 'a', 't'};
static const uint8_t B_TO_C[] = {0x03, 0x00, 0x01, 0x01, 0x0A, 0x05, 0x01, 0,
                                 0, 0, 0, 0, 0, 0x14, 0x08, 0x00, 0x05, 'A',
                                 'l', 'i', 'e', 'n'};

static hollow_read_state *load_example(void)
{
    hollow__buf b = example_snapshot();
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, b.ptr, b.len, NULL));
    hollow__buf_free(&b);
    return rs;
}

static hollow_read_state *apply(hollow_read_state *rs, uint8_t origin,
                                uint8_t dest, const uint8_t *body, size_t n)
{
    hollow__buf d = example_delta(origin, dest, body, n);
    ck_assert_uint_eq(d.len, 129);
    hollow_read_state *next = NULL;
    HT_OK(hollow_read_state_apply_delta(&next, rs, d.ptr, d.len));
    hollow__buf_free(&d);
    return next;
}

static void assert_record(const hollow_type *t, hollow_ordinal o, int32_t id,
                          const char *title)
{
    int32_t v;
    HT_OK(hollow_object_int(&v, t, o, 0));
    ck_assert_int_eq(v, id);
    hollow_str s;
    char buf[16];
    int rc = hollow_object_string(&s, buf, sizeof buf, t, o, 1);
    if (title == NULL) {
        ck_assert_int_eq(rc, HOLLOW_NULL);
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_uint_eq(s.len, strlen(title));
        ck_assert(memcmp(s.ptr, title, s.len) == 0);
    }
}

START_TEST(delta_worked_example_forward)
{
    hollow_read_state *a = load_example();
    hollow_read_state *b = apply(a, 0x11, 0x22, A_TO_B, sizeof A_TO_B);
    ck_assert_int_eq(hollow_read_state_randomized_tag(b), 0x2222222222222222);
    const hollow_type *t = hollow_read_state_type(b, "Movie");
    ck_assert_uint_eq(hollow_type_record_count(t), 3);
    ck_assert(hollow_type_is_populated(t, 0));
    ck_assert(!hollow_type_is_populated(t, 1));
    ck_assert(hollow_type_is_populated(t, 2));
    ck_assert(hollow_type_is_populated(t, 3));
    assert_record(t, 0, 1, "Up");
    assert_record(t, 2, -1, NULL);
    assert_record(t, 3, 300, "Jaws");
    /* §9.6: removed records stay readable for one more version (ghost) */
    assert_record(t, 1, 2, "Heat");
    hollow_read_state *c = apply(b, 0x22, 0x33, B_TO_C, sizeof B_TO_C);
    t = hollow_read_state_type(c, "Movie");
    ck_assert(hollow_type_is_populated(t, 1));
    assert_record(t, 1, 4, "Alien");
    ck_assert_uint_eq(hollow_type_record_count(t), 4);
    /* the states it started from are unchanged */
    assert_record(hollow_read_state_type(b, "Movie"), 1, 2, "Heat");
    assert_record(hollow_read_state_type(a, "Movie"), 1, 2, "Heat");
    ck_assert(hollow_type_is_populated(hollow_read_state_type(a, "Movie"), 1));
    hollow_read_state_release(a);
    hollow_read_state_release(b);
    hollow_read_state_release(c);
}
END_TEST

START_TEST(delta_worked_example_reverse)
{
    hollow_read_state *a = load_example();
    hollow_read_state *b = apply(a, 0x11, 0x22, A_TO_B, sizeof A_TO_B);
    hollow_read_state *back = apply(b, 0x22, 0x11, B_TO_A, sizeof B_TO_A);
    uint32_t ca, cb;
    HT_OK(hollow_read_state_checksum(&ca, a));
    HT_OK(hollow_read_state_checksum(&cb, back));
    ck_assert_uint_eq(ca, cb);
    const hollow_type *t = hollow_read_state_type(back, "Movie");
    assert_record(t, 1, 2, "Heat");
    ck_assert(!hollow_type_is_populated(t, 3));
    /* §9.8: the reverse delta's max ordinal stays that of the forward one */
    ck_assert_int_eq(hollow_type_max_ordinal(t), 3);
    hollow_read_state_release(a);
    hollow_read_state_release(b);
    hollow_read_state_release(back);
}
END_TEST

START_TEST(delta_origin_mismatch_refused)
{
    hollow_read_state *a = load_example();
    hollow__buf d = example_delta(0x22, 0x33, B_TO_C, sizeof B_TO_C);
    hollow_read_state *next = (hollow_read_state *)1;
    ck_assert_int_eq(hollow_read_state_apply_delta(&next, a, d.ptr, d.len),
                     HOLLOW_ECHAIN);
    ck_assert_ptr_null(next);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "tag"));
    /* re-applying an applied delta is refused the same way */
    hollow_read_state *b = apply(a, 0x11, 0x22, A_TO_B, sizeof A_TO_B);
    hollow__buf again = example_delta(0x11, 0x22, A_TO_B, sizeof A_TO_B);
    ck_assert_int_eq(hollow_read_state_apply_delta(&next, b, again.ptr,
                                                   again.len),
                     HOLLOW_ECHAIN);
    hollow__buf_free(&d);
    hollow__buf_free(&again);
    hollow_read_state_release(a);
    hollow_read_state_release(b);
}
END_TEST

/* a section that changes a field's type or a type's kind is refused */
START_TEST(delta_schema_type_change_refused)
{
    hollow_read_state *a = load_example();
    hollow__buf d = example_delta(0x11, 0x22, A_TO_B, sizeof A_TO_B);
    /* "INT" -> "LONG" would change lengths; flip the section's field type
     * name to "STRING" for id instead: same length as... use BYTES */
    uint8_t *p = d.ptr;
    size_t n = d.len;
    /* the section schema is the second occurrence of "INT": make it "BYT" */
    int seen = 0;
    for (size_t i = 0; i + 3 <= n; i++)
        if (memcmp(p + i, "INT", 3) == 0 && ++seen == 2)
            memcpy(p + i - 2, "\0\3BYT", 5);
    ck_assert_int_eq(seen, 2);
    hollow_read_state *next = NULL;
    int rc = hollow_read_state_apply_delta(&next, a, d.ptr, d.len);
    /* BYT is not a field type: corrupt; a real type change needs LONG */
    ck_assert(rc == HOLLOW_ECORRUPT || rc == HOLLOW_ECHAIN);
    hollow__buf_free(&d);

    /* a real change: id INT -> LONG (the delta's schema grows a byte) */
    hollow__buf b = HOLLOW__BUF_INIT;
    hollow__buf_be32(&b, 1030);
    for (int i = 0; i < 8; i++)
        hollow__buf_putc(&b, 0x11);
    for (int i = 0; i < 8; i++)
        hollow__buf_putc(&b, 0x22);
    hollow__buf_putc(&b, 0); /* pre-2.2 header: no schema envelope */
    hollow__buf_be16(&b, 0);
    hollow__buf_putc(&b, 1);
    static const uint8_t s[] = {0x00, 0, 5, 'M', 'o', 'v', 'i', 'e', 0, 1, 0,
                                2, 'i', 'd', 0, 4, 'L', 'O', 'N', 'G'};
    hollow__buf_put(&b, s, sizeof s);
    static const uint8_t body[] = {2, 0, 1, 0x03, 0x00, 0x00, 0x0A, 0x00};
    hollow__buf_put(&b, body, sizeof body);
    ck_assert_int_eq(hollow_read_state_apply_delta(&next, a, b.ptr, b.len),
                     HOLLOW_ECHAIN);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "Movie.id"));
    hollow__buf_free(&b);
    hollow_read_state_release(a);
}
END_TEST

/* a delta with no type sections only moves the tags (§16.1) */
START_TEST(delta_without_sections_swaps_tags)
{
    hollow_read_state *a = load_example();
    hollow__buf b = HOLLOW__BUF_INIT;
    hollow__buf_be32(&b, 1030);
    for (int i = 0; i < 8; i++)
        hollow__buf_putc(&b, 0x11);
    for (int i = 0; i < 8; i++)
        hollow__buf_putc(&b, 0x44);
    static const uint8_t rest[] = {0x02, 0x00, 0x00, /* E=2, S=0, X=0 */
                                   0x00, 0x01, 0x00, 0x01, 'k', 0x00, 0x01, 'v',
                                   0x00};
    hollow__buf_put(&b, rest, sizeof rest);
    hollow_read_state *next = NULL;
    HT_OK(hollow_read_state_apply_delta(&next, a, b.ptr, b.len));
    ck_assert_int_eq(hollow_read_state_randomized_tag(next), 0x4444444444444444);
    ck_assert_str_eq(hollow_read_state_header_tag(next, "k"), "v");
    /* nothing else changed: every shard is shared */
    const hollow_type *ta = hollow_read_state_type(a, "Movie");
    const hollow_type *tn = hollow_read_state_type(next, "Movie");
    ck_assert_ptr_eq(ta->shards[0], tn->shards[0]);
    hollow__buf_free(&b);
    hollow_read_state_release(a);
    hollow_read_state_release(next);
}
END_TEST

/* ------------------------------------------------ golden deltas */

static uint8_t *golden(const char *scenario, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", HOLLOW_GOLDEN_DIR, scenario, name);
    return ht_read_file(path, len);
}

/* truncation anywhere in a delta fails cleanly and changes nothing */
START_TEST(delta_truncated_everywhere)
{
    static const char *cases[][3] = {
        {"b_collections", "snapshot-20250101000000001",
         "delta-20250101000000001-20250101000000002"},
        {"d2_resharding", "snapshot-20250101000000001",
         "delta-20250101000000001-20250101000000002"},
        {"e_schema_change", "snapshot-20250101000000002",
         "reversedelta-20250101000000002-20250101000000001"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t slen, dlen;
        uint8_t *snap = golden(cases[c][0], cases[c][1], &slen);
        uint8_t *delta = golden(cases[c][0], cases[c][2], &dlen);
        hollow_read_state *rs = NULL;
        HT_OK(hollow_read_state_from_snapshot(&rs, snap, slen, NULL));
        uint32_t before, after;
        HT_OK(hollow_read_state_checksum(&before, rs));
        size_t stride = dlen / (300 * (size_t)ht_scale()) + 1;
        for (size_t k = 0; k < dlen; k += (k < 512 ? 1 : stride)) {
            hollow_read_state *next = (hollow_read_state *)1;
            int rc = hollow_read_state_apply_delta(&next, rs, delta, k);
            ck_assert_msg(rc == HOLLOW_ECORRUPT, "%s: %zu bytes gave %d (%s)",
                          cases[c][2], k, rc, hollow_error_last()->message);
            ck_assert_ptr_null(next);
        }
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, delta, dlen));
        HT_OK(hollow_read_state_checksum(&after, rs));
        ck_assert_uint_eq(before, after);
        hollow_read_state_release(next);
        hollow_read_state_release(rs);
        free(snap);
        free(delta);
    }
}
END_TEST

/* chains reach the checksum of the target snapshot (same shard counts) */
START_TEST(delta_chain_checksums_match_snapshots)
{
    static const char *scen[] = {"a_primitives", "b_collections",
                                 "c_primary_keys", "d_sharding",
                                 "d2_resharding"};
    for (size_t i = 0; i < sizeof scen / sizeof *scen; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", HOLLOW_GOLDEN_DIR, scen[i]);
        size_t n;
        uint8_t *mj = golden(scen[i], "manifest.json", &n);
        free(mj);
        /* versions are 20250101000000001.. consecutive with snapshots */
        hollow_read_state *rs = NULL;
        char p[1200];
        snprintf(p, sizeof p, "%s/snapshot-20250101000000001", dir);
        HT_OK(hollow_read_state_open(&rs, p, NULL));
        for (int v = 2; v <= 6; v++) {
            snprintf(p, sizeof p, "%s/delta-2025010100000000%d-2025010100000000%d",
                     dir, v - 1, v);
            FILE *f = fopen(p, "rb");
            if (f == NULL)
                break;
            fclose(f);
            hollow_read_state *next = NULL;
            HT_OK(hollow_read_state_apply_delta_file(&next, rs, p));
            hollow_read_state_release(rs);
            rs = next;
            snprintf(p, sizeof p, "%s/snapshot-2025010100000000%d", dir, v);
            hollow_read_state *snap = NULL;
            if (hollow_read_state_open(&snap, p, NULL) < 0)
                continue; /* a version without snapshot */
            uint32_t c1, c2;
            HT_OK(hollow_read_state_checksum(&c1, rs));
            HT_OK(hollow_read_state_checksum(&c2, snap));
            ck_assert_msg(c1 == c2, "%s v%d: chain %08x, snapshot %08x",
                          scen[i], v, c1, c2);
            hollow_read_state_release(snap);
        }
        hollow_read_state_release(rs);
    }
}
END_TEST

/* ------------------------------------------------------- sharing */

static _Atomic long live_bytes;

static void *count_malloc(void *o, size_t n)
{
    (void)o;
    size_t *p = malloc(n + 16);
    if (p == NULL)
        return NULL;
    *p = n;
    live_bytes += (long)n;
    return (char *)p + 16;
}

static void count_free(void *o, void *ptr)
{
    (void)o;
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)((char *)ptr - 16);
    live_bytes -= (long)*p;
    free(p);
}

static void *count_realloc(void *o, void *ptr, size_t n)
{
    if (ptr == NULL)
        return count_malloc(o, n);
    size_t *p = (size_t *)((char *)ptr - 16);
    size_t old = *p;
    size_t *q = realloc(p, n + 16);
    if (q == NULL)
        return NULL;
    *q = n;
    live_bytes += (long)n - (long)old;
    return (char *)q + 16;
}

static size_t shard_bytes(const hollow__shard *s)
{
    size_t n = (size_t)(s->fixed_words + s->elem_words) * 8;
    return n;
}

/*
 * A delta that removes one record of a 16-shard type: the new state shares
 * the other 15 shards, so the memory both states hold together grows by
 * about one shard, not by the type.
 */
START_TEST(delta_touching_one_shard_shares_the_rest)
{
    hollow_allocator a = {count_malloc, count_realloc, count_free, NULL};
    hollow_set_allocator(&a);
    size_t slen;
    uint8_t *snap = golden("d_sharding", "snapshot-20250101000000001", &slen);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, snap, slen, NULL));
    const hollow_type *item = hollow_read_state_type(rs, "Item");
    ck_assert_uint_eq(hollow_type_shard_count(item), 16);
    size_t type_bytes = 0, max_shard = 0;
    for (uint32_t s = 0; s < 16; s++) {
        size_t b = shard_bytes(item->shards[s]);
        type_bytes += b;
        if (b > max_shard)
            max_shard = b;
    }
    /* build the delta: Item, 16 shards, shard 3 removes its first record */
    hollow__buf d = HOLLOW__BUF_INIT;
    hollow__buf_be32(&d, 1030);
    hollow__buf_be64(&d, (uint64_t)hollow_read_state_randomized_tag(rs));
    hollow__buf_be64(&d, 0x5555555555555555ull);
    hollow__buf env = HOLLOW__BUF_INIT;
    hollow__buf_vint(&env, 1);
    hollow__schema_write(&env, item->schema);
    hollow__buf_vint(&env, 0);
    hollow__buf_vint(&d, (uint32_t)env.len);
    hollow__buf_put(&d, env.ptr, env.len);
    hollow__buf_be16(&d, 0);
    hollow__buf_vint(&d, 1);
    hollow__schema_write(&d, item->schema);
    static const uint8_t e16[] = {2, 0, 16};
    hollow__buf_put(&d, e16, 3);
    int32_t M = hollow_type_max_ordinal(item);
    hollow__buf_vint(&d, (uint32_t)M);
    size_t nf = hollow_schema_field_count(item->schema);
    for (uint32_t s = 0; s < 16; s++) {
        const hollow__shard *sh = item->shards[s];
        hollow__buf_vint(&d, (uint32_t)sh->max);
        if (s == 3) {
            uint32_t j = 0;
            while (!hollow__shard_has(sh, j))
                j++;
            uint8_t t[5];
            size_t k = hollow__vint_encode(t, j);
            hollow__buf_vlong(&d, k);
            hollow__buf_put(&d, t, k);
        } else {
            hollow__buf_vlong(&d, 0);
        }
        hollow__buf_vlong(&d, 0); /* nothing added */
        for (size_t f = 0; f < nf; f++)
            hollow__buf_vint(&d, sh->widths[f]);
        hollow__buf_vlong(&d, 0);
        for (size_t f = 0; f < nf; f++)
            hollow__buf_vlong(&d, 0);
    }
    HT_OK(hollow__buf_check(&d));
    long before = live_bytes;
    hollow_read_state *next = NULL;
    HT_OK(hollow_read_state_apply_delta(&next, rs, d.ptr, d.len));
    long growth = live_bytes - before;
    const hollow_type *nitem = hollow_read_state_type(next, "Item");
    ck_assert_uint_eq(hollow_type_record_count(nitem),
                      hollow_type_record_count(item) - 1);
    int shared = 0;
    for (uint32_t s = 0; s < 16; s++)
        shared += nitem->shards[s] == item->shards[s];
    ck_assert_int_eq(shared, 15);
    fprintf(stderr, "type Item %zu bytes in 16 shards (largest %zu); the "
            "delta added %ld bytes\n", type_bytes, max_shard, growth);
    ck_assert_int_lt(growth, (long)(2 * max_shard + 16384));
    ck_assert_int_lt(growth, (long)(type_bytes / 3));
    hollow__buf_free(&d);
    hollow__buf_free(&env);
    hollow_read_state_release(next);
    hollow_read_state_release(rs);
    ck_assert_int_eq(live_bytes, 0); /* everything freed, nothing leaked */
    hollow_set_allocator(NULL);
    free(snap);
}
END_TEST

static Suite *delta_suite(void)
{
    Suite *s = suite_create("delta");
    TCase *tc = tcase_create("examples");
    tcase_add_test(tc, delta_worked_example_forward);
    tcase_add_test(tc, delta_worked_example_reverse);
    tcase_add_test(tc, delta_without_sections_swaps_tags);
    suite_add_tcase(s, tc);
    tc = tcase_create("chain");
    tcase_add_test(tc, delta_origin_mismatch_refused);
    tcase_add_test(tc, delta_schema_type_change_refused);
    tcase_add_test(tc, delta_truncated_everywhere);
    tcase_add_test(tc, delta_chain_checksums_match_snapshots);
    suite_add_tcase(s, tc);
    tc = tcase_create("sharing");
    tcase_add_test(tc, delta_touching_one_shard_shares_the_rest);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(delta_suite()); }
