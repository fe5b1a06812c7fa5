/*
 * Tests of src/common: varints (blob-format.md §1.2), zigzag (§1.3), mutf
 * strings (§1.4), packed word arrays (§1.5), Hollow's hash functions (§8.1,
 * §11), the text conversions of text.h, the bounds-checked reader and the
 * core count that threads = 0 stands for.
 *
 * Every vector below is copied from the spec, where Java produced it.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/parallel.h"
#include "common/reader.h"
#include "common/text.h"
#include "hollow/common.h"
#include "hollow/schema.h"
#include "testhelp.h"

/* ---------------------------------------------------------- helpers */

/* an assert for hot loops: Check's ck_assert records a mark point (a pipe
 * write in fork mode) on every success, far too slow for millions */
#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* assert HOLLOW_ECORRUPT with a message naming the byte offset */
static void expect_corrupt(int rc, const char *what)
{
    ck_assert_msg(rc == HOLLOW_ECORRUPT, "%s: rc %d, want ECORRUPT", what, rc);
    const char *msg = hollow_error_last()->message;
    ck_assert_msg(hollow_error_last()->code == HOLLOW_ECORRUPT,
                  "%s: last error code %d", what, hollow_error_last()->code);
    ck_assert_msg(strstr(msg, "offset") != NULL,
                  "%s: message without offset: '%s'", what, msg);
}

/* and the message names exactly this offset */
static void expect_corrupt_at(int rc, const char *what, size_t offset)
{
    expect_corrupt(rc, what);
    char want[64];
    snprintf(want, sizeof want, "offset %zu", offset);
    ck_assert_msg(strstr(hollow_error_last()->message, want) != NULL,
                  "%s: message '%s' lacks '%s'", what,
                  hollow_error_last()->message, want);
}

static void assert_bytes(const uint8_t *got, size_t got_len,
                         const uint8_t *want, size_t want_len, const char *what)
{
    ck_assert_msg(got_len == want_len, "%s: %zu bytes, want %zu", what,
                  got_len, want_len);
    for (size_t i = 0; i < want_len; i++)
        ck_assert_msg(got[i] == want[i], "%s: byte %zu is %02x, want %02x",
                      what, i, got[i], want[i]);
}

/* ---------------------------------------------------------- varints */

typedef struct var_vector {
    int64_t value;
    uint8_t bytes[10];
    size_t len;
} var_vector;

/* §1.2 vint table */
static const var_vector VINT[] = {
    {0, {0x00}, 1},
    {127, {0x7F}, 1},
    {128, {0x81, 0x00}, 2},
    {300, {0x82, 0x2C}, 2},
    {16383, {0xFF, 0x7F}, 2},
    {16384, {0x81, 0x80, 0x00}, 3},
    {2097152, {0x81, 0x80, 0x80, 0x00}, 4},
    {268435456, {0x81, 0x80, 0x80, 0x80, 0x00}, 5},
    {2147483647, {0x87, 0xFF, 0xFF, 0xFF, 0x7F}, 5},
    {-1, {0x8F, 0xFF, 0xFF, 0xFF, 0x7F}, 5},
    {-2, {0x8F, 0xFF, 0xFF, 0xFF, 0x7E}, 5},
};

