/* Out of memory at every allocation, one at a time.
 *
 * The library checks every malloc, calloc and realloc, and answers NULL with
 * -ENOMEM (or an error carried by a Future). Those branches never run in a
 * normal test: memory does not run out on loopback. This suite makes them
 * run. It is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (see the Makefile), so every allocation made by the library's code goes
 * through the wrappers below; a scenario is run again and again, and on run
 * k the k-th allocation fails. The oracle does not come from the library:
 * each scenario knows its right answer (a sum, a byte count), computed by
 * the test itself. On every run the scenario must either give exactly that
 * answer or report an error — never a wrong answer, a crash, a hang, or
 * (under ASan+LeakSanitizer) a leak, nor leave a descriptor open. Runs go
 * on until a run in which no allocation was failed: that one must give the
 * right answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "aio.h"
#include "fetch.h"
#include "net.h"
#include "selector.h"
#include "support.h"

/* ---- the failing allocator ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);

static long calls;    /* allocations since the scenario began */
static long fail_at;  /* 1-based number of the one to fail; 0: none */
static int failed;    /* did this run fail one? */

static int should_fail(void)
{
    if (fail_at > 0 && ++calls == fail_at) {
        failed = 1;
        return 1;
    }
    return 0;
}
void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return should_fail() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define LEAKED() __lsan_do_recoverable_leak_check()  /* after each run */
#else
#define LEAKED() 0
#endif

/* a run that hangs fails the test, naming the allocation; in the build
   with gcov (make coverage) the counts so far are written first: _exit
   skips the exit handler that would write them */
static const char *running;
#ifdef BOOK_COVERAGE
extern void __gcov_dump(void);
#endif
static void hung(int sig)
{
    (void)sig;
    char msg[160];
    int n = snprintf(msg, sizeof msg, "%s: allocation %ld failed, and the run hung\n",
                     running, fail_at);
    if (write(2, msg, (size_t)n) < 0) { /* nothing more to do */ }
#ifdef BOOK_COVERAGE
    __gcov_dump();
#endif
    _exit(1);
}

/* run scenario() with the 1st, 2nd, … allocation failing; each run returns
   1 (right answer), 0 (an error reported) or -1 (a wrong answer) */
/* descriptors the process holds: a run must not leave any behind */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void every_allocation_fails_once(int (*scenario)(void), const char *name)
{
    long k, errors = 0;
    int fds = open_fds();
    running = name;
    signal(SIGALRM, hung);
    long only = getenv("ALLOC_FAIL_AT") ? atol(getenv("ALLOC_FAIL_AT")) : 0;
    for (k = only > 0 ? only : 1; k < 5000; k++) {   /* ALLOC_FAIL_AT=k: that run alone */
        calls = 0, fail_at = k, failed = 0;
        alarm(10);
        int r = scenario();
        alarm(0);
        if (LEAKED())
            fail_msg("%s: allocation %ld failed, and the run leaked memory", name, k);
        if (open_fds() != fds)
            fail_msg("%s: allocation %ld failed, and the run left %d descriptors open",
                     name, k, open_fds() - fds);
        fail_at = 0;
        if (r < 0)
            fail_msg("%s: allocation %ld failed, and the answer was wrong", name, k);
        if (!failed) {
            if (r != 1)
                fail_msg("%s: no allocation failed, yet no right answer", name);
            break;
        }
        errors += r == 0;
        if (only > 0)
            return;
    }
    assert_true(k < 5000);
    print_message("%s: %ld allocations, each failed once: %ld runs reported an error, "
                  "%ld still gave the right answer\n", name, k - 1, errors, k - 1 - errors);
    assert_true(k > 1);   /* the scenario allocates: the wrappers were linked in */
}

/* ---- scenario 1: a done callback on a fresh loop ---- */

static int calls_back;
static void note_done(aio_future *f, void *arg)
{
    (void)f, (void)arg;
    calls_back++;
}

/* the callback must run once set_result has said 0: once a Future is
   done, nobody can be told about it any more */
