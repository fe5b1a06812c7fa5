/*
 * The publication cell (cell.h).
 *
 * The difficulty is the window between a reader loading the current
 * pointer and taking a reference to that object: the publisher must not
 * drop its own reference to the old object while a reader is inside that
 * window. Readers announce themselves in one of two counters chosen by the
 * current epoch (a bit); the publisher swaps the pointer, flips the epoch,
 * and waits until the counter of the old epoch drains. New readers use the
 * other counter and see the new pointer, so the wait is bounded by the few
 * instructions of readers already inside the window. Publishers are
 * serialized by a mutex; readers never touch it.
 *
 *   reader:  e = epoch; in[e]++; if epoch != e: in[e]--, retry
 *            p = cur; retain(p); in[e]--
 *   writer:  old = swap(cur, new); e = epoch; epoch = e + 1;
 *            wait until in[e & 1] == 0; release(old)
 *
 * All atomics are sequentially consistent: the argument relies on a single
 * total order of the reader's increment and epoch check and the writer's
 * flip and drain check.
 */
#include "cell.h"

int hollow__cell_init(hollow__cell *c, void (*retain)(void *),
                      void (*release)(void *))
{
    atomic_init(&c->cur, NULL);
    atomic_init(&c->epoch, 0);
    atomic_init(&c->in[0], 0);
    atomic_init(&c->in[1], 0);
    c->retain = retain;
    c->release = release;
    return hollow__mutex_init(&c->publish_mu);
}

void hollow__cell_destroy(hollow__cell *c)
{
    void *obj = atomic_load(&c->cur);
    if (obj != NULL)
        c->release(obj);
    hollow__mutex_destroy(&c->publish_mu);
}

void *hollow__cell_acquire(hollow__cell *c)
{
    unsigned e;
    for (;;) {
        e = atomic_load(&c->epoch) & 1u;
        atomic_fetch_add(&c->in[e], 1);
        if ((atomic_load(&c->epoch) & 1u) == e)
            break;
        atomic_fetch_sub(&c->in[e], 1);
    }
    void *obj = atomic_load(&c->cur);
    if (obj != NULL)
        c->retain(obj);
    atomic_fetch_sub(&c->in[e], 1);
    return obj;
}

void hollow__cell_publish(hollow__cell *c, void *obj)
{
    hollow__mutex_lock(&c->publish_mu);
    void *old = atomic_exchange(&c->cur, obj);
    unsigned e = atomic_fetch_add(&c->epoch, 1) & 1u;
    while (atomic_load(&c->in[e]) != 0)
        hollow__yield();
    hollow__mutex_unlock(&c->publish_mu);
    if (old != NULL)
        c->release(old);
}
