/*
 * The Movie data model and helpers shared by the producer/consumer tests;
 * see movie_fixture.c.
 */
#ifndef HOLLOW_TEST_MOVIE_FIXTURE_H
#define HOLLOW_TEST_MOVIE_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hollow/hollow.h"

/* the base directory of a suite's temporary directories (base_setup) */
extern char g_base[256];

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

#define ck_assert_dump_eq(a, b, what)                                          \
    ck_assert_msg(strcmp((a), (b)) == 0, "%s: the dumps differ", (what))

enum { T_MOVIE, T_ACTOR, T_LIST, T_STUDIO, T_AWARD, T_COUNT };

/* what one version holds */
typedef struct spec {
    int first;    /* first movie id */
    int count;    /* movies first .. first + count - 1 */
    int rev;      /* titles of ids with id % 10 == rev % 10 carry " rev<rev>" */
    int awards;   /* Award records 0 .. awards - 1 */
    bool reverse; /* add the movies in descending id order */
} spec;

#define MAX_ORD 65536

/* the populate callback's payload: a spec in, the records counted out */
typedef struct pop {
    spec sp;
    size_t counts[T_COUNT]; /* distinct records per type added */
    int fail;               /* non-zero: populate returns it */
} pop;

typedef struct ev_rec {
    int64_t from, to;
    bool done;
    int result;
    char plan[1024];
    bool has_movie;
    size_t movie_added, movie_removed;
    int64_t state_version;
} ev_rec;

#define MAX_EV 256

typedef struct recorder {
    pthread_mutex_t mu;
    ev_rec ev[MAX_EV];
    int n;
} recorder;

extern const char schema_text[];
extern const char *const type_names[T_COUNT];

void remove_dir(const char *dir);
void base_setup(void);
void base_teardown(void);
void make_tmpdir(char *dir, size_t cap);
bool has_blob(hollow_blobstore *bs, hollow_blob_key k);
char *store_listing(hollow_blobstore *bs);
int sbuf_write(void *payload, const char *data, size_t len);
char *dump_state(const hollow_read_state *rs);
char *dump_snapshot_file(const char *dir, int64_t v);
char *dump_consumer(hollow_consumer *c);
hollow_schema_list *schemas_new(void);
void movie_title(char *buf, size_t cap, int id, int rev);
int actor_of(int id, int j);
size_t fidx(const hollow_record *r, const char *name);
int populate(hollow_write_state *ws, void *payload);
/* NULL if `rs` holds exactly what `sp` says, else why (in `why`) */
const char *check_state(const hollow_read_state *rs, const spec *sp,
                        const size_t *counts, char *why, size_t cap);
int64_t counter_minter(int64_t previous, void *payload);
hollow_producer *producer_new(hollow_blobstore *bs, hollow_announcer *a,
                              const hollow_schema_list *schemas,
                              uint32_t between_snapshots, bool counter);
int64_t cycle(hollow_producer *p, pop *pp);
int64_t cycle_spec(hollow_producer *p, spec sp);
hollow_blobstore *fs_store(const char *dir);
hollow_blobstore *mem_store(void);
hollow_consumer *consumer_new(hollow_blobstore *bs, hollow_announcer *a,
                              bool follow, hollow_memory_mode mode,
                              const char *const *filter);
void recorder_init(recorder *r);
void recorder_destroy(recorder *r);
void record_event(const hollow_refresh_event *ev, void *payload);
bool recorder_find(recorder *r, int64_t to, bool done, ev_rec *out);
void expect_plan(recorder *r, int64_t to, const char *plan);

#endif
