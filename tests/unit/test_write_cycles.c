/*
 * Cycles against Java's bytes (issue: delta writer). For each vector
 * scenario, replay the producer's cycles: each version's records, decoded
 * from Java's blobs, added type by type in ordinal order, with Java's
 * randomized tags and header tags; then compare every snapshot, delta and
 * reverse delta written with Java's. Byte-identical for every scenario
 * whose rules the spec verified; for e_schema_change (restored producers,
 * §10.6) and f_random_large (bit-set history, §10.9) equal dumps and
 * checksums are the bar, and the test reports which blobs also match.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/dump.h"
#include "hollow/read.h"
#include "hollow/write.h"
#include "testhelp.h"

typedef struct scen {
    char dir[1024];
    json_t *m;
    long long v[32];
    int nv;
} scen;

static bool file_exists(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (f != NULL)
        fclose(f);
    return f != NULL;
}

/* "<dir>/<kind>-<a>[-<b>]" (b < 0: no second version) */
static void path_of(char *out, size_t cap, const scen *sc, const char *kind,
                    long long a, long long b)
{
    if (b < 0)
        snprintf(out, cap, "%s/%s-%lld", sc->dir, kind, a);
    else
        snprintf(out, cap, "%s/%s-%lld-%lld", sc->dir, kind, a, b);
}

/* the state of version k as Java's consumer sees it: snapshot-k or the
 * chain from the previous state */
static hollow_read_state *state_of(const scen *sc, int k, hollow_read_state *prev)
{
    char p[1400];
    path_of(p, sizeof p, sc, "snapshot", sc->v[k], -1);
    hollow_read_state *rs = NULL;
    if (file_exists(p)) {
        HT_OK(hollow_read_state_open(&rs, p, NULL));
        return rs;
    }
    ck_assert_ptr_nonnull(prev);
    path_of(p, sizeof p, sc, "delta", sc->v[k - 1], sc->v[k]);
    HT_OK(hollow_read_state_apply_delta_file(&rs, prev, p));
    return rs;
}

static hollow_schema_list *schemas_of(const hollow_read_state *rs)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_list_new(&l));
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++) {
        hollow_schema *c = NULL;
        HT_OK(hollow_schema_clone(&c, hollow_type_schema(hollow_read_state_type_at(rs, i))));
        HT_OK(hollow_schema_list_add(l, c));
    }
    return l;
}

static bool same_schemas(const hollow_read_state *a, const hollow_read_state *b)
{
    if (hollow_read_state_type_count(a) != hollow_read_state_type_count(b))
        return false;
    for (size_t i = 0; i < hollow_read_state_type_count(a); i++) {
        const hollow_type *t = hollow_read_state_type_at(a, i);
        const hollow_type *u = hollow_read_state_type(b, hollow_type_name(t));
        if (u == NULL || !hollow_schema_equal(hollow_type_schema(t), hollow_type_schema(u)))
            return false;
    }
    return true;
}

static void set_tags(hollow_write_state *ws, const hollow_read_state *from,
                     const hollow_read_state *old)
{
    /* the producer re-puts its tags each cycle and drops those not set */
    if (old != NULL)
        for (size_t i = 0; i < hollow_read_state_header_tag_count(old); i++) {
            const char *k, *v;
            hollow_read_state_header_tag_at(old, i, &k, &v);
            if (hollow_read_state_header_tag(from, k) == NULL)
                HT_OK(hollow_write_state_remove_header_tag(ws, k));
        }
    for (size_t i = 0; i < hollow_read_state_header_tag_count(from); i++) {
        const char *k, *v;
        hollow_read_state_header_tag_at(from, i, &k, &v);
        HT_OK(hollow_write_state_set_header_tag(ws, k, v));
    }
}

/*
 * Add the records of `rs` type by type, in ordinal order. In the first
 * cycle of a restored producer (`prev` set) new records take the restored
 * state's holes highest first (§10.6), so Java added them in the other
 * order: records at ordinals `prev` held first, then those in its holes
 * from the top down, then the ones above its last ordinal.
 */
static void add_one(hollow_write_state *ws, hollow_record *r,
                    const hollow_type *t, hollow_ordinal o, const char *what)
{
    ht_copy_record(r, t, o);
    hollow_ordinal got;
    HT_OK(hollow_write_state_add(&got, ws, r));
    ck_assert_msg(got == o, "%s %s: ordinal %d, Java gave %d", what,
                  hollow_type_name(t), (int)got, (int)o);
}

