/*
 * Every public function of include/hollow/ called with NULL pointers, an
 * unknown options version or an out-of-range enum (issue 12 item 5): calls
 * that return int give HOLLOW_EINVAL with a message naming what is wrong;
 * the others give the sentinel their header documents (NULL, 0, false,
 * HOLLOW_ORDINAL_NONE, ...); void calls do nothing. style.md B4.6.
 *
 * Each case runs in its own forked child (a Check loop test), so a crash
 * names its case: the failure report gives the line of the last
 * mark_point(), which is the case's line.
 */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "hollow/hollow.h"
#include "hollow/sys/announcer.h"
#include "hollow/sys/blobstore.h"
#include "testhelp.h"

static const char schema_text[] =
    "Str { string value; }\n"
    "Movie @PrimaryKey(id) { int id; long l; float f; double d; boolean b;"
    " string name; bytes data; Str title; }\n"
    "ListOfStr List<Str>;\n"
    "SetOfMovie Set<Movie> @HashKey(id);\n"
    "MapOfStr Map<Str, Movie>;\n";

/* the fixture: one of everything, valid, for the arguments not under test */
static hollow_schema_list *l;
static hollow_schema *s;
static hollow_write_state *ws;
static hollow_record *r;
static hollow_read_state *rs;
static const hollow_type *t, *tl, *tset, *tmap;
static hollow_blobstore *bs;
static hollow_announcer *an;
static hollow_stream *st;
static hollow_producer *p;
static hollow_consumer *c;
static hollow_index *ix;
static hollow_state_holder *h;
static ht_mem snap;

static hollow_ordinal add(hollow_record *rec)
{
    hollow_ordinal o;
    HT_OK(hollow_write_state_add(&o, ws, rec));
    hollow_record_reset(rec);
    return o;
}

static void setup(void)
{
    HT_OK(hollow_schema_parse(&l, schema_text, strlen(schema_text)));
    HT_OK(hollow_schema_object_new(&s, "Other"));
    HT_OK(hollow_write_state_new(&ws, l, NULL));
    hollow_record *rs_ = NULL, *rl = NULL, *rset = NULL, *rmap = NULL;
    HT_OK(hollow_record_new(&rs_, ws, "Str"));
    HT_OK(hollow_record_set_string(rs_, 0, "Up", 2));
    hollow_ordinal so = add(rs_);
    HT_OK(hollow_record_new(&r, ws, "Movie"));
    HT_OK(hollow_record_set_int(r, 0, 1));
    HT_OK(hollow_record_set_string(r, 5, "Up", 2));
    HT_OK(hollow_record_set_ref(r, 7, so));
    hollow_ordinal mo = add(r);
    HT_OK(hollow_record_new(&rl, ws, "ListOfStr"));
    HT_OK(hollow_record_add_element(rl, so));
    add(rl);
    HT_OK(hollow_record_new(&rset, ws, "SetOfMovie"));
    HT_OK(hollow_record_add_element(rset, mo));
    add(rset);
    HT_OK(hollow_record_new(&rmap, ws, "MapOfStr"));
    HT_OK(hollow_record_put_entry(rmap, so, mo));
    add(rmap);
    hollow_record_free(rs_);
    hollow_record_free(rl);
    hollow_record_free(rset);
    hollow_record_free(rmap);
    memset(&snap, 0, sizeof snap);
    HT_OK(hollow_write_state_write_snapshot(ws, ht_mem_sink, &snap));
    HT_OK(hollow_read_state_from_snapshot(&rs, snap.p, snap.len, NULL));
    t = hollow_read_state_type(rs, "Movie");
    tl = hollow_read_state_type(rs, "ListOfStr");
    tset = hollow_read_state_type(rs, "SetOfMovie");
    tmap = hollow_read_state_type(rs, "MapOfStr");
    ck_assert(t && tl && tset && tmap);
    HT_OK(hollow_blobstore_memory_new(&bs, NULL));
    HT_OK(hollow_announcer_inproc_new(&an, NULL));
    HT_OK(hollow_stream_from_memory(&st, "abc", 3));
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.schemas = l;
    HT_OK(hollow_producer_new(&p, &po));
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    HT_OK(hollow_consumer_new(&c, &co));
    HT_OK(hollow_index_primary_key_new(&ix, rs, "Movie", NULL, 0));
    HT_OK(hollow_state_holder_new(&h));
}

static void teardown(void)
{
    hollow_state_holder_free(h);
    hollow_index_release(ix);
    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_stream_close(st);
    hollow_announcer_free(an);
    hollow_blobstore_free(bs);
    hollow_read_state_release(rs);
    free(snap.p);
    hollow_record_free(r);
    hollow_write_state_free(ws);
    hollow_schema_free(s);
    hollow_schema_list_free(l);
}

/* whether `hay` contains `needle`, ignoring ASCII case */
static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/*
 * rc is HOLLOW_EINVAL and the call set the last error (cleared before it)
 * to HOLLOW_EINVAL with a message, which mentions `what` if not NULL.
 * Checks added for this test say "null argument: <name>"; older ones word
 * it their way ("invalid blob key", "a producer needs a blob store").
 */
static void expect_einval(int rc, const char *expr, const char *what)
{
    const hollow_error *e = hollow_error_last();
    ck_assert_msg(rc == HOLLOW_EINVAL, "%s returned %d, not HOLLOW_EINVAL",
                  expr, rc);
    ck_assert_msg(e->code == HOLLOW_EINVAL, "%s: last error code %d", expr,
                  e->code);
    ck_assert_msg(e->message != NULL && e->message[0] != '\0',
                  "%s: no error message", expr);
    if (what != NULL)
        ck_assert_msg(contains_nocase(e->message, what),
                      "%s: message '%s' does not mention '%s'", expr,
                      e->message, what);
}