/* §1.2 vlong table */
static const var_vector VLONG[] = {
    {0, {0x00}, 1},
    {300, {0x82, 0x2C}, 2},
    {(int64_t)1 << 35, {0x81, 0x80, 0x80, 0x80, 0x80, 0x00}, 6},
    {INT64_MAX, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, 9},
    {-1, {0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, 10},
    {INT64_MIN, {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 10},
};

START_TEST(common_vint_vectors)
{
    for (size_t i = 0; i < sizeof VINT / sizeof VINT[0]; i++) {
        const var_vector *v = &VINT[i];
        uint8_t out[10];
        size_t n = hollow__vint_encode(out, (uint32_t)v->value);
        assert_bytes(out, n, v->bytes, v->len, "vint encode");

        hollow__buf b = HOLLOW__BUF_INIT;
        hollow__buf_vint(&b, (uint32_t)v->value);
        HT_OK(hollow__buf_check(&b));
        assert_bytes(b.ptr, b.len, v->bytes, v->len, "buf vint");
        hollow__buf_free(&b);

        hollow__reader r;
        hollow__reader_init(&r, v->bytes, v->len, 0);
        int32_t got = 0;
        HT_OK(hollow__reader_vint(&r, &got, "test"));
        ck_assert_int_eq(got, (int32_t)v->value);
        ck_assert_uint_eq(r.pos, v->len);

        uint32_t u = 0;
        ck_assert_uint_eq(hollow__vint_decode(v->bytes, v->len, &u), v->len);
        ck_assert_uint_eq(u, (uint32_t)v->value);
        /* a vint followed by more bytes stops at its last byte */
        uint8_t more[12];
        memcpy(more, v->bytes, v->len);
        more[v->len] = 0x55;
        more[v->len + 1] = 0x81;
        ck_assert_uint_eq(hollow__vint_decode(more, v->len + 2, &u), v->len);
    }
}
END_TEST

START_TEST(common_vlong_vectors)
{
    for (size_t i = 0; i < sizeof VLONG / sizeof VLONG[0]; i++) {
        const var_vector *v = &VLONG[i];
        uint8_t out[10];
        size_t n = hollow__vlong_encode(out, (uint64_t)v->value);
        assert_bytes(out, n, v->bytes, v->len, "vlong encode");

        hollow__buf b = HOLLOW__BUF_INIT;
        hollow__buf_vlong(&b, (uint64_t)v->value);
        HT_OK(hollow__buf_check(&b));
        assert_bytes(b.ptr, b.len, v->bytes, v->len, "buf vlong");
        hollow__buf_free(&b);

        hollow__reader r;
        hollow__reader_init(&r, v->bytes, v->len, 0);
        int64_t got = 0;
        HT_OK(hollow__reader_vlong(&r, &got, "test"));
        ck_assert_int_eq(got, v->value);
        ck_assert_uint_eq(r.pos, v->len);
    }
    /* non-negative values below 2^31: vint and vlong bytes are the same */
    for (size_t i = 0; i < sizeof VINT / sizeof VINT[0]; i++) {
        if (VINT[i].value < 0)
            continue;
        uint8_t a[10], b[10];
        size_t na = hollow__vint_encode(a, (uint32_t)VINT[i].value);
        size_t nb = hollow__vlong_encode(b, (uint64_t)VINT[i].value);
        assert_bytes(a, na, b, nb, "vint == vlong");
    }
}
END_TEST

START_TEST(common_varint_rejects_leading_0x80)
{
    /* §1.2: 80 01 for 1, 80 81 04 for 132; every non-minimal form */
    static const uint8_t one[] = {0x80, 0x01};
    static const uint8_t v132[] = {0x80, 0x81, 0x04};
    static const uint8_t zero[] = {0x80, 0x00};
    const struct {
        const uint8_t *p;
        size_t n;
    } cases[] = {{one, sizeof one}, {v132, sizeof v132}, {zero, sizeof zero}};
    for (size_t i = 0; i < 3; i++) {
        hollow__reader r;
        int32_t vi = 0;
        int64_t vl = 0;
        hollow__reader_init(&r, cases[i].p, cases[i].n, 7);
        expect_corrupt_at(hollow__reader_vint(&r, &vi, "x"), "vint 0x80", 7);
        hollow__reader_init(&r, cases[i].p, cases[i].n, 0);
        expect_corrupt_at(hollow__reader_vlong(&r, &vl, "x"), "vlong 0x80", 0);
        uint32_t count = 0;
        hollow__reader_init(&r, cases[i].p, cases[i].n, 0);
        expect_corrupt(hollow__reader_count(&r, &count, 1000, "x"), "count");
        uint32_t u = 0;
        ck_assert_uint_eq(hollow__vint_decode(cases[i].p, cases[i].n, &u), 0);
    }
    /* 0x80 inside a number (not leading) is an ordinary group */
    static const uint8_t mid[] = {0x81, 0x80, 0x00};
    hollow__reader r;
    int32_t v = 0;
    hollow__reader_init(&r, mid, sizeof mid, 0);
    HT_OK(hollow__reader_vint(&r, &v, "x"));
    ck_assert_int_eq(v, 16384);
}
END_TEST

START_TEST(common_varint_wraps_over_wide)
{
    /* §1.2: F0 80 80 80 02 read as a vint is 2 (bits beyond 32 dropped) */
    static const uint8_t k2[] = {0xF0, 0x80, 0x80, 0x80, 0x02};
    hollow__reader r;
    int32_t vi = 0;
    hollow__reader_init(&r, k2, sizeof k2, 0);
    HT_OK(hollow__reader_vint(&r, &vi, "x"));
    ck_assert_int_eq(vi, 2);
    ck_assert_uint_eq(r.pos, sizeof k2);
    uint32_t u = 0;
    ck_assert_uint_eq(hollow__vint_decode(k2, sizeof k2, &u), sizeof k2);
    ck_assert_uint_eq(u, 2);

    /* a 6-byte vint of -1: the extra leading group wraps away */
    static const uint8_t m1[] = {0x81, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F};
    hollow__reader_init(&r, m1, sizeof m1, 0);
    HT_OK(hollow__reader_vint(&r, &vi, "x"));
    ck_assert_int_eq(vi, -1);

    /* an 11-byte vlong: 2^70 + 5 wraps to 5 */
    static const uint8_t l5[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x80,
                                 0x80, 0x80, 0x80, 0x80, 0x05};
    int64_t vl = 0;
    hollow__reader_init(&r, l5, sizeof l5, 0);
    HT_OK(hollow__reader_vlong(&r, &vl, "x"));
    ck_assert_int_eq(vl, 5);
    ck_assert_uint_eq(r.pos, sizeof l5);

    /* the same bytes as a vint: 2^70 + 5 mod 2^32 = 5 */
    hollow__reader_init(&r, l5, sizeof l5, 0);
    HT_OK(hollow__reader_vint(&r, &vi, "x"));
    ck_assert_int_eq(vi, 5);

    /* a 5-byte vint whose top group overflows 32 bits: 0xFF.. -> wraps */
    static const uint8_t big[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    hollow__reader_init(&r, big, sizeof big, 0);
    HT_OK(hollow__reader_vint(&r, &vi, "x"));
    ck_assert_int_eq(vi, -1); /* 2^35 - 1 mod 2^32 */
}
END_TEST

START_TEST(common_varint_truncated)
{
    static const uint8_t t[] = {0x82, 0x81, 0x80};
    for (size_t n = 0; n <= sizeof t; n++) {
        hollow__reader r;
        int32_t vi = 0;
        int64_t vl = 0;
        hollow__reader_init(&r, t, n, 100);
        expect_corrupt_at(hollow__reader_vint(&r, &vi, "x"), "vint truncated",
                          100);
        ck_assert_uint_eq(r.pos, 0); /* nothing consumed on failure */
        hollow__reader_init(&r, t, n, 0);
        expect_corrupt(hollow__reader_vlong(&r, &vl, "x"), "vlong truncated");
        uint32_t u = 0;
        ck_assert_uint_eq(hollow__vint_decode(t, n, &u), 0);
    }
}
END_TEST

START_TEST(common_varint_random_round_trip)
{
    uint64_t seed = ht_seed("common_varint_random_round_trip");
    for (int i = 0; i < 20000 * ht_scale(); i++) {
        uint64_t x = ht_rand(&seed);
        unsigned shift = (unsigned)(ht_rand(&seed) % 64);
        uint64_t v = x >> shift;
        uint8_t out[10];
        size_t n = hollow__vlong_encode(out, v);
        /* minimal: ceil(bitlen / 7) bytes, never a leading 0x80 */
        unsigned bl = hollow__bitlen(v);
        REQUIRE(n == (bl == 0 ? 1 : (bl + 6) / 7) && out[0] != 0x80,
                "vlong %llu: %zu bytes", (unsigned long long)v, n);
        hollow__reader r;
        hollow__reader_init(&r, out, n, 0);
        int64_t back = 0;
        int rc = hollow__reader_vlong(&r, &back, "x");
        REQUIRE(rc == 0 && (uint64_t)back == v && r.pos == n,
                "vlong %llu read back as %lld (rc %d)", (unsigned long long)v,
                (long long)back, rc);

        uint32_t v32 = (uint32_t)v;
        n = hollow__vint_encode(out, v32);
        uint32_t u = 0;
        REQUIRE(n <= 5 && hollow__vint_decode(out, n, &u) == n && u == v32,
                "vint %u", v32);
    }
}
END_TEST

/* ----------------------------------------------------------- zigzag */

/* §1.3 formulas, as the object accessors decode them */
static uint32_t zz32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v < 0 ? -1 : 0);
}
static int32_t unzz32(uint32_t u)
{
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}
static uint64_t zz64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
}
static int64_t unzz64(uint64_t u)
{
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

START_TEST(common_zigzag_examples)
{
    /* §1.3: 0->0, -1->1, 1->2, -2->3, 2->4, 2147483647->4294967294,
     * -2147483647->4294967293 */
    static const struct {
        int32_t v;
        uint32_t u;
    } ex[] = {{0, 0},
              {-1, 1},
              {1, 2},
              {-2, 3},
              {2, 4},
              {2147483647, 4294967294u},
              {-2147483647, 4294967293u},
              {INT32_MIN, 4294967295u}};
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        ck_assert_uint_eq(zz32(ex[i].v), ex[i].u);
        ck_assert_int_eq(unzz32(ex[i].u), ex[i].v);
        ck_assert_uint_eq(zz64(ex[i].v), ex[i].u);
        ck_assert_int_eq(unzz64(ex[i].u), ex[i].v);
    }
    ck_assert_uint_eq(zz64(INT64_MAX), UINT64_MAX - 1);
    ck_assert_uint_eq(zz64(INT64_MIN), UINT64_MAX);
    ck_assert_int_eq(unzz64(UINT64_MAX), INT64_MIN);
    /* §6.6: ids 1, 2, -1 zigzag to 2, 4, 1 */
    ck_assert_uint_eq(zz32(1), 2);
    ck_assert_uint_eq(zz32(2), 4);
    ck_assert_uint_eq(zz32(-1), 1);
    uint64_t seed = ht_seed("common_zigzag_examples");
    for (int i = 0; i < 10000; i++) {
        uint64_t x = ht_rand(&seed);
        REQUIRE(unzz64(zz64((int64_t)x)) == (int64_t)x &&
                    unzz32(zz32((int32_t)(uint32_t)x)) == (int32_t)(uint32_t)x,
                "zigzag round trip of %llx", (unsigned long long)x);
    }
}
END_TEST