static int callback_scenario(void)
{
    aio_loop *loop;
    if (aio_loop_new(&loop) != 0)
        return 0;
    int result = 0;
    calls_back = 0;
    aio_future *f = aio_future_new(loop);
    if (f != NULL && aio_future_add_done_callback(f, note_done, NULL) == 0 &&
        aio_future_set_result(f, gen_int(1)) == 0) {
        if (aio_loop_run_once(loop) == 0)  /* else: an error reported */
            result = calls_back == 1 ? 1 : -1;
    }
    aio_future_unref(f);
    aio_loop_free(loop);
    return result;
}

static void test_done_callback_survives_every_failed_allocation(void **state)
{
    (void)state;
    every_allocation_fails_once(callback_scenario, "callback");
}

/* ---- scenario 2: timers, tasks, gather, wait_for ---- */

struct sleeper { aio_loop *loop; long long n; gen_value r; };

static int sleeper_body(gen *g)
{
    struct sleeper *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 0.001 * (double)f->n));
    GEN_RETURN(g, gen_int(f->n * f->n));
    GEN_END(g);
}

enum { NTASKS = 4 };
struct boss {
    aio_loop *loop;
    aio_future *kids[NTASKS], *nap;
    gen_value r;
    gen_error err;
    long long sum;
    int i;
};

static int boss_body(gen *g)
{
    struct boss *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->i = 0; f->i < NTASKS; f->i++) {
        struct sleeper s = {f->loop, f->i + 1, {0}};
        f->kids[f->i] = aio_create_task(f->loop, gen_new(sleeper_body, &s, sizeof s));
        if (f->kids[f->i] == NULL)
            GEN_RAISE(g, -ENOMEM, "no task");
    }
    AIO_AWAIT_NEW(g, f->r, aio_gather(f->loop, f->kids, NTASKS));
    for (f->i = 0; f->i < NTASKS; f->i++)
        f->sum += ((gen_value *)f->r.p)[f->i].i;
    /* a deadline that runs out: the sleep is cancelled, TimeoutError
       (wait_for takes its own reference: ours is let go in FINALLY) */
    f->nap = aio_sleep(f->loop, 10);
    if (f->nap == NULL)
        GEN_RAISE(g, -ENOMEM, "no sleep");
    AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_wait_for(f->loop, f->nap, 0.001));
    if (f->err.code != AIO_ETIMEDOUT)
        GEN_RAISE_ERR(g, f->err);
    GEN_RETURN(g, gen_int(f->sum));
    GEN_FINALLY(g);
    for (f->i = 0; f->i < NTASKS; f->i++)
        aio_future_unref(f->kids[f->i]);   /* NULL is nothing */
    aio_future_unref(f->nap);
    GEN_END(g);
}

static int tasks_scenario(void)
{
    aio_loop *loop;
    if (aio_loop_new(&loop) != 0)
        return 0;
    struct boss b = {.loop = loop};
    gen *main = gen_new(boss_body, &b, sizeof b);
    gen_result out = {0};
    int rc = main ? aio_run(loop, main, &out) : -ENOMEM;
    aio_loop_free(loop);
    if (rc != 0)
        return 0;
    return out.status == GEN_RETURNED && out.value.i == 1 + 4 + 9 + 16 ? 1 : -1;
}

static void test_tasks_survive_every_failed_allocation(void **state)
{
    (void)state;
    every_allocation_fails_once(tasks_scenario, "tasks");
}

/* ---- scenario 3: sockets: accept, connect, sendall, recv ---- */

enum { PAYLOAD = 300000 };
static char payload[PAYLOAD];

struct pump {
    aio_loop *loop;
    int lfd, cfd, sfd;
    struct sockaddr_in addr;
    aio_future *both[2];
    aio_future *acc, *con, *snd;
    gen_value r;
    long long got;
    char buf[4096];
};

