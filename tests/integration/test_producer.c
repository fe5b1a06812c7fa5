/*
 * The producer and the consumer on one thread (issue 7): the snapshot
 * cadence and the consumer's plans over it (deltas forwards, reverse
 * deltas backwards, a snapshot when no chain reaches or the chain is
 * longer than the double-snapshot limit), failed refreshes that keep the
 * published state and say why, a delta that does not fit falling back to
 * a snapshot, and restoring a producer in the cases that need no threads.
 * No announcer and no following here; test_producer_consumer_threads.c
 * has those. The data model and helpers are that file's.
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
#include "testhelp.h"

/* ================================================================ helpers */

/* ---------------------------------------------------------- temp dirs */

/*
 * Each test's directories live in one base directory that the suite's
 * unchecked fixture (run in the parent process of Check's forks) creates
 * and removes with all it holds, so that a test that fails half-way (Check
 * ends its child with _exit) leaves nothing behind either.
 */
static char g_base[256];

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0) /* a test's directory */
            remove_dir(path);
    }
    closedir(d);
    rmdir(dir);
}

static void base_setup(void)
{
    snprintf(g_base, sizeof g_base, "/tmp/hollow-pc-XXXXXX");
    if (mkdtemp(g_base) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static void base_teardown(void) { remove_dir(g_base); }

static void make_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/t-XXXXXX", g_base);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
}

/* -------------------------------------------------------------- names */

static bool has_blob(hollow_blobstore *bs, hollow_blob_key k)
{
    hollow_stream *s = NULL;
    int rc = hollow_blobstore_get(&s, bs, &k);
    hollow_stream_close(s);
    return rc == 0;
}

typedef struct listing {
    char text[16384];
} listing;

static int listing_cb(const hollow_blob_key *key, void *payload)
{
    listing *l = payload;
    char name[HOLLOW_BLOB_NAME_MAX];
    hollow_blob_key_name(name, sizeof name, key);
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s%s", n ? " " : "", name);
    return 0;
}

/* the store's blobs in listing order, joined by spaces (malloc'd) */
static char *store_listing(hollow_blobstore *bs)
{
    listing *l = calloc(1, sizeof *l);
    HT_OK(hollow_blobstore_list(bs, listing_cb, l));
    char *s = strdup(l->text);
    free(l);
    return s;
}

/* ------------------------------------------------------------- dumps */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static int sbuf_write(void *payload, const char *data, size_t len)
{
    sbuf *b = payload;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + len + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

/* the canonical dump of a state (malloc'd) */
static char *dump_state(const hollow_read_state *rs)
{
    ck_assert_ptr_nonnull(rs);
    sbuf b = {NULL, 0, 0};
    HT_OK(hollow_dump_canonical(rs, sbuf_write, &b));
    ck_assert_ptr_nonnull(b.p);
    return b.p;
}

/* the canonical dump of the state snapshot-V in `dir` holds */
static char *dump_snapshot_file(const char *dir, int64_t v)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/snapshot-%lld", dir, (long long)v);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_open(&rs, path, NULL));
    char *d = dump_state(rs);
    hollow_read_state_release(rs);
    return d;
}

static char *dump_consumer(hollow_consumer *c)
{
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    ck_assert_ptr_nonnull(rs);
    char *d = dump_state(rs);
    hollow_read_state_release(rs);
    return d;
}

#define ck_assert_dump_eq(a, b, what)                                          \
    ck_assert_msg(strcmp((a), (b)) == 0, "%s: the dumps differ", (what))

/* ======================================================= the data model */

static const char schema_text[] =
    "Movie @PrimaryKey(id) { long id; string title; int year; ListOfActor "
    "cast; Studio studio; }\n"
    "Actor @PrimaryKey(name) { string name; }\n"
    "ListOfActor List<Actor>;\n"
    "Studio { string name; }\n"
    "Award { string name; int year; }\n";

enum { T_MOVIE, T_ACTOR, T_LIST, T_STUDIO, T_AWARD, T_COUNT };
static const char *const type_names[T_COUNT] = {"Movie", "Actor", "ListOfActor",
                                                "Studio", "Award"};

/* what one version holds */
typedef struct spec {
    int first;    /* first movie id */
    int count;    /* movies first .. first + count - 1 */
    int rev;      /* titles of ids with id % 10 == rev % 10 carry " rev<rev>" */
    int awards;   /* Award records 0 .. awards - 1 */
    bool reverse; /* add the movies in descending id order */
} spec;

#define MAX_ORD 65536

/* the populate callback's payload: a spec in, the records counted out */
typedef struct pop {
    spec sp;
    size_t counts[T_COUNT]; /* distinct records per type added */
    int fail;               /* non-zero: populate returns it */
} pop;

static hollow_schema_list *schemas_new(void)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, schema_text, strlen(schema_text)));
    return l;
}

