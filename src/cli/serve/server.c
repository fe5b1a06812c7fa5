/*
 * The explorer's HTTP side (serve.h): libmicrohttpd with one thread per
 * connection, so a slow client or a diff being computed delays only its
 * own connection. A request is routed by path, rendered whole into a
 * bounded buffer (SERVE_MAX_RESPONSE; past it the answer is 413) while it
 * holds a read state, and only then handed to libmicrohttpd to send.
 * Every page is HTML, or JSON with `?format=json` or
 * `Accept: application/json`. The pages send a Content-Security-Policy
 * that allows only the script and stylesheet served from /static/, a
 * second line of defence behind the escaping of every value.
 */
#include "server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "serve.h"

const char *serve_arg(serve_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool serve_arg_u64(serve_req *r, const char *name, uint64_t def, uint64_t max,
                   uint64_t *out)
{
    const char *v = serve_arg(r, name);
    *out = def;
    if (v == NULL || *v == '\0')
        return true;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (*v == '-' || *end != '\0' || x > max) {
        page_error(r, 400, "%s must be a number from 0 to %llu", name,
                   (unsigned long long)max);
        return false;
    }
    *out = x;
    return true;
}

bool serve_arg_version(serve_req *r, const char *name, int64_t *out)
{
    uint64_t x;
    const char *v = serve_arg(r, name);
    if (v == NULL || *v == '\0') {
        page_error(r, 400, "give %s=VERSION", name);
        return false;
    }
    if (!serve_arg_u64(r, name, 0, INT64_MAX, &x))
        return false;
    *out = (int64_t)x;
    return true;
}

/* ------------------------------------------------------------ frame */

void page_begin(serve_req *r, const char *title)
{
    sbuf *b = r->out;
    sb_puts(b,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>");
    sb_htmls(b, title);
    sb_puts(b, " \xE2\x80\x94 hollow explorer</title>"
               "<link rel=\"stylesheet\" href=\"/static/style.css\">"
               "<script src=\"/static/app.js\" defer></script></head><body>"
               "<nav><a class=\"brand\" href=\"/\">hollow explorer</a>"
               "<a href=\"/\">Types</a><a href=\"/versions\">Versions</a>"
               "<a href=\"/diff\">Diff</a><span class=\"store\">");
    sb_htmls(b, r->ctx->store_name);
    sb_printf(b, " \xC2\xB7 version <span id=\"current-version\">%lld</span>",
              (long long)hollow_consumer_version(r->ctx->consumer));
    sb_puts(b, "</span></nav><main><h1>");
    sb_htmls(b, title);
    sb_puts(b, "</h1>\n");
}

void page_end(serve_req *r) { sb_puts(r->out, "</main></body></html>\n"); }

void page_error(serve_req *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* what was rendered so far is dropped */
    r->out->len = 0;
    r->out->over = false;
    r->status = status;
    if (r->json) {
        sb_printf(r->out, "{\"status\":%d,\"error\":", status);
        sb_jsons(r->out, msg);
        sb_puts(r->out, "}\n");
        return;
    }
    page_begin(r, status == 404 ? "Not found" : "Error");
    sb_puts(r->out, "<p class=\"error\" id=\"error\">");
    sb_htmls(r->out, msg);
    sb_puts(r->out, "</p>");
    page_end(r);
}

/* ------------------------------------------------------------ routing */

static bool wants_json(struct MHD_Connection *conn)
{
    const char *f =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
    if (f != NULL)
        return strcmp(f, "json") == 0;
    const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_ACCEPT);
    return a != NULL && strstr(a, "application/json") != NULL &&
           strstr(a, "text/html") == NULL;
}

/* the path segment after `prefix`, or NULL if `path` does not start so */
static const char *after(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

static void route(serve_req *r, const char *url)
{
    const char *rest;
    bool get = !r->post;
    if (strcmp(url, "/") == 0 || strcmp(url, "/types") == 0) {
        if (get)
            page_types(r);
    } else if ((rest = after(url, "/type/")) != NULL) {
        if (!get)
            goto method;
        /* /type/NAME or /type/NAME/ORDINAL; NAME is a type of the state,
         * looked up by name, never a file */
        char name[256];
        const char *slash = strchr(rest, '/');
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (n == 0 || n >= sizeof name) {
            page_error(r, 404, "no such type");
            return;
        }
        memcpy(name, rest, n);
        name[n] = '\0';
        page_type(r, name, slash ? slash + 1 : NULL);
    } else if ((rest = after(url, "/history/")) != NULL) {
        if (get)
            page_history(r, rest);
    } else if (strcmp(url, "/diff") == 0) {
        if (get)
            page_diff(r);
    } else if (strcmp(url, "/versions") == 0) {
        if (get)
            page_versions(r);
    } else if (strcmp(url, "/pin") == 0 || strcmp(url, "/unpin") == 0) {
        if (!r->post) {
            page_error(r, 405, "%s takes POST", url);
            return;
        }
        page_pin(r, url[1] == 'p');
        return;
    } else if (strcmp(url, "/metrics") == 0) {
        if (get)
            page_metrics(r);
    } else if (strcmp(url, "/static/style.css") == 0) {
        r->content_type = "text/css; charset=utf-8";
        sb_puts(r->out, SERVE_CSS);
    } else if (strcmp(url, "/static/app.js") == 0) {
        r->content_type = "text/javascript; charset=utf-8";
        sb_puts(r->out, SERVE_JS);
    } else {
        page_error(r, 404, "no page %s", url);
    }
    if (get)
        return;
method:
    page_error(r, 405, "%s takes GET", url);
}

static int POST_MARK;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_len, void **con_cls)
{
    (void)version;
    (void)upload;
    serve_ctx *ctx = cls;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (post) {
        /* the body (a form's) is not used: arguments are in the query */
        if (*con_cls == NULL) {
            *con_cls = &POST_MARK;
            return MHD_YES;
        }
        if (*upload_len != 0) {
            *upload_len = 0;
            return MHD_YES;
        }
    }
    sbuf out;
    sb_init(&out, SERVE_MAX_RESPONSE);
    serve_req r = {ctx, url,  conn, wants_json(conn), post, &out,
                   200, NULL, NULL};
    if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        page_error(&r, 405, "method %s not allowed", method);
    else
        route(&r, url);
    if (out.over) {
        bool nomem = out.len < out.cap;
        page_error(
            &r, nomem ? 503 : 413,
            nomem ? "out of memory"
                  : "the page is larger than %u MiB; ask for a smaller page "
                    "(size=N)",
            SERVE_MAX_RESPONSE >> 20);
    }
    pthread_mutex_lock(&ctx->lock);
    ctx->requests++;
    if (r.status >= 500)
        ctx->failures++;
    pthread_mutex_unlock(&ctx->lock);
    size_t len;
    char *data = sb_take(&out, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, data ? data : (char *)"",
        data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(data);
        return MHD_NO;
    }
    const char *ct = r.content_type ? r.content_type
                     : r.json       ? "application/json"
                                    : "text/html; charset=utf-8";
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; "
                            "style-src 'self'; img-src 'self'; "
                            "form-action 'self'; connect-src 'self'");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept");
    if (r.location != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r.location);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ------------------------------------------------------------ daemon */

/* libmicrohttpd's messages, as the CLI's other errors: one line on stderr */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    fprintf(stderr, "hollow-cli serve: %s\n", msg);
}

int serve_start(serve_server **out, serve_ctx *ctx, const char *listen,
                char *err, size_t cap)
{
    *out = NULL;
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen || colon[1] == '\0' ||
        (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, cap, "--listen %s: give HOST:PORT", listen);
        return 2;
    }
    const char *h = listen;
    size_t hn = (size_t)(colon - listen);
    if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535) {
        snprintf(err, cap, "--listen %s: bad port", listen);
        return 2;
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int g = getaddrinfo(host, colon + 1, &hints, &ai);
    if (g != 0 || ai == NULL) {
        snprintf(err, cap, "--listen %s: %s", listen, gai_strerror(g));
        return 2;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, ctx,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (d == NULL) {
        snprintf(err, cap, "cannot listen on %s", listen);
        return 1;
    }
    *out = (serve_server *)d;
    return 0;
}

unsigned serve_port(serve_server *s)
{
    const union MHD_DaemonInfo *i =
        MHD_get_daemon_info((struct MHD_Daemon *)s, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void serve_stop(serve_server *s)
{
    if (s != NULL)
        MHD_stop_daemon((struct MHD_Daemon *)s);
}
