/*
 * The producer and the consumer on one thread (issue 7): the snapshot
 * cadence and the consumer's plans over it (deltas forwards, reverse
 * deltas backwards, a snapshot when no chain reaches or the chain is
 * longer than the double-snapshot limit), failed refreshes that keep the
 * published state and say why, a delta that does not fit falling back to
 * a snapshot, and restoring a producer in the cases that need no threads.
 * No announcer and no following here; test_producer_consumer_threads.c
 * has those. The data model and helpers are tests/helpers/movie_fixture.c.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hollow/hollow.h"
#include "hollow/sys/blobstore.h"
#include "movie_fixture.h"
#include "testhelp.h"

/* ====================================================== cadence, plans */

/* a store with versions 1..8, a snapshot every third (1, 4, 7) */
static hollow_blobstore *eight_versions(const hollow_schema_list *schemas,
                                        uint32_t between)
{
    hollow_blobstore *bs = mem_store();
    hollow_producer *p = producer_new(bs, NULL, schemas, between, true);
    for (int i = 0; i < 8; i++) {
        int64_t v = cycle_spec(p, (spec){i * 4, 60 + i * 3, i, i % 3, false});
        ck_assert_int_eq(v, i + 1);
    }
    hollow_producer_free(p);
    return bs;
}

/*
 * num_states_between_snapshots = 2: snapshots at versions 1, 4 and 7; a
 * header at every version, a delta and a reverse delta into and out of
 * every version but the first; nothing else. With 0 every version has a
 * snapshot, with 1 every other one.
 */
START_TEST(producer_snapshot_cadence_every_third_version)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = eight_versions(schemas, 2);
    /* the listing's order: by version, then snapshot, delta, reverse
     * delta, header */
    char want[4096] = "";
    size_t n = 0;
#define WANT(...) (n += (size_t)snprintf(want + n, sizeof want - n, __VA_ARGS__))
    for (int v = 1; v <= 8; v++) {
        if (v == 1 || v == 4 || v == 7)
            WANT("snapshot-%d ", v);
        if (v > 1)
            WANT("delta-%d-%d ", v - 1, v);
        if (v < 8) /* reversedelta-(v+1)-v leads to v */
            WANT("reversedelta-%d-%d ", v + 1, v);
        WANT("header-%d%s", v, v < 8 ? " " : "");
    }
#undef WANT
    char *got = store_listing(bs);
    ck_assert_str_eq(got, want);
    free(got);
    hollow_blobstore_free(bs);

    static const int every[2][8] = {{1, 1, 1, 1, 1, 1, 1, 1},
                                    {1, 0, 1, 0, 1, 0, 1, 0}};
    for (uint32_t between = 0; between < 2; between++) {
        bs = eight_versions(schemas, between);
        for (int v = 1; v <= 8; v++) {
            ck_assert_msg(has_blob(bs, hollow_blob_key_snapshot(v)) ==
                              (every[between][v - 1] != 0),
                          "between %u: snapshot-%d", between, v);
            ck_assert(has_blob(bs, hollow_blob_key_header(v)));
            ck_assert(v == 1 || has_blob(bs, hollow_blob_key_delta(v - 1, v)));
            ck_assert(v == 1 || has_blob(bs, hollow_blob_key_reverse_delta(v, v - 1)));
        }
        hollow_blobstore_free(bs);
    }
    hollow_schema_list_free(schemas);
}
END_TEST

static void refresh_expect(hollow_consumer *c, recorder *rec, int64_t to,
                           const char *plan)
{
    HT_OK(hollow_consumer_refresh(c, to));
    ck_assert_int_eq(hollow_consumer_version(c), to);
    expect_plan(rec, to, plan);
}

/* the dump of version `v` reached by walking deltas from snapshot-1 */
static char *dump_by_deltas(hollow_blobstore *bs, int64_t v)
{
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(c, 1));
    for (int64_t i = 2; i <= v; i++)
        HT_OK(hollow_consumer_refresh(c, i));
    char *d = dump_consumer(c);
    hollow_consumer_free(c);
    return d;
}