/* ------------------------------------------------------------- mutf */

typedef struct mutf_vector {
    const char *utf8;   /* our in-memory form (text.h) */
    uint8_t bytes[16];  /* §1.4 encoding with the length prefix */
    size_t len;
} mutf_vector;

static const mutf_vector MUTF[] = {
    {"Movie", {0x00, 0x05, 'M', 'o', 'v', 'i', 'e'}, 7},
    {"caf\xC3\xA9", {0x00, 0x05, 0x63, 0x61, 0x66, 0xC3, 0xA9}, 7},
    {"nul\xC0\x80", {0x00, 0x05, 0x6E, 0x75, 0x6C, 0xC0, 0x80}, 7},
    {"\xF0\x9F\x98\x80", {0x00, 0x06, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}, 8},
    {"", {0x00, 0x00}, 2},
    {"\xED\xA0\x80x", {0x00, 0x04, 0xED, 0xA0, 0x80, 'x'}, 6}, /* lone */
    {"\xE6\x97\xA5", {0x00, 0x03, 0xE6, 0x97, 0xA5}, 5},
};

START_TEST(common_mutf_vectors)
{
    for (size_t i = 0; i < sizeof MUTF / sizeof MUTF[0]; i++) {
        const mutf_vector *v = &MUTF[i];
        hollow__reader r;
        hollow__reader_init(&r, v->bytes, v->len, 0);
        char *s = NULL;
        HT_OK(hollow__reader_mutf(&r, &s, "name"));
        ck_assert_str_eq(s, v->utf8);
        ck_assert_uint_eq(r.pos, v->len);
        hollow_free(s);

        hollow__buf b = HOLLOW__BUF_INIT;
        hollow__buf_mutf(&b, v->utf8);
        HT_OK(hollow__buf_check(&b));
        assert_bytes(b.ptr, b.len, v->bytes, v->len, v->utf8);
        hollow__buf_free(&b);
    }
}
END_TEST

START_TEST(common_mutf_rejects_malformed)
{
    static const uint8_t raw_nul[] = {0x00, 0x02, 'a', 0x00};
    static const uint8_t cut2[] = {0x00, 0x01, 0xC3};
    static const uint8_t cut3[] = {0x00, 0x02, 0xE6, 0x97};
    static const uint8_t four[] = {0x00, 0x04, 0xF0, 0x9F, 0x98, 0x80};
    static const uint8_t cont[] = {0x00, 0x01, 0x80};
    static const uint8_t badcont[] = {0x00, 0x02, 0xC3, 0x41};
    const struct {
        const uint8_t *p;
        size_t n;
    } bad[] = {{raw_nul, sizeof raw_nul}, {cut2, sizeof cut2},
               {cut3, sizeof cut3},       {four, sizeof four},
               {cont, sizeof cont},       {badcont, sizeof badcont}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hollow__reader r;
        hollow__reader_init(&r, bad[i].p, bad[i].n, 40);
        char *s = NULL;
        expect_corrupt_at(hollow__reader_mutf(&r, &s, "name"), "bad mutf", 40);
        ck_assert_ptr_null(s);
    }
    /* length beyond the bytes: truncated */
    static const uint8_t longer[] = {0x00, 0x09, 'a', 'b'};
    static const uint8_t half[] = {0x00};
    hollow__reader r;
    char *s = NULL;
    hollow__reader_init(&r, longer, sizeof longer, 0);
    expect_corrupt(hollow__reader_mutf(&r, &s, "name"), "mutf too long");
    hollow__reader_init(&r, half, sizeof half, 0);
    expect_corrupt(hollow__reader_mutf(&r, &s, "name"), "mutf no length");
    ck_assert_ptr_null(s);
}
END_TEST

/* ------------------------------------------------------------- bits */

/* reference: bit k of the array is bit k%64 of big-endian word k/64 */
static unsigned ref_bit(const uint8_t *w, uint64_t k)
{
    return (unsigned)((hollow__be64(w + (k / 64) * 8) >> (k % 64)) & 1);
}

static uint64_t ref_read(const uint8_t *w, uint64_t p, unsigned b)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < b; i++)
        v |= (uint64_t)ref_bit(w, p + i) << i;
    return v;
}

