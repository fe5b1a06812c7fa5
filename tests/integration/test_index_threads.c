/*
 * Lookups while a consumer-like main thread refreshes (issue 8): the main
 * thread walks every golden chain forwards and back (snapshot, deltas,
 * reverse deltas), derives the primary key index of every @PrimaryKey
 * type for each new state from the previous state's, and publishes the
 * indexes together (a refcounted bundle; each index holds its state). 8
 * reader threads pin whatever bundle is current and look keys up in it:
 * every answer must be the brute-force answer for the state the bundle's
 * indexes belong to, computed single-threaded beforehand, for present and
 * absent keys. Run under ThreadSanitizer by `make test`.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hollow/index.h"
#include "hollow/read.h"
#include "testhelp.h"

#define READERS 8
#define MAX_TYPES 16

/* ===================================================== brute force */

typedef struct hop {
    const hollow_type *type;
    size_t field;
} hop;

typedef struct kpath {
    hop hops[32];
    int n;
} kpath;

static bool walk_path(kpath *p, const hollow_read_state *rs,
                      const hollow_type *t, const char *path);

/* a key path ending on a reference to t goes on (§4.2) */
static bool expand(kpath *p, const hollow_read_state *rs, const hollow_type *t)
{
    for (;;) {
        const hollow_schema *s = hollow_type_schema(t);
        if (hollow_schema_field_count(s) == 1) {
            p->hops[p->n].type = t;
            p->hops[p->n++].field = 0;
            if (hollow_schema_field_type(s, 0) != HOLLOW_FIELD_REFERENCE)
                return true;
            t = hollow_read_state_type(rs, hollow_schema_field_ref_type(s, 0));
            continue;
        }
        if (hollow_schema_key_count(s) == 1)
            return walk_path(p, rs, t, hollow_schema_key_path(s, 0));
        return false;
    }
}

static bool walk_path(kpath *p, const hollow_read_state *rs,
                      const hollow_type *t, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    bool bang = buf[0] != '\0' && buf[strlen(buf) - 1] == '!';
    if (bang)
        buf[strlen(buf) - 1] = '\0';
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg != NULL;) {
        char *next = strtok_r(NULL, ".", &save);
        const hollow_schema *s = hollow_type_schema(t);
        int f = hollow_schema_field_index(s, seg);
        if (f < 0 || p->n >= 31)
            return false;
        p->hops[p->n].type = t;
        p->hops[p->n++].field = (size_t)f;
        if (hollow_schema_field_type(s, (size_t)f) != HOLLOW_FIELD_REFERENCE)
            return next == NULL;
        const hollow_type *to =
            hollow_read_state_type(rs, hollow_schema_field_ref_type(s, (size_t)f));
        if (next == NULL)
            return bang || expand(p, rs, to);
        t = to;
        seg = next;
    }
    return false;
}

/* one probe and the ordinal it must give (or HOLLOW_ENOTFOUND) */
typedef struct probe {
    hollow_value v[HOLLOW_INDEX_MAX_PATHS];
    char *text;     /* canonical text, for grouping */
    int want;
} probe;

typedef struct type_expect {
    char *name;
    size_t npaths;
    probe *p;       /* present keys, then absent ones */
    size_t n;
} type_expect;

typedef struct step_expect {
    int64_t tag;
    type_expect t[MAX_TYPES];
    size_t nt;
} step_expect;

static void text_add(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    ck_assert_uint_lt(*len + n, cap);
    memcpy(buf + *len, s, n + 1);
    *len += n;
}