/*
 * The consumer's plans over that store: from nothing to 8, the nearest
 * snapshot and a delta; from 8 back to 3, five reverse deltas; from
 * nothing to 3, snapshot-4 and one reverse delta (fewer steps than from
 * snapshot-1); with a double-snapshot limit of 2, from 1 to 8 by
 * snapshot-7 (the chain has 7 steps) but from 1 to 3 by two deltas. Every
 * state reached equals, by canonical dump, the one reached by walking
 * deltas from snapshot-1. A version nobody published is not found and
 * changes nothing.
 */
START_TEST(consumer_plans_shortest_chain_or_snapshot)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = eight_versions(schemas, 2);
    char *ref8 = dump_by_deltas(bs, 8), *ref3 = dump_by_deltas(bs, 3);
    recorder rec;
    recorder_init(&rec);

    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST)); /* the store's latest */
    ck_assert_int_eq(hollow_consumer_version(c), 8);
    expect_plan(&rec, 8, "snapshot-7, delta-7-8");
    char *d = dump_consumer(c);
    ck_assert_dump_eq(d, ref8, "version 8 from snapshot-7");
    free(d);
    refresh_expect(c, &rec, 3, "reversedelta-8-7, reversedelta-7-6, "
                               "reversedelta-6-5, reversedelta-5-4, reversedelta-4-3");
    d = dump_consumer(c);
    ck_assert_dump_eq(d, ref3, "version 3 by reverse deltas");
    free(d);
    int rc = hollow_consumer_refresh(c, 9);
    ck_assert_int_eq(rc, HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_consumer_version(c), 3);
    hollow_consumer_free(c);

    c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    refresh_expect(c, &rec, 3, "snapshot-4, reversedelta-4-3");
    d = dump_consumer(c);
    ck_assert_dump_eq(d, ref3, "version 3 from snapshot-4");
    free(d);
    hollow_consumer_free(c);

    c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    refresh_expect(c, &rec, 2, "snapshot-1, delta-1-2");
    hollow_consumer_free(c);

    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.double_snapshot_limit = 2;
    HT_OK(hollow_consumer_new(&c, &co));
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    refresh_expect(c, &rec, 1, "snapshot-1");
    refresh_expect(c, &rec, 8, "snapshot-7, delta-7-8");
    refresh_expect(c, &rec, 1, "snapshot-1");
    refresh_expect(c, &rec, 3, "delta-1-2, delta-2-3");
    d = dump_consumer(c);
    ck_assert_dump_eq(d, ref3, "version 3 by two deltas");
    free(d);
    hollow_consumer_free(c);

    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(ref8);
    free(ref3);
}
END_TEST

/* ===================================================== failed refresh */

static uint8_t *read_blob_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ht_read_file(path, len);
}

static void write_blob_file(const char *dir, const char *name, const void *p,
                            size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ht_write_file(path, p, len);
}

static void remove_blob_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(unlink(path), 0);
}

/*
 * A refresh through a damaged delta (the file lost its second half), with
 * no snapshot of version 3 to fall back on, fails with HOLLOW_ECORRUPT and
 * a message naming delta-2-3; the consumer keeps version 2 published,
 * unchanged, and listeners hear the failure with the plan. With snapshot-3
 * back, the refresh goes around the damaged delta through it; with the
 * delta mended, a consumer at version 2 follows it again.
 */
