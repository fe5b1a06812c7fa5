/*
 * The explorer's pages (docs/explorer.md): Types, Records, Diff, History,
 * Versions, pin/unpin and /metrics. Each page writes HTML or, for
 * `r->json`, the same content as one JSON document. Every value that
 * comes from the data (names, strings, keys, tags) goes through the
 * escaping writers of buf.h. A page works on one state it pinned at its
 * start, so a refresh meanwhile changes nothing under it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hollow/dump.h"
#include "hollow/metrics.h"
#include "serve.h"
#include "../store_opts.h"

static const char *KIND_NAME[] = {"OBJECT", "LIST", "SET", "MAP"};

static const char *kind_name(hollow_schema_kind k)
{
    return (unsigned)k < 4 ? KIND_NAME[k] : "?";
}

/* the published state, or an error page (NULL) when there is none yet */
static hollow_read_state *state_or_error(serve_req *r)
{
    hollow_read_state *rs = hollow_consumer_acquire_state(r->ctx->consumer);
    if (rs == NULL)
        page_error(r, 503, "no version loaded yet");
    return rs;
}

/* ------------------------------------------------------------ Types */

void page_types(serve_req *r)
{
    hollow_read_state *rs = state_or_error(r);
    if (rs == NULL)
        return;
    sbuf *b = r->out;
    size_t n = hollow_read_state_type_count(rs);
    size_t ntags = hollow_read_state_header_tag_count(rs);
    int64_t v = hollow_read_state_version(rs);
    if (r->json) {
        sb_printf(b, "{\"version\":%" PRId64 ",\"tags\":{", v);
        for (size_t i = 0; i < ntags; i++) {
            const char *k, *val;
            if (hollow_read_state_header_tag_at(rs, i, &k, &val) < 0)
                continue;
            sb_puts(b, i ? "," : "");
            sb_jsons(b, k);
            sb_puts(b, ":");
            sb_jsons(b, val);
        }
        sb_puts(b, "},\"types\":[");
    } else {
        page_begin(r, "Types");
        sb_printf(b, "<p>Version <b id=\"version\">%" PRId64 "</b></p>", v);
        if (ntags > 0) {
            sb_puts(b, "<h2>Header tags</h2><table id=\"tags\"><tr><th>tag"
                       "</th><th>value</th></tr>");
            for (size_t i = 0; i < ntags; i++) {
                const char *k, *val;
                if (hollow_read_state_header_tag_at(rs, i, &k, &val) < 0)
                    continue;
                sb_puts(b, "<tr><td>");
                sb_htmls(b, k);
                sb_puts(b, "</td><td>");
                sb_htmls(b, val);
                sb_puts(b, "</td></tr>");
            }
            sb_puts(b, "</table>");
        }
        sb_puts(b, "<h2>Types</h2><table id=\"types\"><tr><th>type</th>"
                   "<th>kind</th><th class=\"n\">records</th><th class=\"n\">"
                   "shards</th><th class=\"n\">bytes</th><th>key</th></tr>");
    }
    for (size_t i = 0; i < n; i++) {
        const hollow_type *t = hollow_read_state_type_sorted(rs, i);
        const hollow_schema *s = hollow_type_schema(t);
        const char *name = hollow_type_name(t);
        if (r->json) {
            sb_puts(b, i ? ",{\"name\":" : "{\"name\":");
            sb_jsons(b, name);
            sb_printf(b,
                      ",\"kind\":\"%s\",\"records\":%zu,\"shards\":%" PRIu32
                      ",\"bytes\":%zu,\"key\":[",
                      kind_name(hollow_type_kind(t)),
                      hollow_type_record_count(t), hollow_type_shard_count(t),
                      hollow_type_memory(t));
            for (size_t k = 0; k < hollow_schema_key_count(s); k++) {
                sb_puts(b, k ? "," : "");
                sb_jsons(b, hollow_schema_key_path(s, k));
            }
            sb_puts(b, "]}");
            continue;
        }
        sb_puts(b, "<tr><td><a href=\"/type/");
        sb_url(b, name);
        sb_puts(b, "\">");
        sb_htmls(b, name);
        sb_printf(b,
                  "</a></td><td>%s</td><td class=\"n\">%zu</td>"
                  "<td class=\"n\">%" PRIu32
                  "</td><td class=\"n\">%zu</td><td>",
                  kind_name(hollow_type_kind(t)), hollow_type_record_count(t),
                  hollow_type_shard_count(t), hollow_type_memory(t));
        for (size_t k = 0; k < hollow_schema_key_count(s); k++) {
            sb_puts(b, k ? ", " : "");
            sb_htmls(b, hollow_schema_key_path(s, k));
        }
        sb_puts(b, "</td></tr>");
    }
    if (r->json) {
        sb_puts(b, "]}\n");
    } else {
        sb_puts(b, "</table>");
        page_end(r);
    }
    hollow_read_state_release(rs);
}

/* ------------------------------------------------------------ Records */

/*
 * The primary key of record `o` as lookup text ("42", or "a,b"), when every
 * key path is a plain field of `t` itself; false otherwise.
 */
static bool key_text(sbuf *k, const hollow_read_state *rs, const hollow_type *t,
                     hollow_ordinal o)
{
    const hollow_schema *s = hollow_type_schema(t);
    size_t n = hollow_schema_key_count(s);
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *path = hollow_schema_key_path(s, i);
        int f = hollow_schema_field_index(s, path);
        if (f < 0)
            return false;
        long budget = 4;
        sbuf tmp;
        sb_init(&tmp, 8192);
        hollow_field_type ft = hollow_schema_field_type(s, (size_t)f);
        record_field_json(&tmp, rs, t, o, (size_t)f, &budget);
        /* strings come as JSON: use their text only when they need no
         * escape, else give up */
        bool ok = !tmp.over && tmp.len > 0;
        const char *p = tmp.data;
        size_t len = tmp.len;
        if (ok && (ft == HOLLOW_FIELD_STRING || p[0] == '"')) {
            ok = len >= 2 && memchr(p + 1, '\\', len - 2) == NULL &&
                 memchr(p + 1, ',', len - 2) == NULL;
            p++;
            len -= 2;
        }
        if (ok) {
            if (i)
                sb_puts(k, ",");
            sb_put(k, p, len);
        }
        sb_free(&tmp);
        if (!ok)
            return false;
    }
    return !k->over;
}

