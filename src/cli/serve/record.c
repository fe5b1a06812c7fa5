/*
 * One record rendered deep (serve.h): references followed up to
 * SERVE_MAX_DEPTH, each referenced record a collapsible <details> with a
 * link to its own page, or in JSON an object {"@type", "@ordinal",
 * "value"}. A referenced OBJECT with a single field of a plain type
 * (Hollow's String, Double, ...) is shown inline as its value, with the
 * link. `budget` bounds the values of one response, so a hostile state
 * (a huge SET, deep or shared references) costs a bounded page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hollow/dump.h"
#include "serve.h"

typedef struct rctx {
    serve_req *r; /* NULL: JSON into `b` only */
    sbuf *b;
    bool json;
    const hollow_read_state *rs;
    long *budget;
} rctx;

static void value(rctx *c, const hollow_type *t, hollow_ordinal o,
                  unsigned depth);

static void link_to(rctx *c, const hollow_type *t, hollow_ordinal o)
{
    sb_puts(c->b, "<a class=\"ref\" href=\"/type/");
    sb_url(c->b, hollow_type_name(t));
    sb_printf(c->b, "/%" PRId64 "\">", (int64_t)o);
    sb_htmls(c->b, hollow_type_name(t));
    sb_printf(c->b, " #%" PRId64 "</a>", (int64_t)o);
}

/* a field of a plain type (not a reference) */
static void scalar(rctx *c, const hollow_type *t, hollow_ordinal o,
                   size_t field, hollow_field_type ft)
{
    sbuf *b = c->b;
    char num[64];
    int rc;
    switch (ft) {
    case HOLLOW_FIELD_STRING: {
        char buf[4096];
        hollow_str s;
        rc = hollow_object_string(&s, buf, sizeof buf, t, o, field);
        if (rc == HOLLOW_ERANGE) {
            sb_puts(b, c->json ? "\"(string too long to show)\""
                               : "<i>(string too long to show)</i>");
            return;
        }
        if (rc == HOLLOW_NULL)
            break;
        if (rc < 0)
            goto bad;
        if (c->json) {
            sb_json(b, s.ptr, s.len);
        } else {
            sb_puts(b, "<span class=\"str\">");
            sb_html(b, s.ptr, s.len);
            sb_puts(b, "</span>");
        }
        return;
    }
    case HOLLOW_FIELD_BYTES: {
        hollow_bytes by;
        rc = hollow_object_bytes(&by, t, o, field);
        if (rc == HOLLOW_NULL)
            break;
        if (rc < 0)
            goto bad;
        sb_puts(b, c->json ? "\"" : "<span class=\"bytes\">");
        size_t n = by.len > 256 ? 256 : by.len;
        for (size_t i = 0; i < n; i++)
            sb_printf(b, "%02x", by.ptr[i]);
        if (n < by.len)
            sb_puts(b, "...");
        sb_puts(b, c->json ? "\"" : "</span>");
        return;
    }
    default: {
        hollow_value v;
        rc = hollow_object_value(&v, t, o, field);
        if (rc == HOLLOW_NULL || (rc == 0 && v.is_null))
            break;
        if (rc < 0)
            goto bad;
        switch (v.type) {
        case HOLLOW_FIELD_INT:
            snprintf(num, sizeof num, "%" PRId32, v.u.i);
            break;
        case HOLLOW_FIELD_LONG:
            snprintf(num, sizeof num, "%" PRId64, v.u.l);
            break;
        case HOLLOW_FIELD_FLOAT:
            hollow_format_float(num, sizeof num, v.u.f);
            break;
        case HOLLOW_FIELD_DOUBLE:
            hollow_format_double(num, sizeof num, v.u.d);
            break;
        case HOLLOW_FIELD_BOOLEAN:
            snprintf(num, sizeof num, "%s", v.u.b ? "true" : "false");
            break;
        default:
            snprintf(num, sizeof num, "?");
            break;
        }
        /* NaN and infinities are not JSON numbers */
        if (c->json && (strcmp(num, "NaN") == 0 || strstr(num, "Infinity")))
            sb_jsons(b, num);
        else if (c->json)
            sb_puts(b, num);
        else
            sb_printf(b, "<span class=\"num\">%s</span>", num);
        return;
    }
    }
    sb_puts(b, c->json ? "null" : "<span class=\"null\">null</span>");
    return;
bad:
    sb_puts(b, c->json ? "null" : "<span class=\"error\">unreadable</span>");
}

