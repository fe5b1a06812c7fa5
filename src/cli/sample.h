/*
 * The built-in sample behind `--store memory` (the seed's default store):
 * one in-memory blob store and in-process announcer per process, filled on
 * first use with the Movies dataset of bench-dataset.md (N=1000) in
 * versions 1, 2 and 3 from a counter minter: version 2 is the dataset's
 * version 2, version 3 applies the same rule to version 2, continuing the
 * same generator. The hollow-cli shell works on it across commands.
 */
#ifndef HOLLOW_CLI_SAMPLE_H
#define HOLLOW_CLI_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "hollow/announcer.h"
#include "hollow/blobstore.h"

/*
 * The sample's store and announcer, built on first use; both borrowed for
 * the life of the process (cli_store_close() and cli_announcer_close()
 * leave them alone). 0, or 1 after printing "hollow-cli <cmd>: ..." why.
 */
int cli_sample_open(hollow_blobstore **bs, hollow_announcer **an,
                    const char *cmd);

/*
 * Publish the sample's next version (the dataset's version-2 rule applied
 * to the latest, continuing the generator), for `produce` with no data:
 * 0 with *version set, or 1 after printing why. `verbose`: per type the
 * records added, removed and kept, and each blob written, on stderr.
 */
int cli_sample_produce_next(int64_t *version, bool verbose, const char *cmd);

/* the sample's minter (a hollow_version_minter_fn): previous + 1 */
int64_t cli_sample_mint(int64_t previous, void *payload);

/* whether `bs` is the sample's store */
bool cli_sample_is_store(const void *bs);

/* whether `an` is the sample's announcer */
bool cli_sample_is_announcer(const void *an);

#endif
