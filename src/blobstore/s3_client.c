/*
 * The S3 REST client (s3_client.h): the handful of calls the S3 store and
 * announcer need, over libcurl.
 *
 * Every request goes through run(), on a curl easy handle taken from a
 * small pool: an idle handle keeps its connections, so back-to-back
 * requests skip the TCP (and TLS) handshake. curl 7.88 signs with SigV4
 * but neither sends x-amz-content-sha256 nor canonicalises the query
 * (services.md §2.1), so this file sends the payload's real SHA-256 and
 * builds the path and query already canonical: keys encoded by AWS rules
 * with '/' kept, parameters sorted by name, value-less ones as "name=".
 * Bucket-level requests are "/bucket?..." with no trailing slash, which
 * is how s3rver (and botocore) sign them.
 *
 * Bodies stream. Uploads read the file with pread() in curl's read
 * callback; a part of a multipart upload is read twice, once to hash it
 * (each part is signed with its own payload hash) and once to send it.
 * Downloads go to the caller's fd from the write callback and are hashed
 * on the way. The other bodies (errors, listings, multipart replies) are
 * small XML documents, kept in memory up to a cap and parsed with expat.
 *
 * The error class decides whether the store queues a put, so it is made
 * in two places only: curl_error() for transfers that did not complete,
 * http_error() for replies with a failing status. Messages carry the
 * method, bucket/key, HTTP status and S3's <Code> and <Message>; curl's
 * verbose output stays off and no request header is ever copied into a
 * message, and scrub() masks the secret and the token should a server
 * echo them.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <expat.h>
#include <openssl/evp.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/thread.h"
#include "s3_client.h"

#define POOL_MAX 8
#define ERR_BODY_CAP (64u * 1024)      /* an S3 error document is < 1 KB */
#define XML_BODY_CAP (16u * 1024 * 1024) /* a 1,000-key listing is ~300 KB */
#define HASH_CHUNK (1u << 20)
#define MAX_PARTS 10000                /* S3's limit per multipart upload */
#define DEFAULT_PART_SIZE ((uint64_t)16 << 20)
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct hollow__s3 {
    char *base_url; /* no trailing '/' */
    char *ca_file;
    char *bucket;
    char *access_key;
    char *secret_key;
    char *session_token;
    char *sigv4;        /* "aws:amz:REGION:s3" */
    char *token_header; /* "x-amz-security-token: ...", or NULL */
    char *region;
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;
    uint64_t part_size;
    hollow__mutex lock; /* guards idle[] */
    CURL *idle[POOL_MAX];
    int idle_count;
};

/* ---------------------------------------------------------------------
 * Small helpers: hex, hashing, AWS encoding, XML escaping
 * ------------------------------------------------------------------- */

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* true if `s` is 64 hex digits; copies it lower-cased into out[65] */
static bool sha256_hex_norm(const char *s, char *out)
{
    size_t i;
    for (i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return false;
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    if (s[64] != '\0')
        return false;
    out[64] = '\0';
    return true;
}

static int md_final_hex(EVP_MD_CTX *md, char *out)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(md, d, &n) != 1 || n != 32)
        return hollow__error_set(HOLLOW_ERROR, "sha-256 failed");
    to_hex(d, 32, out);
    return 0;
}

static EVP_MD_CTX *md_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return md;
}

static int sha256_mem(const void *p, size_t n, char *out)
{
    EVP_MD_CTX *md = md_new();
    if (md == NULL)
        return hollow__error_oom();
    int rc = EVP_DigestUpdate(md, p, n) == 1
                 ? md_final_hex(md, out)
                 : hollow__error_set(HOLLOW_ERROR, "sha-256 failed");
    EVP_MD_CTX_free(md);
    return rc;
}

/* AWS SigV4 URI encoding: A-Z a-z 0-9 - _ . ~ kept; '/' kept in paths */
static void aws_encode(hollow__buf *b, const char *s, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (keep_slash && c == '/')) {
            hollow__buf_putc(b, c);
        } else {
            hollow__buf_putc(b, '%');
            hollow__buf_putc(b, (uint8_t)digits[c >> 4]);
            hollow__buf_putc(b, (uint8_t)digits[c & 15]);
        }
    }
}

static void xml_escape(hollow__buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&': hollow__buf_puts(b, "&amp;"); break;
        case '<': hollow__buf_puts(b, "&lt;"); break;
        case '>': hollow__buf_puts(b, "&gt;"); break;
        case '"': hollow__buf_puts(b, "&quot;"); break;
        default: hollow__buf_putc(b, (uint8_t)*s); break;
        }
    }
}

/* mask every occurrence of `secret` in `msg` (in place) */
static void mask(char *msg, const char *secret)
{
    size_t n;
    if (secret == NULL || (n = strlen(secret)) < 4)
        return;
    for (char *p = strstr(msg, secret); p != NULL; p = strstr(p + n, secret))
        memset(p, '*', n);
}

static void scrub(const hollow__s3 *s, char *msg)
{
    mask(msg, s->secret_key);
    mask(msg, s->session_token);
}

/* a copy of the thread's last error, to report it after a cleanup call
 * (AbortMultipartUpload) that sets errors of its own */
typedef struct saved_error {
    int code;
    int os_errno;
    char msg[1024];
} saved_error;

static void error_save(saved_error *e)
{
    const hollow_error *le = hollow_error_last();
    e->code = le->code;
    e->os_errno = le->os_errno;
    snprintf(e->msg, sizeof e->msg, "%s", le->message ? le->message : "");
    if (e->os_errno != 0) {
        /* hollow__error_set_os() appends ": strerror" again */
        const char *tail = strerror(e->os_errno);
        size_t n = strlen(e->msg), t = strlen(tail);
        if (n >= t + 2 && strcmp(e->msg + n - t, tail) == 0 &&
            e->msg[n - t - 2] == ':')
            e->msg[n - t - 2] = '\0';
    }
}

