/*
 * hollow/read.h - immutable read states and record accessors.
 *
 * A read state is one version of a dataset as a consumer holds it: the
 * types with their schemas, the records of each type addressed by ordinal,
 * the randomized tag and the header tags of the blob that produced it.
 * It is immutable once made and reference counted: any number of threads
 * may read it at once, without locks, for as long as they hold a
 * reference (hollow_read_state_acquire / hollow_read_state_release).
 *
 * Records stay in the wire layout (big-endian packed words, blob-format.md
 * §1.5). Reading a field decodes it on the spot and allocates nothing.
 * Values that live in the state (strings, bytes) come back as borrowed
 * views, valid while the caller holds its reference.
 *
 * Accessors return HOLLOW_OK (0), HOLLOW_NULL (1, not an error) for a null
 * value, or a negative error: HOLLOW_EINVAL for a field index or kind that
 * does not match the type, HOLLOW_ENOTFOUND for an ordinal beyond the
 * type's last slot, HOLLOW_ECORRUPT when the stored bytes are inconsistent
 * (only a hostile blob produces that). Reading an unpopulated ordinal that
 * has a slot returns that slot's (empty) content; use
 * hollow_type_is_populated() to know which ordinals hold records.
 * A NULL state, type or out pointer gives HOLLOW_EINVAL (error.h).
 */
#ifndef HOLLOW_READ_H
#define HOLLOW_READ_H

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* the cursor's unit count */
#endif

#include "common.h"
#include "error.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hollow_read_state hollow_read_state;
/** A type within a read state; borrowed, lives as long as the state. */
typedef struct hollow_type hollow_type;

/** Where record data lives (architecture decision 3). */
typedef enum hollow_memory_mode {
    HOLLOW_MEMORY_HEAP = 0, /**< blob sections copied into the heap */
    HOLLOW_MEMORY_MMAP = 1  /**< blob sections used in place from a mapped file */
} hollow_memory_mode;

/** Options for loading a snapshot. */
typedef struct hollow_read_options {
    unsigned int version;            /**< HOLLOW_READ_OPTIONS_VERSION */
    hollow_memory_mode memory_mode;  /**< heap (default) or mmap (files only) */
    /**
     * Load only these types and every type they reference (through
     * REFERENCE fields, elements, keys and values), NULL-terminated; NULL
     * loads every type. Sections of the other types are parsed and dropped.
     * Borrowed during the call only.
     */
    const char *const *type_filter;
} hollow_read_options; /* another version or memory mode: HOLLOW_EINVAL */

#define HOLLOW_READ_OPTIONS_VERSION 1
#define HOLLOW_READ_OPTIONS_INIT                                               \
    {HOLLOW_READ_OPTIONS_VERSION, HOLLOW_MEMORY_HEAP, NULL}

/**
 * Load a snapshot blob from memory into a new read state (heap mode: the
 * bytes are copied, `data` may be freed afterwards).
 *
 * @param out   receives the state, with one reference held by the caller
 * @param data  the snapshot bytes
 * @param len   their length
 * @param opts  NULL for defaults; mmap mode is refused here (HOLLOW_EINVAL)
 * @return 0; HOLLOW_ECORRUPT for a truncated or inconsistent blob (the
 *         message names what and the byte offset); HOLLOW_EVERSION for a
 *         blob format version other than 1030; HOLLOW_ENOMEM.
 *         *out is NULL on failure.
 */
HOLLOW_API int hollow_read_state_from_snapshot(hollow_read_state **out,
                                               const void *data, size_t len,
                                               const hollow_read_options *opts);

/**
 * Load a snapshot from a file, in heap or mmap mode. A file that cannot be
 * mapped (a pipe, /dev/stdin) is read to its end into memory instead.
 * @return as hollow_read_state_from_snapshot(); HOLLOW_EIO if the file
 *         cannot be read.
 */
HOLLOW_API int hollow_read_state_open(hollow_read_state **out, const char *path,
                                      const hollow_read_options *opts);

/**
 * Apply a delta or reverse delta (blob-format.md §9) to `rs`, giving a new
 * state. `rs` is not changed and stays valid for everyone who holds it; the
 * new state shares with it every shard the delta leaves unchanged, so a
 * small delta costs memory and time in proportion to what it changes.
 * Deltas may regroup a type into a new shard count (§9.7). The new state
 * keeps the schemas of `rs` (§3.2): sections for types it lacks are
 * skipped; fields are matched by name (§9.6). Changed shards are built on
 * up to one thread per core (a consumer uses its `threads` option); a
 * shard whose widths stay the same copies its kept records in runs.
 *
 * @param out  receives the new state with one reference, NULL on failure
 * @param rs   the state the delta starts from (borrowed)
 * @return 0; HOLLOW_ECHAIN if the delta's origin tag is not the state's
 *         randomized tag, or a section changes a type's kind or a field's
 *         type (load a snapshot instead); HOLLOW_ECORRUPT for a truncated
 *         or inconsistent delta; HOLLOW_EVERSION; HOLLOW_ENOMEM. Nothing
 *         half-applied is ever returned.
 * Threads: `rs` may be read by other threads meanwhile.
 */
HOLLOW_API int hollow_read_state_apply_delta(hollow_read_state **out,
                                             const hollow_read_state *rs,
                                             const void *data, size_t len);

