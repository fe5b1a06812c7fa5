/*
 * Streams: the byte sources blob stores read from (put) and hand out
 * (get). A stream is a read callback, a close callback, their payload and
 * an optional size hint:
 *
 *     hollow_stream { read(n_out, buf, cap, payload), close(payload),
 *                     payload, size_hint (-1: unknown), closed-at-end }
 *
 * Three built-in sources live here: bytes in memory (borrowed), an open
 * file descriptor (owned, closed with the stream) and a file opened by
 * path. The memory and descriptor states are allocated together with the
 * stream, so each costs one allocation. Custom streams come from
 * hollow_stream_new(). Invariant: a stream's close callback runs exactly
 * once, from hollow_stream_close().
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore_int.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"

struct hollow_stream {
    hollow_stream_read_fn read;
    hollow_stream_close_fn close;
    void *payload;
    int64_t size_hint;
};

/*
 * A stream with `extra` bytes of built-in state after it (payload), the
 * given callbacks, and a size hint (negative: unknown).
 */
static int stream_alloc(hollow_stream **out, size_t extra,
                        hollow_stream_read_fn read, hollow_stream_close_fn close,
                        int64_t size_hint)
{
    *out = NULL;
    size_t size;
    if (hollow__add_overflow(sizeof(hollow_stream), extra, &size))
        return hollow__error_oom();
    hollow_stream *s = hollow__calloc(1, size);
    HOLLOW_CHECK_ALLOC(s);
    s->payload = extra ? (void *)(s + 1) : NULL;
    s->read = read;
    s->close = close;
    s->size_hint = size_hint < 0 ? -1 : size_hint;
    *out = s;
    return 0;
}

int hollow_stream_new(hollow_stream **out, hollow_stream_read_fn read,
                      hollow_stream_close_fn close, void *payload,
                      int64_t size_hint)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "stream: out is NULL");
    *out = NULL;
    if (read == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "stream: read callback is NULL");
    HOLLOW_TRY(stream_alloc(out, 0, read, close, size_hint));
    (*out)->payload = payload;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

typedef struct mem_src {
    const uint8_t *ptr;
    size_t len;
    size_t pos;
} mem_src;

static int mem_read(size_t *n_out, void *buf, size_t cap, void *payload)
{
    mem_src *m = payload;
    size_t n = m->len - m->pos;
    if (n > cap)
        n = cap;
    if (n > 0)
        memcpy(buf, m->ptr + m->pos, n);
    m->pos += n;
    *n_out = n;
    return 0;
}

int hollow_stream_from_memory(hollow_stream **out, const void *data, size_t len)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "stream: out is NULL");
    *out = NULL;
    if (data == NULL && len != 0)
        return hollow__error_set(HOLLOW_EINVAL, "stream: data is NULL");
    HOLLOW_TRY(stream_alloc(out, sizeof(mem_src), mem_read, NULL, (int64_t)len));
    mem_src *m = (*out)->payload;
    m->ptr = data;
    m->len = len;
    return 0;
}

bool hollow__stream_peek_memory(const uint8_t **ptr, size_t *len,
                                 hollow_stream *s)
{
    if (s->read != mem_read)
        return false;
    mem_src *m = s->payload;
    *ptr = m->ptr + m->pos;
    *len = m->len - m->pos;
    m->pos = m->len;
    return true;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

typedef struct fd_src {
    int fd;
} fd_src;

static int fd_read(size_t *n_out, void *buf, size_t cap, void *payload)
{
    fd_src *f = payload;
    ssize_t n;
    do
        n = read(f->fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        *n_out = 0;
        return hollow__error_set_os(HOLLOW_EIO, errno, "read blob");
    }
    *n_out = (size_t)n;
    return 0;
}

static void fd_close(void *payload)
{
    fd_src *f = payload;
    close(f->fd);
}

int hollow__stream_from_fd(hollow_stream **out, int fd, int64_t size_hint)
{
    HOLLOW_TRY(stream_alloc(out, sizeof(fd_src), fd_read, fd_close, size_hint));
    ((fd_src *)(*out)->payload)->fd = fd;
    return 0;
}

int hollow_stream_from_file(hollow_stream **out, const char *path)
{
    if (out == NULL || path == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "stream: out or path is NULL");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hollow__error_set_os(errno == ENOENT ? HOLLOW_ENOTFOUND
                                                    : HOLLOW_EIO,
                                    errno, "open %s", path);
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "stat %s", path);
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = hollow__error_set_os(HOLLOW_EIO, EISDIR, "open %s", path);
        goto fail;
    }
    rc = hollow__stream_from_fd(out, fd, S_ISREG(st.st_mode) ? st.st_size : -1);
    if (rc == 0)
        return 0;
fail:
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

int hollow_stream_read(size_t *n_out, hollow_stream *s, void *buf, size_t cap)
{
    if (n_out == NULL || s == NULL || (buf == NULL && cap != 0))
        return hollow__error_set(HOLLOW_EINVAL, "stream: bad arguments");
    *n_out = 0;
    if (cap == 0)
        return 0;
    int rc = s->read(n_out, buf, cap, s->payload);
    if (rc == 0 && *n_out > cap) /* a custom callback lied */
        return hollow__error_set(HOLLOW_EINVAL,
                                 "stream callback returned %zu bytes for %zu",
                                 *n_out, cap);
    return rc;
}

int64_t hollow_stream_size(const hollow_stream *s)
{
    return s ? s->size_hint : -1;
}

void hollow_stream_close(hollow_stream *s)
{
    if (s == NULL)
        return;
    if (s->close)
        s->close(s->payload);
    hollow__free(s);
}

/*
 * Read a whole stream into one block. The size hint, when there is one,
 * sizes the first allocation (plus one byte, so that reaching the end
 * costs no regrowth); a stream longer than its hint still reads correctly.
 */
int hollow__stream_read_all(uint8_t **out, size_t *len_out, hollow_stream *s)
{
    *out = NULL;
    *len_out = 0;
    size_t cap = 64 * 1024;
    int64_t hint = hollow_stream_size(s);
    if (hint >= 0 && (uint64_t)hint < SIZE_MAX - 1)
        cap = (size_t)hint + 1;
    uint8_t *buf = hollow__malloc(cap);
    HOLLOW_CHECK_ALLOC(buf);
    size_t len = 0;
    int rc;
    for (;;) {
        if ((rc = hollow__grow(buf, cap, len + 1, cap)) < 0)
            goto fail;
        size_t n;
        if ((rc = hollow_stream_read(&n, s, buf + len, cap - len)) < 0)
            goto fail;
        if (n == 0)
            break;
        len += n;
    }
    *out = buf;
    *len_out = len;
    return 0;
fail:
    hollow__free(buf);
    return rc;
}