/* the value of path p for record o as a probe, and its canonical text */
static void key_value(hollow_value *out, char *text, size_t cap, size_t *tl,
                      const kpath *p, hollow_ordinal o)
{
    for (int h = 0; h + 1 < p->n; h++) {
        hollow_ordinal r;
        int rc = hollow_object_ref(&r, p->hops[h].type, o, p->hops[h].field);
        HT_OK(rc);
        if (rc == HOLLOW_NULL ||
            !hollow_type_is_populated(p->hops[h + 1].type, r)) {
            const hop *last = &p->hops[p->n - 1];
            out->type = hollow_schema_field_type(hollow_type_schema(last->type),
                                                 last->field);
            out->is_null = true;
            text_add(text, cap, tl, "N|");
            return;
        }
        o = r;
    }
    const hop *last = &p->hops[p->n - 1];
    hollow_value v;
    HT_OK(hollow_object_value(&v, last->type, o, last->field));
    *out = v;
    char tmp[64];
    if (v.is_null) {
        text_add(text, cap, tl, "N|");
        return;
    }
    switch (v.type) {
    case HOLLOW_FIELD_STRING: {
        size_t n = v.u.bytes.len * 3 + 1;
        char *utf8 = malloc(n);
        hollow_str s;
        HT_OK(hollow_object_string(&s, utf8, n, last->type, o, last->field));
        if (s.ptr != utf8)
            memcpy(utf8, s.ptr, s.len);
        out->u.str.ptr = utf8;
        out->u.str.len = s.len;
        text_add(text, cap, tl, "S");
        for (size_t i = 0; i < v.u.bytes.len; i++) {
            snprintf(tmp, sizeof tmp, "%02x", v.u.bytes.ptr[i]);
            text_add(text, cap, tl, tmp);
        }
        text_add(text, cap, tl, "|");
        return;
    }
    case HOLLOW_FIELD_BYTES: {
        uint8_t *copy = malloc(v.u.bytes.len + 1);
        if (v.u.bytes.len > 0)
            memcpy(copy, v.u.bytes.ptr, v.u.bytes.len);
        out->u.bytes.ptr = copy;
        text_add(text, cap, tl, "Y");
        for (size_t i = 0; i < v.u.bytes.len; i++) {
            snprintf(tmp, sizeof tmp, "%02x", v.u.bytes.ptr[i]);
            text_add(text, cap, tl, tmp);
        }
        text_add(text, cap, tl, "|");
        return;
    }
    case HOLLOW_FIELD_FLOAT: {
        uint32_t b;
        memcpy(&b, &v.u.f, 4);
        snprintf(tmp, sizeof tmp, "F%x|", b);
        break;
    }
    case HOLLOW_FIELD_DOUBLE: {
        uint64_t b;
        memcpy(&b, &v.u.d, 8);
        snprintf(tmp, sizeof tmp, "D%llx|", (unsigned long long)b);
        break;
    }
    case HOLLOW_FIELD_INT: snprintf(tmp, sizeof tmp, "I%d|", v.u.i); break;
    case HOLLOW_FIELD_LONG: snprintf(tmp, sizeof tmp, "L%lld|", (long long)v.u.l); break;
    case HOLLOW_FIELD_BOOLEAN: snprintf(tmp, sizeof tmp, "B%d|", v.u.b); break;
    default: snprintf(tmp, sizeof tmp, "R%d|", v.u.ref); break;
    }
    text_add(text, cap, tl, tmp);
}

static int cmp_probe(const void *a, const void *b)
{
    const probe *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->want > y->want) - (x->want < y->want);
}

static void free_probe(probe *p, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (!p->v[i].is_null && (p->v[i].type == HOLLOW_FIELD_STRING ||
                                 p->v[i].type == HOLLOW_FIELD_BYTES))
            free((void *)p->v[i].u.bytes.ptr);
    free(p->text);
}