static int error_restore(const saved_error *e)
{
    if (e->os_errno != 0)
        return hollow__error_set_os(e->code, e->os_errno, "%s", e->msg);
    return hollow__error_set(e->code, "%s", e->msg);
}

/* ---------------------------------------------------------------------
 * XML replies (expat): errors, listings, multipart replies
 * ------------------------------------------------------------------- */

typedef struct list_entry {
    char *key;
    int64_t size;
} list_entry;

typedef struct xml_doc {
    int depth;
    char stack[8][48]; /* element names, truncated; deeper ones ignored */
    hollow__buf text;  /* character data of the current element */
    bool oom;
    /* Error */
    char code[64];
    char message[512];
    /* InitiateMultipartUploadResult */
    char *upload_id;
    /* ListBucketResult */
    bool truncated;
    char *next_token;
    char *cur_key;
    int64_t cur_size;
    bool cur_size_ok;
    list_entry *entries;
    size_t entry_count, entry_cap;
} xml_doc;

static void xml_doc_free(xml_doc *d)
{
    hollow__buf_free(&d->text);
    hollow__free(d->upload_id);
    hollow__free(d->next_token);
    hollow__free(d->cur_key);
    for (size_t i = 0; i < d->entry_count; i++)
        hollow__free(d->entries[i].key);
    hollow__free(d->entries);
    memset(d, 0, sizeof *d);
}

static const char *xml_root(const xml_doc *d) { return d->stack[0]; }

static void XMLCALL xml_start(void *ud, const XML_Char *name,
                              const XML_Char **attrs)
{
    xml_doc *d = ud;
    (void)attrs;
    if (d->depth < 8)
        snprintf(d->stack[d->depth], sizeof d->stack[0], "%s", name);
    d->depth++;
    d->text.len = 0;
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
    xml_doc *d = ud;
    /* leaf values are short; a huge text node is not one we read */
    if (len > 0 && d->text.len < 64 * 1024)
        hollow__buf_put(&d->text, s, (size_t)len);
}

static char *xml_text_dup(xml_doc *d)
{
    char *t = hollow__buf_cstr(&d->text);
    char *c = t != NULL ? hollow__strdup(t) : NULL;
    if (c == NULL)
        d->oom = true;
    return c;
}

static void xml_copy(xml_doc *d, char *dst, size_t cap)
{
    const char *t = hollow__buf_cstr(&d->text);
    snprintf(dst, cap, "%s", t != NULL ? t : "");
}

/* append (key, size) to d's entries, which take the key; false on oom */
static bool entry_add(xml_doc *d, char *key, int64_t size)
{
    if (d->entry_count == d->entry_cap) {
        size_t cap = d->entry_cap ? 2 * d->entry_cap : 256;
        list_entry *e = hollow__reallocarray(d->entries, cap, sizeof *e);
        if (e == NULL)
            return false;
        d->entries = e;
        d->entry_cap = cap;
    }
    d->entries[d->entry_count].key = key;
    d->entries[d->entry_count].size = size;
    d->entry_count++;
    return true;
}

static void xml_push_entry(xml_doc *d)
{
    if (d->cur_key == NULL)
        return;
    if (entry_add(d, d->cur_key, d->cur_size_ok ? d->cur_size : -1))
        d->cur_key = NULL;
    else
        d->oom = true;
    d->cur_size_ok = false;
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    xml_doc *d = ud;
    int depth = d->depth--;
    const char *root = xml_root(d);
    const char *parent = depth >= 2 && depth <= 8 ? d->stack[depth - 2] : "";

    if (depth == 2 && strcmp(root, "Error") == 0) {
        if (strcmp(name, "Code") == 0)
            xml_copy(d, d->code, sizeof d->code);
        else if (strcmp(name, "Message") == 0)
            xml_copy(d, d->message, sizeof d->message);
    } else if (depth == 2 &&
               strcmp(root, "InitiateMultipartUploadResult") == 0 &&
               strcmp(name, "UploadId") == 0) {
        hollow__free(d->upload_id);
        d->upload_id = xml_text_dup(d);
    } else if (strcmp(root, "ListBucketResult") == 0) {
        if (depth == 2 && strcmp(name, "IsTruncated") == 0) {
            const char *t = hollow__buf_cstr(&d->text);
            d->truncated = t != NULL && strcmp(t, "true") == 0;
        } else if (depth == 2 && strcmp(name, "NextContinuationToken") == 0) {
            hollow__free(d->next_token);
            d->next_token = xml_text_dup(d);
        } else if (depth == 3 && strcmp(parent, "Contents") == 0) {
            if (strcmp(name, "Key") == 0) {
                hollow__free(d->cur_key);
                d->cur_key = xml_text_dup(d);
            } else if (strcmp(name, "Size") == 0) {
                const char *t = hollow__buf_cstr(&d->text);
                char *end = NULL;
                errno = 0;
                long long v = t != NULL ? strtoll(t, &end, 10) : -1;
                d->cur_size_ok = t != NULL && end != t && *end == '\0' &&
                                 errno == 0 && v >= 0;
                d->cur_size = (int64_t)v;
            }
        } else if (depth == 2 && strcmp(name, "Contents") == 0) {
            xml_push_entry(d);
        }
    }
    d->text.len = 0;
}

/* parse a whole reply body into `d` (zeroed by the caller) */
static int xml_parse(xml_doc *d, const uint8_t *p, size_t n)
{
    XML_Parser xp = XML_ParserCreate(NULL);
    if (xp == NULL)
        return hollow__error_oom();
    XML_SetUserData(xp, d);
    XML_SetElementHandler(xp, xml_start, xml_end);
    XML_SetCharacterDataHandler(xp, xml_chars);
    int rc = 0;
    if (n > (size_t)INT32_MAX ||
        XML_Parse(xp, (const char *)p, (int)n, 1) != XML_STATUS_OK)
        rc = hollow__error_set(HOLLOW_EBACKEND, "malformed xml: %s",
                               XML_ErrorString(XML_GetErrorCode(xp)));
    else if (d->oom || d->text.oom)
        rc = hollow__error_oom();
    XML_ParserFree(xp);
    return rc;
}

