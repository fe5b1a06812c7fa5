/*
 * The Movie data model and helpers shared by the producer/consumer tests
 * (test_producer.c, test_producer_consumer_threads.c): temporary
 * directories, store listings, canonical dumps, a populate callback whose
 * records are known exactly from a `spec`, producer and consumer set-up,
 * and a refresh-listener recorder.
 */
#include "movie_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhelp.h"

/* ---------------------------------------------------------- temp dirs */

/*
 * Each test's directories live in one base directory that the suite's
 * unchecked fixture (run in the parent process of Check's forks) creates
 * and removes with all it holds, so that a test that fails half-way (Check
 * ends its child with _exit) leaves nothing behind either.
 */
char g_base[256];

void remove_dir(const char *dir) { ht_remove_dir(dir); }

void base_setup(void)
{
    snprintf(g_base, sizeof g_base, "/tmp/hollow-pc-XXXXXX");
    if (mkdtemp(g_base) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

void base_teardown(void) { remove_dir(g_base); }

void make_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/t-XXXXXX", g_base);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
}

/* -------------------------------------------------------------- names */

bool has_blob(hollow_blobstore *bs, hollow_blob_key k)
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
char *store_listing(hollow_blobstore *bs)
{
    listing *l = calloc(1, sizeof *l);
    HT_OK(hollow_blobstore_list(bs, listing_cb, l));
    char *s = strdup(l->text);
    free(l);
    return s;
}

/* ------------------------------------------------------------- dumps */


int sbuf_write(void *payload, const char *data, size_t len)
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
char *dump_state(const hollow_read_state *rs)
{
    ck_assert_ptr_nonnull(rs);
    sbuf b = {NULL, 0, 0};
    HT_OK(hollow_dump_canonical(rs, sbuf_write, &b));
    ck_assert_ptr_nonnull(b.p);
    return b.p;
}

/* the canonical dump of the state snapshot-V in `dir` holds */
char *dump_snapshot_file(const char *dir, int64_t v)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/snapshot-%lld", dir, (long long)v);
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_open(&rs, path, NULL));
    char *d = dump_state(rs);
    hollow_read_state_release(rs);
    return d;
}

char *dump_consumer(hollow_consumer *c)
{
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    ck_assert_ptr_nonnull(rs);
    char *d = dump_state(rs);
    hollow_read_state_release(rs);
    return d;
}


/* ======================================================= the data model */

const char schema_text[] =
    "Movie @PrimaryKey(id) { long id; string title; int year; ListOfActor "
    "cast; Studio studio; }\n"
    "Actor @PrimaryKey(name) { string name; }\n"
    "ListOfActor List<Actor>;\n"
    "Studio { string name; }\n"
    "Award { string name; int year; }\n";

const char *const type_names[T_COUNT] = {"Movie", "Actor", "ListOfActor",
                                                "Studio", "Award"};




hollow_schema_list *schemas_new(void)
{
    hollow_schema_list *l = NULL;
    HT_OK(hollow_schema_parse(&l, schema_text, strlen(schema_text)));
    return l;
}

void movie_title(char *buf, size_t cap, int id, int rev)
{
    if (rev > 0 && id % 10 == rev % 10)
        snprintf(buf, cap, "Movie %d rev%d", id, rev);
    else
        snprintf(buf, cap, "Movie %d", id);
}

int actor_of(int id, int j)
{
    static const int mul[3] = {1, 7, 13};
    return (id * mul[j]) % 40;
}

size_t fidx(const hollow_record *r, const char *name)
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

int populate(hollow_write_state *ws, void *payload)
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
const char *check_state(const hollow_read_state *rs, const spec *sp,
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
int64_t counter_minter(int64_t previous, void *payload)
{
    (void)payload;
    return previous + 1;
}

hollow_producer *producer_new(hollow_blobstore *bs, hollow_announcer *a,
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
int64_t cycle(hollow_producer *p, pop *pp)
{
    int64_t v = -1;
    HT_OK(hollow_producer_run_cycle(&v, p, populate, pp));
    return v;
}

int64_t cycle_spec(hollow_producer *p, spec sp)
{
    pop pp;
    memset(&pp, 0, sizeof pp);
    pp.sp = sp;
    return cycle(p, &pp);
}

hollow_blobstore *fs_store(const char *dir)
{
    hollow_blobstore_fs_options o = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    o.dir = dir;
    o.fsync = false; /* tmpfs or not, the tests need no durability */
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_fs_new(&bs, &o));
    return bs;
}

hollow_blobstore *mem_store(void)
{
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_memory_new(&bs, NULL));
    return bs;
}

hollow_consumer *consumer_new(hollow_blobstore *bs, hollow_announcer *a,
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




void recorder_init(recorder *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
}

void recorder_destroy(recorder *r) { pthread_mutex_destroy(&r->mu); }

void record_event(const hollow_refresh_event *ev, void *payload)
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
bool recorder_find(recorder *r, int64_t to, bool done, ev_rec *out)
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
void expect_plan(recorder *r, int64_t to, const char *plan)
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