static void add_all(hollow_write_state *ws, const hollow_read_state *rs,
                    const hollow_read_state *prev, const char *what)
{
    const hollow_schema_list *order = hollow_write_state_schemas(ws);
    for (size_t i = 0; i < hollow_schema_list_count(order); i++) {
        const char *name = hollow_schema_name(hollow_schema_list_get(order, i));
        const hollow_type *t = hollow_read_state_type(rs, name);
        if (t == NULL)
            continue;
        hollow_record *r = NULL;
        HT_OK(hollow_record_new(&r, ws, name));
        const hollow_type *pt = prev ? hollow_read_state_type(prev, name) : NULL;
        if (pt == NULL) {
            for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0;
                 o = hollow_type_next_ordinal(t, o + 1))
                add_one(ws, r, t, o, what);
        } else {
            hollow_ordinal top = -1, max = hollow_type_max_ordinal(t);
            for (hollow_ordinal o = hollow_type_next_ordinal(pt, 0); o >= 0;
                 o = hollow_type_next_ordinal(pt, o + 1))
                top = o;
            for (hollow_ordinal o = 0; o <= max; o++)
                if (hollow_type_is_populated(t, o) && hollow_type_is_populated(pt, o))
                    add_one(ws, r, t, o, what);
            for (hollow_ordinal o = top; o >= 0; o--)
                if (hollow_type_is_populated(t, o) && !hollow_type_is_populated(pt, o))
                    add_one(ws, r, t, o, what);
            for (hollow_ordinal o = top + 1; o <= max; o++)
                if (hollow_type_is_populated(t, o))
                    add_one(ws, r, t, o, what);
        }
        hollow_record_free(r);
    }
}

/* compare a blob we wrote with Java's: bytes, or else dump and checksum */
static bool compare_blob(const scen *sc, const ht_mem *ours, const char *java_path,
                         const hollow_read_state *base, bool need_bytes,
                         const char *what)
{
    size_t jlen;
    uint8_t *java = ht_read_file(java_path, &jlen);
    bool same = jlen == ours->len && memcmp(java, ours->p, jlen) == 0;
    if (!same) {
        size_t i = 0;
        while (i < jlen && i < ours->len && java[i] == ours->p[i])
            i++;
        fprintf(stderr, "%s: %s differs from Java's at byte %zu (%zu vs %zu "
                "bytes)\n", sc->dir, what, i, ours->len, jlen);
        ck_assert_msg(!need_bytes, "%s: %s must be byte-identical", sc->dir, what);
        /* then the states they lead to must agree */
        hollow_read_state *a = NULL, *b = NULL;
        if (base == NULL) {
            HT_OK(hollow_read_state_from_snapshot(&a, ours->p, ours->len, NULL));
            HT_OK(hollow_read_state_from_snapshot(&b, java, jlen, NULL));
        } else {
            HT_OK(hollow_read_state_apply_delta(&a, base, ours->p, ours->len));
            HT_OK(hollow_read_state_apply_delta(&b, base, java, jlen));
        }
        ht_mem da = {0}, db = {0};
        HT_OK(hollow_dump_canonical(a, ht_mem_text_sink, &da));
        HT_OK(hollow_dump_canonical(b, ht_mem_text_sink, &db));
        ck_assert_msg(da.len == db.len && memcmp(da.p, db.p, da.len) == 0,
                      "%s: %s leads to another dump than Java's", sc->dir, what);
        uint32_t ca, cb;
        HT_OK(hollow_read_state_checksum(&ca, a));
        HT_OK(hollow_read_state_checksum(&cb, b));
        ck_assert_uint_eq(ca, cb);
        free(da.p);
        free(db.p);
        hollow_read_state_release(a);
        hollow_read_state_release(b);
    }
    free(java);
    return same;
}

static const char *SCENARIOS[] = HT_GOLDEN_SCENARIOS;

