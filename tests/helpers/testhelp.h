/*
 * Small helpers on top of Check: an assert that prints hollow_error_last(),
 * file reading, a seeded RNG that prints its seed and honours
 * HOLLOW_TEST_SEED, SHA-256 in hex, and a runner main.
 */
#ifndef HOLLOW_TESTHELP_H
#define HOLLOW_TESTHELP_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "hollow/error.h"

/* assert that a hollow call returned rc >= 0, printing the last error */
#define HT_OK(expr)                                                            \
    do {                                                                       \
        int ht_rc_ = (expr);                                                   \
        ck_assert_msg(ht_rc_ >= 0, "%s returned %d: %s", #expr, ht_rc_,        \
                      hollow_error_last()->message);                          \
    } while (0)

/* read a whole file; aborts the test on failure. Free with free(). */
uint8_t *ht_read_file(const char *path, size_t *len);
/* write a whole file; aborts the test on failure */
void ht_write_file(const char *path, const void *p, size_t len);
/* lower-case hex SHA-256 of p[0..len) into out[65] */
void ht_sha256_hex(const void *p, size_t len, char out[65]);
/* seed from HOLLOW_TEST_SEED or the clock; printed to stderr */
uint64_t ht_seed(const char *test_name);
/* SplitMix64 */
uint64_t ht_rand(uint64_t *state);
/* scale knob: HOLLOW_TEST_SCALE (default 1) */
int ht_scale(void);
/* a growing memory buffer and the sinks that fill it (blobs, dumps) */
typedef struct ht_mem {
    uint8_t *p;
    size_t len, cap;
} ht_mem;
int ht_mem_sink(void *payload, const void *data, size_t len);
int ht_mem_text_sink(void *payload, const char *data, size_t len);

/* fill write record `r` with record `o` of read type `t`, fields matched by
 * name (the write schema may differ, e.g. across a data-model change) */
struct hollow_record;
struct hollow_type;
void ht_copy_record(struct hollow_record *r, const struct hollow_type *t,
                    int32_t o);

/* run one suite; returns the process exit code */
int ht_run_suite(Suite *s);

#endif