/** As hollow_read_state_apply_delta(), reading the delta from a file. */
HOLLOW_API int hollow_read_state_apply_delta_file(hollow_read_state **out,
                                                  const hollow_read_state *rs,
                                                  const char *path);

/**
 * Take one more reference to `rs` and return it, as a pointer the caller
 * may release. It takes a const pointer so that a state handed out as
 * const (hollow_refresh_event.state, a validator's state,
 * hollow_index_state()) can be kept past the call that gave it:
 *
 *     hollow_read_state *kept = hollow_read_state_acquire(ev->state);
 *     ...
 *     hollow_read_state_release(kept);
 *
 * The caller must already hold a reference, directly or through whoever
 * handed it `rs` (for example, during a listener call). NULL is a no-op
 * and returns NULL.
 *
 * @return `rs`.
 * Ownership: one reference for the caller; release it.
 * Threads: safe from any thread.
 */
HOLLOW_API hollow_read_state *hollow_read_state_acquire(const hollow_read_state *rs);

/**
 * Drop one reference; the last one frees the state. NULL is a no-op.
 * Lifetime: every view, type and string borrowed from the state through
 * this reference becomes invalid unless the caller holds another one.
 * Threads: safe from any thread.
 */
HOLLOW_API void hollow_read_state_release(hollow_read_state *rs);

/** Same as hollow_read_state_release() (for the _new/_free habit). */
HOLLOW_API void hollow_read_state_free(hollow_read_state *rs);

/*
 * The inspectors below cannot fail; they take a state the caller holds a
 * reference to (NULL is not allowed) and may be called from any thread.
 */

/** The state's randomized tag (destination tag of the last blob, §3.9). */
HOLLOW_API int64_t hollow_read_state_randomized_tag(const hollow_read_state *rs);

/**
 * The version this state holds, as the consumer that loaded it knows it
 * (from the blob store's names); 0 for a state loaded on its own.
 */
HOLLOW_API int64_t hollow_read_state_version(const hollow_read_state *rs);

/** The origin tag of the last blob applied (-1 for a first snapshot, or
 * for NULL). */
HOLLOW_API int64_t hollow_read_state_origin_tag(const hollow_read_state *rs);

/** Number of header tags. */
HOLLOW_API size_t hollow_read_state_header_tag_count(const hollow_read_state *rs);

/**
 * Header tag `i` in blob order. Keys and values are UTF-8 (a U+0000 in
 * them is kept as the bytes C0 80, as Java's modified UTF-8 writes it).
 * `key` and `value` may be NULL (not wanted).
 * @return 0; HOLLOW_ENOTFOUND if `i` is out of range (*key and *value are
 *         then left unchanged).
 * Lifetime: the strings are borrowed from the state, NUL-terminated, valid
 * while it is held.
 */
HOLLOW_API int hollow_read_state_header_tag_at(const hollow_read_state *rs,
                                               size_t i, const char **key,
                                               const char **value);

/** The value of header tag `key`, or NULL; borrowed as for
 * hollow_read_state_header_tag_at(). */
HOLLOW_API const char *hollow_read_state_header_tag(const hollow_read_state *rs,
                                                    const char *key);

/** Number of types. */
HOLLOW_API size_t hollow_read_state_type_count(const hollow_read_state *rs);

/**
 * Type `i` in blob order (the producer's type order, §3.8), or NULL if `i`
 * is not below hollow_read_state_type_count().
 * Lifetime: a hollow_type is borrowed from the state: valid while it is held.
 */
HOLLOW_API const hollow_type *hollow_read_state_type_at(const hollow_read_state *rs,
                                                        size_t i);

/** Type `i` in ascending name order, or NULL; borrowed as above. */
HOLLOW_API const hollow_type *hollow_read_state_type_sorted(const hollow_read_state *rs,
                                                            size_t i);

/** The type named `name` (exact, case-sensitive match), or NULL; borrowed
 * as above. */
HOLLOW_API const hollow_type *hollow_read_state_type(const hollow_read_state *rs,
                                                     const char *name);

/**
 * Bytes of memory the state holds through the library's allocator,
 * excluding mapped file pages (mmap mode). Shared shards count in full; so
 * does the buffer holding a loaded snapshot (heap mode), once, as long as
 * any shard of the state points into it.
 */
HOLLOW_API size_t hollow_read_state_memory(const hollow_read_state *rs);

/**
 * Java's HollowChecksum of the whole state (§12): type checksums in
 * ascending type-name order.
 * @return 0; HOLLOW_ECORRUPT for inconsistent data.
 */
HOLLOW_API int hollow_read_state_checksum(uint32_t *out, const hollow_read_state *rs);

/* ---------------------------------------------------------- publication */

/**
 * A cell holding the current read state of something that refreshes (a
 * consumer): a refresh publishes each new state, readers pin the current
 * one. Readers never lock and never wait for a refresh; a publish waits
 * only for readers that are inside the few instructions of an acquire.
 *
 * Threads: acquire from any number of threads; publish from any thread
 * (publishers are serialized internally).
 */
typedef struct hollow_state_holder hollow_state_holder;

/**
 * Create an empty holder.
 * @return 0; HOLLOW_EINVAL if `out` is NULL; HOLLOW_ENOMEM; HOLLOW_ERROR if
 *         a mutex cannot be created. *out is NULL on failure.
 * Ownership: free it with hollow_state_holder_free().
 */
