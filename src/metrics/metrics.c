/*
 * hollow_metrics_write(): the counters of a consumer, a producer, an
 * announcer and a blob store in the Prometheus text exposition format
 * 0.0.4 (docs/metrics.md names every metric).
 *
 * The format, as far as we use it:
 *
 *   # HELP hollow_consumer_refreshes_total Refreshes that published ...
 *   # TYPE hollow_consumer_refreshes_total counter
 *   hollow_consumer_refreshes_total{kind="delta"} 12
 *   # TYPE hollow_consumer_refresh_duration_seconds histogram
 *   hollow_consumer_refresh_duration_seconds_bucket{le="0.001"} 3
 *   ...                                     (cumulative counts)
 *   hollow_consumer_refresh_duration_seconds_bucket{le="+Inf"} 13
 *   hollow_consumer_refresh_duration_seconds_sum 0.412
 *   hollow_consumer_refresh_duration_seconds_count 13
 *
 * Each family appears once, its samples right after its TYPE line. Label
 * values are escaped (backslash, double quote, newline): type names come
 * from schemas, which are user data. Everything is gathered into one
 * buffer before the sink sees a byte, so a failure writes nothing.
 */
#include "hollow/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "metrics/stats.h"

/* ------------------------------------------------------------ rendering */

static void family(hollow__buf *b, const char *name, const char *type,
                   const char *help)
{
    hollow__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                       type);
}

void hollow__metrics_label_value(hollow__buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            hollow__buf_puts(b, "\\\\");
        else if (*s == '"')
            hollow__buf_puts(b, "\\\"");
        else if (*s == '\n')
            hollow__buf_puts(b, "\\n");
        else
            hollow__buf_putc(b, (uint8_t)*s);
    }
}

/* name{label="value"} v, or name v without a label */
static void sample(hollow__buf *b, const char *name, const char *label,
                   const char *value, uint64_t v)
{
    hollow__buf_puts(b, name);
    if (label != NULL) {
        hollow__buf_printf(b, "{%s=\"", label);
        hollow__metrics_label_value(b, value);
        hollow__buf_puts(b, "\"}");
    }
    hollow__buf_printf(b, " %" PRIu64 "\n", v);
}

static void counter(hollow__buf *b, const char *name, const char *help,
                    uint64_t v)
{
    family(b, name, "counter", help);
    sample(b, name, NULL, NULL, v);
}

static void gauge(hollow__buf *b, const char *name, const char *help,
                  uint64_t v)
{
    family(b, name, "gauge", help);
    sample(b, name, NULL, NULL, v);
}

/* a version as a gauge (a float64 to Prometheus: Java-shaped versions of
 * 17 digits lose their last ones) and exactly as the label of an info
 * gauge */
static void version(hollow__buf *b, const char *prefix, const char *what,
                    int64_t v)
{
    char name[96], help[160], text[32];
    snprintf(name, sizeof name, "%s_version", prefix);
    snprintf(help, sizeof help,
             "The %s version, 0 if none (as a float: "
             "exact in %s_version_info).",
             what, prefix);
    family(b, name, "gauge", help);
    hollow__buf_printf(b, "%s %" PRId64 "\n", name, v);
    snprintf(name, sizeof name, "%s_version_info", prefix);
    snprintf(help, sizeof help,
             "The %s version, exactly, as the label "
             "\"version\"; no sample if none.",
             what);
    family(b, name, "gauge", help);
    if (v > 0) {
        snprintf(text, sizeof text, "%" PRId64, v);
        sample(b, name, "version", text, 1);
    }
}

/* seconds as text: exact for whole microseconds, no exponent */
static void seconds(hollow__buf *b, uint64_t us)
{
    hollow__buf_printf(b, "%" PRIu64, us / 1000000u);
    if (us % 1000000u != 0) {
        char frac[8];
        snprintf(frac, sizeof frac, "%06u", (unsigned)(us % 1000000u));
        size_t n = strlen(frac);
        while (n > 0 && frac[n - 1] == '0')
            frac[--n] = '\0';
        hollow__buf_printf(b, ".%s", frac);
    }
}

static void histogram(hollow__buf *b, const char *name, const char *help,
                      const hollow_duration_histogram *h)
{
    family(b, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i < HOLLOW_DURATION_BUCKETS; i++) {
        cum += h->bucket[i];
        hollow__buf_printf(b, "%s_bucket{le=\"", name);
        if (i + 1 < HOLLOW_DURATION_BUCKETS)
            seconds(b, hollow_duration_bucket_bound_us(i));
        else
            hollow__buf_puts(b, "+Inf");
        hollow__buf_printf(b, "\"} %" PRIu64 "\n", cum);
    }
    hollow__buf_printf(b, "%s_sum ", name);
    seconds(b, h->sum_us);
    hollow__buf_printf(b, "\n%s_count %" PRIu64 "\n", name, cum);
}

