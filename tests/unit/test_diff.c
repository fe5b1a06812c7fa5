/*
 * The diff (include/hollow/diff.h): the Movies change of bench-dataset.md,
 * the Java-written golden chains against their expected dumps, and random
 * chains whose diffs, applied as patches, turn one version into another.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hollow/hollow.h"
#include "movies_gen.h"
#include "movies_populate.h"
#include "testhelp.h"

/* ------------------------------------------------------------- helpers */

static hollow_read_state *read_snapshot(const ht_mem *m)
{
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, m->p, m->len, NULL));
    return rs;
}

static hollow_read_state *apply(const hollow_read_state *rs, const ht_mem *m)
{
    hollow_read_state *next = NULL;
    HT_OK(hollow_read_state_apply_delta(&next, rs, m->p, m->len));
    return next;
}

static bool find_type(hollow_diff_type *out, const hollow_diff *d,
                      const char *name)
{
    for (size_t i = 0; i < hollow_diff_type_count(d); i++) {
        HT_OK(hollow_diff_type_at(out, d, i));
        if (strcmp(out->name, name) == 0)
            return true;
    }
    return false;
}

static size_t type_index(const hollow_diff *d, const char *name)
{
    hollow_diff_type t;
    for (size_t i = 0; i < hollow_diff_type_count(d); i++) {
        HT_OK(hollow_diff_type_at(&t, d, i));
        if (strcmp(t.name, name) == 0)
            return i;
    }
    ck_abort_msg("no diffed type %s", name);
    return 0;
}

/* --------------------------------------------------------------- movies */

/* versions 1 and 2 of the Movies dataset (N movies) as two read states */
static void movies_states(hollow_read_state **v1, hollow_read_state **v2,
                          movies_data *d, uint64_t n, uint64_t target_shard)
{
    hollow_schema_list *schemas = NULL;
    HT_OK(hollow_schema_parse(&schemas, movies_schema_text,
                              strlen(movies_schema_text)));
    ck_assert_int_eq(movies_data_generate(d, n, 42), 0);
    hollow_write_options wopts = HOLLOW_WRITE_OPTIONS_INIT;
    wopts.target_shard_size = target_shard;
    hollow_write_state *ws = NULL;
    movies_writer w;
    HT_OK(hollow_write_state_new(&ws, schemas, &wopts));
    HT_OK(movies_writer_init(&w, ws, d->actor_count));
    HT_OK(movies_populate(&w, d, 1));
    ht_mem snap = {0}, delta = {0};
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &snap));
    HT_OK(hollow_write_state_prepare_cycle(ws));
    HT_OK(movies_populate(&w, d, 2));
    HT_OK(hollow_write_state_write_delta(ws, ht_mem_sink, &delta));
    movies_writer_free(&w);
    hollow_write_state_free(ws);
    hollow_schema_list_free(schemas);
    *v1 = read_snapshot(&snap);
    *v2 = apply(*v1, &delta);
    free(snap.p);
    free(delta.p);
}

static void check_movies_diff(const hollow_diff *d)
{
    hollow_diff_type t;
    ck_assert(find_type(&t, d, "Movie"));
    ck_assert_int_eq(t.match, HOLLOW_DIFF_BY_KEY);
    ck_assert_str_eq(t.key, "id");
    ck_assert_uint_eq(t.removed, 50);
    ck_assert_uint_eq(t.added, 50);
    ck_assert_uint_eq(t.changed, 50);
    ck_assert_uint_eq(t.unchanged, 10000 - 50 - 50);
    ck_assert_uint_eq(t.record_count, 150);
    size_t ti = type_index(d, "Movie");
    size_t changed = 0;
    for (size_t r = 0; r < t.record_count; r++) {
        hollow_diff_record rec;
        HT_OK(hollow_diff_record_at(&rec, d, ti, r));
        ck_assert_msg(strncmp(rec.key, "id=", 3) == 0, "key %s", rec.key);
        if (rec.kind != HOLLOW_DIFF_CHANGED) {
            ck_assert_uint_eq(rec.change_count, 0);
            continue;
        }
        changed++;
        ck_assert_msg(rec.change_count == 2, "movie %s: %zu changes", rec.key,
                      rec.change_count);
        ck_assert_str_eq(rec.changes[0].path, "title");
        ck_assert_str_eq(rec.changes[1].path, "year");
        /* title + " (Remastered)", year + 1 */
        const char *o = rec.changes[0].old_value, *n = rec.changes[0].new_value;
        size_t ol = strlen(o);
        ck_assert_msg(strncmp(n, o, ol - 1) == 0 &&
                          strcmp(n + ol - 1, " (Remastered)\"") == 0,
                      "title %s -> %s", o, n);
        ck_assert_int_eq(atoi(rec.changes[1].new_value),
                         atoi(rec.changes[1].old_value) + 1);
    }
    ck_assert_uint_eq(changed, 50);
    /* actors are the same in both versions */
    ck_assert(find_type(&t, d, "Actor"));
    ck_assert_uint_eq(t.record_count, 0);
    ck_assert_uint_eq(t.unchanged, 1000);
    ck_assert(hollow_diff_has_differences(d));
}