/* the single plain field of a wrapper type (String, Double...), or -1 */
static int wrapper_field(const hollow_type *t)
{
    const hollow_schema *s = hollow_type_schema(t);
    if (hollow_type_kind(t) != HOLLOW_SCHEMA_OBJECT ||
        hollow_schema_field_count(s) != 1 ||
        hollow_schema_field_type(s, 0) == HOLLOW_FIELD_REFERENCE)
        return -1;
    return 0;
}

/* a reference to record `o` of the type named `tname` */
static void ref(rctx *c, const char *tname, hollow_ordinal o, unsigned depth)
{
    const hollow_type *t = tname ? hollow_read_state_type(c->rs, tname) : NULL;
    if (o < 0) {
        sb_puts(c->b, c->json ? "null" : "<span class=\"null\">null</span>");
        return;
    }
    if (t == NULL || !hollow_type_is_populated(t, o)) {
        if (c->json)
            sb_printf(c->b,
                      "{\"@type\":%s,\"@ordinal\":%" PRId64
                      ",\"@missing\":true}",
                      tname ? "\"?\"" : "null", (int64_t)o);
        else
            sb_printf(c->b, "<span class=\"error\">missing #%" PRId64 "</span>",
                      (int64_t)o);
        return;
    }
    int wf = wrapper_field(t);
    if (c->json) {
        sb_puts(c->b, "{\"@type\":");
        sb_jsons(c->b, hollow_type_name(t));
        sb_printf(c->b, ",\"@ordinal\":%" PRId64, (int64_t)o);
        if (depth >= SERVE_MAX_DEPTH || *c->budget <= 0) {
            sb_puts(c->b, ",\"@truncated\":true}");
            return;
        }
        sb_puts(c->b, ",\"value\":");
        if (wf >= 0)
            scalar(c, t, o, (size_t)wf,
                   hollow_schema_field_type(hollow_type_schema(t), (size_t)wf));
        else
            value(c, t, o, depth + 1);
        sb_puts(c->b, "}");
        return;
    }
    if (wf >= 0) {
        scalar(c, t, o, (size_t)wf,
               hollow_schema_field_type(hollow_type_schema(t), (size_t)wf));
        sb_puts(c->b, " ");
        link_to(c, t, o);
        return;
    }
    if (depth >= SERVE_MAX_DEPTH || *c->budget <= 0) {
        link_to(c, t, o);
        return;
    }
    sb_puts(c->b, "<details open><summary>");
    link_to(c, t, o);
    sb_puts(c->b, "</summary>");
    value(c, t, o, depth + 1);
    sb_puts(c->b, "</details>");
}

