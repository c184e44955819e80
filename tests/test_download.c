/* Chapter 11 end to end, on loopback: the image server of the book and the
 * downloader. Every downloaded file is checked as a PNG (signature, every
 * chunk's CRC computed here independently, IHDR of the requested size,
 * IEND last); names are unique (N downloads give N files); no temporary
 * file is left. The server's own counter of requests in progress shows
 * the defining property: the sync run asks one at a time, the async run
 * all at once (or --limit at once). Failures -- 404, a body cut short, a
 * server that never answers, nobody listening -- are each reported with
 * the reason, leave no partial file and do not disturb the other
 * downloads; the exit status says whether all succeeded. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "download_common.h"
#include "support.h"

/* GET path from the server; the body (after the blank line) into buf. */
static void http_get(int port, const char *path, char *buf, size_t cap)
{
    int fd = sup_connect(port, 2000);
    assert_true(fd >= 0);
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(sup_send_str(fd, req), 0);
    assert_true(sup_recv_all(fd, buf, cap, 5000) > 0);
    close(fd);
}

static long stat_value(int port, const char *name, int reset)
{
    char buf[2048], key[64];
    http_get(port, reset ? "/stats/reset" : "/stats", buf, sizeof buf);
    snprintf(key, sizeof key, "\n%s ", name);
    char *p = strstr(buf, key);
    assert_non_null(p);
    return strtol(p + strlen(key), NULL, 10);
}

/* Run the downloader; its exit status (or -1 if it had to be killed). */
static int download(const char *out, char *const args[])
{
    char *argv[32] = {"images-download"};
    int n = 1;
    while (args[n - 1] != NULL && n < 31) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    pid_t pid = sup_spawn("images-download", argv, out);
    assert_true(pid > 0);
    int status;
    for (int i = 0; i < 1200; i++) {              /* at most 60 s */
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        sup_sleep_ms(50);
    }
    sup_stop(pid, 1000);
    return -1;
}

/* ---- checking the files ---- */

static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 0 if path is a complete PNG of w x h. */
static int check_png(const char *path, uint32_t w, uint32_t h)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    static unsigned char d[8 << 20];
    size_t n = fread(d, 1, sizeof d, f);
    fclose(f);
    if (n < 8 + 25 + 12 || memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0)
        return -2;
    size_t p = 8;
    int saw_ihdr = 0, saw_idat = 0;
    while (p + 12 <= n) {
        uint32_t len = be32(d + p);
        if (p + 12 + len > n)
            return -3;                               /* truncated */
        if (crc32_bitwise(d + p + 4, 4 + len) != be32(d + p + 8 + len))
            return -4;
        if (memcmp(d + p + 4, "IHDR", 4) == 0) {
            if (p != 8 || len != 13 || be32(d + p + 8) != w || be32(d + p + 12) != h)
                return -5;
            saw_ihdr = 1;
        } else if (memcmp(d + p + 4, "IDAT", 4) == 0) {
            saw_idat = 1;
        } else if (memcmp(d + p + 4, "IEND", 4) == 0) {
            return saw_ihdr && saw_idat && p + 12 == n ? 0 : -6;
        }
        p += 12 + len;
    }
    return -7;                                       /* no IEND */
}

/* Count files named prefix* in dir, each a valid PNG; fail on any hidden
 * (temporary) file. */
static int count_pngs(const char *dir, const char *prefix, uint32_t w, uint32_t h)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (e->d_name[0] == '.')
            fail_msg("temporary file left behind: %s/%s", dir, e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int rc = check_png(path, w, h);
        if (rc != 0)
            fail_msg("%s is not a %ux%u PNG (%d)", path, w, h, rc);
        count++;
    }
    closedir(d);
    return count;
}

/* ---- tests ---- */

static void test_sync_asks_one_at_a_time(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "100");
    char url[128], dir[256], out[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/64/48", s.port);
    make_dir(dir, sizeof dir, "dl-sync");
    sup_tmp_path(out, sizeof out, "dl-sync.out");
    char *args[] = {"--url", url, "--count", "5", "--dir", dir, "--mode", "sync", NULL};
    assert_int_equal(download(out, args), 0);
    assert_int_equal(count_pngs(dir, "sync-", 64, 48), 5);
    assert_int_equal(stat_value(s.port, "peak_active", 0), 1);
    assert_int_equal(stat_value(s.port, "requests", 0), 10);   /* redirect + image */
    char *text = sup_read_file(out);
    assert_non_null(strstr(text, "Sync total time: "));
    assert_null(strstr(text, "Async total time: "));
    assert_int_equal(count_lines(text, ": saved sync-"), 5);
    assert_non_null(strstr(text, "(5 of 5 saved, "));
    free(text);
    stop_server(&s);
    remove_dir(dir);
    unlink(out);
}

