/*
 * Counters and Prometheus metrics (issue 19 item 2): real producer cycles
 * and consumer refreshes over the memory and filesystem stores move the
 * counters of hollow_consumer_stats_get(), hollow_producer_stats_get() and
 * hollow_blobstore_stats_get() by exactly what happened, and
 * hollow_metrics_write() renders them. tests/metrics_parse.py checks the
 * text with the Prometheus project's own parser; the threaded suite
 * test_metrics_threads.c reads while refreshing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "metrics/stats.h"
#include "movie_fixture.h"
#include "testhelp.h"

/* a store with versions 1..8, a snapshot every third (1, 4, 7) */
static hollow_blobstore *eight_versions(const hollow_schema_list *schemas)
{
    hollow_blobstore *bs = mem_store();
    hollow_producer *p = producer_new(bs, NULL, schemas, 2, true);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(
            cycle_spec(p, (spec){i * 4, 60 + i * 3, i, i % 3, false}), i + 1);
    hollow_producer_free(p);
    return bs;
}

static hollow_consumer_stats consumer_stats(hollow_consumer *c)
{
    hollow_consumer_stats st = HOLLOW_CONSUMER_STATS_INIT;
    HT_OK(hollow_consumer_stats_get(&st, c));
    return st;
}

static uint64_t bucket_sum(const hollow_duration_histogram *h)
{
    uint64_t n = 0;
    for (size_t i = 0; i < HOLLOW_DURATION_BUCKETS; i++)
        n += h->bucket[i];
    return n;
}

/* refresh to `to` and check that exactly the counter of `kind` moved */
static void refresh_counts(hollow_consumer *c, int64_t to,
                           hollow_refresh_kind kind)
{
    hollow_consumer_stats a = consumer_stats(c);
    HT_OK(hollow_consumer_refresh(c, to));
    hollow_consumer_stats b = consumer_stats(c);
    for (int k = 0; k < HOLLOW_REFRESH_KINDS; k++)
        ck_assert_msg(b.refreshes[k] == a.refreshes[k] + (k == (int)kind),
                      "refresh to %lld: kind %s counted %llu -> %llu",
                      (long long)to,
                      hollow_refresh_kind_name((hollow_refresh_kind)k),
                      (unsigned long long)a.refreshes[k],
                      (unsigned long long)b.refreshes[k]);
    ck_assert_uint_eq(b.refresh_duration.count, a.refresh_duration.count + 1);
    ck_assert_uint_eq(b.refresh_failures, a.refresh_failures);
    ck_assert_int_eq(b.current_version, to);
    ck_assert_int_ge(b.last_refresh_ms, a.last_refresh_ms);
}

/*
 * Over versions 1..8 (snapshots at 1, 4, 7): a first load is a snapshot,
 * forwards is a delta chain, backwards a reverse delta chain, and with a
 * double-snapshot limit of 2 a long way forwards takes a new snapshot. A
 * refresh to the version already published counts nowhere; one to a
 * version nobody published counts as a failure with its duration. The
 * state's figures match the state.
 */
