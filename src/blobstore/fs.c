/*
 * The filesystem blob store: Java Hollow's filesystem publisher layout in
 * one directory (blob-format.md §13), the embedded default.
 *
 *     <dir>/snapshot-<v>            raw blob bytes
 *     <dir>/delta-<from>-<to>
 *     <dir>/reversedelta-<from>-<to>   (from is the newer version)
 *     <dir>/header-<v>
 *     <dir>/.<name>.<pid>.<n>.tmp   ours, while a put is in flight
 *     anything else                 not ours to list (announced.version,
 *                                   Java's part streams, a lease, ...)
 *
 * A put writes a temporary file whose name starts with '.', so neither
 * Java's retriever nor our list ever sees it, fsyncs it, renames it over
 * the final name (atomic within one filesystem) and fsyncs the directory
 * so the rename itself survives a crash. Opening a store removes the
 * temporary files of writers that died mid-put. Invariants: a blob name in the
 * directory always holds a complete blob; every failure path of put()
 * unlinks its temporary file; a process killed mid-put leaves only its
 * '.'-file behind. Errors of the OS are HOLLOW_EIO with errno kept.
 *
 * The store keeps an O_DIRECTORY descriptor of the directory and works
 * relative to it (openat, renameat, unlinkat, fstatat), so a later change
 * of the process's working directory does not matter; get_file() returns
 * paths under the directory's absolute path taken at creation. Nothing in
 * the store changes after creation except an atomic counter for temporary
 * names, so every call is safe from any number of threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore_int.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/thread.h"

#define COPY_CHUNK (256 * 1024)

typedef struct fs_store {
    hollow_blobstore parent; /* must come first */
    char *dir;               /* absolute path, no trailing '/' */
    int dirfd;
    bool fsync;
    hollow_write_fault_fn write_fault;
    void *write_fault_ctx;
    atomic_uint_fast64_t tmp_seq;
    /* hollow_blobstore_stats_get(): every get is a "miss" (no cache) */
    atomic_uint_fast64_t gets, bytes_down, uploads, bytes_up;
} fs_store;

static int fs_error(int err, const fs_store *s, const char *what,
                    const char *name)
{
    return hollow__error_set_os(HOLLOW_EIO, err, "%s %s/%s", what, s->dir, name);
}

/*
 * Past RLIMIT_FSIZE, write(2) raises SIGXFSZ, whose default action kills
 * the process. We block it in this thread while writing, so the write
 * fails with EFBIG (a HOLLOW_EIO), and take back a SIGXFSZ our write
 * raised before unblocking it.
 */
