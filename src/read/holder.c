/*
 * A state holder: the cell through which a refresh publishes a new read
 * state and readers pin the current one, without readers ever taking a
 * lock or waiting for a refresh.
 *
 * The difficulty is the window between a reader loading the current
 * pointer and incrementing that state's reference count: the publisher
 * must not drop its reference to the old state while a reader is inside
 * that window. Readers announce themselves in one of two counters chosen
 * by the current epoch (a bit); the publisher swaps the pointer, flips the
 * epoch, and waits until the counter of the old epoch drains. New readers
 * use the other counter and see the new pointer, so the wait is bounded by
 * the few instructions of readers already inside the window. Publishers
 * are serialized by a mutex; readers never touch it.
 *
 *   reader:  e = epoch; in[e]++; if epoch != e: in[e]--, retry
 *            p = cur; p->refs++; in[e]--
 *   writer:  old = swap(cur, new); e = epoch; epoch = e + 1;
 *            wait until in[e & 1] == 0; release(old)
 *
 * All atomics are sequentially consistent: the argument relies on a single
 * total order of the reader's increment and epoch check and the writer's
 * flip and drain check.
 */
#include "common/alloc.h"
#include "common/error.h"
#include "common/thread.h"
#include "read_int.h"

struct hollow_state_holder {
    _Atomic(hollow_read_state *) cur;
    atomic_uint epoch;
    atomic_size_t in[2];
    hollow__mutex publish_mu;
};

int hollow_state_holder_new(hollow_state_holder **out)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    hollow_state_holder *h = hollow__calloc(1, sizeof *h);
    HOLLOW_CHECK_ALLOC(h);
    atomic_init(&h->cur, NULL);
    atomic_init(&h->epoch, 0);
    atomic_init(&h->in[0], 0);
    atomic_init(&h->in[1], 0);
    if (hollow__mutex_init(&h->publish_mu) != 0) {
        hollow__free(h);
        return hollow__error_set(HOLLOW_ERROR, "cannot create a mutex");
    }
    *out = h;
    return 0;
}

void hollow_state_holder_free(hollow_state_holder *h)
{
    if (h == NULL)
        return;
    hollow_read_state_release(atomic_load(&h->cur));
    hollow__mutex_destroy(&h->publish_mu);
    hollow__free(h);
}

hollow_read_state *hollow_state_holder_acquire(hollow_state_holder *h)
{
    unsigned e;
    for (;;) {
        e = atomic_load(&h->epoch) & 1u;
        atomic_fetch_add(&h->in[e], 1);
        if ((atomic_load(&h->epoch) & 1u) == e)
            break;
        atomic_fetch_sub(&h->in[e], 1);
    }
    hollow_read_state *rs = atomic_load(&h->cur);
    if (rs != NULL)
        hollow_read_state_acquire(rs);
    atomic_fetch_sub(&h->in[e], 1);
    return rs;
}

void hollow_state_holder_publish(hollow_state_holder *h, hollow_read_state *rs)
{
    hollow__mutex_lock(&h->publish_mu);
    hollow_read_state *old = atomic_exchange(&h->cur, rs);
    unsigned e = atomic_fetch_add(&h->epoch, 1) & 1u;
    while (atomic_load(&h->in[e]) != 0)
        hollow__yield();
    hollow__mutex_unlock(&h->publish_mu);
    hollow_read_state_release(old);
}
