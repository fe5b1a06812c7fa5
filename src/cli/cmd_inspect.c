/*
 * hollow-cli inspect [--records N] [--mmap] [--kind K] [--json] FILE|-
 * hollow-cli inspect [store options] [--version V] [--verbose] [--records N]
 *                    [--json]
 *
 * A blob file of any kind (snapshot, delta, reverse delta, header blob):
 * its tags and per type section what it holds, with a snapshot's first
 * records. A store: every version with its blobs, the announced and pinned
 * version, the plan a consumer would take to each version and the links
 * that lead nowhere; or with --version one version's tags and types.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hollow/blob.h"
#include "hollow/consumer.h"
#include "hollow/dump.h"
#include "hollow/read.h"
#include "input.h"
#include "json_out.h"
#include "opt.h"
#include "store_opts.h"

static const char USAGE[] =
    "usage: hollow-cli inspect [--records N] [--mmap] [--kind K] [--json] FILE\n"
    "       hollow-cli inspect [store options] [--version V] [--verbose]\n"
    "                          [--records N] [--json]\n"
    "\n"
    "FILE (or - for standard input): a blob of any kind. Shows its randomized\n"
    "tags and header tags, and per type its kind, shard count and bytes in\n"
    "the blob, with the record count and first N records of a snapshot, or\n"
    "the ordinals a delta removes and adds, or a header blob's schemas.\n"
    "\n"
    "A store: every version with its blobs (kind, size), the announced and\n"
    "pinned version, the plan a new consumer takes to each version (a\n"
    "snapshot, then deltas) and the broken links (a delta whose origin no\n"
    "snapshot path reaches). With --version V: that version's tags and per\n"
    "type its kind, shards, records and bytes in memory.\n"
    "\n"
    "%s"
    "  --version V     one version of the store; 0 means the latest (the\n"
    "                  announced version, else the newest one reachable)\n"
    "  --verbose       store: also the plan from the announced version to each\n"
    "                  version; with --version, 3 records per type\n"
    "  --records N     records to show per type (files: default 3)\n"
    "  --mmap          FILE: map the snapshot instead of reading it\n"
    "  --kind K        FILE: snapshot, delta, reverse-delta or header (default:\n"
    "                  from the file name, else from the bytes)\n"
    "  --json          one JSON document instead (shapes in docs/cli.md)\n"
    "  --help          this text\n";

static const char *const SCHEMA_KINDS[] = {"OBJECT", "LIST", "SET", "MAP"};

static const char *blob_kind_name(hollow_blob_kind k, bool json)
{
    switch (k) {
    case HOLLOW_BLOB_SNAPSHOT: return "snapshot";
    case HOLLOW_BLOB_DELTA: return "delta";
    case HOLLOW_BLOB_REVERSE_DELTA: return json ? "reverse_delta" : "reverse delta";
    case HOLLOW_BLOB_HEADER: return "header";
    }
    return "unknown";
}

typedef struct inspect_opts {
    long records;       /* -1: the default of the mode */
    bool mmap_mode;
    bool json;
    bool verbose;
    int kind;           /* HOLLOW_BLOB_KIND_UNKNOWN or a hollow_blob_kind */
} inspect_opts;

/* ---------------------------------------------------------- records */

/* up to `max` records of `t`: text lines "  [o] record", or JSON
 * [[o,record],...] */
static int print_records(const hollow_type *t, long max, bool json)
{
    long shown = 0;
    if (json)
        fputs(",\"sample\":[", stdout);
    for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0 && shown < max;
         o = hollow_type_next_ordinal(t, o + 1), shown++) {
        if (json)
            printf("%s[%d,", shown ? "," : "", (int)o);
        else
            printf("  [%d] ", (int)o);
        if (hollow_dump_record(t, o, cli_write_file, stdout) != 0)
            return -1;
        fputs(json ? "]" : "\n", stdout);
    }
    if (json)
        fputs("]", stdout);
    return 0;
}

static void print_tags_json(size_t n, int (*at)(const void *, size_t, const char **,
                                                const char **),
                            const void *obj)
{
    fputs("\"tags\":{", stdout);
    for (size_t i = 0; i < n; i++) {
        const char *k = "", *v = "";
        at(obj, i, &k, &v);
        if (i > 0)
            putchar(',');
        json_string(stdout, k);
        putchar(':');
        json_string(stdout, v);
    }
    putchar('}');
}

