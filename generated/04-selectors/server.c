/* Этот файл извлечён (tangle) из книги: book/03-select.nw book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "net.h"
#include "selector.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server;
struct handler;
typedef void callback_fn(struct server *srv, int fd, struct handler *h);

struct handler {
    callback_fn *fn;        /* что вызвать, когда дескриптор готов */
};

struct client {
    struct handler h;       /* первым полем: &client == &client.h */
    int fd;
    size_t unsent;          /* сколько байт ответа ещё не ушло */
    struct client *prev, *next;
};

struct server {
    selector *sel;
    int listener, wake;
    struct handler on_listener, on_wake;
    struct client *clients; /* все живые клиенты: их надо освободить */
    int running;
};

static const char reply[] = "Hello world!\n";
enum { REPLY_LEN = sizeof reply - 1 };
static int wake_write_fd = -1;

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    ssize_t r = write(wake_write_fd, "!", 1);
    (void)r;
    errno = saved;
}

/* Канал, чей читающий конец станет готов к чтению, когда придёт
   SIGINT или SIGTERM. Возвращает его (или -errno), пишущий конец
   кладёт в *write_end. */
static int stop_signals_to_pipe(int *write_end)
{
    int p[2];
    if (pipe(p) < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
        fcntl(p[i], F_SETFL, O_NONBLOCK);
    }
    wake_write_fd = *write_end = p[1];
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return p[0];
}
static int spare_fd = -1;

/* Дескрипторы кончились (EMFILE): освобождаем запасной, принимаем
   подключение, которое иначе висело бы в очереди вечно, закрываем
   его и снова занимаем запасной. 1 -- одному отказали, можно пробовать
   дальше; 0 -- очередь пуста (Linux говорит EMFILE и при пустой
   очереди!) или запасного нет: пора вернуться в цикл. */
static int shed_connection(int listener)
{
    if (spare_fd < 0)
        return 0;
    close(spare_fd);
    int fd = accept(listener, NULL, NULL);
    if (fd >= 0) {
        fprintf(stderr, "Refusing a connection: out of file descriptors "
                        "(EMFILE)\n");
        close(fd);
    }
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0;
}
static void close_client(struct server *srv, struct client *c)
{
    selector_unregister(srv->sel, c->fd);  /* сначала забыть... */
    close(c->fd);                          /* ...потом закрыть */
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}
static void read_request(struct server *srv, int fd, struct handler *h);

static void write_reply(struct server *srv, int fd, struct handler *h)
{
    struct client *c = (struct client *)h;
    ssize_t n = send(fd, reply + (REPLY_LEN - c->unsent), c->unsent,
                     MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        if (errno != EPIPE && errno != ECONNRESET)
            fprintf(stderr, "send to fd %d: %s\n", fd, strerror(errno));
        close_client(srv, c);
        return;
    }
    if (n > 0)
        c->unsent -= (size_t)n;
    callback_fn *want = c->unsent > 0 ? write_reply : read_request;
    if (c->h.fn != want) {
        c->h.fn = want;
        selector_modify(srv->sel, fd,
                        want == write_reply ? SELECTOR_WRITE : SELECTOR_READ, c);
    }
}
static void read_request(struct server *srv, int fd, struct handler *h)
{
    struct client *c = (struct client *)h;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (n < 0 && errno != ECONNRESET)
            fprintf(stderr, "recv from fd %d: %s\n", fd, strerror(errno));
        close_client(srv, c);
        return;
    }
    c->unsent = REPLY_LEN;
    write_reply(srv, fd, h);
}
static void accept_connections(struct server *srv, int fd, struct handler *h)
{
    (void)h;
    for (;;) {
        int cfd = accept(fd, NULL, NULL);
        if (cfd < 0) {
            int e = errno;
            if (e == EINTR || e == ECONNABORTED)
                continue;
            if ((e == EMFILE || e == ENFILE) && shed_connection(fd))
                continue;
            if (e != EAGAIN && e != EWOULDBLOCK && e != EMFILE && e != ENFILE)
                fprintf(stderr, "accept: %s\n", strerror(e));
            return;
        }
        char name[NET_PEER_NAME_MAX];
        net_peer_name(cfd, name, sizeof name);
        struct client *c = calloc(1, sizeof *c);
        int rc = c ? selector_register(srv->sel, cfd, SELECTOR_READ, c) : -ENOMEM;
        if (rc < 0) {
            fprintf(stderr, "Refusing connection from %s: %s backend cannot "
                    "watch descriptor %d: %s\n", name,
                    selector_backend_name(srv->sel), cfd, strerror(-rc));
            free(c);
            close(cfd);
            continue;
        }
        net_set_nonblocking(cfd);
        c->h.fn = read_request;
        c->fd = cfd;
        c->next = srv->clients;
        if (c->next)
            c->next->prev = c;
        srv->clients = c;
        printf("Connection from: %s\n", name);
    }
}
static void stop_running(struct server *srv, int fd, struct handler *h)
{
    (void)fd;
    (void)h;
    srv->running = 0;
}
static int run(struct server *srv)
{
    selector_event ready[256];
    while (srv->running) {
        int n = selector_select(srv->sel, ready, 256, -1);
        if (n == -EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "selector_select (%s): %s\n",
                    selector_backend_name(srv->sel), strerror(-n));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            const selector_key *key = selector_get_key(srv->sel, ready[i].fd);
            if (key == NULL)
                continue;           /* его уже сняли колбэком из этой же пачки */
            struct handler *h = key->data;
            h->fn(srv, key->fd, h);
        }
    }
    return 0;
}
/* --backend NAME (want); без флага -- NULL, и селектор сам посмотрит
   на $SELECTOR_BACKEND, а затем возьмёт лучший. --list-backends --
   напечатать имена собранных бэкендов и выйти. */