static void record_block(serve_req *r, const hollow_read_state *rs,
                         const hollow_type *t, hollow_ordinal o, long *budget,
                         bool first)
{
    sbuf *b = r->out;
    const char *name = hollow_type_name(t);
    sbuf key;
    sb_init(&key, 4096);
    bool has_key = key_text(&key, rs, t, o);
    sb_put(&key, "", 1);
    if (r->json) {
        sb_printf(b, "%s{\"ordinal\":%" PRId64 ",", first ? "" : ",",
                  (int64_t)o);
        if (has_key) {
            sb_puts(b, "\"key\":");
            sb_jsons(b, key.data);
            sb_puts(b, ",");
        }
        sb_puts(b, "\"value\":");
        record_render(r, rs, t, o, 0, budget);
        sb_puts(b, "}");
        sb_free(&key);
        return;
    }
    sb_printf(b,
              "<section class=\"record\" data-ordinal=\"%" PRId64 "\">"
              "<h3><a href=\"/type/",
              (int64_t)o);
    sb_url(b, name);
    sb_printf(b, "/%" PRId64 "\">", (int64_t)o);
    sb_htmls(b, name);
    sb_printf(b, " #%" PRId64 "</a>", (int64_t)o);
    if (has_key) {
        sb_puts(b, " <span class=\"key\">key ");
        sb_htmls(b, key.data);
        sb_puts(b, "</span> <a class=\"hist\" href=\"/history/");
        sb_url(b, name);
        sb_puts(b, "?key=");
        sb_url(b, key.data);
        sb_puts(b, "\">history</a>");
    }
    sb_puts(b, "</h3>");
    record_render(r, rs, t, o, 0, budget);
    sb_puts(b, "</section>");
    sb_free(&key);
}

static void lookup_forms(serve_req *r, const char *name, const char *key,
                         const char *path, const char *value)
{
    sbuf *b = r->out;
    sb_puts(b, "<form class=\"lookup\" method=\"get\" action=\"/type/");
    sb_url(b, name);
    sb_puts(b, "\"><label>key <input id=\"key\" name=\"key\" value=\"");
    sb_htmls(b, key ? key : "");
    sb_puts(b, "\"></label><button id=\"lookup\">look up</button></form>"
               "<form class=\"lookup\" method=\"get\" action=\"/type/");
    sb_url(b, name);
    sb_puts(b, "\"><label>field path <input name=\"path\" value=\"");
    sb_htmls(b, path ? path : "");
    sb_puts(b, "\"></label> <label>= <input name=\"value\" value=\"");
    sb_htmls(b, value ? value : "");
    sb_puts(b, "\"></label><button>match</button></form>");
}

