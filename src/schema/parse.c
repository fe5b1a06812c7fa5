/*
 * The textual schema language (blob-format.md §4.3), parsed as Java's
 * HollowSchemaParser does:
 *
 *   object-decl := NAME [ '@PrimaryKey' '(' [ PATH { ',' PATH } ] ')' ]
 *                  '{' { FIELDTYPE NAME ';' } '}'
 *   list-decl   := NAME 'List' '<' NAME '>' ';'
 *   set-decl    := NAME 'Set' '<' NAME '>' [ '@HashKey' '(' ... ')' ] ';'
 *   map-decl    := NAME 'Map' '<' NAME ',' NAME '>' [ '@HashKey' ... ] ';'
 *
 * Tokens (Java's StreamTokenizer as configured by Hollow): a word starts
 * with a letter, '_', U+00A0..U+00FF or any character >= U+0100, and goes
 * on with those plus digits, '.' and '-'; characters <= U+0020 are
 * whitespace; `//` and `/ * ... * /` are comments; every other character is
 * a token of its own. Before a declaration, everything up to the first word
 * is skipped. Primitive field types are the lower-case words int, long,
 * float, double, boolean, string, bytes; any other word is a REFERENCE.
 * `List`, `Set` and `Map` are keywords only as the second word of a
 * declaration, so they remain usable as names elsewhere.
 *
 * Two deliberate differences from Java, both on input Java would treat
 * oddly: an unterminated block comment is an error (Java silently ends the
 * file there, dropping any declarations inside it), and a lone '/' is a
 * stray character (Java starts a line comment). Java's quoted-string
 * tokens are not recognised; a quote is a stray character.
 *
 * The input is len-bounded UTF-8, not NUL-terminated, and untrusted (the
 * parser is fuzzed): every byte is read through decode(), which checks the
 * bounds and rejects malformed UTF-8. Errors carry the 1-based line and
 * column (in characters) of the offending token: "line 3:14: expected ';',
 * found '}'". A line ends at LF, CR or CRLF.
 */
#include "schema/schema_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"

enum { TK_EOF, TK_WORD, TK_CHAR };

typedef struct token {
    int kind;
    uint32_t ch;      /* TK_CHAR: the code point */
    size_t off, len;  /* TK_WORD: its bytes in the input */
    size_t line, col; /* where it starts, 1-based */
} token;

typedef struct parser {
    const uint8_t *p;
    size_t len;
    size_t pos;       /* next byte to read */
    size_t line, col; /* position of p[pos] */
    token tok;        /* the current token */
    hollow_schema_list *list;
    size_t *decl_pos;  /* line and column of list item i's name: 2i, 2i+1 */
    size_t decl_cap;
} parser;

/* ------------------------------------------------------------ errors */

/* Copy at most ~40 bytes of s[0..n) into dst, cut at a character boundary,
 * with "..." when clipped; names in messages stay short. */
static const char *clip(char *dst, size_t cap, const char *s, size_t n)
{
    size_t max = cap - 4;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        snprintf(dst, cap, "%.*s...", (int)n, s);
    } else {
        snprintf(dst, cap, "%.*s", (int)n, s);
    }
    return dst;
}

static int error_at(int code, size_t line, size_t col, const char *fmt,
                    va_list ap) HOLLOW__PRINTF(4, 0);

static int error_at(int code, size_t line, size_t col, const char *fmt,
                    va_list ap)
{
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return hollow__error_set(code, "line %zu:%zu: %s", line, col, msg);
}

/* an error at (line, col) */
static int fail_at(int code, size_t line, size_t col, const char *fmt, ...)
    HOLLOW__PRINTF(4, 5);

