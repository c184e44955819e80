/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "job.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

double job_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void job_config_init(struct job_config *c)
{
    mode_t mask = umask(0);
    umask(mask);
    *c = (struct job_config){.dir = "images", .timeout_ms = 30000,
                             .connect_timeout_ms = 10000, .max_size = (curl_off_t)64 << 20,
                             .show = isatty(STDOUT_FILENO) ? JOB_LIVE : JOB_LINES,
                             .file_mode = 0666 & ~mask};
}
static int open_temp(struct job *j)
{
    const struct job_config *c = j->run->cfg;
    int n = snprintf(j->tmp, sizeof j->tmp, "%s/.%s-%03zu.XXXXXX", c->dir, j->run->mode,
                     j->index);
    if (n < 0 || (size_t)n >= sizeof j->tmp) {
        j->tmp[0] = '\0';
        return -ENAMETOOLONG;
    }
    j->fd = mkstemp(j->tmp);
    if (j->fd < 0) {
        j->tmp[0] = '\0';
        return -errno;
    }
    return fchmod(j->fd, c->file_mode) == 0 ? 0 : -errno;
}
static size_t write_body(char *data, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    size_t len = size * n;
    if (j->got + (curl_off_t)len > j->run->cfg->max_size) {
        j->too_big = 1;
        return 0;                       /* libcurl: CURLE_WRITE_ERROR */
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(j->fd, data + off, len - off);
        if (w < 0 && errno != EINTR) {
            j->write_errno = errno;
            return 0;
        }
        off += w > 0 ? (size_t)w : 0;
    }
    j->got += (curl_off_t)len;
    j->run->got += (curl_off_t)len;
    return len;
}
static const char *human(double bytes, char *buf, size_t cap)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    for (; bytes >= 1024 && u < 4; u++)
        bytes /= 1024;
    snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", bytes, unit[u]);
    return buf;
}

static void draw(struct job_run *r, int force)
{
    double now = job_now();
    if (r->cfg->show != JOB_LIVE || (!force && now - r->drawn < 0.1))
        return;
    r->drawn = now;
    char got[32], expected[32], rate[32];
    printf("\r%s: %zu of %zu files, %s of %s, %s/s", r->mode, r->saved + r->failed, r->count,
           human((double)r->got, got, sizeof got),
           human((double)r->expected, expected, sizeof expected),
           human((double)r->got / (now - r->t0 + 1e-9), rate, sizeof rate));
    if (r->failed > 0)
        printf(", %zu failed", r->failed);
    printf("\033[K");
    fflush(stdout);
}
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dlnow, (void)ultotal, (void)ulnow;
    struct job *j = arg;
    j->run->expected += dltotal - j->expected;
    j->expected = dltotal;
    draw(j->run, 0);
    return net_stop_requested();
}
static int setup_easy(struct job *j)
{
    CURL *e = j->easy;
    const struct job_config *c = j->run->cfg;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, c->urls[j->index % c->nurls]);
    SET(CURLOPT_FOLLOWLOCATION, 1L);           /* allow_redirects=True */
    SET(CURLOPT_MAXREDIRS, 5L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FAILONERROR, 1L);              /* 4xx и 5xx -- ошибка */
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, c->max_size);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_USERAGENT, "images-download/1.0");
    SET(CURLOPT_WRITEFUNCTION, write_body);
    SET(CURLOPT_WRITEDATA, j);
    SET(CURLOPT_ERRORBUFFER, j->errbuf);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, j);
