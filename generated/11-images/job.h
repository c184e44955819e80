/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef JOB_H
#define JOB_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/types.h>

enum { JOB_PATH_MAX = 1024, JOB_MAX_URLS = 16 };

enum job_show { JOB_LINES, JOB_LIVE, JOB_QUIET };   /* как показывать ход */

struct job_config {
    const char *urls[JOB_MAX_URLS]; /* загрузка i берёт urls[i % nurls] */
    size_t nurls;
    const char *dir;                /* куда класть картинки */
    long timeout_ms;                /* на загрузку целиком, не меньше 1 */
    long connect_timeout_ms;        /* на соединение, не меньше 1 */
    curl_off_t max_size;            /* тело длиннее -- неудача */
    int overwrite;                  /* заменять ли существующий файл */
    enum job_show show;             /* JOB_LIVE, если stdout -- терминал */
    mode_t file_mode;               /* 0666 & ~umask */
};

/* Значения по умолчанию (umask узнаётся здесь, так что звать до потоков). */
void job_config_init(struct job_config *c);
struct job_run {
    const struct job_config *cfg;
    const char *mode;               /* "sync", "async", "multi": начало имён */
    size_t count, saved, failed, replaced;
    curl_off_t got, expected;       /* байтов: пришло; обещано */
    double t0, drawn;               /* начало прогона; когда рисовали строку */
};

struct job {
    struct job_run *run;
    size_t index;
    CURL *easy;
    int fd;                         /* временный файл; -1 -- закрыт */
    char tmp[JOB_PATH_MAX];         /* его имя; "" -- его уже нет */
    curl_off_t got, expected;       /* байтов тела: записано; обещано */
    int too_big, write_errno;       /* почему отказала запись */
    char errbuf[CURL_ERROR_SIZE];
    double started;
};
double job_now(void);               /* секунды по монотонным часам */

/* Прогон count загрузок; job_run_end печатает итог и возвращает,
   сколько загрузок не удалось. */
void job_run_begin(struct job_run *r, const struct job_config *cfg, const char *mode,
                   size_t count);
size_t job_run_end(struct job_run *r);

/* Временный файл и easy-хэндл загрузки index. 0 или -1 (причина в
   j->errbuf); job_finish и job_cleanup нужны в любом случае. */
int job_start(struct job *j, struct job_run *r, size_t index);

/* Исход code (why -- объяснение libcurl или NULL): удачную загрузку
   поставить на место, неудачную удалить, показать. 0 -- картинка на
   месте, -1 -- нет. */
int job_finish(struct job *j, CURLcode code, const char *why);

/* Закрыть и удалить всё, что осталось (временный файл, easy-хэндл). */
void job_cleanup(struct job *j);

/* Имя файла из адреса url (правила -- в тексте главы) в out. */
void job_file_name(const char *url, char *out, size_t cap);

/* Сколько из count загрузок вести сразу: asked (0 -- не сказано: до
   256), но не больше, чем позволяет предел открытых файлов. */
size_t job_limit(size_t count, size_t asked);

#endif
