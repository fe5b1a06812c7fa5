/*
 * Canonical schema text and the schema hash (blob-format.md §4.3, §11.7).
 *
 * The canonical text is what Java's HollowSchema.toString() prints; it is
 * both the format of schema.hollow files and the input of the schema hash,
 * so it must match Java byte for byte:
 *
 *   Movie @PrimaryKey(id, title.value) {\n\tint id;\n\tString title;\n}
 *   ListOfActor List<Actor>;
 *   SetOfActor Set<Actor> @HashKey(name, birthYear);
 *   MapOfStringToInteger Map<String,Integer> @HashKey(value);
 *
 * One writer, emit(), produces the text into a sink that either fills a
 * caller's fixed buffer snprintf-style (hollow_schema_print, which cannot
 * fail) or appends to a growable hollow__buf (lists, hash).
 */
#include "schema/schema_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/text.h"

/* Where emit() writes: `b` if set, else buf[0..cap) with truncation. */
typedef struct sink {
    hollow__buf *b;
    char *buf;
    size_t cap;
    size_t len; /* full length written so far, even past cap */
} sink;

static void put(sink *k, const char *s, size_t n)
{
    if (k->b != NULL) {
        hollow__buf_put(k->b, s, n);
    } else if (k->len + 1 < k->cap) {
        size_t room = k->cap - 1 - k->len;
        memcpy(k->buf + k->len, s, n < room ? n : room);
    }
    k->len += n;
}

static void put_str(sink *k, const char *s) { put(k, s, strlen(s)); }

/* the lower-case primitive words of the text language (§4.3) */
static const char *field_word(const hollow__field *f)
{
    switch (f->type) {
    case HOLLOW_FIELD_INT: return "int";
    case HOLLOW_FIELD_LONG: return "long";
    case HOLLOW_FIELD_FLOAT: return "float";
    case HOLLOW_FIELD_DOUBLE: return "double";
    case HOLLOW_FIELD_BOOLEAN: return "boolean";
    case HOLLOW_FIELD_STRING: return "string";
    case HOLLOW_FIELD_BYTES: return "bytes";
    case HOLLOW_FIELD_REFERENCE: break;
    }
    return f->ref_type;
}

/* " @PrimaryKey(a, b)" / " @HashKey(a, b)", nothing without a key */
static void emit_key(sink *k, const char *annotation, const hollow_schema *s)
{
    if (s->key_count == 0)
        return;
    put_str(k, annotation);
    for (size_t i = 0; i < s->key_count; i++) {
        if (i > 0)
            put_str(k, ", ");
        put_str(k, s->key_paths[i]);
    }
    put_str(k, ")");
}

static void emit(sink *k, const hollow_schema *s)
{
    put_str(k, s->name);
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        emit_key(k, " @PrimaryKey(", s);
        put_str(k, " {\n");
        for (size_t i = 0; i < s->field_count; i++) {
            put_str(k, "\t");
            put_str(k, field_word(&s->fields[i]));
            put_str(k, " ");
            put_str(k, s->fields[i].name);
            put_str(k, ";\n");
        }
        put_str(k, "}");
        break;
    case HOLLOW_SCHEMA_LIST:
        put_str(k, " List<");
        put_str(k, s->elem_type);
        put_str(k, ">;");
        break;
    case HOLLOW_SCHEMA_SET:
        put_str(k, " Set<");
        put_str(k, s->elem_type);
        put_str(k, ">");
        emit_key(k, " @HashKey(", s);
        put_str(k, ";");
        break;
    case HOLLOW_SCHEMA_MAP:
        put_str(k, " Map<");
        put_str(k, s->elem_type);
        put_str(k, ",");
        put_str(k, s->value_type);
        put_str(k, ">");
        emit_key(k, " @HashKey(", s);
        put_str(k, ";");
        break;
    }
}

size_t hollow_schema_print(char *buf, size_t cap, const hollow_schema *s)
{
    if (buf == NULL)
        cap = 0; /* length only, as snprintf(NULL, 0, ...) */
    if (s == NULL) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    sink k = {NULL, buf, cap, 0};
    emit(&k, s);
    if (cap > 0)
        buf[k.len < cap ? k.len : cap - 1] = '\0';
    return k.len;
}

int hollow_schema_list_print(char **out, const hollow_schema_list *l)
{
    if (out == NULL || l == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "out or list is NULL");
    *out = NULL;
    hollow__buf b = HOLLOW__BUF_INIT;
    sink k = {&b, NULL, 0, 0};
    /* Each schema is followed by a blank line, the last one too: that is
     * the layout of the golden vectors' schema.hollow files. */
    for (size_t i = 0; i < l->count; i++) {
        emit(&k, l->items[i]);
        put_str(&k, "\n\n");
    }
    if (hollow__buf_cstr(&b) == NULL) {
        hollow__buf_free(&b);
        return hollow__error_oom();
    }
    *out = (char *)hollow__buf_detach(&b, NULL);
    return 0;
}

/* ---------------------------------------------------------------- hash */

static int by_name(const void *a, const void *b)
{
    const hollow_schema *sa = *(const hollow_schema *const *)a;
    const hollow_schema *sb = *(const hollow_schema *const *)b;
    return hollow__schema_name_cmp(sa->name, sb->name);
}

/*
 * §11.7: sort by name (UTF-16 order), concatenate the canonical texts, and
 * take the Hollow string hash (§11.4) of the result, which is the murmur
 * hash of the string encoded as one vint per UTF-16 code unit.
 */
int hollow_schema_list_hash(int32_t *out, const hollow_schema_list *l)
{
    int rc = 0;
    const hollow_schema **sorted = NULL;
    uint16_t *units = NULL;
    hollow__buf text = HOLLOW__BUF_INIT, enc = HOLLOW__BUF_INIT;
    sink k = {&text, NULL, 0, 0};
    long n;

    if (out == NULL || l == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "out or list is NULL");
    if (l->count > 0) {
        sorted = hollow__mallocarray(l->count, sizeof *sorted);
        if (sorted == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
        memcpy(sorted, l->items, l->count * sizeof *sorted);
        qsort(sorted, l->count, sizeof *sorted, by_name);
    }
    for (size_t i = 0; i < l->count; i++)
        emit(&k, sorted[i]);
    if ((rc = hollow__buf_check(&text)) < 0)
        goto done;

    /* a UTF-8 string never has more UTF-16 units than bytes */
    units = hollow__mallocarray(text.len + 1, sizeof *units);
    if (units == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    n = hollow__utf8_to_utf16(units, (const char *)text.ptr, text.len);
    if (n < 0) { /* unreachable: every name passed hollow__schema_name_ok */
        rc = hollow__error_set(HOLLOW_EINVAL, "schema text is not UTF-8");
        goto done;
    }
    for (long i = 0; i < n; i++)
        hollow__buf_vint(&enc, units[i]);
    if ((rc = hollow__buf_check(&enc)) < 0)
        goto done;
    *out = (int32_t)hollow__murmur(enc.ptr != NULL ? enc.ptr
                                                   : (const uint8_t *)"",
                                   enc.len);
done:
    hollow__free(sorted);
    hollow__free(units);
    hollow__buf_free(&text);
    hollow__buf_free(&enc);
    return rc;
}
