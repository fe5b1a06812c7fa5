/*
 * hollow/schema.h - OBJECT, LIST, SET and MAP schemas.
 *
 * A schema names a type and says how its records are laid out
 * (blob-format.md §4). A hollow_schema_list holds the schemas of one
 * dataset, in order; it parses and prints the textual schema language
 * exactly as Java's HollowSchemaParser / HollowSchema.toString() do (§4.3),
 * checks the schemas as a whole, and computes the schema hash (§11.7).
 *
 * Names (types, fields, key paths) are NUL-terminated UTF-8 strings.
 *
 * Threads: a schema or list is used by one thread at a time while it is
 * being built; once built (or when borrowed from a read state) it is
 * immutable and may be read from any number of threads.
 */
#ifndef HOLLOW_SCHEMA_H
#define HOLLOW_SCHEMA_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The four kinds of type. */
typedef enum hollow_schema_kind {
    HOLLOW_SCHEMA_OBJECT = 0,
    HOLLOW_SCHEMA_LIST = 1,
    HOLLOW_SCHEMA_SET = 2,
    HOLLOW_SCHEMA_MAP = 3
} hollow_schema_kind;

/** Field types of an OBJECT schema (§4.1, §6.1). */
typedef enum hollow_field_type {
    HOLLOW_FIELD_INT = 0,
    HOLLOW_FIELD_LONG = 1,
    HOLLOW_FIELD_FLOAT = 2,
    HOLLOW_FIELD_DOUBLE = 3,
    HOLLOW_FIELD_BOOLEAN = 4,
    HOLLOW_FIELD_STRING = 5,
    HOLLOW_FIELD_BYTES = 6,
    HOLLOW_FIELD_REFERENCE = 7
} hollow_field_type;

typedef struct hollow_schema hollow_schema;
typedef struct hollow_schema_list hollow_schema_list;

/* ---------------------------------------------------------------- build */

/**
 * Create an empty OBJECT schema named `name`.
 * @return 0; HOLLOW_EINVAL for an empty name; HOLLOW_ENOMEM.
 * Ownership: the caller frees *out with hollow_schema_free().
 */
HOLLOW_API int hollow_schema_object_new(hollow_schema **out, const char *name);

/**
 * Create a LIST schema of `element_type` records.
 * @return 0; HOLLOW_EINVAL for an empty name; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_schema_list_type_new(hollow_schema **out, const char *name,
                                           const char *element_type);

/**
 * Create a SET schema of `element_type` records (no hash key yet).
 * @return 0; HOLLOW_EINVAL; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_schema_set_type_new(hollow_schema **out, const char *name,
                                          const char *element_type);

/**
 * Create a MAP schema from `key_type` records to `value_type` records.
 * @return 0; HOLLOW_EINVAL; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_schema_map_type_new(hollow_schema **out, const char *name,
                                          const char *key_type,
                                          const char *value_type);

/**
 * Append a field to an OBJECT schema. `ref_type` names the referenced type
 * for HOLLOW_FIELD_REFERENCE and must be NULL otherwise.
 * @return 0; HOLLOW_EEXISTS if the field name is taken; HOLLOW_EINVAL for a
 *         non-OBJECT schema, an empty name or a wrong `ref_type`;
 *         HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_schema_add_field(hollow_schema *s, const char *name,
                                       hollow_field_type type,
                                       const char *ref_type);

/**
 * Set the key: the primary key of an OBJECT, the hash key of a SET or MAP
 * (§4.2). `paths` are dot-separated field paths; count 0 removes the key.
 * Paths are stored verbatim; hollow_schema_list_validate() checks them.
 * @return 0; HOLLOW_EINVAL for a LIST or an empty path; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_schema_set_key(hollow_schema *s, const char *const *paths,
                                     size_t count);

/**
 * Copy a schema (for instance one borrowed from a read state).
 * @return 0; HOLLOW_ENOMEM. Ownership: free *out with hollow_schema_free().
 */
HOLLOW_API int hollow_schema_clone(hollow_schema **out, const hollow_schema *s);

/** Free a schema; NULL is a no-op. Never free a schema owned by a list. */
HOLLOW_API void hollow_schema_free(hollow_schema *s);

/* ------------------------------------------------------------- inspect */

/** The type name. Lifetime: that of the schema. */
HOLLOW_API const char *hollow_schema_name(const hollow_schema *s);
/** The kind; HOLLOW_SCHEMA_OBJECT for NULL (see error.h on NULL). */
HOLLOW_API hollow_schema_kind hollow_schema_kind_of(const hollow_schema *s);
/** Number of fields of an OBJECT schema (0 for other kinds). */
HOLLOW_API size_t hollow_schema_field_count(const hollow_schema *s);
/** Name of field `i` (< field count), else NULL. */
HOLLOW_API const char *hollow_schema_field_name(const hollow_schema *s, size_t i);
/** Type of field `i`; HOLLOW_FIELD_INT when out of range. */
HOLLOW_API hollow_field_type hollow_schema_field_type(const hollow_schema *s,
                                                      size_t i);