START_TEST(metrics_consumer_counts_refreshes_by_kind)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = eight_versions(schemas);
    hollow_consumer *c =
        consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    hollow_consumer_stats st = consumer_stats(c);
    ck_assert_int_eq(st.current_version, 0);
    ck_assert_uint_eq(st.refresh_duration.count, 0);
    ck_assert_uint_eq(st.state_bytes, 0);
    ck_assert_int_eq(st.last_refresh_ms, 0);

    refresh_counts(c, 1, HOLLOW_REFRESH_SNAPSHOT);
    refresh_counts(c, 3, HOLLOW_REFRESH_DELTA);
    refresh_counts(c, 2, HOLLOW_REFRESH_REVERSE_DELTA);

    hollow_consumer_stats a = consumer_stats(c);
    HT_OK(hollow_consumer_refresh(c, 2)); /* already there */
    hollow_consumer_stats b = consumer_stats(c);
    ck_assert_mem_eq(&a.refresh_duration, &b.refresh_duration,
                     sizeof a.refresh_duration);
    ck_assert_uint_eq(b.refresh_failures, 0);

    ck_assert_int_eq(hollow_consumer_refresh(c, 99), HOLLOW_ENOTFOUND);
    b = consumer_stats(c);
    ck_assert_uint_eq(b.refresh_failures, 1);
    ck_assert_uint_eq(b.refresh_duration.count, a.refresh_duration.count + 1);
    ck_assert_uint_eq(b.refresh_duration.count,
                      bucket_sum(&b.refresh_duration));
    ck_assert_int_eq(b.current_version, 2);

    /* the published state's figures */
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    ck_assert_uint_eq(b.state_bytes, hollow_read_state_memory(rs));
    ck_assert_uint_gt(b.state_bytes, 0);
    ck_assert_uint_eq(b.types, hollow_read_state_type_count(rs));
    uint64_t records = 0;
    for (size_t i = 0; i < b.types; i++)
        records += hollow_type_record_count(hollow_read_state_type_at(rs, i));
    ck_assert_uint_eq(b.records, records);
    ck_assert_uint_ge(b.records, 63); /* version 2: 63 movies and more */
    hollow_read_state_release(rs);
    hollow_consumer_free(c);

    /* a chain longer than the limit: a second snapshot */
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.double_snapshot_limit = 2;
    HT_OK(hollow_consumer_new(&c, &co));
    refresh_counts(c, 1, HOLLOW_REFRESH_SNAPSHOT);
    refresh_counts(c, 8, HOLLOW_REFRESH_DOUBLE_SNAPSHOT);
    hollow_consumer_free(c);

    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* the plan kinds, a chain of both directions among them */
START_TEST(metrics_refresh_kind_of_plans)
{
    hollow_blob_key snap = hollow_blob_key_snapshot(4);
    hollow_blob_key fwd[2] = {hollow_blob_key_delta(4, 5),
                              hollow_blob_key_delta(5, 6)};
    hollow_blob_key back[1] = {hollow_blob_key_reverse_delta(4, 3)};
    hollow_blob_key both[2] = {hollow_blob_key_reverse_delta(4, 3),
                               hollow_blob_key_delta(3, 7)};
    hollow_blob_key snap_then[2] = {snap, hollow_blob_key_delta(4, 5)};
    ck_assert_int_eq(hollow__refresh_kind_of(&snap, 1, false),
                     HOLLOW_REFRESH_SNAPSHOT);
    ck_assert_int_eq(hollow__refresh_kind_of(snap_then, 2, true),
                     HOLLOW_REFRESH_DOUBLE_SNAPSHOT);
    ck_assert_int_eq(hollow__refresh_kind_of(fwd, 2, true),
                     HOLLOW_REFRESH_DELTA);
    ck_assert_int_eq(hollow__refresh_kind_of(back, 1, true),
                     HOLLOW_REFRESH_REVERSE_DELTA);
    ck_assert_int_eq(hollow__refresh_kind_of(both, 2, true),
                     HOLLOW_REFRESH_MIXED_CHAIN);
    ck_assert_str_eq(hollow_refresh_kind_name(HOLLOW_REFRESH_MIXED_CHAIN),
                     "mixed_chain");
    ck_assert_str_eq(hollow_refresh_kind_name((hollow_refresh_kind)99),
                     "unknown");
}
END_TEST

/* the bucket bounds are increasing, the last is +Inf, and an observation
 * lands in the first bucket whose bound is not below it */
