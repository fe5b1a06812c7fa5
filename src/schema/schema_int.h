/*
 * Private view of schemas: the struct behind hollow_schema and the binary
 * codec used by the blob layer (blob-format.md §4.1).
 */
#ifndef HOLLOW_SRC_SCHEMA_SCHEMA_INT_H
#define HOLLOW_SRC_SCHEMA_SCHEMA_INT_H

#include "hollow/schema.h"

#include "common/buf.h"
#include "common/reader.h"

typedef struct hollow__field {
    char *name;
    hollow_field_type type;
    char *ref_type; /* REFERENCE only, else NULL */
} hollow__field;

struct hollow_schema {
    hollow_schema_kind kind;
    char *name;
    /* OBJECT */
    hollow__field *fields;
    size_t field_count;
    size_t field_cap;
    /* LIST/SET: elem; MAP: elem = key type, value */
    char *elem_type;
    char *value_type;
    /* primary key (OBJECT) or hash key (SET/MAP) */
    char **key_paths;
    size_t key_count;
};

struct hollow_schema_list {
    hollow_schema **items;
    size_t count;
    size_t cap;
};

/*
 * hollow_schema_list_validate(), also giving the schema an error is about
 * (*bad, NULL when none is: out of memory, a NULL list).
 */
int hollow__schema_list_validate_at(const hollow_schema_list *l,
                                    const hollow_schema **bad);

/*
 * Decode one schema (§4.1) from r. Unknown kind ids and field type names,
 * negative or impossible counts, empty names and duplicate field names give
 * HOLLOW_ECORRUPT with the offset; a decoded schema satisfies the same
 * invariants as one built through the API. *out is NULL on failure.
 */
int hollow__schema_read(hollow_schema **out, hollow__reader *r);

/*
 * Encode one schema (§4.1): kind id 0..6 chosen from kind and key. An
 * allocation failure marks the buffer (see buf.h).
 */
void hollow__schema_write(hollow__buf *b, const hollow_schema *s);

/* Deep copy. */
int hollow__schema_clone(hollow_schema **out, const hollow_schema *s);

/*
 * Check that field `f` of `s` exists and has type `want`, as the typed
 * accessors of records and read states require.
 * @return 0; HOLLOW_EINVAL naming the type, field and both types.
 */
int hollow__schema_check_field(const hollow_schema *s, size_t f,
                               hollow_field_type want);

/* ------------------------------------------------------------ names */

/*
 * True if `s` can be a type, field or key path name: non-empty, valid UTF-8
 * in the lenient sense of common/text.h (C0 80, lone surrogates), and at
 * most 65535 bytes once encoded as modified UTF-8 (the mutf limit, §1.4).
 */
bool hollow__schema_name_ok(const char *s, size_t len);

/*
 * Compare two names as Java's String.compareTo does: by UTF-16 code unit
 * (blob-format.md §3.8, §11.7). For ASCII this is strcmp; it differs from
 * byte order only for supplementary characters against U+E000..U+FFFF.
 */
int hollow__schema_name_cmp(const char *a, const char *b);

/* --------------------------------------------------------- key paths */

/* One hop of a resolved key path: field `field` of OBJECT schema `schema`. */
typedef struct hollow__schema_hop {
    const hollow_schema *schema; /* borrowed from the list */
    size_t field;                /* index into schema->fields */
} hollow__schema_hop;

/*
 * A key path resolved against a schema list (blob-format.md §4.2): the
 * fields visited from the keyed type to the field whose value is the key,
 * after auto-expansion. hops[0].schema is the start type; every hop but the
 * last is a REFERENCE field whose ref_type is the next hop's schema. The
 * last hop's field is not a REFERENCE, except when expansion was stopped by
 * a `!` (in the path, or in a primary key path met while expanding): then
 * `ordinal` is true and the key value is the referenced ordinal (§11.5).
 *
 * Example: with `Actor { String name; int birthYear; }` and
 * `String { string value; }`, path "name" from Actor resolves to
 * {(Actor, name), (String, value)}.
 */
typedef struct hollow__schema_key_path {
    hollow__schema_hop *hops;
    size_t hop_count; /* >= 1 */
    bool ordinal;     /* last hop is a REFERENCE: the value is its ordinal */
} hollow__schema_key_path;

/*
 * Resolve `path` (dot-separated field names, optionally ending in `!`)
 * starting at the OBJECT type named `type` in `l`. Segments before the
 * last must be REFERENCE fields; a path ending on a REFERENCE is expanded
 * (single-field OBJECT: append its field and go on; else a single-field
 * primary key: append that key's own expansion and stop; else invalid).
 *
 * @return 0 and *out filled (free with hollow__schema_key_path_clear());
 *         HOLLOW_EINVAL with "key path <path>: <problem>" (unknown type or
 *         field, non-REFERENCE segment, unexpandable reference, expansion
 *         loop); HOLLOW_ENOMEM. On failure *out is zeroed.
 */
int hollow__schema_key_path_resolve(hollow__schema_key_path *out,
                                    const hollow_schema_list *l,
                                    const char *type, const char *path);

/*
 * The type at which the key paths of `s` start: `s` itself for an OBJECT
 * (primary key), the element type of a SET, the key type of a MAP (hash
 * key); NULL for a LIST.
 */
const char *hollow__schema_key_root(const hollow_schema *s);

/*
 * Resolve every key path of `s` (s->key_count of them, from
 * hollow__schema_key_root(s)) into a new array *out. With no key, *out is
 * NULL and 0 is returned. Errors as for hollow__schema_key_path_resolve().
 * Free with hollow__schema_key_paths_free(*out, s->key_count).
 */
int hollow__schema_key_resolve_all(hollow__schema_key_path **out,
                                   const hollow_schema_list *l,
                                   const hollow_schema *s);
/* The same over a list whose items are sorted by hollow__schema_name_cmp
 * and unique, found by binary search (a read state's types: a blob may
 * hold many keyed types, docs/limits.md). */
int hollow__schema_key_resolve_all_sorted(hollow__schema_key_path **out,
                                          const hollow_schema_list *l,
                                          const hollow_schema *s);

/* Free the hops of one resolved path and zero it; NULL-safe. */
void hollow__schema_key_path_clear(hollow__schema_key_path *p);

/* Free an array of `count` resolved paths; NULL is a no-op. */
void hollow__schema_key_paths_free(hollow__schema_key_path *paths,
                                   size_t count);

#endif