/** Referenced type of REFERENCE field `i`, else NULL. */
HOLLOW_API const char *hollow_schema_field_ref_type(const hollow_schema *s,
                                                    size_t i);
/** Index of the field called `name`, or -1. */
HOLLOW_API int hollow_schema_field_index(const hollow_schema *s, const char *name);
/** Element type of a LIST or SET, key type of a MAP, else NULL. */
HOLLOW_API const char *hollow_schema_element_type(const hollow_schema *s);
/** Value type of a MAP, else NULL. */
HOLLOW_API const char *hollow_schema_value_type(const hollow_schema *s);
/** Number of key paths (primary key or hash key); 0 = no key. */
HOLLOW_API size_t hollow_schema_key_count(const hollow_schema *s);
/** Key path `i` as stored (not expanded), else NULL. */
HOLLOW_API const char *hollow_schema_key_path(const hollow_schema *s, size_t i);
/**
 * Canonical name of a field type as the binary encoding spells it: "INT",
 * "LONG", ... "REFERENCE" (static strings); NULL for a value outside the
 * enum.
 */
HOLLOW_API const char *hollow_field_type_name(hollow_field_type t);

/**
 * True if the two schemas are identical (kind, name, fields, types, keys).
 * Two NULLs are equal; NULL and a schema are not.
 */
HOLLOW_API bool hollow_schema_equal(const hollow_schema *a, const hollow_schema *b);

/**
 * Print the canonical text of `s` (§4.3, as Java's toString) into `buf`,
 * NUL-terminated and truncated to `cap`, like snprintf: `buf` may be NULL
 * when `cap` is 0, to learn the length. The text has no final newline,
 * e.g. "Movie @PrimaryKey(id) {\n\tint id;\n}" or "L List<Actor>;".
 * @return the full length of the text (excluding the NUL); 0, and "" in
 *         `buf`, for a NULL schema.
 */
HOLLOW_API size_t hollow_schema_print(char *buf, size_t cap, const hollow_schema *s);

/* ---------------------------------------------------------------- lists */

/**
 * Create an empty schema list.
 * @return 0; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_schema_list_new(hollow_schema_list **out);

/**
 * Parse schema text (§4.3) and append every declaration to a new list, in
 * text order. `text` is `len` bytes of UTF-8 and need not be
 * NUL-terminated (NULL is allowed when `len` is 0).
 *
 * The language is Java's: words start with a letter, '_' or a character
 * from U+00A0 on and continue with those, digits, '.' and '-'; characters
 * up to U+0020 are whitespace; line comments and block comments are as in
 * C; anything before the first word of a declaration is skipped. Unlike Java,
 * an unterminated block comment is an error, a lone '/' is not a comment
 * and quotes are ordinary characters.
 *
 * @return 0; HOLLOW_EPARSE with "line L:C: message" in hollow_error_last()
 *         (1-based line and column, in characters, of the offending token;
 *         lines end at LF, CR or CRLF), e.g. "line 3:2: expected ';' after
 *         field 'id', found 'string'"; HOLLOW_EEXISTS for a type or field
 *         declared twice (also with its line:column); HOLLOW_ENOMEM.
 *         *out is NULL on failure.
 */
HOLLOW_API int hollow_schema_parse(hollow_schema_list **out, const char *text,
                                   size_t len);

/**
 * Parse as hollow_schema_parse(), then validate the list as
 * hollow_schema_list_validate() does. A validation error (an unknown type
 * referenced, a type declared twice, a bad key path) carries the position
 * of the declaration it is about, like a parse error: "line L:C: type A:
 * key path zz: type A has no field zz", L:C being where A's name starts.
 *
 * @return as hollow_schema_parse(), and the codes of
 *         hollow_schema_list_validate() (HOLLOW_EINVAL). *out is NULL on
 *         failure.
 */
HOLLOW_API int hollow_schema_parse_validated(hollow_schema_list **out,
                                             const char *text, size_t len);

/** Options of hollow_schema_parse_capnp(). */
typedef struct hollow_capnp_options {
    unsigned int version; /**< HOLLOW_CAPNP_OPTIONS_VERSION */
    /**
     * Directories searched, in order, for absolute imports
     * (`import "/hollow/hollow.capnp"`), NULL-terminated; then
     * /usr/local/include and /usr/include when they exist, as `capnp
     * compile` does. A directory that cannot be opened is an error.
     * Borrowed during the call only.
     */
    const char *const *import_dirs;
    /**
     * Primary keys, NULL-terminated, each "TYPE=field[,field]" (a field
     * may be a dot path); they replace the `$Hollow.primaryKey`
     * annotation of TYPE. Borrowed during the call only.
     */
    const char *const *primary_keys;
} hollow_capnp_options;

#define HOLLOW_CAPNP_OPTIONS_VERSION 1
#define HOLLOW_CAPNP_OPTIONS_INIT {HOLLOW_CAPNP_OPTIONS_VERSION, NULL, NULL}

