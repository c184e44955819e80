/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
/* CURLOPT_XFERINFOFUNCTION: ненулевой ответ прерывает передачу
   (CURLE_ABORTED_BY_CALLBACK). Флаг взводит обработчик из главы 3. */
static int stop_if_asked(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                         curl_off_t un)
{
    (void)p, (void)dt, (void)dn, (void)ut, (void)un;
    return net_stop_requested();
}
static int open_temp(struct job *j)
{
    int n = snprintf(j->tmp, sizeof j->tmp, "%s/.%s-%03zu.XXXXXX", j->cfg->dir,
                     j->mode, j->index);
    if (n < 0 || (size_t)n >= sizeof j->tmp) {
        j->tmp[0] = '\0';
        return -ENAMETOOLONG;
    }
    int fd = mkstemp(j->tmp);
    if (fd < 0) {
        j->tmp[0] = '\0';
        return -errno;
    }
    fchmod(fd, 0644);                  /* mkstemp даёт 0600 */
    j->file = fdopen(fd, "wb");
    if (j->file == NULL) {
        int e = errno;
        close(fd);
        return -e;
    }
    return 0;
}
static int setup_easy(struct job *j)
{
    CURL *e = j->easy;
    const struct job_config *c = j->cfg;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, c->urls[j->index % c->nurls]);
    SET(CURLOPT_FOLLOWLOCATION, 1L);           /* allow_redirects=True */
    SET(CURLOPT_MAXREDIRS, 5L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FAILONERROR, 1L);              /* 4xx и 5xx -- ошибка */
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_USERAGENT, "11-images-download/1.0");
    SET(CURLOPT_WRITEDATA, j->file);           /* fwrite по умолчанию */
    SET(CURLOPT_ERRORBUFFER, j->errbuf);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, stop_if_asked);
#undef SET
    return rc == CURLE_OK ? 0 : -EINVAL;
}
int job_start(struct job *j, const struct job_config *cfg, const char *mode,
              size_t index)
{
    *j = (struct job){.cfg = cfg, .mode = mode, .index = index,
                      .started = job_now()};
    int rc = open_temp(j);
    if (rc == 0 && (j->easy = curl_easy_init()) == NULL)
        rc = -ENOMEM;
    if (rc == 0)
        rc = setup_easy(j);
    if (rc < 0)
        fprintf(stderr, "%s %zu: cannot start: %s\n", mode, index, strerror(-rc));
    return rc;
}
/* "async-007-000042_320_240.png": режим, номер загрузки и последняя
   часть адреса после всех переадресаций, без ?запроса и без символов,
   которым не место в имени файла. */
static void final_name(const struct job *j, char *out, size_t cap)
{
    char *url = NULL;
    curl_easy_getinfo(j->easy, CURLINFO_EFFECTIVE_URL, &url);
    const char *base = url != NULL ? url : "";
    const char *scheme = strstr(base, "://");
    if (scheme != NULL)
        base = scheme + 3;
    const char *slash = strrchr(base, '/');
    base = slash != NULL ? slash + 1 : "";
    int n = snprintf(out, cap, "%s-%03zu-", j->mode, j->index);
    size_t len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    size_t start = len;
    for (const char *p = base; *p != '\0' && *p != '?' && *p != '#' && len + 1 < cap
                               && len - start < 100; p++)
        out[len++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789._-", *p) != NULL ? *p : '_';
    if (len == start || out[start] == '.')      /* пусто или скрытое имя */
        len = start + (size_t)snprintf(out + start, cap - start, "image");
    out[len < cap ? len : cap - 1] = '\0';
}
int job_finish(struct job *j, CURLcode code, const char *why, double since)
{
    double now = job_now();
    char name[256], path[JOB_PATH_MAX + 256];
    if (j->file != NULL && fclose(j->file) != 0 && code == CURLE_OK) {
        code = CURLE_WRITE_ERROR;
        why = strerror(errno);
    }
    j->file = NULL;
    if (code == CURLE_OK) {
        final_name(j, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", j->cfg->dir, name);
        if (rename(j->tmp, path) == 0) {
            curl_off_t size = 0;
            curl_easy_getinfo(j->easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
            j->tmp[0] = '\0';
            printf("%8.3f s  %6.3f s  %8ld bytes  %s\n", now - since,
                   now - j->started, (long)size, name);
            return 0;
        }
        code = CURLE_WRITE_ERROR;
        why = strerror(errno);
    }
    if (why == NULL || why[0] == '\0')
        why = curl_easy_strerror(code);
    fprintf(stderr, "%8.3f s  %6.3f s  FAILED  %s: %s\n", now - since,
            now - j->started, j->cfg->urls[j->index % j->cfg->nurls], why);
    return -1;
}
void job_cleanup(struct job *j)
{
    if (j->file != NULL)
        fclose(j->file);
    j->file = NULL;
    if (j->tmp[0] != '\0')
        unlink(j->tmp);                /* недокачанное не остаётся */
    j->tmp[0] = '\0';
    curl_easy_cleanup(j->easy);        /* NULL она пропускает */
    j->easy = NULL;
}