#undef SET
    return rc == CURLE_OK ? 0 : -EINVAL;
}
int job_start(struct job *j, struct job_run *r, size_t index)
{
    *j = (struct job){.run = r, .index = index, .fd = -1, .started = job_now()};
    int rc = open_temp(j);
    if (rc == 0 && (j->easy = curl_easy_init()) == NULL)
        rc = -ENOMEM;
    if (rc == 0)
        rc = setup_easy(j);
    if (rc < 0)
        snprintf(j->errbuf, sizeof j->errbuf, "cannot start in %s: %s", r->cfg->dir,
                 strerror(-rc));
    return rc < 0 ? -1 : 0;
}
static int hex(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

void job_file_name(const char *url, char *out, size_t cap)
{
    char *path = NULL;
    CURLU *u = curl_url();
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_PATH, &path, 0);  /* без ?запроса и #якоря */
    const char *p = path != NULL && strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : "";
    size_t len = 0;
    for (; *p != '\0' && len + 1 < cap && len < 100; p++) {
        int c = (unsigned char)*p;
        if (c == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
            c = hex(p[1]) * 16 + hex(p[2]);
            p += 2;
        }
        out[len++] = c != 0 && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789.-_", c) != NULL ? (char)c : '_';
    }
    out[len] = '\0';
    if (len > 0 && out[0] == '.')
        out[0] = '_';
    if (len == 0)
        snprintf(out, cap, "image");
    curl_free(path);
    curl_url_cleanup(u);
}
/* 0 -- на месте, 1 -- на месте и заменил старый (--overwrite), -errno. */
static int put_in_place(struct job *j, const char *path)
{
    int replaced = 0;
    if (link(j->tmp, path) == 0)
        unlink(j->tmp);
    else if (errno == EEXIST && j->run->cfg->overwrite && rename(j->tmp, path) == 0)
        replaced = 1;
    else
        return -errno;
    j->tmp[0] = '\0';
    return replaced;
}
int job_finish(struct job *j, CURLcode code, const char *why)
{
    struct job_run *r = j->run;
    double now = job_now();
    char name[160], path[JOB_PATH_MAX + 160], text[256];
    if (j->fd >= 0 && close(j->fd) < 0 && code == CURLE_OK && j->write_errno == 0)
        j->write_errno = errno, code = CURLE_WRITE_ERROR;
    j->fd = -1;
    if (code == CURLE_OK) {
        char *url = NULL;
        curl_easy_getinfo(j->easy, CURLINFO_EFFECTIVE_URL, &url);
        int n = snprintf(name, sizeof name, "%s-%03zu-", r->mode, j->index);
        job_file_name(url != NULL ? url : "", name + n, sizeof name - (size_t)n);
        snprintf(path, sizeof path, "%s/%s", r->cfg->dir, name);
        int placed = put_in_place(j, path);
        if (placed >= 0) {
            r->saved++;
            r->replaced += (size_t)placed;
            r->expected += j->got - j->expected;       /* обещание сбылось как есть */
            if (r->cfg->show == JOB_LINES)
                printf("at %.3f s: saved %s%s, %lld bytes in %.3f s\n", now - r->t0, name,
                       placed ? " (replaced the old one)" : "", (long long)j->got,
                       now - j->started);
            draw(r, 1);
            return 0;
        }
        if (placed == -EEXIST)
            snprintf(text, sizeof text, "%s exists, not replaced (--overwrite replaces it)", name);
        else
            snprintf(text, sizeof text, "cannot put %s in place: %s", name, strerror(-placed));
        why = text;
    }
    if (code == CURLE_FILESIZE_EXCEEDED || j->too_big)
        snprintf(text, sizeof text, "bigger than --max-size %lld bytes",
                 (long long)r->cfg->max_size);
    else if (j->write_errno != 0)
        snprintf(text, sizeof text, "cannot write the file: %s", strerror(j->write_errno));
    if (code == CURLE_FILESIZE_EXCEEDED || j->too_big || j->write_errno != 0)
        why = text;
    else if (why == NULL || why[0] == '\0')
        why = curl_easy_strerror(code);
    r->failed++;
    r->got -= j->got;
    r->expected -= j->expected;
    if (r->cfg->show == JOB_LIVE)
        printf("\r\033[K");
    fflush(stdout);
    fprintf(stderr, "at %.3f s: FAILED %s %zu (%s) after %.3f s: %s\n", now - r->t0, r->mode,
            j->index, r->cfg->urls[j->index % r->cfg->nurls], now - j->started, why);
    draw(r, 1);
    return -1;
}
void job_cleanup(struct job *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    if (j->tmp[0] != '\0')
        unlink(j->tmp);                /* недокачанное не остаётся */
    j->tmp[0] = '\0';
    curl_easy_cleanup(j->easy);        /* NULL она пропускает */
    j->easy = NULL;
}
void job_run_begin(struct job_run *r, const struct job_config *cfg, const char *mode,
                   size_t count)
{
    *r = (struct job_run){.cfg = cfg, .mode = mode, .count = count, .t0 = job_now()};
}

size_t job_run_end(struct job_run *r)
{
    double t = job_now() - r->t0;
    char got[32], rate[32], replaced[48] = "";
    if (r->replaced > 0)
        snprintf(replaced, sizeof replaced, ", %zu replaced", r->replaced);
    printf("%s%c%s total time: %.3f sec. (%zu of %zu saved%s, %s, %s/s)\n",
           r->cfg->show == JOB_LIVE ? "\r\033[K" : "", toupper((unsigned char)r->mode[0]),
           r->mode + 1, t, r->saved, r->count, replaced, human((double)r->got, got, sizeof got),
           human((double)r->got / (t + 1e-9), rate, sizeof rate));
    return r->count - r->saved;
}
enum { JOB_FDS_EACH = 4, JOB_FDS_SPARE = 64, JOB_AT_ONCE = 256 };

size_t job_limit(size_t count, size_t asked)
{
    struct rlimit rl;
    size_t fit = 1;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > JOB_FDS_SPARE + JOB_FDS_EACH)
        fit = rl.rlim_cur == RLIM_INFINITY ? (size_t)-1
                                           : (size_t)(rl.rlim_cur - JOB_FDS_SPARE) / JOB_FDS_EACH;
    if (asked > fit)
        fprintf(stderr, "--limit %zu: %zu open files allow only %zu downloads at a time\n",
                asked, (size_t)rl.rlim_cur, fit);
    size_t k = asked == 0 ? (fit < JOB_AT_ONCE ? fit : JOB_AT_ONCE) : asked < fit ? asked : fit;
    return k < count ? k : count > 0 ? count : 1;
}