void page_type(serve_req *r, const char *name, const char *ordinal)
{
    hollow_read_state *rs = state_or_error(r);
    if (rs == NULL)
        return;
    sbuf *b = r->out;
    char err[512];
    long budget = SERVE_MAX_NODES;
    hollow_index *ix = NULL;
    const hollow_type *t = hollow_read_state_type(rs, name);
    const char *key = serve_arg(r, "key");
    const char *path = serve_arg(r, "path");
    const char *value = serve_arg(r, "value");
    uint64_t from, size;
    if (t == NULL) {
        page_error(r, 404, "no type %s in version %" PRId64, name,
                   hollow_read_state_version(rs));
        goto done;
    }
    if (!serve_arg_u64(r, "from", 0, INT32_MAX, &from) ||
        !serve_arg_u64(r, "size", SERVE_DEFAULT_PAGE, SERVE_MAX_PAGE, &size))
        goto done;
    if (size == 0)
        size = SERVE_DEFAULT_PAGE;

    if (ordinal != NULL || (key != NULL && *key != '\0')) {
        /* one record: by ordinal, or by primary key */
        hollow_ordinal o = -1;
        if (ordinal != NULL) {
            char *end;
            long long x = strtoll(ordinal, &end, 10);
            if (*ordinal == '\0' || *end != '\0' || x < 0 || x > INT32_MAX) {
                page_error(r, 404, "no record %s", ordinal);
                goto done;
            }
            o = (hollow_ordinal)x;
        } else {
            if ((ix = serve_index_get(r->ctx, rs, name, NULL, err,
                                      sizeof err)) == NULL) {
                page_error(r, 400, "%s", err);
                goto done;
            }
            hollow_value vals[HOLLOW_INDEX_MAX_PATHS];
            size_t nv;
            char scratch[1024];
            if (!serve_parse_key(vals, &nv, scratch, sizeof scratch, ix, key,
                                 err, sizeof err)) {
                page_error(r, 400, "%s", err);
                goto done;
            }
            int rc = hollow_index_find(ix, vals, nv);
            if (rc < 0) {
                page_error(r, 404, "no %s with key %s in version %" PRId64,
                           name, key, hollow_read_state_version(rs));
                goto done;
            }
            o = rc;
        }
        if (!hollow_type_is_populated(t, o)) {
            page_error(r, 404, "no record %s #%" PRId64 " in version %" PRId64,
                       name, (int64_t)o, hollow_read_state_version(rs));
            goto done;
        }
        if (r->json) {
            sb_puts(b, "{\"type\":");
            sb_jsons(b, name);
            sb_printf(b, ",\"version\":%" PRId64 ",\"records\":[",
                      hollow_read_state_version(rs));
        } else {
            page_begin(r, name);
            lookup_forms(r, name, key, NULL, NULL);
        }
        record_block(r, rs, t, o, &budget, true);
        if (r->json) {
            sb_puts(b, "]}\n");
        } else {
            page_end(r);
        }
        goto done;
    }

    /* a page of records: every record from ordinal `from`, or those whose
     * field `path` equals `value` (a hash index) */
    hollow_index_matches m = {NULL, 0};
    bool matching = path != NULL && *path != '\0';
    if (matching) {
        if ((ix = serve_index_get(r->ctx, rs, name, path, err, sizeof err)) ==
            NULL) {
            page_error(r, 400, "%s", err);
            goto done;
        }
        hollow_value vals[HOLLOW_INDEX_MAX_PATHS];
        size_t nv;
        char scratch[1024];
        if (!serve_parse_key(vals, &nv, scratch, sizeof scratch, ix,
                             value ? value : "", err, sizeof err)) {
            page_error(r, 400, "%s", err);
            goto done;
        }
        if (hollow_index_match(&m, ix, vals, nv) < 0)
            m.count = 0;
    }
    size_t total = matching ? m.count : hollow_type_record_count(t);
    if (r->json) {
        sb_puts(b, "{\"type\":");
        sb_jsons(b, name);
        sb_printf(b,
                  ",\"version\":%" PRId64 ",\"kind\":\"%s\",\"total\":%zu,"
                  "\"from\":%" PRIu64 ",\"records\":[",
                  hollow_read_state_version(rs), kind_name(hollow_type_kind(t)),
                  total, from);
    } else {
        page_begin(r, name);
        sb_printf(b,
                  "<p><span class=\"kind\">%s</span> \xC2\xB7 <span "
                  "id=\"total\">%zu</span> records%s</p>",
                  kind_name(hollow_type_kind(t)), total,
                  matching ? " match" : "");
        if (hollow_type_kind(t) == HOLLOW_SCHEMA_OBJECT)
            lookup_forms(r, name, NULL, path, value);
    }
    size_t shown = 0;
    int64_t next = -1;
    if (matching) {
        for (size_t i = from; i < m.count; i++) {
            if (shown == size || budget <= 0) {
                next = (int64_t)i;
                break;
            }
            record_block(r, rs, t, m.ordinals[i], &budget, shown == 0);
            shown++;
        }
    } else {
        hollow_ordinal o = hollow_type_next_ordinal(t, (hollow_ordinal)from);
        for (; o >= 0; o = hollow_type_next_ordinal(t, o + 1)) {
            if (shown == size || budget <= 0) {
                next = o;
                break;
            }
            record_block(r, rs, t, o, &budget, shown == 0);
            shown++;
        }
    }
    if (r->json) {
        sb_puts(b, "],\"next\":");
        if (next >= 0)
            sb_printf(b, "%" PRId64, next);
        else
            sb_puts(b, "null");
        sb_puts(b, "}\n");
    } else {
        if (next >= 0) {
            sb_puts(b, "<p><a id=\"next\" href=\"/type/");
            sb_url(b, name);
            sb_printf(b, "?size=%" PRIu64 "&amp;from=%" PRId64, size, next);
            if (matching) {
                sb_puts(b, "&amp;path=");
                sb_url(b, path);
                sb_puts(b, "&amp;value=");
                sb_url(b, value ? value : "");
            }
            sb_puts(b, "\">next page</a></p>");
        }
        page_end(r);
    }
done:
    hollow_index_release(ix);
    hollow_read_state_release(rs);
}

/* ------------------------------------------------------------ Versions */

typedef struct vinfo {
    int64_t version;
    bool snapshot, delta, reverse; /* which blobs lead to it */
    int64_t delta_from, reverse_from;
} vinfo;

typedef struct vlist {
    vinfo *v;
    size_t n, cap;
    hollow_blobstore *bs;
} vlist;

/* S3: from the cache or a HEAD, never downloaded; 0 when unknown */
static int64_t blob_size(hollow_blobstore *bs, const hollow_blob_key *k)
{
    int64_t n;
    return hollow_blobstore_size(&n, bs, k) == 0 ? n : 0;
}

static int add_key(const hollow_blob_key *k, void *payload)
{
    vlist *l = payload;
    if (k->kind == HOLLOW_BLOB_HEADER)
        return 0;
    if (l->n == 0 || l->v[l->n - 1].version != k->version) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            vinfo *p = realloc(l->v, cap * sizeof *p);
            if (p == NULL)
                return HOLLOW_ENOMEM;
            l->v = p;
            l->cap = cap;
        }
        l->v[l->n++] = (vinfo){k->version, false, false, false, 0, 0};
    }
    vinfo *vi = &l->v[l->n - 1];
    /* sizes are read only for the versions shown (page_versions) */
    switch (k->kind) {
    case HOLLOW_BLOB_SNAPSHOT:
        vi->snapshot = true;
        break;
    case HOLLOW_BLOB_DELTA:
        vi->delta = true;
        vi->delta_from = k->from_version;
        break;
    case HOLLOW_BLOB_REVERSE_DELTA:
        vi->reverse = true;
        vi->reverse_from = k->from_version;
        break;
    default:
        break;
    }
    return 0;
}

static void size_cell(serve_req *r, const char *name, int64_t v)
{
    if (r->json) {
        sb_printf(r->out, ",\"%s\":", name);
        if (v < 0)
            sb_puts(r->out, "null");
        else
            sb_printf(r->out, "%" PRId64, v);
        return;
    }
    if (v < 0)
        sb_puts(r->out, "<td class=\"n\">\xE2\x80\x94</td>");
    else
        sb_printf(r->out, "<td class=\"n\">%" PRId64 "</td>", v);
}

