/*
 * The filesystem announcer: Java Hollow's `announced.version` file in a
 * store directory (blob-format.md §13), watched for changes.
 *
 *     <dir>/announced.version      the current version, ASCII decimal
 *                                  digits, no newline (17 bytes for
 *                                  Java's minted versions)
 *     <dir>/announced.version.tmp  written, fsynced, then renamed over
 *                                  announced.version (atomic replace)
 *
 * Threads. Besides the hub's delivery worker (hub.c) this announcer owns
 * a watcher thread. It blocks in poll(2) on a wake-up pipe (free() writes
 * to it) and on an inotify descriptor watching the directory for
 * IN_MOVED_TO, IN_CLOSE_WRITE and IN_ATTRIB; each event naming
 * announced.version makes it re-read the file. Every poll_interval_ms
 * without events it re-reads the file too: that is the whole mechanism
 * when inotify is unavailable or force_polling is set, and a safety net
 * otherwise (e.g. NFS, where another machine's writes raise no inotify
 * event). Polling reads the content (a few bytes) rather than trusting
 * the modification time as Java does: timestamps are coarse (a clock tick)
 * and a freed inode is reused, so two quick replacements can leave inode,
 * size and mtime exactly as they were, and a new version unnoticed.
 *
 * Feeding the hub. Whoever puts a version into the hub (announce(), the
 * watcher, pin/unpin) holds `feed_lock`, and `last_seen` is the last
 * version of the file fed to the hub. So the watcher re-reading the file
 * and this process announcing are serialised: a stale read can never be
 * delivered after a newer announcement, and our own announcement, fed at
 * once, is not fed a second time when the watcher sees the file change.
 * announce() checks the queue has room before writing the file, so a full
 * queue refuses the announcement without changing the file. When the
 * watcher finds the queue full, it retries every 10 ms.
 *
 * Several writers in different processes share one temporary name, as in
 * Java; the producer's lease (one producer at a time) is what keeps them
 * apart. The lease lives here too, in `.hollow-producer.lease` (see "The
 * producer lease" below).
 */
#define _GNU_SOURCE /* pipe2, inotify_init1 flags */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/text.h"
#include "hollow/sys/announcer.h"
#include "hub.h"

#define FILE_NAME "announced.version"
#define TMP_NAME "announced.version.tmp"
#define LEASE_NAME ".hollow-producer.lease"
#define RETRY_MS 10

typedef struct fs_ann {
    hollow_announcer parent; /* must come first */
    hollow__hub hub;
    char *dir;
    int dirfd;
    bool fsync;
    unsigned int poll_ms;
    int inotify_fd; /* -1: polling only */
    int wake[2];    /* free() writes to wake[1] to stop the watcher */
    hollow__thread watcher;

    hollow__mutex feed_lock; /* guards the two below and feeding the hub */
    bool has_seen;
    int64_t last_seen;
} fs_ann;

#define FA(a) ((fs_ann *)(a))

/* ------------------------------------------------------------------ */
/* The file                                                            */
/* ------------------------------------------------------------------ */