static void test_async_asks_all_at_once(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "300");
    char url[128], dir[256], out[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/64/48", s.port);
    make_dir(dir, sizeof dir, "dl-async");
    sup_tmp_path(out, sizeof out, "dl-async.out");
    char *args[] = {"--url", url, "--count", "20", "--dir", dir, "--mode", "async", NULL};
    assert_int_equal(download(out, args), 0);
    assert_int_equal(count_pngs(dir, "async-", 64, 48), 20);
    assert_int_equal(stat_value(s.port, "peak_active", 0), 20);
    char *text = sup_read_file(out);
    assert_non_null(strstr(text, "Async total time: "));
    assert_null(strstr(text, "Sync total time: "));
    free(text);
    stop_server(&s);
    remove_dir(dir);
    unlink(out);
}

static void test_async_respects_the_limit(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "100");
    char url[128], dir[256], out[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/32/32", s.port);
    make_dir(dir, sizeof dir, "dl-limit");
    sup_tmp_path(out, sizeof out, "dl-limit.out");
    char *args[] = {"--url", url, "--count", "12", "--limit", "4", "--dir", dir,
                    "--mode", "async", NULL};
    assert_int_equal(download(out, args), 0);
    assert_int_equal(count_pngs(dir, "async-", 32, 32), 12);
    assert_int_equal(stat_value(s.port, "peak_active", 0), 4);
    stop_server(&s);
    remove_dir(dir);
    unlink(out);
}

/* Without --limit: at most 256 at once, even when descriptors allow more
 * (every download at once costs more CPU per image, chapter 11). */
static void test_async_default_limit_is_256(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "300");
    char url[128], dir[256], out[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/8/8", s.port);
    make_dir(dir, sizeof dir, "dl-256");
    sup_tmp_path(out, sizeof out, "dl-256.out");
    char *args[] = {"--url", url, "--count", "300", "--dir", dir, "--mode", "async", "--quiet",
                    NULL};
    assert_int_equal(download(out, args), 0);
    assert_int_equal(count_pngs(dir, "async-", 8, 8), 300);
    assert_int_equal(stat_value(s.port, "peak_active", 0), 256);
    stop_server(&s);
    remove_dir(dir);
    unlink(out);
}

static void test_both_modes_and_every_image_differs(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "50");
    char url[128], dir[256], out[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/40/30", s.port);
    make_dir(dir, sizeof dir, "dl-both");
    sup_tmp_path(out, sizeof out, "dl-both.out");
    char *args[] = {"--url", url, "--count", "3", "--dir", dir, NULL};
    assert_int_equal(download(out, args), 0);
    assert_int_equal(count_pngs(dir, "sync-", 40, 30), 3);
    assert_int_equal(count_pngs(dir, "async-", 40, 30), 3);
    char *text = sup_read_file(out);
    char *sync = strstr(text, "Sync total time: "), *async = strstr(text, "Async total time: ");
    assert_non_null(sync);
    assert_non_null(async);
    assert_true(sync < async);                       /* sync first, as the original */
    free(text);
    /* two images of the same run are different pictures */
    char a[512], b[512];
    DIR *d = opendir(dir);
    struct dirent *e;
    a[0] = b[0] = '\0';
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            snprintf(a[0] ? b : a, sizeof a, "%s/%s", dir, e->d_name);
    closedir(d);
    char *ca = sup_read_file(a), *cb = sup_read_file(b);
    assert_non_null(ca);
    assert_non_null(cb);
    assert_true(memcmp(ca + 100, cb + 100, 1000) != 0);
    free(ca);
    free(cb);
    stop_server(&s);
    remove_dir(dir);
    unlink(out);
}