START_TEST(common_bits_helpers)
{
    ck_assert_uint_eq(hollow__ones(0), 0);
    ck_assert_uint_eq(hollow__ones(1), 1);
    ck_assert_uint_eq(hollow__ones(2), 3);
    ck_assert_uint_eq(hollow__ones(63), UINT64_MAX >> 1);
    ck_assert_uint_eq(hollow__ones(64), UINT64_MAX);
    ck_assert_uint_eq(hollow__bitlen(0), 0);
    ck_assert_uint_eq(hollow__bitlen(1), 1);
    ck_assert_uint_eq(hollow__bitlen(2), 2);
    ck_assert_uint_eq(hollow__bitlen(3), 2);
    ck_assert_uint_eq(hollow__bitlen(4), 3);
    ck_assert_uint_eq(hollow__bitlen(UINT64_MAX), 64);
    ck_assert_uint_eq(hollow__ceilw(0), 0);
    ck_assert_uint_eq(hollow__ceilw(1), 1);
    ck_assert_uint_eq(hollow__ceilw(64), 1);
    ck_assert_uint_eq(hollow__ceilw(65), 2);
    ck_assert_uint_eq(hollow__ceilw(128), 2);
    uint8_t w[8];
    hollow__put_be64(w, 0x0102030405060708ull);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(w[i], i + 1);
    ck_assert_uint_eq(hollow__be64(w), 0x0102030405060708ull);
    /* §6.6: word 0x1C5A12 holds 7-bit records 0x12, 0x34, 0x71 */
    uint8_t rec[8];
    hollow__put_be64(rec, 0x1C5A12);
    ck_assert_uint_eq(hollow__bits_read(rec, 0, 7), 0x12);
    ck_assert_uint_eq(hollow__bits_read(rec, 7, 7), 0x34);
    ck_assert_uint_eq(hollow__bits_read(rec, 14, 7), 0x71);
    ck_assert_uint_eq(hollow__bits_read(rec, 0, 3), 2);
    ck_assert_uint_eq(hollow__bits_read(rec, 3, 4), 2);
}
END_TEST

#define BITS_WORDS 6 /* 384 bits: offset 200 + width 64 fits, with slack */

START_TEST(common_bits_every_offset_and_width)
{
    uint64_t seed = ht_seed("common_bits_every_offset_and_width");
    uint8_t w[BITS_WORDS * 8 + 8], want[BITS_WORDS * 8 + 8];
    for (unsigned b = 0; b <= 64; b++) {
        for (uint64_t p = 0; p <= 200; p++) {
            uint64_t v = ht_rand(&seed) & hollow__ones(b);
            /* write into a zeroed array: exactly v's bits appear */
            memset(w, 0, sizeof w);
            hollow__bits_write(w, p, b, v);
            memset(want, 0, sizeof want);
            for (unsigned i = 0; i < b; i++) {
                uint64_t k = p + i;
                uint8_t *wp = want + (k / 64) * 8;
                hollow__put_be64(wp, hollow__be64(wp) |
                                         (((v >> i) & 1) << (k % 64)));
            }
            REQUIRE(memcmp(w, want, sizeof w) == 0,
                    "write(%llu, %u) set other bits than the value's",
                    (unsigned long long)p, b);
            REQUIRE(hollow__bits_read(w, p, b) == v,
                    "read(%llu, %u) after write", (unsigned long long)p, b);
            /* read from random words: same as the bit-by-bit reference */
            for (size_t i = 0; i < BITS_WORDS; i++)
                hollow__put_be64(w + i * 8, ht_rand(&seed));
            REQUIRE(hollow__bits_read(w, p, b) == ref_read(w, p, b),
                    "read(%llu, %u) on random words", (unsigned long long)p,
                    b);
        }
    }
}
END_TEST

START_TEST(common_bits_packed_array)
{
    /* consecutive elements of every width: neighbours never interfere and
     * elements spill from the top of word i into the bottom of word i+1 */
    uint64_t seed = ht_seed("common_bits_packed_array");
    enum { N = 50 };
    uint8_t w[(N * 64 / 64 + 2) * 8];
    uint64_t vals[N];
    for (unsigned b = 1; b <= 64; b++) {
        for (uint64_t start = 0; start < 3; start++) {
            memset(w, 0, sizeof w);
            for (int i = 0; i < N; i++) {
                vals[i] = ht_rand(&seed) & hollow__ones(b);
                hollow__bits_write(w, start + (uint64_t)i * b, b, vals[i]);
            }
            for (int i = 0; i < N; i++)
                REQUIRE(hollow__bits_read(w, start + (uint64_t)i * b, b) ==
                            vals[i],
                        "element %d of width %u", i, b);
        }
    }
    /* width 64 aligned and unaligned */
    uint64_t offs[] = {0, 64, 128, 1, 63, 65, 100, 127};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        memset(w, 0, sizeof w);
        uint64_t v = 0x8000000000000001ull ^ ht_rand(&seed);
        hollow__bits_write(w, offs[i], 64, v);
        ck_assert_uint_eq(hollow__bits_read(w, offs[i], 64), v);
        ck_assert_uint_eq(ref_read(w, offs[i], 64), v);
        hollow__bits_write(w, offs[i] + 64, 64, UINT64_MAX);
        ck_assert_uint_eq(hollow__bits_read(w, offs[i], 64), v);
        ck_assert_uint_eq(hollow__bits_read(w, offs[i] + 64, 64), UINT64_MAX);
    }
    /* the spill of a known pattern: bits 60..67 = 0xAB */
    memset(w, 0, sizeof w);
    hollow__bits_write(w, 60, 8, 0xAB);
    ck_assert_uint_eq(hollow__be64(w), 0xBull << 60);
    ck_assert_uint_eq(hollow__be64(w + 8), 0xA);
}
END_TEST

/* ------------------------------------------------------------- hash */

