/*
 * Two producer processes on one directory, started at once, killed (kill
 * -9) and stopped (SIGSTOP, past their lease) at random, restarted after
 * each kill (issue 12). Afterwards it checks what consumers rely on:
 *
 *   - the announced history is linear: every version ever seen announced
 *     (polled from announced.version every few ms, and logged by the
 *     producers after each cycle) lies on the history of the final
 *     announced version (each version's parent read from its reverse
 *     delta), and the announcements only went up;
 *   - every announced version loads (a fresh consumer), and where it has
 *     a snapshot, the chain and the snapshot give the same checksum;
 *   - every delta and reverse delta in the store applies to its origin,
 *     and gives the checksum of its target's snapshot where there is one;
 *   - after hollow_blobstore_gc (keep 2), the announced version still
 *     loads.
 *
 * usage: chaos_producers SECONDS [DIR [SEED]]
 * Exit 0 when every check holds; it prints the counts either way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hollow/hollow.h"
#include "movie_fixture.h"

#define LEASE_MS 600
#define MAXV 200000

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t plus_one(int64_t previous, void *payload)
{
    (void)payload;
    return previous + 1;
}

/* ------------------------------------------------------ the producers */

static void producer_main(const char *dir, const char *log, int id, uint64_t seed)
{
    rng = seed | 1;
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    so.fsync = false; /* kill -9 keeps the page cache: no power loss here */
    hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ao.dir = dir;
    ao.fsync = false;
    ao.force_polling = true;
    hollow_blobstore *bs = NULL;
    hollow_announcer *an = NULL;
    if (hollow_blobstore_fs_new(&bs, &so) < 0 || hollow_announcer_fs_new(&an, &ao) < 0)
        _exit(2);
    hollow_schema_list *schemas = NULL; /* not schemas_new(): no Check here */
    if (hollow_schema_parse(&schemas, schema_text, strlen(schema_text)) < 0)
        _exit(5);
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.announcer = an;
    po.schemas = schemas;
    po.minter = plus_one;
    po.num_states_between_snapshots = 2;
    po.lease_ttl_ms = LEASE_MS;
    char label[32];
    snprintf(label, sizeof label, "chaos-%d", id);
    po.lease_owner = label;
    hollow_producer *p = NULL;
    if (hollow_producer_new(&p, &po) < 0)
        _exit(3);
    int logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    for (;;) {
        pop pp;
        memset(&pp, 0, sizeof pp);
        pp.sp = (spec){(int)(next_rand() % 40), 20 + (int)(next_rand() % 40),
                       (int)(next_rand() % 100), (int)(next_rand() % 4), false};
        int64_t v = 0;
        int rc = hollow_producer_run_cycle(&v, p, populate, &pp);
        char line[96];
        int n = snprintf(line, sizeof line, "%d %d %lld\n", id, rc, (long long)v);
        if (logfd >= 0 && write(logfd, line, (size_t)n) != n)
            _exit(4);
        sleep_ms(rc == 0 ? 10 + (long)(next_rand() % 60) : 30);
    }
}

/* ------------------------------------------------------ the driver */

typedef struct proc {
    pid_t pid;
    bool stopped;
    int64_t resume_at;
} proc;

static int64_t observed[MAXV];
static size_t nobserved;

static bool read_announced(int64_t *out, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/announced.version", dir);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (end == buf)
        return false;
    *out = v;
    return true;
}

static pid_t spawn(const char *dir, const char *log, int id)
{
    pid_t pid = fork();
    if (pid == 0)
        producer_main(dir, log, id, next_rand());
    return pid;
}

typedef struct keys {
    hollow_blob_key *k;
    size_t n, cap;
} keys;

static int collect(const hollow_blob_key *key, void *payload)
{
    keys *ks = payload;
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 256;
        ks->k = realloc(ks->k, ks->cap * sizeof *ks->k);
        if (ks->k == NULL)
            abort();
    }
    ks->k[ks->n++] = *key;
    return 0;
}

static int64_t parent_of(const keys *ks, int64_t v)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i].kind == HOLLOW_BLOB_REVERSE_DELTA && ks->k[i].from_version == v)
            return ks->k[i].version;
    return -1;
}