START_TEST(consumer_failed_refresh_keeps_state_and_names_blob)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    for (int i = 0; i < 3; i++)
        cycle_spec(p, (spec){i * 5, 90, i, 2, false});
    recorder rec;
    recorder_init(&rec);
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    HT_OK(hollow_consumer_refresh(c, 2));
    hollow_read_state *held = hollow_consumer_acquire_state(c);
    char *before = dump_state(held);

    size_t len = 0, slen = 0;
    uint8_t *good = read_blob_file(dir, "delta-2-3", &len);
    uint8_t *snap3 = read_blob_file(dir, "snapshot-3", &slen);
    remove_blob_file(dir, "snapshot-3");
    write_blob_file(dir, "delta-2-3", good, len / 2);
    int rc = hollow_consumer_refresh(c, 3);
    ck_assert_int_eq(rc, HOLLOW_ECORRUPT);
    const char *msg = hollow_error_last()->message;
    ck_assert_msg(strstr(msg, "delta-2-3") != NULL, "message: %s", msg);
    ck_assert_int_eq(hollow_consumer_version(c), 2);
    char *after = dump_consumer(c);
    ck_assert_dump_eq(after, before, "published state after the failure");
    free(after);
    char *pinned = dump_state(held);
    ck_assert_dump_eq(pinned, before, "pinned state after the failure");
    free(pinned);
    hollow_read_state_release(held);
    ev_rec e;
    ck_assert(recorder_find(&rec, 3, false, &e));
    ck_assert_str_eq(e.plan, "delta-2-3");
    ck_assert(recorder_find(&rec, 3, true, &e));
    ck_assert_int_eq(e.result, HOLLOW_ECORRUPT);
    ck_assert_int_eq(e.from, 2);
    ck_assert_int_eq(e.state_version, -1);

    /* the snapshot back: the refresh goes around the damaged delta */
    write_blob_file(dir, "snapshot-3", snap3, slen);
    HT_OK(hollow_consumer_refresh(c, 3));
    ck_assert_int_eq(hollow_consumer_version(c), 3);
    char *now3 = dump_consumer(c);
    char *want3 = dump_snapshot_file(dir, 3);
    ck_assert_dump_eq(now3, want3, "after falling back to snapshot-3");
    free(now3);

    /* the delta mended: a consumer at version 2 follows it */
    write_blob_file(dir, "delta-2-3", good, len);
    HT_OK(hollow_consumer_refresh(c, 2));
    HT_OK(hollow_consumer_refresh(c, 3));
    expect_plan(&rec, 3, "delta-2-3");
    now3 = dump_consumer(c);
    ck_assert_dump_eq(now3, want3, "after mending the delta");
    free(now3);
    free(want3);
    free(snap3);

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(good);
    free(before);
    remove_dir(dir);
}
END_TEST

/* a get_file that fails the way a broken file system would */
static int get_file_calls;
static int get_file_eio(char *path, size_t cap, hollow_blobstore *bs,
                        const hollow_blob_key *key)
{
    (void)cap, (void)bs, (void)key;
    get_file_calls++;
    path[0] = '\0';
    return HOLLOW_EIO;
}

/*
 * An mmap consumer reads a snapshot through get_file. Only a store
 * without files (get_file: HOLLOW_ENOTSUPPORTED) falls back to reading
 * the blob into memory; any other get_file failure fails the refresh with
 * that code, version 0 stays, and nothing is read behind the caller's back.
 */
START_TEST(consumer_mmap_falls_back_only_when_not_supported)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *mem = mem_store();
    hollow_producer *p = producer_new(mem, NULL, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 20, 0, 1, false}), 1);
    hollow_consumer *c = consumer_new(mem, NULL, false, HOLLOW_MEMORY_MMAP, NULL);
    HT_OK(hollow_consumer_refresh(c, 1)); /* memory store: heap fallback */
    ck_assert_int_eq(hollow_consumer_version(c), 1);
    hollow_consumer_free(c);
    hollow_producer_free(p);

    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *fs = fs_store(dir);
    p = producer_new(fs, NULL, schemas, 0, true);
    ck_assert_int_eq(cycle_spec(p, (spec){0, 20, 0, 1, false}), 1);
    fs->get_file = get_file_eio;
    get_file_calls = 0;
    c = consumer_new(fs, NULL, false, HOLLOW_MEMORY_MMAP, NULL);
    ck_assert_int_eq(hollow_consumer_refresh(c, 1), HOLLOW_EIO);
    ck_assert_int_eq(get_file_calls, 1);
    ck_assert_int_eq(hollow_consumer_version(c), 0);
    hollow_consumer_free(c);

    hollow_producer_free(p);
    hollow_blobstore_free(fs);
    hollow_blobstore_free(mem);
    hollow_schema_list_free(schemas);
    remove_dir(dir);
}
END_TEST

/*
 * delta-2-3 replaced by another delta (delta-1-2's bytes: valid, but its
 * origin tag is not version 2's): the chain does not fit, so the refresh
 * is planned again from snapshot-3 and succeeds. Without delta-2-3 and
 * snapshot-3 no plan reaches version 3: HOLLOW_ENOTFOUND naming the
 * version, and version 2 stays. With snapshot-3 back, the plan is that
 * snapshot.
 */
