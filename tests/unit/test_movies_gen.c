/*
 * Tests of the benchmark dataset generator (bench/movies_gen.c) against
 * bench-dataset.md: the first JSON line for N=10000, seed 42 exactly as the
 * document gives it; the version-2 rules (drop i%200==0, remaster
 * i%200==100, append floor(N/200) movies); determinism; and, for
 * N=1000000, seed 42, the two figures Java Hollow reports that depend on
 * the generator alone: the version-2 scan checksum 1985338804 and the
 * lookup hit count 994993.
 *
 * The generator is not part of the library: bench/movies_gen.c is linked
 * into this test (tests/CMakeLists.txt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/dump.h"
#include "movies_gen.h"
#include "testhelp.h"

#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

static const char first_line_10000_42[] =
    "{\"id\":1000000000000,\"title\":\"black\",\"year\":1991,\"genres\":"
    "[\"Talk-Show\",\"Kids\",\"Action\"],\"actors\":[{\"id\":688,\"name\":"
    "\"Haorjosa\"},{\"id\":507,\"name\":\"Xanesavi\"},{\"id\":623,\"name\":"
    "\"Yalanoan\"}],\"ratings\":[[\"metacritic\",9.4],[\"rt\",7]]}";

/* ---------------------------------------------------------------- rng */

START_TEST(movies_gen_splitmix64)
{
    /* reference values of SplitMix64 seeded with 0 and 1234567 */
    movies_rng r;
    movies_rng_init(&r, 0);
    ck_assert_uint_eq(movies_rng_next(&r), 0xE220A8397B1DCDAFULL);
    ck_assert_uint_eq(movies_rng_next(&r), 0x6E789E6AA1B965F4ULL);
    ck_assert_uint_eq(movies_rng_next(&r), 0x06C45D188009454FULL);
    movies_rng_init(&r, 1234567);
    ck_assert_uint_eq(movies_rng_next(&r), 6457827717110365317ULL);
    ck_assert_uint_eq(movies_rng_next(&r), 3203168211198807973ULL);
}
END_TEST

/* --------------------------------------------------------------- json */

START_TEST(movies_gen_first_line)
{
    movies_data d;
    ck_assert_int_eq(movies_data_generate(&d, 10000, 42), 0);
    ck_assert_uint_eq(d.actor_count, 1000);
    char line[MOVIES_JSON_MAX];
    size_t n = movies_json_line(line, sizeof line, d.actors, &d.v1[0],
                                hollow_format_double);
    ck_assert_str_eq(line, first_line_10000_42);
    ck_assert_uint_eq(n, strlen(first_line_10000_42));
    /* too small a buffer is refused */
    ck_assert_uint_eq(movies_json_line(line, 20, d.actors, &d.v1[0],
                                       hollow_format_double), 0);
    movies_data_free(&d);
}
END_TEST

