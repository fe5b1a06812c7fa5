/*
 * The calls behind `hollow-cli inspect`: hollow_consumer_plan() (the
 * refresh planner without loading anything), hollow_blob_info_read() over
 * every blob kind of the golden vectors (its counts checked against the
 * states the loaders build) and hollow_type_memory().
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/blob.h"
#include "hollow/consumer.h"
#include "testhelp.h"

/* ----------------------------------------------------------- planning */

/* versions 1..6, snapshots of 1 and 6, deltas forwards, reverse deltas back */
static size_t chain_keys(hollow_blob_key *k)
{
    size_t n = 0;
    k[n++] = hollow_blob_key_snapshot(1);
    k[n++] = hollow_blob_key_snapshot(6);
    for (int64_t v = 1; v < 6; v++) {
        k[n++] = hollow_blob_key_delta(v, v + 1);
        k[n++] = hollow_blob_key_reverse_delta(v + 1, v);
    }
    return n;
}

static void assert_step(const hollow_update_plan *p, size_t i, hollow_blob_kind kind,
                        int64_t from, int64_t to)
{
    ck_assert_uint_lt(i, p->count);
    ck_assert_int_eq(p->steps[i].kind, kind);
    ck_assert_int_eq(p->steps[i].version, to);
    if (kind != HOLLOW_BLOB_SNAPSHOT)
        ck_assert_int_eq(p->steps[i].from_version, from);
}

START_TEST(plan_from_scratch_takes_the_nearest_snapshot)
{
    hollow_blob_key k[16];
    size_t n = chain_keys(k);
    hollow_update_plan p;
    HT_OK(hollow_consumer_plan_keys(&p, k, n, 0, 1, 0));
    ck_assert_uint_eq(p.count, 1);
    assert_step(&p, 0, HOLLOW_BLOB_SNAPSHOT, 0, 1);
    hollow_update_plan_clear(&p);
    ck_assert_ptr_null(p.steps);
    /* 2: one delta from snapshot 1 */
    HT_OK(hollow_consumer_plan_keys(&p, k, n, 0, 2, 0));
    ck_assert_uint_eq(p.count, 2);
    assert_step(&p, 0, HOLLOW_BLOB_SNAPSHOT, 0, 1);
    assert_step(&p, 1, HOLLOW_BLOB_DELTA, 1, 2);
    hollow_update_plan_clear(&p);
    /* 5: one reverse delta from snapshot 6 */
    HT_OK(hollow_consumer_plan_keys(&p, k, n, 0, 5, 0));
    ck_assert_uint_eq(p.count, 2);
    assert_step(&p, 0, HOLLOW_BLOB_SNAPSHOT, 0, 6);
    assert_step(&p, 1, HOLLOW_BLOB_REVERSE_DELTA, 6, 5);
    hollow_update_plan_clear(&p);
}
END_TEST

START_TEST(plan_from_a_version_follows_the_chain)
{
    hollow_blob_key k[16];
    size_t n = chain_keys(k);
    hollow_update_plan p;
    HT_OK(hollow_consumer_plan_keys(&p, k, n, 2, 4, 0));
    ck_assert_uint_eq(p.count, 2);
    assert_step(&p, 0, HOLLOW_BLOB_DELTA, 2, 3);
    assert_step(&p, 1, HOLLOW_BLOB_DELTA, 3, 4);
    hollow_update_plan_clear(&p);
    HT_OK(hollow_consumer_plan_keys(&p, k, n, 4, 4, 0));
    ck_assert_uint_eq(p.count, 0); /* already there */
    hollow_update_plan_clear(&p);
    /* a chain longer than the limit: a snapshot instead */
    HT_OK(hollow_consumer_plan_keys(&p, k, n, 1, 4, 1));
    assert_step(&p, 0, HOLLOW_BLOB_SNAPSHOT, 0, 6);
    hollow_update_plan_clear(&p);
}
END_TEST