static void movie_title(char *buf, size_t cap, int id, int rev)
{
    if (rev > 0 && id % 10 == rev % 10)
        snprintf(buf, cap, "Movie %d rev%d", id, rev);
    else
        snprintf(buf, cap, "Movie %d", id);
}

static int actor_of(int id, int j)
{
    static const int mul[3] = {1, 7, 13};
    return (id * mul[j]) % 40;
}

static size_t fidx(const hollow_record *r, const char *name)
{
    int i = hollow_schema_field_index(hollow_record_schema(r), name);
    return (size_t)i;
}

#define POP_CHECK(expr)                                                        \
    do {                                                                       \
        if ((rc = (expr)) < 0)                                                 \
            goto done;                                                         \
    } while (0)

static void count_ordinal(uint8_t *seen, size_t *count, hollow_ordinal o)
{
    if (o >= 0 && o < MAX_ORD && !seen[o]) {
        seen[o] = 1;
        (*count)++;
    }
}

static int populate(hollow_write_state *ws, void *payload)
{
    pop *p = payload;
    if (p->fail)
        return p->fail;
    memset(p->counts, 0, sizeof p->counts);
    uint8_t *seen = calloc(T_COUNT, MAX_ORD);
    hollow_record *movie = NULL, *actor = NULL, *list = NULL, *studio = NULL,
                  *award = NULL;
    int rc = 0;
    if (seen == NULL)
        return HOLLOW_ENOMEM;
    POP_CHECK(hollow_record_new(&movie, ws, "Movie"));
    POP_CHECK(hollow_record_new(&actor, ws, "Actor"));
    POP_CHECK(hollow_record_new(&list, ws, "ListOfActor"));
    POP_CHECK(hollow_record_new(&studio, ws, "Studio"));
    POP_CHECK(hollow_record_new(&award, ws, "Award"));
    char text[64];
    for (int k = 0; k < p->sp.count; k++) {
        int id = p->sp.reverse ? p->sp.first + p->sp.count - 1 - k : p->sp.first + k;
        hollow_record_reset(list);
        for (int j = 0; j < 3; j++) {
            hollow_ordinal ao;
            hollow_record_reset(actor);
            snprintf(text, sizeof text, "Actor %d", actor_of(id, j));
            POP_CHECK(hollow_record_set_string(actor, fidx(actor, "name"), text,
                                               strlen(text)));
            POP_CHECK(hollow_write_state_add(&ao, ws, actor));
            count_ordinal(seen + T_ACTOR * MAX_ORD, &p->counts[T_ACTOR], ao);
            POP_CHECK(hollow_record_add_element(list, ao));
        }
        hollow_ordinal lo, so, mo;
        POP_CHECK(hollow_write_state_add(&lo, ws, list));
        count_ordinal(seen + T_LIST * MAX_ORD, &p->counts[T_LIST], lo);
        hollow_record_reset(studio);
        snprintf(text, sizeof text, "Studio %d", id % 6);
        POP_CHECK(hollow_record_set_string(studio, fidx(studio, "name"), text,
                                           strlen(text)));
        POP_CHECK(hollow_write_state_add(&so, ws, studio));
        count_ordinal(seen + T_STUDIO * MAX_ORD, &p->counts[T_STUDIO], so);
        hollow_record_reset(movie);
        movie_title(text, sizeof text, id, p->sp.rev);
        POP_CHECK(hollow_record_set_long(movie, fidx(movie, "id"), id));
        POP_CHECK(hollow_record_set_string(movie, fidx(movie, "title"), text,
                                           strlen(text)));
        POP_CHECK(hollow_record_set_int(movie, fidx(movie, "year"), 1950 + id % 70));
        POP_CHECK(hollow_record_set_ref(movie, fidx(movie, "cast"), lo));
        POP_CHECK(hollow_record_set_ref(movie, fidx(movie, "studio"), so));
        POP_CHECK(hollow_write_state_add(&mo, ws, movie));
        count_ordinal(seen + T_MOVIE * MAX_ORD, &p->counts[T_MOVIE], mo);
    }
    for (int i = 0; i < p->sp.awards; i++) {
        hollow_ordinal o;
        hollow_record_reset(award);
        snprintf(text, sizeof text, "Award %d", i);
        POP_CHECK(hollow_record_set_string(award, fidx(award, "name"), text,
                                           strlen(text)));
        POP_CHECK(hollow_record_set_int(award, fidx(award, "year"), 2000 + i));
        POP_CHECK(hollow_write_state_add(&o, ws, award));
        count_ordinal(seen + T_AWARD * MAX_ORD, &p->counts[T_AWARD], o);
    }
done:
    hollow_record_free(movie);
    hollow_record_free(actor);
    hollow_record_free(list);
    hollow_record_free(studio);
    hollow_record_free(award);
    free(seen);
    return rc;
}