/* ---------------------------------------------------------------------
 * One request: descriptor, curl callbacks, run()
 * ------------------------------------------------------------------- */

typedef struct body_src {
    const uint8_t *mem; /* memory body, or NULL for the file */
    int fd;
    uint64_t off; /* file offset of the body's first byte */
    uint64_t len;
    uint64_t pos; /* next byte to hand to curl */
    int err;      /* errno of a failed read; EIO if the file shrank */
} body_src;

typedef struct request {
    hollow__s3 *s;
    const char *method; /* GET PUT HEAD DELETE POST */
    const char *key;    /* NULL: bucket-level */
    const char *query;  /* already canonical, or NULL */
    const char *payload_sha; /* NULL: the empty body's */
    const char *meta_sha;    /* x-amz-meta-sha256 to send, or NULL */
    const char *if_none_match;
    body_src *body;          /* PUT body */
    const char *post;        /* POST body */
    size_t post_len;
    bool want_xml;           /* keep a 2xx body for xml_parse() */

    /* object bytes of a 2xx GET: to out_fd, or into out_mem */
    int out_fd;
    uint8_t *out_mem;
    size_t out_cap;
    EVP_MD_CTX *md; /* hashes those bytes when set */
    uint64_t received;
    bool overflow;
    int write_err;

    /* reply */
    long status;
    int64_t content_length;
    char etag[128];
    char meta[80];
    bool has_meta;
    hollow__buf xml; /* error document, or the 2xx body when want_xml */
    char s3code[64];
} request;

static void request_init(request *rq, hollow__s3 *s, const char *method,
                         const char *key)
{
    memset(rq, 0, sizeof *rq);
    rq->s = s;
    rq->method = method;
    rq->key = key;
    rq->out_fd = -1;
    rq->content_length = -1;
}

static void request_clear(request *rq) { hollow__buf_free(&rq->xml); }

/* "bucket/key" or "bucket", as messages name the target */
static const char *target_key(const request *rq)
{
    return rq->key != NULL ? rq->key : "";
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
    body_src *b = ud;
    uint64_t left = b->len - b->pos;
    size_t want = size * nmemb;
    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (b->mem != NULL) {
        memcpy(p, b->mem + b->pos, want);
        b->pos += want;
        return want;
    }
    ssize_t r;
    do
        r = pread(b->fd, p, want, (off_t)(b->off + b->pos));
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        b->err = r < 0 ? errno : EIO; /* r == 0: the file shrank */
        return CURL_READFUNC_ABORT;
    }
    b->pos += (uint64_t)r;
    return (size_t)r;
}

/* curl rewinds the body to resend it (a 100-continue refused, a retry on
 * a connection that went stale) */
static int on_seek(void *ud, curl_off_t off, int origin)
{
    body_src *b = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > b->len)
        return CURL_SEEKFUNC_CANTSEEK;
    b->pos = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

static bool header_is(const char *line, size_t n, const char *name,
                      const char **value, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return false;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
                       end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    request *rq = ud;
    size_t n = size * nmemb;
    const char *v;
    size_t vl;
    if (n > 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new status line (after a 100 Continue): forget the last one */
        const char *sp = memchr(p, ' ', n);
        rq->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
        rq->content_length = -1;
        rq->etag[0] = '\0';
        rq->has_meta = false;
    } else if (header_is(p, n, "etag", &v, &vl)) {
        if (vl < sizeof rq->etag) {
            memcpy(rq->etag, v, vl);
            rq->etag[vl] = '\0';
        }
    } else if (header_is(p, n, "x-amz-meta-sha256", &v, &vl)) {
        rq->has_meta = true;
        if (vl >= sizeof rq->meta)
            vl = sizeof rq->meta - 1;
        memcpy(rq->meta, v, vl);
        rq->meta[vl] = '\0';
    } else if (header_is(p, n, "content-length", &v, &vl)) {
        char tmp[32];
        if (vl < sizeof tmp) {
            memcpy(tmp, v, vl);
            tmp[vl] = '\0';
            rq->content_length = strtoll(tmp, NULL, 10);
        }
    }
    return n;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    request *rq = ud;
    size_t n = size * nmemb;
    bool ok = rq->status >= 200 && rq->status < 300;
    if (ok && (rq->out_fd >= 0 || rq->out_mem != NULL)) {
        if (rq->out_mem != NULL) {
            if (n > rq->out_cap - rq->received) {
                rq->overflow = true;
                return 0;
            }
            memcpy(rq->out_mem + rq->received, p, n);
        } else if ((rq->write_err = write_all(rq->out_fd, p, n)) != 0) {
            return 0;
        }
        if (rq->md != NULL && EVP_DigestUpdate(rq->md, p, n) != 1) {
            rq->write_err = ENOMEM;
            return 0;
        }
        rq->received += n;
        return n;
    }
    size_t cap = ok ? XML_BODY_CAP : ERR_BODY_CAP;
    if (ok && !rq->want_xml)
        return n; /* a body nobody asked for (PUT replies) */
    if (rq->xml.len + n > cap) {
        if (ok) {
            rq->overflow = true;
            return 0;
        }
        n = cap - rq->xml.len; /* an error document: the start is enough */
        hollow__buf_put(&rq->xml, p, n);
        return size * nmemb;
    }
    hollow__buf_put(&rq->xml, p, n);
    return n;
}

static CURL *handle_take(hollow__s3 *s)
{
    CURL *h = NULL;
    hollow__mutex_lock(&s->lock);
    if (s->idle_count > 0)
        h = s->idle[--s->idle_count];
    hollow__mutex_unlock(&s->lock);
    return h != NULL ? h : curl_easy_init();
}