HOLLOW_API int hollow_state_holder_new(hollow_state_holder **out);

/**
 * Free the holder and drop its reference to the current state (states
 * pinned by readers stay valid until they release them). NULL is a no-op.
 * Threads: no other thread may use the holder during or after the call.
 */
HOLLOW_API void hollow_state_holder_free(hollow_state_holder *h);

/**
 * Make `rs` the current state. The holder takes over one reference from
 * the caller (acquire another first to keep using `rs`); the previous
 * state's reference is dropped. `rs` may be NULL.
 */
HOLLOW_API void hollow_state_holder_publish(hollow_state_holder *h,
                                            hollow_read_state *rs);

/**
 * Pin the current state: returns it with one more reference (release it
 * with hollow_read_state_release()), or NULL if nothing is published.
 */
HOLLOW_API hollow_read_state *hollow_state_holder_acquire(hollow_state_holder *h);

/**
 * The checksum of `rs` over what `with` also has: the types of the same
 * name and kind, and of OBJECT types the fields of the same name and type
 * (Java's comparison of states across a data-model change, §12).
 * @return 0; HOLLOW_ECORRUPT; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_read_state_checksum_common(uint32_t *out,
                                                 const hollow_read_state *rs,
                                                 const hollow_read_state *with);

/* ----------------------------------------------------------------- types */

/*
 * The type inspectors cannot fail and allocate nothing; `t` comes from one
 * of the hollow_read_state_type*() calls. Threads: any thread, while the
 * state is held.
 */

/** The type's name; borrowed, NUL-terminated, valid while the state is held. */
HOLLOW_API const char *hollow_type_name(const hollow_type *t);
/** The type's schema, as the state holds it (the blob's schema, narrowed
 * by the consumer's filter); borrowed, valid while the state is held. */
HOLLOW_API const hollow_schema *hollow_type_schema(const hollow_type *t);
/** OBJECT, LIST, SET or MAP: the kind of hollow_type_schema();
 * HOLLOW_SCHEMA_OBJECT for NULL. */
HOLLOW_API hollow_schema_kind hollow_type_kind(const hollow_type *t);
/** Number of shards n (a power of two). */
HOLLOW_API uint32_t hollow_type_shard_count(const hollow_type *t);
/** Largest ordinal with a slot, or -1 (also for NULL). */
HOLLOW_API hollow_ordinal hollow_type_max_ordinal(const hollow_type *t);
/** Number of populated ordinals (records). */
HOLLOW_API size_t hollow_type_record_count(const hollow_type *t);
/** True if ordinal `o` holds a record. */
HOLLOW_API bool hollow_type_is_populated(const hollow_type *t, hollow_ordinal o);
/**
 * The first populated ordinal >= `from`, or HOLLOW_ORDINAL_NONE.
 * Iterate with `for (o = next(t, 0); o >= 0; o = next(t, o + 1))`.
 */
HOLLOW_API hollow_ordinal hollow_type_next_ordinal(const hollow_type *t,
                                                   hollow_ordinal from);
/**
 * Bytes of memory the type's shards hold (as hollow_read_state_memory()
 * counts them: shards shared with another state count in full; in mmap
 * mode the mapped pages are left out; in heap mode the type's own part of
 * a loaded snapshot's buffer counts); 0 for NULL.
 */
HOLLOW_API size_t hollow_type_memory(const hollow_type *t);
/** The §12 checksum of one type. @return 0; HOLLOW_ECORRUPT. */
HOLLOW_API int hollow_type_checksum(uint32_t *out, const hollow_type *t);

/* --------------------------------------------------------------- objects */

/** A field value of any type (used by generic reads and key lookups). */
typedef struct hollow_value {
    hollow_field_type type;
    bool is_null;
    union {
        int32_t i;          /**< INT */
        int64_t l;          /**< LONG */
        float f;            /**< FLOAT */
        double d;           /**< DOUBLE */
        bool b;             /**< BOOLEAN */
        hollow_str str;     /**< STRING, UTF-8 (as a probe); see below */
        hollow_bytes bytes; /**< BYTES; STRING as read: stored encoding */
        hollow_ordinal ref; /**< REFERENCE */
    } u;
} hollow_value;

/*
 * Field readers of OBJECT records. `field` is the index in the type's
 * schema (hollow_schema_field_index()); the field must have the reader's
 * type. Each returns 0, HOLLOW_NULL for a null value, or the errors at the
 * top of this header; `*out` is meaningful after 0 and HOLLOW_NULL only.
 * Threads: any thread, while the state is held; nothing is allocated.
 */

/** An INT field. A null INT (stored as INT32_MIN, §6.1) reads as
 * INT32_MIN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_int(int32_t *out, const hollow_type *t,
                                 hollow_ordinal o, size_t field);
/** A LONG field. A null LONG reads as INT64_MIN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_long(int64_t *out, const hollow_type *t,
                                  hollow_ordinal o, size_t field);
/** A null FLOAT reads as NaN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_float(float *out, const hollow_type *t,
                                   hollow_ordinal o, size_t field);
/** A null DOUBLE reads as NaN with HOLLOW_NULL. */
HOLLOW_API int hollow_object_double(double *out, const hollow_type *t,
                                    hollow_ordinal o, size_t field);
