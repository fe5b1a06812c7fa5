/*
 * A callback subscriber of an announcer that records the versions it is
 * given (the announcer suites, in-process and filesystem): it can fail on
 * its Nth call, block in its first call until released, and notes whether
 * every call ran off the thread that made it.
 */
#ifndef HOLLOW_ANNOUNCE_REC_H
#define HOLLOW_ANNOUNCE_REC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define HT_REC_MAX 4096

typedef struct ht_rec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t v[HT_REC_MAX];
    int n;
    int fail_at;       /* return 1 on this call (1-based); 0: never */
    bool block;        /* the first call waits for ht_rec_release() */
    bool entered;
    bool release;
    pthread_t main_thread;
    bool off_main;     /* every call ran on another thread */
} ht_rec;

void ht_rec_init(ht_rec *r);
void ht_rec_destroy(ht_rec *r);
/* the hollow_announcer callback; payload is the ht_rec */
int ht_rec_cb(int64_t version, void *payload);
/* wait (up to ms) until the recorder saw `n` calls; false on timeout */
bool ht_rec_wait(ht_rec *r, int n, int ms);
/* wait (up to ms) until the last version seen is `v`; false on timeout */
bool ht_rec_wait_last(ht_rec *r, int64_t v, int ms);
/* wait (up to ms) until a blocking recorder is inside its first call */
bool ht_rec_wait_entered(ht_rec *r, int ms);
void ht_rec_release(ht_rec *r);
int ht_rec_count(ht_rec *r);
/* assert it saw exactly first, first+1, ..., last */
void ht_rec_expect_range(ht_rec *r, int64_t first, int64_t last);
/* assert what it saw is strictly increasing, within [lo, hi] */
void ht_rec_expect_increasing(ht_rec *r, int64_t lo, int64_t hi);

#endif