START_TEST(metrics_histogram_buckets)
{
    for (size_t i = 1; i + 1 < HOLLOW_DURATION_BUCKETS; i++)
        ck_assert_uint_gt(hollow_duration_bucket_bound_us(i),
                          hollow_duration_bucket_bound_us(i - 1));
    ck_assert_uint_eq(hollow_duration_bucket_bound_us(0), 1000);
    ck_assert_uint_eq(
        hollow_duration_bucket_bound_us(HOLLOW_DURATION_BUCKETS - 1),
        UINT64_MAX);
    ck_assert_uint_eq(hollow_duration_bucket_bound_us(1000), UINT64_MAX);
    hollow__histogram h;
    memset(&h, 0, sizeof h);
    hollow__histogram_observe(&h, 0);
    hollow__histogram_observe(&h, 1000); /* on the bound: inclusive */
    hollow__histogram_observe(&h, 1001);
    hollow__histogram_observe(&h, 600000000); /* 10 minutes: +Inf */
    hollow_duration_histogram out;
    hollow__histogram_read(&out, &h);
    ck_assert_uint_eq(out.bucket[0], 2);
    ck_assert_uint_eq(out.bucket[1], 1);
    ck_assert_uint_eq(out.bucket[HOLLOW_DURATION_BUCKETS - 1], 1);
    ck_assert_uint_eq(out.count, 4);
    ck_assert_uint_eq(out.sum_us, 600002001);
}
END_TEST

static int refuse_validator(const hollow_read_state *state, int64_t version,
                            char *why, size_t cap, void *payload)
{
    (void)state;
    (void)version;
    if (*(int *)payload == 0)
        return 0;
    snprintf(why, cap, "refused by the test");
    return 1;
}

static hollow_producer_stats producer_stats(hollow_producer *p)
{
    hollow_producer_stats st = HOLLOW_PRODUCER_STATS_INIT;
    HT_OK(hollow_producer_stats_get(&st, p));
    return st;
}

/*
 * A producer's cycles: the first publishes a header and a snapshot, the
 * same data again publishes nothing, a change publishes a header, delta,
 * reverse delta and snapshot; blob counts and bytes match
 * hollow_producer_last_blobs(). A populate that fails and a validator that
 * refuses are failed cycles, the second also a validation failure; neither
 * adds blobs. Every cycle has its duration.
 */
START_TEST(metrics_producer_counts_cycles_and_blobs)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = mem_store();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    int refuse = 0;
    HT_OK(hollow_producer_add_validator(p, refuse_validator, &refuse));
    hollow_producer_stats st = producer_stats(p);
    ck_assert_uint_eq(st.cycles, 0);
    ck_assert_int_eq(st.current_version, 0);
    ck_assert(st.primary);

    uint64_t bytes[4] = {0}, blobs[4] = {0};
    hollow_producer_blob last[HOLLOW_PRODUCER_MAX_BLOBS];
    ck_assert_int_eq(cycle_spec(p, (spec){0, 50, 0, 2, false}), 1);
    size_t n = hollow_producer_last_blobs(p, last, HOLLOW_PRODUCER_MAX_BLOBS);
    ck_assert_uint_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        blobs[last[i].key.kind]++;
        bytes[last[i].key.kind] += last[i].size;
    }
    ck_assert_int_eq(cycle_spec(p, (spec){0, 50, 0, 2, false}), 1); /* same */
    ck_assert_int_eq(cycle_spec(p, (spec){5, 50, 1, 2, false}), 2);
    n = hollow_producer_last_blobs(p, last, HOLLOW_PRODUCER_MAX_BLOBS);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        blobs[last[i].key.kind]++;
        bytes[last[i].key.kind] += last[i].size;
    }
    st = producer_stats(p);
    ck_assert_uint_eq(st.cycles, 3);
    ck_assert_uint_eq(st.cycles_published, 2);
    ck_assert_uint_eq(st.cycle_failures, 0);
    ck_assert_int_eq(st.current_version, 2);
    for (int k = 0; k < 4; k++) {
        ck_assert_uint_eq(st.blobs[k], blobs[k]);
        ck_assert_uint_eq(st.blob_bytes[k], bytes[k]);
    }
    ck_assert_uint_eq(st.blobs[HOLLOW_BLOB_SNAPSHOT], 2);
    ck_assert_uint_eq(st.blobs[HOLLOW_BLOB_HEADER], 2);
    ck_assert_uint_eq(st.blobs[HOLLOW_BLOB_DELTA], 1);
    ck_assert_uint_gt(st.blob_bytes[HOLLOW_BLOB_SNAPSHOT],
                      st.blob_bytes[HOLLOW_BLOB_DELTA]);

    /* failures */
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = (spec){9, 50, 2, 2, false};
    pp.fail = HOLLOW_EUSER;
    int64_t v = 0;
    ck_assert_int_eq(hollow_producer_run_cycle(&v, p, populate, &pp),
                     HOLLOW_EUSER);
    pp.fail = 0;
    refuse = 1;
    ck_assert_int_eq(hollow_producer_run_cycle(&v, p, populate, &pp),
                     HOLLOW_ERROR);
    hollow_producer_stats f = producer_stats(p);
    ck_assert_uint_eq(f.cycles, 5);
    ck_assert_uint_eq(f.cycle_failures, 2);
    ck_assert_uint_eq(f.validation_failures, 1);
    ck_assert_uint_eq(f.integrity_failures, 0);
    ck_assert_uint_eq(f.cycles_published, 2);
    ck_assert_mem_eq(f.blob_bytes, st.blob_bytes, sizeof f.blob_bytes);
    ck_assert_uint_eq(f.cycle_duration.count, 5);
    ck_assert_uint_eq(bucket_sum(&f.cycle_duration), 5);
    ck_assert_uint_ge(f.cycle_duration.sum_us, st.cycle_duration.sum_us);
    ck_assert_int_eq(f.current_version, 2);

    /* a restored producer reports the version it continues */
    hollow_producer *r = producer_new(bs, NULL, schemas, 0, true);
    HT_OK(hollow_producer_restore(r, 2));
    ck_assert_int_eq(producer_stats(r).current_version, 2);
    ck_assert_uint_eq(producer_stats(r).cycles, 0);
    hollow_producer_free(r);

    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* wrong versions and NULLs are refused, never crash; an empty store */
