/* tests/bench/uv_peer.c — the peer for tests/bench/asyncio.sh: the same two
 * servers as chapter 8, written directly on libuv (Debian: libuv1-dev).
 *
 *   uv_peer hello PORT      "Hello world!\n" for every read, like the sockets-hello server of chapter 10
 *   uv_peer web PORT FILE   HTTP/1.1 keep-alive, body = FILE for every GET
 *
 * Not part of the book's build: the benchmark compiles it into build/bench/.
 * The HTTP side is deliberately as small as ours: find the blank line,
 * answer, keep the connection unless the client said "close". SIGINT and
 * SIGTERM stop the loop. */
#define _GNU_SOURCE   /* strcasestr */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

static int web;
static char *page;
static size_t page_len;
static char reply_head[256], reply_head_close[256];
static size_t reply_head_len, reply_head_close_len;

struct conn {
    uv_tcp_t tcp;
    char buf[8192];
    size_t len;
};

static void on_close(uv_handle_t *h) { free(h); }

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    struct conn *c = (struct conn *)h;
    b->base = c->buf + c->len;
    b->len = sizeof c->buf - c->len - 1;
}

static void on_write(uv_write_t *w, int status)
{
    (void)status;
    if (w->data != NULL && !uv_is_closing((uv_handle_t *)w->handle))
        uv_close((uv_handle_t *)w->handle, on_close);   /* "Connection: close" answered */
    free(w);
}

static void send_bytes(struct conn *c, const char *a, size_t alen, const char *b, size_t blen,
                       int close_after)
{
    uv_write_t *w = malloc(sizeof *w);
    w->data = close_after ? c : NULL;
    uv_buf_t bufs[2] = {uv_buf_init((char *)a, (unsigned)alen), uv_buf_init((char *)b, (unsigned)blen)};
    uv_write(w, (uv_stream_t *)&c->tcp, bufs, blen ? 2 : 1, on_write);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct conn *c = (struct conn *)s;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (!web) {
        send_bytes(c, "Hello world!\n", 13, NULL, 0, 0);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    char *end;
    while ((end = strstr(c->buf, "\r\n\r\n")) != NULL) {
        size_t head = (size_t)(end - c->buf) + 4;
        int close_it = strcasestr(c->buf, "connection: close") != NULL
                       && strcasestr(c->buf, "connection: close") < end;
        if (close_it) {   /* close once the answer is written (on_write) */
            uv_read_stop(s);
            send_bytes(c, reply_head_close, reply_head_close_len, page, page_len, 1);
            return;
        }
        send_bytes(c, reply_head, reply_head_len, page, page_len, 0);
        memmove(c->buf, c->buf + head, c->len - head + 1);
        c->len -= head;
    }
    if (c->len >= sizeof c->buf - 1)
        uv_close((uv_handle_t *)s, on_close);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0)
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    else
        uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_signal(uv_signal_t *h, int signo)
{
    (void)signo;
    uv_stop(h->loop);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "web") == 0 && argc < 4)) {
        fprintf(stderr, "usage: %s hello PORT | web PORT FILE\n", argv[0]);
        return 2;
    }
    web = strcmp(argv[1], "web") == 0;
    if (web) {
        FILE *f = fopen(argv[3], "rb");
        if (f == NULL) { perror(argv[3]); return 1; }
        page = malloc(1 << 20);
        page_len = fread(page, 1, 1 << 20, f);
        fclose(f);
        reply_head_len = (size_t)snprintf(reply_head, sizeof reply_head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n", page_len);
        reply_head_close_len = (size_t)snprintf(reply_head_close, sizeof reply_head_close,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n", page_len);
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[2]), &addr);
    uv_tcp_init(loop, &server);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0
        || uv_listen((uv_stream_t *)&server, 4096, on_connection) != 0) {
        fprintf(stderr, "uv_peer: cannot listen on port %s\n", argv[2]);
        return 1;
    }
    uv_signal_t sigint, sigterm;
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    printf("uv_peer %s on 127.0.0.1:%s\n", argv[1], argv[2]);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    free(page);
    return 0;
}