/** A BOOLEAN field. A null BOOLEAN reads as false with HOLLOW_NULL. */
HOLLOW_API int hollow_object_bool(bool *out, const hollow_type *t,
                                  hollow_ordinal o, size_t field);
/** The referenced ordinal; HOLLOW_NULL (and HOLLOW_ORDINAL_NONE) if null. */
HOLLOW_API int hollow_object_ref(hollow_ordinal *out, const hollow_type *t,
                                 hollow_ordinal o, size_t field);
/** A BYTES field as a view borrowed from the state (valid while it is
 * held); a null BYTES reads as {NULL, 0} with HOLLOW_NULL. */
HOLLOW_API int hollow_object_bytes(hollow_bytes *out, const hollow_type *t,
                                   hollow_ordinal o, size_t field);

/**
 * A STRING field as UTF-8. If the stored string is ASCII, `out` is a view
 * into the state and `buf` is not touched; otherwise it is converted into
 * `buf` (surrogate pairs become 4-byte UTF-8; a lone surrogate becomes its
 * 3-byte generalized form, as WTF-8 writes it) and `out` points there.
 * At most 3 bytes per UTF-16 code unit are needed.
 *
 * @return 0; HOLLOW_NULL; HOLLOW_ERANGE if `cap` is too small (out->len
 *         then holds the size needed); errors as above.
 */
HOLLOW_API int hollow_object_string(hollow_str *out, char *buf, size_t cap,
                                    const hollow_type *t, hollow_ordinal o,
                                    size_t field);

/**
 * A STRING field as UTF-16 code units into `buf` (`cap` units).
 * @return 0 with *len = units; HOLLOW_NULL; HOLLOW_ERANGE with *len = units
 *         needed.
 */
HOLLOW_API int hollow_object_string_utf16(uint16_t *buf, size_t cap, size_t *len,
                                          const hollow_type *t, hollow_ordinal o,
                                          size_t field);

/**
 * A STRING field in its stored form (one varint per UTF-16 code unit,
 * §6.4), as a borrowed view. Two strings are equal iff these bytes are.
 */
HOLLOW_API int hollow_object_string_raw(hollow_bytes *out, const hollow_type *t,
                                        hollow_ordinal o, size_t field);

/**
 * The length of a STRING field in UTF-16 code units (Java's
 * String.length()), without decoding it: each code unit's varint ends in
 * the one byte below 0x80 (§6.4).
 * @return 0; HOLLOW_NULL; errors as above.
 */
HOLLOW_API int hollow_object_string_length(size_t *units, const hollow_type *t,
                                           hollow_ordinal o, size_t field);

/**
 * Any field as a hollow_value (STRING in its stored form in u.bytes).
 * @return 0; HOLLOW_NULL (out->is_null set); errors as above.
 */
HOLLOW_API int hollow_object_value(hollow_value *out, const hollow_type *t,
                                   hollow_ordinal o, size_t field);

/* --------------------------------------------------------------- cursors */

/*
 * A cursor walks the populated ordinals of one type, shard by shard, and
 * reads fields of OBJECT records through columns bound once. The field's
 * kind is checked when a column is bound, the shard's field layout is
 * looked up once per shard, and the per-record accessors are inline: a
 * scan of a few fields costs a few nanoseconds per record, where the
 * checked hollow_object_*() calls re-check everything per call.
 *
 *     hollow_cursor c;
 *     unsigned year, title;
 *     if (hollow_cursor_init(&c, movie) < 0 ||
 *         hollow_cursor_column(&year, &c, year_f, HOLLOW_FIELD_INT) < 0 ||
 *         hollow_cursor_column(&title, &c, title_f, HOLLOW_FIELD_STRING) < 0)
 *         ...;
 *     while (hollow_cursor_next(&c)) {
 *         int32_t y;
 *         size_t units;
 *         if (hollow_cursor_int(&y, &c, year) == HOLLOW_OK) ...
 *         if (hollow_cursor_string_length(&units, &c, title) == HOLLOW_OK) ...
 *     }
 *
 * Order: every populated ordinal exactly once, shard 0's in ascending
 * order, then shard 1's, and so on; with one shard that is ascending
 * ordinal order. c.ordinal is the current record's ordinal: pass it to the
 * checked accessors (hollow_object_string(), collections) for anything the
 * cursor does not read itself.
 *
 * The var-length accessors (STRING, BYTES) take the cursor as non-const:
 * they remember the last end offset read, so that the next record's start
 * is not read again.
 *
 * The accessors return what the checked ones return: 0, HOLLOW_NULL (the
 * same null values in *out), HOLLOW_ECORRUPT for inconsistent var-length
 * offsets or values (a hostile blob), and HOLLOW_EINVAL for a column that
 * was not bound with that field type, or when there is no current record
 * (before the first hollow_cursor_next() or after it returned false).
 *
 * ABI: the struct is allocated by the caller (on the stack is fine) and its
 * layout is compiled into the caller by the inline accessors. Its fields
 * other than `ordinal` are private. hollow_cursor_init() passes
 * HOLLOW_CURSOR_VERSION and sizeof(hollow_cursor) to the library, which
 * refuses a layout it was not built with (HOLLOW_EVERSION): a program
 * compiled against another layout must be recompiled. The cursor owns
 * nothing and needs no free; it borrows the type (and its state), which
 * must stay held while the cursor is used.
 *
 * Threads: a cursor is used by one thread at a time; any number of cursors
 * may walk the same state at once.
 */