static bool has_key(const keys *ks, hollow_blob_kind kind, int64_t v)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i].kind == kind && ks->k[i].version == v)
            return true;
    return false;
}

static uint8_t *fetch(size_t *len, hollow_blobstore *bs, const hollow_blob_key *k)
{
    hollow_stream *s = NULL;
    if (hollow_blobstore_get(&s, bs, k) < 0)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap *= 2);
        size_t got = 0;
        if (hollow_stream_read(&got, s, buf + n, cap - n) < 0) {
            free(buf);
            hollow_stream_close(s);
            return NULL;
        }
        if (got == 0)
            break;
        n += got;
    }
    hollow_stream_close(s);
    *len = n;
    return buf;
}

/* a fresh consumer's state at v, or NULL (message printed) */
static hollow_read_state *load(hollow_blobstore *bs, int64_t v)
{
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    hollow_consumer *c = NULL;
    if (hollow_consumer_new(&c, &co) < 0)
        return NULL;
    hollow_read_state *rs = NULL;
    if (hollow_consumer_refresh(c, v) == 0)
        rs = hollow_consumer_acquire_state(c);
    else
        printf("FAIL: version %lld does not load: %s\n", (long long)v,
               hollow_error_last()->message);
    hollow_consumer_free(c);
    return rs;
}

