/*
 * hollow/dump.h - the canonical text dumps of a read state.
 *
 * Two formats, defined byte for byte by the golden vectors' README
 * (docs/dump-format.md): the canonical dump `hollow-dump/1` (every type,
 * every populated record by ordinal, header tags and randomized tag) and
 * the deep dump `hollow-deep/1` of one type (ordinal-free: references are
 * replaced by the referenced records, lines sorted), for comparing states
 * written by different implementations.
 *
 * Threads: reads the state only; any number of dumps may run at once.
 */
#ifndef HOLLOW_DUMP_H
#define HOLLOW_DUMP_H

#include "read.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Receives dump text in pieces. Return 0 to go on; a non-zero return stops
 * the dump and is passed back by the dump call unchanged.
 */
typedef int (*hollow_write_fn)(void *payload, const char *data, size_t len);

/**
 * Write the canonical dump of `rs` through `fn`.
 * @return 0; HOLLOW_ECORRUPT if a record cannot be decoded; HOLLOW_ENOMEM;
 *         or the callback's non-zero return.
 */
HOLLOW_API int hollow_dump_canonical(const hollow_read_state *rs,
                                     hollow_write_fn fn, void *payload);

/**
 * Write the deep dump of type `type` through `fn`.
 * @return 0; HOLLOW_ENOTFOUND if the state has no such type;
 *         HOLLOW_ECORRUPT if a reference reaches an unpopulated ordinal or
 *         references form a cycle (or nest deeper than 2000);
 *         HOLLOW_ERANGE if one record's deep text would exceed 16 MiB
 *         (shared references can make it exponential in a hostile blob);
 *         HOLLOW_ENOMEM; the callback's return.
 */
HOLLOW_API int hollow_dump_deep(const hollow_read_state *rs, const char *type,
                                hollow_write_fn fn, void *payload);

/**
 * Write the deep value of one record (a line of the deep dump: references
 * replaced by the referenced records, SET/MAP entries sorted).
 * @return as hollow_dump_deep() for one record; HOLLOW_ENOTFOUND if `o`
 *         holds no record.
 */
HOLLOW_API int hollow_dump_deep_record(const hollow_type *t, hollow_ordinal o,
                                       hollow_write_fn fn, void *payload);

/**
 * Write one record of `t` as the canonical dump prints it (an OBJECT as
 * {"field":value,...}, a LIST as [ordinals], a SET sorted, a MAP as
 * [[key,value],...]).
 * @return 0; HOLLOW_ENOTFOUND for an ordinal without a slot;
 *         HOLLOW_ECORRUPT; HOLLOW_ENOMEM; the callback's return.
 */
HOLLOW_API int hollow_dump_record(const hollow_type *t, hollow_ordinal o,
                                  hollow_write_fn fn, void *payload);

/**
 * Format a double or float exactly as the dumps do (shortest round trip,
 * ECMAScript layout; NaN and infinities as "NaN", "Infinity",
 * "-Infinity" without quotes) into `buf` (32 bytes suffice).
 * @return the length written (0 for a NULL `buf`).
 */
HOLLOW_API size_t hollow_format_double(char *buf, size_t cap, double v);
/** As hollow_format_double() for a float (shortest text that reads back
 * as the same float, not as the same double). */
HOLLOW_API size_t hollow_format_float(char *buf, size_t cap, float v);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_DUMP_H */
