/* The downloader of chapter 11 against servers that do not play fair, and
 * against a directory that already holds things. A hostile HTTP server
 * runs in a child of this test (fork, loopback, one connection at a time,
 * every wait bounded) and answers by the path it is asked for:
 *   /endless   200 without Content-Length: 80 MiB, then close
 *   /huge      200 with Content-Length of 100 GiB, then waits for the
 *              client to leave before sending any body
 *   /silent    reads the request, never answers
 *   /slow      200 000 bytes in 20 pieces, 75 ms apart
 *   /r         302 to /p/a%20b%2Fc.png?x=/evil#top
 *   anything else: 200 with 100 bytes
 * and writes what it saw to a log the test reads. The image server of
 * the book serves the tests of names, modes and limits. Each test here was
 * written for a defect of the first downloader and fails on it: no size
 * cap, no default limit on downloads at once (EMFILE under ulimit -n
 * 1024), a timeout that rounds to 0 ms meant "no timeout", an existing
 * file or a symlink at the target silently replaced, files 0644 whatever
 * the umask, the name taken from the query, unlabelled progress and
 * nothing on a terminal while a download runs. It starts programs (the
 * image server with sup_server_start, the downloader with fork and execv),
 * so tests/valgrind.sh leaves it out. */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "download_common.h"
#include "support.h"
#include "../chapters/images/job.h" /* build/src/chapters/images: by slug, not number */

/* ------------------------------------------------------------ the hostile server */

struct hostile {
    pid_t pid;
    int port;
    char log[256];
};

static void note(int log, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && write(log, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
        _exit(3);
}

static int send_str(int fd, const char *s)
{
    return send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s) ? 0 : -1;
}

/* 1 once the client closed its end (or reset it), 0 if it is still
 * there after ms. */
static int client_left(int fd, int ms)
{
    char buf[512];
    long long end = sup_now_ms() + ms;
    for (;;) {
        long long left = end - sup_now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            return 0;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            return 1;
    }
}

static void serve_one(int fd, int log)
{
    char req[2048];
    size_t len = 0;
    req[0] = '\0';
    while (strstr(req, "\r\n\r\n") == NULL && len < sizeof req - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 3000) != 1)
            return;
        ssize_t r = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (r <= 0)
            return;
        len += (size_t)r;
        req[len] = '\0';
    }
    char path[1024] = "";
    sscanf(req, "GET %1023s", path);
    note(log, "request %s\n", path);
    static char chunk[1 << 20];
    if (strcmp(path, "/endless") == 0) {
        long long sent = 0;
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n");
        while (sent < 80LL << 20) {
            ssize_t w = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            sent += w;
        }
        note(log, "endless: %s after %lld bytes\n", sent < 80LL << 20 ? "client left" : "all sent",
             sent);
    } else if (strcmp(path, "/huge") == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                     "Content-Length: 107374182400\r\n\r\n");
        note(log, "huge: %s\n", client_left(fd, 4000) ? "client left before the body"
                                                      : "client waited for the body");
    } else if (strcmp(path, "/silent") == 0) {
        note(log, "silent: %s\n", client_left(fd, 8000) ? "client left" : "client waited");
    } else if (strcmp(path, "/slow") == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 200000\r\n\r\n");
        for (int i = 0; i < 20 && send(fd, chunk, 10000, MSG_NOSIGNAL) == 10000; i++)
            sup_sleep_ms(75);
    } else if (strcmp(path, "/r") == 0) {
        send_str(fd, "HTTP/1.1 302 Found\r\nLocation: /p/a%20b%2Fc.png?x=/evil#top\r\n"
                     "Content-Length: 0\r\n\r\n");
        serve_one(fd, log);                     /* the same connection goes on */
    } else {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n");
        send(fd, chunk, 100, MSG_NOSIGNAL);
        serve_one(fd, log);                     /* keep-alive: maybe another request */
    }
}