START_TEST(diff_movies_v1_v2)
{
    movies_data md;
    hollow_read_state *v1, *v2;
    movies_states(&v1, &v2, &md, 10000, UINT64_MAX);
    hollow_diff *d = NULL;
    HT_OK(hollow_diff_new(&d, v1, v2, NULL));
    check_movies_diff(d);
    /* the same with both states free: the diff holds them */
    hollow_read_state_release(v1);
    hollow_read_state_release(v2);
    check_movies_diff(d);
    hollow_diff_free(d);
    movies_data_free(&md);
}
END_TEST

/* many shards per type: untouched shards are shared and skipped */
START_TEST(diff_movies_sharded)
{
    movies_data md;
    hollow_read_state *v1, *v2;
    movies_states(&v1, &v2, &md, 10000, 4096);
    ck_assert_uint_gt(hollow_type_shard_count(hollow_read_state_type(v1, "Movie")), 1);
    hollow_diff *d = NULL;
    HT_OK(hollow_diff_new(&d, v1, v2, NULL));
    check_movies_diff(d);
    hollow_diff_free(d);
    /* the other way round: added and removed swap, the changes reverse */
    HT_OK(hollow_diff_new(&d, v2, v1, NULL));
    hollow_diff_type t;
    ck_assert(find_type(&t, d, "Movie"));
    ck_assert_uint_eq(t.added, 50);
    ck_assert_uint_eq(t.removed, 50);
    ck_assert_uint_eq(t.changed, 50);
    hollow_diff_free(d);
    /* a state against itself */
    HT_OK(hollow_diff_new(&d, v2, v2, NULL));
    ck_assert(!hollow_diff_has_differences(d));
    ck_assert(find_type(&t, d, "Movie"));
    ck_assert_uint_eq(t.unchanged, 10000);
    hollow_diff_free(d);
    hollow_read_state_release(v1);
    hollow_read_state_release(v2);
    movies_data_free(&md);
}
END_TEST

/* --type of an unkeyed type: matched by content, only added and removed */
START_TEST(diff_movies_by_content)
{
    movies_data md;
    hollow_read_state *v1, *v2;
    movies_states(&v1, &v2, &md, 2000, UINT64_MAX);
    hollow_diff_options o = HOLLOW_DIFF_OPTIONS_INIT;
    o.type = "SetOfActor";
    hollow_diff *d = NULL;
    HT_OK(hollow_diff_new(&d, v1, v2, &o));
    ck_assert_uint_eq(hollow_diff_type_count(d), 1);
    hollow_diff_type t;
    HT_OK(hollow_diff_type_at(&t, d, 0));
    ck_assert_int_eq(t.match, HOLLOW_DIFF_BY_CONTENT);
    ck_assert_uint_eq(t.changed, 0);
    const hollow_type *a = hollow_read_state_type(v1, "SetOfActor");
    const hollow_type *b = hollow_read_state_type(v2, "SetOfActor");
    ck_assert_uint_eq(hollow_type_record_count(a) - t.removed + t.added,
                      hollow_type_record_count(b));
    ck_assert_uint_eq(t.unchanged + t.added, hollow_type_record_count(b));
    for (size_t r = 0; r < t.record_count; r++) {
        hollow_diff_record rec;
        HT_OK(hollow_diff_record_at(&rec, d, 0, r));
        ck_assert(rec.kind != HOLLOW_DIFF_CHANGED);
        ck_assert_msg(rec.key[0] == '[', "content key %s", rec.key);
    }
    hollow_diff_free(d);
    o.type = "Nope";
    ck_assert_int_eq(hollow_diff_new(&d, v1, v2, &o), HOLLOW_ENOTFOUND);
    ck_assert_ptr_null(d);
    o.version = 99;
    ck_assert_int_eq(hollow_diff_new(&d, v1, v2, &o), HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_diff_new(&d, NULL, v2, NULL), HOLLOW_EINVAL);
    hollow_diff_free(NULL);
    hollow_read_state_release(v1);
    hollow_read_state_release(v2);
    movies_data_free(&md);
}
END_TEST

/*
 * A referenced type's schema changes while the referencing keyed type's
 * does not: two consecutive snapshots (the second's origin tag is the
 * first's tag) keep the Movie ordinals, but every Movie's deep value
 * changed (its lead gained a field): all of them are changed.
 */