START_TEST(common_hash_int_vectors)
{
    /* §11.1 */
    ck_assert_uint_eq(hollow__hash_int(0), 0xCAA3CAA3u);
    ck_assert_uint_eq(hollow__hash_int(1), 0x12D60BF6u);
    ck_assert_uint_eq(hollow__hash_int(2), 0x25AC1FE5u);
    ck_assert_uint_eq(hollow__hash_int(3), 0x3882835Cu);
    ck_assert_uint_eq(hollow__hash_int(4), 0x4B5837C3u);
    ck_assert_uint_eq(hollow__hash_int((uint32_t)-1), 0xBD55FC18u);
    ck_assert_uint_eq(hollow__hash_int(12345), 0x5AB20308u);
    ck_assert_uint_eq(hollow__hash_int(0x80000000u), 0x6551E551u);
    ck_assert_uint_eq(hollow__hash_int(0x7FFFFFFFu), 0x7827B96Au);
    ck_assert_int_eq((int32_t)hollow__hash_int(0), -895235421);
    ck_assert_int_eq((int32_t)hollow__hash_int((uint32_t)-1), -1118438376);
    ck_assert_int_eq((int32_t)hollow__hash_int(12345), 1521615624);
}
END_TEST

START_TEST(common_hash_long_vectors)
{
    /* §11.2 */
    ck_assert_int_eq((int32_t)hollow__hash_long(0), 720020139);
    ck_assert_int_eq((int32_t)hollow__hash_long(1), 357654460);
    ck_assert_int_eq((int32_t)hollow__hash_long(UINT64_MAX), 532412650);
    ck_assert_int_eq((int32_t)hollow__hash_long(1234567890123ull), -1187240199);
    ck_assert_int_eq((int32_t)hollow__hash_long(0x8000000000000000ull),
                     -1787473579);
}
END_TEST

START_TEST(common_murmur_vectors)
{
    /* §11.3 */
    static const uint8_t ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    ck_assert_uint_eq(hollow__murmur((const uint8_t *)"", 0), 0x07C76CB7u);
    ck_assert_uint_eq(hollow__murmur((const uint8_t *)"\0", 1), 0x65C1B76Du);
    ck_assert_uint_eq(hollow__murmur((const uint8_t *)"a", 1), 0x98A21BF2u);
    ck_assert_uint_eq(hollow__murmur((const uint8_t *)"ab", 2), 0x821B9D3Cu);
    ck_assert_uint_eq(hollow__murmur((const uint8_t *)"abc", 3), 0xB52707CAu);
    ck_assert_uint_eq(hollow__murmur((const uint8_t *)"abcd", 4), 0x522F6915u);
    ck_assert_uint_eq(hollow__murmur((const uint8_t *)"abcde", 5), 0xC6047BA2u);
    ck_assert_uint_eq(hollow__murmur(ten, sizeof ten), 0xE69DD277u);
    ck_assert_int_eq((int32_t)hollow__murmur((const uint8_t *)"a", 1),
                     -1734206478);
    /* unaligned input gives the same result */
    uint8_t shifted[11];
    memcpy(shifted + 1, ten, sizeof ten);
    ck_assert_uint_eq(hollow__murmur(shifted + 1, sizeof ten), 0xE69DD277u);
}
END_TEST

