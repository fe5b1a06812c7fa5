/*
 * hollow__read_states_equal (src/read/checksum.c), the producer's
 * integrity check: two states are equal exactly when their checksums are,
 * compared value by value. Each variant below changes one value of one
 * kind (each fixed-length field type, a string, a null, bytes, a LIST
 * element or length, a SET element, a MAP value, a record more or less)
 * and must be found, by snapshot and through a delta (whose state keeps
 * the removed records as ghosts), on one thread and on two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/read.h"
#include "hollow/schema.h"
#include "hollow/write.h"
#include "read/read_int.h"
#include "testhelp.h"

static const char SCHEMA[] =
    "R { int v; }\n"
    "T { int i; long l; string s; bytes b; double d; R r; }\n"
    "L List<R>;\n"
    "S Set<R>;\n"
    "M Map<R, R>;\n";

enum {
    V_NONE, V_INT, V_LONG, V_STRING, V_STRING_NULL, V_BYTES, V_DOUBLE, V_REF,
    V_LIST_ELEM, V_LIST_LEN, V_SET_ELEM, V_MAP_VALUE, V_EXTRA, V_MISSING,
    V_COUNT
};

/* the type each variant changes */
static const char *const CHANGED[V_COUNT] = {
    "", "T", "T", "T", "T", "T", "T", "T", "L", "L", "S", "M", "T", "T"};

#define RECORDS 300 /* over one 64-slot word, several words of each type */
#define AT 137      /* the record a variant changes */

static hollow_ordinal add(hollow_write_state *ws, hollow_record *r)
{
    hollow_ordinal o = HOLLOW_ORDINAL_NONE;
    HT_OK(hollow_write_state_add(&o, ws, r));
    hollow_record_reset(r);
    return o;
}

/* every record of the state with variant v */
static void populate(hollow_write_state *ws, int v)
{
    hollow_record *r = NULL, *t = NULL, *l = NULL, *s = NULL, *m = NULL;
    HT_OK(hollow_record_new(&r, ws, "R"));
    HT_OK(hollow_record_new(&t, ws, "T"));
    HT_OK(hollow_record_new(&l, ws, "L"));
    HT_OK(hollow_record_new(&s, ws, "S"));
    HT_OK(hollow_record_new(&m, ws, "M"));
    /* R 10 + k is record k's own element: no two collections are equal */
    hollow_ordinal rs[RECORDS + 11];
    for (int k = 0; k < RECORDS + 11; k++) {
        HT_OK(hollow_record_set_int(r, 0, k));
        rs[k] = add(ws, r);
    }
    int n = v == V_EXTRA ? RECORDS + 1 : RECORDS;
    for (int k = 0; k < n; k++) {
        bool here = k == AT;
        char str[32];
        snprintf(str, sizeof str, "title %04d", here && v == V_STRING ? 9999 : k);
        HT_OK(hollow_record_set_int(t, 0, here && v == V_INT ? -k : k));
        HT_OK(hollow_record_set_long(t, 1, here && v == V_LONG ? k + 1 : (int64_t)k * 1000));
        if (here && v == V_STRING_NULL)
            HT_OK(hollow_record_set_null(t, 2));
        else
            HT_OK(hollow_record_set_string(t, 2, str, strlen(str)));
        uint8_t bytes[3] = {(uint8_t)k, (uint8_t)(k >> 8),
                            (uint8_t)(here && v == V_BYTES ? 7 : 0)};
        HT_OK(hollow_record_set_bytes(t, 3, bytes, sizeof bytes));
        HT_OK(hollow_record_set_double(t, 4, here && v == V_DOUBLE ? 0.25 : k / 2.0));
        HT_OK(hollow_record_set_ref(t, 5, rs[here && v == V_REF ? 9 : k % 5]));
        if (!(v == V_MISSING && here))
            add(ws, t);
        else
            hollow_record_reset(t);
        if (k == RECORDS) /* V_EXTRA: one T more */
            break;

        HT_OK(hollow_record_add_element(l, rs[10 + k]));
        HT_OK(hollow_record_add_element(l, rs[here && v == V_LIST_ELEM ? 8 : k % 3]));
        if (here && v == V_LIST_LEN)
            HT_OK(hollow_record_add_element(l, rs[0]));
        add(ws, l);

        HT_OK(hollow_record_add_element(s, rs[10 + k]));
        HT_OK(hollow_record_add_element(s, rs[here && v == V_SET_ELEM ? 9 : 5 + k % 3]));
        add(ws, s);

        HT_OK(hollow_record_put_entry(m, rs[10 + k], rs[here && v == V_MAP_VALUE ? 9 : (k + 2) % 5]));
        HT_OK(hollow_record_put_entry(m, rs[5 + k % 4], rs[k % 2]));
        add(ws, m);
    }
    hollow_record_free(r);
    hollow_record_free(t);
    hollow_record_free(l);
    hollow_record_free(s);
    hollow_record_free(m);
}

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static int sink(void *payload, const void *data, size_t len)
{
    buf *b = payload;
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

static hollow_read_state *read_snapshot(hollow_write_state *ws)
{
    buf b = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, sink, &b));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, b.p, b.len, NULL));
    free(b.p);
    return rs;
}