static int fail_at(int code, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = error_at(code, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

/* "line L:C: <what>, found <current token>" at the current token */
static int syntax(const parser *ps, const char *fmt, ...) HOLLOW__PRINTF(2, 3);

static int syntax(const parser *ps, const char *fmt, ...)
{
    char what[300], found[64];
    const token *t = &ps->tok;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (t->kind == TK_EOF) {
        snprintf(found, sizeof found, "end of input");
    } else if (t->kind == TK_WORD) {
        char w[48];
        snprintf(found, sizeof found, "'%s'",
                 clip(w, sizeof w, (const char *)ps->p + t->off, t->len));
    } else if (t->ch > 0x20 && t->ch < 0x7F) {
        snprintf(found, sizeof found, "'%c'", (char)t->ch);
    } else {
        snprintf(found, sizeof found, "U+%04X", (unsigned)t->ch);
    }
    return fail_at(HOLLOW_EPARSE, t->line, t->col, "%s, found %s", what,
                   found);
}

/* ------------------------------------------------------------- lexer */

/*
 * Decode the character at p[at] as strict UTF-8 (no overlongs, surrogates
 * or values above U+10FFFF). Returns its length in bytes, 0 if malformed
 * or truncated by the end of the input.
 */
static size_t decode(const parser *ps, size_t at, uint32_t *cp)
{
    const uint8_t *s = ps->p + at;
    size_t left = ps->len - at;
    uint8_t b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t n;
    uint32_t c, lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return n;
}

/* step over the character at pos (n bytes, code point cp) */
static void advance(parser *ps, size_t n, uint32_t cp)
{
    ps->pos += n;
    if (cp == '\n' ||
        (cp == '\r' && !(ps->pos < ps->len && ps->p[ps->pos] == '\n'))) {
        ps->line++;
        ps->col = 1;
    } else {
        ps->col++;
    }
}

/* the character at pos, or an EPARSE error if it is not UTF-8 */
static int peek(const parser *ps, uint32_t *cp, size_t *n)
{
    if ((*n = decode(ps, ps->pos, cp)) == 0)
        return fail_at(HOLLOW_EPARSE, ps->line, ps->col, "invalid UTF-8");
    return 0;
}

static bool word_start(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0xA0;
}

static bool word_part(uint32_t c)
{
    return word_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static bool next_is(const parser *ps, uint8_t c)
{
    return ps->pos + 1 < ps->len && ps->p[ps->pos + 1] == c;
}

/* Read the next token into ps->tok, skipping whitespace and comments. */
static int next(parser *ps)
{
    token *t = &ps->tok;
    uint32_t cp;
    size_t n;
    for (;;) {
        t->line = ps->line;
        t->col = ps->col;
        if (ps->pos >= ps->len) {
            t->kind = TK_EOF;
            return 0;
        }
        HOLLOW_TRY(peek(ps, &cp, &n));
        if (cp <= 0x20) {
            advance(ps, n, cp);
        } else if (cp == '/' && next_is(ps, '/')) {
            while (ps->pos < ps->len) {
                HOLLOW_TRY(peek(ps, &cp, &n));
                if (cp == '\n' || cp == '\r')
                    break;
                advance(ps, n, cp);
            }
        } else if (cp == '/' && next_is(ps, '*')) {
            advance(ps, 1, '/');
            advance(ps, 1, '*');
            for (;;) {
                if (ps->pos >= ps->len)
                    return fail_at(HOLLOW_EPARSE, t->line, t->col,
                                   "unterminated comment");
                HOLLOW_TRY(peek(ps, &cp, &n));
                if (cp == '*' && next_is(ps, '/')) {
                    advance(ps, 1, '*');
                    advance(ps, 1, '/');
                    break;
                }
                advance(ps, n, cp);
            }
        } else if (word_start(cp)) {
            t->kind = TK_WORD;
            t->off = ps->pos;
            do {
                advance(ps, n, cp);
                if (ps->pos >= ps->len)
                    break;
                HOLLOW_TRY(peek(ps, &cp, &n));
            } while (word_part(cp));
            t->len = ps->pos - t->off;
            return 0;
        } else {
            t->kind = TK_CHAR;
            t->ch = cp;
            advance(ps, n, cp);
            return 0;
        }
    }
}

static bool is_char(const parser *ps, uint32_t c)
{
    return ps->tok.kind == TK_CHAR && ps->tok.ch == c;
}

static bool is_word(const parser *ps, const char *w)
{
    size_t n = strlen(w);
    return ps->tok.kind == TK_WORD && ps->tok.len == n &&
           memcmp(ps->p + ps->tok.off, w, n) == 0;
}

/* a copy of the current word token as a name */
static int word_dup(parser *ps, char **out)
{
    const token *t = &ps->tok;
    const char *w = (const char *)ps->p + t->off;
    if (!hollow__schema_name_ok(w, t->len))
        return fail_at(HOLLOW_EPARSE, t->line, t->col,
                       "name longer than 65535 bytes of modified UTF-8");
    *out = hollow__strndup(w, t->len);
    HOLLOW_CHECK_ALLOC(*out);
    return 0;
}

/* ------------------------------------------------------------ parser */

/*
 * The key list after `@PrimaryKey` / `@HashKey` (the current token):
 * '(' [ PATH { ',' PATH } ] ')'. An empty list means no key. Leaves the
 * ')' as the current token.
 */
static int parse_key(parser *ps, hollow_schema *s, const char *annotation)
{
    char **paths = NULL;
    size_t count = 0, cap = 0;
    int rc;

    if ((rc = next(ps)) < 0)
        goto done;
    if (!is_char(ps, '(')) {
        rc = syntax(ps, "expected '(' after '@%s'", annotation);
        goto done;
    }
    if ((rc = next(ps)) < 0)
        goto done;
    if (is_char(ps, ')'))
        goto done;
    for (;;) {
        if (ps->tok.kind != TK_WORD) {
            rc = syntax(ps, count == 0 ? "expected a key path or ')'"
                                       : "expected a key path");
            goto done;
        }
        if ((rc = hollow__grow(paths, cap, count + 1, 4)) < 0)
            goto done;
        if ((rc = word_dup(ps, &paths[count])) < 0)
            goto done;
        count++;
        if ((rc = next(ps)) < 0)
            goto done;
        if (is_char(ps, ')'))
            break;
        if (!is_char(ps, ',')) {
            rc = syntax(ps, "expected ',' or ')' in @%s", annotation);
            goto done;
        }
        if ((rc = next(ps)) < 0)
            goto done;
    }
    rc = hollow_schema_set_key(s, (const char *const *)paths, count);
done:
    for (size_t i = 0; i < count; i++)
        hollow__free(paths[i]);
    hollow__free(paths);
    return rc;
}

/* the field type of a field-type word: a primitive or a REFERENCE */
static hollow_field_type field_type_of(const parser *ps)
{
    static const struct {
        const char *word;
        hollow_field_type type;
    } prims[] = {
        {"int", HOLLOW_FIELD_INT},         {"long", HOLLOW_FIELD_LONG},
        {"float", HOLLOW_FIELD_FLOAT},     {"double", HOLLOW_FIELD_DOUBLE},
        {"boolean", HOLLOW_FIELD_BOOLEAN}, {"string", HOLLOW_FIELD_STRING},
        {"bytes", HOLLOW_FIELD_BYTES},
    };
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (is_word(ps, prims[i].word))
            return prims[i].type;
    return HOLLOW_FIELD_REFERENCE;
}

/* One field "TYPE NAME ;"; the current token is TYPE. */
static int parse_field(parser *ps, hollow_schema *s)
{
    char *type_word = NULL, *name = NULL;
    hollow_field_type type = field_type_of(ps);
    token name_tok;
    int rc;

    if ((rc = word_dup(ps, &type_word)) < 0 || (rc = next(ps)) < 0)
        goto done;
    if (ps->tok.kind != TK_WORD) {
        char w[48];
        rc = syntax(ps, "expected a field name after '%s'",
                    clip(w, sizeof w, type_word, strlen(type_word)));
        goto done;
    }
    name_tok = ps->tok;
    if ((rc = word_dup(ps, &name)) < 0)
        goto done;
    rc = hollow_schema_add_field(
        s, name, type, type == HOLLOW_FIELD_REFERENCE ? type_word : NULL);
    if (rc == HOLLOW_EEXISTS) {
        char w[48], t[48];
        rc = fail_at(HOLLOW_EEXISTS, name_tok.line, name_tok.col,
                     "field '%s' is already declared in type '%s'",
                     clip(w, sizeof w, name, strlen(name)),
                     clip(t, sizeof t, s->name, strlen(s->name)));
    }
    if (rc < 0 || (rc = next(ps)) < 0)
        goto done;
    if (!is_char(ps, ';')) {
        char w[48];
        rc = syntax(ps, "expected ';' after field '%s'",
                    clip(w, sizeof w, name, strlen(name)));
    }
done:
    hollow__free(type_word);
    hollow__free(name);
    return rc;
}

/* The rest of an OBJECT declaration; the current token is '@' or '{'. */
static int parse_object(parser *ps, hollow_schema **out, const char *name)
{
    hollow_schema *s = NULL;
    int rc;

    if ((rc = hollow_schema_object_new(&s, name)) < 0)
        goto done;
    if (is_char(ps, '@')) {
        if ((rc = next(ps)) < 0)
            goto done;
        if (!is_word(ps, "PrimaryKey")) {
            rc = syntax(ps, "expected 'PrimaryKey' after '@'");
            goto done;
        }
        if ((rc = parse_key(ps, s, "PrimaryKey")) < 0 || (rc = next(ps)) < 0)
            goto done;
        if (!is_char(ps, '{')) {
            rc = syntax(ps, "expected '{' after @PrimaryKey(...)");
            goto done;
        }
    }
    for (;;) {
        if ((rc = next(ps)) < 0)
            goto done;
        if (is_char(ps, '}'))
            break;
        if (ps->tok.kind != TK_WORD) {
            rc = syntax(ps, "expected a field type or '}'");
            goto done;
        }
        if ((rc = parse_field(ps, s)) < 0)
            goto done;
    }
done:
    if (rc < 0) {
        hollow_schema_free(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

/*
 * The rest of a LIST, SET or MAP declaration; the current token is the
 * keyword. `word` is that keyword, for messages.
 */
static int parse_collection(parser *ps, hollow_schema **out, const char *name,
                            hollow_schema_kind kind, const char *word)
{
    hollow_schema *s = NULL;
    char *elem = NULL, *value = NULL;
    int rc;

    if ((rc = next(ps)) < 0)
        goto done;
    if (!is_char(ps, '<')) {
        rc = syntax(ps, "expected '<' after '%s'", word);
        goto done;
    }
    if ((rc = next(ps)) < 0)
        goto done;
    if (ps->tok.kind != TK_WORD) {
        rc = syntax(ps, kind == HOLLOW_SCHEMA_MAP ? "expected a key type name"
                                                  : "expected an element type "
                                                    "name");
        goto done;
    }
    if ((rc = word_dup(ps, &elem)) < 0 || (rc = next(ps)) < 0)
        goto done;
    if (kind == HOLLOW_SCHEMA_MAP) {
        if (!is_char(ps, ',')) {
            rc = syntax(ps, "expected ',' after the map key type");
            goto done;
        }
        if ((rc = next(ps)) < 0)
            goto done;
        if (ps->tok.kind != TK_WORD) {
            rc = syntax(ps, "expected a value type name");
            goto done;
        }
        if ((rc = word_dup(ps, &value)) < 0 || (rc = next(ps)) < 0)
            goto done;
    }
    if (!is_char(ps, '>')) {
        rc = syntax(ps, "expected '>'");
        goto done;
    }
    if (kind == HOLLOW_SCHEMA_LIST)
        rc = hollow_schema_list_type_new(&s, name, elem);
    else if (kind == HOLLOW_SCHEMA_SET)
        rc = hollow_schema_set_type_new(&s, name, elem);
    else
        rc = hollow_schema_map_type_new(&s, name, elem, value);
    if (rc < 0 || (rc = next(ps)) < 0)
        goto done;
    if (kind == HOLLOW_SCHEMA_LIST) {
        if (!is_char(ps, ';'))
            rc = syntax(ps, "expected ';'");
        goto done;
    }
    if (is_char(ps, '@')) {
        if ((rc = next(ps)) < 0)
            goto done;
        if (!is_word(ps, "HashKey")) {
            rc = syntax(ps, "expected 'HashKey' after '@'");
            goto done;
        }
        if ((rc = parse_key(ps, s, "HashKey")) < 0 || (rc = next(ps)) < 0)
            goto done;
        if (!is_char(ps, ';'))
            rc = syntax(ps, "expected ';'");
    } else if (!is_char(ps, ';')) {
        rc = syntax(ps, "expected '@HashKey' or ';'");
    }
done:
    if (rc < 0) {
        hollow_schema_free(s);
        s = NULL;
    }
    hollow__free(elem);
    hollow__free(value);
    *out = s;
    return rc;
}

/*
 * One declaration, appended to the list; *eof is set instead when only
 * stray tokens were left. The declaration ends on its final '}' or ';',
 * so the next call starts right after it.
 */
static int parse_decl(parser *ps, bool *eof)
{
    hollow_schema *s = NULL;
    char *name = NULL;
    token name_tok;
    int rc;

    do {
        if ((rc = next(ps)) < 0)
            return rc;
    } while (ps->tok.kind == TK_CHAR);
    if (ps->tok.kind == TK_EOF) {
        *eof = true;
        return 0;
    }
    name_tok = ps->tok;
    if ((rc = word_dup(ps, &name)) < 0)
        goto done;
    if (hollow_schema_list_find(ps->list, name) != NULL) {
        char w[48];
        rc = fail_at(HOLLOW_EEXISTS, name_tok.line, name_tok.col,
                     "type '%s' is already declared",
                     clip(w, sizeof w, name, strlen(name)));
        goto done;
    }
    if ((rc = next(ps)) < 0)
        goto done;
    if (is_word(ps, "List"))
        rc = parse_collection(ps, &s, name, HOLLOW_SCHEMA_LIST, "List");
    else if (is_word(ps, "Set"))
        rc = parse_collection(ps, &s, name, HOLLOW_SCHEMA_SET, "Set");
    else if (is_word(ps, "Map"))
        rc = parse_collection(ps, &s, name, HOLLOW_SCHEMA_MAP, "Map");
    else if (is_char(ps, '{') || is_char(ps, '@'))
        rc = parse_object(ps, &s, name);
    else {
        char w[48];
        rc = syntax(ps,
                    "expected '{', '@PrimaryKey', 'List', 'Set' or 'Map' "
                    "after type name '%s'",
                    clip(w, sizeof w, name, strlen(name)));
    }
    if (rc < 0)
        goto done;
    /* room for the position first: list_add takes s, also on failure */
    if ((rc = hollow__grow(ps->decl_pos, ps->decl_cap,
                           2 * (ps->list->count + 1), 32)) < 0) {
        hollow_schema_free(s);
        goto done;
    }
    if ((rc = hollow_schema_list_add(ps->list, s)) < 0)
        goto done;
    ps->decl_pos[2 * (ps->list->count - 1)] = name_tok.line;
    ps->decl_pos[2 * (ps->list->count - 1) + 1] = name_tok.col;
done:
    hollow__free(name);
    return rc;
}

static int parse(hollow_schema_list **out, const char *text, size_t len,
                 bool validate)
{
    parser ps;
    bool eof = false;
    int rc;

    if (out == NULL || (text == NULL && len > 0))
        return hollow__error_set(HOLLOW_EINVAL, "out or text is NULL");
    *out = NULL;
    memset(&ps, 0, sizeof ps);
    ps.p = (const uint8_t *)text;
    ps.len = len;
    ps.line = ps.col = 1;
    if ((rc = hollow_schema_list_new(&ps.list)) < 0)
        return rc;
    while (!eof)
        if ((rc = parse_decl(&ps, &eof)) < 0)
            break;
    if (rc == 0 && validate) {
        /* a semantic error names the declaration it is about */
        const hollow_schema *bad = NULL;
        rc = hollow__schema_list_validate_at(ps.list, &bad);
        for (size_t i = 0; rc < 0 && bad != NULL && i < ps.list->count; i++) {
            if (ps.list->items[i] != bad)
                continue;
            char msg[512];
            snprintf(msg, sizeof msg, "%s", hollow_error_last()->message);
            rc = hollow__error_set(rc, "line %zu:%zu: %s", ps.decl_pos[2 * i],
                                   ps.decl_pos[2 * i + 1], msg);
            break;
        }
    }
    hollow__free(ps.decl_pos);
    if (rc < 0) {
        hollow_schema_list_free(ps.list);
        return rc;
    }
    *out = ps.list;
    return 0;
}

int hollow_schema_parse(hollow_schema_list **out, const char *text, size_t len)
{
    return parse(out, text, len, false);
}

int hollow_schema_parse_validated(hollow_schema_list **out, const char *text,
                                  size_t len)
{
    return parse(out, text, len, true);
}