/* Private: the accessors are small once inlined; make sure they are. */
#if defined(__GNUC__)
#define HOLLOW_CURSOR_INLINE_ static inline __attribute__((always_inline))
#define HOLLOW_CURSOR_LIKELY_(x) __builtin_expect(!!(x), 1)
#else
#define HOLLOW_CURSOR_INLINE_ static inline
#define HOLLOW_CURSOR_LIKELY_(x) (x)
#endif

/** Layout version of hollow_cursor; changes whenever its layout does. */
#define HOLLOW_CURSOR_VERSION 2
/** Columns one cursor can bind. */
#define HOLLOW_CURSOR_MAX_COLUMNS 16

/** Private: one bound column, with the current shard's layout. */
typedef struct hollow_cursor_column_ {
    const uint8_t *var; /* var-length bytes of the field in the shard */
    uint64_t var_len;
    uint64_t mask;      /* the value's bits (var-length: the end offset's) */
    uint64_t null_bit;  /* var-length: the null flag; else 0 */
    uint64_t last_end;  /* var-length: end offset of slot last_slot */
    uint32_t last_slot; /* (UINT32_MAX: none yet in this shard) */
    uint32_t offset;    /* bit offset of the field in a record */
    uint32_t field;     /* index in the schema */
    uint8_t width;      /* bits */
    uint8_t type;       /* hollow_field_type */
    uint8_t ready;      /* type + 1: the accessor may read; see ok_ */
    uint8_t pad;
    uint32_t pad2[2];   /* 64 bytes: a column's address is a shift */
} hollow_cursor_column_;

/** A cursor over the records of one type; see above. */
typedef struct hollow_cursor {
    /** The current record (read-only), or HOLLOW_ORDINAL_NONE. */
    hollow_ordinal ordinal;
    /* private */
    uint32_t column_count_;
    const hollow_type *type_;
    const uint8_t *fixed_; /* the shard's records (never empty) */
    const uint64_t *pop_;  /* the shard's populated bits */
    uint64_t fixed_words_;
    uint64_t rec_bits_;
    uint64_t base_; /* bit position of the current record */
    uint64_t word_; /* bits of pop_[wi_] not visited yet */
    uint32_t wi_, pop_words_;
    uint32_t shard_, slot_;
    uint32_t shard_count_, shard_bits_;
    hollow_cursor_column_ col_[HOLLOW_CURSOR_MAX_COLUMNS];
} hollow_cursor;

/** Private: hollow_cursor_init() passes the layout it was compiled with. */
HOLLOW_API int hollow_cursor_init_abi_(hollow_cursor *c, const hollow_type *t,
                                       unsigned version, size_t size);
/** Private: the next word with a populated bit, or false at the end. */
HOLLOW_API bool hollow_cursor_advance_(hollow_cursor *c);
/**
 * Private: the answer of an accessor off its fast path: an error (sets
 * hollow_error_last()), or HOLLOW_NULL for a var-length field of width 0.
 */
HOLLOW_API int hollow_cursor_fail_(const hollow_cursor *c, unsigned col,
                                   hollow_field_type want, int what);

/**
 * Start a cursor over the populated ordinals of `t` (any kind; columns
 * only for OBJECT types). The cursor stands before the first record.
 * @return 0; HOLLOW_EINVAL if `c` or `t` is NULL; HOLLOW_EVERSION if the
 *         library was built with another cursor layout (the cursor's
 *         bytes are then not touched). After HOLLOW_EINVAL for a NULL `t`
 *         the cursor is empty: hollow_cursor_next() returns false.
 */
static inline int hollow_cursor_init(hollow_cursor *c, const hollow_type *t)
{
    return hollow_cursor_init_abi_(c, t, HOLLOW_CURSOR_VERSION, sizeof *c);
}

/**
 * Bind field `field` (its index in the type's schema) as a column read
 * with the accessor of `type`; *col receives the column number to pass to
 * the accessors. May be called at any time, also during a walk.
 * @return 0; HOLLOW_EINVAL if the type is not OBJECT, has no such field,
 *         the field is not of `type` (the message names both, as the
 *         checked accessors do), a pointer is NULL, or
 *         HOLLOW_CURSOR_MAX_COLUMNS are bound already.
 */
HOLLOW_API int hollow_cursor_column(unsigned *col, hollow_cursor *c,
                                    size_t field, hollow_field_type type);

/**
 * Move to the next populated record: true, with c->ordinal set; false at
 * the end (c->ordinal is then HOLLOW_ORDINAL_NONE, and later calls return
 * false again).
 */
HOLLOW_CURSOR_INLINE_ bool hollow_cursor_next(hollow_cursor *c)
{
    if (c->word_ == 0 && !hollow_cursor_advance_(c))
        return false;
#if defined(__GNUC__)
    uint32_t b = (uint32_t)__builtin_ctzll(c->word_);
#else
    uint32_t b = 0;
    while (!((c->word_ >> b) & 1))
        b++;
#endif
    c->word_ &= c->word_ - 1;
    c->slot_ = c->wi_ * 64 + b;
    c->base_ = (uint64_t)c->slot_ * c->rec_bits_;
    c->ordinal = (hollow_ordinal)((c->slot_ << c->shard_bits_) | c->shard_);
    return true;
}