static void hostile_start(struct hostile *h, const char *tag)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 16), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    h->port = ntohs(a.sin_port);
    sup_tmp_path(h->log, sizeof h->log, tag);
    int log = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    assert_true(log >= 0);
    fflush(NULL);
    h->pid = fork();
    assert_true(h->pid >= 0);
    if (h->pid == 0) {
        signal(SIGTERM, SIG_DFL);
        alarm(120);                             /* never outlive the test */
        for (;;) {
            int fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                _exit(1);
            serve_one(fd, log);
            close(fd);
        }
    }
    close(lfd);
    close(log);
}

/* Stop the server; its log, from malloc. */
static char *hostile_stop(struct hostile *h)
{
    kill(h->pid, SIGKILL);
    waitpid(h->pid, NULL, 0);
    char *log = sup_read_file(h->log);
    assert_non_null(log);
    unlink(h->log);
    return log;
}

/* ------------------------------------------------------------ running the downloader */

struct run {
    int status;       /* exit status, 128+signal, or -1: killed after the bound */
    char *out;        /* stdout and stderr together */
};

/* Run the downloader with args (NULL-terminated) in a child whose umask
 * is mask and whose RLIMIT_NOFILE (soft and hard) is nofile (0: as ours);
 * stdout goes to a pseudo-terminal if tty, else with stderr to a file.
 * Waits at most bound_s seconds. */
static struct run download(char *const args[], mode_t mask, rlim_t nofile, int tty,
                           int bound_s)
{
    char path[4096], out[256];
    assert_int_equal(sup_bin("images-download", path, sizeof path), 0);
    sup_tmp_path(out, sizeof out, "dl-hostile.out");
    char *argv[40] = {path};
    int n = 1;
    while (args[n - 1] != NULL && n < 39) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    int master = -1, slave = -1;
    if (tty) {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        assert_true(master >= 0);
        assert_int_equal(grantpt(master), 0);
        assert_int_equal(unlockpt(master), 0);
        slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        assert_true(slave >= 0);
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || dup2(in, 0) < 0 || dup2(tty ? slave : fd, 1) < 0
            || dup2(fd, 2) < 0)
            _exit(127);
        umask(mask);
        struct rlimit rl = {nofile, nofile};
        if (nofile > 0 && setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        execv(path, argv);
        _exit(127);
    }
    if (tty)
        close(slave);
    size_t cap = 1 << 16, len = 0;
    char *screen = calloc(1, cap);
    int status = -1;
    long long end = sup_now_ms() + bound_s * 1000LL;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (tty) {                           /* drain the terminal as we go */
            struct pollfd p = {.fd = master, .events = POLLIN};
            while (poll(&p, 1, r == pid ? 0 : 20) == 1 && len < cap - 1) {
                ssize_t k = read(master, screen + len, cap - 1 - len);
                if (k <= 0)
                    break;
                len += (size_t)k;
            }
        } else if (r != pid) {
            sup_sleep_ms(20);
        }
        if (r == pid) {
            status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (sup_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            status = -1;
            break;
        }
    }
    if (tty)
        close(master);
    char *text = sup_read_file(out);
    assert_non_null(text);
    unlink(out);
    struct run run = {.status = status};
    size_t tl = strlen(text);
    run.out = realloc(screen, len + tl + 1);
    memcpy(run.out + len, text, tl + 1);
    free(text);
    return run;
}

/* Files in dir (hidden ones too, so a temporary file left is seen). */
static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void show(const struct run *r)
{
    printf("---- downloader (status %d) ----\n%.4000s\n---- end ----\n", r->status, r->out);
}

#define CHECK(cond, r)                                                                     \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            show(r);                                                                       \
            free((r)->out);                                                                \
            fail_msg("%s", #cond);                                                         \
        }                                                                                  \
    } while (0)

/* ------------------------------------------------------------ size */

/* An endless body (no Content-Length) is cut at --max-size, the default
 * (64 MiB) included: the download fails, the server sees the client leave
 * long before its 80 MiB are sent, and no file is left. */