START_TEST(write_cycles_match_java)
{
    scen sc;
    const char *name = SCENARIOS[_i];
    bool exact = _i <= 4; /* a_primitives .. d2_resharding */
    snprintf(sc.dir, sizeof sc.dir, "%s/%s", HOLLOW_GOLDEN_DIR, name);
    char p[1400];
    snprintf(p, sizeof p, "%s/manifest.json", sc.dir);
    json_error_t err;
    sc.m = json_load_file(p, 0, &err);
    ck_assert_ptr_nonnull(sc.m);
    json_t *vs = json_object_get(sc.m, "versions");
    sc.nv = (int)json_array_size(vs);
    for (int i = 0; i < sc.nv; i++)
        sc.v[i] = json_integer_value(json_array_get(vs, (size_t)i));
    hollow_write_options opts = HOLLOW_WRITE_OPTIONS_INIT;
    opts.target_shard_size =
        (uint64_t)json_integer_value(json_object_get(sc.m, "targetMaxTypeShardSize"));
    opts.resharding = json_is_true(json_object_get(sc.m, "typeResharding"));

    hollow_read_state *cur = state_of(&sc, 0, NULL);
    hollow_schema_list *l = schemas_of(cur);
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, &opts));
    hollow_schema_list_free(l);
    hollow_write_state_set_randomized_tag(ws, hollow_read_state_randomized_tag(cur));
    set_tags(ws, cur, NULL);
    add_all(ws, cur, NULL, name);
    ht_mem out = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out));
    path_of(p, sizeof p, &sc, "snapshot", sc.v[0], -1);
    int identical = compare_blob(&sc, &out, p, NULL, exact, "snapshot 1");
    int blobs = 1;
    for (int k = 1; k < sc.nv; k++) {
        hollow_read_state *next = state_of(&sc, k, cur);
        char what[64];
        bool restored = !same_schemas(cur, next);
        if (restored) {
            /* a producer restored with the new data model (§10.6) */
            hollow_write_state_free(ws);
            l = schemas_of(next);
            HT_OK(hollow_write_state_new(&ws, l, &opts));
            hollow_schema_list_free(l);
            HT_OK(hollow_write_state_restore(ws, cur));
        } else {
            HT_OK(hollow_write_state_prepare_cycle(ws));
        }
        hollow_write_state_set_randomized_tag(ws, hollow_read_state_randomized_tag(next));
        set_tags(ws, next, cur);
        snprintf(what, sizeof what, "version %d", k + 1);
        add_all(ws, next, restored ? cur : NULL, what);
        ck_assert(hollow_write_state_has_changes(ws));
        uint32_t wck, rck;
        HT_OK(hollow_write_state_checksum(&wck, ws));
        HT_OK(hollow_read_state_checksum(&rck, next));
        if (exact)
            ck_assert_uint_eq(wck, rck);
        out.len = 0;
        HT_OK(hollow_write_state_write_delta(ws, ht_mem_sink, &out));
        path_of(p, sizeof p, &sc, "delta", sc.v[k - 1], sc.v[k]);
        snprintf(what, sizeof what, "delta %d-%d", k, k + 1);
        identical += compare_blob(&sc, &out, p, cur, exact, what);
        out.len = 0;
        HT_OK(hollow_write_state_write_reverse_delta(ws, ht_mem_sink, &out));
        path_of(p, sizeof p, &sc, "reversedelta", sc.v[k], sc.v[k - 1]);
        snprintf(what, sizeof what, "reverse delta %d-%d", k + 1, k);
        identical += compare_blob(&sc, &out, p, next, exact, what);
        blobs += 2;
        out.len = 0;
        HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out));
        path_of(p, sizeof p, &sc, "snapshot", sc.v[k], -1);
        if (file_exists(p)) {
            snprintf(what, sizeof what, "snapshot %d", k + 1);
            identical += compare_blob(&sc, &out, p, NULL, exact, what);
            blobs++;
        }
        hollow_read_state_release(cur);
        cur = next;
    }
    fprintf(stderr, "%s: %d of %d blobs byte-identical to Java's\n", name,
            identical, blobs);
    free(out.p);
    hollow_write_state_free(ws);
    hollow_read_state_release(cur);
    json_decref(sc.m);
}
END_TEST

static Suite *cycles_suite(void)
{
    Suite *s = suite_create("write_cycles");
    TCase *tc = tcase_create("golden");
    tcase_add_loop_test(tc, write_cycles_match_java, 0,
                        (int)(sizeof SCENARIOS / sizeof *SCENARIOS));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(cycles_suite()); }
