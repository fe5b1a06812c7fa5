/*
 * hollow/hollow.h - the umbrella header: everything public in libhollow.
 *
 * Check at start-up that the headers match the library:
 *     assert(hollow_version_number() == HOLLOW_VERSION_NUMBER);
 */
#ifndef HOLLOW_HOLLOW_H
#define HOLLOW_HOLLOW_H

#include "common.h"
#include "dump.h"
#include "error.h"
#include "read.h"
#include "schema.h"
#include "version.h"

#endif
