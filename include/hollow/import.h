/*
 * hollow/import.h - records from JSON, JSON lines and CSV into a write state.
 *
 * A record source reads one file (or buffer) of records of one OBJECT type
 * and adds them, and every record they reference, to a write state through
 * the state's schemas. The rules that turn values into fields (numbers,
 * strings, nulls, nested objects, lists, sets, maps, one-field wrapper
 * types such as String { string value; }, CSV cells) are in docs/import.md.
 *
 * Errors: the first value that does not fit stops the import with
 * HOLLOW_EINVAL (HOLLOW_EIO for a read error) and hollow_error_last()'s
 * message "NAME:LINE[:COLUMN]: what was wrong", lines and columns counted
 * from 1 (columns in bytes). Records added before the error stay in the
 * write state: the caller rolls the cycle back (a producer's populate
 * callback returns the error, and the producer does that).
 *
 * Threads: an import of JSON lines parses on opts->threads worker threads
 * of its own, started and joined within the call; records are added on the
 * calling thread in file order, so the ordinals it gives are the same
 * whatever the number of threads. .json and CSV are read on the calling
 * thread. Different imports may run on one write state at once only if
 * their records do not depend on ordering (each import keeps its own file
 * order). The input is read whole into memory.
 */
#ifndef HOLLOW_IMPORT_H
#define HOLLOW_IMPORT_H

#include "common.h"
#include "error.h"
#include "schema.h"
#include "write.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The format of a record source. */
typedef enum hollow_import_format {
    HOLLOW_IMPORT_AUTO = 0, /**< from the name's extension */
    HOLLOW_IMPORT_JSON,     /**< .json: an array of records, or one record */
    HOLLOW_IMPORT_JSONL,    /**< .jsonl / .ndjson: one record per line */
    HOLLOW_IMPORT_CSV       /**< .csv: a header row, RFC 4180 quoting */
} hollow_import_format;

/** Called now and then during an import (from the importing thread). */
typedef void (*hollow_import_progress_fn)(uint64_t bytes_done,
                                          uint64_t bytes_total, void *payload);

/** Options of an import. */
typedef struct hollow_import_options {
    unsigned int version;          /**< HOLLOW_IMPORT_OPTIONS_VERSION */
    hollow_import_format format;   /**< HOLLOW_IMPORT_AUTO: by extension */
    /** Unknown fields (keys or columns the type has no field for) are an
     * error; without it they are ignored and counted. */
    bool strict;
    /** Parsing threads for JSON lines; 0: the cores the process may run on;
     * 1: everything on the calling thread. */
    unsigned int threads;
    hollow_import_progress_fn progress; /**< may be NULL */
    void *progress_payload;
} hollow_import_options;

#define HOLLOW_IMPORT_OPTIONS_VERSION 1
#define HOLLOW_IMPORT_OPTIONS_INIT                                             \
    {HOLLOW_IMPORT_OPTIONS_VERSION, HOLLOW_IMPORT_AUTO, false, 0, NULL, NULL}

/** What an import did. */
typedef struct hollow_import_stats {
    uint64_t records;        /**< top-level records read */
    uint64_t bytes;          /**< bytes of input read */
    uint64_t unknown_fields; /**< values ignored for lack of a field */
} hollow_import_stats;

/**
 * The format a file name's extension names (.json, .jsonl, .ndjson, .csv;
 * case-insensitive); HOLLOW_IMPORT_AUTO if none of them.
 */
HOLLOW_API hollow_import_format hollow_import_format_of(const char *name);

/**
 * Import the records of file `path` ("-" is standard input, which needs a
 * format in `opts`) as records of OBJECT type `type` of `ws`'s schemas;
 * NULL: the root type (hollow_import_root_type()).
 * @param stats  may be NULL; filled also on failure (what was read)
 * @param opts   NULL: HOLLOW_IMPORT_OPTIONS_INIT
 * @return 0; HOLLOW_EINVAL for data that does not fit (message with
 *         position), an unknown or non-OBJECT type, an ambiguous root, an
 *         unknown format; HOLLOW_EIO if the file cannot be read (message
 *         with the reason); HOLLOW_ERANGE; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_import_file(hollow_import_stats *stats,
                                  hollow_write_state *ws, const char *type,
                                  const char *path,
                                  const hollow_import_options *opts);

/**
 * As hollow_import_file(), from `len` bytes at `data`; `name` is used in
 * messages and, with HOLLOW_IMPORT_AUTO, for the format.
 */
HOLLOW_API int hollow_import_buffer(hollow_import_stats *stats,
                                    hollow_write_state *ws, const char *type,
                                    const char *name, const void *data,
                                    size_t len,
                                    const hollow_import_options *opts);

/**
 * The root type of `schemas`: the one OBJECT type that no other type
 * references (fields, elements, keys, values).
 * @return 0 with *out borrowed from `schemas`; HOLLOW_ENOTFOUND if there
 *         is none; HOLLOW_EINVAL if there are several (the message lists
 *         them).
 */
HOLLOW_API int hollow_import_root_type(const char **out,
                                       const hollow_schema_list *schemas);

/** A data file to infer a schema from. */
typedef struct hollow_import_source {
    /** The type its records are; NULL: named after the file (its base
     * name without extension, as an identifier: "movies.csv" → "Movies"). */
    const char *type;
    const char *path;             /**< "-": standard input */
    hollow_import_format format;  /**< HOLLOW_IMPORT_AUTO: by extension */
} hollow_import_source;

/**
 * Infer schemas from data files (rules in docs/import.md: integers that fit
 * int → int, else long; other numbers → double; true/false → boolean; the
 * rest string; nested objects → types named after their field; arrays →
 * lists). The result validates and hollow_schema_list_print() prints it.
 * @return 0; HOLLOW_EINVAL for malformed data (message with position) or
 *         conflicting sources; HOLLOW_EIO; HOLLOW_ENOMEM.
 * Ownership: free *out with hollow_schema_list_free().
 */
HOLLOW_API int hollow_import_infer(hollow_schema_list **out,
                                   const hollow_import_source *sources,
                                   size_t n, const hollow_import_options *opts);

#ifdef __cplusplus
}
#endif

#endif
