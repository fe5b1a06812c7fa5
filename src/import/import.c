/*
 * hollow_import_*(): a record source per format (include/hollow/import.h,
 * docs/import.md).
 *
 * The input is read whole into one buffer with zeroed padding after it
 * (simdjson reads a little past a document's end). JSON lines are parsed
 * on worker threads in chunks of whole lines, each chunk into its own
 * value tree, while the calling thread fills the trees into the write
 * state strictly in chunk order: ordinals are those of a one-thread import.
 * At most CHUNKS_PER_THREAD chunks per worker are parsed ahead, which
 * bounds the memory beside the input. A .json file and CSV are parsed and
 * filled record by record on the calling thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/thread.h"
#include "import/import_int.h"

#define CHUNK_BYTES (1u << 16) /* measured: faster than 1 MiB */
#define PROGRESS_BYTES (1u << 20)
#define CHUNKS_PER_THREAD 4
#define MAX_THREADS 64

/* ------------------------------------------------------------- formats */

static bool ends_with(const char *s, size_t n, const char *ext)
{
    size_t e = strlen(ext);
    return n >= e && strcasecmp(s + n - e, ext) == 0;
}

hollow_import_format hollow_import_format_of(const char *name)
{
    if (name == NULL)
        return HOLLOW_IMPORT_AUTO;
    size_t n = strlen(name);
    if (ends_with(name, n, ".json"))
        return HOLLOW_IMPORT_JSON;
    if (ends_with(name, n, ".jsonl") || ends_with(name, n, ".ndjson"))
        return HOLLOW_IMPORT_JSONL;
    if (ends_with(name, n, ".csv"))
        return HOLLOW_IMPORT_CSV;
    return HOLLOW_IMPORT_AUTO;
}

/* ------------------------------------------------------------ root type */

static bool references(const hollow_schema *s, const char *name)
{
    switch (hollow_schema_kind_of(s)) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t i = 0; i < hollow_schema_field_count(s); i++) {
            const char *r = hollow_schema_field_ref_type(s, i);
            if (hollow_schema_field_type(s, i) == HOLLOW_FIELD_REFERENCE &&
                r != NULL && strcmp(r, name) == 0)
                return true;
        }
        return false;
    case HOLLOW_SCHEMA_MAP:
        return strcmp(hollow_schema_value_type(s), name) == 0 ||
               strcmp(hollow_schema_element_type(s), name) == 0;
    default:
        return strcmp(hollow_schema_element_type(s), name) == 0;
    }
}

int hollow_import_root_type(const char **out, const hollow_schema_list *schemas)
{
    HOLLOW__ARG_NOT_NULL(out);
    *out = NULL;
    HOLLOW__ARG_NOT_NULL(schemas);
    size_t n = hollow_schema_list_count(schemas), found = 0;
    char names[512];
    size_t used = 0;
    names[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const hollow_schema *s = hollow_schema_list_get(schemas, i);
        if (hollow_schema_kind_of(s) != HOLLOW_SCHEMA_OBJECT)
            continue;
        const char *name = hollow_schema_name(s);
        bool referenced = false;
        for (size_t j = 0; j < n && !referenced; j++)
            referenced = references(hollow_schema_list_get(schemas, j), name);
        if (referenced)
            continue;
        if (found++ == 0)
            *out = name;
        if (used < sizeof names - 1)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                     found > 1 ? ", " : "", name);
    }
    if (found == 0)
        return hollow__error_set(HOLLOW_ENOTFOUND,
                                 "no root type: every OBJECT type is "
                                 "referenced by another");
    if (found > 1) {
        *out = NULL;
        return hollow__error_set(
            HOLLOW_EINVAL, "several root types (%s): name the type", names);
    }
    return 0;
}

/* ------------------------------------------------------------- reading */