static void value(rctx *c, const hollow_type *t, hollow_ordinal o,
                  unsigned depth)
{
    const hollow_schema *s = hollow_type_schema(t);
    sbuf *b = c->b;
    (*c->budget)--;
    switch (hollow_type_kind(t)) {
    case HOLLOW_SCHEMA_OBJECT: {
        size_t n = hollow_schema_field_count(s);
        sb_puts(b, c->json ? "{" : "<table class=\"obj\">");
        for (size_t i = 0; i < n; i++) {
            const char *fname = hollow_schema_field_name(s, i);
            hollow_field_type ft = hollow_schema_field_type(s, i);
            if (c->json) {
                if (i)
                    sb_puts(b, ",");
                sb_jsons(b, fname);
                sb_puts(b, ":");
            } else {
                sb_puts(b, "<tr><th>");
                sb_htmls(b, fname);
                sb_puts(b, "</th><td data-field=\"");
                sb_htmls(b, fname);
                sb_puts(b, "\">");
            }
            if (ft == HOLLOW_FIELD_REFERENCE) {
                hollow_ordinal ro = -1;
                int rc = hollow_object_ref(&ro, t, o, i);
                if (rc < 0 || rc == HOLLOW_NULL)
                    ro = -1;
                ref(c, hollow_schema_field_ref_type(s, i), ro, depth);
            } else {
                scalar(c, t, o, i, ft);
            }
            if (!c->json)
                sb_puts(b, "</td></tr>");
        }
        sb_puts(b, c->json ? "}" : "</table>");
        return;
    }
    case HOLLOW_SCHEMA_LIST: {
        uint32_t n = 0;
        if (hollow_list_size(&n, t, o) < 0)
            n = 0;
        const char *et = hollow_schema_element_type(s);
        sb_puts(b, c->json ? "[" : "<ol class=\"coll\" start=\"0\">");
        for (uint32_t i = 0; i < n; i++) {
            hollow_ordinal e;
            if (*c->budget <= 0) {
                sb_printf(b,
                          c->json ? "%s\"... %" PRIu32 " more\""
                                  : "%s<li>... %" PRIu32 " more</li>",
                          c->json && i ? "," : "", n - i);
                break;
            }
            if (hollow_list_get(&e, t, o, i) < 0)
                e = -1;
            sb_puts(b, c->json ? (i ? "," : "") : "<li>");
            ref(c, et, e, depth);
            if (!c->json)
                sb_puts(b, "</li>");
        }
        sb_puts(b, c->json ? "]" : "</ol>");
        return;
    }
    case HOLLOW_SCHEMA_SET: {
        hollow_iter it;
        hollow_ordinal e;
        const char *et = hollow_schema_element_type(s);
        sb_puts(b, c->json ? "[" : "<ul class=\"coll\">");
        bool first = true;
        if (hollow_set_iter_init(&it, t, o) == 0) {
            while (hollow_set_iter_next(&it, &e)) {
                if (*c->budget <= 0) {
                    sb_puts(b, c->json ? (first ? "\"...\"" : ",\"...\"")
                                       : "<li>...</li>");
                    break;
                }
                sb_puts(b, c->json ? (first ? "" : ",") : "<li>");
                ref(c, et, e, depth);
                if (!c->json)
                    sb_puts(b, "</li>");
                first = false;
            }
        }
        sb_puts(b, c->json ? "]" : "</ul>");
        return;
    }
    case HOLLOW_SCHEMA_MAP: {
        hollow_iter it;
        hollow_ordinal k, v;
        const char *kt = hollow_schema_element_type(s);
        const char *vt = hollow_schema_value_type(s);
        sb_puts(b, c->json ? "[" : "<table class=\"map\">");
        bool first = true;
        if (hollow_map_iter_init(&it, t, o) == 0) {
            while (hollow_map_iter_next(&it, &k, &v)) {
                if (*c->budget <= 0) {
                    sb_puts(b, c->json ? (first ? "\"...\"" : ",\"...\"")
                                       : "<tr><td>...</td></tr>");
                    break;
                }
                sb_puts(b, c->json ? (first ? "[" : ",[") : "<tr><td>");
                ref(c, kt, k, depth);
                sb_puts(b, c->json ? "," : "</td><td>");
                ref(c, vt, v, depth);
                sb_puts(b, c->json ? "]" : "</td></tr>");
                first = false;
            }
        }
        sb_puts(b, c->json ? "]" : "</table>");
        return;
    }
    }
}

void record_render(serve_req *r, const hollow_read_state *rs,
                   const hollow_type *t, hollow_ordinal o, unsigned depth,
                   long *budget)
{
    rctx c = {r, r->out, r->json, rs, budget};
    value(&c, t, o, depth);
}

static int write_sb(void *payload, const char *data, size_t len)
{
    sbuf *b = payload;
    sb_put(b, data, len);
    return b->over ? HOLLOW_ERANGE : 0;
}

void record_field_json(sbuf *b, const hollow_read_state *rs,
                       const hollow_type *t, hollow_ordinal o, size_t field,
                       long *budget)
{
    rctx c = {NULL, b, true, rs, budget};
    const hollow_schema *s = hollow_type_schema(t);
    hollow_field_type ft = hollow_schema_field_type(s, field);
    if (ft != HOLLOW_FIELD_REFERENCE) {
        scalar(&c, t, o, field, ft);
        return;
    }
    hollow_ordinal ro = -1;
    int rc = hollow_object_ref(&ro, t, o, field);
    if (rc < 0 || rc == HOLLOW_NULL)
        ro = -1;
    /* ordinals differ between versions while the values do not: compare
     * (and show) the values only */
    const hollow_type *rt =
        hollow_read_state_type(rs, hollow_schema_field_ref_type(s, field));
    if (ro < 0 || rt == NULL || !hollow_type_is_populated(rt, ro)) {
        sb_puts(b, "null");
        return;
    }
    int wf = wrapper_field(rt);
    if (wf >= 0)
        scalar(&c, rt, ro, (size_t)wf,
               hollow_schema_field_type(hollow_type_schema(rt), (size_t)wf));
    else if (hollow_dump_deep_record(rt, ro, write_sb, b) < 0)
        sb_puts(b, "\"(unreadable)\"");
}