static hollow_read_state *apply(const hollow_read_state *from,
                                hollow_write_state *ws, bool reverse)
{
    buf b = {0};
    HT_OK(reverse ? hollow_write_state_write_reverse_delta(ws, sink, &b)
                  : hollow_write_state_write_delta(ws, sink, &b));
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_apply_delta(&rs, from, b.p, b.len));
    free(b.p);
    return rs;
}

static hollow_write_state *write_state(void)
{
    hollow_schema_list *sl = NULL;
    HT_OK(hollow_schema_parse(&sl, SCHEMA, strlen(SCHEMA)));
    hollow_write_state *ws = NULL;
    HT_OK(hollow_write_state_new(&ws, sl, NULL));
    hollow_schema_list_free(sl);
    return ws;
}

/* equal() must say what the checksums say, and name the changed type */
static void expect(const hollow_read_state *a, const hollow_read_state *b,
                   bool want, const char *type, unsigned threads,
                   const char *what)
{
    bool same = !want;
    char why[256];
    HT_OK(hollow__read_states_equal(&same, why, sizeof why, a, b, threads));
    ck_assert_msg(same == want, "%s: equal says %d on %u threads", what,
                  (int)same, threads);
    uint32_t ca, cb;
    HT_OK(hollow_read_state_checksum(&ca, a));
    HT_OK(hollow_read_state_checksum(&cb, b));
    ck_assert_msg((ca == cb) == want, "%s: checksums %08x and %08x", what,
                  ca, cb);
    if (!want) {
        char name[64];
        snprintf(name, sizeof name, "type %s ", type);
        ck_assert_msg(strstr(why, name) != NULL, "%s: \"%s\" does not name %s",
                      what, why, type);
    }
}

/* variant v against the base, both read from snapshots */
START_TEST(states_equal_finds_each_change_in_snapshots)
{
    int v = _i;
    hollow_write_state *wa = write_state(), *wb = write_state();
    populate(wa, V_NONE);
    populate(wb, v);
    hollow_read_state *a = read_snapshot(wa), *b = read_snapshot(wb);
    for (unsigned threads = 1; threads <= 2; threads++) {
        expect(a, b, v == V_NONE, CHANGED[v], threads, "snapshots");
        expect(b, a, v == V_NONE, CHANGED[v], threads, "snapshots, swapped");
        expect(a, a, true, "", threads, "a state with itself");
    }
    hollow_read_state_release(a);
    hollow_read_state_release(b);
    hollow_write_state_free(wa);
    hollow_write_state_free(wb);
}
END_TEST

/* the base, then variant v as the next cycle: the delta's state equals
 * the snapshot's, differs from the base, and the reverse delta leads back */