START_TEST(plan_refusals)
{
    hollow_blob_key k[16];
    size_t n = chain_keys(k);
    hollow_update_plan p;
    ck_assert_int_eq(hollow_consumer_plan_keys(&p, k, n, 0, 7, 0), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(p.steps);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "version 7"));
    /* without snapshot 1 and the reverse deltas, 1..5 are unreachable */
    hollow_blob_key only[8];
    size_t m = 0;
    only[m++] = hollow_blob_key_snapshot(6);
    for (int64_t v = 1; v < 6; v++)
        only[m++] = hollow_blob_key_delta(v, v + 1);
    for (int64_t v = 1; v <= 5; v++)
        ck_assert_int_eq(hollow_consumer_plan_keys(&p, only, m, 0, v, 0),
                         HOLLOW_ENOTFOUND);
    HT_OK(hollow_consumer_plan_keys(&p, only, m, 0, 6, 0));
    hollow_update_plan_clear(&p);
    ck_assert_int_eq(hollow_consumer_plan_keys(&p, k, n, -1, 2, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_consumer_plan_keys(&p, k, n, 0, 0, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_consumer_plan_keys(NULL, k, n, 0, 1, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_consumer_plan_keys(&p, NULL, 3, 0, 1, 0), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_consumer_plan(&p, NULL, 0, 1, 0), HOLLOW_EINVAL);
    hollow_update_plan_clear(NULL);
}
END_TEST

static void keep_plan(const hollow_refresh_event *ev, void *payload)
{
    if (ev->done)
        snprintf(payload, 4096, "%s", ev->plan);
}

/* over a real store: the plan the consumer then takes */
START_TEST(plan_over_a_store_matches_the_refresh)
{
    hollow_blobstore *bs = NULL;
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = HOLLOW_GOLDEN_DIR "/f_random_large";
    HT_OK(hollow_blobstore_fs_new(&bs, &so));
    static const int64_t base = 20250101000000000;
    for (int64_t i = 1; i <= 6; i++) {
        hollow_update_plan p;
        HT_OK(hollow_consumer_plan(&p, bs, 0, base + i, 0));
        /* snapshots of 1 and 6: the nearer one, then the chain */
        int64_t snap = i <= 3 ? 1 : 6;
        ck_assert_uint_eq(p.count, (size_t)(i <= 3 ? i : 7 - i));
        assert_step(&p, 0, HOLLOW_BLOB_SNAPSHOT, 0, base + snap);
        char want[1024] = "", got[4096] = "";
        for (size_t s = 0; s < p.count; s++) {
            char name[HOLLOW_BLOB_NAME_MAX];
            HT_OK(hollow_blob_key_name(name, sizeof name, &p.steps[s]));
            strcat(want, s ? ", " : "");
            strcat(want, name);
        }
        hollow_update_plan_clear(&p);
        /* the consumer's own refresh takes the same plan */
        hollow_consumer *c = NULL;
        hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
        co.blobstore = bs;
        co.listener = keep_plan;
        co.listener_payload = got;
        HT_OK(hollow_consumer_new(&c, &co));
        HT_OK(hollow_consumer_refresh(c, base + i));
        ck_assert_int_eq(hollow_consumer_version(c), base + i);
        hollow_consumer_free(c);
        ck_assert_str_eq(got, want);
    }
    hollow_blobstore_free(bs);
}
END_TEST

/*
 * The reference planner: the plain definition the indexed search must
 * match step for step (breadth first over the catalog in its order; from
 * scratch, the snapshot with the fewest steps, the later between equals).
 */
static long ref_bfs(size_t *path, const hollow_blob_key *k, size_t n, int64_t from,
                    int64_t to)
{
    if (from == to)
        return 0;
    int64_t ver[256];
    long prev[256], edge[256];
    size_t nn = 0;
    ver[nn] = from;
    prev[nn++] = -1;
    for (size_t head = 0; head < nn; head++)
        for (size_t e = 0; e < n; e++) {
            if ((k[e].kind != HOLLOW_BLOB_DELTA &&
                 k[e].kind != HOLLOW_BLOB_REVERSE_DELTA) ||
                k[e].from_version != ver[head])
                continue;
            bool seen = false;
            for (size_t i = 0; i < nn && !seen; i++)
                seen = ver[i] == k[e].version;
            if (seen)
                continue;
            ver[nn] = k[e].version;
            prev[nn] = (long)head;
            edge[nn] = (long)e;
            if (k[e].version == to) {
                long len = 0;
                for (long i = (long)nn; prev[i] >= 0; i = prev[i])
                    len++;
                long at = len;
                for (long i = (long)nn; prev[i] >= 0; i = prev[i])
                    path[--at] = (size_t)edge[i];
                return len;
            }
            nn++;
        }
    return -1;
}

static long ref_plan(hollow_blob_key *out, const hollow_blob_key *k, size_t n,
                     int64_t from, int64_t to, uint32_t limit)
{
    size_t path[256], best[256];
    if (from > 0) {
        long len = ref_bfs(path, k, n, from, to);
        if (len >= 0 && (uint32_t)len <= limit) {
            for (long i = 0; i < len; i++)
                out[i] = k[path[i]];
            return len;
        }
    }
    long best_len = -1;
    size_t snap = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i].kind != HOLLOW_BLOB_SNAPSHOT)
            continue;
        long l = ref_bfs(path, k, n, k[i].version, to);
        if (l >= 0 && (best_len < 0 || l < best_len ||
                       (l == best_len && k[i].version > k[snap].version))) {
            best_len = l;
            snap = i;
            memcpy(best, path, (size_t)l * sizeof *best);
        }
    }
    if (best_len < 0)
        return -1;
    out[0] = k[snap];
    for (long i = 0; i < best_len; i++)
        out[i + 1] = k[best[i]];
    return best_len + 1;
}

