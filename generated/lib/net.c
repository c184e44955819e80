/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw book/03-select.nw book/05-generators.nw book/06-coroutines.nw book/07-delegation.nw book/12-fetch.nw book/c-parsing.nw.
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
#include <getopt.h>
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
double net_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int net_close_after_reply(int fd)
{
    char sink[4096];
    size_t drained = 0;
    double deadline = net_now() + 1.0;
    shutdown(fd, SHUT_WR);
    int left;
    while (drained < 65536 && (left = (int)((deadline - net_now()) * 1000)) > 0 &&
           !net_stop_requested()) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
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
static const struct {
    int code;
    const char *text;
} own_errors[] = {
    {-10001, "generator is already running"},            /* GEN_ERUNNING */
    {-10002, "generator exit"},                          /* GEN_EXIT */
    {-10003, "value sent to a just-started generator"},  /* GEN_ESENDNEW */
    {-10004, "generator ignored exit and yielded"},      /* GEN_EIGNORED */
    {-10005, "error raised with code 0"},                /* GEN_ENOCODE */
    {-10006, "GEN_YIELD_FROM of NULL"},                  /* GEN_ENOSUB */
    {-20001, "libcurl error"},                           /* FETCH_ECURL */
};

const char *net_strerror(int code)
{
    for (size_t i = 0; i < sizeof own_errors / sizeof own_errors[0]; i++)
        if (own_errors[i].code == code)
            return own_errors[i].text;
    return strerror(code < 0 ? -code : code);
}
static int set_value(const struct net_option *o, const char *text)
{
    char *end = NULL;
    long l = 0;
    double d = 0;
    errno = 0;
    if (o->kind == NET_OPT_PORT || o->kind == NET_OPT_LONG)
        l = strtol(text, &end, 10);
    else if (o->kind == NET_OPT_SECONDS)
        d = strtod(text, &end);
    int junk = end != NULL && (end == text || *end != '\0' || errno != 0);
    switch (o->kind) {
    case NET_OPT_FLAG: *(int *)o->value = 1; return 0;
    case NET_OPT_TEXT: *(const char **)o->value = text; return 0;
    case NET_OPT_CALL:
        if (o->call(o->value, text) == 0)
            return 0;
        break;
    case NET_OPT_PORT:
        if (!junk && l >= 1 && l <= 65535)
            return *(int *)o->value = (int)l, 0;
        break;
    case NET_OPT_LONG:
        if (!junk && l >= o->min && l <= o->max)
            return *(long *)o->value = l, 0;
        break;
    case NET_OPT_SECONDS:
        if (!junk && d > 0 && (o->max == 0 || d <= (double)o->max))
            return *(double *)o->value = d, 0;
        break;
    }
    fprintf(stderr, "--%s: bad value '%s'\n", o->name, text);
    return -1;
}
static void print_usage(FILE *f, const char *prog, const char *usage,
                        const struct net_option *opts)
{
    const char *base = strrchr(prog, '/');
    fprintf(f, "usage: %s %s\n", base ? base + 1 : prog, usage);
    for (int i = 0; opts[i].name != NULL; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-20s  %s\n", left, opts[i].help);
    }
    fprintf(f, "  %-20s  %s\n", "--help", "show this help and exit");
}

void net_say_listening(const char *scheme, int port, const char *note)
{
    printf("Listening on %s%s127.0.0.1:%d%s (%s%sCtrl+C to stop)\n",
           scheme ? scheme : "", scheme ? "://" : "", port, scheme ? "/" : "",
           note ? note : "", note ? "; " : "");
}

void net_say_stopped(void)
{
    printf("Stopped.\n");
}

int net_parse_args(int argc, char **argv, const char *usage,
                   const struct net_option *opts, int max_positional,
                   int *exit_status)
{
    enum { MAX_OPTS = 16 };
    struct option longs[MAX_OPTS + 2];
    int n = 0, c, bad = 0;
    for (; opts[n].name != NULL && n < MAX_OPTS; n++)
        longs[n] = (struct option){opts[n].name,
                                   opts[n].kind == NET_OPT_FLAG ? no_argument
                                                                : required_argument,
                                   NULL, n};
    longs[n] = (struct option){"help", no_argument, NULL, n};
    longs[n + 1] = (struct option){NULL, 0, NULL, 0};
    const char *env = getenv("PORT");
    for (int i = 0; env != NULL && *env != '\0' && opts[i].name != NULL; i++)
        if (opts[i].kind == NET_OPT_PORT && set_value(&opts[i], env) < 0) {
            fprintf(stderr, "(from the environment variable PORT)\n");
            *exit_status = 2;
            return -1;
        }
    optind = 0;                   /* glibc: начать разбор заново */
    while (!bad && (c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == n) {             /* --help */
            print_usage(stdout, argv[0], usage, opts);
            *exit_status = 0;
            return -1;
        }
        bad = c < 0 || c > n || set_value(&opts[c], optarg) < 0;
    }
    if (!bad && argc - optind > max_positional) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
        bad = 1;
    }
    if (bad) {
        print_usage(stderr, argv[0], usage, opts);
        *exit_status = 2;
        return -1;
    }
    return optind;
}