START_TEST(states_equal_through_deltas)
{
    int v = _i;
    hollow_write_state *ws = write_state();
    populate(ws, V_NONE);
    hollow_read_state *base = read_snapshot(ws);
    HT_OK(hollow_write_state_prepare_cycle(ws));
    populate(ws, v);
    hollow_read_state *snap = read_snapshot(ws);
    hollow_read_state *fwd = apply(base, ws, false);
    hollow_read_state *back = apply(fwd, ws, true);
    for (unsigned threads = 1; threads <= 2; threads++) {
        expect(fwd, snap, true, "", threads, "base + delta vs snapshot");
        expect(back, base, true, "", threads, "back vs base");
        expect(fwd, base, v == V_NONE, CHANGED[v], threads,
               "base + delta vs base");
        expect(back, snap, v == V_NONE, CHANGED[v], threads, "back vs snapshot");
    }
    hollow_read_state_release(base);
    hollow_read_state_release(snap);
    hollow_read_state_release(fwd);
    hollow_read_state_release(back);
    hollow_write_state_free(ws);
}
END_TEST

/* a state of another schema: one R */
static hollow_read_state *other_state(void)
{
    static const char other[] = "R { int v; }\n";
    hollow_schema_list *sl = NULL;
    HT_OK(hollow_schema_parse(&sl, other, strlen(other)));
    hollow_write_state *wo = NULL;
    HT_OK(hollow_write_state_new(&wo, sl, NULL));
    hollow_schema_list_free(sl);
    hollow_record *r = NULL;
    HT_OK(hollow_record_new(&r, wo, "R"));
    HT_OK(hollow_record_set_int(r, 0, 1));
    add(wo, r);
    hollow_record_free(r);
    hollow_read_state *b = read_snapshot(wo);
    hollow_write_state_free(wo);
    return b;
}

/* states of other schemas are compared by checksum */
START_TEST(states_equal_other_layouts_by_checksum)
{
    hollow_write_state *ws = write_state();
    populate(ws, V_NONE);
    hollow_read_state *a = read_snapshot(ws);
    hollow_read_state *b = other_state();
    bool same = true;
    char why[256];
    HT_OK(hollow__read_states_equal(&same, why, sizeof why, a, b, 2));
    ck_assert(!same);
    ck_assert_msg(strstr(why, "checksum") != NULL, "%s", why);
    hollow_read_state_release(a);
    hollow_read_state_release(b);
    hollow_write_state_free(ws);
}
END_TEST

static int beside_task(void *ctx, size_t i)
{
    int *runs = ctx;
    ck_assert_uint_eq(i, 0);
    return ++*runs > 0 && runs[1] ? HOLLOW_EUSER : 0;
}

/* the task beside the comparison runs once whatever the comparison does
 * (tasks, none: the states share every shard, checksums), and its failure
 * is the result */
START_TEST(states_equal_beside_runs_its_task)
{
    hollow_write_state *ws = write_state();
    populate(ws, V_NONE);
    hollow_read_state *a = read_snapshot(ws), *b = read_snapshot(ws);
    hollow_write_state *wo = write_state();
    populate(wo, V_EXTRA);
    hollow_read_state *c = read_snapshot(wo), *d = other_state();
    const hollow_read_state *pairs[][2] = {{a, b}, {a, a}, {a, c}, {a, d}};
    for (size_t k = 0; k < 4; k++)
        for (unsigned threads = 1; threads <= 2; threads++)
            for (int fail = 0; fail < 2; fail++) {
                int runs[2] = {0, fail};
                bool same = false;
                char why[256];
                int rc = hollow__read_states_equal_beside(
                    &same, why, sizeof why, pairs[k][0], pairs[k][1], threads,
                    beside_task, runs);
                ck_assert_int_eq(runs[0], 1);
                ck_assert_int_eq(rc, fail ? HOLLOW_EUSER : 0);
                if (!fail)
                    ck_assert(same == (k < 2));
            }
    hollow_read_state_release(a);
    hollow_read_state_release(b);
    hollow_read_state_release(c);
    hollow_read_state_release(d);
    hollow_write_state_free(ws);
    hollow_write_state_free(wo);
}
END_TEST

static Suite *states_equal_suite(void)
{
    Suite *s = suite_create("states_equal");
    TCase *tc = tcase_create("states_equal");
    tcase_add_loop_test(tc, states_equal_finds_each_change_in_snapshots, 0,
                        V_COUNT);
    tcase_add_loop_test(tc, states_equal_through_deltas, 0, V_COUNT);
    tcase_add_test(tc, states_equal_other_layouts_by_checksum);
    tcase_add_test(tc, states_equal_beside_runs_its_task);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(states_equal_suite()); }
