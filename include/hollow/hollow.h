/*
 * hollow/hollow.h - the umbrella header: everything public in libhollow.
 *
 * Check at start-up that the headers match the library:
 *     assert(hollow_version_number() == HOLLOW_VERSION_NUMBER);
 *
 * It includes every header of include/hollow/. The backend API of
 * include/hollow/sys/ (blob store and announcer vtables, stable only within
 * a minor release, style.md B8) is left out on purpose, as libgit2's
 * git2.h leaves out git2/sys/: include it by name to write a backend.
 */
#ifndef HOLLOW_HOLLOW_H
#define HOLLOW_HOLLOW_H

#include "announcer.h"
#include "blob.h"
#include "blobstore.h"
#include "common.h"
#include "consumer.h"
#include "diff.h"
#include "dump.h"
#include "error.h"
#include "import.h"
#include "index.h"
#include "metrics.h"
#include "producer.h"
#include "read.h"
#include "schema.h"
#include "hollow/version.h"
#include "write.h"

#endif