void page_versions(serve_req *r)
{
    serve_ctx *ctx = r->ctx;
    sbuf *b = r->out;
    uint64_t limit;
    if (!serve_arg_u64(r, "limit", 50, 1000, &limit))
        return;
    vlist l = {NULL, 0, 0, ctx->bs};
    /* the listing is ascending by (version, kind, from) */
    if (hollow_blobstore_list(ctx->bs, add_key, &l) < 0) {
        page_error(r, 502, "cannot list the store: %s",
                   hollow_error_last()->message);
        free(l.v);
        return;
    }
    int64_t announced = 0, current = hollow_consumer_version(ctx->consumer);
    if (ctx->an != NULL && hollow_announcer_latest(&announced, ctx->an) < 0)
        announced = 0;
    pthread_mutex_lock(&ctx->lock);
    int64_t pinned = ctx->pinned;
    pthread_mutex_unlock(&ctx->lock);
    size_t first = l.n > limit ? l.n - limit : 0;
    if (r->json) {
        sb_printf(b, "{\"current\":%" PRId64 ",\"announced\":", current);
        sb_printf(b, announced > 0 ? "%" PRId64 : "null", announced);
        sb_puts(b, ",\"pinned\":");
        sb_printf(b, pinned > 0 ? "%" PRId64 : "null", pinned);
        sb_printf(b, ",\"allow_pin\":%s,\"total\":%zu,\"versions\":[",
                  ctx->allow_pin ? "true" : "false", l.n);
    } else {
        page_begin(r, "Versions");
        sb_printf(b,
                  "<p>current <b id=\"current\">%" PRId64 "</b> \xC2\xB7 "
                  "announced <b id=\"announced\">",
                  current);
        sb_printf(b, announced > 0 ? "%" PRId64 : "\xE2\x80\x94", announced);
        sb_puts(b, "</b> \xC2\xB7 pinned <b id=\"pinned\">");
        sb_printf(b, pinned > 0 ? "%" PRId64 : "no", pinned);
        sb_puts(b, "</b>");
        if (ctx->allow_pin && pinned > 0)
            sb_puts(b, " <form class=\"inline\" method=\"post\" "
                       "action=\"/unpin\"><button id=\"unpin\">unpin</button>"
                       "</form>");
        sb_printf(b, "</p><p>%zu versions%s</p>", l.n,
                  first ? " (the newest shown; limit=N for more)" : "");
        sb_puts(b, "<table id=\"versions\"><tr><th>version</th><th class=\"n\">"
                   "snapshot bytes</th><th class=\"n\">delta bytes</th>"
                   "<th class=\"n\">reverse delta bytes</th><th></th>"
                   "</tr>");
    }
    for (size_t j = l.n; j-- > first;) {
        vinfo *vi = &l.v[j];
        hollow_blob_key k = hollow_blob_key_snapshot(vi->version);
        int64_t snap = vi->snapshot ? blob_size(ctx->bs, &k) : -1;
        k = hollow_blob_key_delta(vi->delta_from, vi->version);
        int64_t delta = vi->delta ? blob_size(ctx->bs, &k) : -1;
        k = hollow_blob_key_reverse_delta(vi->reverse_from, vi->version);
        int64_t reverse = vi->reverse ? blob_size(ctx->bs, &k) : -1;
        if (r->json) {
            sb_printf(b, "%s{\"version\":%" PRId64, j + 1 == l.n ? "" : ",",
                      vi->version);
            size_cell(r, "snapshot", snap);
            size_cell(r, "delta", delta);
            size_cell(r, "reverse_delta", reverse);
            sb_printf(b, ",\"current\":%s,\"announced\":%s,\"pinned\":%s}",
                      vi->version == current ? "true" : "false",
                      vi->version == announced ? "true" : "false",
                      vi->version == pinned ? "true" : "false");
            continue;
        }
        sb_printf(b, "<tr data-version=\"%" PRId64 "\"><td>%" PRId64,
                  vi->version, vi->version);
        if (vi->version == current)
            sb_puts(b, " <span class=\"tag\">current</span>");
        if (vi->version == announced)
            sb_puts(b, " <span class=\"tag\">announced</span>");
        if (vi->version == pinned)
            sb_puts(b, " <span class=\"tag\">pinned</span>");
        sb_puts(b, "</td>");
        size_cell(r, NULL, snap);
        size_cell(r, NULL, delta);
        size_cell(r, NULL, reverse);
        sb_puts(b, "<td>");
        if (j > 0)
            sb_printf(b,
                      "<a href=\"/diff?from=%" PRId64 "&amp;to=%" PRId64
                      "\">diff</a> ",
                      l.v[j - 1].version, vi->version);
        if (ctx->allow_pin)
            sb_printf(b,
                      "<form class=\"inline\" method=\"post\" action=\"/pin"
                      "?version=%" PRId64 "\"><button>pin</button></form>",
                      vi->version);
        sb_puts(b, "</td></tr>");
    }
    if (r->json) {
        sb_puts(b, "]}\n");
    } else {
        sb_puts(b, "</table>");
        page_end(r);
    }
    free(l.v);
}

