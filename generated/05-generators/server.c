/* Этот файл извлечён (tangle) из книги: book/05-generators.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "gen.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char reply[] = "Hello world!\n";

enum wait_kind { WAIT_READ, WAIT_WRITE };

struct wait {
    enum wait_kind kind; /* ("read", fd) или ("write", fd) */
    int fd;
    double until;        /* срок по net_now(); 0 -- ждать сколько угодно */
};
struct sched {
    gen **tasks;               /* очередь готовых: кольцевой буфер */
    size_t head, len, cap;
    gen *to_read[FD_SETSIZE];  /* кто ждёт чтения из fd */
    gen *to_write[FD_SETSIZE]; /* кто ждёт записи в fd */
    double until[2][FD_SETSIZE]; /* их сроки: [0] -- чтение, [1] -- запись */
    int maxfd;                 /* наибольший fd, который кто-то ждал */
    int waiting;               /* сколько генераторов в словарях */
};

static int sched_push(struct sched *s, gen *g)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        gen **items = malloc(cap * sizeof *items);
        if (items == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < s->len; i++)
            items[i] = s->tasks[(s->head + i) % s->cap];
        free(s->tasks);
        s->tasks = items;
        s->head = 0;
        s->cap = cap;
    }
    s->tasks[(s->head + s->len++) % s->cap] = g;
    return 0;
}
static gen *sched_pop(struct sched *s)
{
    gen *g = s->tasks[s->head];
    s->head = (s->head + 1) % s->cap;
    s->len--;
    return g;
}
static void sched_free(struct sched *s)
{
    while (s->len > 0)
        gen_free(sched_pop(s));
    for (int fd = 0; fd <= s->maxfd; fd++) {
        gen_free(s->to_read[fd]);
        gen_free(s->to_write[fd]);
    }
    free(s->tasks);
    free(s);
}
static double idle_timeout = 30; /* секунд молчания до закрытия */

struct client {
    int fd;
    struct wait w;
};

static int client_body(gen *g)
{
    struct client *f = gen_locals(g);
    char buf[4096]; /* живёт только между остановками */
    GEN_BEGIN(g);
    for (;;) {
        f->w = (struct wait){WAIT_READ, f->fd, net_now() + idle_timeout};
        GEN_YIELD(g, gen_ptr(&f->w));
        ssize_t n = recv(f->fd, buf, sizeof buf, 0);
        if (n < 0 && errno != ECONNRESET)
            fprintf(stderr, "client %d: recv: %s\n", f->fd, strerror(errno));
        if (n <= 0)
            break;
        f->w = (struct wait){WAIT_WRITE, f->fd, net_now() + idle_timeout};
        GEN_YIELD(g, gen_ptr(&f->w));
        if (net_send_all(f->fd, reply, sizeof reply - 1) < 0)
            break;
    }
    GEN_FINALLY(g);
    close(f->fd);
    GEN_END(g);
}

static gen *client(int fd)
{
    return gen_new(client_body, &(struct client){.fd = fd}, sizeof(struct client));
}
struct server {
    struct sched *sched;
    int fd;        /* слушающий сокет */
    int spare;     /* запасной дескриптор на случай EMFILE */
    struct wait w;
};

static void accept_one(struct server *f)
{
    int c = accept(f->fd, NULL, NULL);
    if (c < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            perror("accept");
            close(f->spare);
            c = accept(f->fd, NULL, NULL);
            if (c >= 0)
                close(c);
            f->spare = open("/dev/null", O_RDONLY);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                   errno != ECONNABORTED) {
            perror("accept");
        }
        return;
    }
    if (c >= FD_SETSIZE) {
        fprintf(stderr, "accept: descriptor %d does not fit select() (FD_SETSIZE %d), "
                        "connection closed\n", c, FD_SETSIZE);
        close(c);
        return;
    }
    char name[64];
    printf("Connection from: %s\n", net_peer_name(c, name, sizeof name));
    gen *cg = client(c);
    if (cg == NULL || sched_push(f->sched, cg) < 0) {
        fprintf(stderr, "accept: no memory for a client generator\n");
        gen_free(cg);
        close(c);
    }
}

