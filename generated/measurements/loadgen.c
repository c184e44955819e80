/* Этот файл извлечён (tangle) из книги: book/a-measurements.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "net.h"
#include "selector.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "ping\n";
enum { REPLY_LEN = 13 };        /* strlen("Hello world!\n") */

struct conn {
    int fd;         /* -1: не подключились или уже закрыли */
    int got;        /* байтов текущего ответа, уже пришедших */
    long replies;   /* полных ответов за всё время */
    int dead;       /* сервер закрыл соединение или оно сломалось */
};
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* fn(pid) и fn(N) для каждого процесса N, чей родитель -- pid. */
static void for_each_server_process(long pid, void (*fn)(long, void *), void *arg)
{
    fn(pid, arg);
    DIR *d = opendir("/proc");
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], line[512];
        long child = strtol(e->d_name, NULL, 10), parent;
        if (child <= 0 || child == pid)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", child);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        const char *rp = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
        if (rp != NULL && sscanf(rp + 1, " %*c %ld", &parent) == 1 && parent == pid)
            fn(child, arg);
        fclose(f);
    }
    closedir(d);
}

/* Pss процесса pid в КиБ, прибавленный к *(long *)sum. */
static void add_pss_kib(long pid, void *sum)
{
    char path[64], line[256];
    long kib;
    snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Pss: %ld", &kib) == 1) {
            *(long *)sum += kib;
            break;
        }
    fclose(f);
}

/* Память пользователя сервера и его потомков в КиБ. */
static long server_pss_kib(long pid)
{
    long sum = 0;
    for_each_server_process(pid, add_pss_kib, &sum);
    return sum;
}

/* Память ядра всей машины, которую стоит соединение: стеки ядра, таблицы
   страниц, неосвобождаемый slab, в КиБ; -1 -- не узнать. */
static long kernel_kib(void)
{
    char line[256], name[64];
    long kib, sum = 0;
    int found = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "%63[^:]: %ld", name, &kib) == 2
            && (strcmp(name, "KernelStack") == 0 || strcmp(name, "PageTables") == 0
                || strcmp(name, "SUnreclaim") == 0)) {
            sum += kib;
            found++;
        }
    fclose(f);
    return found == 3 ? sum : -1;
}

/* utime + stime процесса pid в тиках, прибавленные к *(unsigned long *)sum.
   Поля 14 и 15 из /proc/PID/stat. */
static void add_cpu_ticks(long pid, void *sum)
{
    char path[64];
    unsigned long ut = 0, st = 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) == 2)
        *(unsigned long *)sum += ut + st;
    fclose(f);
}