void page_pin(serve_req *r, bool pin)
{
    serve_ctx *ctx = r->ctx;
    if (!ctx->allow_pin) {
        page_error(r, 403, "pinning is off (start serve with --allow-pin)");
        return;
    }
    int64_t v = 0;
    if (pin && !serve_arg_version(r, "version", &v))
        return;
    /* may wait for a running refresh: never under ctx->lock */
    int rc = pin ? hollow_consumer_pin(ctx->consumer, v)
                 : hollow_consumer_unpin(ctx->consumer);
    if (rc < 0) {
        page_error(r,
                   rc == HOLLOW_EINVAL      ? 400
                   : rc == HOLLOW_ENOTFOUND ? 404
                                            : 502,
                   "%s %" PRId64 ": %s", pin ? "cannot pin" : "cannot unpin", v,
                   hollow_error_last()->message);
        return;
    }
    pthread_mutex_lock(&ctx->lock);
    ctx->pinned = pin ? v : 0;
    pthread_mutex_unlock(&ctx->lock);
    if (r->json) {
        sb_printf(r->out, "{\"pinned\":");
        sb_printf(r->out, pin ? "%" PRId64 : "null", v);
        sb_printf(r->out, ",\"current\":%" PRId64 "}\n",
                  hollow_consumer_version(ctx->consumer));
        return;
    }
    r->status = 303;
    r->location = "/versions";
    sb_puts(r->out, "<a href=\"/versions\">versions</a>\n");
}

/* ------------------------------------------------------------ helpers */

typedef cli_versions ilist;

/* versions that have a snapshot or a delta into them (ascending) */
static int list_versions(serve_ctx *ctx, ilist *l)
{
    return hollow_blobstore_list_versions(ctx->bs, cli_versions_add, l);
}

/* ------------------------------------------------------------ Diff */

/* the lookup text of a diff key "path=json": the value, for one pair */
static bool diff_key_value(sbuf *out, const char *key)
{
    const char *eq = strchr(key, '=');
    if (eq == NULL || strchr(eq + 1, '=') != NULL)
        return false;
    const char *v = eq + 1;
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        if (memchr(v + 1, '\\', n - 2) != NULL)
            return false;
        sb_put(out, v + 1, n - 2);
    } else {
        sb_put(out, v, n);
    }
    sb_put(out, "", 1);
    return !out->over;
}

static void diff_form(serve_req *r, const ilist *l, int64_t from, int64_t to)
{
    sbuf *b = r->out;
    sb_puts(b, "<form class=\"lookup\" method=\"get\" action=\"/diff\">");
    for (int w = 0; w < 2; w++) {
        int64_t sel = w ? to : from;
        sb_printf(b, "<label>%s <select name=\"%s\" id=\"%s\">",
                  w ? "to" : "from", w ? "to" : "from", w ? "to" : "from");
        for (size_t i = l->n; i-- > 0 && l->n - i <= 500;)
            sb_printf(b, "<option%s>%" PRId64 "</option>",
                      l->v[i] == sel ? " selected" : "", l->v[i]);
        sb_puts(b, "</select></label> ");
    }
    sb_puts(b, "<button id=\"compare\">compare</button></form>");
}

