/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "job.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Занять место j следующей загрузкой; 1 -- занято, 0 -- загрузок больше нет. */
static int start_next(CURLM *multi, struct job_run *run, struct job *j, size_t *next)
{
    while (*next < run->count) {
        if (job_start(j, run, (*next)++) == 0) {
            curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
            curl_multi_add_handle(multi, j->easy);
            return 1;
        }
        job_finish(j, CURLE_FAILED_INIT, j->errbuf);
        job_cleanup(j);
    }
    return 0;
}
int main(int argc, char **argv)
{
    int status, first = net_parse_args(argc, argv, "[COUNT [URL [DIR]]]",
                                       (const struct net_option[]){{0}}, 3, &status);
    if (first < 0)
        return status;              /* --help или опечатка: глава 1 */
    setvbuf(stdout, NULL, _IOLBF, 0);
    char **arg = argv + first;
    int n = argc - first;
    char *end = "";
    size_t count = n > 0 ? strtoul(arg[0], &end, 10) : 10;
    struct job_config cfg;
    job_config_init(&cfg);
    cfg.urls[cfg.nurls++] = n > 1 ? arg[1] : "http://127.0.0.1:5002/320/240";
    cfg.dir = n > 2 ? arg[2] : "images";
    if (*end != '\0' || count == 0 || count > 100000) {
        fprintf(stderr, "usage: %s [COUNT [URL [DIR]]]\n", argv[0]);
        return 2;
    }
    if (mkdir(cfg.dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "mkdir %s: %s\n", cfg.dir, strerror(errno));
        return 1;
    }
    net_raise_open_files_limit();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    size_t limit = job_limit(count, 0), next = 0, active = 0;
    struct job *slots = calloc(limit, sizeof *slots);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)limit);
    struct job_run run;
    job_run_begin(&run, &cfg, "multi", count);
    for (size_t k = 0; k < limit; k++)
        active += start_next(multi, &run, &slots[k], &next);
    while (active > 0) {
        int running, left;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct job *j;
            CURLcode code = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (void **)&j);
            curl_multi_remove_handle(multi, j->easy);
            job_finish(j, code, j->errbuf);
            job_cleanup(j);
            active += start_next(multi, &run, j, &next) - 1;
        }
        if (active > 0)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);   /* ждать сокеты libcurl */
    }
    size_t failed = job_run_end(&run);
    curl_multi_cleanup(multi);
    free(slots);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