static void xfsz_block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void xfsz_restore(const sigset_t *old, bool was_pending)
{
    sigset_t pend, set;
    sigemptyset(&set);
    sigaddset(&set, SIGXFSZ);
    if (!was_pending && sigpending(&pend) == 0 && sigismember(&pend, SIGXFSZ)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static bool xfsz_pending(void)
{
    sigset_t pend;
    return sigpending(&pend) == 0 && sigismember(&pend, SIGXFSZ);
}

/* write all of buf at `offset`, through the test hook */
static int write_all(const fs_store *s, int fd, const uint8_t *buf, size_t len,
                     size_t offset, const char *tmp)
{
    while (len > 0) {
        if (s->write_fault != NULL) {
            int err = s->write_fault(s->write_fault_ctx, offset);
            if (err != 0)
                return fs_error(err, s, "write", tmp);
        }
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fs_error(errno, s, "write", tmp);
        if (n == 0)
            return fs_error(EIO, s, "write", tmp);
        buf += n;
        len -= (size_t)n;
        offset += (size_t)n;
    }
    return 0;
}

/* create a fresh temporary file for `name`; its name goes to tmp */
static int create_tmp(int *fd_out, char *tmp, size_t cap, fs_store *s,
                      const char *name)
{
    for (int attempt = 0; attempt < 64; attempt++) {
        unsigned long long n = (unsigned long long)atomic_fetch_add(&s->tmp_seq, 1);
        snprintf(tmp, cap, ".%s.%ld.%llu.tmp", name, (long)getpid(), n);
        int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        0644);
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        if (errno != EEXIST)
            return fs_error(errno, s, "create", tmp);
    }
    return fs_error(EEXIST, s, "create", tmp);
}

static int sync_dir(const fs_store *s)
{
    if (s->fsync && fsync(s->dirfd) != 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "fsync %s", s->dir);
    return 0;
}

static int put_blob(hollow_blobstore *bs, const hollow_blob_key *key,
                    hollow_stream *src, bool exclusive)
{
    fs_store *s = (fs_store *)bs;
    char name[HOLLOW_BLOB_NAME_MAX];
    char tmp[HOLLOW_BLOB_NAME_MAX + 64];
    HOLLOW_TRY(hollow_blob_key_name(name, sizeof name, key));
    uint8_t *buf = hollow__malloc(COPY_CHUNK);
    HOLLOW_CHECK_ALLOC(buf);
    int fd = -1;
    int rc = create_tmp(&fd, tmp, sizeof tmp, s, name);
    if (rc < 0) {
        tmp[0] = '\0';
        goto done;
    }
    size_t offset = 0;
    sigset_t old;
    bool was_pending = xfsz_pending();
    xfsz_block(&old);
    const uint8_t *mem;
    size_t mem_len;
    /* bytes in memory go straight to the file, a chunk per write */
    if (hollow__stream_peek_memory(&mem, &mem_len, src)) {
        while (rc == 0 && offset < mem_len) {
            size_t n = mem_len - offset < COPY_CHUNK ? mem_len - offset
                                                      : COPY_CHUNK;
            if ((rc = write_all(s, fd, mem + offset, n, offset, tmp)) == 0)
                offset += n;
        }
    }
    for (; rc == 0;) {
        size_t n;
        if ((rc = hollow_stream_read(&n, src, buf, COPY_CHUNK)) < 0)
            break;
        if (n == 0)
            break;
        if ((rc = write_all(s, fd, buf, n, offset, tmp)) < 0)
            break;
        offset += n;
    }
    xfsz_restore(&old, was_pending);
    if (rc < 0)
        goto done;
    if (s->fsync && fsync(fd) != 0) {
        rc = fs_error(errno, s, "fsync", tmp);
        goto done;
    }
    int cfd = fd;
    fd = -1;
    if (close(cfd) != 0) {
        rc = fs_error(errno, s, "close", tmp);
        goto done;
    }
    if (exclusive) {
        /* link(2) fails if the name exists: a claim no other put can steal */
        if (linkat(s->dirfd, tmp, s->dirfd, name, 0) != 0) {
            rc = errno == EEXIST
                     ? hollow__error_set(HOLLOW_EEXISTS, "%s/%s already exists",
                                         s->dir, name)
                     : fs_error(errno, s, "link into", name);
            goto done;
        }
        unlinkat(s->dirfd, tmp, 0);
    } else if (renameat(s->dirfd, tmp, s->dirfd, name) != 0) {
        rc = fs_error(errno, s, "rename into", name);
        goto done;
    }
    tmp[0] = '\0'; /* renamed: nothing to clean up */
    rc = sync_dir(s);
    atomic_fetch_add(&s->uploads, 1);
    atomic_fetch_add(&s->bytes_up, (uint64_t)offset);
done:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp[0] != '\0')
        unlinkat(s->dirfd, tmp, 0);
    hollow__free(buf);
    return rc;
}

static int fs_put(hollow_blobstore *bs, const hollow_blob_key *key,
                  hollow_stream *src)
{
    return put_blob(bs, key, src, false);
}

static void fs_free(hollow_blobstore *bs);

int hollow__fs_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                       hollow_stream *src)
{
    return bs->free == fs_free ? put_blob(bs, key, src, true)
                               : HOLLOW_ENOTSUPPORTED;
}

static int not_found(const fs_store *s, const char *name)
{
    return hollow__error_set_os(HOLLOW_ENOTFOUND, ENOENT, "no blob %s/%s",
                                s->dir, name);
}

static int fs_get(hollow_stream **out, hollow_blobstore *bs,
                  const hollow_blob_key *key)
{
    fs_store *s = (fs_store *)bs;
    char name[HOLLOW_BLOB_NAME_MAX];
    HOLLOW_TRY(hollow_blob_key_name(name, sizeof name, key));
    int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? not_found(s, name)
                               : fs_error(errno, s, "open", name);
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0) {
        rc = fs_error(errno, s, "stat", name);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = not_found(s, name);
        goto fail;
    }
    if ((rc = hollow__stream_from_fd(out, fd, (int64_t)st.st_size)) == 0) {
        atomic_fetch_add(&s->gets, 1);
        atomic_fetch_add(&s->bytes_down, (uint64_t)st.st_size);
        return 0;
    }