/* ------------------------------------------------------------ sources */

static int consumer(hollow__buf *b, hollow_consumer *c)
{
    hollow_consumer_stats st = HOLLOW_CONSUMER_STATS_INIT;
    HOLLOW_TRY(hollow_consumer_stats_get(&st, c));
    version(b, "hollow_consumer", "consumer's published", st.current_version);
    family(b, "hollow_consumer_refreshes_total", "counter",
           "Refreshes that published a new state, by the kind of their plan.");
    for (int k = 0; k < HOLLOW_REFRESH_KINDS; k++)
        sample(b, "hollow_consumer_refreshes_total", "kind",
               hollow_refresh_kind_name((hollow_refresh_kind)k),
               st.refreshes[k]);
    counter(b, "hollow_consumer_refresh_failures_total",
            "Refreshes that failed; the current state stayed published.",
            st.refresh_failures);
    histogram(b, "hollow_consumer_refresh_duration_seconds",
              "Duration of refreshes, successful and failed.",
              &st.refresh_duration);
    family(b, "hollow_consumer_last_refresh_timestamp_seconds", "gauge",
           "When the last successful refresh ended (Unix time), 0 if none.");
    hollow__buf_puts(b, "hollow_consumer_last_refresh_timestamp_seconds ");
    seconds(b, (uint64_t)(st.last_refresh_ms > 0 ? st.last_refresh_ms : 0) *
                   1000u);
    hollow__buf_putc(b, '\n');
    gauge(b, "hollow_consumer_state_bytes",
          "Memory of the published state (heap and mapped), in bytes.",
          st.state_bytes);
    gauge(b, "hollow_consumer_records",
          "Records of the published state, all types together.", st.records);
    /* per type, from the state published now (a refresh may have
     * published another since the counters were read) */
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    size_t n = hollow_read_state_type_count(rs);
    family(b, "hollow_consumer_type_records", "gauge",
           "Records of each type of the published state.");
    for (size_t i = 0; i < n; i++) {
        const hollow_type *t = hollow_read_state_type_at(rs, i);
        sample(b, "hollow_consumer_type_records", "type", hollow_type_name(t),
               hollow_type_record_count(t));
    }
    family(b, "hollow_consumer_type_bytes", "gauge",
           "Memory of each type of the published state, in bytes.");
    for (size_t i = 0; i < n; i++) {
        const hollow_type *t = hollow_read_state_type_at(rs, i);
        sample(b, "hollow_consumer_type_bytes", "type", hollow_type_name(t),
               hollow_type_memory(t));
    }
    hollow_read_state_release(rs);
    return 0;
}

static const char *const blob_kinds[4] = {"snapshot", "delta", "reverse_delta",
                                          "header"};

static int producer(hollow__buf *b, hollow_producer *p)
{
    hollow_producer_stats st = HOLLOW_PRODUCER_STATS_INIT;
    HOLLOW_TRY(hollow_producer_stats_get(&st, p));
    version(b, "hollow_producer", "producer's last announced (or restored)",
            st.current_version);
    gauge(b, "hollow_producer_primary",
          "1 while the producer holds the single-producer lease (or needs "
          "none), else 0.",
          st.primary ? 1 : 0);
    counter(b, "hollow_producer_cycles_total", "Cycles run.", st.cycles);
    counter(b, "hollow_producer_cycles_published_total",
            "Cycles that announced a new version.", st.cycles_published);
    counter(b, "hollow_producer_cycle_failures_total",
            "Cycles that failed; nothing was announced.", st.cycle_failures);
    counter(b, "hollow_producer_validation_failures_total",
            "Cycles failed by a validator.", st.validation_failures);
    counter(b, "hollow_producer_integrity_failures_total",
            "Cycles failed by the integrity check (blobs that did not read "
            "back as written).",
            st.integrity_failures);
    histogram(b, "hollow_producer_cycle_duration_seconds",
              "Duration of cycles, successful and failed.", &st.cycle_duration);
    family(b, "hollow_producer_blobs_total", "counter",
           "Blobs published by successful cycles, by kind.");
    for (int k = 0; k < 4; k++)
        sample(b, "hollow_producer_blobs_total", "kind", blob_kinds[k],
               st.blobs[k]);
    family(b, "hollow_producer_blob_bytes_total", "counter",
           "Bytes of the blobs published by successful cycles, by kind.");
    for (int k = 0; k < 4; k++)
        sample(b, "hollow_producer_blob_bytes_total", "kind", blob_kinds[k],
               st.blob_bytes[k]);
    return 0;
}

