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
#include <time.h>

#include "hollow/error.h"

/*
 * Check's ck_assert_msg, and so every ck_assert_* built on it, records a
 * checkpoint on success: one write(2) to the parent per passing assertion
 * (6 M of them in one run of test_write_cycles). Here a success costs a
 * branch; a failure reports as before. The cost: a test killed by a signal
 * is reported at its START_TEST line, not at its last passing assertion
 * (the sanitizers' stack traces give the place).
 */
#undef ck_assert_msg
#define ck_assert_msg(expr, ...)                                               \
    ((expr) ? (void)0                                                          \
            : _ck_assert_failed(__FILE__, __LINE__,                            \
                                "Assertion '" #expr "' failed", __VA_ARGS__))

/* assert that a hollow call returned rc >= 0, printing the last error */
#define HT_OK(expr)                                                            \
    do {                                                                       \
        int ht_rc_ = (expr);                                                   \
        if (ht_rc_ < 0)                                                        \
            ck_abort_msg("%s returned %d: %s", #expr, ht_rc_,                  \
                         hollow_error_last()->message);                        \
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
/*
 * Scale knob of the long randomized suites: HOLLOW_TEST_SCALE (default 1,
 * the counts CI runs) multiplies their iterations (tests/README.md).
 */
int ht_scale(void);

/* a new directory $TMPDIR/<prefix>.XXXXXX (or under /tmp); aborts on
 * failure */
void ht_tmpdir(char *dir, size_t cap, const char *prefix);
/* remove a directory and all it holds (made writable first) */
void ht_remove_dir(const char *dir);

/* milliseconds on CLOCK_MONOTONIC */
int64_t ht_now_ms(void);
/* sleep `ms` milliseconds (resumed after a signal) */
void ht_sleep_ms(int ms);
/* CLOCK_REALTIME deadline `ms` from now, for pthread_cond_timedwait */
struct timespec ht_deadline(int ms);

/* a golden scenario's chain (tests/golden/<scenario>/manifest.json): its
 * first snapshot, then every delta forwards, then every reverse delta back */
#define HT_CHAIN_MAX_STEPS 64
typedef struct ht_blob {
    uint8_t *p;
    size_t len;
} ht_blob;
typedef struct ht_chain {
    ht_blob snapshot;
    ht_blob steps[HT_CHAIN_MAX_STEPS];
    int nsteps;
} ht_chain;
void ht_chain_load(ht_chain *c, const char *scenario);

/* the golden scenarios under tests/golden/, as an array initializer so that
 * a suite's copy keeps its size: static const char *S[] = HT_GOLDEN_SCENARIOS; */
#define HT_GOLDEN_SCENARIOS                                                    \
    {"a_primitives",  "b_collections",   "c_primary_keys", "d_sharding",       \
     "d2_resharding", "e_schema_change", "f_random_large"}
void ht_chain_free(ht_chain *c);
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