#define EINVAL_NULL(expr)                                                      \
    (hollow_error_clear(), expect_einval((expr), #expr, NULL))
#define EINVAL_MSG(expr, what)                                                 \
    (hollow_error_clear(), expect_einval((expr), #expr, (what)))
#define SENTINEL(expr, want) ck_assert_msg((expr) == (want), "%s", #expr)

static int sink(void *payload, const void *data, size_t len)
{
    (void)payload, (void)data, (void)len;
    return 0;
}
static int text_sink(void *payload, const char *data, size_t len)
{
    (void)payload, (void)data, (void)len;
    return 0;
}
static int key_cb(const hollow_blob_key *k, void *payload)
{
    (void)k, (void)payload;
    return 0;
}
static int version_cb(int64_t v, void *payload)
{
    (void)v, (void)payload;
    return 0;
}
static int ann_cb(int64_t v, void *payload)
{
    (void)v, (void)payload;
    return 0;
}
static int populate(hollow_write_state *w, void *payload)
{
    (void)w, (void)payload;
    return 0;
}
static int validator(const hollow_read_state *state, int64_t v, char *why,
                     size_t cap, void *payload)
{
    (void)state, (void)v, (void)why, (void)cap, (void)payload;
    return 0;
}
static void listener(const hollow_refresh_event *ev, void *payload)
{
    (void)ev, (void)payload;
}
static int stream_read(size_t *n, void *buf, size_t cap, void *payload)
{
    (void)buf, (void)cap, (void)payload;
    *n = 0;
    return 0;
}

/*
 * Run case `i` (or count the cases when i < 0); returns the case count.
 * A case is one CASE(stmt) line.
 */
static int run_case(int i)
{
    int k = 0;
#define CASE(stmt)                                                             \
    do {                                                                       \
        if (k++ == i) {                                                        \
            mark_point();                                                      \
            stmt;                                                              \
            return k;                                                          \
        }                                                                      \
    } while (0)

    int32_t i32;
    int64_t i64;
    uint32_t u32;
    size_t n;
    float f;
    double d;
    bool b;
    char buf[64];
    uint16_t u16[8];
    hollow_ordinal o, o2;
    hollow_str str;
    hollow_bytes by;
    hollow_value val;
    hollow_iter it;
    hollow_index_matches m;
    hollow_blob_key key = hollow_blob_key_snapshot(1);
    hollow_blob_key bad_kind = key;
    bad_kind.kind = (hollow_blob_kind)9;
    hollow_value probe = hollow_key_int(1);
    hollow_value bad_probe = probe;
    bad_probe.type = (hollow_field_type)99;
    const char *kp[] = {NULL};
    const char *ck, *cv;
    hollow_subscription_id sid;
    int fd = -1;
    hollow_read_state *ors = NULL;
    hollow_schema *os = NULL;
    hollow_schema_list *ol = NULL;
    hollow_write_state *ows = NULL;
    hollow_record *orec = NULL;
    hollow_blobstore *obs = NULL;
    hollow_announcer *oan = NULL;
    hollow_stream *ost = NULL;
    hollow_producer *op = NULL;
    hollow_consumer *oc = NULL;
    hollow_index *oix = NULL;
    char *text = NULL;
    hollow_announcer_stats stats;

    hollow_read_options ro = HOLLOW_READ_OPTIONS_INIT;
    hollow_read_options ro_ver = ro, ro_mode = ro;
    ro_ver.version = 99;
    ro_mode.memory_mode = (hollow_memory_mode)7;
    hollow_write_options wo = HOLLOW_WRITE_OPTIONS_INIT;
    wo.version = 99;
    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = bs;
    po.schemas = l;
    hollow_producer_options po_ver = po, po_wver = po;
    po_ver.version = 99;
    po_wver.write.version = 99;
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    hollow_consumer_options co_ver = co, co_mode = co;
    co_ver.version = 99;
    co_mode.memory_mode = (hollow_memory_mode)7;
    hollow_blobstore_memory_options mo = HOLLOW_BLOBSTORE_MEMORY_OPTIONS_INIT;
    mo.version = 99;
    hollow_blobstore_fs_options fo = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    fo.dir = "/tmp";
    hollow_blobstore_fs_options fo_ver = fo;
    fo_ver.version = 99;
    hollow_announcer_inproc_options io = HOLLOW_ANNOUNCER_INPROC_OPTIONS_INIT;
    io.version = 99;
    hollow_announcer_fs_options ao = HOLLOW_ANNOUNCER_FS_OPTIONS_INIT;
    ao.dir = "/tmp";
    hollow_announcer_fs_options ao_ver = ao;
    ao_ver.version = 99;
    /* backends of another vtable version (hollow/sys/) */
    struct hollow_blobstore bad_bs;
    memset(&bad_bs, 0, sizeof bad_bs);
    bad_bs.version = 99;
    struct hollow_announcer bad_an;
    memset(&bad_an, 0, sizeof bad_an);
    bad_an.version = 99;
    /* the right version, required entries left NULL */
    struct hollow_blobstore empty_bs;
    memset(&empty_bs, 0, sizeof empty_bs);
    empty_bs.version = HOLLOW_BLOBSTORE_VERSION;
    struct hollow_announcer empty_an;
    memset(&empty_an, 0, sizeof empty_an);
    empty_an.version = HOLLOW_ANNOUNCER_VERSION;

    /* ------------------------------------------------------ common.h */
    CASE(ck_assert_int_gt(hollow_version_number(), 0));
    CASE(ck_assert_ptr_nonnull(hollow_version_string()));
    CASE(hollow_set_allocator(NULL)); /* documented: the C library's */

    /* ------------------------------------------------------- error.h */
    CASE(ck_assert_ptr_nonnull(hollow_strerror(12345)));
    CASE(ck_assert_ptr_nonnull(hollow_strerror(-12345)));
    CASE(hollow_error_clear();
         ck_assert_ptr_nonnull(hollow_error_last()->message));

    /* ------------------------------------------------------ schema.h */
    CASE(EINVAL_NULL(hollow_schema_object_new(NULL, "A")));
    CASE(EINVAL_NULL(hollow_schema_object_new(&os, NULL)));
    CASE(EINVAL_NULL(hollow_schema_list_type_new(NULL, "L", "A")));
    CASE(EINVAL_NULL(hollow_schema_list_type_new(&os, NULL, "A")));
    CASE(EINVAL_NULL(hollow_schema_list_type_new(&os, "L", NULL)));
    CASE(EINVAL_NULL(hollow_schema_set_type_new(NULL, "S", "A")));
    CASE(EINVAL_NULL(hollow_schema_set_type_new(&os, NULL, "A")));
    CASE(EINVAL_NULL(hollow_schema_set_type_new(&os, "S", NULL)));
    CASE(EINVAL_NULL(hollow_schema_map_type_new(NULL, "M", "A", "B")));
    CASE(EINVAL_NULL(hollow_schema_map_type_new(&os, NULL, "A", "B")));
    CASE(EINVAL_NULL(hollow_schema_map_type_new(&os, "M", NULL, "B")));
    CASE(EINVAL_NULL(hollow_schema_map_type_new(&os, "M", "A", NULL)));
    CASE(EINVAL_NULL(hollow_schema_add_field(NULL, "f", HOLLOW_FIELD_INT, NULL)));
    CASE(EINVAL_NULL(hollow_schema_add_field(s, NULL, HOLLOW_FIELD_INT, NULL)));
    CASE(EINVAL_MSG(hollow_schema_add_field(s, "f", (hollow_field_type)99, NULL),
                    "field type"));
    CASE(EINVAL_MSG(hollow_schema_add_field(s, "f", (hollow_field_type)-1, NULL),
                    "field type"));
    CASE(EINVAL_NULL(hollow_schema_set_key(NULL, kp, 0)));
    CASE(EINVAL_NULL(hollow_schema_set_key(s, NULL, 1)));
    CASE(EINVAL_NULL(hollow_schema_set_key(s, kp, 1)));
    CASE(EINVAL_NULL(hollow_schema_clone(NULL, s)));
    CASE(EINVAL_NULL(hollow_schema_clone(&os, NULL)));
    CASE(hollow_schema_free(NULL));
    CASE(SENTINEL(hollow_schema_name(NULL), NULL));
    CASE(SENTINEL(hollow_schema_kind_of(NULL), HOLLOW_SCHEMA_OBJECT));
    CASE(SENTINEL(hollow_schema_field_count(NULL), 0));
    CASE(SENTINEL(hollow_schema_field_name(NULL, 0), NULL));
    CASE(SENTINEL(hollow_schema_field_type(NULL, 0), HOLLOW_FIELD_INT));
    CASE(SENTINEL(hollow_schema_field_ref_type(NULL, 0), NULL));
    CASE(SENTINEL(hollow_schema_field_index(NULL, "id"), -1));
    CASE(SENTINEL(hollow_schema_field_index(hollow_type_schema(t), NULL), -1));
    CASE(SENTINEL(hollow_schema_element_type(NULL), NULL));
    CASE(SENTINEL(hollow_schema_value_type(NULL), NULL));
    CASE(SENTINEL(hollow_schema_key_count(NULL), 0));
    CASE(SENTINEL(hollow_schema_key_path(NULL, 0), NULL));
    CASE(SENTINEL(hollow_field_type_name((hollow_field_type)99), NULL));
    CASE(SENTINEL(hollow_field_type_name((hollow_field_type)-1), NULL));
    CASE(SENTINEL(hollow_schema_equal(NULL, s), false));
    CASE(SENTINEL(hollow_schema_equal(s, NULL), false));
    CASE(SENTINEL(hollow_schema_equal(NULL, NULL), true));
    CASE(SENTINEL(hollow_schema_print(buf, sizeof buf, NULL), 0);
         ck_assert_str_eq(buf, ""));
    CASE(ck_assert_uint_gt(hollow_schema_print(NULL, 10, s), 0));
    CASE(EINVAL_NULL(hollow_schema_list_new(NULL)));
    CASE(EINVAL_NULL(hollow_schema_parse(NULL, "A { int x; }", 12)));
    CASE(EINVAL_NULL(hollow_schema_parse(&ol, NULL, 5)));
    CASE(EINVAL_NULL(hollow_schema_list_add(NULL, NULL)));
    CASE(HT_OK(hollow_schema_clone(&os, s));
         EINVAL_NULL(hollow_schema_list_add(NULL, os))); /* os is freed */
    CASE(EINVAL_NULL(hollow_schema_list_add(l, NULL)));
    CASE(SENTINEL(hollow_schema_list_count(NULL), 0));
    CASE(SENTINEL(hollow_schema_list_get(NULL, 0), NULL));
    CASE(SENTINEL(hollow_schema_list_find(NULL, "Movie"), NULL));
    CASE(SENTINEL(hollow_schema_list_find(l, NULL), NULL));
    CASE(EINVAL_NULL(hollow_schema_list_validate(NULL)));
    CASE(EINVAL_NULL(hollow_schema_list_hash(NULL, l)));
    CASE(EINVAL_NULL(hollow_schema_list_hash(&i32, NULL)));
    CASE(EINVAL_NULL(hollow_schema_list_print(NULL, l)));
    CASE(EINVAL_NULL(hollow_schema_list_print(&text, NULL)));
    CASE(EINVAL_NULL(hollow_schema_list_sort(NULL)));
    CASE(hollow_schema_list_free(NULL));
    CASE(hollow_free(NULL));

    /* ------------------------------------------------------- write.h */
    CASE(EINVAL_NULL(hollow_write_state_new(NULL, l, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_new(&ows, NULL, NULL)));
    CASE(EINVAL_MSG(hollow_write_state_new(&ows, l, &wo), "version");
         ck_assert_ptr_null(ows));
    CASE(hollow_write_state_free(NULL));
    CASE(SENTINEL(hollow_write_state_schemas(NULL), NULL));
    CASE(EINVAL_NULL(hollow_write_state_set_shard_count(NULL, "Movie", 1)));
    CASE(EINVAL_NULL(hollow_write_state_set_shard_count(ws, NULL, 1)));
    CASE(EINVAL_NULL(hollow_write_state_shard_counts(NULL, &u32, ws, "Movie")));
    CASE(EINVAL_NULL(hollow_write_state_shard_counts(&u32, NULL, ws, "Movie")));
    CASE(EINVAL_NULL(hollow_write_state_shard_counts(&u32, &u32, NULL, "Movie")));
    CASE(EINVAL_NULL(hollow_write_state_shard_counts(&u32, &u32, ws, NULL)));
    CASE(EINVAL_NULL(hollow_record_new(NULL, ws, "Movie")));
    CASE(EINVAL_NULL(hollow_record_new(&orec, NULL, "Movie")));
    CASE(EINVAL_NULL(hollow_record_new(&orec, ws, NULL)));
    CASE(hollow_record_free(NULL));
    CASE(hollow_record_reset(NULL));
    CASE(SENTINEL(hollow_record_schema(NULL), NULL));
    CASE(EINVAL_NULL(hollow_record_set_int(NULL, 0, 1)));
    CASE(EINVAL_NULL(hollow_record_set_long(NULL, 1, 1)));
    CASE(EINVAL_NULL(hollow_record_set_float(NULL, 2, 1)));
    CASE(EINVAL_NULL(hollow_record_set_double(NULL, 3, 1)));
    CASE(EINVAL_NULL(hollow_record_set_bool(NULL, 4, true)));
    CASE(EINVAL_NULL(hollow_record_set_string(NULL, 5, "x", 1)));
    CASE(EINVAL_NULL(hollow_record_set_string(r, 5, NULL, 5)));
    CASE(HT_OK(hollow_record_set_string(r, 5, NULL, 0))); /* empty */
    CASE(EINVAL_NULL(hollow_record_set_string_utf16(NULL, 5, u16, 1)));
    CASE(EINVAL_NULL(hollow_record_set_string_utf16(r, 5, NULL, 3)));
    CASE(HT_OK(hollow_record_set_string_utf16(r, 5, NULL, 0)));
    CASE(EINVAL_NULL(hollow_record_set_bytes(NULL, 6, "x", 1)));
    CASE(EINVAL_NULL(hollow_record_set_bytes(r, 6, NULL, 3)));
    CASE(HT_OK(hollow_record_set_bytes(r, 6, NULL, 0)));
    CASE(EINVAL_NULL(hollow_record_set_ref(NULL, 7, 0)));
    CASE(EINVAL_NULL(hollow_record_set_null(NULL, 0)));
    CASE(EINVAL_NULL(hollow_record_add_element(NULL, 0)));
    CASE(EINVAL_NULL(hollow_record_put_entry(NULL, 0, 0)));
    CASE(EINVAL_NULL(hollow_write_state_add(NULL, ws, r)));
    CASE(EINVAL_NULL(hollow_write_state_add(&o, NULL, r)));
    CASE(EINVAL_NULL(hollow_write_state_add(&o, ws, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_set_header_tag(NULL, "k", "v")));
    CASE(EINVAL_NULL(hollow_write_state_set_header_tag(ws, NULL, "v")));
    CASE(EINVAL_NULL(hollow_write_state_set_header_tag(ws, "k", NULL)));
    CASE(EINVAL_NULL(hollow_write_state_remove_header_tag(NULL, "k")));
    CASE(EINVAL_NULL(hollow_write_state_remove_header_tag(ws, NULL)));
    CASE(hollow_write_state_set_randomized_tag(NULL, 5));
    CASE(SENTINEL(hollow_write_state_randomized_tag(NULL), 0));
    CASE(EINVAL_NULL(hollow_write_state_prepare_cycle(NULL)));
    CASE(EINVAL_NULL(hollow_write_state_rollback(NULL)));
    CASE(SENTINEL(hollow_write_state_has_changes(NULL), false));
    CASE(EINVAL_NULL(hollow_write_state_restore(NULL, rs)));
    CASE(EINVAL_NULL(hollow_write_state_restore(ws, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_snapshot(NULL, sink, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_snapshot(ws, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_delta(NULL, sink, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_delta(ws, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_reverse_delta(NULL, sink, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_reverse_delta(ws, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_header(NULL, sink, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_write_header(ws, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_checksum(NULL, ws)));
    CASE(EINVAL_NULL(hollow_write_state_checksum(&u32, NULL)));
    CASE(EINVAL_NULL(hollow_write_state_copy_from(NULL, rs)));
    CASE(EINVAL_NULL(hollow_write_state_copy_from(ws, NULL)));

    /* -------------------------------------------------------- read.h */
    CASE(EINVAL_NULL(hollow_read_state_from_snapshot(NULL, snap.p, snap.len, NULL)));
    CASE(EINVAL_NULL(hollow_read_state_from_snapshot(&ors, NULL, 10, NULL)));
    CASE(EINVAL_MSG(hollow_read_state_from_snapshot(&ors, snap.p, snap.len, &ro_ver),
                    "version");
         ck_assert_ptr_null(ors));
    CASE(EINVAL_MSG(hollow_read_state_from_snapshot(&ors, snap.p, snap.len, &ro_mode),
                    "memory mode"));
    CASE(EINVAL_NULL(hollow_read_state_open(NULL, "/nonexistent", NULL)));
    CASE(EINVAL_NULL(hollow_read_state_open(&ors, NULL, NULL)));
    CASE(EINVAL_MSG(hollow_read_state_open(&ors, "/nonexistent", &ro_ver),
                    "version"));
    CASE(EINVAL_MSG(hollow_read_state_open(&ors, "/nonexistent", &ro_mode),
                    "memory mode"));
    CASE(EINVAL_NULL(hollow_read_state_apply_delta(NULL, rs, "x", 1)));
    CASE(EINVAL_NULL(hollow_read_state_apply_delta(&ors, NULL, "x", 1)));
    CASE(EINVAL_NULL(hollow_read_state_apply_delta(&ors, rs, NULL, 10)));
    CASE(EINVAL_NULL(hollow_read_state_apply_delta_file(NULL, rs, "/x")));
    CASE(EINVAL_NULL(hollow_read_state_apply_delta_file(&ors, NULL, "/x")));
    CASE(EINVAL_NULL(hollow_read_state_apply_delta_file(&ors, rs, NULL)));
    CASE(hollow_read_state_acquire(NULL));
    CASE(hollow_read_state_release(NULL));
    CASE(hollow_read_state_free(NULL));
    CASE(SENTINEL(hollow_read_state_randomized_tag(NULL), 0));
    CASE(SENTINEL(hollow_read_state_version(NULL), 0));
    CASE(SENTINEL(hollow_read_state_origin_tag(NULL), -1));
    CASE(SENTINEL(hollow_read_state_header_tag_count(NULL), 0));
    CASE(EINVAL_NULL(hollow_read_state_header_tag_at(NULL, 0, &ck, &cv)));
    /* documented: key and value may be NULL (not wanted) */
    CASE(i32 = hollow_read_state_header_tag_at(rs, 0, NULL, NULL);
         ck_assert(i32 == 0 || i32 == HOLLOW_ENOTFOUND));
    CASE(SENTINEL(hollow_read_state_header_tag(NULL, "k"), NULL));
    CASE(SENTINEL(hollow_read_state_header_tag(rs, NULL), NULL));
    CASE(SENTINEL(hollow_read_state_type_count(NULL), 0));
    CASE(SENTINEL(hollow_read_state_type_at(NULL, 0), NULL));
    CASE(SENTINEL(hollow_read_state_type_sorted(NULL, 0), NULL));
    CASE(SENTINEL(hollow_read_state_type(NULL, "Movie"), NULL));
    CASE(SENTINEL(hollow_read_state_type(rs, NULL), NULL));
    CASE(SENTINEL(hollow_read_state_memory(NULL), 0));
    CASE(EINVAL_NULL(hollow_read_state_checksum(NULL, rs)));
    CASE(EINVAL_NULL(hollow_read_state_checksum(&u32, NULL)));
    CASE(EINVAL_NULL(hollow_state_holder_new(NULL)));
    CASE(hollow_state_holder_free(NULL));
    CASE(hollow_state_holder_publish(NULL, NULL));
    CASE(SENTINEL(hollow_state_holder_acquire(NULL), NULL));
    CASE(EINVAL_NULL(hollow_read_state_checksum_common(NULL, rs, rs)));
    CASE(EINVAL_NULL(hollow_read_state_checksum_common(&u32, NULL, rs)));
    CASE(EINVAL_NULL(hollow_read_state_checksum_common(&u32, rs, NULL)));
    CASE(SENTINEL(hollow_type_name(NULL), NULL));
    CASE(SENTINEL(hollow_type_schema(NULL), NULL));
    CASE(SENTINEL(hollow_type_kind(NULL), HOLLOW_SCHEMA_OBJECT));
    CASE(SENTINEL(hollow_type_shard_count(NULL), 0));
    CASE(SENTINEL(hollow_type_max_ordinal(NULL), HOLLOW_ORDINAL_NONE));
    CASE(SENTINEL(hollow_type_record_count(NULL), 0));
    CASE(SENTINEL(hollow_type_is_populated(NULL, 0), false));
    CASE(SENTINEL(hollow_type_next_ordinal(NULL, 0), HOLLOW_ORDINAL_NONE));
    CASE(EINVAL_NULL(hollow_type_checksum(NULL, t)));
    CASE(EINVAL_NULL(hollow_type_checksum(&u32, NULL)));
    CASE(EINVAL_NULL(hollow_object_int(NULL, t, 0, 0)));
    CASE(EINVAL_NULL(hollow_object_int(&i32, NULL, 0, 0)));
    CASE(EINVAL_NULL(hollow_object_long(NULL, t, 0, 1)));
    CASE(EINVAL_NULL(hollow_object_long(&i64, NULL, 0, 1)));
    CASE(EINVAL_NULL(hollow_object_float(NULL, t, 0, 2)));
    CASE(EINVAL_NULL(hollow_object_float(&f, NULL, 0, 2)));
    CASE(EINVAL_NULL(hollow_object_double(NULL, t, 0, 3)));
    CASE(EINVAL_NULL(hollow_object_double(&d, NULL, 0, 3)));
    CASE(EINVAL_NULL(hollow_object_bool(NULL, t, 0, 4)));
    CASE(EINVAL_NULL(hollow_object_bool(&b, NULL, 0, 4)));
    CASE(EINVAL_NULL(hollow_object_ref(NULL, t, 0, 7)));
    CASE(EINVAL_NULL(hollow_object_ref(&o, NULL, 0, 7)));
    CASE(EINVAL_NULL(hollow_object_bytes(NULL, t, 0, 6)));
    CASE(EINVAL_NULL(hollow_object_bytes(&by, NULL, 0, 6)));
    CASE(EINVAL_NULL(hollow_object_string(NULL, buf, sizeof buf, t, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string(&str, NULL, 10, t, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string(&str, buf, sizeof buf, NULL, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string_utf16(NULL, 8, &n, t, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string_utf16(u16, 8, NULL, t, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string_utf16(u16, 8, &n, NULL, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string_raw(NULL, t, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string_raw(&by, NULL, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string_length(NULL, t, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_string_length(&n, NULL, 0, 5)));
    CASE(EINVAL_NULL(hollow_object_value(NULL, t, 0, 0)));
    CASE(EINVAL_NULL(hollow_object_value(&val, NULL, 0, 0)));
    CASE(EINVAL_NULL(hollow_list_size(NULL, tl, 0)));
    CASE(EINVAL_NULL(hollow_list_size(&u32, NULL, 0)));
    CASE(EINVAL_NULL(hollow_list_get(NULL, tl, 0, 0)));
    CASE(EINVAL_NULL(hollow_list_get(&o, NULL, 0, 0)));
    CASE(EINVAL_NULL(hollow_set_size(NULL, tset, 0)));
    CASE(EINVAL_NULL(hollow_set_size(&u32, NULL, 0)));
    CASE(EINVAL_NULL(hollow_map_size(NULL, tmap, 0)));
    CASE(EINVAL_NULL(hollow_map_size(&u32, NULL, 0)));
    CASE(EINVAL_NULL(hollow_set_iter_init(NULL, tset, 0)));
    CASE(EINVAL_NULL(hollow_set_iter_init(&it, NULL, 0)));
    CASE(SENTINEL(hollow_set_iter_next(NULL, &o), false));
    CASE(HT_OK(hollow_set_iter_init(&it, tset, 0));
         SENTINEL(hollow_set_iter_next(&it, NULL), false));
    CASE(EINVAL_NULL(hollow_map_iter_init(NULL, tmap, 0)));
    CASE(EINVAL_NULL(hollow_map_iter_init(&it, NULL, 0)));
    CASE(SENTINEL(hollow_map_iter_next(NULL, &o, &o2), false));
    CASE(HT_OK(hollow_map_iter_init(&it, tmap, 0));
         SENTINEL(hollow_map_iter_next(&it, NULL, &o2), false));
    CASE(HT_OK(hollow_map_iter_init(&it, tmap, 0));
         SENTINEL(hollow_map_iter_next(&it, &o, NULL), false));
    CASE(EINVAL_NULL(hollow_set_contains(NULL, tset, 0, 0)));
    CASE(EINVAL_NULL(hollow_set_contains(&b, NULL, 0, 0)));
    CASE(EINVAL_NULL(hollow_map_get(NULL, tmap, 0, 0)));
    CASE(EINVAL_NULL(hollow_map_get(&o, NULL, 0, 0)));
    CASE(EINVAL_NULL(hollow_set_find(NULL, tset, 0, &probe, 1)));
    CASE(EINVAL_NULL(hollow_set_find(&o, NULL, 0, &probe, 1)));
    CASE(EINVAL_NULL(hollow_set_find(&o, tset, 0, NULL, 1)));
    CASE(EINVAL_MSG(hollow_set_find(&o, tset, 0, &bad_probe, 1), "type"));
    CASE(EINVAL_NULL(hollow_map_find(NULL, &o2, tmap, 0, &probe, 1)));
    CASE(EINVAL_NULL(hollow_map_find(&o, NULL, tmap, 0, &probe, 1)));
    CASE(EINVAL_NULL(hollow_map_find(&o, &o2, NULL, 0, &probe, 1)));
    CASE(EINVAL_NULL(hollow_map_find(&o, &o2, tmap, 0, NULL, 1)));

    /* -------------------------------------------------------- dump.h */
    CASE(EINVAL_NULL(hollow_dump_canonical(NULL, text_sink, NULL)));
    CASE(EINVAL_NULL(hollow_dump_canonical(rs, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_dump_deep(NULL, "Movie", text_sink, NULL)));
    CASE(EINVAL_NULL(hollow_dump_deep(rs, NULL, text_sink, NULL)));
    CASE(EINVAL_NULL(hollow_dump_deep(rs, "Movie", NULL, NULL)));
    CASE(EINVAL_NULL(hollow_dump_deep_record(NULL, 0, text_sink, NULL)));
    CASE(EINVAL_NULL(hollow_dump_deep_record(t, 0, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_dump_record(NULL, 0, text_sink, NULL)));
    CASE(EINVAL_NULL(hollow_dump_record(t, 0, NULL, NULL)));
    CASE(SENTINEL(hollow_format_double(NULL, 32, 1.5), 0));
    CASE(SENTINEL(hollow_format_float(NULL, 32, 1.5f), 0));

    /* ------------------------------------------------------- index.h */
    CASE(EINVAL_NULL(hollow_index_primary_key_new(NULL, rs, "Movie", NULL, 0)));
    CASE(EINVAL_NULL(hollow_index_primary_key_new(&oix, NULL, "Movie", NULL, 0)));
    CASE(EINVAL_NULL(hollow_index_primary_key_new(&oix, rs, NULL, NULL, 0)));
    CASE(EINVAL_NULL(hollow_index_primary_key_new(&oix, rs, "Movie", NULL, 2)));
    CASE(EINVAL_NULL(hollow_index_primary_key_new(&oix, rs, "Movie", kp, 1)));
    CASE(EINVAL_NULL(hollow_index_unique_key_new(NULL, rs, "Movie", kp, 1)));
    CASE(EINVAL_NULL(hollow_index_unique_key_new(&oix, NULL, "Movie", kp, 1)));
    CASE(EINVAL_NULL(hollow_index_unique_key_new(&oix, rs, NULL, kp, 1)));
    CASE(EINVAL_NULL(hollow_index_unique_key_new(&oix, rs, "Movie", NULL, 1)));
    CASE(EINVAL_NULL(hollow_index_unique_key_new(&oix, rs, "Movie", kp, 1)));
    CASE(EINVAL_NULL(hollow_index_hash_new(NULL, rs, "Movie", kp, 1)));
    CASE(EINVAL_NULL(hollow_index_hash_new(&oix, NULL, "Movie", kp, 1)));
    CASE(EINVAL_NULL(hollow_index_hash_new(&oix, rs, NULL, kp, 1)));
    CASE(EINVAL_NULL(hollow_index_hash_new(&oix, rs, "Movie", NULL, 1)));
    CASE(EINVAL_NULL(hollow_index_hash_new(&oix, rs, "Movie", kp, 1)));
    CASE(EINVAL_NULL(hollow_index_derive(NULL, ix, rs)));
    CASE(EINVAL_NULL(hollow_index_derive(&oix, NULL, rs)));
    CASE(EINVAL_NULL(hollow_index_derive(&oix, ix, NULL)));
    CASE(hollow_index_acquire(NULL));
    CASE(hollow_index_release(NULL));
    CASE(hollow_index_free(NULL));
    CASE(SENTINEL(hollow_index_state(NULL), NULL));
    CASE(SENTINEL(hollow_index_kind_of(NULL), HOLLOW_INDEX_PRIMARY_KEY));
    CASE(SENTINEL(hollow_index_origin_of(NULL), HOLLOW_INDEX_BUILT));
    CASE(SENTINEL(hollow_index_type_name(NULL), NULL));
    CASE(SENTINEL(hollow_index_path_count(NULL), 0));
    CASE(SENTINEL(hollow_index_path(NULL, 0), NULL));
    CASE(SENTINEL(hollow_index_path_type(NULL, 0), HOLLOW_FIELD_INT));
    CASE(SENTINEL(hollow_index_key_count(NULL), 0));
    CASE(SENTINEL(hollow_index_memory(NULL), 0));
    CASE(EINVAL_NULL(hollow_index_find(NULL, &probe, 1)));
    CASE(EINVAL_NULL(hollow_index_find(ix, NULL, 1)));
    CASE(EINVAL_MSG(hollow_index_find(ix, &bad_probe, 1), "type"));
    CASE(EINVAL_NULL(hollow_index_find_stored(NULL, &probe, 1)));
    CASE(EINVAL_NULL(hollow_index_find_stored(ix, NULL, 1)));
    CASE(EINVAL_MSG(hollow_index_find_stored(ix, &bad_probe, 1), "type"));
    CASE(SENTINEL(hollow_index_duplicate_count(NULL), 0));
    CASE(EINVAL_NULL(hollow_index_duplicate_at(NULL, ix, 0)));
    CASE(EINVAL_NULL(hollow_index_duplicate_at(&m, NULL, 0)));
    CASE(EINVAL_NULL(hollow_index_duplicates_of(NULL, ix, 0)));
    CASE(EINVAL_NULL(hollow_index_duplicates_of(&m, NULL, 0)));
    CASE(EINVAL_NULL(hollow_index_match(NULL, ix, &probe, 1)));
    CASE(EINVAL_NULL(hollow_index_match(&m, NULL, &probe, 1)));
    CASE(EINVAL_NULL(hollow_index_match_stored(NULL, ix, &probe, 1)));
    CASE(EINVAL_NULL(hollow_index_match_stored(&m, NULL, &probe, 1)));

    /* --------------------------------------------------- blobstore.h */
    CASE(EINVAL_NULL(hollow_blob_key_name(NULL, 64, &key)));
    CASE(EINVAL_NULL(hollow_blob_key_name(buf, sizeof buf, NULL)));
    CASE(EINVAL_MSG(hollow_blob_key_name(buf, sizeof buf, &bad_kind), "key"));
    CASE(EINVAL_NULL(hollow_blob_key_parse(NULL, "snapshot-1")));
    CASE(EINVAL_NULL(hollow_blob_key_parse(&key, NULL)));
    CASE(EINVAL_NULL(hollow_stream_new(NULL, stream_read, NULL, NULL, -1)));
    CASE(EINVAL_NULL(hollow_stream_new(&ost, NULL, NULL, NULL, -1)));
    CASE(EINVAL_NULL(hollow_stream_from_memory(NULL, "x", 1)));
    CASE(EINVAL_NULL(hollow_stream_from_memory(&ost, NULL, 1)));
    CASE(EINVAL_NULL(hollow_stream_from_file(NULL, "/x")));
    CASE(EINVAL_NULL(hollow_stream_from_file(&ost, NULL)));
    CASE(EINVAL_NULL(hollow_stream_read(NULL, st, buf, sizeof buf)));
    CASE(EINVAL_NULL(hollow_stream_read(&n, NULL, buf, sizeof buf)));
    CASE(EINVAL_NULL(hollow_stream_read(&n, st, NULL, sizeof buf)));
    CASE(SENTINEL(hollow_stream_size(NULL), -1));
    CASE(hollow_stream_close(NULL));
    CASE(EINVAL_NULL(hollow_blobstore_memory_new(NULL, NULL)));
    CASE(EINVAL_MSG(hollow_blobstore_memory_new(&obs, &mo), "version");
         ck_assert_ptr_null(obs));
    CASE(EINVAL_NULL(hollow_blobstore_fs_new(NULL, &fo)));
    CASE(EINVAL_NULL(hollow_blobstore_fs_new(&obs, NULL)));
    CASE(EINVAL_MSG(hollow_blobstore_fs_new(&obs, &fo_ver), "version");
         ck_assert_ptr_null(obs));
    CASE(fo.dir = NULL; EINVAL_NULL(hollow_blobstore_fs_new(&obs, &fo)));
    CASE(EINVAL_NULL(hollow_blobstore_put(NULL, &key, st)));
    CASE(EINVAL_NULL(hollow_blobstore_put(bs, NULL, st)));
    CASE(EINVAL_NULL(hollow_blobstore_put(bs, &key, NULL)));
    CASE(EINVAL_MSG(hollow_blobstore_put(bs, &bad_kind, st), "key"));
    CASE(EINVAL_NULL(hollow_blobstore_put_bytes(NULL, &key, "x", 1)));
    CASE(EINVAL_NULL(hollow_blobstore_put_bytes(bs, NULL, "x", 1)));
    CASE(EINVAL_NULL(hollow_blobstore_put_bytes(bs, &key, NULL, 1)));
    CASE(EINVAL_NULL(hollow_blobstore_put_file(NULL, &key, "/x")));
    CASE(EINVAL_NULL(hollow_blobstore_put_file(bs, NULL, "/x")));
    CASE(EINVAL_NULL(hollow_blobstore_put_file(bs, &key, NULL)));
    CASE(EINVAL_NULL(hollow_blobstore_get(NULL, bs, &key)));
    CASE(EINVAL_NULL(hollow_blobstore_get(&ost, NULL, &key)));
    CASE(EINVAL_NULL(hollow_blobstore_get(&ost, bs, NULL)));
    CASE(EINVAL_NULL(hollow_blobstore_get_file(NULL, 64, bs, &key)));
    CASE(EINVAL_NULL(hollow_blobstore_get_file(buf, sizeof buf, NULL, &key)));
    CASE(EINVAL_NULL(hollow_blobstore_get_file(buf, sizeof buf, bs, NULL)));
    CASE(EINVAL_NULL(hollow_blobstore_list(NULL, key_cb, NULL)));
    CASE(EINVAL_NULL(hollow_blobstore_list(bs, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_blobstore_list_versions(NULL, version_cb, NULL)));
    CASE(EINVAL_NULL(hollow_blobstore_list_versions(bs, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_blobstore_delete(NULL, &key)));
    CASE(EINVAL_NULL(hollow_blobstore_delete(bs, NULL)));
    CASE(hollow_blobstore_free(NULL));
    CASE(EINVAL_MSG(hollow_blobstore_put_bytes(&bad_bs, &key, "x", 1), "version"));
    CASE(EINVAL_MSG(hollow_blobstore_list(&bad_bs, key_cb, NULL), "version"));
    CASE(EINVAL_MSG(hollow_blobstore_put_bytes(&empty_bs, &key, "x", 1),
                    "required entry"));
    CASE(EINVAL_MSG(hollow_blobstore_delete(&empty_bs, &key), "required entry"));
    CASE(EINVAL_MSG(hollow_blobstore_list(&empty_bs, key_cb, NULL),
                    "required entry"));

    /* --------------------------------------------------- announcer.h */
    CASE(EINVAL_NULL(hollow_announcer_inproc_new(NULL, NULL)));
    CASE(EINVAL_MSG(hollow_announcer_inproc_new(&oan, &io), "version");
         ck_assert_ptr_null(oan));
    CASE(EINVAL_NULL(hollow_announcer_fs_new(NULL, &ao)));
    CASE(EINVAL_NULL(hollow_announcer_fs_new(&oan, NULL)));
    CASE(EINVAL_MSG(hollow_announcer_fs_new(&oan, &ao_ver), "version");
         ck_assert_ptr_null(oan));
    CASE(ao.dir = NULL; EINVAL_NULL(hollow_announcer_fs_new(&oan, &ao)));
    CASE(EINVAL_NULL(hollow_announcer_announce(NULL, 1)));
    CASE(EINVAL_NULL(hollow_announcer_latest(NULL, an)));
    CASE(EINVAL_NULL(hollow_announcer_latest(&i64, NULL)));
    CASE(EINVAL_NULL(hollow_announcer_subscribe(NULL, an, ann_cb, NULL)));
    CASE(EINVAL_NULL(hollow_announcer_subscribe(&sid, NULL, ann_cb, NULL)));
    CASE(EINVAL_NULL(hollow_announcer_subscribe(&sid, an, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_announcer_subscribe_fd(NULL, &sid, an)));
    CASE(EINVAL_NULL(hollow_announcer_subscribe_fd(&fd, NULL, an)));
    CASE(EINVAL_NULL(hollow_announcer_subscribe_fd(&fd, &sid, NULL)));
    CASE(EINVAL_NULL(hollow_announcer_fd_read(NULL, 4, &n, 0)));
    CASE(EINVAL_NULL(hollow_announcer_fd_read(&i64, 1, NULL, 0)));
    CASE(EINVAL_NULL(hollow_announcer_unsubscribe(NULL, 1)));
    CASE(EINVAL_NULL(hollow_announcer_pin(NULL, 1)));
    CASE(EINVAL_NULL(hollow_announcer_unpin(NULL)));
    CASE(EINVAL_NULL(hollow_announcer_wait_for_version(NULL, 1, 0)));
    CASE(EINVAL_NULL(hollow_announcer_drain(NULL, 0)));
    CASE(EINVAL_NULL(hollow_announcer_lease(NULL, HOLLOW_LEASE_CHECK, "me", 10,
                                            NULL, 0)));
    CASE(EINVAL_NULL(hollow_announcer_lease(an, HOLLOW_LEASE_ACQUIRE, NULL, 10,
                                            NULL, 0)));
    CASE(EINVAL_MSG(hollow_announcer_lease(an, (hollow_lease_op)7, "me", 10,
                                           NULL, 0),
                    "operation"));
    CASE(EINVAL_NULL(hollow_announcer_stats_get(NULL, an)));
    CASE(EINVAL_NULL(hollow_announcer_stats_get(&stats, NULL)));
    CASE(hollow_announcer_free(NULL));
    CASE(EINVAL_MSG(hollow_announcer_announce(&bad_an, 1), "version"));
    CASE(EINVAL_MSG(hollow_announcer_latest(&i64, &bad_an), "version"));
    CASE(EINVAL_MSG(hollow_announcer_announce(&empty_an, 1), "required entry"));
    CASE(EINVAL_MSG(hollow_announcer_wait_for_version(&empty_an, 1, 0),
                    "required entry"));

    /* ---------------------------------------------------- producer.h */
    CASE(EINVAL_NULL(hollow_producer_new(NULL, &po)));
    CASE(EINVAL_NULL(hollow_producer_new(&op, NULL)));
    CASE(EINVAL_MSG(hollow_producer_new(&op, &po_ver), "version");
         ck_assert_ptr_null(op));
    CASE(EINVAL_MSG(hollow_producer_new(&op, &po_wver), "version");
         ck_assert_ptr_null(op));
    CASE(po.blobstore = NULL; EINVAL_NULL(hollow_producer_new(&op, &po)));
    CASE(po.schemas = NULL; EINVAL_NULL(hollow_producer_new(&op, &po)));
    CASE(hollow_producer_free(NULL));
    CASE(EINVAL_NULL(hollow_producer_add_validator(NULL, validator, NULL)));
    CASE(EINVAL_NULL(hollow_producer_add_validator(p, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_producer_set_header_tag(NULL, "k", "v")));
    CASE(EINVAL_NULL(hollow_producer_set_header_tag(p, NULL, "v")));
    CASE(EINVAL_NULL(hollow_producer_set_header_tag(p, "k", NULL)));
    CASE(EINVAL_NULL(hollow_producer_run_cycle(NULL, p, populate, NULL)));
    CASE(EINVAL_NULL(hollow_producer_run_cycle(&i64, NULL, populate, NULL)));
    CASE(EINVAL_NULL(hollow_producer_run_cycle(&i64, p, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_producer_restore(NULL, HOLLOW_VERSION_LATEST)));
    CASE(SENTINEL(hollow_producer_version(NULL), 0));
    CASE(SENTINEL(hollow_producer_acquire_state(NULL), NULL));
    CASE(SENTINEL(hollow_producer_is_primary(NULL), false));
    CASE(ck_assert_int_gt(hollow_version_mint_default(0, NULL), 0));

    /* ---------------------------------------------------- consumer.h */
    CASE(EINVAL_NULL(hollow_consumer_new(NULL, &co)));
    CASE(EINVAL_NULL(hollow_consumer_new(&oc, NULL)));
    CASE(EINVAL_MSG(hollow_consumer_new(&oc, &co_ver), "version");
         ck_assert_ptr_null(oc));
    CASE(EINVAL_MSG(hollow_consumer_new(&oc, &co_mode), "memory mode");
         ck_assert_ptr_null(oc));
    CASE(co.blobstore = NULL; EINVAL_NULL(hollow_consumer_new(&oc, &co)));
    CASE(hollow_consumer_free(NULL));
    CASE(EINVAL_NULL(hollow_consumer_refresh(NULL, HOLLOW_VERSION_LATEST)));
    CASE(SENTINEL(hollow_consumer_version(NULL), 0));
    CASE(SENTINEL(hollow_consumer_acquire_state(NULL), NULL));
    CASE(EINVAL_NULL(hollow_consumer_pin(NULL, 1)));
    CASE(EINVAL_NULL(hollow_consumer_unpin(NULL)));
    CASE(EINVAL_NULL(hollow_consumer_add_listener(NULL, listener, NULL)));
    CASE(EINVAL_NULL(hollow_consumer_add_listener(c, NULL, NULL)));
    CASE(EINVAL_NULL(hollow_consumer_wait_for_version(NULL, 1, 0)));
    CASE(EINVAL_NULL(hollow_consumer_add_index(NULL, c, HOLLOW_INDEX_PRIMARY_KEY,
                                               "Movie", NULL, 0)));
    CASE(EINVAL_NULL(hollow_consumer_add_index(&fd, NULL,
                                               HOLLOW_INDEX_PRIMARY_KEY,
                                               "Movie", NULL, 0)));
    CASE(EINVAL_NULL(hollow_consumer_add_index(&fd, c, HOLLOW_INDEX_PRIMARY_KEY,
                                               NULL, NULL, 0)));
    CASE(EINVAL_MSG(hollow_consumer_add_index(&fd, c, (hollow_index_kind)9,
                                              "Movie", NULL, 0),
                    "index kind"));
    CASE(SENTINEL(hollow_consumer_acquire_index(NULL, 0), NULL));
    CASE(EINVAL_NULL(hollow_consumer_last_error(NULL, buf, sizeof buf)));
    CASE(ck_assert_int_ge(hollow_consumer_last_error(c, NULL, 0), 0));
    hollow_update_plan plan;
    CASE(EINVAL_NULL(hollow_consumer_plan(NULL, bs, 0, 1, 0)));
    CASE(EINVAL_NULL(hollow_consumer_plan(&plan, NULL, 0, 1, 0)));
    CASE(EINVAL_NULL(hollow_consumer_plan_keys(NULL, &key, 1, 0, 1, 0)));
    CASE(EINVAL_NULL(hollow_consumer_plan_keys(&plan, NULL, 1, 0, 1, 0)));
    CASE(hollow_update_plan_clear(NULL));

    /* --------------------------------------------------------- blob.h */
    hollow_blob_info *obi = NULL;
    CASE(EINVAL_NULL(hollow_blob_info_read(NULL, "", 0, HOLLOW_BLOB_KIND_UNKNOWN)));
    CASE(EINVAL_NULL(hollow_blob_info_read(&obi, NULL, 1, HOLLOW_BLOB_KIND_UNKNOWN)));
    CASE(EINVAL_MSG(hollow_blob_info_read(&obi, "", 0, 9), "kind"));
    CASE(hollow_blob_info_free(NULL));
    CASE(SENTINEL(hollow_blob_info_kind(NULL), HOLLOW_BLOB_SNAPSHOT));
    CASE(SENTINEL(hollow_blob_info_size(NULL), 0));
    CASE(SENTINEL(hollow_blob_info_origin_tag(NULL), 0));
    CASE(SENTINEL(hollow_blob_info_destination_tag(NULL), 0));
    CASE(SENTINEL(hollow_blob_info_header_tag_count(NULL), 0));
    CASE(EINVAL_NULL(hollow_blob_info_header_tag_at(NULL, 0, &ck, &cv)));
    CASE(SENTINEL(hollow_blob_info_schema_count(NULL), 0));
    CASE(SENTINEL(hollow_blob_info_schema_at(NULL, 0), NULL));
    CASE(SENTINEL(hollow_blob_info_type_count(NULL), 0));
    CASE(SENTINEL(hollow_blob_info_section_count(NULL), 0));
    CASE(SENTINEL(hollow_blob_info_section_at(NULL, 0), NULL));
    CASE(SENTINEL(hollow_type_memory(NULL), 0));

    /* diff.h */
    hollow_diff *od = NULL;
    hollow_diff_options do_ver = HOLLOW_DIFF_OPTIONS_INIT;
    hollow_diff_type dtype;
    hollow_diff_record drec;
    do_ver.version = 99;
    CASE(EINVAL_NULL(hollow_diff_new(NULL, rs, rs, NULL)));
    CASE(EINVAL_NULL(hollow_diff_new(&od, NULL, rs, NULL)));
    CASE(EINVAL_NULL(hollow_diff_new(&od, rs, NULL, NULL)));
    CASE(EINVAL_MSG(hollow_diff_new(&od, rs, rs, &do_ver), "version"));
    CASE(hollow_diff_free(NULL));
    CASE(SENTINEL(hollow_diff_type_count(NULL), 0));
    CASE(EINVAL_NULL(hollow_diff_type_at(NULL, NULL, 0)));
    CASE(EINVAL_NULL(hollow_diff_type_at(&dtype, NULL, 0)));
    CASE(EINVAL_NULL(hollow_diff_record_at(NULL, NULL, 0, 0)));
    CASE(EINVAL_NULL(hollow_diff_record_at(&drec, NULL, 0, 0)));
    CASE(SENTINEL(hollow_diff_has_differences(NULL), false));

    /* metrics.h */
    hollow_consumer_stats cstats = HOLLOW_CONSUMER_STATS_INIT;
    hollow_producer_stats pstats = HOLLOW_PRODUCER_STATS_INIT;
    hollow_metrics_sources msrc = HOLLOW_METRICS_SOURCES_INIT;
    CASE(EINVAL_NULL(hollow_consumer_stats_get(NULL, c)));
    CASE(EINVAL_NULL(hollow_consumer_stats_get(&cstats, NULL)));
    CASE(cstats.version = 99;
         EINVAL_MSG(hollow_consumer_stats_get(&cstats, c), "version"));
    CASE(EINVAL_NULL(hollow_producer_stats_get(NULL, p)));
    CASE(EINVAL_NULL(hollow_producer_stats_get(&pstats, NULL)));
    CASE(pstats.version = 99;
         EINVAL_MSG(hollow_producer_stats_get(&pstats, p), "version"));
    CASE(EINVAL_NULL(hollow_metrics_write(NULL, NULL, &msrc)));
    CASE(EINVAL_NULL(hollow_metrics_write(sink, NULL, NULL)));
    CASE(msrc.version = 99;
         EINVAL_MSG(hollow_metrics_write(sink, NULL, &msrc), "version"));
    CASE(SENTINEL(strcmp(hollow_refresh_kind_name((hollow_refresh_kind)-1),
                         "unknown"), 0));
    CASE(SENTINEL(hollow_duration_bucket_bound_us((size_t)-1), UINT64_MAX));

#undef CASE
    return k;
}

/* the number of CASE lines: the loop runs each once */
#define CASE_COUNT 454

START_TEST(null_args_call)
{
    run_case(_i);
}
END_TEST

START_TEST(null_args_count)
{
    int k = run_case(-1);
    ck_assert_int_eq(k, CASE_COUNT);
}
END_TEST

static Suite *suite(void)
{
    Suite *su = suite_create("null_args");
    TCase *tc = tcase_create("null_args");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, null_args_count);
    tcase_add_loop_test(tc, null_args_call, 0, CASE_COUNT);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    return ht_run_suite(suite());
}