/* back to the pool; curl_easy_reset() keeps the live connections */
static void handle_give(hollow__s3 *s, CURL *h)
{
    curl_easy_reset(h);
    hollow__mutex_lock(&s->lock);
    if (s->idle_count < POOL_MAX) {
        s->idle[s->idle_count++] = h;
        h = NULL;
    }
    hollow__mutex_unlock(&s->lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

static void request_url(hollow__buf *b, const request *rq)
{
    hollow__s3 *s = rq->s;
    hollow__buf_puts(b, s->base_url);
    hollow__buf_putc(b, '/');
    aws_encode(b, s->bucket, false);
    if (rq->key != NULL) {
        hollow__buf_putc(b, '/');
        aws_encode(b, rq->key, true);
    }
    if (rq->query != NULL && rq->query[0] != '\0') {
        hollow__buf_putc(b, '?');
        hollow__buf_puts(b, rq->query);
    }
}

/* append a header line; false (list untouched) when out of memory */
static bool hdr_add(struct curl_slist **l, const char *line)
{
    struct curl_slist *t = curl_slist_append(*l, line);
    if (t == NULL)
        return false;
    *l = t;
    return true;
}

static bool is_certificate_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
        return true;
    default:
        return false;
    }
}

/* a transfer that did not complete (no usable HTTP reply) */
static int curl_error(request *rq, CURLcode cc, const char *errbuf,
                      int read_err)
{
    hollow__s3 *s = rq->s;
    const char *sep = rq->key != NULL ? "/" : "";
    if (read_err != 0)
        return hollow__error_set_os(HOLLOW_EIO, read_err,
                                    "s3 %s %s%s%s: reading the upload",
                                    rq->method, s->bucket, sep,
                                    target_key(rq));
    if (rq->write_err != 0)
        return hollow__error_set_os(HOLLOW_EIO, rq->write_err,
                                    "s3 %s %s%s%s: writing the download",
                                    rq->method, s->bucket, sep,
                                    target_key(rq));
    if (rq->overflow)
        return hollow__error_set(
            HOLLOW_ERANGE, "s3 %s %s%s%s: reply larger than %zu bytes",
            rq->method, s->bucket, sep, target_key(rq),
            rq->out_mem != NULL ? rq->out_cap : (size_t)XML_BODY_CAP);
    if (cc == CURLE_OUT_OF_MEMORY)
        return hollow__error_oom();

    char msg[768];
    int code = HOLLOW_EIO;
    const char *what = "";
    if (is_certificate_error(cc)) {
        code = HOLLOW_EBACKEND;
        what = "tls certificate not verified: ";
    } else if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ||
               cc == CURLE_NOT_BUILT_IN || cc == CURLE_BAD_FUNCTION_ARGUMENT ||
               cc == CURLE_LOGIN_DENIED) {
        code = HOLLOW_EBACKEND; /* configuration: retrying will not help */
    }
    /* curl's error buffer is the more precise; it names no credential */
    snprintf(msg, sizeof msg, "s3 %s %s%s%s: %s%s", rq->method, s->bucket,
             sep, target_key(rq), what,
             errbuf[0] ? errbuf : curl_easy_strerror(cc));
    scrub(s, msg);
    return hollow__error_set(code, "%s", msg);
}

/* a reply whose status is not a success */
static int http_error(request *rq)
{
    hollow__s3 *s = rq->s;
    xml_doc d;
    memset(&d, 0, sizeof d);
    if (rq->xml.len > 0 && xml_parse(&d, rq->xml.ptr, rq->xml.len) == 0 &&
        strcmp(xml_root(&d), "Error") == 0) {
        snprintf(rq->s3code, sizeof rq->s3code, "%s", d.code);
    }
    long st = rq->status;
    int code;
    if (st == 404)
        code = HOLLOW_ENOTFOUND;
    else if (st >= 500 || st == 429 || st == 408 ||
             strcmp(rq->s3code, "RequestTimeout") == 0 ||
             strcmp(rq->s3code, "SlowDown") == 0)
        code = HOLLOW_EIO;
    else
        code = HOLLOW_EBACKEND;

    char msg[1024];
    const char *sep = rq->key != NULL ? "/" : "";
    if (rq->s3code[0] != '\0')
        snprintf(msg, sizeof msg, "s3 %s %s%s%s: http %ld %s%s%s", rq->method,
                 s->bucket, sep, target_key(rq), st, rq->s3code,
                 d.message[0] ? ": " : "", d.message);
    else if (st == 404)
        snprintf(msg, sizeof msg, "s3 %s %s%s%s: http 404 (no such %s)",
                 rq->method, s->bucket, sep, target_key(rq),
                 rq->key != NULL ? "key or bucket" : "bucket");
    else
        snprintf(msg, sizeof msg, "s3 %s %s%s%s: http %ld", rq->method,
                 s->bucket, sep, target_key(rq), st);
    xml_doc_free(&d);
    scrub(s, msg);
    return hollow__error_set(code, "%s", msg);
}

/*
 * Send `rq` and wait for the reply. Returns 0 for a 2xx (and for a 304
 * when an If-None-Match was sent), else the classified error; rq->status
 * and rq->s3code tell the caller what S3 said.
 */