START_TEST(common_hash_table_size_vectors)
{
    /* §8.1 */
    static const uint32_t v[][2] = {{0, 1},     {1, 2},     {2, 4},
                                    {3, 4},     {4, 8},     {5, 8},
                                    {6, 8},     {7, 16},    {8, 16},
                                    {11, 16},   {12, 32},   {100, 256},
                                    {1000, 2048}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ck_assert_msg(hollow__hash_table_size(v[i][0]) == v[i][1],
                      "hashTableSize(%u) = %u, want %u", v[i][0],
                      hollow__hash_table_size(v[i][0]), v[i][1]);
    /* n >= 3: the smallest power of two >= floor(n * 10 / 7), checked
     * exhaustively for small n */
    for (uint32_t n = 3; n < 100000; n++) {
        uint32_t t = hollow__hash_table_size(n);
        uint64_t q = (uint64_t)n * 10 / 7;
        REQUIRE((t & (t - 1)) == 0 && t >= q && t / 2 < q,
                "hashTableSize(%u) = %u", n, t);
    }
    /* Java refuses sizes above floor(2^30 * 7 / 10) = 751619276 */
    ck_assert_uint_eq(hollow__hash_table_size(751619276u), 1u << 30);
    ck_assert_uint_eq(hollow__hash_table_size(751619277u), 0);
    ck_assert_uint_eq(hollow__hash_table_size(UINT32_MAX), 0);
}
END_TEST

/* the §11.4 Hollow string hash: murmur of the §6.4 encoding */
static uint32_t hollow_string_hash(const char *utf8)
{
    size_t n = strlen(utf8);
    uint16_t units[64];
    long k = hollow__utf8_to_utf16(units, utf8, n);
    ck_assert_int_ge(k, 0);
    uint8_t enc[64 * 5];
    size_t len = 0;
    for (long i = 0; i < k; i++)
        len += hollow__vint_encode(enc + len, units[i]);
    return hollow__murmur(enc, len);
}

static uint32_t java_hash(const char *utf8)
{
    uint16_t units[64];
    long k = hollow__utf8_to_utf16(units, utf8, strlen(utf8));
    ck_assert_int_ge(k, 0);
    return hollow__java_string_hash(units, (size_t)k);
}

START_TEST(common_string_hash_vectors)
{
    /* §11.4 Hollow string hash */
    ck_assert_int_eq((int32_t)hollow_string_hash(""), 130510007);
    ck_assert_int_eq((int32_t)hollow_string_hash("a"), -1734206478);
    ck_assert_int_eq((int32_t)hollow_string_hash("Up"), -198560910);
    ck_assert_int_eq((int32_t)hollow_string_hash("Heat"), -420668072);
    ck_assert_int_eq((int32_t)hollow_string_hash("caf\xC3\xA9"), -597906552);
    ck_assert_int_eq((int32_t)hollow_string_hash("\xE6\x97\xA5\xE6\x9C\xAC"),
                     1906642725);
    /* §6.4: "é" is stored as 81 69 */
    uint8_t enc[5];
    ck_assert_uint_eq(hollow__vint_encode(enc, 0xE9), 2);
    ck_assert_uint_eq(enc[0], 0x81);
    ck_assert_uint_eq(enc[1], 0x69);

    /* Java String.hashCode over UTF-16 units */
    ck_assert_uint_eq(java_hash(""), 0);
    ck_assert_uint_eq(java_hash("a"), 97);
    ck_assert_uint_eq(java_hash("Up"), 2747);
    ck_assert_uint_eq(java_hash("Heat"), 2245136);
    ck_assert_uint_eq(java_hash("caf\xC3\xA9"), 3045921);
    ck_assert_uint_eq(java_hash("\xE6\x97\xA5\xE6\x9C\xAC"), 835047);
    ck_assert_uint_eq(java_hash("\xF0\x9F\x98\x80"), 1772899); /* a pair */
}
END_TEST

START_TEST(common_hash_key_vectors)
{
    /* §11.5 read-side key hashes, from the primitives above:
     * h = (h * 31) XOR hashInt(fieldHash) */
    ck_assert_int_eq((int32_t)hollow__hash_int(7), -2082796792);
    ck_assert_int_eq((int32_t)hollow__hash_int(java_hash("Up")), -584397400);
    uint64_t l = 1234567890123ull;
    ck_assert_int_eq((int32_t)hollow__hash_int((uint32_t)(l ^ (l >> 32))),
                     183265821);
    uint32_t two = (hollow__hash_int(java_hash("Up")) * 31u) ^ hollow__hash_int(7);
    ck_assert_int_eq((int32_t)two, 1274408016);
    ck_assert_int_eq((int32_t)hollow__hash_int(1231), -1746708850);
    double d = 1.5;
    uint64_t db;
    memcpy(&db, &d, 8);
    ck_assert_int_eq((int32_t)hollow__hash_int((uint32_t)(db ^ (db >> 32))),
                     -267524843);
    float f = 2.5f;
    uint32_t fb;
    memcpy(&fb, &f, 4);
    ck_assert_int_eq((int32_t)hollow__hash_int(fb), 232624765);
    static const uint8_t by[] = {1, 2, 3};
    ck_assert_int_eq((int32_t)hollow__hash_int(hollow__murmur(by, 3)), 1935265528);
    ck_assert_int_eq((int32_t)hollow__hash_int(5), 1714945011);
}
END_TEST

/* ------------------------------------------------------------- text */

static void expect_units(const char *utf8, size_t n, const uint16_t *want,
                         long want_n)
{
    uint16_t out[32];
    ck_assert_int_eq(hollow__utf8_to_utf16(NULL, utf8, n), want_n);
    ck_assert_int_eq(hollow__utf8_to_utf16(out, utf8, n), want_n);
    for (long i = 0; i < want_n; i++)
        ck_assert_msg(out[i] == want[i], "unit %ld of '%s': %04x, want %04x",
                      i, utf8, out[i], want[i]);
}

START_TEST(common_text_utf8_to_utf16)
{
    static const uint16_t a[] = {0x41};
    static const uint16_t e[] = {0xE9};
    static const uint16_t jp[] = {0x65E5, 0x672C};
    static const uint16_t smile[] = {0xD83D, 0xDE00};
    static const uint16_t nul[] = {0};
    static const uint16_t lone_hi[] = {0xD800};
    static const uint16_t lone_lo[] = {0xDC00, 0x41};
    static const uint16_t ffff[] = {0xFFFF};
    static const uint16_t max[] = {0xDBFF, 0xDFFF};
    expect_units("A", 1, a, 1);
    expect_units("\xC3\xA9", 2, e, 1);
    expect_units("\xE6\x97\xA5\xE6\x9C\xAC", 6, jp, 2);
    expect_units("\xF0\x9F\x98\x80", 4, smile, 2);
    expect_units("\xC0\x80", 2, nul, 1);
    expect_units("\0", 1, nul, 1);
    expect_units("\xED\xA0\x80", 3, lone_hi, 1);
    expect_units("\xED\xB0\x80" "A", 4, lone_lo, 2);
    expect_units("\xEF\xBF\xBF", 3, ffff, 1);
    expect_units("\xF4\x8F\xBF\xBF", 4, max, 2);
    expect_units("", 0, a, 0);

    /* malformed: truncated, overlong, out of range, stray bytes */
    static const char *const bad[] = {
        "\xC3",             "\xE6\x97",         "\xF0\x9F\x98",
        "\xC1\x81",         "\xE0\x80\x80",     "\xF0\x80\x80\x80",
        "\xF4\x90\x80\x80", "\x80",             "\xBF",
        "\xF8\x88\x80\x80\x80", "\xFF",         "\xC3\x41",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(hollow__utf8_to_utf16(NULL, bad[i], strlen(bad[i])) == -1,
                      "malformed input %zu accepted", i);
}
END_TEST

static void expect_utf8(const uint16_t *u, size_t n, int c080, const char *want,
                        size_t want_len)
{
    char out[64];
    size_t k = hollow__utf16_to_utf8(out, u, n, c080);
    assert_bytes((const uint8_t *)out, k, (const uint8_t *)want, want_len,
                 "utf16 -> utf8");
}

START_TEST(common_text_utf16_to_utf8_and_mutf8)
{
    static const uint16_t pair[] = {0xD83D, 0xDE00};
    static const uint16_t lone_hi[] = {0xD800, 0x41};
    static const uint16_t lone_lo[] = {0xDC00};
    static const uint16_t reversed[] = {0xDC00, 0xD800};
    static const uint16_t hi_hi[] = {0xD800, 0xD800, 0xDC00};
    static const uint16_t nul[] = {0x6E, 0};
    static const uint16_t mixed[] = {0x7F, 0x80, 0x7FF, 0x800, 0xFFFF};
    expect_utf8(pair, 2, 0, "\xF0\x9F\x98\x80", 4);
    expect_utf8(lone_hi, 2, 0, "\xED\xA0\x80" "A", 4);
    expect_utf8(lone_lo, 1, 0, "\xED\xB0\x80", 3);
    expect_utf8(reversed, 2, 0, "\xED\xB0\x80\xED\xA0\x80", 6);
    expect_utf8(hi_hi, 3, 0, "\xED\xA0\x80\xF0\x90\x80\x80", 7);
    expect_utf8(nul, 2, 0, "n\0", 2);
    expect_utf8(nul, 2, 1, "n\xC0\x80", 3);
    expect_utf8(mixed, 5, 0, "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF", 11);

    uint8_t m[32];
    size_t k = hollow__utf16_to_mutf8(m, pair, 2);
    assert_bytes(m, k, (const uint8_t *)"\xED\xA0\xBD\xED\xB8\x80", 6, "mutf pair");
    k = hollow__utf16_to_mutf8(m, nul, 2);
    assert_bytes(m, k, (const uint8_t *)"n\xC0\x80", 3, "mutf nul");
    k = hollow__utf16_to_mutf8(m, mixed, 5);
    assert_bytes(m, k,
                 (const uint8_t *)"\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF",
                 11, "mutf mixed");

    char *s = NULL;
    HT_OK(hollow__mutf8_to_utf8(&s, (const uint8_t *)"\xED\xA0\xBD\xED\xB8\x80", 6));
    ck_assert_str_eq(s, "\xF0\x9F\x98\x80");
    hollow_free(s);
    HT_OK(hollow__mutf8_to_utf8(&s, (const uint8_t *)"a\xC0\x80" "b", 4));
    ck_assert_uint_eq(strlen(s), 4);
    ck_assert_str_eq(s, "a\xC0\x80" "b"); /* NUL kept as C0 80 */
    hollow_free(s);
    HT_OK(hollow__mutf8_to_utf8(&s, (const uint8_t *)"\xED\xB0\x80", 3));
    ck_assert_str_eq(s, "\xED\xB0\x80");
    hollow_free(s);
    s = NULL;
    ck_assert_int_eq(hollow__mutf8_to_utf8(&s, (const uint8_t *)"a\0", 2),
                     HOLLOW_ECORRUPT);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(hollow__mutf8_to_utf8(&s, (const uint8_t *)"\xF0\x9F\x98\x80", 4),
                     HOLLOW_ECORRUPT);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(common_text_random_round_trips)
{
    /* any UTF-16 sequence survives UTF-16 -> UTF-8 (C0 80) -> UTF-16 and
     * UTF-16 -> MUTF-8 -> UTF-8 -> UTF-16 unchanged */
    uint64_t seed = ht_seed("common_text_random_round_trips");
    uint16_t u[40], back[80];
    char utf8[40 * 3 + 1];
    uint8_t mutf[40 * 3];
    for (int iter = 0; iter < 20000 * ht_scale(); iter++) {
        size_t n = (size_t)(ht_rand(&seed) % 40);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = ht_rand(&seed);
            switch (r % 5) {
            case 0: u[i] = (uint16_t)(r >> 8) & 0x7F; break;
            case 1: u[i] = (uint16_t)(0xD800 + ((r >> 8) & 0x7FF)); break;
            case 2: u[i] = (uint16_t)((r >> 8) & 0x7FF); break;
            default: u[i] = (uint16_t)(r >> 8); break;
            }
        }
        size_t k = hollow__utf16_to_utf8(utf8, u, n, 1);
        REQUIRE(k <= n * 3 && memchr(utf8, 0, k) == NULL,
                "utf16 -> utf8 of %zu units gave %zu bytes", n, k);
        long m = hollow__utf8_to_utf16(back, utf8, k);
        REQUIRE(m == (long)n && memcmp(back, u, n * sizeof *u) == 0,
                "utf8 -> utf16 round trip of %zu units", n);

        size_t mk = hollow__utf16_to_mutf8(mutf, u, n);
        char *s = NULL;
        int rc = hollow__mutf8_to_utf8(&s, mutf, mk);
        REQUIRE(rc == 0 && strlen(s) == k && memcmp(s, utf8, k) == 0,
                "mutf8 -> utf8 round trip of %zu units (rc %d)", n, rc);
        hollow_free(s);
    }
}
END_TEST

/* ----------------------------------------------------------- reader */

START_TEST(common_reader_values)
{
    static const uint8_t b[] = {0xFF, 0xFE, 0x80, 0x00, 0x00, 0x01, 0x01,
                                0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                0x2A, 0x03, 'a', 'b', 'c'};
    hollow__reader r;
    hollow__reader_init(&r, b, sizeof b, 50);
    int16_t s16;
    int32_t s32;
    int64_t s64;
    uint8_t u8;
    HT_OK(hollow__reader_i16(&r, &s16, "x"));
    ck_assert_int_eq(s16, -2);
    HT_OK(hollow__reader_i32(&r, &s32, "x"));
    ck_assert_int_eq(s32, INT32_MIN + 1);
    HT_OK(hollow__reader_i64(&r, &s64, "x"));
    ck_assert_int_eq(s64, 0x0102030405060708ll);
    ck_assert_uint_eq(hollow__reader_offset(&r), 50 + 14);
    HT_OK(hollow__reader_u8(&r, &u8, "x"));
    ck_assert_uint_eq(u8, 0x2A);
    uint32_t c;
    HT_OK(hollow__reader_count(&r, &c, 3, "x"));
    ck_assert_uint_eq(c, 3);
    const uint8_t *p;
    HT_OK(hollow__reader_bytes(&r, &p, 2, "x"));
    ck_assert(p == b + 16);
    HT_OK(hollow__reader_skip(&r, 1, "x"));
    ck_assert_uint_eq(hollow__reader_left(&r), 0);
    HT_OK(hollow__reader_bytes(&r, &p, 0, "x")); /* zero bytes at the end */
}
END_TEST

START_TEST(common_reader_every_read_past_end)
{
    static const uint8_t b[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                  0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10};
    /* for every length and every kind of read that needs more than is left */
    for (size_t len = 0; len <= sizeof b; len++) {
        for (size_t pos = 0; pos <= len; pos++) {
            size_t left = len - pos;
            hollow__reader r;
            int16_t s16;
            int32_t s32;
            int64_t s64;
            uint8_t u8;
            const uint8_t *p;
            char *s = NULL;
#define AT()                                                                   \
    (hollow__reader_init(&r, b, len, 1000), r.pos = pos, &r)
            if (left < 1)
                expect_corrupt_at(hollow__reader_u8(AT(), &u8, "u8"), "u8",
                                  1000 + pos);
            if (left < 2)
                expect_corrupt_at(hollow__reader_i16(AT(), &s16, "i16"), "i16",
                                  1000 + pos);
            if (left < 4)
                expect_corrupt_at(hollow__reader_i32(AT(), &s32, "i32"), "i32",
                                  1000 + pos);
            if (left < 8)
                expect_corrupt_at(hollow__reader_i64(AT(), &s64, "i64"), "i64",
                                  1000 + pos);
            expect_corrupt_at(hollow__reader_bytes(AT(), &p, left + 1, "bytes"),
                              "bytes", 1000 + pos);
            expect_corrupt_at(hollow__reader_skip(AT(), left + 1, "skip"),
                              "skip", 1000 + pos);
            expect_corrupt_at(hollow__reader_bytes(AT(), &p, SIZE_MAX, "bytes"),
                              "bytes SIZE_MAX", 1000 + pos);
            /* the bytes are all continuation-free except none: 01..10 are
             * single-byte varints, so only an empty rest truncates */
            if (left == 0) {
                expect_corrupt_at(hollow__reader_vint(AT(), &s32, "vint"),
                                  "vint", 1000 + pos);
                expect_corrupt_at(hollow__reader_vlong(AT(), &s64, "vlong"),
                                  "vlong", 1000 + pos);
                expect_corrupt_at(hollow__reader_mutf(AT(), &s, "mutf"), "mutf",
                                  1000 + pos);
            }
            /* a failed read consumes nothing */
            ck_assert_uint_eq(r.pos, pos);
#undef AT
        }
    }
    /* a varint whose continuation runs off the end */
    static const uint8_t cont[] = {0x81, 0x82, 0x83};
    hollow__reader r;
    int64_t v;
    hollow__reader_init(&r, cont, sizeof cont, 5);
    expect_corrupt_at(hollow__reader_vlong(&r, &v, "vlong"), "vlong cont", 5);
    /* count out of range and negative */
    static const uint8_t big[] = {0x82, 0x2C};
    static const uint8_t neg[] = {0x8F, 0xFF, 0xFF, 0xFF, 0x7F};
    uint32_t c;
    hollow__reader_init(&r, big, sizeof big, 9);
    expect_corrupt_at(hollow__reader_count(&r, &c, 299, "count"), "count", 9);
    hollow__reader_init(&r, neg, sizeof neg, 9);
    expect_corrupt_at(hollow__reader_count(&r, &c, INT32_MAX, "count"),
                      "count negative", 9);
    hollow__reader_init(&r, big, sizeof big, 9);
    HT_OK(hollow__reader_count(&r, &c, 300, "count"));
    ck_assert_uint_eq(c, 300);
}
END_TEST

START_TEST(common_buf_fixed_width)
{
    hollow__buf b = HOLLOW__BUF_INIT;
    hollow__buf_be16(&b, 0x0102);
    hollow__buf_be32(&b, 0x03040506);
    hollow__buf_be64(&b, 0x0708090A0B0C0D0Eull);
    hollow__buf_putc(&b, 0xFF);
    hollow__buf_puts(&b, "ab");
    hollow__buf_printf(&b, "%d-%s", 42, "x");
    HT_OK(hollow__buf_check(&b));
    static const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                   12, 13, 14, 0xFF, 'a', 'b', '4', '2', '-', 'x'};
    assert_bytes(b.ptr, b.len, want, sizeof want, "buf");
    /* a long printf goes through the slow path */
    char big[600];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    hollow__buf_printf(&b, "%s!", big);
    HT_OK(hollow__buf_check(&b));
    ck_assert_uint_eq(b.len, sizeof want + sizeof big);
    ck_assert_uint_eq(b.ptr[b.len - 1], '!');
    char *cs = hollow__buf_cstr(&b);
    ck_assert_ptr_nonnull(cs);
    ck_assert_uint_eq(strlen(cs), sizeof want + sizeof big);
    size_t len = 0;
    uint8_t *p = hollow__buf_detach(&b, &len);
    ck_assert_uint_eq(len, sizeof want + sizeof big);
    ck_assert_ptr_null(b.ptr);
    hollow_free(p);
    hollow__buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------ suite */

/* threads = 0 means the cores this process may run on, not all online */
START_TEST(common_cores_follow_affinity)
{
    cpu_set_t was, one;
    ck_assert_int_eq(sched_getaffinity(0, sizeof was, &was), 0);
    unsigned all = hollow__cores();
    ck_assert_uint_ge(all, 1);
    ck_assert_uint_le(all, (unsigned)CPU_COUNT(&was));
    int first = 0;
    while (!CPU_ISSET(first, &was))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
    unsigned pinned = hollow__cores();
    unsigned via_option = hollow__threads_or_cores(0);
    ck_assert_int_eq(sched_setaffinity(0, sizeof was, &was), 0);
    ck_assert_uint_eq(pinned, 1);
    ck_assert_uint_eq(via_option, 1);
    ck_assert_uint_eq(hollow__threads_or_cores(3), 3);
    ck_assert_uint_eq(hollow__cores(), all);
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("varint");
    tcase_add_test(tc, common_vint_vectors);
    tcase_add_test(tc, common_vlong_vectors);
    tcase_add_test(tc, common_varint_rejects_leading_0x80);
    tcase_add_test(tc, common_varint_wraps_over_wide);
    tcase_add_test(tc, common_varint_truncated);
    tcase_add_test(tc, common_varint_random_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("zigzag");
    tcase_add_test(tc, common_zigzag_examples);
    suite_add_tcase(s, tc);

    tc = tcase_create("mutf");
    tcase_add_test(tc, common_mutf_vectors);
    tcase_add_test(tc, common_mutf_rejects_malformed);
    suite_add_tcase(s, tc);

    tc = tcase_create("bits");
    tcase_add_test(tc, common_bits_helpers);
    tcase_add_test(tc, common_bits_every_offset_and_width);
    tcase_add_test(tc, common_bits_packed_array);
    suite_add_tcase(s, tc);

    tc = tcase_create("hash");
    tcase_add_test(tc, common_hash_int_vectors);
    tcase_add_test(tc, common_hash_long_vectors);
    tcase_add_test(tc, common_murmur_vectors);
    tcase_add_test(tc, common_hash_table_size_vectors);
    tcase_add_test(tc, common_string_hash_vectors);
    tcase_add_test(tc, common_hash_key_vectors);
    suite_add_tcase(s, tc);

    tc = tcase_create("text");
    tcase_add_test(tc, common_text_utf8_to_utf16);
    tcase_add_test(tc, common_text_utf16_to_utf8_and_mutf8);
    tcase_add_test(tc, common_text_random_round_trips);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader");
    tcase_add_test(tc, common_reader_values);
    tcase_add_test(tc, common_reader_every_read_past_end);
    tcase_add_test(tc, common_buf_fixed_width);
    tcase_add_test(tc, common_cores_follow_affinity);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(common_suite());
}
