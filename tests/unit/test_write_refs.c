/*
 * hollow_write_state_add() refuses references to records not added in the
 * current cycle (write.h; issue 12 item 6): REFERENCE fields, LIST/SET
 * elements, MAP keys and values; ordinals of the previous state that were
 * not added again, ordinals of a restored state, and through the producer
 * (the cycle fails and nothing is published).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "testhelp.h"

static const char schema_text[] =
    "Str { string value; }\n"
    "Movie { int id; Str title; }\n"
    "ListOfStr List<Str>;\n"
    "SetOfStr Set<Str>;\n"
    "MapOfStr Map<Str, Movie>;\n";

static hollow_schema_list *schemas(void)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, schema_text, strlen(schema_text)));
    return l;
}

static hollow_write_state *ws_new(void)
{
    hollow_schema_list *l = schemas();
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    hollow_schema_list_free(l);
    return ws;
}

static int add_str(hollow_ordinal *o, hollow_write_state *ws, const char *s)
{
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "Str"));
    HT_OK(hollow_record_set_string(r, 0, s, strlen(s)));
    int rc = hollow_write_state_add(o, ws, r);
    hollow_record_free(r);
    return rc;
}

static int add_movie(hollow_ordinal *o, hollow_write_state *ws, int id,
                     hollow_ordinal title)
{
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "Movie"));
    HT_OK(hollow_record_set_int(r, 0, id));
    HT_OK(hollow_record_set_ref(r, 1, title));
    int rc = hollow_write_state_add(o, ws, r);
    hollow_record_free(r);
    return rc;
}

/* the add failed with HOLLOW_EINVAL naming the dangling ordinal */
static void expect_dangling(int rc, const hollow_ordinal *o, const char *what)
{
    ck_assert_int_eq(rc, HOLLOW_EINVAL);
    ck_assert_int_eq(*o, HOLLOW_ORDINAL_NONE);
    const char *m = hollow_error_last()->message;
    ck_assert_msg(strstr(m, what) != NULL &&
                      strstr(m, "not added in this cycle") != NULL,
                  "message: %s", m);
}

static int sink_count(void *payload, const void *data, size_t len)
{
    (void)data;
    *(size_t *)payload += len;
    return 0;
}

START_TEST(write_refs_object_field)
{
    hollow_write_state *ws = ws_new();
    hollow_ordinal s, m = 0;
    /* nothing added yet: ordinal 0 of Str does not exist */
    expect_dangling(add_movie(&m, ws, 1, 0), &m, "Movie field title references "
                    "Str ordinal 0");
    HT_OK(add_str(&s, ws, "Up"));
    expect_dangling(add_movie(&m, ws, 1, s + 1), &m, "Str ordinal 1");
    HT_OK(add_movie(&m, ws, 1, s));
    ck_assert_int_eq(m, 0);
    /* a null reference references nothing */
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "Movie"));
    HT_OK(hollow_record_set_int(r, 0, 2));
    HT_OK(hollow_write_state_add(&m, ws, r));
    ck_assert_int_eq(m, 1);
    hollow_record_free(r);
    /* the refused adds left nothing behind: the snapshot holds two movies */
    size_t n = 0;
    HT_OK(hollow_write_state_write_snapshot(ws, sink_count, &n));
    ck_assert_uint_gt(n, 0);
    hollow_write_state_free(ws);
}
END_TEST

START_TEST(write_refs_collections)
{
    hollow_write_state *ws = ws_new();
    hollow_ordinal a, b, m, o = 0;
    HT_OK(add_str(&a, ws, "a"));
    HT_OK(add_str(&b, ws, "b"));
    HT_OK(add_movie(&m, ws, 1, a));
    const char *kinds[] = {"ListOfStr", "SetOfStr"};
    for (int k = 0; k < 2; k++) {
        hollow_record *r = NULL;
        HT_OK(hollow_record_new(&r, ws, kinds[k]));
        HT_OK(hollow_record_add_element(r, a));
        HT_OK(hollow_record_add_element(r, 7));
        HT_OK(hollow_record_add_element(r, b));
        o = 0;
        expect_dangling(hollow_write_state_add(&o, ws, r), &o,
                        "element references Str ordinal 7");
        hollow_record_reset(r);
        HT_OK(hollow_record_add_element(r, b));
        HT_OK(hollow_record_add_element(r, a));
        HT_OK(hollow_write_state_add(&o, ws, r));
        ck_assert_int_eq(o, 0);
        hollow_record_free(r);
    }
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, ws, "MapOfStr"));
    HT_OK(hollow_record_put_entry(r, a, m));
    HT_OK(hollow_record_put_entry(r, 9, m));
    o = 0;
    expect_dangling(hollow_write_state_add(&o, ws, r), &o,
                    "key references Str ordinal 9");
    hollow_record_reset(r);
    HT_OK(hollow_record_put_entry(r, a, m));
    HT_OK(hollow_record_put_entry(r, b, m + 3));
    o = 0;
    expect_dangling(hollow_write_state_add(&o, ws, r), &o,
                    "value references Movie ordinal 3");
    hollow_record_reset(r);
    HT_OK(hollow_record_put_entry(r, b, m));
    HT_OK(hollow_write_state_add(&o, ws, r));
    hollow_record_free(r);
    hollow_write_state_free(ws);
}
END_TEST