static int info_tag_at(const void *bi, size_t i, const char **k, const char **v)
{
    return hollow_blob_info_header_tag_at(bi, i, k, v);
}

static int state_tag_at(const void *rs, size_t i, const char **k, const char **v)
{
    return hollow_read_state_header_tag_at(rs, i, k, v);
}

/* ------------------------------------------------------------- files */

static int print_file_text(const char *name, const hollow_blob_info *bi,
                           const hollow_read_state *rs, long records)
{
    hollow_blob_kind kind = hollow_blob_info_kind(bi);
    printf("%s %s (%zu bytes)\n", blob_kind_name(kind, false), name,
           hollow_blob_info_size(bi));
    printf("randomized tag %lld (origin %lld)\n",
           (long long)hollow_blob_info_destination_tag(bi),
           (long long)hollow_blob_info_origin_tag(bi));
    for (size_t i = 0; i < hollow_blob_info_header_tag_count(bi); i++) {
        const char *k, *v;
        hollow_blob_info_header_tag_at(bi, i, &k, &v);
        printf("tag %s = %s\n", k, v);
    }
    if (kind == HOLLOW_BLOB_HEADER) {
        printf("types %zu\n", hollow_blob_info_type_count(bi));
        for (size_t i = 0; i < hollow_blob_info_schema_count(bi); i++) {
            const hollow_schema *s = hollow_blob_info_schema_at(bi, i);
            printf("schema %-26s %s\n", hollow_schema_name(s),
                   SCHEMA_KINDS[hollow_schema_kind_of(s)]);
        }
        return 0;
    }
    if (kind != HOLLOW_BLOB_SNAPSHOT)
        printf("changed types %zu\n", hollow_blob_info_section_count(bi));
    for (size_t i = 0; i < hollow_blob_info_section_count(bi); i++) {
        const hollow_blob_section *sec = hollow_blob_info_section_at(bi, i);
        if (kind == HOLLOW_BLOB_SNAPSHOT) {
            printf("type %-28s %-6s shards %-3u records %zu bytes %zu\n",
                   sec->type, SCHEMA_KINDS[sec->kind], sec->shard_count,
                   sec->records, sec->bytes);
            const hollow_type *t = rs ? hollow_read_state_type(rs, sec->type) : NULL;
            if (t != NULL && print_records(t, records, false) < 0)
                return -1;
        } else {
            printf("type %-28s %-6s shards %-3u removed %zu added %zu bytes %zu\n",
                   sec->type, SCHEMA_KINDS[sec->kind], sec->shard_count,
                   sec->removed, sec->added, sec->bytes);
        }
    }
    return 0;
}

static int print_file_json(const char *name, const hollow_blob_info *bi,
                           const hollow_read_state *rs, long records)
{
    hollow_blob_kind kind = hollow_blob_info_kind(bi);
    fputs("{\"file\":", stdout);
    json_string(stdout, name);
    printf(",\"kind\":\"%s\",\"size\":%zu,\"origin_tag\":%lld,"
           "\"destination_tag\":%lld,",
           blob_kind_name(kind, true), hollow_blob_info_size(bi),
           (long long)hollow_blob_info_origin_tag(bi),
           (long long)hollow_blob_info_destination_tag(bi));
    print_tags_json(hollow_blob_info_header_tag_count(bi), info_tag_at, bi);
    printf(",\"type_count\":%zu,\"schemas\":[", hollow_blob_info_type_count(bi));
    for (size_t i = 0; i < hollow_blob_info_schema_count(bi); i++) {
        const hollow_schema *s = hollow_blob_info_schema_at(bi, i);
        fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
        json_string(stdout, hollow_schema_name(s));
        printf(",\"kind\":\"%s\"}", SCHEMA_KINDS[hollow_schema_kind_of(s)]);
    }
    fputs("],\"types\":[", stdout);
    for (size_t i = 0; i < hollow_blob_info_section_count(bi); i++) {
        const hollow_blob_section *sec = hollow_blob_info_section_at(bi, i);
        fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
        json_string(stdout, sec->type);
        printf(",\"kind\":\"%s\",\"shards\":%u,\"max_ordinal\":%d,"
               "\"offset\":%zu,\"bytes\":%zu",
               SCHEMA_KINDS[sec->kind], sec->shard_count, (int)sec->max_ordinal,
               sec->offset, sec->bytes);
        if (kind == HOLLOW_BLOB_SNAPSHOT) {
            printf(",\"records\":%zu", sec->records);
            const hollow_type *t = rs ? hollow_read_state_type(rs, sec->type) : NULL;
            if (t != NULL && print_records(t, records, true) < 0)
                return -1;
        } else {
            printf(",\"removed\":%zu,\"added\":%zu", sec->removed, sec->added);
        }
        putchar('}');
    }
    fputs("]}\n", stdout);
    return 0;
}

