/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "net.h"
#include "views.h"

enum { WEBAPP_DEFAULT_PORT = 5000, PRINT_MAX = 1024 };

static void print_like_python_bytes(const char *p, size_t n)
{
    size_t shown = n < PRINT_MAX ? n : PRINT_MAX;
    fputs("b'", stdout);
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\' || c == '\'')
            printf("\\%c", c);
        else if (c == '\n' || c == '\r' || c == '\t')
            printf("\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        else if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    puts("'");
    if (shown < n)
        printf("(%zu more bytes not shown)\n", n - shown);
}
/* Читать из fd в buf[0..cap), отдавая байты разборщику, пока он не скажет
 * HTTP_DONE или HTTP_ERROR (это -- в *rc) или клиент не закроет соединение
 * (тогда *rc == HTTP_MORE). Возвращает число прочитанных байтов или
 * -errno (-EINTR: просят остановиться). */
static ssize_t read_request(int fd, char *buf, size_t cap, struct http_parser *p,
                            int *rc)
{
    size_t used = 0;
    *rc = HTTP_MORE;
    while (*rc == HTTP_MORE && used < cap) {
        if (net_stop_requested())
            return -EINTR;
        ssize_t n = recv(fd, buf + used, cap - used, 0);
        if (n < 0 && errno == EINTR && !net_stop_requested())
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;                 /* клиент закрыл соединение */
        used += (size_t)n;
        *rc = http_parse_head(p, buf, used);
    }
    return (ssize_t)used;
}
/* Пропустить тело: сначала rest[0..len) (пришло вместе с заголовком),
 * потом из fd. HTTP_DONE, HTTP_ERROR (ошибка в теле: p->status) или
 * HTTP_MORE (клиент закрыл соединение раньше, чем кончилось тело);
 * -errno -- ошибка recv или остановка. */
static int skip_body(int fd, struct http_parser *p, const char *rest, size_t len)
{
    char sink[4096];
    long used = http_skip_body(p, rest, len);
    while (used >= 0 && !http_body_done(p)) {
        if (net_stop_requested())
            return -EINTR;
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n < 0 && errno == EINTR && !net_stop_requested())
            continue;
        if (n <= 0)
            return n < 0 ? -errno : HTTP_MORE;
        used = http_skip_body(p, sink, (size_t)n);
    }
    return used < 0 ? HTTP_ERROR : HTTP_DONE;
}
static void serve_client(int fd)
{
    char peer[NET_PEER_NAME_MAX], head[HTTP_HEAD_MAX];
    struct http_parser parser;
    struct http_request req;
    struct http_reply reply = {400, NULL, "request ended before it was complete", 0};
    int verdict;
    net_peer_name(fd, peer, sizeof peer);
    http_parser_init(&parser, &req);
    ssize_t n = read_request(fd, head, sizeof head, &parser, &verdict);
    if (n <= 0) {
        printf("%s left without a request%s%s\n", peer, n < 0 ? ": " : "",
               n < 0 ? strerror((int)-n) : "");
        close(fd);
        return;
    }
    size_t head_len = http_head_length(&parser);
    if (verdict == HTTP_DONE)
        verdict = skip_body(fd, &parser, head + head_len, (size_t)n - head_len);
    print_like_python_bytes(head, (size_t)n);
    printf("%s\n", peer);
    if (verdict == HTTP_DONE)
        http_route(webapp_routes, &req, &reply);
    else if (verdict == HTTP_ERROR)
        http_error_reply(&parser, &reply);
    int rc = http_send_reply(fd, &reply);
    if (rc < 0)
        fprintf(stderr, "send reply to %s: %s\n", peer, strerror(-rc));
    else
        printf("-> %d %s\n", reply.status, http_reason(reply.status));
    net_close_after_reply(fd);
}
static int accept_error_is_transient(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static int serve_forever(int listen_fd)
{
    while (!net_stop_requested()) {
        int fd = net_accept(listen_fd);
        if (fd == -EINTR)
            break;
        if (fd < 0) {
            fprintf(stderr, "accept: %s\n", strerror(-fd));
            if (!accept_error_is_transient(-fd))
                return 1;
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
            continue;
        }
        serve_client(fd);
    }
    return 0;
}
int main(int argc, char **argv)
{
    int port = WEBAPP_DEFAULT_PORT, status;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5000)"},
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N]", opts, 0, &status) < 0)
        return status;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (net_catch_stop_signals() < 0)
        return 1;
    int listen_fd = net_listen("127.0.0.1", port);
    if (listen_fd < 0)
        return 1;
    net_say_listening("http", port, NULL);
    int rc = serve_forever(listen_fd);
    close(listen_fd);
    net_say_stopped();
    return rc;
}