static int run(request *rq)
{
    hollow__s3 *s = rq->s;
    hollow__buf url = HOLLOW__BUF_INIT;
    struct curl_slist *hdrs = NULL;
    char line[256];
    char errbuf[CURL_ERROR_SIZE];
    int rc = 0;

    CURL *h = handle_take(s);
    if (h == NULL)
        return hollow__error_oom();

    request_url(&url, rq);
    const char *u = hollow__buf_cstr(&url);
    if (u == NULL) {
        rc = hollow__error_oom();
        goto done;
    }

    /* every entry of the list is signed (services.md §2.1 #4): only
     * headers that are sent belong here */
    bool ok = true;
    snprintf(line, sizeof line, "x-amz-content-sha256: %s",
             rq->payload_sha != NULL ? rq->payload_sha : EMPTY_SHA256);
    ok = hdr_add(&hdrs, line);
    if (ok && rq->meta_sha != NULL) {
        snprintf(line, sizeof line, "x-amz-meta-sha256: %s", rq->meta_sha);
        ok = hdr_add(&hdrs, line);
    }
    if (ok && rq->if_none_match != NULL) {
        snprintf(line, sizeof line, "If-None-Match: %s", rq->if_none_match);
        ok = hdr_add(&hdrs, line);
    }
    if (ok && s->token_header != NULL)
        ok = hdr_add(&hdrs, s->token_header);
    if (!ok) {
        rc = hollow__error_oom();
        goto done;
    }

    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, u);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, s->access_key);
    curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret_key);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, rq);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, rq);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (s->connect_timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)s->connect_timeout_ms);
    if (s->timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);

    if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "PUT") == 0) {
        static body_src empty;
        body_src *b = rq->body != NULL ? rq->body : &empty;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, b);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, b);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
    } else if (strcmp(rq->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->post ? rq->post : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)rq->post_len);
    } else if (strcmp(rq->method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }

    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = curl_error(rq, cc, errbuf, rq->body != NULL ? rq->body->err : 0);
    } else if (rq->status >= 200 && rq->status < 300) {
        rc = hollow__buf_check(&rq->xml);
    } else if (rq->status == 304 && rq->if_none_match != NULL) {
        rc = 0;
    } else {
        rc = http_error(rq);
    }
done:
    curl_slist_free_all(hdrs);
    hollow__buf_free(&url);
    handle_give(s, h);
    return rc;
}

/* ---------------------------------------------------------------------
 * Life cycle
 * ------------------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static void free_secret(char *p)
{
    if (p != NULL) {
        /* volatile: the wipe must not be optimised away before free */
        volatile char *v = p;
        while (*v != '\0')
            *v++ = '\0';
        hollow__free(p);
    }
}

void hollow__s3_free(hollow__s3 *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->idle_count; i++)
        curl_easy_cleanup(s->idle[i]);
    hollow__mutex_destroy(&s->lock);
    hollow__free(s->base_url);
    hollow__free(s->ca_file);
    hollow__free(s->bucket);
    hollow__free(s->access_key);
    free_secret(s->secret_key);
    free_secret(s->session_token);
    free_secret(s->token_header);
    hollow__free(s->sigv4);
    hollow__free(s->region);
    hollow__free(s);
}

static char *dup_opt(const char *p, bool *oom)
{
    if (p == NULL)
        return NULL;
    char *c = hollow__strdup(p);
    if (c == NULL)
        *oom = true;
    return c;
}

int hollow__s3_new(hollow__s3 **out, const hollow__s3_config *cfg)
{
    HOLLOW__ARG_NOT_NULL(out);
    *out = NULL;
    HOLLOW__ARG_NOT_NULL(cfg);
    HOLLOW__ARG_NOT_NULL(cfg->base_url);
    HOLLOW__ARG_NOT_NULL(cfg->region);
    HOLLOW__ARG_NOT_NULL(cfg->bucket);
    HOLLOW__ARG_NOT_NULL(cfg->access_key);
    HOLLOW__ARG_NOT_NULL(cfg->secret_key);
    if (strncmp(cfg->base_url, "http://", 7) != 0 &&
        strncmp(cfg->base_url, "https://", 8) != 0)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "s3 endpoint %s: not an http:// or https:// url",
                                 cfg->base_url);
    if (cfg->bucket[0] == '\0' || strchr(cfg->bucket, '/') != NULL)
        return hollow__error_set(HOLLOW_EINVAL, "s3 bucket name '%s' is not valid",
                                 cfg->bucket);
    if (cfg->region[0] == '\0' || strchr(cfg->region, ':') != NULL)
        return hollow__error_set(HOLLOW_EINVAL, "s3 region '%s' is not valid",
                                 cfg->region);

    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return hollow__error_set(HOLLOW_EBACKEND, "libcurl init failed: %s",
                                 curl_easy_strerror(global_rc));

    hollow__s3 *s = hollow__calloc(1, sizeof *s);
    HOLLOW_CHECK_ALLOC(s);
    if (hollow__mutex_init(&s->lock) != 0) {
        hollow__free(s);
        return hollow__error_oom();
    }
    bool oom = false;
    s->base_url = dup_opt(cfg->base_url, &oom);
    s->ca_file = dup_opt(cfg->ca_file, &oom);
    s->bucket = dup_opt(cfg->bucket, &oom);
    s->region = dup_opt(cfg->region, &oom);
    s->access_key = dup_opt(cfg->access_key, &oom);
    s->secret_key = dup_opt(cfg->secret_key, &oom);
    if (cfg->session_token != NULL && cfg->session_token[0] != '\0') {
        s->session_token = dup_opt(cfg->session_token, &oom);
        size_t n = strlen(cfg->session_token) + 32;
        if ((s->token_header = hollow__malloc(n)) != NULL)
            snprintf(s->token_header, n, "x-amz-security-token: %s",
                     cfg->session_token);
        else
            oom = true;
    }
    size_t n = strlen(cfg->region) + 16;
    if ((s->sigv4 = hollow__malloc(n)) != NULL)
        snprintf(s->sigv4, n, "aws:amz:%s:s3", cfg->region);
    else
        oom = true;
    if (oom) {
        hollow__s3_free(s);
        return hollow__error_oom();
    }
    size_t ul = strlen(s->base_url);
    while (ul > 0 && s->base_url[ul - 1] == '/')
        s->base_url[--ul] = '\0';
    s->connect_timeout_ms = cfg->connect_timeout_ms;
    s->timeout_ms = cfg->timeout_ms;
    s->part_size = cfg->part_size > 0 ? cfg->part_size : DEFAULT_PART_SIZE;
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------------
 * Bucket, small objects, HEAD, DELETE
 * ------------------------------------------------------------------- */

static int check_key(const char *key)
{
    HOLLOW__ARG_NOT_NULL(key);
    if (key[0] == '\0')
        return hollow__error_set(HOLLOW_EINVAL, "empty s3 key");
    return 0;
}