START_TEST(consumer_refresh_falls_back_to_snapshot_or_fails)
{
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    hollow_blobstore *bs = fs_store(dir);
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    for (int i = 0; i < 3; i++)
        cycle_spec(p, (spec){i * 5, 90, i, 2, false});
    recorder rec;
    recorder_init(&rec);
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    HT_OK(hollow_consumer_refresh(c, 2));
    char *snap3 = dump_snapshot_file(dir, 3);

    size_t dlen = 0, d12len = 0, slen = 0;
    uint8_t *d23 = read_blob_file(dir, "delta-2-3", &dlen);
    uint8_t *d12 = read_blob_file(dir, "delta-1-2", &d12len);
    write_blob_file(dir, "delta-2-3", d12, d12len);
    HT_OK(hollow_consumer_refresh(c, 3));
    expect_plan(&rec, 3, "snapshot-3");
    char *d = dump_consumer(c);
    ck_assert_dump_eq(d, snap3, "version 3 by the fallback snapshot");
    free(d);
    hollow_consumer_free(c);

    write_blob_file(dir, "delta-2-3", d23, dlen);
    uint8_t *s3 = read_blob_file(dir, "snapshot-3", &slen);
    remove_blob_file(dir, "delta-2-3");
    remove_blob_file(dir, "snapshot-3");
    c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    HT_OK(hollow_consumer_refresh(c, 2));
    int rc = hollow_consumer_refresh(c, 3);
    ck_assert_int_eq(rc, HOLLOW_ENOTFOUND);
    const char *msg = hollow_error_last()->message;
    ck_assert_msg(strstr(msg, "version 3") != NULL, "message: %s", msg);
    ck_assert_int_eq(hollow_consumer_version(c), 2);
    write_blob_file(dir, "snapshot-3", s3, slen);
    HT_OK(hollow_consumer_refresh(c, 3));
    expect_plan(&rec, 3, "snapshot-3");
    d = dump_consumer(c);
    ck_assert_dump_eq(d, snap3, "version 3 by its snapshot");
    free(d);

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(d23);
    free(d12);
    free(s3);
    free(snap3);
    remove_dir(dir);
}
END_TEST

/* ============================================================ restore */

static int fail_validator(const hollow_read_state *state, int64_t version,
                          char *why, size_t cap, void *payload)
{
    (void)state;
    (void)version;
    int *fail = payload;
    if (*fail)
        snprintf(why, cap, "refused");
    return *fail;
}

/*
 * Restore refuses what it cannot do: nothing in the store (ENOTFOUND), a
 * producer that already ran a cycle (ESTATE).
 */
START_TEST(producer_restore_refuses_empty_store_and_used_producer)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = mem_store();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    ck_assert_int_eq(hollow_producer_restore(p, HOLLOW_VERSION_LATEST),
                     HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_producer_restore(p, 5), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_producer_version(p), 0);
    cycle_spec(p, (spec){0, 10, 0, 0, false});
    ck_assert_int_eq(hollow_producer_restore(p, 1), HOLLOW_ESTATE);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/*
 * A restored producer whose first cycle brings the same data publishes
 * nothing and keeps the restored version; a first cycle refused by a
 * validator publishes nothing either; the next good cycle publishes
 * delta-2-3 from the restored version, which a consumer at version 2
 * applies to exactly snapshot-3's state.
 */