static int read_file(int64_t *out, const fs_ann *f)
{
    /* O_NONBLOCK: a FIFO (or device) under the name must not block us */
    int fd = openat(f->dirfd, FILE_NAME, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return hollow__error_set_os(errno == ENOENT ? HOLLOW_ENOTFOUND
                                                    : HOLLOW_EIO,
                                    errno, "read %s/" FILE_NAME, f->dir);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hollow__error_set(HOLLOW_ECORRUPT, "%s/" FILE_NAME " is not a "
                                 "regular file", f->dir);
    }
    char buf[64];
    size_t len = 0;
    int rc = 0;
    while (len < sizeof buf) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = hollow__error_set_os(HOLLOW_EIO, errno,
                                      "read %s/" FILE_NAME, f->dir);
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (rc == 0 && len == sizeof buf)
        rc = hollow__error_set(HOLLOW_ECORRUPT, "%s/" FILE_NAME " is longer "
                               "than a version (%lld bytes)", f->dir,
                               (long long)st.st_size);
    if (rc == 0 && !hollow__parse_announced_version(out, buf, len)) {
        char shown[33];
        size_t n = len < 32 ? len : 32;
        for (size_t i = 0; i < n; i++) /* the message stays one line */
            shown[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '?';
        shown[n] = '\0';
        rc = hollow__error_set(HOLLOW_ECORRUPT,
                               "%s/" FILE_NAME " does not hold a version: "
                               "\"%s\"%s", f->dir, shown,
                               len == 0 ? " (empty)" : "");
    }
    return rc;
}

static int write_file(const fs_ann *f, int64_t version)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%lld", (long long)version);
    int fd = openat(f->dirfd, TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0644);
    if (fd < 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "create %s/" TMP_NAME,
                                    f->dir);
    int rc = 0;
    size_t off = 0;
    while (off < (size_t)len) {
        ssize_t n = write(fd, buf + off, (size_t)len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = hollow__error_set_os(HOLLOW_EIO, n < 0 ? errno : EIO,
                                      "write %s/" TMP_NAME, f->dir);
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && f->fsync && fsync(fd) != 0)
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "fsync %s/" TMP_NAME,
                                  f->dir);
    if (close(fd) != 0 && rc == 0)
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "close %s/" TMP_NAME,
                                  f->dir);
    if (rc == 0 && renameat(f->dirfd, TMP_NAME, f->dirfd, FILE_NAME) != 0)
        rc = hollow__error_set_os(HOLLOW_EIO, errno,
                                  "rename %s/" TMP_NAME " to " FILE_NAME,
                                  f->dir);
    if (rc < 0) {
        unlinkat(f->dirfd, TMP_NAME, 0);
        return rc;
    }
    if (f->fsync && fsync(f->dirfd) != 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "fsync %s", f->dir);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The watcher                                                         */
/* ------------------------------------------------------------------ */

/*
 * Read the file and hand a new version to the hub. Returns false when the
 * hub's queue was full, so the caller retries soon. A missing or
 * unreadable file is ignored: a writer that does not rename (a plain
 * `echo > announced.version`) may show it empty for a moment, and the
 * IN_CLOSE_WRITE that follows brings us back.
 */
static bool feed_from_file(fs_ann *f)
{
    bool ok = true;
    hollow__mutex_lock(&f->feed_lock);
    int64_t v;
    if (read_file(&v, f) == 0 && (!f->has_seen || v != f->last_seen)) {
        if (hollow__hub_check_room(&f->hub, false) < 0) {
            ok = false;
        } else {
            hollow__hub_announce(&f->hub, v);
            f->last_seen = v;
            f->has_seen = true;
        }
    }
    hollow__mutex_unlock(&f->feed_lock);
    return ok;
}

/* drain the inotify descriptor; true if an event concerns our file */
static bool read_events(int fd)
{
    bool hit = false;
    /* aligned as inotify_event requires */
    union {
        struct inotify_event ev;
        char bytes[4096];
    } buf;
    for (;;) {
        ssize_t n = read(fd, buf.bytes, sizeof buf.bytes);
        if (n <= 0)
            break; /* EAGAIN: drained */
        for (ssize_t off = 0; off < n;) {
            const struct inotify_event *ev =
                (const struct inotify_event *)(buf.bytes + off);
            if ((ev->mask & IN_Q_OVERFLOW) ||
                (ev->len > 0 && strcmp(ev->name, FILE_NAME) == 0))
                hit = true;
            off += (ssize_t)(sizeof *ev + ev->len);
        }
    }
    return hit;
}