fail:
    close(fd);
    return rc;
}

/* the blob's file name and its stat; HOLLOW_ENOTFOUND unless a file */
static int stat_blob(struct stat *st, char *name, const fs_store *s,
                     const hollow_blob_key *key)
{
    HOLLOW_TRY(hollow_blob_key_name(name, HOLLOW_BLOB_NAME_MAX, key));
    if (fstatat(s->dirfd, name, st, 0) != 0)
        return errno == ENOENT ? not_found(s, name)
                               : fs_error(errno, s, "stat", name);
    if (!S_ISREG(st->st_mode))
        return not_found(s, name);
    return 0;
}

static int fs_size(int64_t *out, hollow_blobstore *bs,
                   const hollow_blob_key *key)
{
    char name[HOLLOW_BLOB_NAME_MAX];
    struct stat st;
    HOLLOW_TRY(stat_blob(&st, name, (fs_store *)bs, key));
    *out = (int64_t)st.st_size;
    return 0;
}

static int fs_get_file(char *path, size_t cap, hollow_blobstore *bs,
                       const hollow_blob_key *key)
{
    fs_store *s = (fs_store *)bs;
    char name[HOLLOW_BLOB_NAME_MAX];
    struct stat st;
    HOLLOW_TRY(stat_blob(&st, name, s, key));
    int n = snprintf(path, cap, "%s/%s", s->dir, name);
    if (n < 0 || (size_t)n >= cap) {
        path[0] = '\0';
        return hollow__error_set(HOLLOW_ERANGE,
                                 "blob path needs %d bytes, buffer has %zu",
                                 n + 1, cap);
    }
    atomic_fetch_add(&s->gets, 1);
    atomic_fetch_add(&s->bytes_down, (uint64_t)st.st_size);
    return 0;
}

static int fs_stats(hollow_blobstore_stats *out, hollow_blobstore *bs)
{
    fs_store *s = (fs_store *)bs;
    out->cache_misses = atomic_load(&s->gets);
    out->bytes_down = atomic_load(&s->bytes_down);
    out->uploads = atomic_load(&s->uploads);
    out->bytes_up = atomic_load(&s->bytes_up);
    return 0;
}

/*
 * List by reading the directory through a fresh descriptor (a dup would
 * share the read position with other threads' listings). Names starting
 * with '.' are ours or hidden; the rest must parse exactly and be regular
 * files (following symlinks, as Java's retriever does).
 */
static int fs_list(hollow_blobstore *bs, hollow_blob_key_cb cb, void *payload)
{
    fs_store *s = (fs_store *)bs;
    int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "open %s", s->dir);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int err = errno;
        close(fd);
        return hollow__error_set_os(HOLLOW_EIO, err, "read %s", s->dir);
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                rc = hollow__error_set_os(HOLLOW_EIO, errno, "read %s", s->dir);
            break;
        }
        hollow_blob_key key;
        if (e->d_name[0] == '.' || !hollow__blob_key_match(&key, e->d_name))
            continue;
        struct stat st;
        if (fstatat(s->dirfd, e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue; /* vanished meanwhile, or not a file */
        if ((rc = cb(&key, payload)) != 0)
            break;
    }
    closedir(d);
    return rc;
}

static int fs_remove(hollow_blobstore *bs, const hollow_blob_key *key)
{
    fs_store *s = (fs_store *)bs;
    char name[HOLLOW_BLOB_NAME_MAX];
    HOLLOW_TRY(hollow_blob_key_name(name, sizeof name, key));
    if (unlinkat(s->dirfd, name, 0) != 0)
        return errno == ENOENT ? not_found(s, name)
                               : fs_error(errno, s, "delete", name);
    return sync_dir(s);
}

static void fs_free(hollow_blobstore *bs)
{
    fs_store *s = (fs_store *)bs;
    close(s->dirfd);
    hollow__free(s->dir);
    hollow__free(s);
}

/*
 * Remove the temporary files of puts whose process is gone (killed
 * mid-put): ".<blob name>.<pid>.<n>.tmp" with no process <pid> on this
 * machine. Best effort: a read-only directory keeps them.
 */