static int pump_body(gen *g)
{
    struct pump *f = gen_locals(g);
    GEN_BEGIN(g);
    f->acc = aio_sock_accept(f->loop, f->lfd);
    f->con = aio_sock_connect(f->loop, f->cfd, (struct sockaddr *)&f->addr, sizeof f->addr);
    f->both[0] = f->acc, f->both[1] = f->con;
    if (f->acc == NULL || f->con == NULL)
        GEN_RAISE(g, -ENOMEM, "no future");
    AIO_AWAIT_NEW(g, f->r, aio_gather(f->loop, f->both, 2));
    aio_future_outcome(f->acc, &f->r, NULL);
    f->sfd = (int)f->r.i;
    f->snd = aio_create_task(f->loop, NULL);   /* NULL coro: NULL task, by contract */
    if (f->snd != NULL)
        GEN_RAISE(g, -EINVAL, "a task without a coroutine");
    f->snd = aio_sock_sendall(f->loop, f->sfd, payload, sizeof payload);
    if (f->snd == NULL)
        GEN_RAISE(g, -ENOMEM, "no sendall");
    do {
        AIO_AWAIT_NEW(g, f->r, aio_sock_recv(f->loop, f->cfd, f->buf, sizeof f->buf));
        f->got += f->r.i;
    } while (f->r.i > 0 && f->got < PAYLOAD);
    AIO_AWAIT(g, f->r, f->snd);
    GEN_RETURN(g, gen_int(f->got));
    GEN_FINALLY(g);
    /* the accepted socket: ours once accept has finished, whether or not
       we got as far as reading its result */
    if (f->sfd < 0 && f->acc != NULL && aio_future_outcome(f->acc, &f->r, NULL) == 0)
        f->sfd = (int)f->r.i;
    if (f->sfd >= 0)
        aio_close(f->loop, f->sfd);
    aio_future_unref(f->acc);
    aio_future_unref(f->con);
    aio_future_unref(f->snd);
    GEN_END(g);
}

static int sockets_scenario(void)
{
    int port = sup_free_port();
    int lfd = net_listen("127.0.0.1", port);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || cfd < 0)
        fail_msg("cannot make sockets");
    net_set_nonblocking(lfd);
    net_set_nonblocking(cfd);
    struct pump p = {.lfd = lfd, .cfd = cfd, .sfd = -1};
    p.addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    p.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int result = 0;
    aio_loop *loop;
    if (aio_loop_new(&loop) == 0) {
        p.loop = loop;
        gen *main = gen_new(pump_body, &p, sizeof p);
        gen_result out = {0};
        if (main && aio_run(loop, main, &out) == 0)
            result = out.status == GEN_RETURNED && out.value.i == PAYLOAD ? 1 : -1;
        aio_loop_free(loop);
    }
    close(cfd);
    close(lfd);
    return result;
}

static void test_sockets_survive_every_failed_allocation(void **state)
{
    (void)state;
    every_allocation_fails_once(sockets_scenario, "sockets");
}

/* ---- scenario 4: the selector and its growing tables ---- */

enum { NPIPES = 200 };

static const char *backend;

static int selector_scenario(void)
{
    int p[NPIPES][2], made = 0, result = 1;
    selector *s;
    if (selector_new(&s, backend) != 0)
        return 0;
    for (; made < NPIPES; made++)
        if (pipe(p[made]) != 0)
            fail_msg("pipe: out of descriptors");
    for (int i = 0; i < NPIPES && result == 1; i++)
        if (selector_register(s, p[i][0], SELECTOR_READ, &p[i][0]) != 0)
            result = 0;
    if (result == 1) {
        for (int i = 0; i < NPIPES; i += 7)
            if (write(p[i][1], "x", 1) != 1)
                fail_msg("write to a pipe");
        selector_event ev[NPIPES];
        int n = selector_select(s, ev, NPIPES, 0);
        if (n < 0)
            result = 0;
        else if (n != (NPIPES + 6) / 7)
            result = -1;
    }
    selector_free(s);
    for (int i = 0; i < made; i++)
        close(p[i][0]), close(p[i][1]);
    return result;
}

static void test_selector_survives_every_failed_allocation(void **state)
{
    (void)state;
    for (size_t i = 0; (backend = selector_backend_at(i)) != NULL; i++)
        every_allocation_fails_once(selector_scenario, backend);
}