START_TEST(metrics_stats_refuse_bad_arguments)
{
    hollow_blobstore *bs = mem_store();
    hollow_consumer *c =
        consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    hollow_consumer_stats cs = HOLLOW_CONSUMER_STATS_INIT;
    ck_assert_int_eq(hollow_consumer_stats_get(NULL, c), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_consumer_stats_get(&cs, NULL), HOLLOW_EINVAL);
    cs.version = 77;
    ck_assert_int_eq(hollow_consumer_stats_get(&cs, c), HOLLOW_EINVAL);
    ck_assert_ptr_nonnull(strstr(hollow_error_last()->message, "77"));
    /* an empty store: nothing to follow yet is no failed refresh */
    ck_assert_int_eq(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST),
                     HOLLOW_ENOTFOUND);
    cs.version = HOLLOW_CONSUMER_STATS_VERSION;
    HT_OK(hollow_consumer_stats_get(&cs, c));
    ck_assert_uint_eq(cs.refresh_failures + cs.refresh_duration.count, 0);
    /* but a version nobody published is */
    ck_assert_int_eq(hollow_consumer_refresh(c, 5), HOLLOW_ENOTFOUND);
    HT_OK(hollow_consumer_stats_get(&cs, c));
    ck_assert_uint_eq(cs.refresh_failures, 1);
    hollow_producer_stats ps = HOLLOW_PRODUCER_STATS_INIT;
    ck_assert_int_eq(hollow_producer_stats_get(&ps, NULL), HOLLOW_EINVAL);
    ps.version = 0;
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    ck_assert_int_eq(hollow_producer_stats_get(&ps, p), HOLLOW_EINVAL);
    hollow_producer_free(p);
    hollow_schema_list_free(schemas);
    hollow_consumer_free(c);
    hollow_blobstore_free(bs);
}
END_TEST

