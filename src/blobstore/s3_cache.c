/*
 * The S3 store's local side: the cache directory and the pending journal
 * (the interface and its rules are in s3_cache.h). Local disk only.
 *
 *     <dir>/snapshots/snapshot-5          a cache file, named by its relkey
 *     <dir>/snapshots/.snapshot-5.meta    its sidecar: "<size> <sha256>\n"
 *     <dir>/pending.journal               the pending journal
 *     <dir>/pending.lock                  the retrier's flock
 *     <dir>/.tmp-<pid>-<n>                a file being written (any kind)
 *     <dir>/.commits                      one byte per commit, any process
 *
 * Names starting with '.' are ours, so relkeys may not have a component
 * that starts with '.'; `pending.journal` and `pending.lock` are refused
 * as relkeys too.
 *
 * Crash safety. A cache file and its sidecar appear only whole: written
 * to a temporary file, fsynced, renamed, and the folder fsynced. A crash
 * between the two renames of a replace leaves a file whose sidecar does
 * not match; lookup then removes it (HOLLOW_ECORRUPT) and the store
 * downloads it again. Opening the cache removes the temporary files of
 * processes that no longer exist and rebuilds the byte count by scanning
 * the folders.
 *
 * Journal lines. Each is "<crc> <record>\n" with <crc> the 8 hex digits of
 * the FNV-1a hash of <record>:
 *
 *     A <id> B <size> <sha256> <relkey>   a blob waiting for upload
 *     A <id> N <version> - <relkey>       an announcement
 *     D <id>                              entry <id> uploaded
 *
 * An append is one write(2) of one line under an exclusive flock of the
 * journal file, then fdatasync. A crash leaves at most a torn last line;
 * the next appender starts its line with '\n' when the file does not end
 * with one, so the torn fragment becomes a line of its own whose hash
 * does not match, and every reader skips it. Compaction rewrites the
 * pending entries to a temporary file and renames it over the journal,
 * under the old file's flock; whoever then locks the old file sees that
 * the name now holds another inode and opens the new one (the usual
 * lock-a-file-that-gets-renamed dance), so the flock stays the single
 * point of exclusion across processes and cache objects. Each object
 * keeps the journal open and remembers what it parsed, reading only the
 * lines appended since (a long outage's thousands of entries are not
 * re-read at every "done").
 *
 * Ids: the milliseconds since 2024 in the high 42 bits, the pid in the
 * low 22 (Linux's pid_max is at most 2^22), strictly increasing within a
 * process (one process-wide counter, so two caches open on one dir in one
 * process never collide), distinct between live processes by the pid.
 *
 * Threads: `mu` guards the accounting, the retrier lock descriptor and the
 * renames of commit and the checks of lookup (so a lookup never sees a
 * file between its data and sidecar renames). Hashing for `verify` runs
 * outside it. `jmu` makes this object's journal calls one at a time (they
 * share its journal descriptor and parse); lock order mu, then jmu.
 * A cache object is not for use across fork(): the child opens its own.
 */
#define _DEFAULT_SOURCE /* flock */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "common/thread.h"
#include "s3_cache.h"

#define JOURNAL_NAME "pending.journal"
#define LOCK_NAME "pending.lock"
#define COMMITS_NAME ".commits" /* one byte per commit (others_committed) */
#define COMMITS_MAX (1 << 20)   /* then it starts again from empty */
#define TMP_PREFIX ".tmp-"
#define META_SUFFIX ".meta"
#define HASH_CHUNK (256 * 1024)
/* compact a journal with pending entries once it has this many lines and
 * most of its entries are done */
#define COMPACT_MIN_LINES 64
#define LINE_MAX_LEN 512
#define ID_EPOCH_MS INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */

typedef struct cache_file {
    char relkey[HOLLOW__S3_RELKEY_MAX];
    int64_t size;
    int64_t mtime_ns; /* last use as known here */
} cache_file;

/* one entry of the journal as parsed */
typedef struct jentry {
    hollow__s3_entry e;
    bool done;
} jentry;

/* what this object has parsed of the journal file it holds open (jfd) */
typedef struct jstate {
    hollow__array(jentry) adds; /* every entry of the file, in order */
    size_t live_from;           /* adds before it are all done */
    size_t n_done;              /* adds marked done */
    size_t lines;               /* valid lines */
    uint64_t parsed;            /* bytes of whole lines parsed */
} jstate;

struct hollow__s3_cache {
    char *dir; /* absolute, no trailing '/' */
    int dirfd;
    uint64_t max_bytes; /* 0: unbounded */
    bool verify;
    hollow__mutex mu;
    hollow__array(cache_file) files;
    uint64_t bytes;
    int lock_fd; /* pending.lock while this cache is the retrier, else -1 */
    int commits_fd;        /* .commits (O_APPEND), or -1 */
    uint64_t commits_seen; /* its size when we last looked */
    atomic_uint_fast64_t tmp_seq;
    hollow__mutex jmu; /* one journal call at a time in this process */
    int jfd;           /* the journal, or -1 */
    jstate js;         /* what jfd held when last read */
};

static void jstate_clear(jstate *js)
{
    hollow__array_free(&js->adds);
    memset(js, 0, sizeof *js);
}

/* forget the journal file (jmu held): closing it releases our flock */
static void journal_drop(hollow__s3_cache *c)
{
    if (c->jfd >= 0)
        close(c->jfd);
    c->jfd = -1;
    jstate_clear(&c->js);
}

/* the last journal id issued by this process (see "Ids" above) */
static atomic_uint_fast64_t last_id;

/* ------------------------------------------------------------ helpers */

static int os_error(const hollow__s3_cache *c, int err, const char *what,
                    const char *name)
{
    return hollow__error_set_os(HOLLOW_EIO, err, "%s %s/%s", what, c->dir, name);
}

static int64_t stat_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static bool relkey_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '/' || ch == '.' || ch == '_' ||
           ch == '-';
}

/*
 * A relative key is a path under the cache dir: [A-Za-z0-9/._-] only,
 * no "..", no leading '/', no empty component and no component starting
 * with '.' (those names are the cache's own), and not a name of the
 * journal's files.
 */