static int inspect_file(const char *path, const inspect_opts *o)
{
    const char *name = cli_input_name(path);
    uint8_t *data = NULL;
    size_t len = 0;
    if (cli_read_input(&data, &len, path, "inspect") != 0)
        return 1;
    int kind = o->kind;
    if (kind == HOLLOW_BLOB_KIND_UNKNOWN && strcmp(path, "-") != 0) {
        const char *base = strrchr(path, '/');
        hollow_blob_key key;
        if (hollow_blob_key_parse(&key, base ? base + 1 : path) == 0)
            kind = (int)key.kind; /* Java's file names say it */
    }
    hollow_blob_info *bi = NULL;
    hollow_read_state *rs = NULL;
    long records = o->records < 0 ? 3 : o->records;
    int rc = 1;
    if (hollow_blob_info_read(&bi, data, len, kind) < 0) {
        cli_fail_hollow("inspect", "%s", name);
        goto done;
    }
    if (hollow_blob_info_kind(bi) == HOLLOW_BLOB_SNAPSHOT && records > 0) {
        hollow_read_options ro = HOLLOW_READ_OPTIONS_INIT;
        int lrc;
        if (o->mmap_mode && strcmp(path, "-") != 0) {
            ro.memory_mode = HOLLOW_MEMORY_MMAP;
            lrc = hollow_read_state_open(&rs, path, &ro);
        } else {
            lrc = hollow_read_state_from_snapshot(&rs, data, len, &ro);
        }
        if (lrc < 0) {
            cli_fail_hollow("inspect", "%s", name);
            goto done;
        }
    }
    if ((o->json ? print_file_json(name, bi, rs, records)
                 : print_file_text(name, bi, rs, records)) < 0) {
        cli_fail_hollow("inspect", "%s", name);
        goto done;
    }
    rc = cli_finish_output("inspect", 0);
done:
    hollow_read_state_release(rs);
    hollow_blob_info_free(bi);
    free(data);
    return rc;
}

/* ------------------------------------------------------------ stores */

typedef struct key_list {
    hollow_blob_key *keys;
    size_t count, cap;
} key_list;

typedef cli_versions version_list;

static int collect_key(const hollow_blob_key *key, void *payload)
{
    key_list *l = payload;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        hollow_blob_key *k = realloc(l->keys, cap * sizeof *k);
        if (k == NULL)
            return HOLLOW_ENOMEM;
        l->keys = k;
        l->cap = cap;
    }
    l->keys[l->count++] = *key;
    return 0;
}

/* what a store holds, listed once */
typedef struct store_view {
    const char *store, *where;
    hollow_blobstore *bs;
    key_list keys;
    version_list versions;
    int64_t announced; /* 0: none */
    int64_t pinned;    /* 0: none */
    int64_t latest;    /* what a consumer loads for "latest": the pin, or
                          the announced version; 0: none */
} store_view;

static bool has_version(const store_view *sv, int64_t v)
{
    for (size_t i = 0; i < sv->versions.n; i++)
        if (sv->versions.v[i] == v)
            return true;
    return false;
}

static void key_name(char *buf, const hollow_blob_key *k)
{
    if (hollow_blob_key_name(buf, HOLLOW_BLOB_NAME_MAX, k) < 0)
        snprintf(buf, HOLLOW_BLOB_NAME_MAX, "?");
}

/* the size of a blob (S3: from the cache or a HEAD, never downloaded);
 * -1 with the error set when it cannot be had */
static int64_t blob_size(hollow_blobstore *bs, const hollow_blob_key *k)
{
    int64_t n;
    return hollow_blobstore_size(&n, bs, k) == 0 ? n : -1;
}

static void print_plan_text(const char *label, const hollow_update_plan *p)
{
    printf("  %s ", label);
    if (p->count == 0)
        fputs("nothing to do", stdout);
    for (size_t i = 0; i < p->count; i++) {
        char name[HOLLOW_BLOB_NAME_MAX];
        key_name(name, &p->steps[i]);
        printf("%s%s", i ? ", " : "", name);
    }
    putchar('\n');
}