/* the memory and filesystem stores count puts and gets, and bytes */
static void store_counts(hollow_blobstore *bs)
{
    hollow_blobstore_stats st;
    HT_OK(hollow_blobstore_stats_get(&st, bs));
    ck_assert_uint_eq(st.uploads + st.cache_misses + st.bytes_up, 0);
    hollow_blob_key k = hollow_blob_key_snapshot(5);
    HT_OK(hollow_blobstore_put_bytes(bs, &k, "hello", 5));
    HT_OK(hollow_blobstore_put_bytes(bs, &k, "hello!!", 7)); /* replaced */
    hollow_stream *s = NULL;
    HT_OK(hollow_blobstore_get(&s, bs, &k));
    hollow_stream_close(s);
    hollow_blob_key none = hollow_blob_key_snapshot(6);
    ck_assert_int_eq(hollow_blobstore_get(&s, bs, &none), HOLLOW_ENOTFOUND);
    HT_OK(hollow_blobstore_stats_get(&st, bs));
    ck_assert_uint_eq(st.uploads, 2);
    ck_assert_uint_eq(st.bytes_up, 12);
    ck_assert_uint_eq(st.cache_misses, 1); /* a blob not found is no get */
    ck_assert_uint_eq(st.cache_hits, 0);
    ck_assert_uint_eq(st.bytes_down, 7);
    ck_assert_uint_eq(st.pending + st.retries, 0);
}

START_TEST(metrics_memory_and_fs_stores_count)
{
    hollow_blobstore *bs = mem_store();
    store_counts(bs);
    hollow_blobstore_free(bs);
    char dir[512];
    make_tmpdir(dir, sizeof dir);
    bs = fs_store(dir);
    store_counts(bs);
    char path[1024];
    hollow_blob_key k = hollow_blob_key_snapshot(5);
    HT_OK(hollow_blobstore_get_file(path, sizeof path, bs, &k));
    hollow_blobstore_stats st;
    HT_OK(hollow_blobstore_stats_get(&st, bs));
    ck_assert_uint_eq(st.cache_misses, 2);
    ck_assert_uint_eq(st.bytes_down, 14);
    hollow_blobstore_free(bs);
}
END_TEST

/* ------------------------------------------------------------ rendering */

typedef struct text {
    char *p;
    size_t len;
    int calls;
    int fail; /* non-zero: the sink returns it */
} text;

static int text_sink(void *payload, const void *data, size_t len)
{
    text *t = payload;
    t->calls++;
    if (t->fail)
        return t->fail;
    t->p = realloc(t->p, t->len + len + 1);
    ck_assert_ptr_nonnull(t->p);
    memcpy(t->p + t->len, data, len);
    t->len += len;
    t->p[t->len] = '\0';
    return 0;
}

static char *render(const hollow_metrics_sources *src)
{
    text t = {0};
    HT_OK(hollow_metrics_write(text_sink, &t, src));
    ck_assert_ptr_nonnull(t.p);
    return t.p;
}

/* the value of the sample line that starts with `series` + " " */
static uint64_t value_of(const char *txt, const char *series)
{
    size_t n = strlen(series);
    for (const char *l = txt; l != NULL && *l; l = strchr(l, '\n')) {
        if (*l == '\n')
            l++;
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            return strtoull(l + n + 1, NULL, 10);
    }
    ck_abort_msg("no sample %s in:\n%s", series, txt);
    return 0;
}

static void has_line(const char *txt, const char *line)
{
    char *want = malloc(strlen(line) + 3);
    sprintf(want, "\n%s\n", line);
    ck_assert_msg(strncmp(txt, line, strlen(line)) == 0 || strstr(txt, want),
                  "no line \"%s\" in:\n%s", line, txt);
    free(want);
}

/*
 * All four sources after two cycles and two refreshes: each family has
 * its HELP and TYPE, the counters carry what the stats calls say, the
 * histogram's buckets are cumulative and end at +Inf with _count, the
 * per-type gauges name each type, and a second render after another
 * cycle and refresh shows the counters moved.
 */