START_TEST(producer_restore_then_unchanged_and_failed_cycles_keep_chain)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = mem_store();
    hollow_producer *a = producer_new(bs, NULL, schemas, 0, true);
    spec s1 = {0, 70, 0, 2, false}, s2 = {5, 70, 1, 2, false};
    cycle_spec(a, s1);
    cycle_spec(a, s2);
    hollow_producer_free(a);
    char *l2 = store_listing(bs);

    hollow_producer *b = producer_new(bs, NULL, schemas, 0, true);
    int fail = 0;
    HT_OK(hollow_producer_add_validator(b, fail_validator, &fail));
    HT_OK(hollow_producer_restore(b, 2));
    ck_assert_int_eq(hollow_producer_version(b), 2);
    int64_t v = cycle_spec(b, s2); /* the same data again */
    ck_assert_int_eq(v, 2);
    char *l = store_listing(bs);
    ck_assert_str_eq(l, l2);
    free(l);
    fail = 1;
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){5, 75, 2, 2, false};
    ck_assert_int_eq(hollow_producer_run_cycle(&v, b, populate, &pp), HOLLOW_ERROR);
    ck_assert_int_eq(v, 2);
    l = store_listing(bs);
    ck_assert_str_eq(l, l2);
    free(l);
    fail = 0;
    v = cycle(b, &pp);
    ck_assert_int_eq(v, 3);
    ck_assert(has_blob(bs, hollow_blob_key_delta(2, 3)));

    recorder rec;
    recorder_init(&rec);
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_add_listener(c, record_event, &rec));
    HT_OK(hollow_consumer_refresh(c, 2));
    HT_OK(hollow_consumer_refresh(c, 3));
    expect_plan(&rec, 3, "delta-2-3");
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    char why[256];
    const char *bad = check_state(rs, &pp.sp, pp.counts, why, sizeof why);
    ck_assert_msg(bad == NULL, "%s", bad);
    hollow_read_state_release(rs);

    hollow_consumer_free(c);
    hollow_producer_free(b);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    recorder_destroy(&rec);
    free(l2);
}
END_TEST

static const char schema_text_v2[] =
    "Movie @PrimaryKey(id) { long id; string title; int year; ListOfActor "
    "cast; Studio studio; int rating; }\n"
    "Actor @PrimaryKey(name) { string name; }\n"
    "ListOfActor List<Actor>;\n"
    "Studio { string name; }\n"
    "Award { string name; int year; }\n";

/*
 * A producer restarted with a changed data model (Movie gains a field)
 * restores the last version, and its next cycle publishes a delta marked
 * hollow.schema.changedFromPriorVersion; a consumer at the old version
 * applies it (keeping its schemas, §3.2) and sees the new titles; a fresh
 * consumer loads the new snapshot with the new field. (Java's producer
 * checks integrity on the schemas both states have in common.)
 */
START_TEST(producer_restore_with_added_field_continues_chain)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_schema_list *schemas2 = NULL;
    HT_OK(hollow_schema_parse(&schemas2, schema_text_v2, strlen(schema_text_v2)));
    hollow_blobstore *bs = mem_store();
    hollow_producer *a = producer_new(bs, NULL, schemas, 0, true);
    cycle_spec(a, (spec){0, 60, 0, 1, false});
    cycle_spec(a, (spec){0, 60, 1, 1, false});
    hollow_producer_free(a);
    hollow_consumer *old = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(old, 2));

    hollow_producer *b = producer_new(bs, NULL, schemas2, 0, true);
    HT_OK(hollow_producer_restore(b, 2));
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){0, 60, 2, 1, false};
    int64_t v = cycle(b, &pp);
    ck_assert_int_eq(v, 3);
    ck_assert(has_blob(bs, hollow_blob_key_delta(2, 3)));

    HT_OK(hollow_consumer_refresh(old, 3));
    hollow_read_state *rs = hollow_consumer_acquire_state(old);
    const char *changed = hollow_read_state_header_tag(rs,
                                                       "hollow.schema.changedFromPriorVersion");
    ck_assert_ptr_nonnull(changed);
    ck_assert_str_eq(changed, "true");
    char why[256];
    const char *bad = check_state(rs, &pp.sp, pp.counts, why, sizeof why);
    ck_assert_msg(bad == NULL, "%s", bad);
    ck_assert_int_lt(hollow_schema_field_index(
                         hollow_type_schema(hollow_read_state_type(rs, "Movie")),
                         "rating"), 0);
    hollow_read_state_release(rs);

    hollow_consumer *fresh = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_refresh(fresh, 3));
    rs = hollow_consumer_acquire_state(fresh);
    ck_assert_int_ge(hollow_schema_field_index(
                         hollow_type_schema(hollow_read_state_type(rs, "Movie")),
                         "rating"), 0);
    bad = check_state(rs, &pp.sp, pp.counts, why, sizeof why);
    ck_assert_msg(bad == NULL, "%s", bad);
    hollow_read_state_release(rs);

    hollow_consumer_free(fresh);
    hollow_consumer_free(old);
    hollow_producer_free(b);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    hollow_schema_list_free(schemas2);
}
END_TEST