/* Private: big-endian word i of w. */
HOLLOW_CURSOR_INLINE_ uint64_t hollow_cursor_word_(const uint8_t *w, uint64_t i)
{
    uint64_t v;
    memcpy(&v, w + i * 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/*
 * Private: the 64 bits of the current shard's records from bit p on.
 * Always reads two words (the second clamped to the last one) so that
 * whether a value spills into the next word costs no branch. The bits past
 * the records' end are garbage: callers mask.
 */
HOLLOW_CURSOR_INLINE_ uint64_t hollow_cursor_bits_(const hollow_cursor *c,
                                                   uint64_t p)
{
    uint64_t i = p >> 6, j, v;
    unsigned s = (unsigned)(p & 63);
    j = i + 1 < c->fixed_words_ ? i + 1 : i;
    v = hollow_cursor_word_(c->fixed_, i) >> s;
    v |= (hollow_cursor_word_(c->fixed_, j) << 1) << (~p & 63); /* 63 - s */
    return v;
}

/*
 * Private: the raw bits of column `col` of the current record; all ones
 * of the width is the null of INT, LONG, BOOLEAN and REFERENCE. A column
 * of width 0 reads bit 0 of the record under a mask of 0.
 */
HOLLOW_CURSOR_INLINE_ uint64_t hollow_cursor_raw_(const hollow_cursor *c,
                                                  unsigned col)
{
    const hollow_cursor_column_ *k = &c->col_[col];
    return hollow_cursor_bits_(c, c->base_ + k->offset) & k->mask;
}

/*
 * Private: whether column `col` may be read as `want` now: bound with that
 * type, and a current record (ready is 0 for unbound columns, while there
 * is no current record, and for var-length fields of width 0 in the
 * shard, all null, which hollow_cursor_fail_() answers).
 */
HOLLOW_CURSOR_INLINE_ bool
hollow_cursor_ok_(const hollow_cursor *c, unsigned col, hollow_field_type want)
{
    return HOLLOW_CURSOR_LIKELY_(col < HOLLOW_CURSOR_MAX_COLUMNS &&
                                 c->col_[col].ready == (uint8_t)(want + 1));
}

/** An INT column (as hollow_object_int()). */
HOLLOW_CURSOR_INLINE_ int
hollow_cursor_int(int32_t *out, const hollow_cursor *c, unsigned col)
{
    uint64_t raw;
    if (!hollow_cursor_ok_(c, col, HOLLOW_FIELD_INT))
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_INT, 0);
    raw = hollow_cursor_raw_(c, col);
    if (raw == c->col_[col].mask) {
        *out = INT32_MIN;
        return HOLLOW_NULL;
    }
    *out = (int32_t)(((uint32_t)raw >> 1) ^ (0u - ((uint32_t)raw & 1)));
    return 0;
}

/** A LONG column (as hollow_object_long()). */
HOLLOW_CURSOR_INLINE_ int
hollow_cursor_long(int64_t *out, const hollow_cursor *c, unsigned col)
{
    uint64_t raw;
    if (!hollow_cursor_ok_(c, col, HOLLOW_FIELD_LONG))
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_LONG, 0);
    raw = hollow_cursor_raw_(c, col);
    if (raw == c->col_[col].mask) {
        *out = INT64_MIN;
        return HOLLOW_NULL;
    }
    *out = (int64_t)((raw >> 1) ^ (0 - (raw & 1)));
    return 0;
}

/** A FLOAT column (as hollow_object_float()). */
HOLLOW_CURSOR_INLINE_ int
hollow_cursor_float(float *out, const hollow_cursor *c, unsigned col)
{
    uint32_t bits;
    if (!hollow_cursor_ok_(c, col, HOLLOW_FIELD_FLOAT))
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_FLOAT, 0);
    bits = (uint32_t)hollow_cursor_raw_(c, col);
    if (c->col_[col].width > 0 && bits == 0x7FC00001u) { /* §6.1 null */
        bits = 0x7FC00000u;                              /* NaN */
        memcpy(out, &bits, 4);
        return HOLLOW_NULL;
    }
    memcpy(out, &bits, 4);
    return 0;
}

/** A DOUBLE column (as hollow_object_double()). */
HOLLOW_CURSOR_INLINE_ int
hollow_cursor_double(double *out, const hollow_cursor *c, unsigned col)
{
    uint64_t raw;
    if (!hollow_cursor_ok_(c, col, HOLLOW_FIELD_DOUBLE))
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_DOUBLE, 0);
    raw = hollow_cursor_raw_(c, col);
    if (c->col_[col].width > 0 && raw == 0x7FF8000000000001ull) {
        raw = 0x7FF8000000000000ull;
        memcpy(out, &raw, 8);
        return HOLLOW_NULL;
    }
    memcpy(out, &raw, 8);
    return 0;
}

/** A BOOLEAN column (as hollow_object_bool()). */
HOLLOW_CURSOR_INLINE_ int hollow_cursor_bool(bool *out, const hollow_cursor *c,
                                             unsigned col)
{
    uint64_t raw;
    if (!hollow_cursor_ok_(c, col, HOLLOW_FIELD_BOOLEAN))
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_BOOLEAN, 0);
    raw = hollow_cursor_raw_(c, col);
    if (raw == c->col_[col].mask) {
        *out = false;
        return HOLLOW_NULL;
    }
    if (raw > 1)
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_BOOLEAN, 1);
    *out = raw == 1;
    return 0;
}