/* random catalogs in random order: the planner agrees with the reference */
START_TEST(plan_matches_the_reference_on_random_catalogs)
{
    uint64_t rng = ht_seed("plan_matches_the_reference_on_random_catalogs");
    for (int round = 0; round < 300; round++) {
        hollow_blob_key k[120];
        size_t n = 0;
        int nv = 2 + (int)(ht_rand(&rng) % 12);
        for (int v = 1; v <= nv; v++) {
            if (ht_rand(&rng) % 3 == 0)
                k[n++] = hollow_blob_key_snapshot(v);
            for (int j = 0; j < 3; j++) {
                int64_t w = 1 + (int64_t)(ht_rand(&rng) % (uint64_t)nv);
                if (w == v)
                    continue;
                k[n++] = w > v ? hollow_blob_key_delta(v, w)
                               : hollow_blob_key_reverse_delta(v, w);
            }
        }
        for (size_t i = n; i > 1; i--) { /* shuffle */
            size_t j = (size_t)(ht_rand(&rng) % i);
            hollow_blob_key t = k[i - 1];
            k[i - 1] = k[j];
            k[j] = t;
        }
        for (int64_t from = 0; from <= nv; from++)
            for (int64_t to = 1; to <= nv + 1; to++) {
                uint32_t limit = (uint32_t)(ht_rand(&rng) % 4);
                hollow_blob_key want[256];
                long wn = ref_plan(want, k, n, from, to, limit ? limit : 32);
                hollow_update_plan p;
                int rc = hollow_consumer_plan_keys(&p, k, n, from, to, limit);
                if (wn < 0) {
                    ck_assert_int_eq(rc, HOLLOW_ENOTFOUND);
                    continue;
                }
                HT_OK(rc);
                ck_assert_uint_eq(p.count, (size_t)wn);
                for (long i = 0; i < wn; i++) {
                    ck_assert_int_eq(p.steps[i].kind, want[i].kind);
                    ck_assert_int_eq(p.steps[i].version, want[i].version);
                    ck_assert_int_eq(p.steps[i].from_version, want[i].from_version);
                }
                hollow_update_plan_clear(&p);
            }
    }
}
END_TEST