static void test_404_and_cut_body_are_reported_and_leave_nothing(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "50");
    char good[128], missing[128], cut[128], dir[256], out[256];
    snprintf(good, sizeof good, "http://127.0.0.1:%d/64/48", s.port);
    snprintf(missing, sizeof missing, "http://127.0.0.1:%d/404/64/48", s.port);
    snprintf(cut, sizeof cut, "http://127.0.0.1:%d/cut/64/48", s.port);
    make_dir(dir, sizeof dir, "dl-fail");
    sup_tmp_path(out, sizeof out, "dl-fail.out");
    char *args[] = {"--url", good, "--url", missing, "--url", cut, "--count", "6",
                    "--dir", dir, NULL};
    assert_int_equal(download(out, args), 1);
    assert_int_equal(count_pngs(dir, "sync-", 64, 48), 2);    /* 0 and 3 */
    assert_int_equal(count_pngs(dir, "async-", 64, 48), 2);
    char *text = sup_read_file(out);
    assert_int_equal(count_lines(text, "FAILED"), 8);
    assert_int_equal(count_lines(text, "/404/64/48) after "), 4);
    assert_int_equal(count_lines(text, "returned error: 404"), 4);
    assert_int_equal(count_lines(text, "/cut/64/48) after "), 4);
    assert_int_equal(count_lines(text, "(2 of 6 saved, "), 2);
    free(text);
    stop_server(&s);
    remove_dir(dir);
    unlink(out);
}

static void test_silent_server_times_out(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "50");
    char good[128], hang[128], dir[256], out[256];
    snprintf(good, sizeof good, "http://127.0.0.1:%d/64/48", s.port);
    snprintf(hang, sizeof hang, "http://127.0.0.1:%d/hang/64/48", s.port);
    make_dir(dir, sizeof dir, "dl-hang");
    sup_tmp_path(out, sizeof out, "dl-hang.out");
    char *args[] = {"--url", good, "--url", hang, "--count", "4", "--timeout", "1",
                    "--dir", dir, NULL};
    assert_int_equal(download(out, args), 1);
    assert_int_equal(count_pngs(dir, "sync-", 64, 48), 2);
    assert_int_equal(count_pngs(dir, "async-", 64, 48), 2);
    char *text = sup_read_file(out);
    assert_int_equal(count_lines(text, "/hang/64/48) after "), 4);
    assert_int_equal(count_lines(text, "timed out"), 4);
    free(text);
    stop_server(&s);
    remove_dir(dir);
    unlink(out);
}

static void test_nobody_listening(void **state)
{
    (void)state;
    char url[128], dir[256], out[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/64/48", sup_free_port());
    make_dir(dir, sizeof dir, "dl-refused");
    sup_tmp_path(out, sizeof out, "dl-refused.out");
    char *args[] = {"--url", url, "--count", "3", "--dir", dir, NULL};
    assert_int_equal(download(out, args), 1);
    assert_int_equal(count_pngs(dir, "", 64, 48), 0);
    char *text = sup_read_file(out);
    assert_int_equal(count_lines(text, "FAILED"), 6);
    assert_non_null(strstr(text, "onnect"));
    free(text);
    remove_dir(dir);
    unlink(out);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char out[256];
    sup_tmp_path(out, sizeof out, "dl-usage.out");
    char *a1[] = {"--count", "ten", NULL};
    assert_int_equal(download(out, a1), 2);
    char *a2[] = {"--mode", "parallel", NULL};
    assert_int_equal(download(out, a2), 2);
    char *a3[] = {"--timeout", NULL};
    assert_int_equal(download(out, a3), 2);
    unlink(out);
}

static void test_server_redirects_like_the_real_site(void **state)
{
    (void)state;
    struct sup_server s;
    start_server(&s, "0");
    char buf[4096];
    http_get(s.port, "/320/240", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 302 "));
    assert_non_null(strstr(buf, "Location: /cache/000001_320_240.png\r\n"));
    http_get(s.port, "/320/240", buf, sizeof buf);
    assert_non_null(strstr(buf, "Location: /cache/000002_320_240.png\r\n"));
    http_get(s.port, "/0/240", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 404 "));
    http_get(s.port, "/nothing", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 404 "));
    assert_int_equal(stat_value(s.port, "requests", 1), 2);   /* 404s at once are not counted */
    assert_int_equal(stat_value(s.port, "requests", 0), 0);  /* reset */
    stop_server(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_redirects_like_the_real_site),
        cmocka_unit_test(test_sync_asks_one_at_a_time),
        cmocka_unit_test(test_async_asks_all_at_once),
        cmocka_unit_test(test_async_respects_the_limit),
        cmocka_unit_test(test_async_default_limit_is_256),
        cmocka_unit_test(test_both_modes_and_every_image_differs),
        cmocka_unit_test(test_404_and_cut_body_are_reported_and_leave_nothing),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_nobody_listening),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