void page_diff(serve_req *r)
{
    serve_ctx *ctx = r->ctx;
    sbuf *b = r->out;
    const char *ftext = serve_arg(r, "from"), *ttext = serve_arg(r, "to");
    const char *type = serve_arg(r, "type");
    ilist l = {NULL, 0, 0};
    char err[512];
    serve_diff *sd = NULL;
    if (list_versions(ctx, &l) < 0) {
        page_error(r, 502, "cannot list the store: %s",
                   hollow_error_last()->message);
        goto done;
    }
    if (ftext == NULL || ttext == NULL) {
        if (r->json) {
            page_error(r, 400, "give from=A&to=B");
            goto done;
        }
        page_begin(r, "Diff");
        int64_t to = l.n ? l.v[l.n - 1] : 0;
        diff_form(r, &l, l.n > 1 ? l.v[l.n - 2] : to, to);
        page_end(r);
        goto done;
    }
    int64_t from, to;
    uint64_t start, size;
    if (!serve_arg_version(r, "from", &from) ||
        !serve_arg_version(r, "to", &to) ||
        !serve_arg_u64(r, "start", 0, SIZE_MAX, &start) ||
        !serve_arg_u64(r, "size", 50, SERVE_MAX_PAGE, &size))
        goto done;
    if (size == 0)
        size = 50;
    bool fa = false, ta = false;
    for (size_t i = 0; i < l.n; i++) {
        fa |= l.v[i] == from;
        ta |= l.v[i] == to;
    }
    if (!fa || !ta) {
        page_error(r, 404, "the store has no version %" PRId64, fa ? to : from);
        goto done;
    }
    if ((sd = serve_diff_get(ctx, from, to, err, sizeof err)) == NULL) {
        page_error(r, 502, "%s", err);
        goto done;
    }
    const hollow_diff *d = sd->diff;
    size_t nt = hollow_diff_type_count(d);
    if (r->json) {
        sb_printf(b,
                  "{\"from\":%" PRId64 ",\"to\":%" PRId64 ",\"different\""
                  ":%s,\"types\":[",
                  from, to, hollow_diff_has_differences(d) ? "true" : "false");
    } else {
        char title[96];
        snprintf(title, sizeof title, "Diff %" PRId64 " \xE2\x86\x92 %" PRId64,
                 from, to);
        page_begin(r, title);
        diff_form(r, &l, from, to);
        sb_puts(b, "<table id=\"diff-types\"><tr><th>type</th><th>key</th>"
                   "<th class=\"n\">added</th><th class=\"n\">removed</th>"
                   "<th class=\"n\">changed</th><th class=\"n\">unchanged</th>"
                   "</tr>");
    }
    static const char *KIND[] = {"changed", "added", "removed"};
    bool first = true;
    for (size_t i = 0; i < nt; i++) {
        hollow_diff_type dt;
        if (hollow_diff_type_at(&dt, d, i) < 0)
            continue;
        bool open = type != NULL && strcmp(type, dt.name) == 0;
        if (r->json) {
            sb_puts(b, first ? "{\"type\":" : ",{\"type\":");
            first = false;
            sb_jsons(b, dt.name);
            sb_puts(b, ",\"key\":");
            sb_jsons(b, dt.key);
            sb_printf(b,
                      ",\"added\":%zu,\"removed\":%zu,\"changed\":%zu,"
                      "\"unchanged\":%zu",
                      dt.added, dt.removed, dt.changed, dt.unchanged);
        } else {
            sb_puts(b, "<tr><td><a href=\"/diff?from=");
            sb_printf(b, "%" PRId64 "&amp;to=%" PRId64 "&amp;type=", from, to);
            sb_url(b, dt.name);
            sb_puts(b, "\">");
            sb_htmls(b, dt.name);
            sb_puts(b, "</a></td><td>");
            sb_htmls(b, dt.key);
            sb_printf(b,
                      "</td><td class=\"n\">%zu</td><td class=\"n\">%zu"
                      "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
                      "</tr>",
                      dt.added, dt.removed, dt.changed, dt.unchanged);
        }
        if (!open) {
            if (r->json)
                sb_puts(b, "}");
            continue;
        }
        /* the records of the open type, a page of them */
        size_t end =
            start + size < dt.record_count ? start + size : dt.record_count;
        if (r->json) {
            sb_printf(b, ",\"start\":%" PRIu64 ",\"records\":[", start);
        } else {
            sb_puts(b, "</table><h2 id=\"records\">");
            sb_htmls(b, dt.name);
            sb_printf(b,
                      ": records %" PRIu64 "\xE2\x80\x93%zu of %zu</h2>"
                      "<div id=\"diff-records\">",
                      dt.record_count ? start + 1 : 0, end, dt.record_count);
        }
        for (size_t k = start; k < end; k++) {
            hollow_diff_record rec;
            if (hollow_diff_record_at(&rec, d, i, k) < 0)
                continue;
            if (r->json) {
                sb_printf(b,
                          "%s{\"kind\":\"%s\",\"key\":", k == start ? "" : ",",
                          KIND[rec.kind]);
                sb_jsons(b, rec.key);
                sb_puts(b, ",\"changes\":[");
                for (size_t c = 0; c < rec.change_count; c++) {
                    const hollow_diff_change *ch = &rec.changes[c];
                    sb_puts(b, c ? ",{\"path\":" : "{\"path\":");
                    sb_jsons(b, ch->path);
                    sb_puts(b, ",\"old\":");
                    sb_puts(b, ch->old_value ? ch->old_value : "null");
                    sb_puts(b, ",\"new\":");
                    sb_puts(b, ch->new_value ? ch->new_value : "null");
                    sb_puts(b, "}");
                }
                sb_puts(b, "]}");
                continue;
            }
            sb_printf(b,
                      "<div class=\"drec %s\"><span class=\"kind\">%s"
                      "</span> <span class=\"key\">",
                      KIND[rec.kind], KIND[rec.kind]);
            sb_htmls(b, rec.key);
            sb_puts(b, "</span>");
            sbuf kv;
            sb_init(&kv, 4096);
            if (diff_key_value(&kv, rec.key)) {
                sb_puts(b, " <a class=\"hist\" href=\"/history/");
                sb_url(b, dt.name);
                sb_puts(b, "?key=");
                sb_url(b, kv.data);
                sb_puts(b, "\">history</a>");
            }
            sb_free(&kv);
            if (rec.change_count > 0) {
                sb_puts(b, "<table class=\"changes\">");
                for (size_t c = 0; c < rec.change_count; c++) {
                    const hollow_diff_change *ch = &rec.changes[c];
                    sb_puts(b, "<tr><th>");
                    sb_htmls(b, ch->path);
                    sb_puts(b, "</th><td class=\"old\">");
                    sb_htmls(b, ch->old_value ? ch->old_value : "(none)");
                    sb_puts(b, "</td><td>\xE2\x86\x92</td><td class=\"new\">");
                    sb_htmls(b, ch->new_value ? ch->new_value : "(none)");
                    sb_puts(b, "</td></tr>");
                }
                sb_puts(b, "</table>");
            }
            sb_puts(b, "</div>");
        }
        if (r->json) {
            sb_printf(b, "],\"total\":%zu}", dt.record_count);
        } else {
            sb_puts(b, "</div>");
            if (end < dt.record_count) {
                sb_printf(b,
                          "<p><a id=\"next\" href=\"/diff?from=%" PRId64
                          "&amp;to=%" PRId64 "&amp;type=",
                          from, to);
                sb_url(b, dt.name);
                sb_printf(b,
                          "&amp;size=%" PRIu64 "&amp;start=%zu\">next page"
                          "</a></p>",
                          size, end);
            }
            sb_puts(b, "<table>");
        }
    }
    if (r->json) {
        sb_puts(b, "]}\n");
    } else {
        sb_puts(b, "</table>");
        page_end(r);
    }
done:
    if (sd != NULL)
        serve_diff_release(ctx, sd);
    free(l.v);
}

/* ------------------------------------------------------------ History */

typedef struct hstep {
    int64_t version, prev;
    const char *kind; /* "added", "removed", "changed" */
    sbuf changes;     /* JSON: [{"path":..,"old":..,"new":..},...] */
    sbuf rows;        /* the same as HTML table rows */
} hstep;

static int find_key(const hollow_index *ix, const char *key, char *err,
                    size_t cap, bool *bad)
{
    hollow_value vals[HOLLOW_INDEX_MAX_PATHS];
    size_t nv;
    char scratch[1024];
    *bad = false;
    if (!serve_parse_key(vals, &nv, scratch, sizeof scratch, ix, key, err,
                         cap)) {
        *bad = true;
        return -1;
    }
    int rc = hollow_index_find(ix, vals, nv);
    return rc < 0 ? -1 : rc;
}