static void sweep_tmp(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (n[0] != '.' || len < 8 || strcmp(n + len - 4, ".tmp") != 0)
            continue;
        /* the pid is the second-last dot-separated field before "tmp" */
        char copy[NAME_MAX + 1];
        snprintf(copy, sizeof copy, "%.*s", (int)(len - 4), n);
        char *last = strrchr(copy, '.');
        if (last == NULL || last == copy)
            continue;
        *last = '\0';
        char *pid_at = strrchr(copy, '.');
        if (pid_at == NULL || pid_at == copy)
            continue;
        *pid_at = '\0';
        hollow_blob_key k;
        if (!hollow__blob_key_match(&k, copy + 1))
            continue;
        char *end;
        long pid = strtol(pid_at + 1, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd, n, 0);
    }
    closedir(d);
}

/* mkdir -p; errno-style result */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof path)
        return ENAMETOOLONG;
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return errno;
        path[i] = c;
    }
    return 0;
}

/* `dir` made absolute against the working directory (no symlinks resolved) */
static int absolute_path(char *buf, size_t cap, const char *dir)
{
    size_t len = 0;
    if (dir[0] != '/') {
        if (getcwd(buf, cap) == NULL)
            return hollow__error_set_os(HOLLOW_EIO, errno,
                                        "resolve %s: working directory", dir);
        len = strlen(buf);
        if (len + 1 < cap && (len == 0 || buf[len - 1] != '/'))
            buf[len++] = '/';
    }
    size_t dlen = strlen(dir);
    if (len + dlen >= cap)
        return hollow__error_set_os(HOLLOW_EIO, ENAMETOOLONG, "resolve %s", dir);
    memcpy(buf + len, dir, dlen + 1);
    len += dlen;
    while (len > 1 && buf[len - 1] == '/') /* "/a/b/" -> "/a/b" */
        buf[--len] = '\0';
    return 0;
}

int hollow_blobstore_fs_new(hollow_blobstore **out,
                            const hollow_blobstore_fs_options *opts)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "fs store: out is NULL");
    *out = NULL;
    if (opts == NULL || opts->dir == NULL || opts->dir[0] == '\0')
        return hollow__error_set(HOLLOW_EINVAL, "fs store: no directory given");
    HOLLOW_TRY(hollow__check_options_version(
        "fs store", opts->version, HOLLOW_BLOBSTORE_FS_OPTIONS_VERSION));
    if (opts->create_dir) {
        int err = make_dirs(opts->dir);
        if (err != 0)
            return hollow__error_set_os(HOLLOW_EIO, err, "create %s", opts->dir);
    }
    int dirfd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return hollow__error_set_os(errno == ENOENT ? HOLLOW_ENOTFOUND
                                                    : HOLLOW_EIO,
                                    errno, "open directory %s", opts->dir);
    char abs[PATH_MAX];
    int rc;
    fs_store *s = NULL;
    if ((rc = absolute_path(abs, sizeof abs, opts->dir)) < 0)
        goto fail;
    s = hollow__calloc(1, sizeof *s);
    if (s == NULL || (s->dir = hollow__strdup(abs)) == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    if (strcmp(s->dir, "/") == 0)
        s->dir[0] = '\0'; /* "/" + "/" + name would double the slash */
    s->dirfd = dirfd;
    sweep_tmp(dirfd);
    s->fsync = opts->fsync;
    s->write_fault = opts->write_fault;
    s->write_fault_ctx = opts->write_fault_ctx;
    /* distinct temporary names across stores of one process, too */
    atomic_init(&s->tmp_seq, (uint_fast64_t)hollow__now_ns() ^
                                 ((uint_fast64_t)(uintptr_t)s << 16));
    s->parent.version = HOLLOW_BLOBSTORE_VERSION;
    s->parent.put = fs_put;
    s->parent.put_file = NULL;
    s->parent.get = fs_get;
    s->parent.get_file = fs_get_file;
    s->parent.list = fs_list;
    s->parent.remove = fs_remove;
    s->parent.free = fs_free;
    s->parent.stats = fs_stats;
    s->parent.size = fs_size;
    *out = &s->parent;
    return 0;
fail:
    if (s != NULL)
        hollow__free(s->dir);
    hollow__free(s);
    close(dirfd);
    return rc;
}
