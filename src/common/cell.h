/*
 * A publication cell: one pointer to a reference-counted object that a
 * writer replaces and any number of readers pin, without readers ever
 * taking a lock or waiting for the writer. hollow_state_holder (read.h) is
 * a cell of read states; the consumer keeps its indexes in cells too. See
 * cell.c for how it works.
 */
#ifndef HOLLOW_SRC_COMMON_CELL_H
#define HOLLOW_SRC_COMMON_CELL_H

#include "thread.h"

typedef struct hollow__cell {
    _Atomic(void *) cur;
    atomic_uint epoch;
    atomic_size_t in[2];
    hollow__mutex publish_mu;
    void (*retain)(void *obj);
    void (*release)(void *obj);
} hollow__cell;

int hollow__cell_init(hollow__cell *c, void (*retain)(void *),
                      void (*release)(void *));
/* drops the reference to the current object */
void hollow__cell_destroy(hollow__cell *c);
/* the current object with one more reference, or NULL */
void *hollow__cell_acquire(hollow__cell *c);
/* make `obj` current (the cell takes over one reference; NULL allowed) */
void hollow__cell_publish(hollow__cell *c, void *obj);

#endif