/* a long history: planning to each of 2000 versions stays linear */
START_TEST(plan_over_a_long_history)
{
    enum { N = 2000 };
    hollow_blob_key *k = calloc(4 * N, sizeof *k);
    ck_assert_ptr_nonnull(k);
    size_t n = 0;
    for (int64_t v = 1; v <= N; v++) {
        k[n++] = hollow_blob_key_snapshot(v);
        if (v > 1) {
            k[n++] = hollow_blob_key_delta(v - 1, v);
            k[n++] = hollow_blob_key_reverse_delta(v, v - 1);
        }
    }
    int64_t t0 = ht_now_ms();
    for (int64_t v = 1; v <= N; v += 7) {
        hollow_update_plan p;
        HT_OK(hollow_consumer_plan_keys(&p, k, n, 0, v, 0));
        ck_assert_uint_eq(p.count, 1); /* its own snapshot */
        hollow_update_plan_clear(&p);
        HT_OK(hollow_consumer_plan_keys(&p, k, n, N, v, 0));
        ck_assert_uint_eq(p.count, (size_t)(N - v <= 32 ? N - v : 1));
        hollow_update_plan_clear(&p);
    }
    /* quadratic per plan took minutes here; linear takes well under one */
    ck_assert_int_lt(ht_now_ms() - t0, 60000);
    free(k);
}
END_TEST

/* ---------------------------------------------------------- blob info */

static hollow_blob_info *info_of(const char *dir, const char *name, int kind)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    uint8_t *p = ht_read_file(path, &len);
    hollow_blob_info *bi = NULL;
    HT_OK(hollow_blob_info_read(&bi, p, len, kind));
    ck_assert_uint_eq(hollow_blob_info_size(bi), len);
    free(p);
    return bi;
}

static hollow_read_state *load(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_open(&rs, path, NULL));
    return rs;
}

static void assert_tags_equal(const hollow_blob_info *bi, const hollow_read_state *rs)
{
    ck_assert_uint_eq(hollow_blob_info_header_tag_count(bi),
                      hollow_read_state_header_tag_count(rs));
    for (size_t i = 0; i < hollow_blob_info_header_tag_count(bi); i++) {
        const char *k, *v;
        HT_OK(hollow_blob_info_header_tag_at(bi, i, &k, &v));
        const char *sv = hollow_read_state_header_tag(rs, k);
        ck_assert_ptr_nonnull(sv);
        ck_assert_str_eq(v, sv);
    }
    ck_assert_int_eq(hollow_blob_info_header_tag_at(bi, 999, NULL, NULL),
                     HOLLOW_ENOTFOUND);
}

/* a snapshot: per section the state's shards and records */
static void check_snapshot(const char *dir, const char *name, int kind)
{
    hollow_blob_info *bi = info_of(dir, name, kind);
    hollow_read_state *rs = load(dir, name);
    ck_assert_int_eq(hollow_blob_info_kind(bi), HOLLOW_BLOB_SNAPSHOT);
    ck_assert_int_eq(hollow_blob_info_destination_tag(bi),
                     hollow_read_state_randomized_tag(rs));
    assert_tags_equal(bi, rs);
    ck_assert_uint_eq(hollow_blob_info_section_count(bi),
                      hollow_read_state_type_count(rs));
    size_t end = 0;
    for (size_t i = 0; i < hollow_blob_info_section_count(bi); i++) {
        const hollow_blob_section *s = hollow_blob_info_section_at(bi, i);
        const hollow_type *t = hollow_read_state_type(rs, s->type);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(s->kind, hollow_type_kind(t));
        ck_assert_uint_eq(s->shard_count, hollow_type_shard_count(t));
        ck_assert_uint_eq(s->records, hollow_type_record_count(t));
        ck_assert_int_eq(s->max_ordinal, hollow_type_max_ordinal(t));
        ck_assert_uint_eq(s->removed + s->added, 0);
        ck_assert_uint_ge(s->offset, end); /* in order, not overlapping */
        end = s->offset + s->bytes;
        /* memory: something for a type with records */
        if (s->records > 0)
            ck_assert_uint_gt(hollow_type_memory(t), 0);
    }
    ck_assert_uint_eq(end, hollow_blob_info_size(bi)); /* the last ends it */
    ck_assert_ptr_null(hollow_blob_info_section_at(bi, 9999));
    hollow_read_state_release(rs);
    hollow_blob_info_free(bi);
}