/** A REFERENCE column (as hollow_object_ref()). */
HOLLOW_CURSOR_INLINE_ int
hollow_cursor_ref(hollow_ordinal *out, const hollow_cursor *c, unsigned col)
{
    uint64_t raw;
    if (!hollow_cursor_ok_(c, col, HOLLOW_FIELD_REFERENCE))
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_REFERENCE, 0);
    raw = hollow_cursor_raw_(c, col);
    if (raw == c->col_[col].mask) {
        *out = HOLLOW_ORDINAL_NONE;
        return HOLLOW_NULL;
    }
    if (raw > INT32_MAX)
        return hollow_cursor_fail_(c, col, HOLLOW_FIELD_REFERENCE, 1);
    *out = (hollow_ordinal)raw;
    return 0;
}

/*
 * Private: the stored bytes of var-length column `col` (§6.4), from the
 * end offsets of the slot and the slot before; the latter is remembered
 * from the previous record when it was that slot (a walk over consecutive
 * records reads one offset per record).
 */
HOLLOW_CURSOR_INLINE_ int hollow_cursor_var_(hollow_bytes *out,
                                             hollow_cursor *c, unsigned col,
                                             hollow_field_type want)
{
    hollow_cursor_column_ *k;
    uint64_t raw, end, start;
    out->ptr = NULL;
    out->len = 0;
    if (!hollow_cursor_ok_(c, col, want))
        return hollow_cursor_fail_(c, col, want, 0);
    k = &c->col_[col];
    raw = hollow_cursor_bits_(c, c->base_ + k->offset);
    end = raw & k->mask;
    if (HOLLOW_CURSOR_LIKELY_(k->last_slot + 1 == c->slot_)) {
        /* the previous slot; also slot 0 of a fresh shard */
        start = k->last_end;            /* checked: <= var_len */
    } else if (c->slot_ == 0) {
        start = 0;
    } else {
        start = hollow_cursor_bits_(c, c->base_ - c->rec_bits_ + k->offset) &
                k->mask;
        if (start > k->var_len)
            return hollow_cursor_fail_(c, col, want, 1);
    }
    /* start <= var_len < 2^63: one compare for start <= end <= var_len */
    if (!HOLLOW_CURSOR_LIKELY_(end - start <= k->var_len - start))
        return hollow_cursor_fail_(c, col, want, 1);
    k->last_slot = c->slot_;
    k->last_end = end;
    if (raw & k->null_bit)
        return HOLLOW_NULL;
    out->ptr = k->var + start;
    out->len = (size_t)(end - start);
    return 0;
}

/** A BYTES column as a borrowed view (as hollow_object_bytes()). */
HOLLOW_CURSOR_INLINE_ int hollow_cursor_bytes(hollow_bytes *out,
                                              hollow_cursor *c, unsigned col)
{
    return hollow_cursor_var_(out, c, col, HOLLOW_FIELD_BYTES);
}

/** A STRING column in its stored form (as hollow_object_string_raw()). */
HOLLOW_CURSOR_INLINE_ int
hollow_cursor_string_raw(hollow_bytes *out, hollow_cursor *c, unsigned col)
{
    return hollow_cursor_var_(out, c, col, HOLLOW_FIELD_STRING);
}

/*
 * Private: UTF-16 code units of stored string bytes p[0, n): the bytes
 * below 0x80, each the last of one unit's varint (§6.4). Counts 8 bytes at
 * a time; the last 32 or fewer with no branch on the length (a branch that
 * varies from string to string is mispredicted half of the time): four
 * words, each masked by a window of 0xFF bytes that ends at n. When no
 * byte under the window has its high bit set (ASCII, the common case;
 * tested 16 bytes at a time with SSE2) that is one unit per byte. Reads up
 * to 31 bytes past p + n when they lie before `end` (the buffer's end),
 * else counts bytewise.
 */
HOLLOW_CURSOR_INLINE_ size_t hollow_cursor_units_(const uint8_t *p, size_t n,
                                                  const uint8_t *end)
{
    static const uint8_t
        window[64] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF}; /* then 32 zeros */
    const uint64_t hi = 0x8080808080808080ull, ones = 0x0101010101010101ull;
    const uint8_t *w;
    size_t k = 0;
    uint64_t x, m, sum;
#if defined(__SSE2__)
    if (n <= 32 && (size_t)(end - p) >= 32) { /* the common case, at once */
        __m128i a, b;
        w = window + 32 - n;
        a = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
                          _mm_loadu_si128((const __m128i *)(const void *)w));
        b = _mm_and_si128(
            _mm_loadu_si128((const __m128i *)(const void *)(p + 16)),
            _mm_loadu_si128((const __m128i *)(const void *)(w + 16)));
        if (_mm_movemask_epi8(_mm_or_si128(a, b)) == 0)
            return n; /* all ASCII: one unit per byte */
    }