START_TEST(diff_referenced_schema_change)
{
    static const char S1[] = "Movie @PrimaryKey(id) { int id; Actor lead; }\n"
                             "Actor { int aid; }\n";
    static const char S2[] = "Movie @PrimaryKey(id) { int id; Actor lead; }\n"
                             "Actor { int aid; string nick; }\n";
    hollow_read_state *rs[2];
    for (int v = 0; v < 2; v++) {
        hollow_schema_list *l = NULL;
        const char *text = v ? S2 : S1;
        HT_OK(hollow_schema_parse(&l, text, strlen(text)));
        hollow_write_state *ws = NULL;
        HT_OK(hollow_write_state_new(&ws, l, NULL));
        if (v)
            HT_OK(hollow_write_state_restore(ws, rs[0]));
        hollow_record *m = NULL, *a = NULL;
        HT_OK(hollow_record_new(&m, ws, "Movie"));
        HT_OK(hollow_record_new(&a, ws, "Actor"));
        for (int i = 0; i < 20; i++) {
            hollow_ordinal ao, mo;
            hollow_record_reset(a);
            HT_OK(hollow_record_set_int(a, 0, i % 5));
            if (v)
                HT_OK(hollow_record_set_string(a, 1, "x", 1));
            HT_OK(hollow_write_state_add(&ao, ws, a));
            hollow_record_reset(m);
            HT_OK(hollow_record_set_int(m, 0, i));
            HT_OK(hollow_record_set_ref(m, 1, ao));
            HT_OK(hollow_write_state_add(&mo, ws, m));
        }
        ht_mem snap = {0};
        HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &snap));
        rs[v] = read_snapshot(&snap);
        free(snap.p);
        hollow_record_free(m);
        hollow_record_free(a);
        hollow_write_state_free(ws);
        hollow_schema_list_free(l);
    }
    ck_assert(hollow_read_state_origin_tag(rs[1]) ==
              hollow_read_state_randomized_tag(rs[0]));
    hollow_diff *d = NULL;
    HT_OK(hollow_diff_new(&d, rs[0], rs[1], NULL));
    hollow_diff_type t;
    ck_assert(find_type(&t, d, "Movie"));
    ck_assert_uint_eq(t.changed, 20);
    ck_assert_uint_eq(t.unchanged, 0);
    hollow_diff_record rec;
    HT_OK(hollow_diff_record_at(&rec, d, type_index(d, "Movie"), 0));
    ck_assert_uint_eq(rec.change_count, 1);
    ck_assert_str_eq(rec.changes[0].path, "lead.nick");
    ck_assert_ptr_null(rec.changes[0].old_value);
    ck_assert_str_eq(rec.changes[0].new_value, "\"x\"");
    hollow_diff_free(d);
    hollow_read_state_release(rs[0]);
    hollow_read_state_release(rs[1]);
}
END_TEST

/* --------------------------------------------------------------- golden */

/* the value at dot path `path` of a JSON record, as compact text */
static char *json_path_text(json_t *rec, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = rec;
    for (char *save = NULL, *p = strtok_r(buf, ".", &save); p != NULL;
         p = strtok_r(NULL, ".", &save))
        v = json_is_object(v) ? json_object_get(v, p) : NULL;
    if (v != NULL && json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v)) {
        /* an integer read as a double (a line with a huge number) */
        char *t = malloc(32);
        snprintf(t, 32, "%lld", (long long)json_real_value(v));
        return t;
    }
    return json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
}

/* one record line of a deep dump; jansson refuses lone surrogates, so a
 * line it cannot read is read again with each \\u escape made literal text
 * (the same on both sides, so equal records stay equal) */
static json_t *parse_record_line(const char *line)
{
    json_error_t err;
    json_t *j = json_loads(line, JSON_DECODE_ANY, &err);
    if (j == NULL) /* integers past int64, as doubles print them */
        j = json_loads(line, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &err);
    if (j != NULL)
        return j;
    size_t n = strlen(line);
    char *t = malloc(2 * n + 1), *q = t;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\\' && line[i + 1] == 'u')
            *q++ = '\\';
        else if (line[i] == '\\' && i + 1 < n)
            *q++ = line[i++];
        *q++ = line[i];
    }
    *q = 0;
    j = json_loads(t, JSON_DECODE_ANY, &err);
    if (j == NULL)
        j = json_loads(t, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &err);
    ck_assert_msg(j != NULL, "cannot read dump line %s: %s", line, err.text);
    free(t);
    return j;
}

/*
 * key text -> record of the expected deep dump of `type` at `version`;
 * NULL when the vectors hold no dump of it (then the type is not checked,
 * unless the state lacks it: an empty object)
 */
static json_t *expected_records(const char *scenario, const char *version,
                                const char *type, const hollow_schema *s,
                                bool in_state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/expected/%s.deep.%s.json",
             HOLLOW_GOLDEN_DIR, scenario, version, type);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return in_state ? NULL : json_object();
    json_t *out = json_object();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ','))
            line[--len] = 0;
        if (line[0] != '{' || strncmp(line, "{\"format\"", 9) == 0)
            continue;
        json_t *rec = parse_record_line(line);
        char key[1024] = "";
        for (size_t k = 0; k < hollow_schema_key_count(s); k++) {
            char *v = json_path_text(rec, hollow_schema_key_path(s, k));
            snprintf(key + strlen(key), sizeof key - strlen(key), "%s%s=%s",
                     k ? "," : "", hollow_schema_key_path(s, k), v);
            free(v);
        }
        json_object_set_new(out, key, rec);
    }
    free(line);
    fclose(f);
    return out;
}

/* diff(states[i], states[j]) against what the two versions' dumps imply */
/*
 * whether the manifest notes that the state a consumer reaches by deltas
 * from the first version to version `k` has another deep dump of `type`
 * than the reference (a consumer keeps its first snapshot's schema)
 */
static bool chain_differs(json_t *m, size_t k, const char *type)
{
    json_t *versions = json_object_get(m, "versions");
    if (k == 0)
        return false;
    char want[256];
    snprintf(want, sizeof want, "fwd-%lld-to-%lld: deep dump of %s differs",
             (long long)json_integer_value(json_array_get(versions, 0)),
             (long long)json_integer_value(json_array_get(versions, k)), type);
    size_t i;
    json_t *note;
    json_array_foreach(json_object_get(m, "notes"), i, note)
        if (strstr(json_string_value(note), want) != NULL)
            return true;
    return false;
}