static void print_plan_json(const hollow_update_plan *p)
{
    putchar('[');
    for (size_t i = 0; i < p->count; i++) {
        char name[HOLLOW_BLOB_NAME_MAX];
        key_name(name, &p->steps[i]);
        printf("%s\"%s\"", i ? "," : "", name);
    }
    putchar(']');
}

static void print_version_marks(const store_view *sv, int64_t v)
{
    if (v == sv->announced && v == sv->pinned)
        fputs(" (announced, pinned)", stdout);
    else if (v == sv->announced)
        fputs(" (announced)", stdout);
    else if (v == sv->pinned)
        fputs(" (pinned)", stdout);
}

/* every version, its blobs and plans, and the broken links */
static int inspect_overview(const store_view *sv, const inspect_opts *o)
{
    size_t nv = sv->versions.n;
    bool *reachable = calloc(nv ? nv : 1, sizeof *reachable);
    if (reachable == NULL)
        return cli_fail("inspect", 1, "out of memory");
    const hollow_blob_key *keys = sv->keys.keys;
    size_t nk = sv->keys.count, nreach = 0;
    if (o->json) {
        printf("{\"store\":\"%s\",\"location\":", sv->store);
        json_string(stdout, sv->where);
        fputs(",\"announced\":", stdout);
        json_version_or_null(stdout, sv->announced);
        fputs(",\"pinned\":", stdout);
        json_version_or_null(stdout, sv->pinned);
        fputs(",\"versions\":[", stdout);
    } else {
        printf("store %s %s: %zu version%s, ", sv->store, sv->where, nv,
               nv == 1 ? "" : "s");
        if (sv->announced > 0)
            printf("announced %lld, ", (long long)sv->announced);
        else
            fputs("nothing announced, ", stdout);
        if (sv->pinned > 0)
            printf("pinned %lld\n", (long long)sv->pinned);
        else
            fputs("not pinned\n", stdout);
    }
    for (size_t i = 0; i < nv; i++) {
        int64_t v = sv->versions.v[i];
        if (o->json) {
            printf("%s{\"version\":%lld,\"announced\":%s,\"pinned\":%s,"
                   "\"blobs\":[", i ? "," : "", (long long)v,
                   v == sv->announced ? "true" : "false",
                   v == sv->pinned ? "true" : "false");
        } else {
            printf("version %lld", (long long)v);
            print_version_marks(sv, v);
            putchar('\n');
        }
        size_t nb = 0;
        for (size_t j = 0; j < nk; j++) {
            if (keys[j].version != v)
                continue;
            char name[HOLLOW_BLOB_NAME_MAX];
            key_name(name, &keys[j]);
            int64_t size = blob_size(sv->bs, &keys[j]);
            if (o->json) {
                printf("%s{\"name\":\"%s\",\"kind\":\"%s\",\"from\":", nb ? "," : "",
                       name, blob_kind_name(keys[j].kind, true));
                if (keys[j].kind == HOLLOW_BLOB_DELTA ||
                    keys[j].kind == HOLLOW_BLOB_REVERSE_DELTA)
                    printf("%lld", (long long)keys[j].from_version);
                else
                    fputs("null", stdout);
                fputs(",\"size\":", stdout);
                if (size >= 0)
                    printf("%lld}", (long long)size);
                else
                    fputs("null}", stdout);
            } else if (size >= 0) {
                printf("  blob %s %lld bytes\n", name, (long long)size);
            } else {
                printf("  blob %s (unreadable: %s)\n", name,
                       hollow_error_last()->message);
            }
            nb++;
        }
        hollow_update_plan p;
        int prc = hollow_consumer_plan_keys(&p, keys, nk, 0, v, 0);
        reachable[i] = prc == 0;
        nreach += prc == 0;
        if (o->json) {
            fputs("],\"reachable\":", stdout);
            fputs(prc == 0 ? "true,\"plan\":" : "false,\"plan\":null", stdout);
            if (prc == 0)
                print_plan_json(&p);
            fputs(",\"error\":", stdout);
            if (prc == 0)
                fputs("null", stdout);
            else
                json_string(stdout, hollow_error_last()->message);
        } else if (prc == 0) {
            print_plan_text("plan", &p);
        } else {
            printf("  unreachable: %s\n", hollow_error_last()->message);
        }
        hollow_update_plan_clear(&p);
        /* how a consumer at the announced version gets here */
        if (o->verbose && sv->announced > 0 && has_version(sv, sv->announced)) {
            hollow_update_plan q;
            int qrc = hollow_consumer_plan_keys(&q, keys, nk, sv->announced, v, 0);
            if (o->json) {
                fputs(",\"plan_from_announced\":", stdout);
                if (qrc == 0)
                    print_plan_json(&q);
                else
                    fputs("null", stdout);
            } else if (qrc == 0) {
                print_plan_text("from the announced version", &q);
            }
            hollow_update_plan_clear(&q);
        }
        if (o->json)
            putchar('}');
    }
    /* broken links: a (reverse) delta whose origin no snapshot path reaches */
    size_t nbroken = 0;
    fputs(o->json ? "],\"broken\":[" : "", stdout);
    for (size_t j = 0; j < nk; j++) {
        const hollow_blob_key *k = &keys[j];
        if (k->kind != HOLLOW_BLOB_DELTA && k->kind != HOLLOW_BLOB_REVERSE_DELTA)
            continue;
        bool ok = false;
        for (size_t i = 0; i < nv; i++)
            if (sv->versions.v[i] == k->from_version)
                ok = reachable[i];
        if (ok)
            continue;
        char name[HOLLOW_BLOB_NAME_MAX];
        key_name(name, k);
        if (o->json)
            printf("%s{\"blob\":\"%s\",\"kind\":\"%s\",\"from\":%lld,\"to\":%lld,"
                   "\"reason\":\"no snapshot path reaches version %lld\"}",
                   nbroken ? "," : "", name, blob_kind_name(k->kind, true),
                   (long long)k->from_version, (long long)k->version,
                   (long long)k->from_version);
        else
            printf("broken link %s: no snapshot path reaches version %lld, "
                   "its origin\n", name, (long long)k->from_version);
        nbroken++;
    }
    if (o->json)
        printf("],\"reachable\":%zu,\"unreachable\":%zu}\n", nreach, nv - nreach);
    else
        printf("%zu of %zu version%s reachable, %zu broken link%s\n", nreach, nv,
               nv == 1 ? "" : "s", nbroken, nbroken == 1 ? "" : "s");
    free(reachable);
    return 0;
}