static bool snapshot_checksum(uint32_t *out, hollow_blobstore *bs, int64_t v)
{
    hollow_blob_key k = hollow_blob_key_snapshot(v);
    size_t len = 0;
    uint8_t *b = fetch(&len, bs, &k);
    if (b == NULL)
        return false;
    hollow_read_state *rs = NULL;
    bool ok = hollow_read_state_from_snapshot(&rs, b, len, NULL) == 0 &&
              hollow_read_state_checksum(out, rs) == 0;
    hollow_read_state_release(rs);
    free(b);
    return ok;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: chaos_producers SECONDS [DIR [SEED]]\n");
        return 2;
    }
    long seconds = strtol(argv[1], NULL, 10);
    char dir[1024], log[1100];
    if (argc >= 3) {
        snprintf(dir, sizeof dir, "%s", argv[2]);
        mkdir(dir, 0755);
    } else {
        snprintf(dir, sizeof dir, "/tmp/hollow-chaos-XXXXXX");
        if (mkdtemp(dir) == NULL)
            return 2;
    }
    rng = argc >= 4 ? strtoull(argv[3], NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    printf("chaos: %ld s, dir %s, seed %llu\n", seconds, dir, (unsigned long long)rng);
    rng |= 1;
    fflush(stdout);
    snprintf(log, sizeof log, "%s.log", dir);
    unlink(log);

    proc pr[2];
    for (int i = 0; i < 2; i++) {
        pr[i].pid = spawn(dir, log, i);
        pr[i].stopped = false;
    }
    size_t kills = 0, stops = 0;
    int64_t end = now_ms() + seconds * 1000, next_action = now_ms() + 200;
    int64_t last = -1;
    bool went_down = false;
    while (now_ms() < end) {
        int64_t v;
        if (read_announced(&v, dir) && v != last) {
            if (v < last)
                went_down = true;
            if (nobserved < MAXV)
                observed[nobserved++] = v;
            last = v;
        }
        int64_t t = now_ms();
        for (int i = 0; i < 2; i++)
            if (pr[i].stopped && t >= pr[i].resume_at) {
                kill(pr[i].pid, SIGCONT);
                pr[i].stopped = false;
            }
        if (t >= next_action) {
            int i = (int)(next_rand() % 2);
            int what = (int)(next_rand() % 100);
            if (what < 35) {
                kill(pr[i].pid, SIGKILL);
                waitpid(pr[i].pid, NULL, 0);
                kills++;
                pr[i].pid = spawn(dir, log, i);
                pr[i].stopped = false;
            } else if (what < 70 && !pr[i].stopped) {
                kill(pr[i].pid, SIGSTOP);
                pr[i].stopped = true;
                pr[i].resume_at = t + 200 + (int64_t)(next_rand() % 2300);
                stops++;
            }
            next_action = t + 100 + (int64_t)(next_rand() % 400);
        }
        sleep_ms(2);
    }
    for (int i = 0; i < 2; i++) {
        kill(pr[i].pid, SIGKILL);
        waitpid(pr[i].pid, NULL, 0);
    }
    int64_t v;
    if (read_announced(&v, dir) && v != last && nobserved < MAXV)
        observed[nobserved++] = v;

    /* the producers' own record of what they announced */
    size_t cycles_ok = 0, cycles_failed = 0;
    FILE *lf = fopen(log, "r");
    if (lf != NULL) {
        int id, rc;
        long long lv;
        int64_t prev[2] = {0, 0};
        while (fscanf(lf, "%d %d %lld", &id, &rc, &lv) == 3) {
            if (rc == 0 && id >= 0 && id < 2 && lv != prev[id]) {
                cycles_ok++;
                if (nobserved < MAXV)
                    observed[nobserved++] = lv;
                prev[id] = lv;
            } else if (rc != 0) {
                cycles_failed++;
            }
        }
        fclose(lf);
    }

    int failures = went_down ? 1 : 0;
    if (went_down)
        printf("FAIL: announced.version went down at some point\n");
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    hollow_blobstore *bs = NULL;
    if (hollow_blobstore_fs_new(&bs, &so) < 0)
        return 1;
    keys ks = {0};
    hollow_blobstore_list(bs, collect, &ks);
    int64_t final = 0;
    if (!read_announced(&final, dir)) {
        printf("FAIL: nothing announced\n");
        return 1;
    }
    /* the history of the final version */
    int64_t *hist = malloc(sizeof *hist * (ks.n + 1));
    size_t nhist = 0;
    for (int64_t x = final; x > 0 && nhist <= ks.n; x = parent_of(&ks, x))
        hist[nhist++] = x;
    qsort(hist, nhist, sizeof *hist, cmp64);
    qsort(observed, nobserved, sizeof *observed, cmp64);
    size_t distinct = 0, off_history = 0;
    for (size_t i = 0; i < nobserved; i++) {
        if (i > 0 && observed[i] == observed[i - 1])
            continue;
        observed[distinct++] = observed[i];
        if (bsearch(&observed[i], hist, nhist, sizeof *hist, cmp64) == NULL) {
            if (off_history++ < 10)
                printf("FAIL: announced version %lld is not on the history of "
                       "%lld\n", (long long)observed[i], (long long)final);
        }
    }
    failures += off_history > 0;

    /*
     * One consumer follows the history version by version (each announced
     * version loads; where it has a snapshot the two agree), and at each
     * version every delta and reverse delta that starts there is applied
     * to it (and agrees with its target's snapshot). Deltas from a version
     * not announced are counted as failures.
     */
    hollow_blob_key *dk = malloc(sizeof *dk * (ks.n + 1));
    size_t ndk = 0, deltas_done = 0, delta_fail = 0, loaded = 0;
    for (size_t i = 0; i < ks.n; i++)
        if (ks.k[i].kind == HOLLOW_BLOB_DELTA ||
            ks.k[i].kind == HOLLOW_BLOB_REVERSE_DELTA)
            dk[ndk++] = ks.k[i];
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    hollow_consumer *follower = NULL;
    if (hollow_consumer_new(&follower, &co) < 0)
        return 1;
    for (size_t i = 0; i < distinct; i++) {
        if (hollow_consumer_refresh(follower, observed[i]) < 0) {
            printf("FAIL: version %lld does not load: %s\n",
                   (long long)observed[i], hollow_error_last()->message);
            failures++;
            continue;
        }
        loaded++;
        hollow_read_state *rs = hollow_consumer_acquire_state(follower);
        uint32_t a, b;
        if (has_key(&ks, HOLLOW_BLOB_SNAPSHOT, observed[i]) &&
            hollow_read_state_checksum(&a, rs) == 0 &&
            snapshot_checksum(&b, bs, observed[i]) && a != b) {
            printf("FAIL: version %lld: chain and snapshot differ\n",
                   (long long)observed[i]);
            failures++;
        }
        for (size_t j = 0; j < ndk; j++) {
            const hollow_blob_key *k = &dk[j];
            if (k->from_version != observed[i])
                continue;
            deltas_done++;
            size_t len = 0;
            uint8_t *bytes = fetch(&len, bs, k);
            hollow_read_state *to = NULL;
            char name[HOLLOW_BLOB_NAME_MAX];
            hollow_blob_key_name(name, sizeof name, k);
            if (bytes == NULL || hollow_read_state_apply_delta(&to, rs, bytes, len) < 0) {
                printf("FAIL: %s does not apply to its origin: %s\n", name,
                       hollow_error_last()->message);
                delta_fail++;
            } else if (has_key(&ks, HOLLOW_BLOB_SNAPSHOT, k->version) &&
                       hollow_read_state_checksum(&a, to) == 0 &&
                       snapshot_checksum(&b, bs, k->version) && a != b) {
                printf("FAIL: %s leads elsewhere than snapshot-%lld\n", name,
                       (long long)k->version);
                delta_fail++;
            }
            hollow_read_state_release(to);
            free(bytes);
        }
        hollow_read_state_release(rs);
    }
    hollow_consumer_free(follower);
    size_t deltas = ndk, from_unannounced = 0;
    /*
     * Deltas from a version never announced: the reverse delta of a cycle
     * killed before it announced (its origin is that cycle's version).
     * The origin must still load (through the cycle's delta) and the
     * reverse delta apply to it.
     */
    for (size_t j = 0; j < ndk; j++) {
        const hollow_blob_key *k = &dk[j];
        if (bsearch(&k->from_version, observed, distinct, sizeof *observed,
                    cmp64) != NULL)
            continue;
        deltas_done++;
        from_unannounced++;
        hollow_read_state *origin = load(bs, k->from_version);
        size_t len = 0;
        uint8_t *bytes = origin ? fetch(&len, bs, k) : NULL;
        hollow_read_state *to = NULL;
        char name[HOLLOW_BLOB_NAME_MAX];
        hollow_blob_key_name(name, sizeof name, k);
        if (bytes == NULL || hollow_read_state_apply_delta(&to, origin, bytes, len) < 0) {
            printf("FAIL: %s (from a version never announced) does not apply: "
                   "%s\n", name, hollow_error_last()->message);
            delta_fail++;
        }
        hollow_read_state_release(to);
        hollow_read_state_release(origin);
        free(bytes);
    }
    free(dk);
    failures += delta_fail > 0;
    /* and a sample in fresh consumers, by whatever plan they choose */
    size_t fresh = 0;
    for (size_t n = 0; n < 20 && distinct > 0; n++) {
        int64_t x = n == 0 ? final : observed[next_rand() % distinct];
        hollow_read_state *rs = load(bs, x);
        if (rs == NULL)
            failures++;
        else
            fresh++;
        hollow_read_state_release(rs);
    }

    /* retention keeps what the announced version needs */
    size_t leftovers = 0;
    for (size_t i = 0; i < ks.n; i++)
        if (bsearch(&ks.k[i].version, hist, nhist, sizeof *hist, cmp64) == NULL)
            leftovers++;
    hollow_gc_options go = HOLLOW_GC_OPTIONS_INIT;
    go.announced = final;
    go.keep_snapshots = 2;
    go.remove_newer = true;
    hollow_gc_result gr = {0, 0};
    if (hollow_blobstore_gc(&gr, bs, &go, NULL, NULL) < 0) {
        printf("FAIL: gc: %s\n", hollow_error_last()->message);
        failures++;
    }
    hollow_read_state *rs = load(bs, final);
    if (rs == NULL)
        failures++;
    hollow_read_state_release(rs);

    printf("chaos: kills %zu, stops %zu; cycles announced %zu, failed %zu; "
           "versions announced %zu (final %lld, history %zu long), loaded %zu "
           "(+%zu fresh); blobs %zu, of versions off the history %zu; deltas "
           "checked %zu (%zu from unannounced leftovers), failed %zu; gc removed %zu, kept %zu; %s\n",
           kills, stops, cycles_ok, cycles_failed, distinct, (long long)final,
           nhist, loaded, fresh, ks.n, leftovers, deltas, from_unannounced, delta_fail,
           gr.removed, gr.kept, failures ? "FAILED" : "ok");
    free(hist);
    free(ks.k);
    hollow_blobstore_free(bs);
    return failures ? 1 : 0;
}