/* chain: the states came from deltas (else from each version's snapshot) */
static void check_golden_pair(const char *scenario, json_t *m,
                              hollow_read_state **states, size_t i, size_t j,
                              bool chain)
{
    json_t *versions = json_object_get(m, "versions");
    char va[32], vb[32];
    snprintf(va, sizeof va, "%lld",
             (long long)json_integer_value(json_array_get(versions, i)));
    snprintf(vb, sizeof vb, "%lld",
             (long long)json_integer_value(json_array_get(versions, j)));
    hollow_diff *d = NULL;
    HT_OK(hollow_diff_new(&d, states[i], states[j], NULL));
    size_t checked = 0;
    for (size_t t = 0; t < hollow_read_state_type_count(states[j]); t++) {
        const hollow_type *ty = hollow_read_state_type_at(states[j], t);
        const hollow_schema *s = hollow_type_schema(ty);
        if (hollow_type_kind(ty) != HOLLOW_SCHEMA_OBJECT ||
            hollow_schema_key_count(s) == 0)
            continue;
        const char *name = hollow_type_name(ty);
        if (chain && (chain_differs(m, i, name) || chain_differs(m, j, name)))
            continue;
        json_t *ea = expected_records(scenario, va, name, s,
                                      hollow_read_state_type(states[i], name));
        json_t *eb = expected_records(scenario, vb, name, s, true);
        if (ea == NULL || eb == NULL) {
            json_decref(ea);
            json_decref(eb);
            continue;
        }
        size_t added = 0, removed = 0, changed = 0, unchanged = 0;
        const char *k;
        json_t *r;
        json_object_foreach(eb, k, r) {
            json_t *o = json_object_get(ea, k);
            if (o == NULL)
                added++;
            else if (json_equal(o, r))
                unchanged++;
            else
                changed++;
        }
        json_object_foreach(ea, k, r) removed += json_object_get(eb, k) == NULL;
        hollow_diff_type dt;
        ck_assert_msg(find_type(&dt, d, hollow_type_name(ty)), "%s: no %s",
                      scenario, hollow_type_name(ty));
        ck_assert_msg(dt.added == added && dt.removed == removed &&
                          dt.changed == changed && dt.unchanged == unchanged,
                      "%s %s->%s %s: diff +%zu -%zu ~%zu =%zu, dumps +%zu -%zu "
                      "~%zu =%zu", scenario, va, vb, hollow_type_name(ty),
                      dt.added, dt.removed, dt.changed, dt.unchanged, added,
                      removed, changed, unchanged);
        /* every changed record's key is one the dumps call changed */
        size_t ti = type_index(d, hollow_type_name(ty));
        for (size_t x = 0; x < dt.record_count; x++) {
            hollow_diff_record rec;
            HT_OK(hollow_diff_record_at(&rec, d, ti, x));
            json_t *o = json_object_get(ea, rec.key);
            json_t *n = json_object_get(eb, rec.key);
            ck_assert_msg((rec.kind == HOLLOW_DIFF_ADDED && !o && n) ||
                              (rec.kind == HOLLOW_DIFF_REMOVED && o && !n) ||
                              (rec.kind == HOLLOW_DIFF_CHANGED && o && n &&
                               !json_equal(o, n) && rec.change_count > 0),
                          "%s %s: record %s kind %d", scenario,
                          hollow_type_name(ty), rec.key, (int)rec.kind);
        }
        json_decref(ea);
        json_decref(eb);
        checked++;
    }
    (void)checked;
    hollow_diff_free(d);
}

START_TEST(diff_golden_agrees_with_dumps)
{
    static const char *scenarios[] = HT_GOLDEN_SCENARIOS;
    const char *scenario = scenarios[_i];
    char path[512];
    snprintf(path, sizeof path, "%s/%s/manifest.json", HOLLOW_GOLDEN_DIR,
             scenario);
    json_error_t err;
    json_t *m = json_load_file(path, 0, &err);
    ck_assert_msg(m != NULL, "%s: %s", path, err.text);
    json_t *versions = json_object_get(m, "versions");
    size_t nv = json_array_size(versions);
    ht_chain c;
    ht_chain_load(&c, scenario);
    hollow_read_state **states = calloc(nv, sizeof *states);
    HT_OK(hollow_read_state_from_snapshot(&states[0], c.snapshot.p,
                                          c.snapshot.len, NULL));
    for (size_t v = 1; v < nv; v++)
        HT_OK(hollow_read_state_apply_delta(&states[v], states[v - 1],
                                            c.steps[v - 1].p, c.steps[v - 1].len));
    /* each delta, then every pair further apart (several deltas: kept
     * ordinals are compared, reused ones included), both ways */
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nv; j++)
            if (i != j)
                check_golden_pair(scenario, m, states, i, j, true);
    for (size_t v = 0; v < nv; v++)
        hollow_read_state_release(states[v]);
    /* the snapshots of the versions that have one: nothing is shared, so
     * every record is compared */
    size_t ns = 0;
    for (size_t v = 0; v < nv; v++) {
        snprintf(path, sizeof path, "%s/%s/snapshot-%lld", HOLLOW_GOLDEN_DIR,
                 scenario,
                 (long long)json_integer_value(json_array_get(versions, v)));
        states[v] = NULL;
        if (access(path, R_OK) == 0) {
            HT_OK(hollow_read_state_open(&states[v], path, NULL));
            ns++;
        }
    }
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nv; j++)
            if (i != j && states[i] != NULL && states[j] != NULL)
                check_golden_pair(scenario, m, states, i, j, false);
    for (size_t v = 0; v < nv; v++)
        hollow_read_state_release(states[v]);
    ck_assert_uint_gt(ns, 0);
    free(states);
    ht_chain_free(&c);
    json_decref(m);
}
END_TEST