START_TEST(metrics_write_renders_every_source)
{
    hollow_schema_list *schemas = schemas_new();
    hollow_blobstore *bs = mem_store();
    hollow_announcer *an = NULL;
    HT_OK(hollow_announcer_inproc_new(&an, NULL));
    hollow_producer *p = producer_new(bs, an, schemas, 0, true);
    hollow_consumer *c = consumer_new(bs, an, false, HOLLOW_MEMORY_HEAP, NULL);
    cycle_spec(p, (spec){0, 40, 0, 2, false});
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));
    cycle_spec(p, (spec){3, 40, 1, 2, false});
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));

    hollow_metrics_sources src = HOLLOW_METRICS_SOURCES_INIT;
    src.consumer = c;
    src.producer = p;
    src.announcer = an;
    src.blobstore = bs;
    char *t1 = render(&src);
    has_line(t1, "# TYPE hollow_consumer_refreshes_total counter");
    has_line(t1, "hollow_consumer_refreshes_total{kind=\"snapshot\"} 1");
    has_line(t1, "hollow_consumer_refreshes_total{kind=\"delta\"} 1");
    has_line(t1, "hollow_consumer_refreshes_total{kind=\"double_snapshot\"} 0");
    has_line(t1, "hollow_consumer_version 2");
    has_line(t1, "hollow_consumer_version_info{version=\"2\"} 1");
    has_line(t1, "# TYPE hollow_consumer_refresh_duration_seconds histogram");
    has_line(t1, "hollow_consumer_refresh_duration_seconds_count 2");
    has_line(t1,
             "hollow_consumer_refresh_duration_seconds_bucket{le=\"+Inf\"} 2");
    ck_assert_ptr_nonnull(strstr(t1, "_bucket{le=\"0.0025\"} "));
    has_line(t1, "hollow_consumer_type_records{type=\"Movie\"} 40");
    has_line(t1, "# TYPE hollow_producer_cycles_total counter");
    has_line(t1, "hollow_producer_cycles_total 2");
    has_line(t1, "hollow_producer_blobs_total{kind=\"snapshot\"} 2");
    has_line(t1, "hollow_producer_primary 1");
    has_line(t1, "hollow_announcer_announcements_total 2");
    has_line(t1, "hollow_announcer_latest_version 2");
    has_line(t1, "# TYPE hollow_blobstore_gets_total counter");
    hollow_blobstore_stats bst;
    HT_OK(hollow_blobstore_stats_get(&bst, bs));
    ck_assert_uint_eq(value_of(t1, "hollow_blobstore_gets_total"),
                      bst.cache_misses);
    ck_assert_uint_ge(bst.cache_misses, 2); /* snapshot-1, delta-1-2 */
    /* cumulative buckets */
    uint64_t prev = 0;
    for (size_t i = 0; i + 1 < HOLLOW_DURATION_BUCKETS; i++) {
        char series[160];
        uint64_t us = hollow_duration_bucket_bound_us(i);
        char le[32];
        if (us % 1000000 == 0)
            snprintf(le, sizeof le, "%llu", (unsigned long long)(us / 1000000));
        else
            snprintf(le, sizeof le, "%g", (double)us / 1e6);
        snprintf(series, sizeof series,
                 "hollow_producer_cycle_duration_seconds_bucket{le=\"%s\"}",
                 le);
        uint64_t v = value_of(t1, series);
        ck_assert_uint_ge(v, prev);
        prev = v;
    }
    ck_assert_uint_le(prev, 2);
    /* every family: a HELP right before its TYPE */
    int types = 0;
    for (const char *l = strstr(t1, "# TYPE "); l;
         l = strstr(l + 1, "# TYPE ")) {
        types++;
        const char *name = l + 7;
        size_t n = strcspn(name, " ");
        char help[128];
        snprintf(help, sizeof help, "# HELP %.*s ", (int)n, name);
        const char *h = l - 1;
        while (h > t1 && h[-1] != '\n')
            h--;
        ck_assert_msg(strncmp(h, help, strlen(help)) == 0, "%.*s: no HELP",
                      (int)n, name);
    }
    ck_assert_int_ge(types, 35);

    cycle_spec(p, (spec){6, 40, 2, 2, false});
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));
    char *t2 = render(&src);
    ck_assert_uint_eq(value_of(t2, "hollow_producer_cycles_total"), 3);
    ck_assert_uint_eq(
        value_of(t2, "hollow_consumer_refreshes_total{kind=\"delta\"}"), 2);
    ck_assert_uint_gt(value_of(t2, "hollow_blobstore_gets_total"),
                      value_of(t1, "hollow_blobstore_gets_total"));
    ck_assert_uint_gt(value_of(t2, "hollow_announcer_delivered_total") +
                          value_of(t2, "hollow_announcer_announcements_total"),
                      value_of(t1, "hollow_announcer_delivered_total") +
                          value_of(t1, "hollow_announcer_announcements_total"));
    free(t1);
    free(t2);
    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* label values are escaped: backslash, double quote, newline */