static int check_relkey(const char *k)
{
    size_t n = strnlen(k, HOLLOW__S3_RELKEY_MAX);
    if (n == 0 || n >= HOLLOW__S3_RELKEY_MAX)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "cache key of %zu bytes (1 to %d allowed)", n,
                                 HOLLOW__S3_RELKEY_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if (!relkey_char_ok(k[i]))
            return hollow__error_set(HOLLOW_EINVAL,
                                     "cache key %.*s: character 0x%02x not "
                                     "allowed (only A-Z a-z 0-9 / . _ -)",
                                     (int)n, k, (unsigned char)k[i]);
    if (strstr(k, "..") != NULL)
        return hollow__error_set(HOLLOW_EINVAL, "cache key %s contains ..", k);
    const char *comp = k;
    for (;;) {
        if (*comp == '/' || *comp == '\0')
            return hollow__error_set(HOLLOW_EINVAL,
                                     "cache key %s: empty path component", k);
        if (*comp == '.')
            return hollow__error_set(HOLLOW_EINVAL,
                                     "cache key %s: a component starts with '.'",
                                     k);
        const char *slash = strchr(comp, '/');
        if (slash == NULL)
            break;
        comp = slash + 1;
    }
    if (strcmp(k, JOURNAL_NAME) == 0 || strcmp(k, LOCK_NAME) == 0)
        return hollow__error_set(HOLLOW_EINVAL, "cache key %s is reserved", k);
    return 0;
}

static bool sha256_hex_ok(const char *h)
{
    size_t i = 0;
    for (; i < 64; i++) {
        char ch = h[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return h[i] == '\0';
}

/* "<folder>/.<base>.meta" for relkey "<folder>/<base>" */
static void meta_name(char *out, size_t cap, const char *relkey)
{
    const char *slash = strrchr(relkey, '/');
    if (slash == NULL)
        snprintf(out, cap, ".%s" META_SUFFIX, relkey);
    else
        snprintf(out, cap, "%.*s/.%s" META_SUFFIX, (int)(slash - relkey), relkey,
                 slash + 1);
}

static int fsync_at(const hollow__s3_cache *c, const char *folder)
{
    int fd = folder == NULL ? dup(c->dirfd)
                            : openat(c->dirfd, folder,
                                     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return os_error(c, errno, "open", folder ? folder : ".");
    int rc = 0;
    if (fsync(fd) != 0)
        rc = os_error(c, errno, "fsync", folder ? folder : ".");
    close(fd);
    return rc;
}

/* fsync the folder holding `relkey` */
static int fsync_parent(const hollow__s3_cache *c, const char *relkey)
{
    char folder[HOLLOW__S3_RELKEY_MAX];
    const char *slash = strrchr(relkey, '/');
    if (slash == NULL)
        return fsync_at(c, NULL);
    snprintf(folder, sizeof folder, "%.*s", (int)(slash - relkey), relkey);
    return fsync_at(c, folder);
}

/* create the folders of `relkey`; fsync each parent of a new one */
static int make_folders(const hollow__s3_cache *c, const char *relkey)
{
    char sub[HOLLOW__S3_RELKEY_MAX];
    for (const char *p = strchr(relkey, '/'); p != NULL; p = strchr(p + 1, '/')) {
        snprintf(sub, sizeof sub, "%.*s", (int)(p - relkey), relkey);
        if (mkdirat(c->dirfd, sub, 0755) == 0) {
            char *last = strrchr(sub, '/');
            if (last != NULL)
                *last = '\0';
            HOLLOW_TRY(fsync_at(c, last != NULL ? sub : NULL));
        } else if (errno != EEXIST) {
            return os_error(c, errno, "mkdir", sub);
        }
    }
    return 0;
}

static int write_all(int fd, const void *p, size_t len)
{
    const char *b = p;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* a new ".tmp-<pid>-<n>" at the top of the cache dir */
static int create_tmp(hollow__s3_cache *c, int *fd_out, char *name, size_t cap)
{
    for (int attempt = 0; attempt < 64; attempt++) {
        unsigned long long n = (unsigned long long)atomic_fetch_add(&c->tmp_seq, 1);
        int w = snprintf(name, cap, TMP_PREFIX "%ld-%llu", (long)getpid(), n);
        if (w < 0 || (size_t)w >= cap)
            return hollow__error_set(HOLLOW_ERANGE, "temporary name too long");
        int fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        0644);
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        if (errno != EEXIST)
            return os_error(c, errno, "create", name);
    }
    return os_error(c, EEXIST, "create", name);
}

/* the name under the cache dir of a temporary file's path, or NULL */
static const char *tmp_name_of(const hollow__s3_cache *c, const char *path)
{
    size_t n = strlen(c->dir);
    if (strncmp(path, c->dir, n) != 0 || path[n] != '/')
        return NULL;
    const char *name = path + n + 1;
    if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
        strchr(name, '/') != NULL)
        return NULL;
    return name;
}

/* SHA-256 of an open file from offset 0, lower-case hex into out[65] */
static int hash_fd(const hollow__s3_cache *c, int fd, const char *name,
                   char out[65])
{
    uint8_t *buf = hollow__malloc(HASH_CHUNK);
    HOLLOW_CHECK_ALLOC(buf);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = 0;
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = hollow__error_set(HOLLOW_ERROR, "sha-256 init failed");
        goto done;
    }
    for (off_t off = 0;;) {
        ssize_t n = pread(fd, buf, HASH_CHUNK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = os_error(c, errno, "read", name);
            goto done;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
            rc = hollow__error_set(HOLLOW_ERROR, "sha-256 update failed");
            goto done;
        }
        off += n;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        rc = hollow__error_set(HOLLOW_ERROR, "sha-256 final failed");
        goto done;
    }
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
done:
    EVP_MD_CTX_free(ctx);
    hollow__free(buf);
    return rc;
}

/* ------------------------------------------------------- accounting */

static cache_file *find_file(hollow__s3_cache *c, const char *relkey)
{
    for (size_t i = 0; i < c->files.n; i++)
        if (strcmp(c->files.v[i].relkey, relkey) == 0)
            return &c->files.v[i];
    return NULL;
}

/* record `relkey` at `size` and `mtime_ns` (mu held) */
static int account(hollow__s3_cache *c, const char *relkey, int64_t size,
                   int64_t mtime_ns)
{
    cache_file *f = find_file(c, relkey);
    if (f == NULL) {
        if ((f = hollow__array_push(&c->files, 64)) == NULL)
            return HOLLOW_ENOMEM;
        snprintf(f->relkey, sizeof f->relkey, "%s", relkey);
        f->size = 0;
    }
    c->bytes = c->bytes - (uint64_t)f->size + (uint64_t)size;
    f->size = size;
    f->mtime_ns = mtime_ns;
    return 0;
}

static void unaccount(hollow__s3_cache *c, const char *relkey)
{
    cache_file *f = find_file(c, relkey);
    if (f == NULL)
        return;
    c->bytes -= (uint64_t)f->size;
    *f = c->files.v[--c->files.n];
}

/* unlink a cache file and its sidecar (mu held); errno of the data file's
 * unlink, 0 if it was removed */
static int unlink_entry(hollow__s3_cache *c, const char *relkey)
{
    char meta[HOLLOW__S3_RELKEY_MAX + 8];
    meta_name(meta, sizeof meta, relkey);
    int err = unlinkat(c->dirfd, relkey, 0) == 0 ? 0 : errno;
    unlinkat(c->dirfd, meta, 0);
    unaccount(c, relkey);
    return err;
}

/* true if the process `pid` is gone */
static bool pid_gone(long pid)
{
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/*
 * Walk a folder (fd owned here) recording every cache file; `prefix` is
 * the folder's relkey ("" at the top). At the top, temporary files of
 * dead processes are removed.
 */
static int scan_folder(hollow__s3_cache *c, int fd, const char *prefix)
{
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int err = errno;
        close(fd);
        return os_error(c, err, "open", prefix[0] ? prefix : ".");
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (name[0] == '.') {
            long pid;
            if (prefix[0] == '\0' &&
                strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
                sscanf(name + strlen(TMP_PREFIX), "%ld-", &pid) == 1 &&
                pid_gone(pid))
                unlinkat(fd, name, 0);
            continue;
        }
        if (prefix[0] == '\0' &&
            (strcmp(name, JOURNAL_NAME) == 0 || strcmp(name, LOCK_NAME) == 0))
            continue;
        char rel[HOLLOW__S3_RELKEY_MAX];
        int w = snprintf(rel, sizeof rel, "%s%s%s", prefix, prefix[0] ? "/" : "",
                         name);
        if (w < 0 || (size_t)w >= sizeof rel)
            continue; /* not a name we could have written */
        struct stat st;
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* removed meanwhile */
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (sub >= 0)
                rc = scan_folder(c, sub, rel);
        } else if (S_ISREG(st.st_mode) && check_relkey(rel) == 0) {
            rc = account(c, rel, (int64_t)st.st_size, stat_mtime_ns(&st));
        }
    }
    closedir(d);
    return rc;
}

