/*
 * Cursors (read.h): the out-of-line half. Binding a column checks the
 * field once; moving to a shard copies the shard's layout of every bound
 * column into the cursor, so that the inline accessors only decode.
 */
#include <string.h>

#include "access.h"
#include "common/error.h"

_Static_assert(sizeof(hollow_cursor_column_) == 64, "columns of 64 bytes");

/* Read by the accessors in place of a shard without records. */
static const uint8_t no_records[8];

static uint64_t ones(unsigned w)
{
    return w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
}

static bool is_var(const hollow_cursor_column_ *k)
{
    return k->type == HOLLOW_FIELD_STRING || k->type == HOLLOW_FIELD_BYTES;
}

/* Let the accessor of column k read, or send it to hollow_cursor_fail_. */
static void set_column_ready(hollow_cursor_column_ *k, bool current)
{
    bool all_null = is_var(k) && k->width == 0;
    k->ready = current && !all_null ? (uint8_t)(k->type + 1) : 0;
}

/* The layout of a column's field in shard `sh` (no slots: no arrays). */
static void load_column(hollow_cursor_column_ *k, const hollow__shard *sh,
                        bool current)
{
    size_t f = k->field;
    bool var = is_var(k);
    k->offset = sh->offsets != NULL ? sh->offsets[f] : 0;
    k->width = sh->widths != NULL ? sh->widths[f] : 0;
    k->var = sh->var != NULL ? sh->var[f] : NULL;
    k->var_len = sh->var_len != NULL ? sh->var_len[f] : 0;
    k->last_slot = UINT32_MAX;
    k->last_end = 0;
    if (k->width == 0)
        k->offset = 0; /* read under a mask of 0; bit 0 is in bounds */
    k->mask = var ? ones(k->width > 0 ? k->width - 1u : 0) : ones(k->width);
    k->null_bit = var && k->width > 0 ? (uint64_t)1 << (k->width - 1u) : 0;
    set_column_ready(k, current);
}

/* Let the accessors read (a current record) or not. */
static void set_ready(hollow_cursor *c, bool ready)
{
    for (uint32_t k = 0; k < c->column_count_; k++)
        set_column_ready(&c->col_[k], ready);
}

/* Point the cursor at shard `s` (its populated bits and columns). */
static void enter_shard(hollow_cursor *c, uint32_t s)
{
    const hollow__shard *sh = c->type_->shards[s];
    c->shard_ = s;
    c->pop_ = sh->populated;
    c->pop_words_ = sh->pop_words;
    c->wi_ = UINT32_MAX; /* before word 0: hollow_cursor_advance_ loads it */
    c->word_ = 0;
    c->fixed_ = sh->fixed_words > 0 ? sh->fixed : no_records;
    c->fixed_words_ = sh->fixed_words > 0 ? sh->fixed_words : 1;
    c->rec_bits_ = sh->rec_bits;
    for (uint32_t k = 0; k < c->column_count_; k++)
        load_column(&c->col_[k], sh, c->ordinal >= 0);
}

static void set_empty(hollow_cursor *c)
{
    memset(c, 0, sizeof *c);
    c->ordinal = HOLLOW_ORDINAL_NONE;
}

int hollow_cursor_init_abi_(hollow_cursor *c, const hollow_type *t,
                            unsigned version, size_t size)
{
    HOLLOW__ARG_NOT_NULL(c);
    if (version != HOLLOW_CURSOR_VERSION || size != sizeof *c) {
        /* another layout: touch none of the caller's bytes */
        return hollow__error_set(HOLLOW_EVERSION,
                                 "cursor layout %u of %zu bytes; the library "
                                 "has layout %u of %zu bytes: recompile",
                                 version, size, (unsigned)HOLLOW_CURSOR_VERSION,
                                 sizeof *c);
    }
    set_empty(c);
    HOLLOW__ARG_NOT_NULL(t);
    c->type_ = t;
    c->shard_count_ = t->shard_count;
    c->shard_bits_ = t->shard_bits;
    if (t->shard_count > 0)
        enter_shard(c, 0);
    return 0;
}

bool hollow_cursor_advance_(hollow_cursor *c)
{
    if (c->type_ == NULL) {
        c->ordinal = HOLLOW_ORDINAL_NONE;
        return false;
    }
    for (;;) {
        if (c->word_ != 0) {
            if (c->ordinal < 0) /* the first record */
                set_ready(c, true);
            return true;
        }
        if (c->wi_ + 1 < c->pop_words_) {
            c->word_ = c->pop_[++c->wi_];
            continue;
        }
        if (c->shard_ + 1 >= c->shard_count_) {
            c->ordinal = HOLLOW_ORDINAL_NONE;
            set_ready(c, false);
            c->wi_ = c->pop_words_; /* stays at the end */
            return false;
        }
        enter_shard(c, c->shard_ + 1);
    }
}

int hollow_cursor_column(unsigned *col, hollow_cursor *c, size_t field,
                         hollow_field_type type)
{
    HOLLOW__ARG_NOT_NULL(col);
    HOLLOW__ARG_NOT_NULL(c);
    if (c->type_ == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "cursor was not initialized");
    int rc = hollow__schema_check_field(c->type_->schema, field, type);
    if (rc < 0)
        return rc;
    if (c->column_count_ >= HOLLOW_CURSOR_MAX_COLUMNS)
        return hollow__error_set(
            HOLLOW_EINVAL, "cursor on %s has %d columns already",
            c->type_->schema->name, HOLLOW_CURSOR_MAX_COLUMNS);
    hollow_cursor_column_ *k = &c->col_[c->column_count_];
    memset(k, 0, sizeof *k);
    k->field = (uint32_t)field;
    k->type = (uint8_t)type;
    k->last_slot = UINT32_MAX;
    if (c->shard_ < c->shard_count_)
        load_column(k, c->type_->shards[c->shard_], c->ordinal >= 0);
    *col = c->column_count_++;
    return 0;
}

int hollow_cursor_fail_(const hollow_cursor *c, unsigned col,
                        hollow_field_type want, int what)
{
    HOLLOW__ARG_NOT_NULL(c);
    const char *tname = c->type_ != NULL ? c->type_->schema->name : "(none)";
    if (col >= c->column_count_)
        return hollow__error_set(HOLLOW_EINVAL, "cursor on %s has no column %u",
                                 tname, col);
    const hollow_cursor_column_ *k = &c->col_[col];
    const char *fname = c->type_->schema->fields[k->field].name;
    if (k->type != (uint8_t)want)
        return hollow__error_set(
            HOLLOW_EINVAL, "column %u (%s.%s) is %s, not %s", col, tname, fname,
            hollow_field_type_name(k->type), hollow_field_type_name(want));
    if (c->ordinal < 0)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "cursor on %s has no current record", tname);
    if (what == 0 && is_var(k) && k->width == 0)
        return HOLLOW_NULL; /* the field is null in every record here */
    if (what == 1 &&
        (want == HOLLOW_FIELD_STRING || want == HOLLOW_FIELD_BYTES))
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "type %s field %s: var-length offsets of "
                                 "ordinal %d outside buffer of %llu bytes",
                                 tname, fname, (int)c->ordinal,
                                 (unsigned long long)k->var_len);
    return hollow__error_set(HOLLOW_ECORRUPT,
                             "type %s ordinal %d: %s value of field %s out of "
                             "range",
                             tname, (int)c->ordinal,
                             hollow_field_type_name(want), fname);
}
