/*
 * Writing types in parallel (issue 17 item 5): the same cycles written with
 * 1 to 8 threads give the same bytes, snapshot, delta and reverse delta of
 * every cycle, over every kind of type (SET/MAP hashed by a field, by a
 * field two hops away, by ordinal), several shards and a resharding; and
 * shards split over the threads in chunks. Run under ThreadSanitizer too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "testhelp.h"

#define CYCLES 4
#define PEOPLE 1500

static const char schema_text[] =
    "Name { string value; }\n"
    "Person { int id; Name name; long score; boolean flag; double d; "
    "float f; bytes blob; string note; }\n"
    "ListOfPerson List<Person>;\n"
    "SetOfPerson Set<Person> @HashKey(id);\n"
    "SetByName Set<Person> @HashKey(name.value);\n"
    "SetOfName Set<Name>;\n"
    "MapNameToPerson Map<Name,Person> @HashKey(value);\n"
    "Group { ListOfPerson members; SetOfPerson set; SetByName byname; "
    "SetOfName names; MapNameToPerson map; }\n";

/* every blob of every cycle, concatenated */
typedef struct run_out {
    ht_mem blobs[CYCLES][3];
    uint32_t checksum[CYCLES];
} run_out;

static hollow_ordinal add_person(hollow_ordinal *name, hollow_write_state *ws,
                                 hollow_record *n, hollow_record *p,
                                 uint64_t *rng, int id)
{
    char buf[48];
    hollow_ordinal no, po;
    int len = snprintf(buf, sizeof buf, "name-%d", (int)(ht_rand(rng) % 700));
    hollow_record_reset(n);
    HT_OK(hollow_record_set_string(n, 0, buf, (size_t)len));
    HT_OK(hollow_write_state_add(&no, ws, n));
    hollow_record_reset(p);
    HT_OK(hollow_record_set_int(p, 0, id));
    HT_OK(hollow_record_set_ref(p, 1, no));
    HT_OK(hollow_record_set_long(p, 2, (int64_t)(ht_rand(rng) % 100000) - 5000));
    if (id % 5 != 0)
        HT_OK(hollow_record_set_bool(p, 3, id % 2 == 0));
    HT_OK(hollow_record_set_double(p, 4, (double)id / 7.0));
    HT_OK(hollow_record_set_float(p, 5, (float)id));
    uint8_t blob[9] = {1, 2, 3, 4, 5, 6, 7, 8, (uint8_t)id};
    HT_OK(hollow_record_set_bytes(p, 6, blob, (size_t)(id % 9)));
    if (id % 3 != 0)
        HT_OK(hollow_record_set_string(p, 7, buf, (size_t)len));
    HT_OK(hollow_write_state_add(&po, ws, p));
    *name = no;
    return po;
}

/* one cycle's state: a random subset of the people (the rest removed),
 * some changed, and groups of them */