/*
 * Re-read the whole dir (mu held): one stat per file, so the files other
 * processes committed count too and files they removed no longer do. Our
 * own record of a use is kept when it is newer than the file's mtime (the
 * disk's clock is coarse). On failure the old record stays.
 */
static int rescan(hollow__s3_cache *c)
{
    int fd = dup(c->dirfd);
    if (fd < 0)
        return os_error(c, errno, "dup", ".");
    if (lseek(fd, 0, SEEK_SET) != 0) { /* dup shares the offset */
        int err = errno;
        close(fd);
        return os_error(c, err, "seek", ".");
    }
    __typeof__(c->files) old = c->files;
    uint64_t old_bytes = c->bytes;
    memset(&c->files, 0, sizeof c->files);
    c->bytes = 0;
    int rc = scan_folder(c, fd, "");
    if (rc < 0) {
        hollow__array_free(&c->files);
        c->files = old;
        c->bytes = old_bytes;
        return rc;
    }
    for (size_t i = 0; i < c->files.n; i++) {
        cache_file *f = &c->files.v[i];
        for (size_t j = 0; j < old.n; j++)
            if (strcmp(old.v[j].relkey, f->relkey) == 0) {
                if (old.v[j].mtime_ns > f->mtime_ns)
                    f->mtime_ns = old.v[j].mtime_ns;
                break;
            }
    }
    hollow__array_free(&old);
    return 0;
}

/* ------------------------------------------------------------ open */

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return hollow__error_set(HOLLOW_EINVAL, "cache dir path of %zu bytes", n);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return hollow__error_set_os(HOLLOW_EIO, errno, "mkdir %s", path);
        path[i] = saved;
    }
    return 0;
}