static const char *want;
static int list_backends;
int main(int argc, char **argv)
{
    int port = 5001, status;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5001)"},
        {.name = "backend", .kind = NET_OPT_TEXT, .value = &want, .arg = "NAME",
         .help = "epoll, poll, select... (default: the best one)"},
        {.name = "list-backends", .kind = NET_OPT_FLAG, .value = &list_backends,
         .help = "print the backends built in and exit"},
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N] [--backend NAME] [--list-backends]",
                       opts, 0, &status) < 0)
        return status;
    if (list_backends) {
        for (size_t i = 0; selector_backend_at(i); i++)
            printf("%s\n", selector_backend_at(i));
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    net_raise_open_files_limit();
    struct server srv = {.running = 1, .listener = -1, .wake = -1};
    int err = selector_new(&srv.sel, want);
    if (err < 0) {
        fprintf(stderr, "cannot create a selector (%s): %s; available:",
                want ? want : getenv("SELECTOR_BACKEND"), strerror(-err));
        for (size_t i = 0; selector_backend_at(i); i++)
            fprintf(stderr, " %s", selector_backend_at(i));
        fprintf(stderr, "\n");
        return 2;
    }
    int wake_w = -1;
    srv.listener = net_listen("127.0.0.1", port);
    srv.wake = stop_signals_to_pipe(&wake_w);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    srv.on_listener.fn = accept_connections;
    srv.on_wake.fn = stop_running;
    int rc = srv.listener < 0 ? srv.listener : srv.wake < 0 ? srv.wake : 0;
    if (rc == 0 && spare_fd < 0)
        rc = -errno;
    if (rc == 0)
        rc = net_set_nonblocking(srv.listener);
    if (rc == 0)
        rc = selector_register(srv.sel, srv.listener, SELECTOR_READ,
                               &srv.on_listener);
    if (rc == 0)
        rc = selector_register(srv.sel, srv.wake, SELECTOR_READ, &srv.on_wake);
    if (rc < 0)
        fprintf(stderr, "cannot start the server on 127.0.0.1:%d: %s\n", port,
                strerror(-rc));
    else {
        char note[64];
        snprintf(note, sizeof note, "backend: %s", selector_backend_name(srv.sel));
        net_say_listening(NULL, port, note);
    }
    if (rc == 0)
        rc = run(&srv);
    while (srv.clients != NULL)
        close_client(&srv, srv.clients);
    if (srv.listener >= 0) {
        selector_unregister(srv.sel, srv.listener);
        close(srv.listener);
    }
    if (srv.wake >= 0) {
        selector_unregister(srv.sel, srv.wake);
        close(srv.wake);
        close(wake_w);
    }
    if (spare_fd >= 0)
        close(spare_fd);
    selector_free(srv.sel);
    net_say_stopped();
    return rc == 0 ? 0 : 1;
}