/* check a state holds exactly what `sp` says; NULL if so, else why */
static const char *check_state(const hollow_read_state *rs, const spec *sp,
                               const size_t *counts, char *why, size_t cap)
{
    for (int t = 0; t < T_COUNT; t++) {
        const hollow_type *ty = hollow_read_state_type(rs, type_names[t]);
        if (ty == NULL) {
            snprintf(why, cap, "no type %s", type_names[t]);
            return why;
        }
        if (hollow_type_record_count(ty) != counts[t]) {
            snprintf(why, cap, "%s has %zu records, not %zu", type_names[t],
                     hollow_type_record_count(ty), counts[t]);
            return why;
        }
    }
    const hollow_type *mt = hollow_read_state_type(rs, "Movie");
    const hollow_type *lt = hollow_read_state_type(rs, "ListOfActor");
    const hollow_type *at = hollow_read_state_type(rs, "Actor");
    const hollow_schema *ms = hollow_type_schema(mt);
    size_t f_id = (size_t)hollow_schema_field_index(ms, "id");
    size_t f_title = (size_t)hollow_schema_field_index(ms, "title");
    size_t f_cast = (size_t)hollow_schema_field_index(ms, "cast");
    size_t f_name = (size_t)hollow_schema_field_index(hollow_type_schema(at), "name");
    size_t n = 0;
    for (hollow_ordinal o = hollow_type_next_ordinal(mt, 0); o >= 0;
         o = hollow_type_next_ordinal(mt, o + 1)) {
        int64_t id = 0;
        hollow_str title;
        char buf[128], want[64];
        hollow_ordinal cast = -1;
        uint32_t size = 0;
        if (hollow_object_long(&id, mt, o, f_id) != 0 ||
            hollow_object_string(&title, buf, sizeof buf, mt, o, f_title) != 0 ||
            hollow_object_ref(&cast, mt, o, f_cast) != 0 ||
            hollow_list_size(&size, lt, cast) != 0 || size != 3) {
            snprintf(why, cap, "Movie %d cannot be read", (int)o);
            return why;
        }
        if (id < sp->first || id >= sp->first + sp->count) {
            snprintf(why, cap, "Movie id %lld outside %d..%d", (long long)id,
                     sp->first, sp->first + sp->count - 1);
            return why;
        }
        movie_title(want, sizeof want, (int)id, sp->rev);
        if (title.len != strlen(want) || memcmp(title.ptr, want, title.len) != 0) {
            snprintf(why, cap, "Movie %lld has title \"%.*s\", not \"%s\"",
                     (long long)id, (int)title.len, title.ptr, want);
            return why;
        }
        for (uint32_t j = 0; j < 3; j++) {
            hollow_ordinal a = -1;
            hollow_str name;
            char nb[64];
            if (hollow_list_get(&a, lt, cast, j) != 0 ||
                hollow_object_string(&name, nb, sizeof nb, at, a, f_name) != 0) {
                snprintf(why, cap, "Movie %lld: actor %u cannot be read",
                         (long long)id, j);
                return why;
            }
            snprintf(want, sizeof want, "Actor %d", actor_of((int)id, (int)j));
            if (name.len != strlen(want) || memcmp(name.ptr, want, name.len) != 0) {
                snprintf(why, cap, "Movie %lld: actor %u is \"%.*s\", not \"%s\"",
                         (long long)id, j, (int)name.len, name.ptr, want);
                return why;
            }
        }
        n++;
    }
    if (n != (size_t)sp->count) {
        snprintf(why, cap, "iterated %zu movies, not %d", n, sp->count);
        return why;
    }
    return NULL;
}

/* ------------------------------------------------------ producer setup */

/* versions 1, 2, 3, ...: file names the tests can predict */
static int64_t counter_minter(int64_t previous, void *payload)
{
    (void)payload;
    return previous + 1;
}