static void fill_info(const request *rq, hollow__s3_object *info,
                      int64_t size)
{
    if (info == NULL)
        return;
    info->size = size;
    snprintf(info->etag, sizeof info->etag, "%s", rq->etag);
    if (!rq->has_meta || !sha256_hex_norm(rq->meta, info->sha256))
        info->sha256[0] = '\0';
}

int hollow__s3_create_bucket(hollow__s3 *s)
{
    HOLLOW__ARG_NOT_NULL(s);
    hollow__buf body = HOLLOW__BUF_INIT;
    char sha[65] = EMPTY_SHA256;
    request rq;
    int rc;

    /* outside us-east-1, S3 wants the region in the body */
    if (strcmp(s->region, "us-east-1") != 0) {
        hollow__buf_puts(&body, "<CreateBucketConfiguration xmlns=\"http://s3."
                                "amazonaws.com/doc/2006-03-01/\"><LocationCon"
                                "straint>");
        xml_escape(&body, s->region);
        hollow__buf_puts(&body,
                         "</LocationConstraint></CreateBucketConfiguration>");
        if ((rc = hollow__buf_check(&body)) < 0 ||
            (rc = sha256_mem(body.ptr, body.len, sha)) < 0)
            goto done;
    }
    body_src b = {.mem = body.ptr ? body.ptr : (const uint8_t *)"",
                  .len = body.len};
    request_init(&rq, s, "PUT", NULL);
    rq.body = &b;
    rq.payload_sha = sha;
    rc = run(&rq);
    if (rc < 0 && rq.status == 409) {
        if (strcmp(rq.s3code, "BucketAlreadyOwnedByYou") == 0) {
            rc = 0;
        } else if (strcmp(rq.s3code, "BucketAlreadyExists") == 0) {
            /* s3rver says this for our own bucket too: ours if we may
             * read it */
            saved_error e;
            error_save(&e);
            request hq;
            request_init(&hq, s, "HEAD", NULL);
            rc = run(&hq) == 0 ? 0 : error_restore(&e);
            request_clear(&hq);
        }
    }
    request_clear(&rq);
done:
    hollow__buf_free(&body);
    return rc;
}

int hollow__s3_put_bytes(hollow__s3 *s, const char *key, const void *data,
                         size_t len)
{
    HOLLOW__ARG_NOT_NULL(s);
    HOLLOW_TRY(check_key(key));
    if (data == NULL && len > 0)
        return hollow__error_null("data");
    char sha[65];
    HOLLOW_TRY(sha256_mem(data != NULL ? data : "", len, sha));
    body_src b = {.mem = data != NULL ? data : (const uint8_t *)"",
                  .len = len};
    request rq;
    request_init(&rq, s, "PUT", key);
    rq.body = &b;
    rq.payload_sha = sha;
    rq.meta_sha = sha;
    int rc = run(&rq);
    request_clear(&rq);
    return rc;
}

int hollow__s3_head(hollow__s3 *s, const char *key, hollow__s3_object *info)
{
    HOLLOW__ARG_NOT_NULL(s);
    HOLLOW_TRY(check_key(key));
    request rq;
    request_init(&rq, s, "HEAD", key);
    int rc = run(&rq);
    if (rc == 0)
        fill_info(&rq, info, rq.content_length);
    request_clear(&rq);
    return rc;
}

int hollow__s3_delete(hollow__s3 *s, const char *key)
{
    HOLLOW__ARG_NOT_NULL(s);
    HOLLOW_TRY(check_key(key));
    request rq;
    request_init(&rq, s, "DELETE", key);
    int rc = run(&rq);
    request_clear(&rq);
    return rc;
}

/* ---------------------------------------------------------------------
 * Downloads
 * ------------------------------------------------------------------- */

/* after a 2xx GET: the bytes against x-amz-meta-sha256 */
static int verify_download(request *rq, char *hex)
{
    hollow__s3 *s = rq->s;
    char want[65];
    int rc = md_final_hex(rq->md, hex);
    if (rc < 0)
        return rc;
    if (rq->content_length >= 0 && (uint64_t)rq->content_length != rq->received)
        return hollow__error_set(HOLLOW_EIO,
                                 "s3 GET %s/%s: %" PRIu64 " bytes received of %"
                                 PRId64, s->bucket, rq->key, rq->received,
                                 rq->content_length);
    if (!rq->has_meta)
        return 0; /* written by another tool: accepted unverified */
    if (!sha256_hex_norm(rq->meta, want))
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "s3 GET %s/%s: x-amz-meta-sha256 is not a "
                                 "sha-256", s->bucket, rq->key);
    if (strcmp(want, hex) != 0)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "s3 GET %s/%s: the %" PRIu64 " bytes received "
                                 "have sha-256 %s, the object's metadata says %s",
                                 s->bucket, rq->key, rq->received, hex, want);
    return 0;
}

int hollow__s3_get_fd(hollow__s3 *s, const char *key, int fd,
                      hollow__s3_object *info, char *sha256_out)
{
    HOLLOW__ARG_NOT_NULL(s);
    HOLLOW_TRY(check_key(key));
    if (fd < 0)
        return hollow__error_set(HOLLOW_EINVAL, "s3 GET %s: bad fd %d", key, fd);
    request rq;
    request_init(&rq, s, "GET", key);
    rq.out_fd = fd;
    if ((rq.md = md_new()) == NULL)
        return hollow__error_oom();
    char hex[65];
    int rc = run(&rq);
    if (rc == 0)
        rc = verify_download(&rq, hex);
    if (rc == 0) {
        fill_info(&rq, info, (int64_t)rq.received);
        if (sha256_out != NULL)
            memcpy(sha256_out, hex, 65);
    }
    EVP_MD_CTX_free(rq.md);
    request_clear(&rq);
    return rc;
}