/* ================================================================= main */

/*
 * Resharding (§10.8, §10.7): with a small target shard size and resharding
 * on, Movie's shard count follows its size one step per version, the
 * version that changes it carries hollow.type.resharding.invoked naming
 * the change, the next one does not, and consumers follow by deltas.
 */
START_TEST(producer_resharding_tag_and_steps)
{
    hollow_blobstore *bs = mem_store();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.schemas = schemas;
    po.minter = counter_minter;
    po.write.target_shard_size = 512;
    po.write.resharding = true;
    hollow_producer *p = NULL;
    HT_OK(hollow_producer_new(&p, &po));
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    uint32_t shards = 0;
    int changes = 0;
    static const int counts[] = {10, 10, 200, 200, 200, 200, 20, 20, 20, 20};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        int64_t v = cycle_spec(p, (spec){0, counts[i], (int)i, 1, false});
        HT_OK(hollow_consumer_refresh(c, v));
        hollow_read_state *rs = hollow_consumer_acquire_state(c);
        uint32_t now = hollow_type_shard_count(hollow_read_state_type(rs, "Movie"));
        const char *tag = hollow_read_state_header_tag(rs,
                                                       "hollow.type.resharding.invoked");
        if (i > 0 && now != shards) {
            char want[64];
            snprintf(want, sizeof want, "Movie:(%u,%u)", shards, now);
            ck_assert_msg(tag != NULL && strstr(tag, want) != NULL,
                          "version %lld: tag %s, want %s", (long long)v,
                          tag ? tag : "(none)", want);
            ck_assert_msg(now == shards * 2 || now * 2 == shards,
                          "Movie went from %u to %u shards", shards, now);
            changes++;
        } else if (i > 0) {
            ck_assert_msg(tag == NULL || strstr(tag, "Movie:") == NULL,
                          "version %lld: tag %s without a change", (long long)v,
                          tag);
        }
        shards = now;
        hollow_read_state_release(rs);
    }
    ck_assert_int_ge(changes, 2); /* up, then down */
    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* the size the store holds for `k` */
static int64_t blob_size(hollow_blobstore *bs, hollow_blob_key k)
{
    hollow_stream *st = NULL;
    HT_OK(hollow_blobstore_get(&st, bs, &k));
    int64_t n = hollow_stream_size(st);
    hollow_stream_close(st);
    return n;
}

/*
 * hollow_producer_last_blobs() reports what the last cycle published, in
 * the order written, with the sizes the store holds: the first version its
 * header and snapshot; the next a header, delta, reverse delta and
 * snapshot; an unchanged cycle and a failed one nothing. A cap below the
 * count copies only the first ones and still returns the count.
 */
/*
 * A populate callback that returns an error without setting one on the
 * producer's thread (it failed on a thread of its own, say) is reported as
 * such, never with a stale message left by an earlier call; the cycle is
 * rolled back and the next one publishes.
 */
START_TEST(producer_populate_failure_without_message)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = mem_store();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    pop q; /* fails with q.fail, setting no error */
    memset(&q, 0, sizeof q);
    q.sp = (spec){0, 30, 0, 1, false};
    int rcs[] = {HOLLOW_EIO, 7};
    for (int i = 0; i < 2; i++) {
        /* a stale error on this thread */
        hollow_stream *s = NULL;
        hollow_blob_key k = hollow_blob_key_snapshot(424242);
        ck_assert_int_eq(hollow_blobstore_get(&s, bs, &k), HOLLOW_ENOTFOUND);
        q.fail = rcs[i];
        int64_t v = -1;
        ck_assert_int_eq(hollow_producer_run_cycle(&v, p, populate, &q), rcs[i]);
        ck_assert_int_eq(v, 0);
        const char *msg = hollow_error_last()->message;
        ck_assert_msg(strstr(msg, "populate callback failed") != NULL &&
                          strstr(msg, "424242") == NULL,
                      "%s", msg);
        char want[32];
        snprintf(want, sizeof want, "returned %d", rcs[i]);
        ck_assert_msg(strstr(msg, want) != NULL, "%s", msg);
    }
    char *l = store_listing(bs);
    ck_assert_str_eq(l, "");
    free(l);
    ck_assert_int_eq(cycle_spec(p, q.sp), 1);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