/* "no version 5; versions are 1, 2, 3" (the first and last few of many) */
static int fail_no_version(const store_view *sv, int64_t v)
{
    size_t n = sv->versions.n;
    if (n == 0)
        return cli_fail("inspect", 1, "no version %lld; the store has no "
                        "versions", (long long)v);
    fprintf(stderr, "hollow-cli inspect: no version %lld; versions are ",
            (long long)v);
    for (size_t i = 0; i < n; i++) {
        if (n > 8 && i == 3) {
            fputs(", ...", stderr);
            i = n - 4;
            continue;
        }
        fprintf(stderr, "%s%lld", i ? ", " : "", (long long)sv->versions.v[i]);
    }
    if (n > 8)
        fprintf(stderr, " (%zu versions)", n);
    fputc('\n', stderr);
    return 1;
}

typedef struct plan_seen {
    char plan[4096];
} plan_seen;

static void on_refresh(const hollow_refresh_event *ev, void *payload)
{
    plan_seen *ps = payload;
    if (ev->done && ev->result == 0)
        snprintf(ps->plan, sizeof ps->plan, "%s", ev->plan);
}

static int inspect_version(const store_view *sv, int64_t version,
                           const inspect_opts *o)
{
    const hollow_blob_key *keys = sv->keys.keys;
    size_t nk = sv->keys.count;
    if (version == 0) {
        /* the latest: the announced (or pinned) version, else the newest
         * version a consumer reaches */
        version = sv->latest;
        for (size_t i = sv->versions.n; version == 0 && i-- > 0;) {
            hollow_update_plan p;
            if (hollow_consumer_plan_keys(&p, keys, nk, 0, sv->versions.v[i], 0) == 0)
                version = sv->versions.v[i];
            hollow_update_plan_clear(&p);
        }
        if (version == 0)
            return cli_fail("inspect", 1, "no version is reachable in %s",
                            sv->where);
    }
    if (!has_version(sv, version))
        return fail_no_version(sv, version);
    hollow_consumer *c = NULL;
    hollow_read_state *rs = NULL;
    plan_seen ps = {""};
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = sv->bs;
    co.listener = on_refresh;
    co.listener_payload = &ps;
    int rc = 1;
    if (hollow_consumer_new(&c, &co) < 0) {
        cli_fail_hollow("inspect", "%s", sv->where);
        goto done;
    }
    if (hollow_consumer_refresh(c, version) < 0) {
        cli_fail_hollow("inspect", "version %lld", (long long)version);
        goto done;
    }
    rs = hollow_consumer_acquire_state(c);
    long records = o->records >= 0 ? o->records : o->verbose ? 3 : 0;
    if (o->json) {
        printf("{\"store\":\"%s\",\"location\":", sv->store);
        json_string(stdout, sv->where);
        printf(",\"version\":%lld,\"announced\":", (long long)version);
        json_version_or_null(stdout, sv->announced);
        fputs(",\"pinned\":", stdout);
        json_version_or_null(stdout, sv->pinned);
        fputs(",\"plan\":[", stdout);
        /* the listener's text, "snapshot-1, delta-1-2", as a list */
        for (char *p = ps.plan, *end; *p != '\0'; p = end) {
            end = strstr(p, ", ");
            size_t n = end ? (size_t)(end - p) : strlen(p);
            printf("%s\"%.*s\"", p == ps.plan ? "" : ",", (int)n, p);
            end = end ? end + 2 : p + n;
        }
        printf("],\"randomized_tag\":%lld,\"origin_tag\":%lld,",
               (long long)hollow_read_state_randomized_tag(rs),
               (long long)hollow_read_state_origin_tag(rs));
        print_tags_json(hollow_read_state_header_tag_count(rs), state_tag_at, rs);
        fputs(",\"types\":[", stdout);
    } else {
        printf("version %lld", (long long)version);
        print_version_marks(sv, version);
        printf("\nplan %s\n", ps.plan);
        printf("randomized tag %lld (origin %lld)\n",
               (long long)hollow_read_state_randomized_tag(rs),
               (long long)hollow_read_state_origin_tag(rs));
        for (size_t i = 0; i < hollow_read_state_header_tag_count(rs); i++) {
            const char *k, *v;
            hollow_read_state_header_tag_at(rs, i, &k, &v);
            printf("tag %s = %s\n", k, v);
        }
    }
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++) {
        const hollow_type *t = hollow_read_state_type_at(rs, i);
        if (o->json) {
            fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
            json_string(stdout, hollow_type_name(t));
            printf(",\"kind\":\"%s\",\"shards\":%u,\"records\":%zu,"
                   "\"max_ordinal\":%d,\"memory\":%zu",
                   SCHEMA_KINDS[hollow_type_kind(t)], hollow_type_shard_count(t),
                   hollow_type_record_count(t), (int)hollow_type_max_ordinal(t),
                   hollow_type_memory(t));
        } else {
            printf("type %-28s %-6s shards %-3u records %zu memory %zu\n",
                   hollow_type_name(t), SCHEMA_KINDS[hollow_type_kind(t)],
                   hollow_type_shard_count(t), hollow_type_record_count(t),
                   hollow_type_memory(t));
        }
        if ((records > 0 || o->json) && print_records(t, records, o->json) < 0) {
            cli_fail_hollow("inspect", "type %s", hollow_type_name(t));
            goto done;
        }
        if (o->json)
            putchar('}');
    }
    if (o->json)
        fputs("]}\n", stdout);
    rc = cli_finish_output("inspect", 0);