/* every key of every @PrimaryKey type of rs, and an absent key per key */
static void expect_state(step_expect *e, const hollow_read_state *rs)
{
    memset(e, 0, sizeof *e);
    e->tag = hollow_read_state_randomized_tag(rs);
    for (size_t t = 0; t < hollow_read_state_type_count(rs); t++) {
        const hollow_type *ty = hollow_read_state_type_at(rs, t);
        const hollow_schema *s = hollow_type_schema(ty);
        if (hollow_schema_kind_of(s) != HOLLOW_SCHEMA_OBJECT ||
            hollow_schema_key_count(s) == 0)
            continue;
        ck_assert_uint_lt(e->nt, MAX_TYPES);
        type_expect *te = &e->t[e->nt++];
        te->name = strdup(hollow_type_name(ty));
        te->npaths = hollow_schema_key_count(s);
        kpath paths[HOLLOW_INDEX_MAX_PATHS];
        for (size_t p = 0; p < te->npaths; p++) {
            memset(&paths[p], 0, sizeof paths[p]);
            ck_assert(walk_path(&paths[p], rs, ty, hollow_schema_key_path(s, p)));
        }
        size_t cnt = hollow_type_record_count(ty);
        te->p = calloc(2 * cnt + 1, sizeof *te->p);
        for (hollow_ordinal o = hollow_type_next_ordinal(ty, 0); o >= 0;
             o = hollow_type_next_ordinal(ty, o + 1)) {
            probe *pr = &te->p[te->n++];
            char text[8192];
            size_t tl = 0;
            text[0] = '\0';
            for (size_t p = 0; p < te->npaths; p++)
                key_value(&pr->v[p], text, sizeof text, &tl, &paths[p], o);
            pr->text = strdup(text);
            pr->want = o;
        }
        /* the answer for a duplicated key is its smallest record */
        qsort(te->p, te->n, sizeof *te->p, cmp_probe);
        size_t k = 0;
        for (size_t i = 0; i < te->n; i++) {
            if (k > 0 && strcmp(te->p[k - 1].text, te->p[i].text) == 0) {
                free_probe(&te->p[i], te->npaths);
                continue;
            }
            te->p[k++] = te->p[i];
        }
        te->n = k;
        /* absent: a fixed-width first value moved far, or a string grown */
        size_t present = te->n;
        for (size_t i = 0; i < present; i++) {
            probe *src = &te->p[i];
            probe ab;
            memset(&ab, 0, sizeof ab);
            bool ok = true;
            for (size_t p = 0; p < te->npaths; p++) {
                ab.v[p] = src->v[p];
                if (!ab.v[p].is_null && (ab.v[p].type == HOLLOW_FIELD_STRING ||
                                         ab.v[p].type == HOLLOW_FIELD_BYTES)) {
                    size_t n = ab.v[p].u.bytes.len;
                    uint8_t *c = malloc(n + 2);
                    if (n > 0)
                        memcpy(c, src->v[p].u.bytes.ptr, n);
                    if (p == 0)
                        c[n++] = '\x7f';
                    ab.v[p].u.bytes.ptr = c;
                    ab.v[p].u.bytes.len = n;
                } else if (p == 0) {
                    hollow_value *v = &ab.v[p];
                    if (v->is_null)
                        ok = false;
                    else if (v->type == HOLLOW_FIELD_INT)
                        v->u.i ^= 0x40000000;
                    else if (v->type == HOLLOW_FIELD_LONG)
                        v->u.l ^= 0x4000000000000000ll;
                    else
                        ok = false;
                }
            }
            ab.text = strdup("");
            ab.want = HOLLOW_ENOTFOUND;
            if (!ok) {
                free_probe(&ab, te->npaths);
                continue;
            }
            te->p[te->n++] = ab;
        }
    }
}

static void free_expect(step_expect *e)
{
    for (size_t t = 0; t < e->nt; t++) {
        for (size_t i = 0; i < e->t[t].n; i++)
            free_probe(&e->t[t].p[i], e->t[t].npaths);
        free(e->t[t].p);
        free(e->t[t].name);
    }
}

/* ======================================================== publishing */

typedef struct bundle {
    atomic_int refs;
    hollow_index *ix[MAX_TYPES];
    size_t n;
    const step_expect *exp;
} bundle;

static pthread_mutex_t pub_mu = PTHREAD_MUTEX_INITIALIZER;
static bundle *current;
static atomic_bool stop;
static atomic_long lookups;
static atomic_long failures;

static void bundle_release(bundle *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
        for (size_t i = 0; i < b->n; i++)
            hollow_index_release(b->ix[i]);
        free(b);
    }
}

static bundle *pin(void)
{
    pthread_mutex_lock(&pub_mu);
    bundle *b = current;
    if (b != NULL)
        atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&pub_mu);
    return b;
}

static void publish(bundle *b)
{
    pthread_mutex_lock(&pub_mu);
    bundle *old = current;
    current = b;
    pthread_mutex_unlock(&pub_mu);
    bundle_release(old);
}