static void populate(hollow_write_state *ws, uint64_t *rng, int cycle)
{
    hollow_record *n = NULL, *p = NULL, *l = NULL, *s = NULL, *sb = NULL,
                  *sn = NULL, *m = NULL, *g = NULL;
    HT_OK(hollow_record_new(&n, ws, "Name"));
    HT_OK(hollow_record_new(&p, ws, "Person"));
    HT_OK(hollow_record_new(&l, ws, "ListOfPerson"));
    HT_OK(hollow_record_new(&s, ws, "SetOfPerson"));
    HT_OK(hollow_record_new(&sb, ws, "SetByName"));
    HT_OK(hollow_record_new(&sn, ws, "SetOfName"));
    HT_OK(hollow_record_new(&m, ws, "MapNameToPerson"));
    HT_OK(hollow_record_new(&g, ws, "Group"));
    /* more people in later cycles: shard counts grow */
    int people = PEOPLE * (cycle + 1);
    hollow_ordinal *ords = malloc(sizeof *ords * (size_t)people);
    hollow_ordinal *names = malloc(sizeof *names * (size_t)people);
    ck_assert_ptr_nonnull(ords);
    ck_assert_ptr_nonnull(names);
    int count = 0;
    for (int i = 0; i < people; i++) {
        if (ht_rand(rng) % 4 == 0)
            continue; /* not in this cycle */
        int id = ht_rand(rng) % 10 == 0 ? i + 100000 * cycle : i;
        ords[count] = add_person(&names[count], ws, n, p, rng, id);
        count++;
    }
    for (int gi = 0; gi < count / 10; gi++) {
        hollow_record_reset(l);
        hollow_record_reset(s);
        hollow_record_reset(sb);
        hollow_record_reset(sn);
        hollow_record_reset(m);
        int size = (int)(ht_rand(rng) % 12);
        for (int k = 0; k < size; k++) {
            hollow_ordinal e = ords[ht_rand(rng) % (uint64_t)count];
            HT_OK(hollow_record_add_element(l, e));
            HT_OK(hollow_record_add_element(s, e));
            HT_OK(hollow_record_add_element(sb, e));
            hollow_ordinal nm = names[ht_rand(rng) % (uint64_t)count];
            HT_OK(hollow_record_add_element(sn, nm));
            HT_OK(hollow_record_put_entry(m, nm, e));
        }
        hollow_ordinal o[5], go;
        HT_OK(hollow_write_state_add(&o[0], ws, l));
        HT_OK(hollow_write_state_add(&o[1], ws, s));
        HT_OK(hollow_write_state_add(&o[2], ws, sb));
        HT_OK(hollow_write_state_add(&o[3], ws, sn));
        HT_OK(hollow_write_state_add(&o[4], ws, m));
        hollow_record_reset(g);
        for (size_t f = 0; f < 5; f++)
            HT_OK(hollow_record_set_ref(g, f, o[f]));
        HT_OK(hollow_write_state_add(&go, ws, g));
    }
    free(ords);
    free(names);
    hollow_record_free(n);
    hollow_record_free(p);
    hollow_record_free(l);
    hollow_record_free(s);
    hollow_record_free(sb);
    hollow_record_free(sn);
    hollow_record_free(m);
    hollow_record_free(g);
}

static void run(run_out *out, unsigned threads)
{
    hollow_schema_list *sl = NULL;
    HT_OK(hollow_schema_parse(&sl, schema_text, strlen(schema_text)));
    hollow_write_options o = HOLLOW_WRITE_OPTIONS_INIT;
    o.threads = threads;
    o.target_shard_size = 4096; /* several shards, growing with the data */
    o.resharding = true;
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, sl, &o));
    uint64_t rng = 12345;
    memset(out, 0, sizeof *out);
    for (int c = 0; c < CYCLES; c++) {
        if (c > 0)
            HT_OK(hollow_write_state_prepare_cycle(ws));
        hollow_write_state_set_randomized_tag(ws, 1000 + c);
        populate(ws, &rng, c);
        if (c > 0) {
            HT_OK(hollow_write_state_write_delta(ws, ht_mem_sink, &out->blobs[c][1]));
            HT_OK(hollow_write_state_write_reverse_delta(ws, ht_mem_sink,
                                                        &out->blobs[c][2]));
        }
        HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out->blobs[c][0]));
        HT_OK(hollow_write_state_checksum(&out->checksum[c], ws));
    }
    hollow_write_state_free(ws);
    hollow_schema_list_free(sl);
}

static void run_free(run_out *r)
{
    for (int c = 0; c < CYCLES; c++)
        for (int k = 0; k < 3; k++)
            free(r->blobs[c][k].p);
}