static int announcer(hollow__buf *b, hollow_announcer *a)
{
    hollow_announcer_stats st;
    int rc = hollow_announcer_stats_get(&st, a);
    if (rc == HOLLOW_ENOTSUPPORTED) {
        hollow_error_clear();
        return 0; /* a backend without counters: nothing to say */
    }
    if (rc < 0)
        return rc;
    gauge(b, "hollow_announcer_subscribers", "Current subscribers.",
          st.subscribers);
    counter(b, "hollow_announcer_announcements_total",
            "Announcements accepted.", st.announced);
    counter(b, "hollow_announcer_dropped_total",
            "Announcements refused because the queue was full.", st.dropped);
    counter(b, "hollow_announcer_delivered_total",
            "Deliveries made, one per subscriber and announcement.",
            st.delivered);
    counter(b, "hollow_announcer_lost_total",
            "Deliveries lost because a descriptor subscriber's pipe was full.",
            st.lost);
    counter(b, "hollow_announcer_subscribers_removed_total",
            "Subscribers removed because they failed or closed.", st.removed);
    gauge(b, "hollow_announcer_queue_depth",
          "Announcements waiting for the delivery worker.", st.queued);
    family(b, "hollow_announcer_latest_version", "gauge",
           "The last version announced, pin aside; no sample if none.");
    if (st.has_latest)
        hollow__buf_printf(b, "hollow_announcer_latest_version %" PRId64 "\n",
                           st.latest);
    gauge(b, "hollow_announcer_pinned", "1 while a version is pinned, else 0.",
          st.pinned ? 1 : 0);
    return 0;
}

static int blobstore(hollow__buf *b, hollow_blobstore *bs)
{
    hollow_blobstore_stats st;
    int rc = hollow_blobstore_stats_get(&st, bs);
    if (rc == HOLLOW_ENOTSUPPORTED) {
        hollow_error_clear();
        return 0;
    }
    if (rc < 0)
        return rc;
    counter(b, "hollow_blobstore_gets_total",
            "Blobs read (cache hits and "
            "misses).",
            st.cache_hits + st.cache_misses);
    counter(b, "hollow_blobstore_cache_hits_total",
            "Blobs read from the local cache.", st.cache_hits);
    counter(b, "hollow_blobstore_cache_misses_total",
            "Blobs read from the store itself (every read of a store "
            "without a cache).",
            st.cache_misses);
    counter(b, "hollow_blobstore_read_bytes_total",
            "Bytes read from the store itself.", st.bytes_down);
    counter(b, "hollow_blobstore_uploads_total", "Blobs written to the store.",
            st.uploads);
    counter(b, "hollow_blobstore_written_bytes_total",
            "Bytes written to the store.", st.bytes_up);
    counter(b, "hollow_blobstore_upload_retries_total",
            "Upload attempts of entries that were pending.", st.retries);
    gauge(b, "hollow_blobstore_pending_uploads",
          "Entries waiting for upload now.", st.pending);
    gauge(b, "hollow_blobstore_pending_upload_bytes",
          "Bytes of the entries waiting for upload.", st.pending_bytes);
    return 0;
}

/* ------------------------------------------------------------ the call */

int hollow_metrics_write(hollow_sink_fn sink, void *payload,
                         const hollow_metrics_sources *sources)
{
    if (sink == NULL || sources == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "metrics: null argument");
    if (sources->version != HOLLOW_METRICS_SOURCES_VERSION)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "metrics: sources version %u "
                                 "is not %d",
                                 sources->version,
                                 HOLLOW_METRICS_SOURCES_VERSION);
    hollow__buf b = HOLLOW__BUF_INIT;
    int rc = 0;
    if (sources->consumer != NULL)
        rc = consumer(&b, sources->consumer);
    if (rc == 0 && sources->producer != NULL)
        rc = producer(&b, sources->producer);
    if (rc == 0 && sources->announcer != NULL)
        rc = announcer(&b, sources->announcer);
    if (rc == 0 && sources->blobstore != NULL)
        rc = blobstore(&b, sources->blobstore);
    if (rc == 0)
        rc = hollow__buf_check(&b);
    if (rc == 0 && b.len > 0)
        rc = sink(payload, b.ptr, b.len);
    hollow__buf_free(&b);
    return rc;
}