/* an ordinal of the previous state counts only once added again */
START_TEST(write_refs_previous_cycle)
{
    hollow_write_state *ws = ws_new();
    hollow_ordinal a, b, m;
    HT_OK(add_str(&a, ws, "a"));
    HT_OK(add_str(&b, ws, "b"));
    HT_OK(add_movie(&m, ws, 1, b));
    size_t n = 0;
    HT_OK(hollow_write_state_write_snapshot(ws, sink_count, &n));
    HT_OK(hollow_write_state_prepare_cycle(ws));
    /* cycle 2: "b" not added (yet): its ordinal is the previous state's */
    m = 0;
    expect_dangling(add_movie(&m, ws, 1, b), &m, "Str ordinal 1");
    hollow_ordinal b2;
    HT_OK(add_str(&b2, ws, "b"));
    ck_assert_int_eq(b2, b);
    HT_OK(add_movie(&m, ws, 1, b));
    n = 0;
    HT_OK(hollow_write_state_write_delta(ws, sink_count, &n));
    HT_OK(hollow_write_state_prepare_cycle(ws));
    /* cycle 3: "a" left in cycle 2, so ordinal 0 is free for reuse; a
     * reference to it is dangling until a record takes it again */
    m = 0;
    expect_dangling(add_movie(&m, ws, 2, a), &m, "Str ordinal 0");
    hollow_ordinal c;
    HT_OK(add_str(&c, ws, "c"));
    ck_assert_int_eq(c, a); /* reused */
    HT_OK(add_movie(&m, ws, 2, c));
    /* rolled back, the cycle's records are gone again */
    HT_OK(hollow_write_state_rollback(ws));
    m = 0;
    expect_dangling(add_movie(&m, ws, 2, c), &m, "Str ordinal 0");
    hollow_write_state_free(ws);
}
END_TEST

/* after a restore, the restored records are the previous state */
START_TEST(write_refs_restored)
{
    hollow_write_state *ws = ws_new();
    hollow_ordinal a, m;
    HT_OK(add_str(&a, ws, "a"));
    HT_OK(add_movie(&m, ws, 1, a));
    ht_mem snap = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &snap));
    hollow_write_state_free(ws);

    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, snap.p, snap.len, NULL));
    ws = ws_new();
    HT_OK(hollow_write_state_restore(ws, rs));
    m = 0;
    expect_dangling(add_movie(&m, ws, 1, a), &m, "Str ordinal 0");
    hollow_ordinal a2;
    HT_OK(add_str(&a2, ws, "a"));
    ck_assert_int_eq(a2, a);
    HT_OK(add_movie(&m, ws, 1, a2));
    hollow_write_state_free(ws);

    /* copy_from fills the current state: its ordinals may be referenced */
    ws = ws_new();
    HT_OK(hollow_write_state_copy_from(ws, rs));
    HT_OK(add_movie(&m, ws, 5, a));
    hollow_write_state_free(ws);
    hollow_read_state_release(rs);
    free(snap.p);
}
END_TEST

/* ------------------------------------------------------------ producer */

typedef struct prod_pop {
    hollow_ordinal title;  /* what the movie references; -1: add "Up" first */
    int add_rc;            /* what the movie's add returned */
} prod_pop;

static int populate(hollow_write_state *ws, void *payload)
{
    prod_pop *pp = payload;
    hollow_ordinal s = pp->title, m;
    if (s < 0) {
        int rc = add_str(&s, ws, "Up");
        if (rc < 0)
            return rc;
    }
    pp->add_rc = add_movie(&m, ws, 1, s);
    return pp->add_rc < 0 ? pp->add_rc : 0;
}