static void *watcher_main(void *arg)
{
    fs_ann *f = arg;
    bool retry = false;
    for (;;) {
        struct pollfd p[2];
        p[0].fd = f->wake[0];
        p[0].events = POLLIN;
        p[1].fd = f->inotify_fd; /* ignored by poll() when -1 */
        p[1].events = POLLIN;
        p[0].revents = p[1].revents = 0;
        int timeout = (int)f->poll_ms;
        if (retry && timeout > RETRY_MS)
            timeout = RETRY_MS;
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR)
            n = 0; /* cannot happen with valid descriptors; act as polling */
        if (p[0].revents != 0)
            break;
        /* a timeout re-reads the file: with inotify a safety net, without
         * it the whole mechanism */
        bool check = retry || n == 0;
        if (p[1].revents & POLLIN)
            check |= read_events(f->inotify_fd);
        if (check)
            retry = !feed_from_file(f);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The vtable                                                          */
/* ------------------------------------------------------------------ */

static int fa_announce(hollow_announcer *a, int64_t version)
{
    fs_ann *f = FA(a);
    hollow__mutex_lock(&f->feed_lock);
    int rc = hollow__hub_check_room(&f->hub, true);
    if (rc == 0)
        rc = write_file(f, version);
    if (rc == 0) {
        rc = hollow__hub_announce(&f->hub, version); /* room was checked */
        f->last_seen = version;
        f->has_seen = true;
    }
    hollow__mutex_unlock(&f->feed_lock);
    return rc;
}

static int fa_latest(int64_t *out, hollow_announcer *a)
{
    fs_ann *f = FA(a);
    if (hollow__hub_pinned(out, &f->hub))
        return 0;
    return read_file(out, f);
}

static int fa_subscribe(hollow_subscription_id *id_out, hollow_announcer *a,
                        hollow_announcement_cb cb, void *payload)
{
    return hollow__hub_subscribe(id_out, &FA(a)->hub, cb, payload);
}

static int fa_subscribe_fd(int *fd_out, hollow_subscription_id *id_out,
                           hollow_announcer *a)
{
    return hollow__hub_subscribe_fd(fd_out, id_out, &FA(a)->hub);
}

static int fa_unsubscribe(hollow_announcer *a, hollow_subscription_id id)
{
    return hollow__hub_unsubscribe(&FA(a)->hub, id);
}

static int fa_pin(hollow_announcer *a, int64_t version)
{
    fs_ann *f = FA(a);
    hollow__mutex_lock(&f->feed_lock);
    int rc = hollow__hub_pin(&f->hub, version);
    hollow__mutex_unlock(&f->feed_lock);
    return rc;
}

static int fa_unpin(hollow_announcer *a)
{
    fs_ann *f = FA(a);
    hollow__mutex_lock(&f->feed_lock);
    int rc = hollow__hub_unpin(&f->hub);
    hollow__mutex_unlock(&f->feed_lock);
    return rc;
}

static int fa_wait(hollow_announcer *a, int64_t version, int timeout_ms)
{
    fs_ann *f = FA(a);
    feed_from_file(f); /* catch up at once rather than at the next poll */
    return hollow__hub_wait(&f->hub, version, timeout_ms);
}

static int fa_drain(hollow_announcer *a, int timeout_ms)
{
    return hollow__hub_drain(&FA(a)->hub, timeout_ms);
}

static int fa_stats(hollow_announcer_stats *out, hollow_announcer *a)
{
    hollow__hub_stats(out, &FA(a)->hub);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The producer lease                                                  */
/* ------------------------------------------------------------------ */

/*
 * The lease file holds "<expiry ms since the epoch> <owner>\n". Every use
 * opens it afresh and takes an exclusive flock(2): flock locks belong to
 * the open file description, so they exclude other processes, other
 * announcer objects of this process and other threads alike (fcntl locks
 * would not exclude threads of one process). Wall-clock expiry, because
 * the file may be shared between machines. A file left half-written by a
 * crash does not parse and counts as no lease.
 */
static bool parse_lease(int64_t *expiry, char *owner, size_t cap,
                        const char *p, size_t len)
{
    size_t i = 0;
    int64_t v = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        if (v > (INT64_MAX - (p[i] - '0')) / 10)
            return false;
        v = v * 10 + (p[i] - '0');
    }
    if (i == 0 || i >= len || p[i] != ' ')
        return false;
    size_t start = ++i;
    while (i < len && p[i] != '\n')
        i++;
    if (i == len || i == start || i - start >= cap)
        return false; /* no final newline: a torn write */
    memcpy(owner, p + start, i - start);
    owner[i - start] = '\0';
    *expiry = v;
    return true;
}

/* the lease clock (common/clock.h): the wall clock, shared by processes */
static int64_t wall_ms(void) { return hollow__clock_wall_ms(); }

static int lease_io(const fs_ann *f, int err, const char *what)
{
    return hollow__error_set_os(HOLLOW_EIO, err, "%s %s/" LEASE_NAME, what,
                                f->dir);
}

/* open the lease file and take its exclusive flock; the fd or an error */
static int lease_lock(const fs_ann *f)
{
    int fd = openat(f->dirfd, LEASE_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return lease_io(f, errno, "open");
    int lr;
    while ((lr = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
        ;
    if (lr != 0) {
        int rc = lease_io(f, errno, "lock");
        close(fd);
        return rc;
    }
    return fd;
}

static int fa_lease(hollow_announcer *a, hollow_lease_op op, const char *owner,
                    int64_t ttl_ms, char *holder, size_t holder_cap)
{
    fs_ann *f = FA(a);
    int fd = lease_lock(f);
    if (fd < 0)
        return fd;
    int rc = 0;
    char buf[HOLLOW_LEASE_OWNER_MAX + 32];
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, 0)) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        rc = lease_io(f, errno, "read");
        goto done;
    }
    char cur[HOLLOW_LEASE_OWNER_MAX];
    int64_t expiry = 0;
    int64_t now = wall_ms();
    bool live = parse_lease(&expiry, cur, sizeof cur, buf, (size_t)n) &&
                expiry > now;
    bool mine = live && strcmp(cur, owner) == 0;
    if (live && !mine) {
        if (holder != NULL)
            snprintf(holder, holder_cap, "%s", cur);
        rc = hollow__error_set(HOLLOW_ESTATE,
                               "the lease is held by %s for %lld ms more", cur,
                               (long long)(expiry - now));
    } else if (op == HOLLOW_LEASE_ACQUIRE) {
        int len = snprintf(buf, sizeof buf, "%lld %s\n",
                           (long long)(now + ttl_ms), owner);
        if (ftruncate(fd, 0) != 0 ||
            pwrite(fd, buf, (size_t)len, 0) != (ssize_t)len ||
            (f->fsync && fsync(fd) != 0))
            rc = lease_io(f, errno, "write");
    } else if (op == HOLLOW_LEASE_CHECK && !mine) {
        rc = hollow__error_set(HOLLOW_ESTATE, "%s does not hold the lease",
                               owner);
    } else if (op == HOLLOW_LEASE_RELEASE && mine) {
        if (ftruncate(fd, 0) != 0)
            rc = lease_io(f, errno, "release");
    }
done:
    close(fd); /* releases the flock */
    return rc;
}

/*
 * Compare-and-announce under the lease file's flock: every lease call and
 * every announce_if, in any process, is serialised with it, so a producer
 * cannot announce after another took its lease or announced past its base.
 */
static int fa_announce_if(hollow_announcer *a, int64_t expected,
                          const char *owner, int64_t version)
{
    fs_ann *f = FA(a);
    int fd = lease_lock(f);
    if (fd < 0)
        return fd;
    int rc = 0;
    if (owner != NULL) {
        char buf[HOLLOW_LEASE_OWNER_MAX + 32];
        char cur[HOLLOW_LEASE_OWNER_MAX];
        int64_t expiry = 0;
        ssize_t n;
        while ((n = pread(fd, buf, sizeof buf, 0)) < 0 && errno == EINTR)
            ;
        if (n < 0)
            rc = lease_io(f, errno, "read");
        else if (!parse_lease(&expiry, cur, sizeof cur, buf, (size_t)n) ||
                 expiry <= wall_ms() || strcmp(cur, owner) != 0)
            rc = hollow__error_set(HOLLOW_ESTATE, "%s does not hold the lease",
                                   owner);
    }
    int64_t now = 0;
    if (rc == 0 && (rc = read_file(&now, f)) == HOLLOW_ENOTFOUND) {
        hollow_error_clear();
        now = 0;
        rc = 0;
    }
    if (rc == 0 && now != expected)
        rc = hollow__error_set(HOLLOW_ESTATE, "version %lld is announced, not "
                               "%lld: another producer announced meanwhile",
                               (long long)now, (long long)expected);
    if (rc == 0)
        rc = fa_announce(a, version);
    close(fd); /* releases the flock */
    return rc;
}

/* release what fs_new set up before the threads (no threads running) */
static void release(fs_ann *f)
{
    if (f->inotify_fd >= 0)
        close(f->inotify_fd);
    if (f->wake[0] >= 0)
        close(f->wake[0]);
    if (f->wake[1] >= 0)
        close(f->wake[1]);
    if (f->dirfd >= 0)
        close(f->dirfd);
    hollow__free(f->dir);
    hollow__free(f);
}

static void fa_free(hollow_announcer *a)
{
    fs_ann *f = FA(a);
    char c = 1;
    while (write(f->wake[1], &c, 1) < 0 && errno == EINTR)
        ;
    hollow__thread_join(f->watcher);
    hollow__hub_destroy(&f->hub);
    hollow__mutex_destroy(&f->feed_lock);
    release(f);
}

int hollow_announcer_fs_new(hollow_announcer **out,
                            const hollow_announcer_fs_options *opts)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "fs announcer: out is NULL");
    *out = NULL;
    if (opts == NULL || opts->dir == NULL || opts->dir[0] == '\0')
        return hollow__error_set(HOLLOW_EINVAL,
                                 "fs announcer: no directory given");
    HOLLOW_TRY(hollow__check_options_version(
        "fs announcer", opts->version, HOLLOW_ANNOUNCER_FS_OPTIONS_VERSION));
    fs_ann *f = hollow__calloc(1, sizeof *f);
    HOLLOW_CHECK_ALLOC(f);
    f->dirfd = f->inotify_fd = f->wake[0] = f->wake[1] = -1;
    f->fsync = opts->fsync;
    f->poll_ms = opts->poll_interval_ms ? opts->poll_interval_ms : 1000;
    if (f->poll_ms > INT_MAX)
        f->poll_ms = INT_MAX;
    int rc;
    bool lock_made = false;
    if ((f->dir = hollow__strdup(opts->dir)) == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    f->dirfd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dirfd < 0) {
        rc = hollow__error_set_os(errno == ENOENT ? HOLLOW_ENOTFOUND
                                                  : HOLLOW_EIO,
                                  errno, "open directory %s", opts->dir);
        goto fail;
    }
    if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "fs announcer: pipe");
        goto fail;
    }
    if (!opts->force_polling) {
        /* no inotify (ENOSYS, EMFILE: per-user limit): poll instead */
        f->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (f->inotify_fd >= 0 &&
            inotify_add_watch(f->inotify_fd, opts->dir,
                              IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB) < 0) {
            close(f->inotify_fd);
            f->inotify_fd = -1;
        }
    }
    if (hollow__mutex_init(&f->feed_lock) != 0) {
        rc = hollow__error_set(HOLLOW_ERROR, "fs announcer: mutex init failed");
        goto fail;
    }
    lock_made = true;
    /* what the file says now is the latest, not an announcement */
    int64_t v;
    if (read_file(&v, f) == 0) {
        f->has_seen = true;
        f->last_seen = v;
    }
    if ((rc = hollow__hub_init(&f->hub, opts->queue_capacity, opts->spin_us)) < 0)
        goto fail;
    if (f->has_seen)
        hollow__hub_set_latest(&f->hub, f->last_seen);
    int err = hollow__thread_create(&f->watcher, watcher_main, f);
    if (err != 0) {
        hollow__hub_destroy(&f->hub);
        rc = hollow__error_set_os(HOLLOW_ERROR, err,
                                  "cannot start the announcer's watcher");
        goto fail;
    }
    f->parent.version = HOLLOW_ANNOUNCER_VERSION;
    f->parent.announce = fa_announce;
    f->parent.latest = fa_latest;
    f->parent.subscribe = fa_subscribe;
    f->parent.subscribe_fd = fa_subscribe_fd;
    f->parent.unsubscribe = fa_unsubscribe;
    f->parent.pin = fa_pin;
    f->parent.unpin = fa_unpin;
    f->parent.wait_for_version = fa_wait;
    f->parent.drain = fa_drain;
    f->parent.stats = fa_stats;
    f->parent.free = fa_free;
    f->parent.lease = fa_lease;
    f->parent.announce_if = fa_announce_if;
    *out = &f->parent;
    return 0;
fail:
    if (lock_made)
        hollow__mutex_destroy(&f->feed_lock);
    release(f);
    return rc;
}