/* a (reverse) delta from `from` to `to` (snapshots of both exist): per
 * section, records after = records before - removed + added */
static void check_delta(const char *dir, const char *name, int kind,
                        const char *from, const char *to, bool reverse)
{
    hollow_blob_info *bi = info_of(dir, name, kind);
    ck_assert_int_eq(hollow_blob_info_kind(bi),
                     kind == HOLLOW_BLOB_KIND_UNKNOWN
                         ? HOLLOW_BLOB_DELTA
                         : (reverse ? HOLLOW_BLOB_REVERSE_DELTA : HOLLOW_BLOB_DELTA));
    hollow_read_state *a = load(dir, from), *b = load(dir, to);
    ck_assert_int_eq(hollow_blob_info_origin_tag(bi),
                     hollow_read_state_randomized_tag(a));
    ck_assert_int_eq(hollow_blob_info_destination_tag(bi),
                     hollow_read_state_randomized_tag(b));
    assert_tags_equal(bi, b);
    /* §3.2: a delta lists exactly its sections' types */
    ck_assert_uint_eq(hollow_blob_info_schema_count(bi),
                      hollow_blob_info_section_count(bi));
    for (size_t i = 0; i < hollow_blob_info_section_count(bi); i++) {
        const hollow_blob_section *s = hollow_blob_info_section_at(bi, i);
        ck_assert_str_eq(hollow_schema_name(hollow_blob_info_schema_at(bi, i)),
                         s->type);
        const hollow_type *ta = hollow_read_state_type(a, s->type);
        const hollow_type *tb = hollow_read_state_type(b, s->type);
        size_t before = ta ? hollow_type_record_count(ta) : 0;
        size_t after = tb ? hollow_type_record_count(tb) : 0;
        ck_assert_uint_eq(s->records, 0);
        ck_assert_uint_ge(before, s->removed);
        ck_assert_uint_eq(before - s->removed + s->added, after);
        ck_assert_uint_gt(s->removed + s->added + (s->shard_count != 1), 0);
    }
    hollow_read_state_release(a);
    hollow_read_state_release(b);
    hollow_blob_info_free(bi);
}

static void check_header(const char *dir, const char *name, int kind,
                         const char *snapshot)
{
    hollow_blob_info *bi = info_of(dir, name, kind);
    hollow_read_state *rs = load(dir, snapshot);
    ck_assert_int_eq(hollow_blob_info_kind(bi), HOLLOW_BLOB_HEADER);
    ck_assert_uint_eq(hollow_blob_info_section_count(bi), 0);
    ck_assert_uint_eq(hollow_blob_info_type_count(bi),
                      hollow_read_state_type_count(rs));
    ck_assert_uint_eq(hollow_blob_info_schema_count(bi),
                      hollow_read_state_type_count(rs));
    ck_assert_int_eq(hollow_blob_info_destination_tag(bi),
                     hollow_read_state_randomized_tag(rs));
    assert_tags_equal(bi, rs);
    hollow_read_state_release(rs);
    hollow_blob_info_free(bi);
}

/* every blob of every scenario whose versions all have snapshots, each
 * read with its kind given and with the kind told from the bytes */