START_TEST(write_threads_same_bytes)
{
    static run_out one, many;
    run(&one, 1);
    /* the serial blobs are sound: the last snapshot reads back to the
     * write state's checksum, and it has more than one shard */
    hollow_read_state *rs = NULL;
    ht_mem *last = &one.blobs[CYCLES - 1][0];
    HT_OK(hollow_read_state_from_snapshot(&rs, last->p, last->len, NULL));
    uint32_t got;
    HT_OK(hollow_read_state_checksum(&got, rs));
    ck_assert_uint_eq(got, one.checksum[CYCLES - 1]);
    ck_assert_uint_gt(hollow_type_shard_count(hollow_read_state_type(rs, "Person")), 1);
    hollow_read_state_release(rs);
    for (unsigned threads = 2; threads <= 8; threads++) {
        run(&many, threads);
        for (int c = 0; c < CYCLES; c++) {
            ck_assert_uint_eq(many.checksum[c], one.checksum[c]);
            for (int k = 0; k < 3; k++) {
                ht_mem *a = &one.blobs[c][k], *b = &many.blobs[c][k];
                ck_assert_msg(a->len == b->len &&
                                  (a->len == 0 || memcmp(a->p, b->p, a->len) == 0),
                              "threads %u, cycle %d, blob %d: %zu bytes, not the "
                              "%zu of one thread", threads, c, k, b->len, a->len);
            }
        }
        run_free(&many);
    }
    run_free(&one);
}
END_TEST

/*
 * Shards big enough to be split into chunks of slots on several threads:
 * chunks whose elements share words, null and empty var-length values,
 * every field kind, empty collections, holes in the populated ordinals (a
 * retained set larger than the state) and a type with no record.
 */
#define SPLIT_ITEMS 17000 /* 2 shards of Item, each above 2 chunks' worth */

static const char split_schema[] =
    "Tag { string v; }\n"
    "Item { int id; string s; bytes b; long big; float f; double d; "
    "boolean flag; Tag tag; string never; }\n"
    "ItemList List<Item>;\n"
    "ItemSet Set<Item> @HashKey(id);\n"
    "TagSet Set<Tag>;\n"
    "TagMap Map<Tag,Item> @HashKey(v);\n"
    "Unused { int x; string y; }\n"
    "UnusedSet Set<Unused> @HashKey(x);\n";

static void split_populate(hollow_write_state *ws, uint64_t *rng, int cycle)
{
    hollow_record *tg = NULL, *it = NULL, *l = NULL, *s = NULL, *ts = NULL,
                  *m = NULL;
    HT_OK(hollow_record_new(&tg, ws, "Tag"));
    HT_OK(hollow_record_new(&it, ws, "Item"));
    HT_OK(hollow_record_new(&l, ws, "ItemList"));
    HT_OK(hollow_record_new(&s, ws, "ItemSet"));
    HT_OK(hollow_record_new(&ts, ws, "TagSet"));
    HT_OK(hollow_record_new(&m, ws, "TagMap"));
    static hollow_ordinal items[SPLIT_ITEMS], tags[SPLIT_ITEMS];
    char buf[32];
    for (int i = 0; i < SPLIT_ITEMS; i++) {
        /* a tenth of the items change from one cycle to the next */
        int id = ht_rand(rng) % 10 == 0 ? i + 1000000 * cycle : i;
        int len = snprintf(buf, sizeof buf, "t%d", id % 3000);
        hollow_record_reset(tg);
        HT_OK(hollow_record_set_string(tg, 0, buf, (size_t)len));
        HT_OK(hollow_write_state_add(&tags[i], ws, tg));
        hollow_record_reset(it);
        HT_OK(hollow_record_set_int(it, 0, id));
        if (id % 7 != 0) /* null otherwise */
            HT_OK(hollow_record_set_string(it, 1, buf,
                                           (size_t)(id % 5 == 0 ? 0 : len)));
        if (id % 3 != 0)
            HT_OK(hollow_record_set_bytes(it, 2, (const uint8_t *)buf,
                                          (size_t)(id % 4)));
        if (id % 11 != 0)
            HT_OK(hollow_record_set_long(
                it, 3, (int64_t)(ht_rand(rng) >> 1) - INT64_MAX / 2));
        if (id % 13 != 0)
            HT_OK(hollow_record_set_float(it, 4, (float)id / 3.0f));
        if (id % 17 != 0)
            HT_OK(hollow_record_set_double(it, 5, (double)id * 1.5));
        if (id % 2 == 0)
            HT_OK(hollow_record_set_bool(it, 6, id % 4 == 0));
        HT_OK(hollow_record_set_ref(it, 7, tags[i]));
        HT_OK(hollow_write_state_add(&items[i], ws, it));
    }
    for (int i = 0; i < SPLIT_ITEMS; i++) {
        hollow_record_reset(l);
        hollow_record_reset(s);
        hollow_record_reset(ts);
        hollow_record_reset(m);
        int size = (int)(ht_rand(rng) % 7); /* empty ones too */
        for (int k = 0; k < size; k++) {
            uint64_t at = ht_rand(rng) % SPLIT_ITEMS;
            HT_OK(hollow_record_add_element(l, items[at]));
            HT_OK(hollow_record_add_element(s, items[at]));
            HT_OK(hollow_record_add_element(ts, tags[at]));
            HT_OK(hollow_record_put_entry(m, tags[at], items[at]));
        }
        hollow_ordinal o;
        HT_OK(hollow_write_state_add(&o, ws, l));
        HT_OK(hollow_write_state_add(&o, ws, s));
        HT_OK(hollow_write_state_add(&o, ws, ts));
        HT_OK(hollow_write_state_add(&o, ws, m));
    }
    hollow_record_free(tg);
    hollow_record_free(it);
    hollow_record_free(l);
    hollow_record_free(s);
    hollow_record_free(ts);
    hollow_record_free(m);
}