/* a value's JSON text as a JSON value: null when the field is absent
 * (NULL), a truncation mark when the text outgrew its buffer */
static void json_value_text(sbuf *out, const sbuf *v)
{
    if (v == NULL || v->data == NULL || v->len == 0)
        sb_puts(out, "null");
    else if (v->over)
        sb_puts(out, "{\"@truncated\":true}");
    else
        sb_put(out, v->data, v->len);
}

/* the fields of OBJECT records `a` (in sa) and `b` (in sb) that differ,
 * as JSON pairs into `out` */
static bool compare(sbuf *out, sbuf *rows, const hollow_read_state *sa,
                    const hollow_type *ta, hollow_ordinal a,
                    const hollow_read_state *sb_, const hollow_type *tb,
                    hollow_ordinal bo)
{
    const hollow_schema *s = hollow_type_schema(tb);
    bool any = false;
    sb_puts(out, "[");
    for (size_t f = 0; f < hollow_schema_field_count(s); f++) {
        const char *fname = hollow_schema_field_name(s, f);
        int fa = hollow_schema_field_index(hollow_type_schema(ta), fname);
        sbuf va, vb;
        sb_init(&va, 1u << 20);
        sb_init(&vb, 1u << 20);
        long budget = 100000;
        if (fa >= 0)
            record_field_json(&va, sa, ta, a, (size_t)fa, &budget);
        budget = 100000;
        record_field_json(&vb, sb_, tb, bo, f, &budget);
        if (va.len != vb.len || (va.len && memcmp(va.data, vb.data, va.len))) {
            sb_puts(out, any ? ",{\"path\":" : "{\"path\":");
            sb_jsons(out, fname);
            /* JSON values, as diff records give them */
            sb_puts(out, ",\"old\":");
            json_value_text(out, fa >= 0 ? &va : NULL);
            sb_puts(out, ",\"new\":");
            json_value_text(out, &vb);
            sb_puts(out, "}");
            sb_puts(rows, "<tr><th>");
            sb_htmls(rows, fname);
            sb_puts(rows, "</th><td class=\"old\">");
            sb_html(rows, va.data ? va.data : "", va.len);
            sb_puts(rows, "</td><td>\xE2\x86\x92</td><td class=\"new\">");
            sb_html(rows, vb.data ? vb.data : "", vb.len);
            sb_puts(rows, "</td></tr>");
            any = true;
        }
        sb_free(&va);
        sb_free(&vb);
    }
    sb_puts(out, "]");
    return any;
}