int hollow__s3_get_small(hollow__s3 *s, const char *key,
                         const char *if_none_match, void *buf, size_t cap,
                         size_t *len_out, hollow__s3_object *info)
{
    static uint8_t none;
    HOLLOW__ARG_NOT_NULL(s);
    HOLLOW_TRY(check_key(key));
    if (buf == NULL && cap > 0)
        return hollow__error_null("buf");
    request rq;
    request_init(&rq, s, "GET", key);
    rq.out_mem = buf != NULL ? buf : &none;
    rq.out_cap = cap;
    rq.if_none_match =
        if_none_match != NULL && if_none_match[0] != '\0' ? if_none_match : NULL;
    if ((rq.md = md_new()) == NULL)
        return hollow__error_oom();
    char hex[65];
    int rc = run(&rq);
    if (rc == 0 && rq.status == 304) {
        rc = 1;
    } else if (rc == 0 && (rc = verify_download(&rq, hex)) == 0) {
        if (len_out != NULL)
            *len_out = (size_t)rq.received;
        fill_info(&rq, info, (int64_t)rq.received);
    }
    EVP_MD_CTX_free(rq.md);
    request_clear(&rq);
    return rc;
}

/* ---------------------------------------------------------------------
 * Uploads of files: one PUT, or multipart above part_size
 * ------------------------------------------------------------------- */