int hollow__s3_cache_open(hollow__s3_cache **out, const char *dir,
                          uint64_t max_bytes, bool verify)
{
    HOLLOW__ARG_NOT_NULL(out);
    *out = NULL;
    HOLLOW__ARG_NOT_NULL(dir);
    HOLLOW_TRY(make_dirs(dir));
    hollow__s3_cache *c = hollow__calloc(1, sizeof *c);
    HOLLOW_CHECK_ALLOC(c);
    c->dirfd = -1;
    c->lock_fd = -1;
    c->commits_fd = -1;
    c->jfd = -1;
    c->max_bytes = max_bytes;
    c->verify = verify;
    atomic_init(&c->tmp_seq, 0);
    int rc;
    char abs[PATH_MAX];
    if (realpath(dir, abs) == NULL) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "resolve %s", dir);
        goto fail;
    }
    if ((c->dir = hollow__strdup(abs)) == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    if ((c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "open %s", c->dir);
        goto fail;
    }
    if (hollow__mutex_init(&c->mu) != 0) {
        rc = hollow__error_set(HOLLOW_ERROR, "mutex init failed");
        goto fail;
    }
    if (hollow__mutex_init(&c->jmu) != 0) {
        hollow__mutex_destroy(&c->mu);
        rc = hollow__error_set(HOLLOW_ERROR, "mutex init failed");
        goto fail;
    }
    int fd = dup(c->dirfd);
    if (fd < 0) {
        rc = os_error(c, errno, "dup", ".");
    } else {
        if (lseek(fd, 0, SEEK_SET) != 0) { /* dup shares the offset */
            close(fd);
            rc = os_error(c, errno, "seek", ".");
        } else {
            rc = scan_folder(c, fd, "");
        }
    }
    if (rc < 0) {
        hollow__mutex_destroy(&c->jmu);
        hollow__mutex_destroy(&c->mu);
        goto fail;
    }
    /* without it every bounded commit rescans the dir: slower, still right */
    c->commits_fd = openat(c->dirfd, COMMITS_NAME,
                           O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct stat cst;
    if (c->commits_fd >= 0 && fstat(c->commits_fd, &cst) == 0)
        c->commits_seen = (uint64_t)cst.st_size;
    *out = c;
    return 0;
fail:
    if (c->dirfd >= 0)
        close(c->dirfd);
    hollow__array_free(&c->files);
    hollow__free(c->dir);
    hollow__free(c);
    return rc;
}

void hollow__s3_cache_close(hollow__s3_cache *c)
{
    if (c == NULL)
        return;
    if (c->lock_fd >= 0)
        close(c->lock_fd); /* releases the retrier's flock */
    journal_drop(c);
    if (c->commits_fd >= 0)
        close(c->commits_fd);
    close(c->dirfd);
    hollow__mutex_destroy(&c->jmu);
    hollow__mutex_destroy(&c->mu);
    hollow__array_free(&c->files);
    hollow__free(c->dir);
    hollow__free(c);
}

/* ------------------------------------------------------- cache files */

int hollow__s3_cache_tmp(hollow__s3_cache *c, int *fd_out, char *path,
                         size_t cap)
{
    HOLLOW__ARG_NOT_NULL(c);
    HOLLOW__ARG_NOT_NULL(fd_out);
    HOLLOW__ARG_NOT_NULL(path);
    *fd_out = -1;
    char name[64];
    int fd;
    HOLLOW_TRY(create_tmp(c, &fd, name, sizeof name));
    int w = snprintf(path, cap, "%s/%s", c->dir, name);
    if (w < 0 || (size_t)w >= cap) {
        close(fd);
        unlinkat(c->dirfd, name, 0);
        return hollow__error_set(HOLLOW_ERANGE,
                                 "temporary path needs %d bytes, room for %zu",
                                 w + 1, cap);
    }
    *fd_out = fd;
    return 0;
}

void hollow__s3_cache_discard(hollow__s3_cache *c, const char *tmp_path)
{
    if (c == NULL || tmp_path == NULL)
        return;
    const char *name = tmp_name_of(c, tmp_path);
    if (name != NULL) /* never unlink anything but our temporary files */
        unlinkat(c->dirfd, name, 0);
}

/* write the sidecar of a cache file to a new temporary file */
static int write_meta_tmp(hollow__s3_cache *c, char *name, size_t cap,
                          int64_t size, const char *sha256_hex)
{
    int fd;
    HOLLOW_TRY(create_tmp(c, &fd, name, cap));
    char line[128];
    int n = snprintf(line, sizeof line, "%" PRId64 " %s\n", size, sha256_hex);
    int err = write_all(fd, line, (size_t)n);
    if (err == 0 && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && err == 0)
        err = errno;
    if (err != 0) {
        unlinkat(c->dirfd, name, 0);
        return os_error(c, err, "write", name);
    }
    return 0;
}

/* read a sidecar; false if missing or not one */
static bool read_meta(const hollow__s3_cache *c, const char *relkey,
                      int64_t *size, char sha[65])
{
    char meta[HOLLOW__S3_RELKEY_MAX + 8];
    meta_name(meta, sizeof meta, relkey);
    int fd = openat(c->dirfd, meta, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[128];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf - 1)) < 0 && errno == EINTR)
        ;
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    long long sz;
    char h[80];
    if (sscanf(buf, "%lld %79s", &sz, h) != 2 || sz < 0 || !sha256_hex_ok(h))
        return false;
    *size = (int64_t)sz;
    memcpy(sha, h, 65);
    return true;
}

/*
 * Evict least recently used files until the total fits max_bytes (mu
 * held). Never a file a pending journal entry names, nor `keep` (the file
 * just committed: evicting it would hand the caller nothing). Uses other
 * processes made are seen through each file's mtime, re-read here.
 */
static int pending_relkeys(hollow__s3_cache *c, char (**out)[HOLLOW__S3_RELKEY_MAX],
                           size_t *n_out);

static bool others_committed(hollow__s3_cache *c);

static int cmp_mtime(const void *a, const void *b)
{
    const cache_file *x = *(cache_file *const *)a, *y = *(cache_file *const *)b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->relkey, y->relkey);
}

static int evict(hollow__s3_cache *c, const char *keep, bool others)
{
    /* `others`: another process committed since we last looked, so our
     * count may miss its files: re-read the dir. Past the bound, re-read
     * it too (sizes, uses elsewhere, files gone) before choosing. */
    if (c->max_bytes == 0 || (!others && c->bytes <= c->max_bytes))
        return 0;
    HOLLOW_TRY(rescan(c));
    if (c->bytes <= c->max_bytes)
        return 0;
    char (*pend)[HOLLOW__S3_RELKEY_MAX] = NULL;
    size_t npend = 0;
    HOLLOW_TRY(pending_relkeys(c, &pend, &npend));
    cache_file **order = hollow__mallocarray(c->files.n ? c->files.n : 1,
                                             sizeof *order);
    if (order == NULL) {
        hollow__free(pend);
        return hollow__error_oom();
    }
    size_t n = 0;
    for (size_t i = 0; i < c->files.n; i++) {
        cache_file *f = &c->files.v[i];
        bool pinned = keep != NULL && strcmp(f->relkey, keep) == 0;
        for (size_t j = 0; j < npend && !pinned; j++)
            pinned = strcmp(pend[j], f->relkey) == 0;
        if (!pinned)
            order[n++] = f;
    }
    qsort(order, n, sizeof *order, cmp_mtime);
    /* the victims' names first: unlink_entry() moves array elements */
    char (*victims)[HOLLOW__S3_RELKEY_MAX] =
        hollow__mallocarray(n ? n : 1, sizeof *victims);
    bool oom = victims == NULL;
    size_t nv = 0;
    if (!oom) {
        uint64_t total = c->bytes;
        for (size_t i = 0; i < n && total > c->max_bytes; i++) {
            memcpy(victims[nv++], order[i]->relkey, HOLLOW__S3_RELKEY_MAX);
            total -= (uint64_t)order[i]->size;
        }
        for (size_t i = 0; i < nv; i++)
            unlink_entry(c, victims[i]);
    }
    hollow__free(victims);
    hollow__free(order);
    hollow__free(pend);
    return oom ? hollow__error_oom() : 0;
}