void page_history(serve_req *r, const char *type)
{
    serve_ctx *ctx = r->ctx;
    sbuf *b = r->out;
    const char *key = serve_arg(r, "key");
    uint64_t depth;
    ilist l = {NULL, 0, 0};
    hollow_read_state **st = NULL;
    hollow_index **ix = NULL;
    hstep *steps = NULL;
    size_t nsteps = 0, n = 0;
    char err[512];
    if (key == NULL || *key == '\0') {
        page_error(r, 400, "give key=K (the record's primary key)");
        return;
    }
    if (!serve_arg_u64(r, "depth",
                       ctx->history_max < 20 ? ctx->history_max : 20,
                       ctx->history_max, &depth))
        return;
    if (depth == 0)
        depth = 1;
    int64_t top = hollow_consumer_version(ctx->consumer);
    if (list_versions(ctx, &l) < 0) {
        page_error(r, 502, "cannot list the store: %s",
                   hollow_error_last()->message);
        goto done;
    }
    /* the window: the newest depth+1 versions up to the current one */
    size_t hi = 0;
    while (hi < l.n && l.v[hi] <= top)
        hi++;
    size_t lo = hi > depth + 1 ? hi - (depth + 1) : 0;
    n = hi - lo;
    if (n == 0) {
        page_error(r, 503, "no version loaded yet");
        goto done;
    }
    st = calloc(n, sizeof *st);
    ix = calloc(n, sizeof *ix);
    steps = calloc(n, sizeof *steps);
    if (st == NULL || ix == NULL || steps == NULL) {
        page_error(r, 503, "out of memory");
        goto done;
    }
    pthread_mutex_lock(&ctx->work);
    bool ok = serve_states_get(ctx, l.v + lo, n, st, err, sizeof err);
    pthread_mutex_unlock(&ctx->work);
    if (!ok) {
        page_error(r, 502, "%s", err);
        goto done;
    }
    const hollow_type *t = hollow_read_state_type(st[n - 1], type);
    if (t == NULL) {
        page_error(r, 404, "no type %s in version %" PRId64, type, l.v[hi - 1]);
        goto done;
    }
    /* the newest index from the cache, then derived backwards step by step
     * (a reverse delta patches it; anything else rebuilds) */
    if ((ix[n - 1] = serve_index_get(ctx, st[n - 1], type, NULL, err,
                                     sizeof err)) == NULL) {
        page_error(r, 400, "%s", err);
        goto done;
    }
    bool bad;
    hollow_ordinal cur = find_key(ix[n - 1], key, err, sizeof err, &bad);
    if (bad) {
        page_error(r, 400, "%s", err);
        goto done;
    }
    for (size_t i = n - 1; i-- > 0;) {
        const hollow_type *tp = hollow_read_state_type(st[i], type);
        hollow_ordinal prev = -1;
        if (tp != NULL && hollow_type_kind(tp) == HOLLOW_SCHEMA_OBJECT) {
            /* derived from the newer state's index; built when the type
             * was absent there */
            int rc = ix[i + 1] != NULL
                         ? hollow_index_derive(&ix[i], ix[i + 1], st[i])
                         : hollow_index_primary_key_new(&ix[i], st[i], type,
                                                        NULL, 0);
            if (rc < 0) {
                page_error(r, 502, "version %" PRId64 ": %s", l.v[lo + i],
                           hollow_error_last()->message);
                goto done;
            }
            prev = find_key(ix[i], key, err, sizeof err, &bad);
        }
        const hollow_type *tn = hollow_read_state_type(st[i + 1], type);
        hstep *s = &steps[nsteps];
        sb_init(&s->changes, 4u << 20);
        sb_init(&s->rows, 4u << 20);
        s->version = l.v[lo + i + 1];
        s->prev = l.v[lo + i];
        s->kind = NULL;
        if (prev < 0 && cur >= 0)
            s->kind = "added";
        else if (prev >= 0 && cur < 0)
            s->kind = "removed";
        else if (prev >= 0 && cur >= 0 &&
                 compare(&s->changes, &s->rows, st[i], tp, prev, st[i + 1], tn,
                         cur))
            s->kind = "changed";
        if (s->kind != NULL) {
            nsteps++;
        } else {
            sb_free(&s->changes);
            sb_free(&s->rows);
        }
        cur = prev;
    }
    bool present_at_start = cur >= 0;
    if (r->json) {
        sb_puts(b, "{\"type\":");
        sb_jsons(b, type);
        sb_puts(b, ",\"key\":");
        sb_jsons(b, key);
        sb_printf(b,
                  ",\"depth\":%" PRIu64 ",\"oldest\":%" PRId64 ",\"newest\""
                  ":%" PRId64 ",\"present_in_oldest\":%s,\"changes\":[",
                  depth, l.v[lo], l.v[hi - 1],
                  present_at_start ? "true" : "false");
        for (size_t i = 0; i < nsteps; i++) {
            sb_printf(b,
                      "%s{\"version\":%" PRId64 ",\"from\":%" PRId64
                      ",\"kind\":\"%s\",\"fields\":",
                      i ? "," : "", steps[i].version, steps[i].prev,
                      steps[i].kind);
            if (steps[i].changes.len)
                sb_put(b, steps[i].changes.data, steps[i].changes.len);
            else
                sb_puts(b, "[]");
            sb_puts(b, "}");
        }
        sb_puts(b, "]}\n");
        goto done;
    }
    char title[300];
    snprintf(title, sizeof title, "History of %s %s", type, key);
    page_begin(r, title);
    sb_printf(b,
              "<p>Versions %" PRId64 " to %" PRId64 " (depth %" PRIu64
              "; depth=N up to %u). <a href=\"/type/",
              l.v[lo], l.v[hi - 1], depth, ctx->history_max);
    sb_url(b, type);
    sb_puts(b, "?key=");
    sb_url(b, key);
    sb_puts(b, "\">the record now</a></p>");
    if (nsteps == 0)
        sb_printf(b, "<p id=\"no-changes\">No change in these versions%s.</p>",
                  present_at_start ? "" : " (and no such record)");
    sb_puts(b, "<ol id=\"history\" class=\"history\">");
    for (size_t i = 0; i < nsteps; i++) {
        sb_printf(
            b,
            "<li class=\"%s\" data-version=\"%" PRId64 "\"><b>%" PRId64
            "</b> <span class=\"kind\">%s</span> <a href=\"/diff?from=%" PRId64
            "&amp;to=%" PRId64 "&amp;type=",
            steps[i].kind, steps[i].version, steps[i].version, steps[i].kind,
            steps[i].prev, steps[i].version);
        sb_url(b, type);
        sb_puts(b, "\">diff</a>");
        if (steps[i].rows.len > 0) {
            sb_puts(b, "<table class=\"changes\">");
            sb_put(b, steps[i].rows.data, steps[i].rows.len);
            sb_puts(b, "</table>");
        }
        sb_puts(b, "</li>");
    }
    sb_puts(b, "</ol>");
    page_end(r);
done:
    for (size_t i = 0; i < nsteps; i++) {
        sb_free(&steps[i].changes);
        sb_free(&steps[i].rows);
    }
    for (size_t i = 0; i < n && st; i++) {
        if (ix)
            hollow_index_release(ix[i]);
        hollow_read_state_release(st[i]);
    }
    free(st);
    free(ix);
    free(steps);
    free(l.v);
}

/* ------------------------------------------------------------ metrics */

static int metrics_sink(void *payload, const void *data, size_t len)
{
    sbuf *b = payload;
    sb_put(b, data, len);
    return b->over ? HOLLOW_ERANGE : 0;
}

void page_metrics(serve_req *r)
{
    serve_ctx *ctx = r->ctx;
    r->content_type = HOLLOW_METRICS_CONTENT_TYPE;
    /* the library's: the consumer, its announcer and its blob store */
    hollow_metrics_sources src = HOLLOW_METRICS_SOURCES_INIT;
    src.consumer = ctx->consumer;
    src.announcer = ctx->an;
    src.blobstore = ctx->bs;
    int rc = hollow_metrics_write(metrics_sink, r->out, &src);
    if (rc < 0 && !r->out->over) {
        page_error(r, 500, "metrics: %s", hollow_error_last()->message);
        r->content_type = NULL;
        return;
    }
    /* then the explorer's own */
    pthread_mutex_lock(&ctx->lock);
    uint64_t req = ctx->requests, fail = ctx->failures;
    pthread_mutex_unlock(&ctx->lock);
    sb_printf(r->out,
              "# HELP hollow_serve_requests_total HTTP requests answered by "
              "the explorer.\n"
              "# TYPE hollow_serve_requests_total counter\n"
              "hollow_serve_requests_total %" PRIu64 "\n"
              "# HELP hollow_serve_failures_total Explorer requests answered "
              "with a 5xx status.\n"
              "# TYPE hollow_serve_failures_total counter\n"
              "hollow_serve_failures_total %" PRIu64 "\n",
              req, fail);
}