/**
 * Parse a Cap'n Proto schema file with libcapnp's own compiler and map its
 * structs to Hollow schemas (docs/schema-capnp.md has the table): every
 * struct and enum the file declares (nested ones too) and every type they
 * use, imported ones included, in that order. A struct becomes an OBJECT;
 * Bool boolean; Int8/16/32 and UInt8/16 int; Int64, UInt32 and UInt64
 * long; Float32 float; Float64 double; Text string; Data bytes; a struct
 * or enum field a reference; an enum an OBJECT `E { string _name; }`;
 * `List(T)` a LIST `ListOfT` whose scalar and Text elements go through
 * the one-field types Java's object mapper uses (`String { string value;
 * }`, `Integer`, `Long`, `Float`, `Double`, `Boolean`). The annotation
 * `$Hollow.primaryKey("id,name")` of the shipped include/hollow/hollow.capnp
 * sets a primary key. The list is validated as by
 * hollow_schema_list_validate().
 *
 * @param out   receives the list; NULL on failure
 * @param path  the .capnp file; relative imports resolve next to it
 * @param opts  NULL for defaults
 * @return 0; HOLLOW_EPARSE when the Cap'n Proto compiler rejects the file,
 *         with "FILE:LINE: message" (1-based line, the line `capnp compile`
 *         reports; FILE as given, or the imported file at fault);
 *         HOLLOW_EINVAL for what has no Hollow mapping, naming file, struct
 *         and field ("people.capnp: struct Person field pet: unions are not
 *         supported": unions, groups, interfaces, AnyPointer, Void, generics,
 *         List(Data)), two types of one name, a bad or unknown primary-key
 *         option, an invalid key path, an unknown options version;
 *         HOLLOW_EIO when the file or an import dir cannot be read;
 *         HOLLOW_ENOMEM.
 * Ownership: the caller frees *out with hollow_schema_list_free().
 * Threads: any number of calls may run at once.
 */
HOLLOW_API int hollow_schema_parse_capnp(hollow_schema_list **out,
                                         const char *path,
                                         const hollow_capnp_options *opts);

/**
 * Append `s`; the list takes ownership of it, also on failure.
 * @return 0; HOLLOW_EEXISTS if a schema of that name is present.
 */
HOLLOW_API int hollow_schema_list_add(hollow_schema_list *l, hollow_schema *s);

/** Number of schemas. */
HOLLOW_API size_t hollow_schema_list_count(const hollow_schema_list *l);
/** Schema `i`, or NULL. Lifetime: that of the list. */
HOLLOW_API const hollow_schema *hollow_schema_list_get(const hollow_schema_list *l,
                                                       size_t i);
/** The schema named `name`, or NULL. */
HOLLOW_API const hollow_schema *hollow_schema_list_find(const hollow_schema_list *l,
                                                        const char *name);

/**
 * Check the schemas as a whole: names are unique; every referenced type
 * (REFERENCE fields, LIST/SET elements, MAP keys and values) exists; every
 * key path resolves (§4.2: non-final segments are REFERENCE fields, a path
 * ending on a reference auto-expands, `!` stops expansion); SET/MAP hash
 * keys start at the element/key type, which must be an OBJECT.
 * @return 0; HOLLOW_EINVAL with the first problem, references before key
 *         paths ("type Movie: field cast references unknown type
 *         ListOfActor", "type A: key path b.c: type B has no field c").
 */
HOLLOW_API int hollow_schema_list_validate(const hollow_schema_list *l);

/**
 * The schema hash of §11.7 (value of the `hollow.schema.hash` header tag):
 * independent of the list's order.
 * @return 0; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_schema_list_hash(int32_t *out, const hollow_schema_list *l);

/**
 * Print every schema's canonical text, in list order, each followed by a
 * blank line ("\n\n", the last one too: the layout of the golden vectors'
 * `schema.hollow` files), into a new NUL-terminated string; "" for an empty
 * list. hollow_schema_parse() reads it back to an equal list.
 * @return 0; HOLLOW_ENOMEM. Ownership: free *out with hollow_free().
 */
HOLLOW_API int hollow_schema_list_print(char **out, const hollow_schema_list *l);

/**
 * Order the list as Java's schema sorter does (§3.8): topological by
 * dependencies (REFERENCE fields, element, key and value types that are in
 * the list), ties broken by name in UTF-16 order, types on or behind a
 * cycle appended in name order. This is the type order of Java's blobs.
 * @return 0; HOLLOW_ENOMEM (the list is then unchanged).
 */
HOLLOW_API int hollow_schema_list_sort(hollow_schema_list *l);

/** Free the list and its schemas; NULL is a no-op. */
HOLLOW_API void hollow_schema_list_free(hollow_schema_list *l);

/** Free memory the library handed to the caller (strings); NULL is a no-op. */
HOLLOW_API void hollow_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_SCHEMA_H */