/* every rating value is k/10 and prints as the decimal k/10 */
START_TEST(movies_gen_rating_format)
{
    for (unsigned k = 0; k <= 100; k++) {
        movies_movie m;
        memset(&m, 0, sizeof m);
        m.rating_tenths[0] = (uint8_t)k;
        char got[32], want[32];
        got[hollow_format_double(got, sizeof got, movies_rating_value(&m, 0))] = 0;
        if (k % 10 == 0)
            snprintf(want, sizeof want, "%u", k / 10);
        else
            snprintf(want, sizeof want, "%u.%u", k / 10, k % 10);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

/* ---------------------------------------------------------- versions */

static void check_movie_shape(const movies_data *d, const movies_movie *m)
{
    REQUIRE(m->year >= 1920 && m->year <= 2025, "year %d", (int)m->year);
    REQUIRE(m->title_len == strlen(m->title), "title length");
    REQUIRE(m->genre_count <= 3 && m->actor_count <= 8 && m->rating_count <= 3,
            "counts");
    for (unsigned a = 0; a < m->actor_count; a++) {
        REQUIRE(m->actors[a] >= 0 && (uint32_t)m->actors[a] < d->actor_count,
                "actor index");
        for (unsigned b = 0; b < a; b++)
            REQUIRE(m->actors[a] != m->actors[b], "duplicate actor");
    }
    for (unsigned a = 0; a < m->rating_count; a++)
        for (unsigned b = 0; b < a; b++)
            REQUIRE(m->rating_sources[a] != m->rating_sources[b],
                    "duplicate rating key");
}

static void check_versions(uint64_t n)
{
    movies_data d;
    ck_assert_int_eq(movies_data_generate(&d, n, 42), 0);
    ck_assert_uint_eq(d.v1_count, n);
    ck_assert_uint_eq(d.actor_count, n / 10 > 0 ? n / 10 : 1);
    for (uint32_t a = 0; a < d.actor_count; a++) {
        REQUIRE(d.actors[a].id == (int32_t)a, "actor id");
        REQUIRE(d.actors[a].name_len >= 4 && d.actors[a].name_len <= 8 &&
                    d.actors[a].name[0] >= 'A' && d.actors[a].name[0] <= 'Z',
                "actor name %s", d.actors[a].name);
    }
    uint64_t dropped = (n + 199) / 200, added = n / 200;
    ck_assert_uint_eq(d.v2_count, n - dropped + added);

    size_t c = 0;
    for (uint64_t i = 0; i < n; i++) {
        const movies_movie *m1 = &d.v1[i];
        check_movie_shape(&d, m1);
        REQUIRE(m1->id == 1000000000000LL + 17 * (int64_t)i, "id of %llu",
                (unsigned long long)i);
        if (i % 200 == 0)
            continue;
        const movies_movie *m2 = d.v2[c++];
        REQUIRE(m2->id == m1->id, "v2 order at %llu", (unsigned long long)i);
        if (i % 200 == 100) {
            char want[64];
            snprintf(want, sizeof want, "%s (Remastered)", m1->title);
            REQUIRE(strcmp(m2->title, want) == 0 && m2->title_len == strlen(want),
                    "remastered title %s", m2->title);
            REQUIRE(m2->year == m1->year + 1, "remastered year");
            REQUIRE(m2->genre_count == m1->genre_count &&
                        memcmp(m2->genres, m1->genres, sizeof m1->genres) == 0 &&
                        m2->actor_count == m1->actor_count &&
                        memcmp(m2->actors, m1->actors, sizeof m1->actors) == 0 &&
                        m2->rating_count == m1->rating_count &&
                        memcmp(m2->rating_sources, m1->rating_sources,
                               sizeof m1->rating_sources) == 0 &&
                        memcmp(m2->rating_tenths, m1->rating_tenths,
                               sizeof m1->rating_tenths) == 0,
                    "remastered copy differs beyond title and year");
        } else {
            REQUIRE(m2 == m1, "unchanged movie %llu not shared",
                    (unsigned long long)i);
        }
    }
    for (uint64_t k = 0; k < added; k++) {
        const movies_movie *m2 = d.v2[c++];
        check_movie_shape(&d, m2);
        REQUIRE(m2->id == 1000000000000LL + 17 * (int64_t)(n + k), "added id");
    }
    ck_assert_uint_eq(c, d.v2_count);

    /* the appended movies continue the stream after version 1 */
    if (added > 0) {
        movies_rng r;
        movies_rng_init(&r, 42);
        movies_actor a;
        for (uint32_t i = 0; i < d.actor_count; i++)
            movies_gen_actor(&r, (int32_t)i, &a);
        movies_movie m;
        for (uint64_t i = 0; i < n; i++)
            movies_gen_movie(&r, i, d.actor_count, &m);
        movies_gen_movie(&r, n, d.actor_count, &m);
        ck_assert_int_eq(memcmp(&m, d.v2[n - dropped], sizeof m), 0);
    }
    movies_data_free(&d);
}

START_TEST(movies_gen_version2_10000)
{
    check_versions(10000);
}
END_TEST

/* N not a multiple of 200: ceil(N/200) dropped, floor(N/200) added */
START_TEST(movies_gen_version2_odd_sizes)
{
    check_versions(1);
    check_versions(101);
    check_versions(250);
    check_versions(12345);
}
END_TEST

START_TEST(movies_gen_deterministic)
{
    movies_data a, b, c;
    ck_assert_int_eq(movies_data_generate(&a, 10000, 42), 0);
    ck_assert_int_eq(movies_data_generate(&b, 10000, 42), 0);
    ck_assert_int_eq(movies_data_generate(&c, 10000, 43), 0);
    ck_assert_int_eq(memcmp(a.actors, b.actors, a.actor_count * sizeof *a.actors), 0);
    ck_assert_int_eq(memcmp(a.v1, b.v1, a.v1_count * sizeof *a.v1), 0);
    ck_assert_uint_eq(a.v2_count, b.v2_count);
    char la[MOVIES_JSON_MAX], lb[MOVIES_JSON_MAX];
    for (size_t i = 0; i < a.v2_count; i++) {
        movies_json_line(la, sizeof la, a.actors, a.v2[i], hollow_format_double);
        movies_json_line(lb, sizeof lb, b.actors, b.v2[i], hollow_format_double);
        REQUIRE(strcmp(la, lb) == 0, "v2 line %zu differs", i);
    }
    ck_assert_uint_eq(a.rng.state, b.rng.state);
    /* another seed gives other records */
    ck_assert_int_ne(memcmp(a.v1, c.v1, a.v1_count * sizeof *a.v1), 0);
    movies_data_free(&a);
    movies_data_free(&b);
    movies_data_free(&c);
}
END_TEST

/* The next-version step of the sample store: applied to version 1 it is
 * version 2 (same records, same stream after), and it keeps going */
START_TEST(movies_gen_next_version)
{
    const uint64_t n = 1000;
    movies_data d;
    ck_assert_int_eq(movies_data_generate(&d, n, 42), 0);
    movies_movie *v2 = malloc((n + n / 200) * sizeof *v2);
    movies_movie *v3 = malloc((n + n / 200) * sizeof *v3);
    ck_assert_ptr_nonnull(v2);
    ck_assert_ptr_nonnull(v3);
    movies_rng r;
    movies_rng_init(&r, 42);
    for (uint32_t a = 0; a < d.actor_count; a++) {
        movies_actor ac;
        movies_gen_actor(&r, (int32_t)a, &ac);
    }
    for (uint64_t i = 0; i < n; i++) {
        movies_movie m;
        movies_gen_movie(&r, i, d.actor_count, &m);
    }
    uint64_t next = n;
    size_t c2 = movies_next_version(v2, d.v1, d.v1_count, n, d.actor_count,
                                    &r, &next);
    ck_assert_uint_eq(c2, d.v2_count);
    for (size_t i = 0; i < c2; i++)
        REQUIRE(memcmp(&v2[i], d.v2[i], sizeof v2[i]) == 0, "v2 movie %zu", i);
    ck_assert_uint_eq(r.state, d.rng.state);
    ck_assert_uint_eq(next, n + n / 200);
    /* version 3: 5 dropped (positions 0, 200, ...), 5 remastered, 5 new */
    size_t c3 = movies_next_version(v3, v2, c2, n, d.actor_count, &r, &next);
    ck_assert_uint_eq(c3, c2);
    ck_assert_int_eq(memcmp(&v3[0], &v2[1], sizeof v3[0]), 0);
    ck_assert_int_eq(v3[99].year, v2[100].year + 1);
    ck_assert_int_eq(v3[99].id, v2[100].id);
    ck_assert_int_eq(v3[c3 - 1].id,
                     MOVIES_ID_BASE + MOVIES_ID_STEP * (int64_t)(n + 9));
    free(v2);
    free(v3);
    movies_data_free(&d);
}
END_TEST

/* ----------------------------------------------- Java's figures, N=1M */

/* The version-2 scan checksum (sum of year + title length over version 2)
 * and the lookup hits depend on the generator only: Java reports 1985338804
 * and 994993 for N=1000000, seed 42, L=1000000. */
START_TEST(movies_gen_java_figures_1m)
{
    const uint64_t n = 1000000, l = 1000000;
    movies_data d;
    ck_assert_int_eq(movies_data_generate(&d, n, 42), 0);
    uint64_t sum = 0;
    for (size_t i = 0; i < d.v2_count; i++)
        sum += (uint64_t)d.v2[i]->year + d.v2[i]->title_len;
    ck_assert_uint_eq(sum, 1985338804ULL);

    movies_rng lr;
    movies_lookup_init(&lr, 42);
    uint64_t hits = 0;
    for (uint64_t j = 0; j < l; j++)
        hits += (uint64_t)movies_v2_has_id(n, movies_lookup_next(&lr, n));
    ck_assert_uint_eq(hits, 994993);
    movies_data_free(&d);
}
END_TEST

/* ------------------------------------------------------------ suite */

static Suite *movies_gen_suite(void)
{
    Suite *s = suite_create("movies_gen");
    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, movies_gen_splitmix64);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_test(tc, movies_gen_first_line);
    tcase_add_test(tc, movies_gen_rating_format);
    suite_add_tcase(s, tc);

    tc = tcase_create("versions");
    tcase_add_test(tc, movies_gen_version2_10000);
    tcase_add_test(tc, movies_gen_version2_odd_sizes);
    tcase_add_test(tc, movies_gen_deterministic);
    tcase_add_test(tc, movies_gen_next_version);
    suite_add_tcase(s, tc);

    tc = tcase_create("java");
    tcase_add_test(tc, movies_gen_java_figures_1m);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(movies_gen_suite());
}
