/* Start and stop the explorer's HTTP server (server.c). */
#ifndef HOLLOW_SERVE_SERVER_H
#define HOLLOW_SERVE_SERVER_H

#include <stddef.h>

typedef struct serve_server serve_server;
struct serve_ctx;

/* listen on `listen` (HOST:PORT; port 0 picks one): 0, or 2 for a bad
 * address, 1 when it cannot listen, with the reason in `err` */
int serve_start(serve_server **out, struct serve_ctx *ctx, const char *listen,
                char *err, size_t cap);
/* the port it listens on */
unsigned serve_port(serve_server *s);
/* close the socket and join every connection's thread; NULL is a no-op */
void serve_stop(serve_server *s);

#endif
