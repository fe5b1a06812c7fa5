/*
 * Loading read states: the public entry points that turn a snapshot or a
 * delta (in memory or in a file) into a read state. They live with the
 * codecs rather than in read/ so that read/ never depends on blob/ (the
 * include order of docs/architecture.md §3: read builds nothing from
 * bytes; blob builds read states).
 *
 * A snapshot is loaded once: mmap mode maps the file, heap mode reads it
 * (or copies the caller's bytes) into one owned buffer. Either way the
 * shards point into it and keep it alive through its reference count, so
 * it outlives this call and goes with the last shard.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob_int.h"
#include "common/alloc.h"
#include "common/error.h"

/* style.md B5.7: an options struct of another version, or a memory mode
 * outside the enum, is a programmer error */
static int check_opts(const hollow_read_options *opts)
{
    if (opts == NULL)
        return 0;
    HOLLOW_TRY(hollow__check_options_version("read", opts->version,
                                             HOLLOW_READ_OPTIONS_VERSION));
    if (opts->memory_mode != HOLLOW_MEMORY_HEAP &&
        opts->memory_mode != HOLLOW_MEMORY_MMAP)
        return hollow__error_set(HOLLOW_EINVAL, "unknown memory mode %d",
                                 (int)opts->memory_mode);
    return 0;
}

int hollow_read_state_from_snapshot(hollow_read_state **out, const void *data,
                                    size_t len, const hollow_read_options *opts)
{
    if (out == NULL || (data == NULL && len > 0))
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    HOLLOW_TRY(check_opts(opts));
    if (opts != NULL && opts->memory_mode == HOLLOW_MEMORY_MMAP)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "mmap mode needs a file: use "
                                 "hollow_read_state_open");
    /* parsed in place; copied into a buffer of the state's own once valid */
    hollow__mapping *m = hollow__calloc(1, sizeof *m);
    HOLLOW_CHECK_ALLOC(m);
    atomic_init(&m->refs, 1);
    m->len = len;
    hollow__blob_source src = {data, len, m, opts ? opts->type_filter : NULL};
    int rc = hollow__snapshot_read(out, &src);
    hollow__mapping_release(m);
    return rc;
}

int hollow__snapshot_read_heap(hollow_read_state **out, void *base,
                               size_t base_len, const uint8_t *data, size_t len,
                               const char *const *type_filter)
{
    *out = NULL;
    hollow__mapping *m = hollow__calloc(1, sizeof *m);
    if (m == NULL) {
        hollow__free(base);
        return hollow__error_oom();
    }
    atomic_init(&m->refs, 1);
    m->addr = (void *)data;
    m->len = len;
    m->base = base;
    m->base_len = base_len;
    hollow__blob_source src = {data, len, m, type_filter};
    int rc = hollow__snapshot_read(out, &src);
    hollow__mapping_release(m); /* the shards hold their own references */
    return rc;
}

int hollow__snapshot_read_owned(hollow_read_state **out, void *buf, size_t len)
{
    return hollow__snapshot_read_heap(out, buf, len, buf, len, NULL);
}

/* a pipe, a terminal, a socket: their size is unknown, read to the end */
static int read_stream(void **base, size_t *size, uint8_t **out, size_t *len,
                       int fd, const char *path)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = hollow__malloc(cap);
    HOLLOW_CHECK_ALLOC(p);
    for (;;) {
        if (n == cap) {
            uint8_t *q = cap <= SIZE_MAX / 2 ? hollow__realloc(p, cap * 2) : NULL;
            if (q == NULL) {
                hollow__free(p);
                return hollow__error_oom();
            }
            p = q;
            cap *= 2;
        }
        ssize_t k = read(fd, p + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            hollow__free(p);
            return hollow__error_set_os(HOLLOW_EIO, e, "cannot read %s", path);
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    *base = p;
    *size = cap;
    *out = p;
    *len = n;
    return 0;
}

/* the file into a new buffer: *out (n bytes) within *base (*size bytes) */
static int read_whole_file(void **base, size_t *size, uint8_t **out,
                           size_t *len, int fd, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "cannot stat %s", path);
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode))
        return read_stream(base, size, out, len, fd, path);
    size_t n = (size_t)st.st_size;
    void *b;
    uint8_t *p = hollow__malloc_huge(n, &b, size);
    HOLLOW_CHECK_ALLOC(p);
    hollow__prefault(p, n); /* read() fills it all */
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : 0;
            hollow__free(b);
            return e ? hollow__error_set_os(HOLLOW_EIO, e, "cannot read %s", path)
                     : hollow__error_set(HOLLOW_EIO, "%s shrank while reading",
                                         path);
        }
        got += (size_t)k;
    }
    *base = b;
    *out = p;
    *len = n;
    return 0;
}

int hollow_read_state_open(hollow_read_state **out, const char *path,
                           const hollow_read_options *opts)
{
    if (out == NULL || path == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    HOLLOW_TRY(check_opts(opts));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "cannot open %s", path);
    int rc;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "cannot stat %s", path);
        close(fd);
        return rc;
    }
    /* only a regular file can be mapped; anything else is read (a pipe) */
    if (opts != NULL && opts->memory_mode == HOLLOW_MEMORY_MMAP &&
        S_ISREG(st.st_mode)) {
        hollow__mapping *m = hollow__calloc(1, sizeof *m);
        if (m == NULL) {
            close(fd);
            return hollow__error_oom();
        }
        atomic_init(&m->refs, 1);
        m->len = (size_t)st.st_size;
        if (m->len > 0) {
            m->addr = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m->addr == MAP_FAILED) {
                rc = hollow__error_set_os(HOLLOW_EIO, errno, "cannot map %s",
                                          path);
                m->addr = NULL;
                hollow__mapping_release(m);
                close(fd);
                return rc;
            }
        }
        close(fd);
        hollow__blob_source src = {m->addr, m->len, m, opts->type_filter};
        rc = hollow__snapshot_read(out, &src);
        hollow__mapping_release(m); /* the shards hold their own references */
        if (rc == 0)
            (*out)->mode = HOLLOW_MEMORY_MMAP;
        return rc;
    }
    void *base = NULL;
    size_t size = 0, len = 0;
    uint8_t *data = NULL;
    rc = read_whole_file(&base, &size, &data, &len, fd, path);
    close(fd);
    if (rc < 0)
        return rc;
    return hollow__snapshot_read_heap(out, base, size, data, len,
                                      opts ? opts->type_filter : NULL);
}

/* a state a delta made, once made: see hollow__read_state_settle */
static int settle(hollow_read_state **out, int rc)
{
    if (rc == 0 && (rc = hollow__read_state_settle(*out)) < 0) {
        hollow_read_state_release(*out);
        *out = NULL;
    }
    return rc;
}

int hollow_read_state_apply_delta(hollow_read_state **out,
                                  const hollow_read_state *rs, const void *data,
                                  size_t len)
{
    if (out == NULL || rs == NULL || (data == NULL && len > 0))
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    return settle(out, hollow__delta_apply(out, rs, data, len, 0));
}

int hollow_read_state_apply_delta_file(hollow_read_state **out,
                                       const hollow_read_state *rs,
                                       const char *path)
{
    if (out == NULL || rs == NULL || path == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "cannot open %s", path);
    void *base = NULL;
    size_t size = 0, len = 0;
    uint8_t *data = NULL;
    int rc = read_whole_file(&base, &size, &data, &len, fd, path);
    close(fd);
    if (rc < 0)
        return rc;
    rc = hollow__delta_apply(out, rs, data, len, 0);
    hollow__free(base);
    return settle(out, rc);
}