/* ------------------------------------------------------- random chains */

/*
 * Random chains: versions of a small model (Item records with a wrapped
 * string, a list, a keyed set, a content set and a map) each derived from
 * the previous by random removals, additions and changes, written as a
 * snapshot and deltas. For pairs of versions, the diff applied as a patch
 * to the first version's records (as JSON, built from the model, not read
 * from the states) must give the second version's records.
 */
static const char ITEM_SCHEMA[] =
    "Item @PrimaryKey(id) { int id; string name; long n; Tag tag; "
    "ListOfTag tags; SetOfPart parts; SetOfTag labels; MapOfTagToPart attrs; }\n"
    "Tag { string value; }\n"
    "Part { int pid; string label; }\n"
    "ListOfTag List<Tag>;\n"
    "SetOfPart Set<Part> @HashKey(pid);\n"
    "SetOfTag Set<Tag>;\n"
    "MapOfTagToPart Map<Tag,Part> @HashKey(value);\n";

#define WORDS 12
#define MAXC 4
static const char *WORD[WORDS] = {"ant", "bee", "cat", "dog", "eel", "fox",
                                  "gnu", "hen", "ibis", "jay", "koi",
                                  "\u00e9lan \"q\""};

typedef struct part {
    int pid, label;
} part;

typedef struct item {
    int id, name, tag; /* tag -1: null */
    long long n;
    int ntags, tags[MAXC];
    int nparts;
    part parts[MAXC]; /* distinct pids */
    int nlabels, labels[MAXC]; /* distinct */
    int nattrs, akeys[MAXC];   /* distinct */
    part avals[MAXC];
} item;

typedef struct version {
    item *items;
    int count;
} version;

static int rnd(uint64_t *r, int n)
{
    return (int)(ht_rand(r) % (uint64_t)n);
}

/* n distinct values below `range` into v */
static void distinct(uint64_t *r, int *v, int n, int range)
{
    for (int i = 0; i < n; i++) {
        bool again;
        do {
            v[i] = rnd(r, range);
            again = false;
            for (int j = 0; j < i; j++)
                again |= v[j] == v[i];
        } while (again);
    }
}

static void random_field(uint64_t *r, item *it, int which)
{
    int tmp[MAXC];
    switch (which) {
    case 0: it->name = rnd(r, WORDS); break;
    case 1: it->n = (long long)(ht_rand(r) % 1000) - 500; break;
    case 2: it->tag = rnd(r, WORDS + 2) - 2 < 0 ? -1 : rnd(r, WORDS); break;
    case 3:
        it->ntags = rnd(r, MAXC + 1);
        for (int i = 0; i < it->ntags; i++)
            it->tags[i] = rnd(r, WORDS);
        break;
    case 4:
        it->nparts = rnd(r, MAXC + 1);
        distinct(r, tmp, it->nparts, 6);
        for (int i = 0; i < it->nparts; i++)
            it->parts[i] = (part){tmp[i], rnd(r, WORDS)};
        break;
    case 5:
        it->nlabels = rnd(r, MAXC + 1);
        distinct(r, it->labels, it->nlabels, WORDS);
        break;
    case 6:
        it->nattrs = rnd(r, MAXC + 1);
        distinct(r, it->akeys, it->nattrs, WORDS);
        for (int i = 0; i < it->nattrs; i++)
            it->avals[i] = (part){rnd(r, 6), rnd(r, WORDS)};
        break;
    case 7: /* one element of a collection, so paths go deep */
        if (it->nparts > 0)
            it->parts[rnd(r, it->nparts)].label = rnd(r, WORDS);
        if (it->nattrs > 0)
            it->avals[rnd(r, it->nattrs)].label = rnd(r, WORDS);
        if (it->ntags > 0)
            it->tags[rnd(r, it->ntags)] = rnd(r, WORDS);
        break;
    }
}

static void random_item(uint64_t *r, item *it, int id)
{
    memset(it, 0, sizeof *it);
    it->id = id;
    for (int f = 0; f < 7; f++)
        random_field(r, it, f);
}

static version next_version(uint64_t *r, const version *prev, int *next_id,
                            int initial)
{
    version v = {calloc((size_t)(prev ? prev->count : 0) + (size_t)initial + 8,
                        sizeof(item)), 0};
    for (int i = 0; prev != NULL && i < prev->count; i++) {
        int roll = rnd(r, 100);
        if (roll < 12)
            continue; /* removed */
        item it = prev->items[i];
        if (roll < 40)
            for (int k = rnd(r, 3) + 1; k > 0; k--)
                random_field(r, &it, rnd(r, 8));
        v.items[v.count++] = it;
    }
    int add = prev ? rnd(r, 8) : initial;
    for (int i = 0; i < add; i++)
        random_item(r, &v.items[v.count++], (*next_id)++);
    return v;
}

typedef struct item_writer {
    hollow_write_state *ws;
    hollow_record *item, *tag, *part, *list, *set, *tset, *map;
} item_writer;

