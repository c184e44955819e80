/* Этот файл извлечён (tangle) из книги: book/03-select.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char reply[] = "Hello world!\n";
enum { REPLY_LEN = sizeof reply - 1 };

struct server {
    int listener;                /* слушающий сокет */
    int wake;                    /* читающий конец канала для сигналов */
    fd_set readers, writers;     /* кого ждём на чтение, на запись */
    int maxfd;                   /* наибольший дескриптор в множествах */
    size_t unsent[FD_SETSIZE];   /* сколько байт ответа ещё не ушло */
    double last[FD_SETSIZE];     /* когда клиент в последний раз ожил */
    double idle;                 /* сколько секунд ему можно молчать */
    int running;
};
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
static void watch(struct server *srv, int fd, fd_set *set)
{
    FD_SET(fd, set);
    if (fd > srv->maxfd)
        srv->maxfd = fd;
    srv->last[fd] = net_now();   /* признак жизни: см. «Молчуны» */
}

/* Сначала убрать из множеств, потом закрыть -- и никак иначе. */
static void drop_client(struct server *srv, int fd)
{
    FD_CLR(fd, &srv->readers);
    FD_CLR(fd, &srv->writers);
    srv->unsent[fd] = 0;
    close(fd);
}
static int is_client(const struct server *srv, int fd)
{
    return fd != srv->listener && fd != srv->wake &&
           (FD_ISSET(fd, &srv->readers) || FD_ISSET(fd, &srv->writers));
}

/* Закрыть клиентов, которые молчат дольше srv->idle секунд. Вернуть,
   через сколько секунд истечёт срок следующего (-1: клиентов нет). */
static double drop_idle(struct server *srv)
{
    double t = net_now(), next = -1;
    for (int fd = 0; fd <= srv->maxfd; fd++) {
        if (!is_client(srv, fd))
            continue;
        double left = srv->last[fd] + srv->idle - t;
        if (left <= 0) {
            printf("Closing idle connection (fd %d)\n", fd);
            drop_client(srv, fd);
        } else if (next < 0 || left < next) {
            next = left;
        }
    }
    return next;
}
static void accept_connections(struct server *srv)
{
    for (;;) {
        int fd = accept(srv->listener, NULL, NULL);
        if (fd < 0) {
            int e = errno;
            if (e == EINTR || e == ECONNABORTED)
                continue;               /* сигнал или клиент передумал: дальше */
            if ((e == EMFILE || e == ENFILE) && shed_connection(srv->listener))
                continue;               /* одному отказали, очередь не пуста */
            if (e != EAGAIN && e != EWOULDBLOCK && e != EMFILE && e != ENFILE)
                fprintf(stderr, "accept: %s\n", strerror(e));
            return;                     /* очередь пуста: всех приняли */
        }
        char name[NET_PEER_NAME_MAX];
        net_peer_name(fd, name, sizeof name);
        if (fd >= FD_SETSIZE) {
            fprintf(stderr,
                    "Refusing connection from %s: descriptor %d does not fit "
                    "in select()'s fd_set (FD_SETSIZE = %d)\n",
                    name, fd, FD_SETSIZE);
            close(fd);
            continue;
        }
        net_set_nonblocking(fd);
        printf("Connection from: %s\n", name);
        watch(srv, fd, &srv->readers);
    }
}
static void send_rest(struct server *srv, int fd)
{
    const char *from = reply + (REPLY_LEN - srv->unsent[fd]);
    ssize_t n = send(fd, from, srv->unsent[fd], MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        if (errno != EPIPE && errno != ECONNRESET)
            fprintf(stderr, "send to fd %d: %s\n", fd, strerror(errno));
        drop_client(srv, fd);
        return;
    }
    if (n > 0)
        srv->unsent[fd] -= (size_t)n;
    if (srv->unsent[fd] > 0) {
        FD_CLR(fd, &srv->readers);
        watch(srv, fd, &srv->writers);
    } else {
        FD_CLR(fd, &srv->writers);
        watch(srv, fd, &srv->readers);
    }
}
static void serve_client(struct server *srv, int fd)
{
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        if (n < 0 && errno != ECONNRESET)
            fprintf(stderr, "recv from fd %d: %s\n", fd, strerror(errno));
        drop_client(srv, fd);   /* конец файла или ошибка: клиент ушёл */
        return;
    }
    if (n < 0)
        return;                 /* ложная тревога: данных нет */
    srv->unsent[fd] = REPLY_LEN;
    send_rest(srv, fd);
}
static int run(struct server *srv)
{
    while (srv->running) {
        double left = drop_idle(srv);               /* см. «Молчуны» */
        struct timeval tv = {(time_t)left, (suseconds_t)((left - (time_t)left) * 1e6)};
        fd_set r = srv->readers, w = srv->writers;  /* select их испортит */
        int n = select(srv->maxfd + 1, &r, &w, NULL, left < 0 ? NULL : &tv);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("select");
            return -1;
        }
        int top = srv->maxfd;
        for (int fd = 0; fd <= top && n > 0; fd++) {
            if (FD_ISSET(fd, &r)) {
                n--;
                if (fd == srv->wake)
                    srv->running = 0;
                else if (fd == srv->listener)
                    accept_connections(srv);
                else
                    serve_client(srv, fd);
            }
            if (FD_ISSET(fd, &w)) {
                n--;
                send_rest(srv, fd);
            }
        }
    }
    return 0;
}
int main(int argc, char **argv)
{
    static struct server srv;   /* static: unsent[] и last[] велики для стека */
    int port = 5001, status;
    srv.idle = 30;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5001)"},
        {.name = "idle-timeout", .kind = NET_OPT_SECONDS, .value = &srv.idle, .arg = "S",
         .help = "close a client silent for S seconds (default 30)"},
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N] [--idle-timeout S]", opts, 0, &status) < 0)
        return status;
    setvbuf(stdout, NULL, _IOLBF, 0);
    net_raise_open_files_limit();
    srv.maxfd = -1;
    srv.running = 1;
    int wake_w = -1;
    srv.listener = net_listen("127.0.0.1", port);
    if (srv.listener < 0) {
        fprintf(stderr, "cannot listen on 127.0.0.1:%d: %s\n", port,
                strerror(-srv.listener));
        return 1;
    }
    net_set_nonblocking(srv.listener);
    srv.wake = stop_signals_to_pipe(&wake_w);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (srv.wake < 0 || spare_fd < 0) {
        perror("pipe or /dev/null");
        return 1;
    }
    watch(&srv, srv.listener, &srv.readers);
    watch(&srv, srv.wake, &srv.readers);
    char note[64];
    snprintf(note, sizeof note, "select, FD_SETSIZE = %d", FD_SETSIZE);
    net_say_listening(NULL, port, note);
    int rc = run(&srv);
    for (int fd = 0; fd <= srv.maxfd; fd++)
        if (is_client(&srv, fd))
            drop_client(&srv, fd);
    close(srv.listener);
    close(srv.wake);
    close(wake_w);
    close(spare_fd);
    net_say_stopped();
    return rc == 0 ? 0 : 1;
}