START_TEST(producer_last_blobs_reports_each_cycle)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = mem_store();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    hollow_producer_blob got[HOLLOW_PRODUCER_MAX_BLOBS];
    ck_assert_uint_eq(hollow_producer_last_blobs(p, got, 4), 0);

    spec s1 = {0, 30, 0, 1, false}, s2 = {3, 30, 1, 1, false};
    ck_assert_int_eq(cycle_spec(p, s1), 1);
    ck_assert_uint_eq(hollow_producer_last_blobs(p, got, 4), 2);
    ck_assert_int_eq(got[0].key.kind, HOLLOW_BLOB_HEADER);
    ck_assert_int_eq(got[1].key.kind, HOLLOW_BLOB_SNAPSHOT);
    ck_assert_int_eq(got[1].key.version, 1);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq((int64_t)got[i].size, blob_size(bs, got[i].key));

    ck_assert_int_eq(cycle_spec(p, s2), 2);
    memset(got, 0, sizeof got);
    ck_assert_uint_eq(hollow_producer_last_blobs(p, got, 4), 4);
    static const hollow_blob_kind kinds[] = {
        HOLLOW_BLOB_HEADER, HOLLOW_BLOB_DELTA, HOLLOW_BLOB_REVERSE_DELTA,
        HOLLOW_BLOB_SNAPSHOT};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(got[i].key.kind, kinds[i]);
        ck_assert_int_eq(got[i].key.version, i == 2 ? 1 : 2);
        ck_assert_uint_gt(got[i].size, 0);
        ck_assert_int_eq((int64_t)got[i].size, blob_size(bs, got[i].key));
    }
    ck_assert_int_eq(got[1].key.from_version, 1);
    ck_assert_int_eq(got[2].key.from_version, 2);

    hollow_producer_blob one[1];
    ck_assert_uint_eq(hollow_producer_last_blobs(p, one, 1), 4);
    ck_assert_int_eq(one[0].key.kind, HOLLOW_BLOB_HEADER);
    ck_assert_uint_eq(hollow_producer_last_blobs(p, NULL, 0), 4);

    ck_assert_int_eq(cycle_spec(p, s2), 2); /* unchanged */
    ck_assert_uint_eq(hollow_producer_last_blobs(p, got, 4), 0);
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = s1;
    pp.fail = HOLLOW_EUSER;
    int64_t v = 0;
    ck_assert_int_eq(hollow_producer_run_cycle(&v, p, populate, &pp), HOLLOW_EUSER);
    ck_assert_uint_eq(hollow_producer_last_blobs(p, got, 4), 0);
    ck_assert_uint_eq(hollow_producer_last_blobs(NULL, got, 4), 0);

    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

static Suite *producer_suite(void)
{
    Suite *s = suite_create("producer");
    TCase *tc = NULL;
    tc = tcase_create("cadence");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, producer_snapshot_cadence_every_third_version);
    tcase_add_test(tc, consumer_plans_shortest_chain_or_snapshot);
    tcase_add_test(tc, producer_resharding_tag_and_steps);
    tcase_add_test(tc, producer_last_blobs_reports_each_cycle);
    tcase_add_test(tc, producer_populate_failure_without_message);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, consumer_failed_refresh_keeps_state_and_names_blob);
    tcase_add_test(tc, consumer_refresh_falls_back_to_snapshot_or_fails);
    tcase_add_test(tc, consumer_mmap_falls_back_only_when_not_supported);
    suite_add_tcase(s, tc);

    tc = tcase_create("restore");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, producer_restore_refuses_empty_store_and_used_producer);
    tcase_add_test(tc, producer_restore_then_unchanged_and_failed_cycles_keep_chain);
    tcase_add_test(tc, producer_restore_with_added_field_continues_chain);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(producer_suite()); }