/* ---- scenario 6: a server on the loop (aio_start_server) and a client:
   the answer is the echo; a connection the server cannot serve is closed,
   which the client sees as end of stream: an error reported ---- */

struct echo { aio_loop *loop; int fd; gen_value r; char buf[16]; };

static int echo_body(gen *g)
{
    struct echo *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW(g, f->r, aio_sock_recv(f->loop, f->fd, f->buf, sizeof f->buf));
    AIO_AWAIT_NEW(g, f->r, aio_sock_sendall(f->loop, f->fd, f->buf, (size_t)f->r.i));
    GEN_FINALLY(g);
    close(f->fd);                     /* the socket is the coroutine's */
    GEN_END(g);
}

static gen *make_echo(int fd, void *arg)
{
    struct echo e = {.loop = arg, .fd = fd};
    return gen_new(echo_body, &e, sizeof e);   /* NULL: the server closes fd */
}

struct pinger {
    aio_loop *loop;
    int fd;
    struct sockaddr_in addr;
    gen_value r;
    size_t got;
    char *buf;                        /* the scenario's: the frame dies with the task */
};

static int pinger_body(gen *g)
{
    struct pinger *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW(g, f->r, aio_sock_connect(f->loop, f->fd, (struct sockaddr *)&f->addr,
                                            sizeof f->addr));
    AIO_AWAIT_NEW(g, f->r, aio_sock_sendall(f->loop, f->fd, "ping", 4));
    do {
        AIO_AWAIT_NEW(g, f->r, aio_sock_recv(f->loop, f->fd, f->buf + f->got, 15 - f->got));
        f->got += (size_t)f->r.i;
    } while (f->r.i > 0 && f->got < 4);
    f->buf[f->got] = '\0';
    GEN_RETURN(g, gen_int((long long)f->got));
    GEN_END(g);
}

static int server_scenario(void)
{
    int port = sup_free_port();
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (cfd < 0 || net_set_nonblocking(cfd) != 0)
        fail_msg("cannot make a socket");
    char answer[16] = "";
    struct pinger p = {.fd = cfd, .buf = answer};
    p.addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    p.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int result = 0;
    aio_loop *loop;
    aio_server *srv;
    if (aio_loop_new(&loop) == 0) {
        p.loop = loop;
        if (aio_start_server(loop, "127.0.0.1", port, make_echo, loop, &srv) == 0) {
            gen *main = gen_new(pinger_body, &p, sizeof p);
            gen_result out = {0};
            if (main && aio_run(loop, main, &out) == 0)
                result = strcmp(answer, "ping") == 0 ? 1
                       : answer[0] == '\0' ? 0 : -1;   /* closed: refused */
            aio_server_close(srv);
        }
        aio_loop_free(loop);
    }
    close(cfd);
    return result;
}

static void test_server_survives_every_failed_allocation(void **state)
{
    (void)state;
    every_allocation_fails_once(server_scenario, "server");
}

/* ---- scenario 5: fetch: an HTTP transfer from a loopback server on the
   same loop, then a file:// one ---- */

static const char REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                            "Connection: close\r\n\r\nhello";

struct serve_once { aio_loop *loop; int lfd, fd; size_t n; gen_value r; char req[1024]; };

/* accept one client, read its request, answer REPLY, close */
static int serve_once_body(gen *g)
{
    struct serve_once *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW(g, f->r, aio_sock_accept(f->loop, f->lfd));
    f->fd = (int)f->r.i;
    do {
        AIO_AWAIT_NEW(g, f->r, aio_sock_recv(f->loop, f->fd, f->req + f->n,
                                             sizeof f->req - 1 - f->n));
        f->n += (size_t)f->r.i;
        f->req[f->n] = '\0';
    } while (f->r.i > 0 && strstr(f->req, "\r\n\r\n") == NULL && f->n < sizeof f->req - 1);
    AIO_AWAIT_NEW(g, f->r, aio_sock_sendall(f->loop, f->fd, REPLY, sizeof REPLY - 1));
    GEN_RETURN(g, gen_int(0));
    GEN_FINALLY(g);
    if (f->fd >= 0)
        close(f->fd);
    GEN_END(g);
}

