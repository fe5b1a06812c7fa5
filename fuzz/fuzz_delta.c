/*
 * Fuzz target: applying a hostile delta to a valid state (blob-format.md
 * §9; style.md B10).
 *
 * The first input byte picks the base state, a golden snapshot that Java
 * wrote (every kind, sharding, resharding, schema changes); the rest is the
 * delta. The seed corpus holds the real deltas of those snapshots behind
 * their selector byte, so mutations get past the origin-tag check and into
 * the section decoding. When a delta applies, the new state is walked
 * (dump, deep dump of every type, checksum) and the base state must be
 * unchanged (same checksum) either way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/dump.h"
#include "hollow/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef HOLLOW_GOLDEN_DIR
#error "HOLLOW_GOLDEN_DIR must point at tests/golden"
#endif

static const char *BASES[] = {
    "a_primitives/snapshot-20250101000000001",
    "b_collections/snapshot-20250101000000001",
    "c_primary_keys/snapshot-20250101000000002",
    "d_sharding/snapshot-20250101000000001",
    "d2_resharding/snapshot-20250101000000002",
    "e_schema_change/snapshot-20250101000000002",
};
#define NBASES (sizeof BASES / sizeof *BASES)

static hollow_read_state *base[NBASES];
static uint32_t base_checksum[NBASES];

static int sink(void *payload, const char *p, size_t n)
{
    (void)p;
    *(size_t *)payload += n;
    return 0;
}

static void init(void)
{
    for (size_t i = 0; i < NBASES; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", HOLLOW_GOLDEN_DIR, BASES[i]);
        if (hollow_read_state_open(&base[i], path, NULL) < 0 ||
            hollow_read_state_checksum(&base_checksum[i], base[i]) < 0) {
            fprintf(stderr, "fuzz_delta: cannot load %s: %s\n", path,
                    hollow_error_last()->message);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (base[0] == NULL)
        init();
    if (size < 1)
        return 0;
    size_t which = data[0] % NBASES;
    hollow_read_state *next = NULL;
    int rc = hollow_read_state_apply_delta(&next, base[which], data + 1,
                                           size - 1);
    if (rc < 0) {
        if (next != NULL || hollow_error_last()->message[0] == '\0')
            abort();
    } else {
        size_t total = 0;
        uint32_t c;
        hollow_dump_canonical(next, sink, &total);
        for (size_t t = 0; t < hollow_read_state_type_count(next); t++)
            hollow_dump_deep(next,
                             hollow_type_name(hollow_read_state_type_at(next, t)),
                             sink, &total);
        hollow_read_state_checksum(&c, next);
        hollow_read_state_release(next);
    }
    uint32_t after;
    if (hollow_read_state_checksum(&after, base[which]) < 0 ||
        after != base_checksum[which])
        abort(); /* the base state must never change */
    return 0;
}