#endif
    for (; n > 32; p += 8, n -= 8) {
        memcpy(&x, p, 8);
        k += (size_t)((((~x & hi) >> 7) * ones) >> 56);
    }
    if ((size_t)(end - p) < 32) {
        for (; n > 0; p++, n--)
            k += *p < 0x80;
        return k;
    }
    w = window + 32 - n; /* n bytes of 0xFF, then zeros */
    {
        uint64_t a, b, d, e, ma, mb, md, me;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        memcpy(&d, p + 16, 8);
        memcpy(&e, p + 24, 8);
        memcpy(&ma, w, 8);
        memcpy(&mb, w + 8, 8);
        memcpy(&md, w + 16, 8);
        memcpy(&me, w + 24, 8);
        if ((((a & ma) | (b & mb) | (d & md) | (e & me)) & hi) == 0)
            return k + n; /* all ASCII: one unit per byte */
    }
    memcpy(&x, p, 8);
    memcpy(&m, w, 8);
    sum = ((~x & hi) >> 7) & m;
    memcpy(&x, p + 8, 8);
    memcpy(&m, w + 8, 8);
    sum += ((~x & hi) >> 7) & m;
    memcpy(&x, p + 16, 8);
    memcpy(&m, w + 16, 8);
    sum += ((~x & hi) >> 7) & m;
    memcpy(&x, p + 24, 8);
    memcpy(&m, w + 24, 8);
    sum += ((~x & hi) >> 7) & m;
    return k + (size_t)((sum * ones) >> 56); /* each byte of sum <= 4 */
}

/**
 * The length of a STRING column in UTF-16 code units (as
 * hollow_object_string_length()), without decoding it.
 */
HOLLOW_CURSOR_INLINE_ int
hollow_cursor_string_length(size_t *units, hollow_cursor *c, unsigned col)
{
    hollow_bytes v;
    int rc = hollow_cursor_var_(&v, c, col, HOLLOW_FIELD_STRING);
    *units = 0;
    if (rc != 0)
        return rc;
    *units = hollow_cursor_units_(v.ptr, v.len,
                                  c->col_[col].var + c->col_[col].var_len);
    return 0;
}

/* ----------------------------------------------------------- collections */

/** Number of elements of LIST record `o`. @return 0; errors as above
 * (HOLLOW_EINVAL if `t` is not a LIST). */
HOLLOW_API int hollow_list_size(uint32_t *out, const hollow_type *t,
                                hollow_ordinal o);
/** Element `i` of LIST record `o`. @return 0; HOLLOW_ENOTFOUND if i >= size. */
HOLLOW_API int hollow_list_get(hollow_ordinal *out, const hollow_type *t,
                               hollow_ordinal o, uint32_t i);

/** Number of elements of SET record `o`. @return 0; errors as above
 * (HOLLOW_EINVAL if `t` is not a SET). */
HOLLOW_API int hollow_set_size(uint32_t *out, const hollow_type *t,
                               hollow_ordinal o);
/** Number of entries of MAP record `o`. @return 0; errors as above
 * (HOLLOW_EINVAL if `t` is not a MAP). */
HOLLOW_API int hollow_map_size(uint32_t *out, const hollow_type *t,
                               hollow_ordinal o);

/**
 * Iterator over the buckets of a SET or MAP record, in bucket order (the
 * order Java users observe, §8.3). Fields are private.
 */
typedef struct hollow_iter {
    const void *shard_;
    uint64_t pos_;
    uint64_t end_;
} hollow_iter;

/** Start iterating SET record `o`. @return 0; errors as above. */
HOLLOW_API int hollow_set_iter_init(hollow_iter *it, const hollow_type *t,
                                    hollow_ordinal o);
/** Next element; false at the end (or if `it` or `elem` is NULL). */
HOLLOW_API bool hollow_set_iter_next(hollow_iter *it, hollow_ordinal *elem);
/** Start iterating MAP record `o`. */
HOLLOW_API int hollow_map_iter_init(hollow_iter *it, const hollow_type *t,
                                    hollow_ordinal o);
/** Next entry; false at the end (or for a NULL argument). */
HOLLOW_API bool hollow_map_iter_next(hollow_iter *it, hollow_ordinal *key,
                                     hollow_ordinal *value);

/**
 * Whether SET record `o` holds element ordinal `elem`, found through the
 * hash table (§8.3): probing from hashInt(elem), or from the element's
 * hash-key hash when the set has a @HashKey.
 * @return 0 (then *out says); errors as above.
 */
HOLLOW_API int hollow_set_contains(bool *out, const hollow_type *t,
                                   hollow_ordinal o, hollow_ordinal elem);

/**
 * The value of key ordinal `key` in MAP record `o`, through the hash table.
 * @return 0; HOLLOW_ENOTFOUND if absent.
 */
HOLLOW_API int hollow_map_get(hollow_ordinal *value, const hollow_type *t,
                              hollow_ordinal o, hollow_ordinal key);

/**
 * Find the element of a hash-keyed SET record whose key fields equal
 * `keys` (one value per key path of the set's @HashKey, in order; STRING
 * probes as UTF-8 in u.str), through the hash table (§11.5).
 * @return 0; HOLLOW_ENOTFOUND if absent; HOLLOW_EINVAL if the set has no
 *         hash key or the values do not match the key's field types.
 */
HOLLOW_API int hollow_set_find(hollow_ordinal *elem, const hollow_type *t,
                               hollow_ordinal o, const hollow_value *keys,
                               size_t key_count);

/** As hollow_set_find() for a hash-keyed MAP: the entry whose key matches. */
HOLLOW_API int hollow_map_find(hollow_ordinal *key, hollow_ordinal *value,
                               const hollow_type *t, hollow_ordinal o,
                               const hollow_value *keys, size_t key_count);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_READ_H */