/* Процессорное время сервера и его потомков (user + system) в секундах. */
static double cpu_seconds(long pid)
{
    unsigned long ticks = 0;
    for_each_server_process(pid, add_cpu_ticks, &ticks);
    return (double)ticks / sysconf(_SC_CLK_TCK);
}
static int dial(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    int rc = net_set_nonblocking(fd);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* Закрыть сбросом (RST), а не FIN: иначе каждый прогон оставлял бы
   тысячи сокетов в TIME_WAIT, и следующему не хватило бы портов. */
static void hang_up(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}
static long pump(selector *s, struct conn *c, int n, double deadline, int until_all)
{
    selector_event ev[256];
    long replies = 0;
    int settled = 0;    /* ответивших или умерших: для until_all */
    for (int i = 0; i < n; i++)
        settled += c[i].dead || c[i].replies > 0;
    while (!(until_all && settled == n)) {
        double left = deadline - now();
        if (left <= 0)
            break;
        int k = selector_select(s, ev, 256, (int)(left * 1000) + 1);
        if (k < 0 && k != -EINTR) {
            fprintf(stderr, "loadgen: selector_select: %s\n", strerror(-k));
            break;
        }
        for (int j = 0; j < k; j++) {
            struct conn *cn = ev[j].data;
            char buf[512];
            ssize_t got = recv(cn->fd, buf, sizeof buf, 0);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (got <= 0) {                   /* сервер закрыл или сбросил */
                settled += cn->replies == 0;
                cn->dead = 1;
                selector_unregister(s, cn->fd);
                continue;
            }
            for (cn->got += (int)got; cn->got >= REPLY_LEN; cn->got -= REPLY_LEN) {
                settled += cn->replies == 0;
                cn->replies++;
                replies++;
                if (send(cn->fd, request, sizeof request - 1, MSG_NOSIGNAL) < 0) {
                    cn->dead = 1;
                    selector_unregister(s, cn->fd);
                    break;
                }
            }
        }
    }
    return replies;
}
static int run_rps(selector *s, int port, int n, double seconds, int idle, long pid)
{
    struct conn *c = calloc((size_t)n, sizeof *c);
    int *quiet = calloc((size_t)idle + 1, sizeof *quiet);
    if (c == NULL || quiet == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    for (int i = 0; i < idle; i++)
        quiet[i] = dial(port);
    for (int i = 0; i < n; i++) {
        c[i].fd = dial(port);
        if (c[i].fd < 0 || selector_register(s, c[i].fd, SELECTOR_READ, &c[i]) < 0
            || send(c[i].fd, request, sizeof request - 1, MSG_NOSIGNAL) < 0) {
            if (c[i].fd >= 0)
                hang_up(c[i].fd);
            c[i].fd = -1;
            c[i].dead = 1;
        }
    }
    pump(s, c, n, now() + 0.5, 1);          /* разминка: по ответу каждому */
    int at_once = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        at_once += c[i].replies > 0;
        refused += c[i].dead;
    }
    double cpu0 = pid > 0 ? cpu_seconds(pid) : -1, t0 = now();
    long replies = pump(s, c, n, t0 + seconds, 0);
    double t = now() - t0, cpu = pid > 0 ? cpu_seconds(pid) - cpu0 : -1;
    printf("%d\t%d\t%d\t%ld\t%.3f\t%.0f\t%.2f\n", n, at_once, refused, replies, t,
           replies / t, cpu0 >= 0 && replies > 0 ? cpu * 1e6 / replies : -1.0);
    for (int i = 0; i < n; i++)
        if (c[i].fd >= 0)
            hang_up(c[i].fd);
    for (int i = 0; i < idle; i++)
        if (quiet[i] >= 0)
            hang_up(quiet[i]);
    free(quiet);
    free(c);
    return 0;
}
static int run_hold(selector *s, int port, int n, long pid, double wait)
{
    struct conn *c = calloc((size_t)n, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    long before = pid > 0 ? server_pss_kib(pid) : -1, kbefore = kernel_kib();
    for (int i = 0; i < n; i++) {
        c[i].fd = dial(port);
        if (c[i].fd < 0 || selector_register(s, c[i].fd, SELECTOR_READ, &c[i]) < 0
            || send(c[i].fd, request, sizeof request - 1, MSG_NOSIGNAL) < 0) {
            if (c[i].fd >= 0)
                hang_up(c[i].fd);
            c[i].fd = -1;
            c[i].dead = 1;
        }
    }
    pump(s, c, n, now() + wait, 1);
    long after = pid > 0 ? server_pss_kib(pid) : -1, kafter = kernel_kib();
    int held = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        held += c[i].replies > 0 && !c[i].dead;
        refused += c[i].dead;
    }
    double per = held > 0 && before >= 0 ? (after - before) * 1024.0 / held : 0;
    double kper = held > 0 && kbefore >= 0 && kafter >= 0
                  ? (kafter - kbefore) * 1024.0 / held : 0;
    printf("%d\t%d\t%d\t%ld\t%ld\t%.0f\t%.0f\n", n, held, refused, before, after, per, kper);
    for (int i = 0; i < n; i++)
        if (c[i].fd >= 0)
            hang_up(c[i].fd);
    free(c);
    return 0;
}
static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s rps  PORT CLIENTS SECONDS [IDLE [SERVER_PID]]\n"
            "       %s hold PORT CONNECTIONS SERVER_PID|0 [WAIT_SECONDS]\n", prog, prog);
    return 2;
}

int main(int argc, char **argv)
{
    int status, first = net_parse_args(argc, argv,
        "rps PORT CLIENTS SECONDS [IDLE [SERVER_PID]] | "
        "hold PORT CONNECTIONS SERVER_PID|0 [WAIT_SECONDS]",
        (const struct net_option[]){{0}}, 6, &status);
    if (first < 0)
        return status;              /* --help или опечатка: глава 1 */
    argv[first - 1] = argv[0];      /* argv[1] -- первый позиционный */
    argv += first - 1;
    argc -= first - 1;
    if (argc < 5 || (strcmp(argv[1], "rps") != 0 && strcmp(argv[1], "hold") != 0))
        return usage(argv[0]);
    int port = atoi(argv[2]), n = atoi(argv[3]);
    if (port <= 0 || port > 65535 || n <= 0)
        return usage(argv[0]);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            perror("loadgen: setrlimit(RLIMIT_NOFILE)");
    }
    selector *s;
    int rc = selector_new(&s, NULL);
    if (rc < 0) {
        fprintf(stderr, "loadgen: selector_new: %s\n", strerror(-rc));
        return 1;
    }
    if (strcmp(argv[1], "rps") == 0)
        rc = run_rps(s, port, n, atof(argv[4]), argc > 5 ? atoi(argv[5]) : 0,
                     argc > 6 ? atol(argv[6]) : 0);
    else
        rc = run_hold(s, port, n, atol(argv[4]), argc > 5 ? atof(argv[5]) : 10.0);
    selector_free(s);
    return rc;
}