static int count_blob(const hollow_blob_key *key, void *payload)
{
    (void)key;
    (*(int *)payload)++;
    return 0;
}

static int blob_count(hollow_blobstore *bs)
{
    int n = 0;
    HT_OK(hollow_blobstore_list(bs, count_blob, &n));
    return n;
}

START_TEST(write_refs_producer_cycle_fails)
{
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_memory_new(&bs, NULL));
    hollow_announcer *an = NULL;
    HT_OK(hollow_announcer_inproc_new(&an, NULL));
    hollow_schema_list *l = schemas();
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = l;
    hollow_producer *p = NULL;
    HT_OK(hollow_producer_new(&p, &po));

    /* first cycle: a movie whose title was never added */
    prod_pop pp = {3, 0};
    int64_t v = -1;
    ck_assert_int_eq(hollow_producer_run_cycle(&v, p, populate, &pp),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(pp.add_rc, HOLLOW_EINVAL);
    ck_assert_int_eq(blob_count(bs), 0);
    ck_assert_int_eq(hollow_producer_version(p), 0);
    int64_t latest;
    ck_assert_int_eq(hollow_announcer_latest(&latest, an), HOLLOW_ENOTFOUND);

    /* a good cycle, then one referencing the previous state's ordinal 0
     * without adding it: refused, nothing more published */
    pp.title = -1;
    HT_OK(hollow_producer_run_cycle(&v, p, populate, &pp));
    ck_assert_int_gt(v, 0);
    int blobs = blob_count(bs);
    ck_assert_int_gt(blobs, 0);
    pp.title = 0;
    int64_t v2 = -1;
    ck_assert_int_eq(hollow_producer_run_cycle(&v2, p, populate, &pp),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(blob_count(bs), blobs);
    ck_assert_int_eq(hollow_producer_version(p), v);
    HT_OK(hollow_announcer_latest(&latest, an));
    ck_assert_int_eq(latest, v);

    /* the published state's deep dump works (no dangling reference) */
    hollow_read_state *rs = hollow_producer_acquire_state(p);
    ck_assert_ptr_nonnull(rs);
    ht_mem out = {0};
    HT_OK(hollow_dump_deep(rs, "Movie", ht_mem_text_sink, &out));
    ck_assert_uint_gt(out.len, 0);
    free(out.p);
    hollow_read_state_release(rs);

    hollow_producer_free(p);
    hollow_schema_list_free(l);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
}
END_TEST


/* bytes of a snapshot of ws with a fixed randomized tag */
static ht_mem snapshot_of(hollow_write_state *ws)
{
    ht_mem m = {0};
    hollow_write_state_set_randomized_tag(ws, 0x1234567887654321);
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &m));
    return m;
}

/* Str records s0..s(n-1), then sets, maps and movies over them (with
 * repeats), added one at a time or in batches: the same ordinals, the
 * same snapshot, including when a batch repeats one record object */
