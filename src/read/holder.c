/*
 * The state holder: a publication cell (src/common/cell.c) of read states.
 * A refresh publishes each new state; readers pin the current one without
 * a lock and without waiting for the refresh.
 */
#include "common/alloc.h"
#include "common/cell.h"
#include "common/error.h"
#include "read_int.h"

struct hollow_state_holder {
    hollow__cell cell;
};

static void retain_state(void *obj) { hollow_read_state_acquire(obj); }
static void release_state(void *obj) { hollow_read_state_release(obj); }

int hollow_state_holder_new(hollow_state_holder **out)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    hollow_state_holder *h = hollow__calloc(1, sizeof *h);
    HOLLOW_CHECK_ALLOC(h);
    if (hollow__cell_init(&h->cell, retain_state, release_state) != 0) {
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
    hollow__cell_destroy(&h->cell);
    hollow__free(h);
}

hollow_read_state *hollow_state_holder_acquire(hollow_state_holder *h)
{
    return h ? hollow__cell_acquire(&h->cell) : NULL;
}

void hollow_state_holder_publish(hollow_state_holder *h, hollow_read_state *rs)
{
    if (h != NULL)
        hollow__cell_publish(&h->cell, rs);
}