static hollow_ordinal add_tag(item_writer *w, int word)
{
    hollow_ordinal o;
    hollow_record_reset(w->tag);
    HT_OK(hollow_record_set_string(w->tag, 0, WORD[word], strlen(WORD[word])));
    HT_OK(hollow_write_state_add(&o, w->ws, w->tag));
    return o;
}

static hollow_ordinal add_part(item_writer *w, part p)
{
    hollow_ordinal o;
    hollow_record_reset(w->part);
    HT_OK(hollow_record_set_int(w->part, 0, p.pid));
    HT_OK(hollow_record_set_string(w->part, 1, WORD[p.label], strlen(WORD[p.label])));
    HT_OK(hollow_write_state_add(&o, w->ws, w->part));
    return o;
}

static void populate_items(item_writer *w, const version *v)
{
    for (int i = 0; i < v->count; i++) {
        const item *it = &v->items[i];
        hollow_ordinal o, list, set, tset, map;
        hollow_record_reset(w->list);
        for (int k = 0; k < it->ntags; k++)
            HT_OK(hollow_record_add_element(w->list, add_tag(w, it->tags[k])));
        HT_OK(hollow_write_state_add(&list, w->ws, w->list));
        hollow_record_reset(w->set);
        for (int k = 0; k < it->nparts; k++)
            HT_OK(hollow_record_add_element(w->set, add_part(w, it->parts[k])));
        HT_OK(hollow_write_state_add(&set, w->ws, w->set));
        hollow_record_reset(w->tset);
        for (int k = 0; k < it->nlabels; k++)
            HT_OK(hollow_record_add_element(w->tset, add_tag(w, it->labels[k])));
        HT_OK(hollow_write_state_add(&tset, w->ws, w->tset));
        hollow_record_reset(w->map);
        for (int k = 0; k < it->nattrs; k++) {
            hollow_ordinal key = add_tag(w, it->akeys[k]);
            HT_OK(hollow_record_put_entry(w->map, key, add_part(w, it->avals[k])));
        }
        HT_OK(hollow_write_state_add(&map, w->ws, w->map));
        hollow_record_reset(w->item);
        HT_OK(hollow_record_set_int(w->item, 0, it->id));
        HT_OK(hollow_record_set_string(w->item, 1, WORD[it->name],
                                       strlen(WORD[it->name])));
        HT_OK(hollow_record_set_long(w->item, 2, it->n));
        if (it->tag < 0)
            HT_OK(hollow_record_set_null(w->item, 3));
        else
            HT_OK(hollow_record_set_ref(w->item, 3, add_tag(w, it->tag)));
        HT_OK(hollow_record_set_ref(w->item, 4, list));
        HT_OK(hollow_record_set_ref(w->item, 5, set));
        HT_OK(hollow_record_set_ref(w->item, 6, tset));
        HT_OK(hollow_record_set_ref(w->item, 7, map));
        HT_OK(hollow_write_state_add(&o, w->ws, w->item));
    }
}

static json_t *part_json(part p)
{
    return json_pack("{s:i,s:s}", "pid", p.pid, "label", WORD[p.label]);
}

static int cmp_json_text(const void *x, const void *y)
{
    char *a = json_dumps(*(json_t *const *)x, JSON_COMPACT | JSON_ENCODE_ANY);
    char *b = json_dumps(*(json_t *const *)y, JSON_COMPACT | JSON_ENCODE_ANY);
    int k = strcmp(a, b);
    free(a);
    free(b);
    return k;
}

/* sort a JSON array (a SET or MAP: order is not part of the value) */
static void sort_array(json_t *a)
{
    size_t n = json_array_size(a);
    json_t **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(a, i));
    qsort(v, n, sizeof *v, cmp_json_text);
    json_array_clear(a);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, v[i]);
    free(v);
}

static void canonical(json_t *rec)
{
    sort_array(json_object_get(rec, "parts"));
    sort_array(json_object_get(rec, "labels"));
    sort_array(json_object_get(rec, "attrs"));
}

static json_t *item_json(const item *it)
{
    json_t *tags = json_array(), *parts = json_array(), *labels = json_array(),
           *attrs = json_array();
    for (int k = 0; k < it->ntags; k++)
        json_array_append_new(tags, json_string(WORD[it->tags[k]]));
    for (int k = 0; k < it->nparts; k++)
        json_array_append_new(parts, part_json(it->parts[k]));
    for (int k = 0; k < it->nlabels; k++)
        json_array_append_new(labels, json_string(WORD[it->labels[k]]));
    for (int k = 0; k < it->nattrs; k++)
        json_array_append_new(attrs, json_pack("[s,o]", WORD[it->akeys[k]],
                                               part_json(it->avals[k])));
    json_t *rec = json_pack("{s:i,s:s,s:I,s:o,s:o,s:o,s:o,s:o}", "id", it->id,
                            "name", WORD[it->name], "n", (json_int_t)it->n,
                            "tag", it->tag < 0 ? json_null()
                                               : json_string(WORD[it->tag]),
                            "tags", tags, "parts", parts, "labels", labels,
                            "attrs", attrs);
    canonical(rec);
    return rec;
}

