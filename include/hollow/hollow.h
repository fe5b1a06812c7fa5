/*
 * hollow/hollow.h - the umbrella header: everything public in libhollow.
 *
 * Check at start-up that the headers match the library:
 *     assert(hollow_version_number() == HOLLOW_VERSION_NUMBER);
 */
#ifndef HOLLOW_HOLLOW_H
#define HOLLOW_HOLLOW_H

#include "announcer.h"
#include "blobstore.h"
#include "common.h"
#include "consumer.h"
#include "dump.h"
#include "error.h"
#include "producer.h"
#include "read.h"
#include "schema.h"
#include "hollow/version.h"
#include "write.h"

#endif