int hollow__s3_cache_commit(hollow__s3_cache *c, const char *relkey,
                            const char *tmp_path, int64_t size,
                            const char *sha256_hex)
{
    HOLLOW__ARG_NOT_NULL(c);
    HOLLOW__ARG_NOT_NULL(relkey);
    HOLLOW__ARG_NOT_NULL(tmp_path);
    HOLLOW__ARG_NOT_NULL(sha256_hex);
    const char *tmp = tmp_name_of(c, tmp_path);
    if (tmp == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "%s is not a temporary file of cache %s",
                                 tmp_path, c->dir);
    int rc = check_relkey(relkey);
    if (rc == 0 && !sha256_hex_ok(sha256_hex))
        rc = hollow__error_set(HOLLOW_EINVAL,
                               "cache commit of %s: sha-256 is not 64 "
                               "lower-case hex digits", relkey);
    if (rc == 0 && size < 0)
        rc = hollow__error_set(HOLLOW_EINVAL, "cache commit of %s: size %" PRId64,
                               relkey, size);
    char meta_tmp[64] = "";
    int fd = -1;
    if (rc < 0)
        goto fail;
    if ((fd = openat(c->dirfd, tmp, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = os_error(c, errno, "open", tmp);
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = os_error(c, errno, "stat", tmp);
        goto fail;
    }
    if ((int64_t)st.st_size != size) {
        rc = hollow__error_set(HOLLOW_EINVAL,
                               "cache commit of %s: %" PRId64
                               " bytes announced, the file has %lld",
                               relkey, size, (long long)st.st_size);
        goto fail;
    }
    if (fsync(fd) != 0) {
        rc = os_error(c, errno, "fsync", tmp);
        goto fail;
    }
    close(fd);
    fd = -1;
    if ((rc = make_folders(c, relkey)) < 0)
        goto fail;
    if ((rc = write_meta_tmp(c, meta_tmp, sizeof meta_tmp, size, sha256_hex)) < 0) {
        meta_tmp[0] = '\0';
        goto fail;
    }
    char meta[HOLLOW__S3_RELKEY_MAX + 8];
    meta_name(meta, sizeof meta, relkey);
    hollow__mutex_lock(&c->mu);
    if (renameat(c->dirfd, tmp, c->dirfd, relkey) != 0) {
        rc = os_error(c, errno, "rename into", relkey);
        hollow__mutex_unlock(&c->mu);
        goto fail;
    }
    if (renameat(c->dirfd, meta_tmp, c->dirfd, meta) != 0) {
        rc = os_error(c, errno, "rename into", meta);
        unlink_entry(c, relkey); /* a file without its sidecar is no use */
        hollow__mutex_unlock(&c->mu);
        unlinkat(c->dirfd, meta_tmp, 0);
        return rc;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    rc = account(c, relkey, size, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
    bool others = others_committed(c); /* every commit counts, bound or not */
    if (rc == 0)
        evict(c, relkey, others); /* the file is in: a failure only defers */
    hollow__mutex_unlock(&c->mu);
    int src = fsync_parent(c, relkey);
    if (strchr(relkey, '/') != NULL && src == 0)
        src = fsync_at(c, NULL); /* the temporary names left the top */
    return rc < 0 ? rc : src;
fail:
    if (fd >= 0)
        close(fd);
    if (meta_tmp[0] != '\0')
        unlinkat(c->dirfd, meta_tmp, 0);
    unlinkat(c->dirfd, tmp, 0);
    return rc;
}

/*
 * Count this commit in <dir>/.commits (one byte appended per commit by
 * every process, mu held): true when the file grew by more than our byte
 * since we last looked, i.e. another process committed meanwhile (or the
 * count is unknown).
 */
static bool others_committed(hollow__s3_cache *c)
{
    struct stat st;
    if (c->commits_fd < 0 || write(c->commits_fd, "+", 1) != 1 ||
        fstat(c->commits_fd, &st) != 0)
        return true;
    bool others = (uint64_t)st.st_size != c->commits_seen + 1;
    c->commits_seen = (uint64_t)st.st_size;
    /* kept small: the others then see a size they do not expect, which
     * costs them one rescan */
    if (st.st_size > COMMITS_MAX && ftruncate(c->commits_fd, 0) == 0)
        c->commits_seen = 0;
    return others;
}

/* remove a file found not to match its sidecar (mu held) */
static int corrupt(hollow__s3_cache *c, const char *relkey, const char *why)
{
    unlink_entry(c, relkey);
    return hollow__error_set(HOLLOW_ECORRUPT, "cache file %s/%s %s (removed)",
                             c->dir, relkey, why);
}

static int lookup(hollow__s3_cache *c, const char *relkey, char *path,
                  size_t cap, int64_t *size_out, char *sha256_out, bool verify)
{
    HOLLOW__ARG_NOT_NULL(c);
    HOLLOW__ARG_NOT_NULL(relkey);
    HOLLOW__ARG_NOT_NULL(path);
    HOLLOW_TRY(check_relkey(relkey));
    int w = snprintf(path, cap, "%s/%s", c->dir, relkey);
    if (w < 0 || (size_t)w >= cap)
        return hollow__error_set(HOLLOW_ERANGE,
                                 "cache path needs %d bytes, room for %zu", w + 1,
                                 cap);
    struct stat st;
    int64_t size = 0;
    char sha[65] = "";
    hollow__mutex_lock(&c->mu);
    if (fstatat(c->dirfd, relkey, &st, 0) != 0) {
        int err = errno;
        unaccount(c, relkey);
        hollow__mutex_unlock(&c->mu);
        if (err == ENOENT || err == ENOTDIR)
            return hollow__error_set_os(HOLLOW_ENOTFOUND, err,
                                        "%s not in cache %s", relkey, c->dir);
        return os_error(c, err, "stat", relkey);
    }
    int rc = 0;
    if (!S_ISREG(st.st_mode))
        rc = hollow__error_set(HOLLOW_ENOTFOUND, "%s/%s is not a file", c->dir,
                               relkey);
    else if (!read_meta(c, relkey, &size, sha))
        rc = corrupt(c, relkey, "has no valid sidecar");
    else if ((int64_t)st.st_size != size) {
        char why[96];
        snprintf(why, sizeof why, "has %lld bytes, its sidecar says %" PRId64,
                 (long long)st.st_size, size);
        rc = corrupt(c, relkey, why);
    }
    hollow__mutex_unlock(&c->mu);
    if (rc < 0)
        return rc;
    if (verify) {
        int fd = openat(c->dirfd, relkey, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return errno == ENOENT
                       ? hollow__error_set_os(HOLLOW_ENOTFOUND, ENOENT,
                                              "%s not in cache %s", relkey,
                                              c->dir)
                       : os_error(c, errno, "open", relkey);
        char got[65];
        struct stat fst;
        rc = hash_fd(c, fd, relkey, got);
        if (rc == 0 && fstat(fd, &fst) != 0)
            rc = os_error(c, errno, "stat", relkey);
        close(fd);
        if (rc < 0)
            return rc;
        if (strcmp(got, sha) != 0 || fst.st_size != st.st_size) {
            hollow__mutex_lock(&c->mu);
            struct stat now;
            /* remove it only if it is still the file we hashed */
            if (fstatat(c->dirfd, relkey, &now, 0) == 0 &&
                now.st_ino == fst.st_ino && now.st_dev == fst.st_dev)
                rc = corrupt(c, relkey, "does not match its sha-256");
            else
                rc = hollow__error_set(HOLLOW_ECORRUPT,
                                       "cache file %s/%s changed while read",
                                       c->dir, relkey);
            hollow__mutex_unlock(&c->mu);
            return rc;
        }
    }
    /* the use, for LRU: mtime now (other processes see it too), written
     * at most once a second per file, which spares hot gets an inode
     * update; this process's own order below stays exact */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (now_ns - stat_mtime_ns(&st) >= 1000000000 ||
        now_ns < stat_mtime_ns(&st)) {
        struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
        utimensat(c->dirfd, relkey, ts, 0);
    }
    hollow__mutex_lock(&c->mu);
    rc = account(c, relkey, size, now_ns);
    hollow__mutex_unlock(&c->mu);
    if (rc < 0)
        return rc;
    if (size_out != NULL)
        *size_out = size;
    if (sha256_out != NULL)
        memcpy(sha256_out, sha, 65);
    return 0;
}

int hollow__s3_cache_lookup(hollow__s3_cache *c, const char *relkey,
                            char *path, size_t cap, int64_t *size_out,
                            char *sha256_out)
{
    HOLLOW__ARG_NOT_NULL(c);
    return lookup(c, relkey, path, cap, size_out, sha256_out, c->verify);
}

int hollow__s3_cache_verify(hollow__s3_cache *c, const char *relkey,
                            char *path, size_t cap, int64_t *size_out,
                            char *sha256_out)
{
    HOLLOW__ARG_NOT_NULL(c);
    return lookup(c, relkey, path, cap, size_out, sha256_out, true);
}

int hollow__s3_cache_list(hollow__s3_cache *c,
                          char (**out)[HOLLOW__S3_RELKEY_MAX], size_t *n_out)
{
    HOLLOW__ARG_NOT_NULL(c);
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(n_out);
    *out = NULL;
    *n_out = 0;
    hollow__mutex_lock(&c->mu);
    int rc = rescan(c);
    size_t n = c->files.n;
    char (*v)[HOLLOW__S3_RELKEY_MAX] = NULL;
    if (rc == 0 && (v = hollow__mallocarray(n ? n : 1, sizeof *v)) == NULL)
        rc = hollow__error_oom();
    for (size_t i = 0; rc == 0 && i < n; i++)
        memcpy(v[i], c->files.v[i].relkey, HOLLOW__S3_RELKEY_MAX);
    hollow__mutex_unlock(&c->mu);
    if (rc < 0) {
        hollow__free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return 0;
}

int hollow__s3_cache_remove(hollow__s3_cache *c, const char *relkey)
{
    HOLLOW__ARG_NOT_NULL(c);
    HOLLOW__ARG_NOT_NULL(relkey);
    HOLLOW_TRY(check_relkey(relkey));
    hollow__mutex_lock(&c->mu);
    int err = unlink_entry(c, relkey);
    hollow__mutex_unlock(&c->mu);
    if (err == ENOENT)
        return hollow__error_set_os(HOLLOW_ENOTFOUND, err, "%s not in cache %s",
                                    relkey, c->dir);
    if (err != 0)
        return os_error(c, err, "remove", relkey);
    fsync_parent(c, relkey);
    return 0;
}

uint64_t hollow__s3_cache_bytes(hollow__s3_cache *c)
{
    if (c == NULL)
        return 0;
    hollow__mutex_lock(&c->mu);
    uint64_t b = c->bytes;
    hollow__mutex_unlock(&c->mu);
    return b;
}

/* ------------------------------------------------------------ journal */

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

/* one whole line "<crc> <record>\n" into buf; its length */
static size_t format_line(char *buf, size_t cap, const char *record)
{
    size_t n = strlen(record);
    int w = snprintf(buf, cap, "%08" PRIx32 " %s\n", fnv1a(record, n), record);
    return (size_t)w;
}

static void format_add(char *rec, size_t cap, const hollow__s3_entry *e)
{
    if (e->kind == HOLLOW__S3_ENTRY_BLOB)
        snprintf(rec, cap, "A %" PRIu64 " B %" PRId64 " %s %s", e->id, e->size,
                 e->sha256, e->relkey);
    else
        snprintf(rec, cap, "A %" PRIu64 " N %" PRId64 " - %s", e->id,
                 e->version, e->relkey);
}

/*
 * Make c->jfd the journal the name holds now, locked with `op` (LOCK_EX or
 * LOCK_SH); jmu held. A compaction may have replaced the file since we
 * opened it or while we waited for the lock: then we drop what we parsed
 * and open the new one. Holding the old file open until then also keeps
 * its inode number from being reused, so equal numbers mean the same
 * file. c->jfd stays -1 when there is no journal and `create` is false.
 */
static int journal_lock(hollow__s3_cache *c, int op, bool create)
{
    for (;;) {
        if (c->jfd < 0) {
            int flags = O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0);
            int fd = openat(c->dirfd, JOURNAL_NAME, flags, 0644);
            if (fd < 0) {
                if (errno == ENOENT && !create)
                    return 0;
                return os_error(c, errno, "open", JOURNAL_NAME);
            }
            c->jfd = fd;
        }
        int lr;
        while ((lr = flock(c->jfd, op)) != 0 && errno == EINTR)
            ;
        if (lr != 0) {
            int err = errno;
            journal_drop(c);
            return os_error(c, err, "lock", JOURNAL_NAME);
        }
        struct stat a, b;
        if (fstat(c->jfd, &a) != 0) {
            int err = errno;
            journal_drop(c);
            return os_error(c, err, "stat", JOURNAL_NAME);
        }
        if (fstatat(c->dirfd, JOURNAL_NAME, &b, 0) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            return 0;
        journal_drop(c); /* replaced (or removed) meanwhile: again */
    }
}

static void journal_unlock(hollow__s3_cache *c)
{
    if (c->jfd >= 0)
        flock(c->jfd, LOCK_UN);
}

/* parse one record (its crc checked); false if it is not one */
static bool parse_record(const char *r, hollow__s3_entry *e, uint64_t *done_id,
                         bool *is_done)
{
    char relkey[HOLLOW__S3_RELKEY_MAX + 2];
    char sha[80];
    char kind, tail;
    unsigned long long id;
    long long num;
    if (r[0] == 'D') {
        if (sscanf(r, "D %llu%c", &id, &tail) != 1)
            return false;
        *done_id = id;
        *is_done = true;
        return true;
    }
    if (sscanf(r, "A %llu %c %lld %79s %129s%c", &id, &kind, &num, sha, relkey,
               &tail) != 5)
        return false;
    if (strlen(relkey) >= HOLLOW__S3_RELKEY_MAX || check_relkey(relkey) < 0)
        return false;
    memset(e, 0, sizeof *e);
    e->id = id;
    snprintf(e->relkey, sizeof e->relkey, "%s", relkey);
    if (kind == 'B') {
        if (num < 0 || !sha256_hex_ok(sha))
            return false;
        e->kind = HOLLOW__S3_ENTRY_BLOB;
        e->size = num;
        memcpy(e->sha256, sha, 65);
    } else if (kind == 'N') {
        if (strcmp(sha, "-") != 0)
            return false;
        e->kind = HOLLOW__S3_ENTRY_ANNOUNCE;
        e->version = num;
    } else {
        return false;
    }
    *is_done = false;
    return true;
}

/* the index of pending entry `id` in c->js, or c->js.adds.n */
static size_t journal_find(const hollow__s3_cache *c, uint64_t id)
{
    const jstate *js = &c->js;
    for (size_t i = js->live_from; i < js->adds.n; i++)
        if (!js->adds.v[i].done && js->adds.v[i].e.id == id)
            return i;
    return js->adds.n;
}

/* one line (without its '\n') into c->js; a mangled one is skipped */
static int journal_apply(hollow__s3_cache *c, const char *p, size_t n)
{
    char line[LINE_MAX_LEN];
    if (n < 10 || n >= sizeof line || p[8] != ' ' || memchr(p, '\0', n) != NULL)
        return 0;
    memcpy(line, p, n);
    line[n] = '\0';
    char *end;
    unsigned long crc = strtoul(line, &end, 16);
    if (end != line + 8 || (uint32_t)crc != fnv1a(line + 9, n - 9))
        return 0;
    hollow__s3_entry e;
    uint64_t id = 0;
    bool is_done;
    if (!parse_record(line + 9, &e, &id, &is_done))
        return 0;
    jstate *js = &c->js;
    if (is_done) {
        size_t at = journal_find(c, id);
        if (at < js->adds.n) {
            js->adds.v[at].done = true;
            js->n_done++;
            while (js->live_from < js->adds.n && js->adds.v[js->live_from].done)
                js->live_from++;
        }
    } else {
        jentry *slot = hollow__array_push(&js->adds, 64);
        if (slot == NULL)
            return HOLLOW_ENOMEM;
        slot->e = e;
        slot->done = false;
    }
    js->lines++;
    return 0;
}

/*
 * Bring c->js up to date with the locked journal: parse only the whole
 * lines appended since the last call, so a retrier marking thousands of
 * entries done does not read the journal thousands of times. A torn last
 * line stays unparsed; the appender that ends it with '\n' makes it a
 * line the crc rejects, as a full read would.
 */
static int journal_sync(hollow__s3_cache *c)
{
    struct stat st;
    if (fstat(c->jfd, &st) != 0)
        return os_error(c, errno, "stat", JOURNAL_NAME);
    if ((uint64_t)st.st_size < c->js.parsed) /* cut short: read it all */
        jstate_clear(&c->js);
    size_t len = (size_t)((uint64_t)st.st_size - c->js.parsed);
    if (len == 0)
        return 0;
    char *buf = hollow__malloc(len);
    HOLLOW_CHECK_ALLOC(buf);
    size_t got = 0;
    int rc = 0;
    while (got < len) {
        ssize_t r = pread(c->jfd, buf + got, len - got,
                          (off_t)(c->js.parsed + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = os_error(c, errno, "read", JOURNAL_NAME);
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    size_t pos = 0;
    while (rc == 0 && pos < got) {
        const char *nl = memchr(buf + pos, '\n', got - pos);
        if (nl == NULL)
            break; /* a torn (or still growing) last line */
        size_t n = (size_t)(nl - (buf + pos));
        rc = journal_apply(c, buf + pos, n);
        pos += n + 1;
    }
    if (rc == 0)
        c->js.parsed += pos;
    else
        jstate_clear(&c->js); /* start over next time */
    hollow__free(buf);
    return rc;
}

/* append one line to the locked journal (fd opened O_APPEND), fdatasync */
static int journal_append(hollow__s3_cache *c, int fd, const char *record)
{
    char line[LINE_MAX_LEN + 1];
    size_t n = 0;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return os_error(c, errno, "stat", JOURNAL_NAME);
    if (st.st_size > 0) {
        char last;
        ssize_t r;
        while ((r = pread(fd, &last, 1, st.st_size - 1)) < 0 && errno == EINTR)
            ;
        if (r != 1)
            return os_error(c, r < 0 ? errno : EIO, "read", JOURNAL_NAME);
        if (last != '\n')
            line[n++] = '\n'; /* end a torn line: the crc rejects it */
    }
    n += format_line(line + n, sizeof line - n, record);
    int err = write_all(fd, line, n);
    if (err == 0 && fdatasync(fd) != 0)
        err = errno;
    if (err != 0)
        return os_error(c, err, "append to", JOURNAL_NAME);
    if (st.st_size == 0)
        return fsync_at(c, NULL); /* a new journal: make its name durable */
    return 0;
}

/* rewrite the locked journal with its pending entries but `skip` */
static int journal_compact(hollow__s3_cache *c, size_t skip)
{
    char name[64];
    int fd;
    HOLLOW_TRY(create_tmp(c, &fd, name, sizeof name));
    int err = 0;
    char rec[LINE_MAX_LEN], line[LINE_MAX_LEN + 16];
    const jstate *js = &c->js;
    for (size_t i = js->live_from; i < js->adds.n && err == 0; i++) {
        if (js->adds.v[i].done || i == skip)
            continue;
        format_add(rec, sizeof rec, &js->adds.v[i].e);
        err = write_all(fd, line, format_line(line, sizeof line, rec));
    }
    if (err == 0 && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && err == 0)
        err = errno;
    if (err == 0 && renameat(c->dirfd, name, c->dirfd, JOURNAL_NAME) != 0)
        err = errno;
    if (err != 0) {
        unlinkat(c->dirfd, name, 0);
        return os_error(c, err, "compact", JOURNAL_NAME);
    }
    return fsync_at(c, NULL);
}

/* a new id: see "Ids" at the top */
static uint64_t next_id(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - ID_EPOCH_MS;
    if (ms < 0)
        ms = 0;
    uint64_t pid = (uint64_t)getpid() & ((UINT64_C(1) << 22) - 1);
    uint64_t prev = atomic_load(&last_id);
    for (;;) {
        uint64_t slot = (uint64_t)ms;
        if ((prev >> 22) >= slot && (prev & ((UINT64_C(1) << 22) - 1)) == pid)
            slot = (prev >> 22) + 1;
        uint64_t id = (slot << 22) | pid;
        if (atomic_compare_exchange_weak(&last_id, &prev, id))
            return id;
    }
}

int hollow__s3_journal_add(hollow__s3_cache *c, hollow__s3_entry *e)
{
    HOLLOW__ARG_NOT_NULL(c);
    HOLLOW__ARG_NOT_NULL(e);
    if (memchr(e->relkey, '\0', sizeof e->relkey) == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "journal entry: relkey too long");
    HOLLOW_TRY(check_relkey(e->relkey));
    if (e->kind == HOLLOW__S3_ENTRY_BLOB) {
        if (e->size < 0 || !sha256_hex_ok(e->sha256))
            return hollow__error_set(HOLLOW_EINVAL,
                                     "journal entry %s: a blob needs a size and "
                                     "a sha-256", e->relkey);
    } else if (e->kind != HOLLOW__S3_ENTRY_ANNOUNCE) {
        return hollow__error_set(HOLLOW_EINVAL, "journal entry %s: kind %d",
                                 e->relkey, (int)e->kind);
    }
    e->id = next_id();
    if (e->kind == HOLLOW__S3_ENTRY_ANNOUNCE) {
        e->size = 0;
        e->sha256[0] = '\0';
    } else {
        e->version = 0;
    }
    char rec[LINE_MAX_LEN];
    format_add(rec, sizeof rec, e);
    hollow__mutex_lock(&c->jmu);
    int rc = journal_lock(c, LOCK_EX, true);
    if (rc == 0)
        rc = journal_append(c, c->jfd, rec);
    journal_unlock(c);
    hollow__mutex_unlock(&c->jmu);
    return rc;
}

int hollow__s3_journal_done(hollow__s3_cache *c, uint64_t id)
{
    HOLLOW__ARG_NOT_NULL(c);
    hollow__mutex_lock(&c->jmu);
    int rc = journal_lock(c, LOCK_EX, false);
    if (rc == 0 && c->jfd >= 0)
        rc = journal_sync(c);
    size_t at = c->js.adds.n;
    if (rc == 0 && c->jfd >= 0)
        at = journal_find(c, id);
    if (rc == 0 && at == c->js.adds.n)
        rc = hollow__error_set(HOLLOW_ENOTFOUND,
                               "no pending journal entry %" PRIu64 " in %s", id,
                               c->dir);
    char rec[64];
    snprintf(rec, sizeof rec, "D %" PRIu64, id);
    if (rc == 0)
        rc = journal_append(c, c->jfd, rec);
    if (rc == 0) {
        /* "most lines are done": more than half the entries in the file */
        size_t n_adds = c->js.adds.n, done = c->js.n_done + 1;
        if (done == n_adds ||
            (c->js.lines + 1 >= COMPACT_MIN_LINES && done * 2 > n_adds)) {
            /* the done is durable already: a failed compaction only
             * leaves a longer journal for the next one */
            journal_compact(c, at);
            journal_drop(c); /* the name may hold another file now */
        }
    }
    journal_unlock(c);
    hollow__mutex_unlock(&c->jmu);
    return rc;
}

int hollow__s3_journal_pending(hollow__s3_cache *c, hollow__s3_entry **out,
                               size_t *n_out)
{
    HOLLOW__ARG_NOT_NULL(out);
    *out = NULL;
    HOLLOW__ARG_NOT_NULL(n_out);
    *n_out = 0;
    HOLLOW__ARG_NOT_NULL(c);
    hollow__mutex_lock(&c->jmu);
    int rc = journal_lock(c, LOCK_SH, false);
    if (rc == 0 && c->jfd >= 0)
        rc = journal_sync(c);
    const jstate *js = &c->js;
    size_t n = js->adds.n - js->n_done;
    if (rc == 0 && c->jfd >= 0 && n > 0) {
        hollow__s3_entry *v = hollow__mallocarray(n, sizeof *v);
        if (v == NULL) {
            rc = hollow__error_oom();
        } else {
            size_t k = 0;
            for (size_t i = js->live_from; i < js->adds.n; i++)
                if (!js->adds.v[i].done)
                    v[k++] = js->adds.v[i].e;
            *out = v;
            *n_out = k;
        }
    }
    journal_unlock(c);
    hollow__mutex_unlock(&c->jmu);
    return rc;
}

/* the relkeys of pending blob entries (for eviction) */
static int pending_relkeys(hollow__s3_cache *c, char (**out)[HOLLOW__S3_RELKEY_MAX],
                           size_t *n_out)
{
    hollow__s3_entry *e;
    size_t n;
    *out = NULL;
    *n_out = 0;
    HOLLOW_TRY(hollow__s3_journal_pending(c, &e, &n));
    if (n == 0)
        return 0;
    char (*keys)[HOLLOW__S3_RELKEY_MAX] = hollow__mallocarray(n, sizeof *keys);
    if (keys == NULL) {
        hollow__free(e);
        return hollow__error_oom();
    }
    for (size_t i = 0; i < n; i++)
        memcpy(keys[i], e[i].relkey, HOLLOW__S3_RELKEY_MAX);
    hollow__free(e);
    *out = keys;
    *n_out = n;
    return 0;
}

bool hollow__s3_journal_try_lock(hollow__s3_cache *c)
{
    if (c == NULL)
        return false;
    hollow__mutex_lock(&c->mu);
    bool held = c->lock_fd >= 0;
    if (!held) {
        int fd = openat(c->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            int lr;
            while ((lr = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
                ;
            if (lr == 0) {
                c->lock_fd = fd;
                held = true;
            } else {
                close(fd);
            }
        }
    }
    hollow__mutex_unlock(&c->mu);
    return held;
}