done:
    hollow_read_state_release(rs);
    hollow_consumer_free(c);
    return rc;
}

static int inspect_store(const cli_store_opts *so, bool version_given,
                         int64_t version, const inspect_opts *o)
{
    store_view sv;
    memset(&sv, 0, sizeof sv);
    sv.store = cli_store_is_memory(so) ? "memory" : so->store;
    sv.where = "";
    hollow_announcer *an = NULL;
    int rc = cli_store_open(&sv.bs, so, "inspect", &sv.where);
    if (rc != 0)
        return rc;
    if ((rc = cli_announcer_open(&an, so, sv.bs, false, "inspect")) != 0)
        goto done;
    rc = 1;
    int64_t latest = 0;
    int arc = hollow_announcer_latest(&latest, an);
    if (arc < 0 && arc != HOLLOW_ENOTFOUND)
        fprintf(stderr, "hollow-cli inspect: warning: the announced version: "
                "%s\n", hollow_error_last()->message);
    if (arc == 0)
        sv.latest = sv.announced = latest;
    hollow_announcer_stats st;
    if (hollow_announcer_stats_get(&st, an) == 0 && st.pinned) {
        /* latest() gives the pin; the announced version is behind it */
        sv.pinned = st.pinned_version;
        sv.latest = st.pinned_version;
        sv.announced = st.latest > 0 ? st.latest : 0;
    }
    if (hollow_blobstore_list(sv.bs, collect_key, &sv.keys) != 0 ||
        hollow_blobstore_list_versions(sv.bs, cli_versions_add, &sv.versions) != 0) {
        cli_fail_hollow("inspect", "listing %s", sv.where);
        goto done;
    }
    rc = version_given ? inspect_version(&sv, version, o) : inspect_overview(&sv, o);
    if (rc == 0)
        rc = cli_finish_output("inspect", 0);
done:
    free(sv.keys.keys);
    free(sv.versions.v);
    cli_announcer_close(an);
    cli_store_close(sv.bs);
    return rc;
}