START_TEST(write_refs_batch_same_as_single)
{
    enum { N = 300 };
    hollow_write_state *one = ws_new(), *many = ws_new();
    hollow_record *r[N];
    hollow_ordinal a[N], b[N], strs[N];
    char text[32];
    for (int i = 0; i < N; i++) {
        HT_OK(hollow_record_new(&r[i], many, "Str"));
        snprintf(text, sizeof text, "s%d", i % 250); /* 50 repeats */
        HT_OK(hollow_record_set_string(r[i], 0, text, strlen(text)));
        HT_OK(add_str(&a[i], one, text));
    }
    HT_OK(hollow_write_state_add_batch(b, many, r, N));
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(a[i], b[i]);
        strs[i] = b[i];
        hollow_record_free(r[i]);
    }
    /* movies before the maps that reference them */
    const char *types[] = {"SetOfStr", "Movie", "MapOfStr", "ListOfStr"};
    hollow_ordinal movies[N];
    for (size_t t = 0; t < 4; t++) {
        for (int i = 0; i < N; i++) {
            HT_OK(hollow_record_new(&r[i], many, types[t]));
            int k = i % 97; /* repeats across the batch */
            if (t == 0 || t == 3) {
                for (int e = 0; e < k % 7; e++)
                    HT_OK(hollow_record_add_element(r[i], strs[(k * 31 + e * 7) % N]));
            } else if (t == 2) {
                for (int e = 0; e < k % 5; e++)
                    HT_OK(hollow_record_put_entry(r[i], strs[(k + e * 13) % N],
                                                  movies[(k * 3 + e) % N]));
            } else {
                HT_OK(hollow_record_set_int(r[i], 0, k));
                HT_OK(hollow_record_set_ref(r[i], 1, strs[k]));
            }
            /* the same record through single adds into `one` */
            hollow_record *same = NULL;
            HT_OK(hollow_record_new(&same, one, types[t]));
            if (t == 0 || t == 3) {
                for (int e = 0; e < k % 7; e++)
                    HT_OK(hollow_record_add_element(same, strs[(k * 31 + e * 7) % N]));
            } else if (t == 2) {
                for (int e = 0; e < k % 5; e++)
                    HT_OK(hollow_record_put_entry(same, strs[(k + e * 13) % N],
                                                  movies[(k * 3 + e) % N]));
            } else {
                HT_OK(hollow_record_set_int(same, 0, k));
                HT_OK(hollow_record_set_ref(same, 1, strs[k]));
            }
            HT_OK(hollow_write_state_add(&a[i], one, same));
            hollow_record_free(same);
        }
        HT_OK(hollow_write_state_add_batch(b, many, r, N));
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(a[i], b[i]);
            if (t == 1)
                movies[i] = b[i];
            hollow_record_free(r[i]);
        }
    }
    /* one record object twice in a batch, and an empty batch */
    hollow_record *x = NULL;
    HT_OK(hollow_record_new(&x, many, "Str"));
    HT_OK(hollow_record_set_string(x, 0, "twice", 5));
    hollow_record *pair[2] = {x, x};
    HT_OK(hollow_write_state_add_batch(b, many, pair, 2));
    ck_assert_int_eq(b[0], b[1]);
    HT_OK(add_str(&a[0], one, "twice"));
    ck_assert_int_eq(a[0], b[0]);
    HT_OK(hollow_write_state_add_batch(b, many, NULL, 0));
    hollow_record_free(x);

    ht_mem sa = snapshot_of(one), sb = snapshot_of(many);
    ck_assert_uint_eq(sa.len, sb.len);
    ck_assert(memcmp(sa.p, sb.p, sa.len) == 0);
    free(sa.p);
    free(sb.p);
    hollow_write_state_free(one);
    hollow_write_state_free(many);
}
END_TEST

/* an error stops the batch at its record: those before are added, it and
 * those after are not */
START_TEST(write_refs_batch_stops_at_error)
{
    enum { N = 40, BAD = 23 };
    hollow_write_state *ws = ws_new(), *other = ws_new();
    hollow_ordinal s, out[N];
    HT_OK(add_str(&s, ws, "title"));
    hollow_record *r[N];
    for (int i = 0; i < N; i++) {
        HT_OK(hollow_record_new(&r[i], ws, "Movie"));
        HT_OK(hollow_record_set_int(r[i], 0, i));
        HT_OK(hollow_record_set_ref(r[i], 1, i == BAD ? 77 : s));
    }
    expect_dangling(hollow_write_state_add_batch(out, ws, r, N), &out[BAD],
                    "ordinal 77");
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(out[i], i < BAD ? i : HOLLOW_ORDINAL_NONE);
    /* the records after BAD were not added: re-adding one gets BAD's place */
    hollow_ordinal o;
    HT_OK(hollow_write_state_add(&o, ws, r[BAD + 5]));
    ck_assert_int_eq(o, BAD);

    /* a record made for another write state */
    hollow_record *foreign = NULL;
    HT_OK(hollow_record_new(&foreign, other, "Str"));
    hollow_record *mixed[3] = {r[0], foreign, r[1]};
    ck_assert_int_eq(hollow_write_state_add_batch(out, ws, mixed, 3),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(out[0], 0);
    ck_assert_int_eq(out[1], HOLLOW_ORDINAL_NONE);
    ck_assert_int_eq(hollow_write_state_add_batch(NULL, ws, mixed, 3),
                     HOLLOW_EINVAL);
    hollow_record_free(foreign);
    for (int i = 0; i < N; i++)
        hollow_record_free(r[i]);
    hollow_write_state_free(ws);
    hollow_write_state_free(other);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("write_refs");
    TCase *tc = tcase_create("write_refs");
    tcase_add_test(tc, write_refs_object_field);
    tcase_add_test(tc, write_refs_collections);
    tcase_add_test(tc, write_refs_previous_cycle);
    tcase_add_test(tc, write_refs_restored);
    tcase_add_test(tc, write_refs_producer_cycle_fails);
    tcase_add_test(tc, write_refs_batch_same_as_single);
    tcase_add_test(tc, write_refs_batch_stops_at_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(suite());
}