static int server_body(gen *g)
{
    struct server *f = gen_locals(g);
    GEN_BEGIN(g);
    for (;;) {
        f->w = (struct wait){WAIT_READ, f->fd, 0};   /* без срока */
        GEN_YIELD(g, gen_ptr(&f->w));
        accept_one(f);
    }
    GEN_FINALLY(g);
    close(f->fd);
    if (f->spare >= 0)
        close(f->spare);
    GEN_END(g);
}
static void park(struct sched *s, gen *task, gen_value v)
{
    struct wait *w = v.p;
    if (v.kind != GEN_PTR || w->fd < 0 || w->fd >= FD_SETSIZE) {
        fprintf(stderr, "scheduler: a task yielded something that is not a wait\n");
        gen_free(task);
        return;
    }
    gen **map = w->kind == WAIT_READ ? s->to_read : s->to_write;
    if (map[w->fd] != NULL) {
        fprintf(stderr, "scheduler: descriptor %d is already waited on\n", w->fd);
        gen_free(task);
        return;
    }
    map[w->fd] = task;
    s->until[w->kind == WAIT_WRITE][w->fd] = w->until;
    s->waiting++;
    if (w->fd > s->maxfd)
        s->maxfd = w->fd;
}
static void run_one(struct sched *s)
{
    gen *task = sched_pop(s);
    gen_result r;
    switch (gen_next(task, &r)) {
    case GEN_YIELDED:
        park(s, task, r.value);
        break;
    case GEN_RETURNED:
        puts("Done!");
        gen_free(task);
        break;
    case GEN_FAILED:
        fprintf(stderr, "scheduler: task failed: %s\n", r.error.msg);
        gen_free(task);
        break;
    }
}
/* Через сколько секунд истечёт ближайший срок (-1: сроков нет). */
static double nearest_deadline(const struct sched *s)
{
    double now = net_now(), next = -1;
    for (int k = 0; k < 2; k++)
        for (int fd = 0; fd <= s->maxfd; fd++) {
            gen *task = k ? s->to_write[fd] : s->to_read[fd];
            double left = s->until[k][fd] - now;
            if (task != NULL && s->until[k][fd] > 0 && (next < 0 || left < next))
                next = left > 0 ? left : 0;
        }
    return next;
}

/* Освободить тех, кто ждёт дольше своего срока. */
static void drop_expired(struct sched *s)
{
    double now = net_now();
    for (int k = 0; k < 2; k++)
        for (int fd = 0; fd <= s->maxfd; fd++) {
            gen **slot = k ? &s->to_write[fd] : &s->to_read[fd];
            if (*slot == NULL || s->until[k][fd] == 0 || s->until[k][fd] > now)
                continue;
            printf("Closing idle connection (fd %d)\n", fd);
            gen_free(*slot);               /* GEN_FINALLY закроет сокет */
            *slot = NULL;
            s->waiting--;
        }
}
static int wait_for_io(struct sched *s, const sigset_t *unblocked)
{
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    for (int fd = 0; fd <= s->maxfd; fd++) {
        if (s->to_read[fd] != NULL)
            FD_SET(fd, &rd);
        if (s->to_write[fd] != NULL)
            FD_SET(fd, &wr);
    }
    double left = nearest_deadline(s);
    struct timespec ts = {(time_t)left, (long)((left - (time_t)left) * 1e9)};
    if (pselect(s->maxfd + 1, &rd, &wr, NULL, left < 0 ? NULL : &ts, unblocked) < 0)
        return errno == EINTR ? 0 : -errno;
    for (int fd = 0; fd <= s->maxfd; fd++) {
        gen **maps[2] = {s->to_read, s->to_write};
        fd_set *sets[2] = {&rd, &wr};
        for (int k = 0; k < 2; k++) {
            if (!FD_ISSET(fd, sets[k]))
                continue;
            gen *task = maps[k][fd];
            maps[k][fd] = NULL;
            s->waiting--;
            if (sched_push(s, task) < 0) {
                fprintf(stderr, "scheduler: no memory to queue a task\n");
                gen_free(task);
            }
        }
    }
    drop_expired(s);
    return 0;
}
static volatile sig_atomic_t stop_requested;

static int event_loop(struct sched *s, const sigset_t *unblocked)
{
    while (s->len > 0 || s->waiting > 0) {
        while (s->len == 0) {
            if (stop_requested)
                return 0;
            int rc = wait_for_io(s, unblocked);
            if (rc < 0) {
                fprintf(stderr, "pselect: %s\n", strerror(-rc));
                return rc;
            }
        }
        run_one(s);
    }
    return 0;
}
static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int catch_stop_signals(sigset_t *unblocked)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &block, unblocked) < 0)
        return -errno;
    sigdelset(unblocked, SIGINT);
    sigdelset(unblocked, SIGTERM);
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        return -errno;
    return 0;
}
int main(int argc, char **argv)
{
    int port = 5001, status;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5001)"},
        {.name = "idle-timeout", .kind = NET_OPT_SECONDS, .value = &idle_timeout,
         .arg = "S", .help = "close a client silent for S seconds (default 30)"},
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N] [--idle-timeout S]", opts, 0, &status) < 0)
        return status;
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t unblocked;
    if (catch_stop_signals(&unblocked) < 0) {
        perror("sigaction");
        return 1;
    }
    int fd = net_listen("127.0.0.1", port);
    if (fd < 0)
        return 1; /* что не так, net_listen уже напечатал */
    struct sched *s = calloc(1, sizeof *s);
    gen *srv = NULL;
    if (s != NULL) {
        int rc = net_set_nonblocking(fd);
        if (rc < 0)
            fprintf(stderr, "fcntl O_NONBLOCK on listening socket: %s\n", strerror(-rc));
        srv = gen_new(server_body,
                      &(struct server){.sched = s, .fd = fd,
                                       .spare = open("/dev/null", O_RDONLY)},
                      sizeof(struct server));
    }
    if (srv == NULL || sched_push(s, srv) < 0) {
        fprintf(stderr, "server: out of memory\n");
        return 1;
    }
    net_say_listening(NULL, port, NULL);
    int rc = event_loop(s, &unblocked);
    sched_free(s);
    net_say_stopped();
    return rc < 0 ? 1 : 0;
}