static int parse_kind(int *out, const char *v)
{
    static const struct { const char *name; hollow_blob_kind kind; } kinds[] = {
        {"snapshot", HOLLOW_BLOB_SNAPSHOT}, {"delta", HOLLOW_BLOB_DELTA},
        {"reverse-delta", HOLLOW_BLOB_REVERSE_DELTA},
        {"reversedelta", HOLLOW_BLOB_REVERSE_DELTA},
        {"header", HOLLOW_BLOB_HEADER}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(v, kinds[i].name) == 0) {
            *out = (int)kinds[i].kind;
            return 0;
        }
    return cli_fail("inspect", 2, "--kind %s: snapshot, delta, reverse-delta or "
                    "header", v);
}

int cmd_inspect(int argc, char **argv)
{
    enum { O_RECORDS = 1, O_MMAP, O_VERBOSE, O_HELP, O_VERSION, O_JSON, O_KIND };
    static const opt_spec specs[] = {CLI_STORE_SPECS,
                                     {"records", OPT_VALUE, O_RECORDS},
                                     {"mmap", OPT_FLAG, O_MMAP},
                                     {"verbose", OPT_FLAG, O_VERBOSE},
                                     {"version", OPT_VALUE, O_VERSION},
                                     {"json", OPT_FLAG, O_JSON},
                                     {"kind", OPT_VALUE, O_KIND},
                                     {"help", OPT_FLAG, O_HELP},
                                     {"h", OPT_FLAG, O_HELP}};
    opt_state st;
    opt_init(&st, argc, argv, "inspect");
    cli_store_opts so = CLI_STORE_OPTS_INIT;
    inspect_opts o = {-1, false, false, false, HOLLOW_BLOB_KIND_UNKNOWN};
    const char *path = NULL, *v;
    bool store_given = false, version_given = false;
    int64_t version = 0;
    int k, rc;
    while ((k = opt_next(&st, specs, OPT_COUNT(specs), &v)) != OPT_END) {
        switch (k) {
        case O_RECORDS: {
            char *end;
            o.records = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || o.records < 0 || o.records > 1000000)
                return cli_fail("inspect", 2, "--records needs a number from 0 "
                                "to 1000000");
            break;
        }
        case O_MMAP: o.mmap_mode = true; break;
        case O_VERBOSE: o.verbose = true; break;
        case O_JSON: o.json = true; break;
        case O_KIND:
            if ((rc = parse_kind(&o.kind, v)) != 0)
                return rc;
            break;
        case O_VERSION:
            if ((rc = opt_version(&version, "inspect", "version", v)) != 0)
                return rc;
            version_given = true;
            break;
        case O_HELP: printf(USAGE, CLI_STORE_USAGE); return 0;
        case OPT_POSITIONAL:
            if (path != NULL)
                return cli_fail("inspect", 2, "more than one blob given");
            path = v;
            break;
        default:
            if (k > 0 && cli_store_option(&so, k, v)) {
                store_given = true;
                break;
            }
            return 2;
        }
    }
    if (path != NULL) {
        if (store_given || version_given)
            return cli_fail("inspect", 2, "a FILE or a store (--store, --dir, "
                            "--version ...), not both");
        return inspect_file(path, &o);
    }
    if (o.mmap_mode || o.kind != HOLLOW_BLOB_KIND_UNKNOWN)
        return cli_fail("inspect", 2, "--mmap and --kind go with a FILE");
    return inspect_store(&so, version_given, version, &o);
}