/* SHA-256 of bytes [off, off+len) of fd, read in 1 MiB chunks */
static int hash_range(int fd, uint64_t off, uint64_t len, uint8_t *tmp,
                      const char *path, char *hex)
{
    EVP_MD_CTX *md = md_new();
    if (md == NULL)
        return hollow__error_oom();
    int rc = 0;
    while (len > 0 && rc == 0) {
        size_t want = len < HASH_CHUNK ? (size_t)len : HASH_CHUNK;
        ssize_t r = pread(fd, tmp, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            rc = hollow__error_set_os(HOLLOW_EIO, r < 0 ? errno : EIO,
                                      "s3 upload: reading %s", path);
        else if (EVP_DigestUpdate(md, tmp, (size_t)r) != 1)
            rc = hollow__error_set(HOLLOW_ERROR, "sha-256 failed");
        else {
            off += (uint64_t)r;
            len -= (uint64_t)r;
        }
    }
    if (rc == 0)
        rc = md_final_hex(md, hex);
    EVP_MD_CTX_free(md);
    return rc;
}

static int upload_query(hollow__buf *q, uint32_t part, const char *upload_id)
{
    q->len = 0;
    if (part > 0)
        hollow__buf_printf(q, "partNumber=%" PRIu32 "&", part);
    hollow__buf_puts(q, "uploadId=");
    aws_encode(q, upload_id, false);
    return hollow__buf_cstr(q) != NULL ? 0 : hollow__error_oom();
}

static void abort_upload(hollow__s3 *s, const char *key,
                         const char *upload_id)
{
    hollow__buf q = HOLLOW__BUF_INIT;
    if (upload_query(&q, 0, upload_id) == 0) {
        request rq;
        request_init(&rq, s, "DELETE", key);
        rq.query = (const char *)q.ptr;
        (void)run(&rq); /* best effort: the caller reports the first error */
        request_clear(&rq);
    }
    hollow__buf_free(&q);
}

static int multipart_put(hollow__s3 *s, const char *key, const char *path,
                         int fd, uint64_t size, const char *sha)
{
    uint64_t part = s->part_size;
    if ((size + part - 1) / part > MAX_PARTS) {
        part = (size + MAX_PARTS - 1) / MAX_PARTS;
        part = (part + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
    }
    uint32_t nparts = (uint32_t)((size + part - 1) / part);
    char (*etags)[128] = NULL;
    uint8_t *tmp = NULL;
    char *upload_id = NULL;
    hollow__buf q = HOLLOW__BUF_INIT, body = HOLLOW__BUF_INIT;
    xml_doc d;
    request rq;
    int rc;

    memset(&d, 0, sizeof d);
    request_init(&rq, s, "POST", key);
    rq.query = "uploads=";
    rq.meta_sha = sha;
    rq.want_xml = true;
    rc = run(&rq);
    if (rc == 0)
        rc = xml_parse(&d, rq.xml.ptr, rq.xml.len);
    request_clear(&rq);
    if (rc < 0)
        goto done;
    if (d.upload_id == NULL || d.upload_id[0] == '\0') {
        rc = hollow__error_set(HOLLOW_EBACKEND,
                               "s3 POST %s/%s?uploads: no UploadId in the reply",
                               s->bucket, key);
        goto done;
    }
    upload_id = d.upload_id;
    d.upload_id = NULL;

    etags = hollow__mallocarray(nparts, sizeof *etags);
    tmp = hollow__malloc(HASH_CHUNK);
    if (etags == NULL || tmp == NULL) {
        rc = hollow__error_oom();
        goto failed;
    }
    for (uint32_t i = 0; i < nparts; i++) {
        uint64_t off = (uint64_t)i * part;
        uint64_t len = size - off < part ? size - off : part;
        char part_sha[65];
        if ((rc = hash_range(fd, off, len, tmp, path, part_sha)) < 0 ||
            (rc = upload_query(&q, i + 1, upload_id)) < 0)
            goto failed;
        body_src b = {.fd = fd, .off = off, .len = len};
        request_init(&rq, s, "PUT", key);
        rq.query = (const char *)q.ptr;
        rq.body = &b;
        rq.payload_sha = part_sha;
        rc = run(&rq);
        if (rc == 0 && rq.etag[0] == '\0')
            rc = hollow__error_set(HOLLOW_EBACKEND,
                                   "s3 PUT %s/%s part %" PRIu32
                                   ": no ETag in the reply",
                                   s->bucket, key, i + 1);
        if (rc == 0)
            memcpy(etags[i], rq.etag, sizeof etags[i]);
        request_clear(&rq);
        if (rc < 0)
            goto failed;
    }

    hollow__buf_puts(&body, "<CompleteMultipartUpload>");
    for (uint32_t i = 0; i < nparts; i++) {
        hollow__buf_printf(&body, "<Part><PartNumber>%" PRIu32
                                  "</PartNumber><ETag>", i + 1);
        xml_escape(&body, etags[i]);
        hollow__buf_puts(&body, "</ETag></Part>");
    }
    hollow__buf_puts(&body, "</CompleteMultipartUpload>");
    char body_sha[65];
    if ((rc = hollow__buf_check(&body)) < 0 ||
        (rc = sha256_mem(body.ptr, body.len, body_sha)) < 0 ||
        (rc = upload_query(&q, 0, upload_id)) < 0)
        goto failed;
    request_init(&rq, s, "POST", key);
    rq.query = (const char *)q.ptr;
    rq.post = (const char *)body.ptr;
    rq.post_len = body.len;
    rq.payload_sha = body_sha;
    rq.want_xml = true;
    rc = run(&rq);
    if (rc == 0) {
        /* S3 may answer 200 and still fail, with an <Error> body */
        xml_doc_free(&d);
        rc = xml_parse(&d, rq.xml.ptr, rq.xml.len);
        if (rc == 0 && strcmp(xml_root(&d), "Error") == 0)
            rc = hollow__error_set(
                strcmp(d.code, "InternalError") == 0 ||
                        strcmp(d.code, "SlowDown") == 0
                    ? HOLLOW_EIO
                    : HOLLOW_EBACKEND,
                "s3 POST %s/%s?uploadId: %s: %s", s->bucket, key, d.code,
                d.message);
    }
    request_clear(&rq);
    if (rc == 0)
        goto done;
failed : {
    saved_error e;
    error_save(&e);
    abort_upload(s, key, upload_id);
    rc = error_restore(&e);
}
done:
    xml_doc_free(&d);
    hollow__buf_free(&q);
    hollow__buf_free(&body);
    hollow__free(upload_id);
    hollow__free(etags);
    hollow__free(tmp);
    return rc;
}

int hollow__s3_put_file(hollow__s3 *s, const char *key, const char *path,
                        const char *sha256_hex)
{
    HOLLOW__ARG_NOT_NULL(s);
    HOLLOW_TRY(check_key(key));
    HOLLOW__ARG_NOT_NULL(path);
    HOLLOW__ARG_NOT_NULL(sha256_hex);
    char sha[65];
    if (!sha256_hex_norm(sha256_hex, sha))
        return hollow__error_set(HOLLOW_EINVAL,
                                 "s3 PUT %s: '%s' is not a sha-256 in hex",
                                 key, sha256_hex);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hollow__error_set_os(HOLLOW_EIO, errno, "s3 PUT %s: open %s",
                                    key, path);
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0) {
        rc = hollow__error_set_os(HOLLOW_EIO, errno, "s3 PUT %s: stat %s", key,
                                  path);
    } else if (!S_ISREG(st.st_mode)) {
        rc = hollow__error_set(HOLLOW_EINVAL, "s3 PUT %s: %s is not a file",
                               key, path);
    } else if ((uint64_t)st.st_size > s->part_size) {
        rc = multipart_put(s, key, path, fd, (uint64_t)st.st_size, sha);
    } else {
        body_src b = {.fd = fd, .len = (uint64_t)st.st_size};
        request rq;
        request_init(&rq, s, "PUT", key);
        rq.body = &b;
        rq.payload_sha = sha;
        rq.meta_sha = sha;
        rc = run(&rq);
        request_clear(&rq);
    }
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------------
 * Listing (ListObjectsV2, every page)
 * ------------------------------------------------------------------- */

int hollow__s3_list(hollow__s3 *s, const char *prefix, hollow__s3_list_cb cb,
                    void *payload)
{
    HOLLOW__ARG_NOT_NULL(s);
    HOLLOW__ARG_NOT_NULL(cb);
    hollow__buf q = HOLLOW__BUF_INIT;
    xml_doc all, d;
    char *token = NULL;
    int rc = 0;

    /* every page first, then the callbacks: a listing that fails on a
     * later page calls back nothing (style.md B4.7) */
    memset(&all, 0, sizeof all);
    for (;;) {
        q.len = 0;
        if (token != NULL) { /* parameters in canonical (sorted) order */
            hollow__buf_puts(&q, "continuation-token=");
            aws_encode(&q, token, false);
            hollow__buf_putc(&q, '&');
        }
        hollow__buf_puts(&q, "list-type=2");
        if (prefix != NULL && prefix[0] != '\0') {
            hollow__buf_puts(&q, "&prefix=");
            aws_encode(&q, prefix, false);
        }
        if (hollow__buf_cstr(&q) == NULL) {
            rc = hollow__error_oom();
            break;
        }
        request rq;
        request_init(&rq, s, "GET", NULL);
        rq.query = (const char *)q.ptr;
        rq.want_xml = true;
        memset(&d, 0, sizeof d);
        rc = run(&rq);
        if (rc == 0)
            rc = xml_parse(&d, rq.xml.ptr, rq.xml.len);
        request_clear(&rq);
        if (rc == 0 && strcmp(xml_root(&d), "ListBucketResult") != 0)
            rc = hollow__error_set(HOLLOW_EBACKEND,
                                   "s3 GET %s?list-type=2: reply is <%s>, not "
                                   "<ListBucketResult>", s->bucket, xml_root(&d));
        for (size_t i = 0; rc == 0 && i < d.entry_count; i++) {
            if (!entry_add(&all, d.entries[i].key, d.entries[i].size))
                rc = hollow__error_oom();
            else
                d.entries[i].key = NULL;
        }
        bool more = rc == 0 && d.truncated;
        hollow__free(token);
        token = d.next_token;
        d.next_token = NULL;
        xml_doc_free(&d);
        if (rc < 0 || !more)
            break;
        if (token == NULL || token[0] == '\0') {
            rc = hollow__error_set(HOLLOW_EBACKEND,
                                   "s3 GET %s?list-type=2: truncated listing "
                                   "without a continuation token", s->bucket);
            break;
        }
    }
    for (size_t i = 0; rc == 0 && i < all.entry_count; i++)
        rc = cb(all.entries[i].key, all.entries[i].size, payload);
    hollow__free(token);
    xml_doc_free(&all);
    hollow__buf_free(&q);
    return rc;
}