/* the whole of fd into a buffer with HOLLOW__IMPORT_PADDING zero bytes */
static int read_all(char **out, size_t *len_out, int fd, const char *name)
{
    struct stat st;
    size_t cap = 1 << 16, len = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    char *buf = hollow__malloc(cap + HOLLOW__IMPORT_PADDING);
    HOLLOW_CHECK_ALLOC(buf);
    for (;;) {
        if (len == cap) {
            size_t ncap;
            if (hollow__mul_overflow(cap, 2, &ncap)) {
                hollow__free(buf);
                return hollow__error_oom();
            }
            char *nb = hollow__realloc(buf, ncap + HOLLOW__IMPORT_PADDING);
            if (nb == NULL) {
                hollow__free(buf);
                return hollow__error_oom();
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            hollow__free(buf);
            return hollow__error_set_os(HOLLOW_EIO, err, "%s", name);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    memset(buf + len, 0, HOLLOW__IMPORT_PADDING);
    *out = buf;
    *len_out = len;
    return 0;
}

int hollow__import_read(char **out, size_t *len, const char *path)
{
    bool std_in = strcmp(path, "-") == 0;
    int fd = std_in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return hollow__error_set_os(HOLLOW_EIO, err, "%s", path);
    }
    int rc = read_all(out, len, fd, path);
    if (!std_in)
        close(fd);
    return rc;
}

/* ---------------------------------------------------------- the import */

typedef struct job {
    const hollow_import_options *opts;
    hollow__isource src;
    hollow__filler *filler;
    hollow_import_stats *stats;
    uint64_t last_progress;
} job;

static void progress(job *j, uint64_t done)
{
    if (j->opts->progress != NULL &&
        done - j->last_progress >= PROGRESS_BYTES) {
        j->last_progress = done;
        j->opts->progress(done, j->src.len, j->opts->progress_payload);
    }
}

static int jerror(const job *j, const hollow__jerror *err)
{
    if (err->code == HOLLOW_ENOMEM)
        return hollow__error_oom();
    return hollow__import_error_at(err->code, &j->src, err->off, "%s",
                                   err->message);
}

static int record_fn(hollow__itree *t, void *payload)
{
    job *j = payload;
    int rc = hollow__filler_add(j->filler, t, 0);
    if (rc == 0) {
        j->stats->records++;
        if (t->count > 0)
            progress(j, t->nodes[0].off);
    }
    return rc;
}

static int import_json(job *j)
{
    hollow__jparser *p;
    HOLLOW_TRY(hollow__jparser_new(&p));
    hollow__itree t;
    hollow__itree_init(&t);
    hollow__jerror err;
    int rc = hollow__json_each(p, &t, j->src.data, j->src.len,
                               j->src.len + HOLLOW__IMPORT_PADDING, record_fn,
                               j, &err);
    if (rc != 0 && err.code != 0)
        rc = jerror(j, &err);
    hollow__itree_free(&t);
    hollow__jparser_free(p);
    return rc;
}

static int import_csv(job *j)
{
    hollow__itree t;
    hollow__itree_init(&t);
    int rc = hollow__csv_each(&j->src, &t, record_fn, j);
    hollow__itree_free(&t);
    return rc;
}

/* --------------------------------------------------------- JSON lines */

typedef struct chunk {
    size_t begin, end;
    hollow__itree tree;
    size_t *roots;
    size_t nroots, roots_cap;
    int rc; /* parse error after the records in roots */
    hollow__jerror err;
    bool done;
} chunk;

typedef struct lines {
    job *j;
    hollow__mutex mu;
    hollow__cond cv;
    chunk *slots;
    size_t nslots;
    size_t claimed;  /* jobs handed out */
    size_t consumed; /* jobs filled */
    size_t next;     /* byte where the next job starts */
    bool stop;
    int oom;
} lines;

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* parse the lines of c into its tree; stops at the first bad line */
static void parse_chunk(chunk *c, hollow__jparser *p,
                        const hollow__isource *src)
{
    hollow__itree_clear(&c->tree);
    c->nroots = 0;
    c->rc = 0;
    c->err.code = 0;
    size_t pos = c->begin;
    while (pos < c->end) {
        const char *nl = memchr(src->data + pos, '\n', c->end - pos);
        size_t e = nl != NULL ? (size_t)(nl - src->data) : c->end;
        size_t len = e - pos;
        if (!blank(src->data + pos, len)) {
            if (c->nroots == c->roots_cap) {
                size_t cap = c->roots_cap ? c->roots_cap * 2 : 1024;
                size_t *r = hollow__reallocarray(c->roots, cap, sizeof *r);
                if (r == NULL) {
                    c->rc = c->err.code = HOLLOW_ENOMEM;
                    return;
                }
                c->roots = r;
                c->roots_cap = cap;
            }
            size_t root = c->tree.count;
            int rc = hollow__json_parse(p, &c->tree, src->data + pos, len,
                                        src->len + HOLLOW__IMPORT_PADDING - pos,
                                        pos, &c->err);
            if (rc != 0) {
                c->rc = rc;
                c->err.off += pos;
                return;
            }
            c->roots[c->nroots++] = root;
        }
        pos = e + 1;
    }
}

/* claim the next job under the lock: false when there is none (yet) */
static bool claim(lines *l, size_t *id)
{
    if (l->stop || l->next >= l->j->src.len ||
        l->claimed >= l->consumed + l->nslots)
        return false;
    chunk *c = &l->slots[l->claimed % l->nslots];
    const hollow__isource *src = &l->j->src;
    c->begin = l->next;
    size_t end = c->begin + CHUNK_BYTES;
    if (end >= src->len) {
        end = src->len;
    } else {
        const char *nl = memchr(src->data + end, '\n', src->len - end);
        end = nl != NULL ? (size_t)(nl - src->data) + 1 : src->len;
    }
    c->end = end;
    c->done = false;
    l->next = end;
    *id = l->claimed++;
    return true;
}

static void *worker(void *arg)
{
    lines *l = arg;
    hollow__jparser *p = NULL;
    if (hollow__jparser_new(&p) < 0) {
        hollow__mutex_lock(&l->mu);
        l->oom = 1;
        l->stop = true;
        hollow__cond_broadcast(&l->cv);
        hollow__mutex_unlock(&l->mu);
        return NULL;
    }
    hollow__mutex_lock(&l->mu);
    for (;;) {
        size_t id;
        if (l->stop || l->next >= l->j->src.len)
            break;
        if (!claim(l, &id)) {
            hollow__cond_wait(&l->cv, &l->mu);
            continue;
        }
        chunk *c = &l->slots[id % l->nslots];
        hollow__mutex_unlock(&l->mu);
        parse_chunk(c, p, &l->j->src);
        hollow__mutex_lock(&l->mu);
        c->done = true;
        hollow__cond_broadcast(&l->cv);
    }
    hollow__mutex_unlock(&l->mu);
    hollow__jparser_free(p);
    return NULL;
}

/* fill chunk c's records; then its parse error, if any */
static int fill_chunk(job *j, chunk *c)
{
    for (size_t i = 0; i < c->nroots; i++) {
        int rc = hollow__filler_add(j->filler, &c->tree, c->roots[i]);
        if (rc != 0)
            return rc;
        j->stats->records++;
    }
    progress(j, c->end);
    return c->rc != 0 ? jerror(j, &c->err) : 0;
}

static int import_lines_serial(job *j)
{
    hollow__jparser *p;
    HOLLOW_TRY(hollow__jparser_new(&p));
    chunk c;
    memset(&c, 0, sizeof c);
    hollow__itree_init(&c.tree);
    int rc = 0;
    for (size_t pos = 0; pos < j->src.len && rc == 0;) {
        c.begin = pos;
        size_t end = pos + CHUNK_BYTES;
        if (end >= j->src.len) {
            end = j->src.len;
        } else {
            const char *nl = memchr(j->src.data + end, '\n', j->src.len - end);
            end = nl != NULL ? (size_t)(nl - j->src.data) + 1 : j->src.len;
        }
        c.end = pos = end;
        parse_chunk(&c, p, &j->src);
        rc = fill_chunk(j, &c);
    }
    hollow__itree_free(&c.tree);
    hollow__free(c.roots);
    hollow__jparser_free(p);
    return rc;
}

static unsigned thread_count(const hollow_import_options *opts)
{
    unsigned n = opts->threads;
    if (n == 0)
        n = hollow__cores();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

static int import_lines(job *j)
{
    unsigned n = thread_count(j->opts);
    if (n <= 1 || j->src.len <= CHUNK_BYTES)
        return import_lines_serial(j);
    lines l;
    memset(&l, 0, sizeof l);
    l.j = j;
    l.nslots = (size_t)n * CHUNKS_PER_THREAD;
    l.slots = hollow__calloc(l.nslots, sizeof *l.slots);
    hollow__thread threads[MAX_THREADS];
    unsigned started = 0;
    int rc = 0;
    HOLLOW_CHECK_ALLOC(l.slots);
    for (size_t i = 0; i < l.nslots; i++)
        hollow__itree_init(&l.slots[i].tree);
    hollow__mutex_init(&l.mu);
    hollow__cond_init(&l.cv);
    for (; started < n; started++)
        if (hollow__thread_create(&threads[started], worker, &l) != 0)
            break;
    if (started == 0) {
        rc = hollow__error_set(HOLLOW_ERROR, "cannot start a parsing thread");
        goto done;
    }
    hollow__mutex_lock(&l.mu);
    for (;;) {
        if (l.oom) {
            rc = hollow__error_oom();
            break;
        }
        if (l.consumed == l.claimed && l.next >= j->src.len)
            break;
        chunk *c = &l.slots[l.consumed % l.nslots];
        if (l.consumed == l.claimed || !c->done) {
            hollow__cond_wait(&l.cv, &l.mu);
            continue;
        }
        hollow__mutex_unlock(&l.mu);
        rc = fill_chunk(j, c);
        hollow__mutex_lock(&l.mu);
        if (rc != 0)
            break;
        l.consumed++;
        hollow__cond_broadcast(&l.cv);
    }
    l.stop = true;
    hollow__cond_broadcast(&l.cv);
    hollow__mutex_unlock(&l.mu);
done:
    for (unsigned i = 0; i < started; i++)
        hollow__thread_join(threads[i]);
    for (size_t i = 0; i < l.nslots; i++) {
        hollow__itree_free(&l.slots[i].tree);
        hollow__free(l.slots[i].roots);
    }
    hollow__free(l.slots);
    hollow__cond_destroy(&l.cv);
    hollow__mutex_destroy(&l.mu);
    return rc;
}

/* ---------------------------------------------------------- entry points */

static int import_data(hollow_import_stats *stats, hollow_write_state *ws,
                       const char *type, const char *name, const char *data,
                       size_t len, const hollow_import_options *opts)
{
    hollow_import_format format = opts->format;
    if (format == HOLLOW_IMPORT_AUTO)
        format = hollow_import_format_of(name);
    if (format == HOLLOW_IMPORT_AUTO)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "%s: unknown format (not .json, .jsonl, "
                                 ".ndjson or .csv): give the format",
                                 name);
    if (format != HOLLOW_IMPORT_JSON && format != HOLLOW_IMPORT_JSONL &&
        format != HOLLOW_IMPORT_CSV)
        return hollow__error_set(HOLLOW_EINVAL, "unknown import format %d",
                                 (int)format);
    if (type == NULL)
        HOLLOW_TRY(
            hollow_import_root_type(&type, hollow_write_state_schemas(ws)));
    job j;
    memset(&j, 0, sizeof j);
    j.opts = opts;
    j.src.name = name;
    j.src.data = data;
    j.src.len = len;
    j.stats = stats;
    stats->bytes = len;
    HOLLOW_TRY(hollow__filler_new(&j.filler, ws, type, &j.src, opts->strict));
    int rc = format == HOLLOW_IMPORT_JSON    ? import_json(&j)
             : format == HOLLOW_IMPORT_JSONL ? import_lines(&j)
                                             : import_csv(&j);
    /* an error of a record still held comes before a later parse error */
    int frc = hollow__filler_flush(j.filler);
    if (frc < 0)
        rc = frc;
    stats->unknown_fields = hollow__filler_unknown(j.filler);
    hollow__filler_free(j.filler);
    if (rc == 0 && opts->progress != NULL)
        opts->progress(len, len, opts->progress_payload);
    return rc;
}

static int check_args(hollow_import_stats *stats, hollow_write_state *ws,
                      const hollow_import_options **opts)
{
    static const hollow_import_options defaults = HOLLOW_IMPORT_OPTIONS_INIT;
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    HOLLOW__ARG_NOT_NULL(ws);
    if (*opts == NULL)
        *opts = &defaults;
    return hollow__check_options_version("import options", (*opts)->version,
                                         HOLLOW_IMPORT_OPTIONS_VERSION);
}

int hollow_import_buffer(hollow_import_stats *stats, hollow_write_state *ws,
                         const char *type, const char *name, const void *data,
                         size_t len, const hollow_import_options *opts)
{
    hollow_import_stats local;
    if (stats == NULL)
        stats = &local;
    HOLLOW_TRY(check_args(stats, ws, &opts));
    HOLLOW__ARG_NOT_NULL(name);
    if (data == NULL && len > 0)
        return hollow__error_null("data");
    size_t cap;
    if (hollow__add_overflow(len, HOLLOW__IMPORT_PADDING, &cap))
        return hollow__error_oom();
    char *copy = hollow__malloc(cap);
    HOLLOW_CHECK_ALLOC(copy);
    if (len > 0)
        memcpy(copy, data, len);
    memset(copy + len, 0, HOLLOW__IMPORT_PADDING);
    int rc = import_data(stats, ws, type, name, copy, len, opts);
    hollow__free(copy);
    return rc;
}

int hollow_import_file(hollow_import_stats *stats, hollow_write_state *ws,
                       const char *type, const char *path,
                       const hollow_import_options *opts)
{
    hollow_import_stats local;
    if (stats == NULL)
        stats = &local;
    HOLLOW_TRY(check_args(stats, ws, &opts));
    HOLLOW__ARG_NOT_NULL(path);
    bool std_in = strcmp(path, "-") == 0;
    if (std_in && opts->format == HOLLOW_IMPORT_AUTO)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "standard input needs a format");
    char *data = NULL;
    size_t len = 0;
    int rc = hollow__import_read(&data, &len, path);
    if (rc < 0)
        return rc;
    rc = import_data(stats, ws, type, std_in ? "<stdin>" : path, data, len,
                     opts);
    hollow__free(data);
    return rc;
}