static hollow_producer *producer_new(hollow_blobstore *bs, hollow_announcer *a,
                                     const hollow_schema_list *schemas,
                                     uint32_t between_snapshots, bool counter)
{
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = a;
    po.schemas = schemas;
    po.num_states_between_snapshots = between_snapshots;
    if (counter)
        po.minter = counter_minter;
    hollow_producer *p = NULL;
    HT_OK(hollow_producer_new(&p, &po));
    return p;
}

/* one cycle that must succeed; the version now current */
static int64_t cycle(hollow_producer *p, pop *pp)
{
    int64_t v = -1;
    HT_OK(hollow_producer_run_cycle(&v, p, populate, pp));
    return v;
}

static int64_t cycle_spec(hollow_producer *p, spec sp)
{
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = sp;
    return cycle(p, &pp);
}

static hollow_blobstore *fs_store(const char *dir)
{
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = dir;
    o.fsync = false; /* tmpfs or not, the tests need no durability */
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));
    return bs;
}

static hollow_blobstore *mem_store(void)
{
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_memory_new(&bs, NULL));
    return bs;
}

static hollow_consumer *consumer_new(hollow_blobstore *bs, hollow_announcer *a,
                                     bool follow, hollow_memory_mode mode,
                                     const char *const *filter)
{
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.announcer = a;
    co.follow = follow;
    co.memory_mode = mode;
    co.type_filter = filter;
    hollow_consumer *c = NULL;
    HT_OK(hollow_consumer_new(&c, &co));
    return c;
}

/* ------------------------------------------------- refresh listeners */

typedef struct ev_rec {
    int64_t from, to;
    bool done;
    int result;
    char plan[1024];
    bool has_movie;
    size_t movie_added, movie_removed;
    int64_t state_version;
} ev_rec;

#define MAX_EV 256

typedef struct recorder {
    pthread_mutex_t mu;
    ev_rec ev[MAX_EV];
    int n;
} recorder;

static void recorder_init(recorder *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
}

static void recorder_destroy(recorder *r) { pthread_mutex_destroy(&r->mu); }

static void record_event(const hollow_refresh_event *ev, void *payload)
{
    recorder *r = payload;
    pthread_mutex_lock(&r->mu);
    if (r->n < MAX_EV) {
        ev_rec *e = &r->ev[r->n++];
        memset(e, 0, sizeof *e);
        e->from = ev->from_version;
        e->to = ev->to_version;
        e->done = ev->done;
        e->result = ev->result;
        snprintf(e->plan, sizeof e->plan, "%s", ev->plan ? ev->plan : "(null)");
        for (size_t i = 0; i < ev->change_count; i++)
            if (strcmp(ev->changes[i].type, "Movie") == 0) {
                e->has_movie = true;
                e->movie_added = ev->changes[i].added;
                e->movie_removed = ev->changes[i].removed;
            }
        e->state_version = ev->state ? hollow_read_state_version(ev->state) : -1;
    }
    pthread_mutex_unlock(&r->mu);
}

/* the last event of a refresh to `to` (done or not); false if none */
static bool recorder_find(recorder *r, int64_t to, bool done, ev_rec *out)
{
    bool found = false;
    pthread_mutex_lock(&r->mu);
    for (int i = r->n - 1; i >= 0 && !found; i--)
        if (r->ev[i].to == to && r->ev[i].done == done) {
            *out = r->ev[i];
            found = true;
        }
    pthread_mutex_unlock(&r->mu);
    return found;
}

/* the plan of the last successful refresh to `to` */
static void expect_plan(recorder *r, int64_t to, const char *plan)
{
    ev_rec e;
    ck_assert_msg(recorder_find(r, to, true, &e), "no refresh to %lld was heard",
                  (long long)to);
    ck_assert_msg(e.result == 0, "the refresh to %lld failed: %d", (long long)to,
                  e.result);
    ck_assert_msg(strcmp(e.plan, plan) == 0,
                  "refresh to %lld: plan \"%s\", expected \"%s\"", (long long)to,
                  e.plan, plan);
    ck_assert_int_eq(e.state_version, to);
}

/* ---------------------------------------------------------- lint */

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

static Suite *producer_suite(void)
{
    Suite *s = suite_create("producer");
    TCase *tc = NULL;
    tc = tcase_create("cadence");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, producer_snapshot_cadence_every_third_version);
    tcase_add_test(tc, consumer_plans_shortest_chain_or_snapshot);
    tcase_add_test(tc, producer_resharding_tag_and_steps);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, consumer_failed_refresh_keeps_state_and_names_blob);
    tcase_add_test(tc, consumer_refresh_falls_back_to_snapshot_or_fails);
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
