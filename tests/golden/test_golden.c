/*
 * Golden vectors: blobs written by Java Hollow 7.14.51 with the expected
 * canonical and deep dumps of every state they lead to (README.md beside
 * this file). For every check of every scenario's manifest.json whose kind
 * load the blobs (snapshot, then deltas and reverse deltas), dump, and compare the SHA-256 (and
 * the bytes, where the expected file is stored) with what Java printed —
 * in heap mode and in mmap mode.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/dump.h"
#include "hollow/read.h"
#include "testhelp.h"

/* load the chain of a check: a snapshot, then deltas and reverse deltas */
static hollow_read_state *load_chain(const char *dir, json_t *blobs,
                                     hollow_memory_mode mode)
{
    char path[1024];
    ck_assert_int_ge(json_array_size(blobs), 1);
    snprintf(path, sizeof path, "%s/%s", dir,
             json_string_value(json_array_get(blobs, 0)));
    hollow_read_options opts = HOLLOW_READ_OPTIONS_INIT;
    opts.memory_mode = mode;
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_open(&rs, path, &opts));
    for (size_t i = 1; i < json_array_size(blobs); i++) {
        snprintf(path, sizeof path, "%s/%s", dir,
                 json_string_value(json_array_get(blobs, i)));
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta_file(&next, rs, path));
        hollow_read_state_release(rs);
        rs = next;
    }
    return rs;
}

static void compare(const char *dir, const char *what, const ht_mem *s,
                    json_t *entry)
{
    char hex[65];
    ht_sha256_hex(s->p, s->len, hex);
    const char *want = json_string_value(json_object_get(entry, "sha256"));
    json_t *file = json_object_get(entry, "file");
    if (strcmp(hex, want) != 0 && json_is_string(file)) {
        /* show where it differs, for whoever debugs this */
        char path[1024];
        size_t n;
        snprintf(path, sizeof path, "%s/%s", dir, json_string_value(file));
        uint8_t *exp = ht_read_file(path, &n);
        size_t i = 0;
        while (i < n && i < s->len && exp[i] == s->p[i])
            i++;
        ck_abort_msg("%s: dump differs from %s at byte %zu (got %zu bytes, "
                     "want %zu): ...%.60s",
                     what, path, i, s->len, n,
                     (const char *)s->p + (i > 20 ? i - 20 : 0));
    }
    ck_assert_msg(strcmp(hex, want) == 0, "%s: sha256 %s, want %s", what, hex,
                  want);
}

static int run_checks(const char *scenario, const char *kinds,
                      hollow_memory_mode mode)
{
    char dir[1024], path[1024];
    snprintf(dir, sizeof dir, "%s/%s", HOLLOW_GOLDEN_DIR, scenario);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_error_t jerr;
    json_t *m = json_load_file(path, 0, &jerr);
    ck_assert_msg(m != NULL, "%s: %s", path, jerr.text);
    json_t *checks = json_object_get(m, "checks");
    size_t i;
    json_t *c;
    int done = 0;
    json_array_foreach(checks, i, c) {
        const char *kind = json_string_value(json_object_get(c, "kind"));
        if (strstr(kinds, kind) == NULL)
            continue;
        const char *id = json_string_value(json_object_get(c, "id"));
        hollow_read_state *rs =
            load_chain(dir, json_object_get(c, "blobs"), mode);
        ht_mem s = {0};
        HT_OK(hollow_dump_canonical(rs, ht_mem_text_sink, &s));
        char what[512];
        snprintf(what, sizeof what, "%s %s %s", scenario, id,
                 mode == HOLLOW_MEMORY_MMAP ? "mmap" : "heap");
        compare(dir, what, &s, json_object_get(c, "dump"));
        const char *type;
        json_t *entry;
        json_object_foreach(json_object_get(c, "deep"), type, entry) {
            s.len = 0;
            HT_OK(hollow_dump_deep(rs, type, ht_mem_text_sink, &s));
            snprintf(what, sizeof what, "%s %s deep %s %s", scenario, id, type,
                     mode == HOLLOW_MEMORY_MMAP ? "mmap" : "heap");
            compare(dir, what, &s, entry);
            done++;
        }
        free(s.p);
        hollow_read_state_release(rs);
        done++;
    }
    json_decref(m);
    return done;
}

static const char *SCENARIOS[] = HT_GOLDEN_SCENARIOS;

START_TEST(golden_snapshots_heap)
{
    int n = run_checks(SCENARIOS[_i], "snapshot", HOLLOW_MEMORY_HEAP);
    ck_assert_int_gt(n, 0);
}
END_TEST

START_TEST(golden_snapshots_mmap)
{
    int n = run_checks(SCENARIOS[_i], "snapshot", HOLLOW_MEMORY_MMAP);
    ck_assert_int_gt(n, 0);
}
END_TEST

/* forward and reverse chains, single steps and round trips */
START_TEST(golden_chains_heap)
{
    int n = run_checks(SCENARIOS[_i], "forward reverse roundtrip",
                       HOLLOW_MEMORY_HEAP);
    ck_assert_int_gt(n, 0);
}
END_TEST

START_TEST(golden_chains_mmap)
{
    int n = run_checks(SCENARIOS[_i], "forward reverse roundtrip",
                       HOLLOW_MEMORY_MMAP);
    ck_assert_int_gt(n, 0);
}
END_TEST

/* every scenario directory under tests/golden is listed above */
START_TEST(golden_all_scenarios_listed)
{
    DIR *d = opendir(HOLLOW_GOLDEN_DIR);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s/manifest.json", HOLLOW_GOLDEN_DIR,
                 e->d_name);
        FILE *f = fopen(p, "r");
        if (f == NULL)
            continue;
        fclose(f);
        bool listed = false;
        for (size_t i = 0; i < sizeof SCENARIOS / sizeof *SCENARIOS; i++)
            listed |= strcmp(SCENARIOS[i], e->d_name) == 0;
        ck_assert_msg(listed, "scenario %s not tested", e->d_name);
        found++;
    }
    closedir(d);
    ck_assert_int_eq(found, 7);
}
END_TEST

static Suite *golden_suite(void)
{
    Suite *s = suite_create("golden");
    int n = (int)(sizeof SCENARIOS / sizeof *SCENARIOS);
    TCase *tc = tcase_create("snapshots");
    tcase_add_loop_test(tc, golden_snapshots_heap, 0, n);
    tcase_add_loop_test(tc, golden_snapshots_mmap, 0, n);
    tcase_add_test(tc, golden_all_scenarios_listed);
    suite_add_tcase(s, tc);
    tc = tcase_create("chains");
    tcase_add_loop_test(tc, golden_chains_heap, 0, n);
    tcase_add_loop_test(tc, golden_chains_mmap, 0, n);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(golden_suite()); }