/* "id=N" -> record JSON */
static json_t *version_json(const version *v)
{
    json_t *out = json_object();
    for (int i = 0; i < v->count; i++) {
        char key[32];
        snprintf(key, sizeof key, "id=%d", v->items[i].id);
        json_object_set_new(out, key, item_json(&v->items[i]));
    }
    return out;
}

static json_t *parse_value(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    ck_assert_msg(j != NULL, "diff value %s is not JSON: %s", text, err.text);
    return j;
}

/* the index in array `a` of the element a selector names, or -1 */
static int find_selected(json_t *a, const char *sel, size_t len, bool map)
{
    char *text = strndup(sel, len);
    const char *eq = strchr(text, '=');
    int found = -1;
    bool keyed = eq != NULL && text[0] != '"' && text[0] != '{' && text[0] != '[';
    json_t *want = NULL;
    if (keyed)
        want = parse_value(eq + 1);
    else
        want = parse_value(text);
    for (size_t i = 0; i < json_array_size(a) && found < 0; i++) {
        json_t *e = json_array_get(a, i);
        if (map)
            e = json_array_get(e, 0);
        if (keyed) {
            char field[64];
            snprintf(field, sizeof field, "%.*s", (int)(eq - text), text);
            if (json_equal(json_object_get(e, field), want))
                found = (int)i;
        } else if (json_equal(e, want)) {
            found = (int)i;
        }
    }
    json_decref(want);
    free(text);
    return found;
}

/* the end of the step at p: a field name or a [..] selector */
static size_t step_len(const char *p)
{
    if (*p != '[') {
        size_t n = 0;
        while (p[n] && p[n] != '.' && p[n] != '[')
            n++;
        return n;
    }
    bool quoted = false;
    for (size_t n = 1; p[n]; n++) {
        if (quoted && p[n] == '\\')
            n++;
        else if (p[n] == '"')
            quoted = !quoted;
        else if (!quoted && p[n] == ']')
            return n + 1;
    }
    ck_abort_msg("unterminated selector in %s", p);
    return 0;
}

static json_t *REMOVED_MARK;

/* apply one change (path, old, new) to record `rec` */
static void apply_change(json_t *rec, const hollow_diff_change *c)
{
    json_t *cur = rec;
    const char *p = c->path;
    const char *field = NULL; /* the last field name passed */
    char name[64];
    for (;;) {
        if (*p == '.')
            p++;
        size_t n = step_len(p);
        bool last = p[n] == '\0';
        json_t *nv = c->new_value ? parse_value(c->new_value) : NULL;
        if (*p != '[') {
            snprintf(name, sizeof name, "%.*s", (int)n, p);
            field = name;
            if (last) {
                if (nv)
                    json_object_set_new(cur, name, nv);
                else
                    json_object_del(cur, name);
                return;
            }
            cur = json_object_get(cur, name);
        } else if (p[1] >= '0' && p[1] <= '9') {
            size_t i = (size_t)atoi(p + 1);
            if (last) {
                if (nv == NULL)
                    json_array_set(cur, i, REMOVED_MARK);
                else if (c->old_value == NULL)
                    json_array_append_new(cur, nv);
                else
                    json_array_set_new(cur, i, nv);
                return;
            }
            cur = json_array_get(cur, i);
        } else {
            bool map = field != NULL && strcmp(field, "attrs") == 0;
            int i = find_selected(cur, p + 1, n - 2, map);
            if (last) {
                if (nv == NULL) {
                    ck_assert_msg(i >= 0, "%s: nothing to remove", c->path);
                    json_array_remove(cur, (size_t)i);
                } else if (i < 0) {
                    ck_assert_msg(c->old_value == NULL, "%s: not found", c->path);
                    if (map) {
                        char *k = strndup(p + 1, n - 2);
                        json_array_append_new(cur, json_pack("[o,o]",
                                                             parse_value(k), nv));
                        free(k);
                    } else {
                        json_array_append_new(cur, nv);
                    }
                } else if (map) {
                    json_array_set_new(json_array_get(cur, (size_t)i), 1, nv);
                } else {
                    json_array_set_new(cur, (size_t)i, nv);
                }
                return;
            }
            ck_assert_msg(i >= 0, "%s: no element %.*s", c->path, (int)n, p);
            cur = json_array_get(cur, (size_t)i);
            if (map)
                cur = json_array_get(cur, 1);
        }
        json_decref(nv);
        ck_assert_msg(cur != NULL, "%s: path leads nowhere", c->path);
        p += n;
    }
}

static void drop_marks(json_t *rec)
{
    json_t *tags = json_object_get(rec, "tags");
    for (size_t i = json_array_size(tags); i-- > 0;)
        if (json_array_get(tags, i) == REMOVED_MARK)
            json_array_remove(tags, i);
}