/* snapshots of two cycles and the delta between them */
static void split_run(ht_mem out[3], uint32_t *checksum, unsigned threads)
{
    hollow_schema_list *sl = NULL;
    HT_OK(hollow_schema_parse(&sl, split_schema, strlen(split_schema)));
    hollow_write_options o = HOLLOW_WRITE_OPTIONS_INIT;
    o.threads = threads;
    o.target_shard_size = 1u << 19; /* Item in 2 shards */
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, sl, &o));
    uint64_t rng = 777;
    memset(out, 0, 3 * sizeof *out);
    for (int c = 0; c < 2; c++) {
        if (c > 0)
            HT_OK(hollow_write_state_prepare_cycle(ws));
        hollow_write_state_set_randomized_tag(ws, 50 + c);
        split_populate(ws, &rng, c);
        if (c > 0)
            HT_OK(hollow_write_state_write_delta(ws, ht_mem_sink, &out[2]));
        HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &out[c]));
    }
    HT_OK(hollow_write_state_checksum(checksum, ws));
    hollow_write_state_free(ws);
    hollow_schema_list_free(sl);
}

START_TEST(write_threads_split_shards)
{
    ht_mem one[3], many[3];
    uint32_t sum_one, sum_many;
    split_run(one, &sum_one, 1);
    /* the second snapshot (holes where items left) reads back to the
     * write state's checksum */
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, one[1].p, one[1].len, NULL));
    uint32_t got;
    HT_OK(hollow_read_state_checksum(&got, rs));
    ck_assert_uint_eq(got, sum_one);
    const hollow_type *item = hollow_read_state_type(rs, "Item");
    ck_assert_uint_eq(hollow_type_shard_count(item), 2);
    hollow_read_state_release(rs);
    /* as many chunks as threads, fewer */
    static const unsigned counts[] = {2, 8};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        unsigned threads = counts[i];
        split_run(many, &sum_many, threads);
        ck_assert_uint_eq(sum_many, sum_one);
        for (int k = 0; k < 3; k++) {
            ck_assert_msg(one[k].len == many[k].len &&
                              memcmp(one[k].p, many[k].p, one[k].len) == 0,
                          "threads %u, blob %d: %zu bytes, not the %zu of one "
                          "thread", threads, k, many[k].len, one[k].len);
            free(many[k].p);
        }
    }
    for (int k = 0; k < 3; k++)
        free(one[k].p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("write_threads");
    TCase *tc = tcase_create("write_threads");
    tcase_add_test(tc, write_threads_same_bytes);
    tcase_add_test(tc, write_threads_split_shards);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(suite());
}
