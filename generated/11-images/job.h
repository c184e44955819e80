/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef JOB_H
#define JOB_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>

enum { JOB_PATH_MAX = 1024, JOB_MAX_URLS = 16 };

struct job_config {
    const char *urls[JOB_MAX_URLS]; /* загрузка i берёт urls[i % nurls] */
    size_t nurls;
    const char *dir;                /* куда класть картинки */
    long timeout_ms;                /* на одну загрузку целиком */
};

struct job {
    const struct job_config *cfg;
    const char *mode;               /* "sync", "async", "multi": начало имени */
    size_t index;
    CURL *easy;
    FILE *file;                     /* временный файл, пока качаем */
    char tmp[JOB_PATH_MAX];         /* его имя; "" -- уже нет */
    char errbuf[CURL_ERROR_SIZE];
    double started;                 /* job_now() в начале */
};
/* Секунды по монотонным часам. */
double job_now(void);

/* Подготовить загрузку index: временный файл в cfg->dir и easy-ручку,
   которая пишет в него. 0 или -errno (тогда причина уже напечатана, а
   job_cleanup всё равно нужен). */
int job_start(struct job *j, const struct job_config *cfg, const char *mode,
              size_t index);

/* Закончить загрузку с исходом code (why -- объяснение libcurl или
   NULL): удачную переименовать в постоянное имя, неудачную удалить, и
   напечатать строку прогресса (время от since). 0 -- картинка на
   месте, -1 -- нет. */
int job_finish(struct job *j, CURLcode code, const char *why, double since);

/* Закрыть и удалить всё, что осталось (временный файл, easy-ручку). */
void job_cleanup(struct job *j);

#endif