START_TEST(blob_info_matches_the_loaded_states)
{
    static const char *const scenarios[] = {"a_primitives", "b_collections",
                                            "c_primary_keys", "d_sharding",
                                            "d2_resharding"};
    size_t checked = 0;
    for (size_t sc = 0; sc < sizeof scenarios / sizeof scenarios[0]; sc++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", HOLLOW_GOLDEN_DIR, scenarios[sc]);
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            hollow_blob_key k;
            if (hollow_blob_key_parse(&k, e->d_name) != 0)
                continue;
            char from[64], to[64];
            snprintf(from, sizeof from, "snapshot-%lld", (long long)k.from_version);
            snprintf(to, sizeof to, "snapshot-%lld", (long long)k.version);
            for (int pass = 0; pass < 2; pass++) {
                int kind = pass ? HOLLOW_BLOB_KIND_UNKNOWN : (int)k.kind;
                switch (k.kind) {
                case HOLLOW_BLOB_SNAPSHOT: check_snapshot(dir, e->d_name, kind); break;
                case HOLLOW_BLOB_HEADER: check_header(dir, e->d_name, kind, to); break;
                case HOLLOW_BLOB_DELTA:
                case HOLLOW_BLOB_REVERSE_DELTA:
                    check_delta(dir, e->d_name, kind, from, to,
                                k.kind == HOLLOW_BLOB_REVERSE_DELTA);
                    break;
                }
                checked++;
            }
        }
        closedir(d);
    }
    ck_assert_uint_gt(checked, 60);
}
END_TEST

/* every prefix of a delta and a snapshot fails cleanly, never crashes */
START_TEST(blob_info_refuses_truncated_blobs)
{
    static const char *const names[] = {
        "delta-20250101000000001-20250101000000002",
        "snapshot-20250101000000002", "header-20250101000000002"};
    for (size_t b = 0; b < 3; b++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/b_collections/%s", HOLLOW_GOLDEN_DIR,
                 names[b]);
        size_t len;
        uint8_t *p = ht_read_file(path, &len);
        size_t step = len / 400 + 1;
        for (size_t n = 0; n < len; n += (n < 64 ? 1 : step)) {
            for (int kind = HOLLOW_BLOB_KIND_UNKNOWN; kind <= HOLLOW_BLOB_HEADER;
                 kind++) {
                hollow_blob_info *bi = (hollow_blob_info *)1;
                int rc = hollow_blob_info_read(&bi, p, n, kind);
                /* a header blob cut after its type count is a header blob
                 * read as such; nothing else passes */
                if (rc == 0) {
                    ck_assert_int_eq(hollow_blob_info_kind(bi), HOLLOW_BLOB_HEADER);
                    hollow_blob_info_free(bi);
                    continue;
                }
                ck_assert_ptr_null(bi);
                ck_assert_msg(rc == HOLLOW_ECORRUPT || rc == HOLLOW_ERANGE,
                              "%s cut at %zu (kind %d): %d %s", names[b], n,
                              kind, rc, hollow_error_last()->message);
            }
        }
        free(p);
    }
    hollow_blob_info *bi = NULL;
    ck_assert_int_eq(hollow_blob_info_read(NULL, "", 0, -1), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_blob_info_read(&bi, NULL, 4, -1), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_blob_info_read(&bi, "", 0, 7), HOLLOW_EINVAL);
    static const uint8_t v2[] = {0, 0, 4, 5};
    ck_assert_int_eq(hollow_blob_info_read(&bi, v2, 4, -1), HOLLOW_EVERSION);
    hollow_blob_info_free(NULL);
}
END_TEST

static Suite *inspect_api_suite(void)
{
    Suite *s = suite_create("inspect_api");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, plan_from_scratch_takes_the_nearest_snapshot);
    tcase_add_test(tc, plan_from_a_version_follows_the_chain);
    tcase_add_test(tc, plan_refusals);
    tcase_add_test(tc, plan_over_a_store_matches_the_refresh);
    tcase_add_test(tc, plan_matches_the_reference_on_random_catalogs);
    tcase_add_test(tc, plan_over_a_long_history);
    suite_add_tcase(s, tc);
    tc = tcase_create("blob_info");
    tcase_add_test(tc, blob_info_matches_the_loaded_states);
    tcase_add_test(tc, blob_info_refuses_truncated_blobs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(inspect_api_suite()); }