static void test_endless_body_stops_at_max_size(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-endless.log");
    char url[128], dir[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/endless", h.port);
    make_dir(dir, sizeof dir, "dl-endless");
    char *a1[] = {"--url", url, "--count", "1", "--mode", "sync", "--dir", dir, NULL};
    struct run r = download(a1, 022, 0, 0, 30);
    CHECK(r.status == 1, &r);
    CHECK(strstr(r.out, "--max-size") != NULL, &r);
    CHECK(files_in(dir) == 0, &r);
    free(r.out);
    char *a2[] = {"--url", url, "--count", "1", "--mode", "async", "--max-size", "1M",
                  "--dir", dir, NULL};
    r = download(a2, 022, 0, 0, 30);
    CHECK(r.status == 1, &r);
    CHECK(strstr(r.out, "--max-size 1048576") != NULL, &r);
    CHECK(files_in(dir) == 0, &r);
    free(r.out);
    char *log = hostile_stop(&h);
    assert_int_equal(count_lines(log, "endless: client left after"), 2);
    free(log);
    remove_dir(dir);
}

/* A Content-Length over the cap is refused as soon as the head is read. */
static void test_content_length_over_cap_refused_before_body(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-huge.log");
    char url[128], dir[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/huge", h.port);
    make_dir(dir, sizeof dir, "dl-huge");
    char *a[] = {"--url", url, "--count", "1", "--mode", "both", "--timeout", "10",
                 "--dir", dir, NULL};
    struct run r = download(a, 022, 0, 0, 40);
    CHECK(r.status == 1, &r);
    CHECK(count_lines(r.out, "--max-size") == 2, &r);
    CHECK(files_in(dir) == 0, &r);
    free(r.out);
    char *log = hostile_stop(&h);
    assert_int_equal(count_lines(log, "huge: client left before the body"), 2);
    free(log);
    remove_dir(dir);
}

/* ------------------------------------------------------------ time */

/* A timeout that rounds to 0 ms would mean "no timeout" to libcurl: it is
 * refused at once, and the silent server never sees a request. */
static void test_timeout_rounding_to_zero_is_refused(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-zero.log");
    char url[128], dir[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/silent", h.port);
    make_dir(dir, sizeof dir, "dl-zero");
    const char *bad[][2] = {{"--timeout", "0.0004"}, {"--timeout", "0"},
                            {"--connect-timeout", "0.0001"}, {"--timeout", "-1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *a[] = {"--url", url, "--count", "1", (char *)bad[i][0], (char *)bad[i][1],
                     "--dir", dir, NULL};
        struct run r = download(a, 022, 0, 0, 10);
        CHECK(r.status == 2, &r);
        CHECK(strstr(r.out, bad[i][0]) != NULL, &r);
        free(r.out);
    }
    char *log = hostile_stop(&h);
    assert_null(strstr(log, "request"));
    free(log);
    remove_dir(dir);
}

/* A timeout of a few milliseconds is honoured as milliseconds. */
static void test_millisecond_timeout_is_honoured(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-ms.log");
    char url[128], dir[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/silent", h.port);
    make_dir(dir, sizeof dir, "dl-ms");
    char *a[] = {"--url", url, "--count", "1", "--mode", "async", "--timeout", "0.25",
                 "--dir", dir, NULL};
    struct run r = download(a, 022, 0, 0, 20);
    CHECK(r.status == 1, &r);
    /* timed out: not "no timeout" (the server gives up after 8 s: "Empty reply") */
    CHECK(strstr(r.out, "Operation timed out after") != NULL, &r);
    free(r.out);
    char *log = hostile_stop(&h);
    assert_non_null(strstr(log, "silent: client left"));
    free(log);
    remove_dir(dir);
}

/* A server whose queue of connections is full never completes the
 * handshake: --connect-timeout gives up on it before --timeout. */
static void test_connect_timeout(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    int port = ntohs(a.sin_port);
    int filler[4];
    for (int i = 0; i < 4; i++) {                /* fill the queue; later SYNs are dropped */
        filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(filler[i], (struct sockaddr *)&a, sizeof a);
    }
    sup_sleep_ms(100);
    char url[128], dir[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x.png", port);
    make_dir(dir, sizeof dir, "dl-connect");
    char *args[] = {"--url", url, "--count", "1", "--mode", "sync", "--connect-timeout", "0.3",
                    "--timeout", "20", "--dir", dir, NULL};
    struct run r = download(args, 022, 0, 0, 15);
    CHECK(r.status == 1, &r);
    /* had --connect-timeout not worked, --timeout 20 would outlast the bound of 15 s;
       libcurl says "Connection timeout after 300 ms" or "Failed to connect ... after
       301 ms: Timeout was reached", whichever of its checks comes first */
    CHECK(strstr(r.out, "imeout") != NULL && strstr(r.out, "FAILED sync 0") != NULL, &r);
    free(r.out);
    for (int i = 0; i < 4; i++)
        close(filler[i]);
    close(lfd);
    remove_dir(dir);
}

/* ------------------------------------------------------------ files */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* One image from a fresh image server: its name is always
 * sync-000-000001_16_16.png. */
static struct run one_image(const char *dir, int overwrite)
{
    struct sup_server s;
    start_server(&s, "0");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/16/16", s.port);
    char *a[] = {"--url", url, "--count", "1", "--mode", "sync", "--dir", (char *)dir,
                 overwrite ? "--overwrite" : NULL, NULL};
    struct run r = download(a, 022, 0, 0, 20);
    stop_server(&s);
    return r;
}

/* The same command twice, or a user's file planted at the target name:
 * never replaced silently. --overwrite replaces it, and says so. */
static void test_existing_file_is_not_replaced(void **state)
{
    (void)state;
    char dir[256], target[512];
    make_dir(dir, sizeof dir, "dl-exists");
    snprintf(target, sizeof target, "%s/sync-000-000001_16_16.png", dir);
    write_file(target, "my notes\n");
    struct run r = one_image(dir, 0);
    CHECK(r.status == 1, &r);
    CHECK(strstr(r.out, "sync-000-000001_16_16.png") && strstr(r.out, "--overwrite"), &r);
    free(r.out);
    char *text = sup_read_file(target);
    assert_string_equal(text, "my notes\n");
    free(text);
    assert_int_equal(files_in(dir), 1);           /* no temporary file either */
    r = one_image(dir, 1);
    CHECK(r.status == 0, &r);
    CHECK(strstr(r.out, "replaced") != NULL, &r);
    free(r.out);
    text = sup_read_file(target);
    assert_memory_equal(text, "\x89PNG", 4);
    free(text);
    r = one_image(dir, 0);                        /* the same command again */
    CHECK(r.status == 1, &r);
    free(r.out);
    assert_int_equal(files_in(dir), 1);
    remove_dir(dir);
}

/* A symlink at the target name is never followed: without --overwrite it
 * stays, with it the link itself is replaced; its target is untouched. */
static void test_symlink_at_target_not_followed(void **state)
{
    (void)state;
    char dir[256], target[512], outside[256];
    make_dir(dir, sizeof dir, "dl-symlink");
    sup_tmp_path(outside, sizeof outside, "dl-precious");
    write_file(outside, "precious\n");
    snprintf(target, sizeof target, "%s/sync-000-000001_16_16.png", dir);
    assert_int_equal(symlink(outside, target), 0);
    struct run r = one_image(dir, 0);
    CHECK(r.status == 1, &r);
    free(r.out);
    struct stat st;
    assert_int_equal(lstat(target, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    r = one_image(dir, 1);
    CHECK(r.status == 0, &r);
    free(r.out);
    assert_int_equal(lstat(target, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    char *text = sup_read_file(outside);
    assert_string_equal(text, "precious\n");
    free(text);
    unlink(outside);
    remove_dir(dir);
}

/* Files are created 0666 & ~umask, like any file a program creates. */
static void test_files_follow_the_umask(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-umask.log");
    char url[128], dir[256], path[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/pic.png", h.port);
    make_dir(dir, sizeof dir, "dl-umask");
    const mode_t masks[] = {077, 022, 0};
    for (int i = 0; i < 3; i++) {
        char *a[] = {"--url", url, "--count", "1", "--mode", "sync", "--dir", dir, NULL};
        struct run r = download(a, masks[i], 0, 0, 20);
        CHECK(r.status == 0, &r);
        free(r.out);
        snprintf(path, sizeof path, "%s/sync-000-pic.png", dir);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0666 & ~masks[i]);
        unlink(path);
    }
    free(hostile_stop(&h));
    remove_dir(dir);
}

/* The name comes from the path of the last URL only: the query and the
 * fragment do not count; %XX is decoded, then whatever is not a letter,
 * a digit, '.', '-' or '_' becomes '_'. */
static void test_name_from_the_path_only(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-names.log");
    char u1[160], u2[160], dir[256], path[512];
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d/dir/img.png?name=../../evil#frag", h.port);
    snprintf(u2, sizeof u2, "http://127.0.0.1:%d/r", h.port);
    make_dir(dir, sizeof dir, "dl-names");
    char *a[] = {"--url", u1, "--url", u2, "--count", "2", "--mode", "sync", "--dir", dir, NULL};
    struct run r = download(a, 022, 0, 0, 20);
    CHECK(r.status == 0, &r);
    free(r.out);
    struct stat st;
    snprintf(path, sizeof path, "%s/sync-000-img.png", dir);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/sync-001-a_b_c.png", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(files_in(dir), 2);
    free(hostile_stop(&h));
    remove_dir(dir);
}

/* The rules of job_file_name, one case each. */
static void test_file_name_rules(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"http://h/dir/img.png?name=../../evil#frag", "img.png"},   /* query, fragment */
        {"http://h/x/y.png#frag/evil", "y.png"},
        {"http://h/p/a%20b%2Fc.png?x=/evil", "a_b_c.png"},          /* decoded, then _ */
        {"http://h/caf%C3%A9.png", "caf__.png"},                    /* not ASCII */
        {"http://h/a%00b", "a_b"},                                  /* NUL */
        {"http://h/100%", "100_"},                                  /* a lone % */
        {"http://h/%zz%4", "_zz_4"},                                /* not hex */
        {"http://h/.hidden", "_hidden"},                            /* our temp files */
        {"http://h/%2e%2e", "_."},
        {"http://h/", "image"},                                     /* empty */
        {"http://h", "image"},
        {"not a url", "image"},
    };
    char out[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        job_file_name(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    char url[400] = "http://h/";
    memset(url + 9, 'x', 300);                                      /* 100 bytes at most */
    job_file_name(url, out, sizeof out);
    assert_int_equal(strlen(out), 100);
    job_file_name(url, out, 8);                                     /* and never past cap */
    assert_string_equal(out, "xxxxxxx");
}

/* ------------------------------------------------------------ many at once */

/* 10 000 downloads under ulimit -n 1024 (soft and hard): they wait their
 * turn and every one succeeds. */
static void test_ten_thousand_under_1024_descriptors(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "0");
    char url[128], dir[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/4/4", s.port);
    make_dir(dir, sizeof dir, "dl-many");
    char *a[] = {"--url", url, "--count", "10000", "--mode", "async", "--quiet",
                 "--dir", dir, NULL};
    struct run r = download(a, 022, 1024, 0, 300);
    CHECK(r.status == 0, &r);
    CHECK(strstr(r.out, "10000 of 10000 saved") != NULL, &r);
    CHECK(files_in(dir) == 10000, &r);
    free(r.out);
    stop_server(&s);
    remove_dir(dir);
}

/* ------------------------------------------------------------ progress */

/* Not on a terminal: one labelled line per file, one summary line per run;
 * --quiet keeps only failures and the summary. */
static void test_progress_lines_are_labelled(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-lines.log");
    char good[128], bad[128], dir[256];
    snprintf(good, sizeof good, "http://127.0.0.1:%d/pic.png", h.port);
    snprintf(bad, sizeof bad, "http://127.0.0.1:%d/pic.png", sup_free_port());
    make_dir(dir, sizeof dir, "dl-lines");
    char *a[] = {"--url", good, "--url", bad, "--count", "2", "--mode", "sync", "--dir", dir, NULL};
    struct run r = download(a, 022, 0, 0, 20);
    CHECK(r.status == 1, &r);
    CHECK(strstr(r.out, ": saved sync-000-pic.png, 100 bytes in ") != NULL, &r);
    CHECK(strstr(r.out, ": FAILED sync 1 ") != NULL, &r);
    CHECK(strstr(r.out, "Sync total time: ") != NULL && strstr(r.out, "1 of 2 saved") != NULL,
          &r);
    free(r.out);
    remove_dir(dir);
    make_dir(dir, sizeof dir, "dl-lines");
    char *q[] = {"--url", good, "--url", bad, "--count", "2", "--mode", "sync", "--quiet",
                 "--dir", dir, NULL};
    r = download(q, 022, 0, 0, 20);
    CHECK(r.status == 1, &r);
    CHECK(strstr(r.out, "saved sync-") == NULL, &r);
    CHECK(strstr(r.out, "FAILED") != NULL && strstr(r.out, "1 of 2 saved") != NULL, &r);
    free(r.out);
    free(hostile_stop(&h));
    remove_dir(dir);
}

/* On a terminal: a live line, redrawn while a 1.5-second download runs. */
static void test_live_progress_on_a_terminal(void **state)
{
    (void)state;
    struct hostile h;
    hostile_start(&h, "dl-live.log");
    char url[128], dir[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", h.port);
    make_dir(dir, sizeof dir, "dl-live");
    const char *modes[] = {"sync", "async"};
    for (int m = 0; m < 2; m++) {
        char *a[] = {"--url", url, "--count", "1", "--mode", (char *)modes[m], "--dir", dir, NULL};
        struct run r = download(a, 022, 0, 1, 20);
        CHECK(r.status == 0, &r);
        /* distinct states of the line while the one file is not done */
        char seen[8][128];
        int nseen = 0;
        for (char *p = r.out; (p = strchr(p, '\r')) != NULL; p++) {
            char line[128];
            if (sscanf(p + 1, "%127[^\r\n]", line) != 1 || strstr(line, "0 of 1 files") == NULL)
                continue;
            int dup = 0;
            for (int i = 0; i < nseen; i++)
                dup |= strcmp(seen[i], line) == 0;
            if (!dup && nseen < 8)
                strcpy(seen[nseen++], line);
        }
        CHECK(nseen >= 3, &r);
        CHECK(strstr(r.out, "1 of 1 saved") != NULL, &r);
        free(r.out);
    }
    free(hostile_stop(&h));
    remove_dir(dir);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endless_body_stops_at_max_size),
        cmocka_unit_test(test_content_length_over_cap_refused_before_body),
        cmocka_unit_test(test_timeout_rounding_to_zero_is_refused),
        cmocka_unit_test(test_millisecond_timeout_is_honoured),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_existing_file_is_not_replaced),
        cmocka_unit_test(test_symlink_at_target_not_followed),
        cmocka_unit_test(test_files_follow_the_umask),
        cmocka_unit_test(test_file_name_rules),
        cmocka_unit_test(test_name_from_the_path_only),
        cmocka_unit_test(test_ten_thousand_under_1024_descriptors),
        cmocka_unit_test(test_progress_lines_are_labelled),
        cmocka_unit_test(test_live_progress_on_a_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