START_TEST(metrics_label_values_escaped)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    hollow__metrics_label_value(&b, "a\\b\"c\nd<e>");
    HT_OK(hollow__buf_check(&b));
    ck_assert_str_eq(hollow__buf_cstr(&b), "a\\\\b\\\"c\\nd<e>");
    hollow__buf_free(&b);
}
END_TEST

/*
 * Bad calls: NULL sink or sources, sources of another version; a sink's
 * error is returned and it is called no more; no source writes nothing; a
 * consumer with nothing loaded has no version_info sample and no types.
 */
START_TEST(metrics_write_errors_and_empty)
{
    hollow_metrics_sources src = HOLLOW_METRICS_SOURCES_INIT;
    text t = {0};
    ck_assert_int_eq(hollow_metrics_write(NULL, &t, &src), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_metrics_write(text_sink, &t, NULL), HOLLOW_EINVAL);
    src.version = 9;
    ck_assert_int_eq(hollow_metrics_write(text_sink, &t, &src), HOLLOW_EINVAL);
    src.version = HOLLOW_METRICS_SOURCES_VERSION;
    HT_OK(hollow_metrics_write(text_sink, &t, &src));
    ck_assert_int_eq(t.calls, 0);

    hollow_blobstore *bs = mem_store();
    hollow_consumer *c =
        consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    src.consumer = c;
    t.fail = 42;
    ck_assert_int_eq(hollow_metrics_write(text_sink, &t, &src), 42);
    ck_assert_int_eq(t.calls, 1);
    char *txt = render(&src);
    has_line(txt, "hollow_consumer_version 0");
    ck_assert_ptr_null(strstr(txt, "hollow_consumer_version_info{"));
    ck_assert_ptr_null(strstr(txt, "{type="));
    has_line(txt, "hollow_consumer_state_bytes 0");
    has_line(txt, "hollow_consumer_refresh_duration_seconds_sum 0");
    free(txt);
    hollow_consumer_free(c);
    hollow_blobstore_free(bs);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *stats = tcase_create("stats");
    tcase_add_checked_fixture(stats, base_setup, base_teardown);
    tcase_add_test(stats, metrics_consumer_counts_refreshes_by_kind);
    tcase_add_test(stats, metrics_refresh_kind_of_plans);
    tcase_add_test(stats, metrics_histogram_buckets);
    tcase_add_test(stats, metrics_producer_counts_cycles_and_blobs);
    tcase_add_test(stats, metrics_stats_refuse_bad_arguments);
    tcase_add_test(stats, metrics_memory_and_fs_stores_count);
    suite_add_tcase(s, stats);
    TCase *render_tc = tcase_create("text");
    tcase_add_checked_fixture(render_tc, base_setup, base_teardown);
    tcase_add_test(render_tc, metrics_write_renders_every_source);
    tcase_add_test(render_tc, metrics_label_values_escaped);
    tcase_add_test(render_tc, metrics_write_errors_and_empty);
    suite_add_tcase(s, render_tc);
    return s;
}

int main(void) { return ht_run_suite(metrics_suite()); }