static void check_patch(const hollow_diff *d, const version *va,
                        const version *vb, const char *ctx)
{
    json_t *a = version_json(va), *b = version_json(vb);
    size_t ti = type_index(d, "Item");
    hollow_diff_type t;
    HT_OK(hollow_diff_type_at(&t, d, ti));
    for (size_t r = 0; r < t.record_count; r++) {
        hollow_diff_record rec;
        HT_OK(hollow_diff_record_at(&rec, d, ti, r));
        json_t *ra = json_object_get(a, rec.key);
        switch (rec.kind) {
        case HOLLOW_DIFF_REMOVED:
            ck_assert_msg(ra != NULL, "%s: removed %s not in A", ctx, rec.key);
            json_object_del(a, rec.key);
            break;
        case HOLLOW_DIFF_ADDED:
            ck_assert_msg(ra == NULL, "%s: added %s already in A", ctx, rec.key);
            json_object_set(a, rec.key, json_object_get(b, rec.key));
            break;
        case HOLLOW_DIFF_CHANGED:
            ck_assert_msg(ra != NULL && rec.change_count > 0, "%s: changed %s",
                          ctx, rec.key);
            for (size_t c = 0; c < rec.change_count; c++)
                apply_change(ra, &rec.changes[c]);
            drop_marks(ra);
            canonical(ra);
            break;
        }
    }
    const char *k;
    json_t *rb;
    json_object_foreach(b, k, rb) {
        json_t *ra = json_object_get(a, k);
        if (ra == NULL || !json_equal(ra, rb)) {
            char *x = ra ? json_dumps(ra, JSON_COMPACT) : NULL;
            char *y = json_dumps(rb, JSON_COMPACT);
            ck_abort_msg("%s: %s patched is %s, want %s", ctx, k,
                         x ? x : "(none)", y);
        }
    }
    ck_assert_msg(json_object_size(a) == json_object_size(b),
                  "%s: %zu records after the patch, want %zu", ctx,
                  json_object_size(a), json_object_size(b));
    json_decref(a);
    json_decref(b);
}

START_TEST(diff_random_chains_patch)
{
    uint64_t seed = ht_seed("diff_random_chains_patch");
    REMOVED_MARK = json_string("\x01removed");
    hollow_schema_list *schemas = NULL;
    HT_OK(hollow_schema_parse(&schemas, ITEM_SCHEMA, strlen(ITEM_SCHEMA)));
    int chains = 6 * ht_scale();
    for (int c = 0; c < chains; c++) {
        uint64_t r = seed + (uint64_t)c;
        enum { NV = 5 };
        version v[NV];
        hollow_read_state *rs[NV];
        int next_id = 1;
        hollow_write_options wo = HOLLOW_WRITE_OPTIONS_INIT;
        wo.target_shard_size = rnd(&r, 2) ? UINT64_MAX : 512;
        item_writer w = {0};
        HT_OK(hollow_write_state_new(&w.ws, schemas, &wo));
        HT_OK(hollow_record_new(&w.item, w.ws, "Item"));
        HT_OK(hollow_record_new(&w.tag, w.ws, "Tag"));
        HT_OK(hollow_record_new(&w.part, w.ws, "Part"));
        HT_OK(hollow_record_new(&w.list, w.ws, "ListOfTag"));
        HT_OK(hollow_record_new(&w.set, w.ws, "SetOfPart"));
        HT_OK(hollow_record_new(&w.tset, w.ws, "SetOfTag"));
        HT_OK(hollow_record_new(&w.map, w.ws, "MapOfTagToPart"));
        for (int k = 0; k < NV; k++) {
            v[k] = next_version(&r, k ? &v[k - 1] : NULL, &next_id,
                                40 + rnd(&r, 200));
            ht_mem blob = {0};
            if (k > 0)
                HT_OK(hollow_write_state_prepare_cycle(w.ws));
            populate_items(&w, &v[k]);
            if (k == 0) {
                HT_OK(hollow_write_state_write_snapshot(w.ws, ht_mem_sink, &blob));
                rs[k] = read_snapshot(&blob);
            } else {
                HT_OK(hollow_write_state_write_delta(w.ws, ht_mem_sink, &blob));
                rs[k] = apply(rs[k - 1], &blob);
            }
            free(blob.p);
        }
        for (int i = 0; i < NV; i++)
            for (int j = 0; j < NV; j++) {
                if (i == j)
                    continue;
                char ctx[96];
                snprintf(ctx, sizeof ctx, "seed %llu chain %d: %d -> %d",
                         (unsigned long long)seed, c, i + 1, j + 1);
                hollow_diff *d = NULL;
                HT_OK(hollow_diff_new(&d, rs[i], rs[j], NULL));
                check_patch(d, &v[i], &v[j], ctx);
                hollow_diff_free(d);
            }
        for (int k = 0; k < NV; k++) {
            hollow_read_state_release(rs[k]);
            free(v[k].items);
        }
        hollow_record_free(w.item);
        hollow_record_free(w.tag);
        hollow_record_free(w.part);
        hollow_record_free(w.list);
        hollow_record_free(w.set);
        hollow_record_free(w.tset);
        hollow_record_free(w.map);
        hollow_write_state_free(w.ws);
    }
    hollow_schema_list_free(schemas);
    json_decref(REMOVED_MARK);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *diff_suite(void)
{
    static const char *scenarios[] = HT_GOLDEN_SCENARIOS;
    Suite *s = suite_create("diff");
    TCase *tc = tcase_create("movies");
    tcase_add_test(tc, diff_movies_v1_v2);
    tcase_add_test(tc, diff_movies_sharded);
    tcase_add_test(tc, diff_movies_by_content);
    tcase_add_test(tc, diff_referenced_schema_change);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_test(tc, diff_random_chains_patch);
    suite_add_tcase(s, tc);

    tc = tcase_create("golden");
    tcase_add_loop_test(tc, diff_golden_agrees_with_dumps, 0,
                        (int)(sizeof scenarios / sizeof *scenarios));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(diff_suite());
}