static void *reader(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 7919 + 1;
    long n = 0;
    while (!atomic_load(&stop)) {
        bundle *b = pin();
        if (b == NULL)
            continue;
        const step_expect *e = b->exp;
        for (size_t t = 0; t < b->n; t++) {
            const hollow_index *ix = b->ix[t];
            const type_expect *te = &e->t[t];
            if (hollow_read_state_randomized_tag(hollow_index_state(ix)) !=
                    e->tag ||
                strcmp(hollow_index_type_name(ix), te->name) != 0) {
                atomic_fetch_add(&failures, 1);
                continue;
            }
            for (int k = 0; k < 64 && te->n > 0; k++) {
                const probe *p = &te->p[ht_rand(&rng) % te->n];
                int o = hollow_index_find(ix, p->v, te->npaths);
                if (o != p->want) {
                    fprintf(stderr, "reader: %s key %s: %d, want %d\n",
                            te->name, p->text, o, p->want);
                    atomic_fetch_add(&failures, 1);
                }
                n++;
            }
        }
        bundle_release(b);
    }
    atomic_fetch_add(&lookups, n);
    return NULL;
}

/* ============================================================ chains */

static const char *SCENARIOS[] = HT_GOLDEN_SCENARIOS;
#define NSCEN (sizeof SCENARIOS / sizeof *SCENARIOS)

/* a golden chain and the expectations of each of its states */
typedef struct chain {
    ht_chain c;
    step_expect exp[HT_CHAIN_MAX_STEPS + 1];
} chain;

static void free_chain(chain *c)
{
    for (int i = 0; i <= c->c.nsteps; i++)
        free_expect(&c->exp[i]);
    ht_chain_free(&c->c);
}

/*
 * Walk the chain; with `publish`, derive the indexes at every step from
 * the previous step's and publish them, else compute the expectations.
 */
static long walk(chain *c, bool publish_steps)
{
    long patched = 0;
    hollow_read_state *rs = NULL;
    hollow_index *prev[MAX_TYPES];
    size_t nprev = 0;
    HT_OK(hollow_read_state_from_snapshot(&rs, c->c.snapshot.p,
                                          c->c.snapshot.len, NULL));
    for (int i = 0;; i++) {
        if (!publish_steps) {
            expect_state(&c->exp[i], rs);
        } else {
            const step_expect *e = &c->exp[i];
            bundle *b = calloc(1, sizeof *b);
            atomic_init(&b->refs, 1);
            b->exp = e;
            b->n = e->nt;
            for (size_t t = 0; t < e->nt; t++) {
                if (i == 0) {
                    HT_OK(hollow_index_primary_key_new(&b->ix[t], rs,
                                                       e->t[t].name, NULL, 0));
                } else {
                    ck_assert_uint_eq(nprev, e->nt);
                    HT_OK(hollow_index_derive(&b->ix[t], prev[t], rs));
                    patched += hollow_index_origin_of(b->ix[t]) ==
                               HOLLOW_INDEX_PATCHED;
                    hollow_index_release(prev[t]);
                }
                hollow_index_acquire(b->ix[t]);
                prev[t] = b->ix[t];
            }
            nprev = e->nt;
            publish(b);
        }
        if (i == c->c.nsteps)
            break;
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, c->c.steps[i].p,
                                            c->c.steps[i].len));
        hollow_read_state_release(rs);
        rs = next;
    }
    for (size_t t = 0; t < nprev; t++)
        hollow_index_release(prev[t]);
    hollow_read_state_release(rs);
    return patched;
}

START_TEST(index_threads_lookup_while_refreshing)
{
    static chain chains[NSCEN];
    time_t t0 = time(NULL);
    for (size_t i = 0; i < NSCEN; i++) {
        ht_chain_load(&chains[i].c, SCENARIOS[i]);
        walk(&chains[i], false);
    }
    fprintf(stderr, "expectations computed in %lds\n",
            (long)(time(NULL) - t0));
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader,
                                        (void *)(uintptr_t)(i + 1)),
                         0);
    long patched = 0;
    int rounds = 2 * ht_scale();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < NSCEN; i++)
            patched += walk(&chains[i], true);
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    publish(NULL);
    fprintf(stderr, "%d rounds, %ld lookups in pinned indexes, %ld "
            "derivations patched\n", rounds, atomic_load(&lookups), patched);
    ck_assert_int_eq(atomic_load(&failures), 0);
    ck_assert_int_gt(atomic_load(&lookups), READERS);
    ck_assert_int_gt(patched, 0);
    for (size_t i = 0; i < NSCEN; i++)
        free_chain(&chains[i]);
}
END_TEST

static Suite *index_threads_suite(void)
{
    Suite *s = suite_create("index_threads");
    TCase *tc = tcase_create("refresh");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, index_threads_lookup_while_refreshing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(index_threads_suite()); }