struct fetcher {
    aio_loop *loop;
    fetch *fx;
    CURL *http, *file;
    int lfd;
    aio_future *both[2];
    gen_value r;
};

static int fetcher_body(gen *g)
{
    struct fetcher *f = gen_locals(g);
    GEN_BEGIN(g);
    struct serve_once s = {.loop = f->loop, .lfd = f->lfd, .fd = -1};
    f->both[0] = aio_create_task(f->loop, gen_new(serve_once_body, &s, sizeof s));
    f->both[1] = fetch_perform(f->fx, f->http);
    if (f->both[0] == NULL || f->both[1] == NULL)
        GEN_RAISE(g, -ENOMEM, "no task or no transfer");
    AIO_AWAIT_NEW(g, f->r, aio_gather(f->loop, f->both, 2));
    AIO_AWAIT_NEW(g, f->r, fetch_perform(f->fx, f->file));
    GEN_RETURN(g, gen_int(0));
    GEN_FINALLY(g);
    aio_future_unref(f->both[0]);
    aio_future_unref(f->both[1]);
    GEN_END(g);
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    char *buf = arg;
    size_t have = strlen(buf), k = size * n;
    if (have + k >= 64)
        return 0;
    memcpy(buf + have, p, k);
    buf[have + k] = '\0';
    return k;
}

static char file_url[300];

static int fetch_scenario(void)
{
    int port = sup_free_port();
    int lfd = net_listen("127.0.0.1", port);
    if (lfd < 0 || net_set_nonblocking(lfd) != 0)
        fail_msg("cannot listen");
    char url[64], got_http[64] = "", got_file[64] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    CURL *http = curl_easy_init(), *file = curl_easy_init();
    curl_easy_setopt(http, CURLOPT_URL, url);
    curl_easy_setopt(http, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(http, CURLOPT_WRITEDATA, got_http);
    curl_easy_setopt(file, CURLOPT_URL, file_url);
    curl_easy_setopt(file, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(file, CURLOPT_WRITEDATA, got_file);
    int result = 0;
    aio_loop *loop;
    if (aio_loop_new(&loop) == 0) {
        struct fetcher fr = {.loop = loop, .http = http, .file = file, .lfd = lfd};
        if (fetch_new(loop, &fr.fx) == 0) {
            gen *main = gen_new(fetcher_body, &fr, sizeof fr);
            gen_result out = {0};
            if (main && aio_run(loop, main, &out) == 0)
                result = strcmp(got_http, "hello") == 0
                         && strcmp(got_file, "from a file") == 0 ? 1 : -1;
            fetch_free(fr.fx);
        }
        aio_loop_free(loop);
    }
    curl_easy_cleanup(http);
    curl_easy_cleanup(file);
    close(lfd);
    return result;
}

static void test_fetch_survives_every_failed_allocation(void **state)
{
    (void)state;
    char path[256];
    sup_tmp_path(path, sizeof path, "alloc-fetch");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("from a file", fp);
    fclose(fp);
    snprintf(file_url, sizeof file_url, "file://%s", path);
    every_allocation_fails_once(fetch_scenario, "fetch");
    unlink(path);
}

int main(void)
{
    memset(payload, 'z', sizeof payload);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_done_callback_survives_every_failed_allocation),
        cmocka_unit_test(test_tasks_survive_every_failed_allocation),
        cmocka_unit_test(test_sockets_survive_every_failed_allocation),
        cmocka_unit_test(test_selector_survives_every_failed_allocation),
        cmocka_unit_test(test_server_survives_every_failed_allocation),
        cmocka_unit_test(test_fetch_survives_every_failed_allocation),
    };
    if (getenv("TEST_FILTER"))       /* one scenario: TEST_FILTER='*sockets*' */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed_tests = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed_tests;
}
