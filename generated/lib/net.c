/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw book/03-select.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <fcntl.h>
#include "net.h"

static int listen_failed(const char *step, const char *host, int port, int fd)
{
    int err = errno;
    fprintf(stderr, "net_listen: %s %s:%d: %s\n", step, host, port,
            strerror(err));
    if (fd >= 0)
        close(fd);
    return -err;
}

int net_listen(const char *host, int port)
{
    struct sockaddr_in addr;
    if (port < 0 || port > 65535) {
        fprintf(stderr, "net_listen: port %d is out of range 0..65535\n", port);
        return -EINVAL;
    }
    if (host == NULL)
        host = "0.0.0.0";
    else if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "net_listen: \"%s\" is not an IPv4 address\n", host);
        return -EINVAL;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return listen_failed("socket", host, port, -1);
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return listen_failed("setsockopt(SO_REUSEADDR)", host, port, fd);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return listen_failed("bind", host, port, fd);
    if (listen(fd, SOMAXCONN) < 0)
        return listen_failed("listen", host, port, fd);
    return fd;
}
static int parse_port(const char *text, const char *source)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > 65535) {
        fprintf(stderr, "%s: bad port number \"%s\" (expected 1..65535)\n",
                source, text);
        return -EINVAL;
    }
    return (int)v;
}

int net_port_from_args(int argc, char **argv, int default_port)
{
    const char *text = getenv("PORT"), *source = "PORT";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            text = argv[++i], source = "--port";
        else if (strncmp(argv[i], "--port=", 7) == 0)
            text = argv[i] + 7, source = "--port";
        else if (strcmp(argv[i], "--port") == 0)
            text = "", source = "--port";
    }
    if (text == NULL || (*text == '\0' && strcmp(source, "PORT") == 0))
        return default_port;
    return parse_port(text, source);
}
int net_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR && !net_stop_requested())
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
const char *net_peer_name(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN];
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(buf, cap, "(unknown peer: %s)", strerror(errno));
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(buf, cap, "('%s', %u)", host, (unsigned)ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(buf, cap, "('%s', %u, 0, 0)", host,
                 (unsigned)ntohs(a->sin6_port));
    } else {
        snprintf(buf, cap, "(address family %d)", (int)ss.ss_family);
    }
    return buf;
}
int net_accept(int listen_fd)
{
    for (;;) {
        if (net_stop_requested())
            return -EINTR;
        int fd = accept(listen_fd, NULL, NULL);
        if (fd >= 0)
            return fd;
        if (errno == ECONNABORTED)
            continue;
        if (errno == EINTR && !net_stop_requested())
            continue;
        return -errno;
    }
}
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

int net_stop_requested(void)
{
    return stop_requested != 0;
}
int net_catch_stop_signals(void)
{
    struct sigaction sa, ignore;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal; /* без SA_RESTART: вызовы вернут EINTR */
    sigemptyset(&sa.sa_mask);
    ignore = sa;
    ignore.sa_handler = SIG_IGN;
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGPIPE, &ignore, NULL) < 0) {
        int err = errno;
        fprintf(stderr, "net_catch_stop_signals: sigaction: %s\n",
                strerror(err));
        return -err;
    }
    return 0;
}
static long ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000 +
           (now.tv_nsec - start->tv_nsec) / 1000000;
}

int net_close_after_reply(int fd)
{
    char sink[4096];
    size_t drained = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    shutdown(fd, SHUT_WR);
    long left;
    while (drained < 65536 && (left = 1000 - ms_since(&start)) > 0 &&
           !net_stop_requested()) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            break;                      /* срок вышел (или сигнал) */
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n <= 0)
            break;                      /* клиент закрыл: всё дочитано */
        drained += (size_t)n;
    }
    return close(fd) < 0 ? -errno : 0;
}
int net_raise_open_files_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    if (rl.rlim_cur == rl.rlim_max)
        return 0;
    rl.rlim_cur = rl.rlim_max;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536)
        rl.rlim_cur = 65536;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        int err = errno;
        perror("setrlimit(RLIMIT_NOFILE)");
        return -err;
    }
    return 0;
}
int net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}
