/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "job.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    struct job_config cfg = {.urls = {n > 1 ? arg[1] : "http://127.0.0.1:5002/320/240"},
                             .nurls = 1, .dir = n > 2 ? arg[2] : "images",
                             .timeout_ms = 30000};
    if (*end != '\0' || count == 0 || count > 100000) {
        fprintf(stderr, "usage: %s [COUNT [URL [DIR]]]\n", argv[0]);
        return 2;
    }
    if (mkdir(cfg.dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "mkdir %s: %s\n", cfg.dir, strerror(errno));
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct job *jobs = calloc(count, sizeof *jobs);
    CURLM *multi = curl_multi_init();
    size_t failed = 0;
    double t0 = job_now();
    for (size_t i = 0; i < count; i++) {
        if (job_start(&jobs[i], &cfg, "multi", i) < 0) {
            job_finish(&jobs[i], CURLE_FAILED_INIT, NULL, t0);
            failed++;
            continue;
        }
        curl_easy_setopt(jobs[i].easy, CURLOPT_PRIVATE, &jobs[i]);
        curl_multi_add_handle(multi, jobs[i].easy);
    }
    for (;;) {
        int running = 0;
        CURLMcode rc = curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct job *j;
            CURLcode code = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (void **)&j);
            curl_multi_remove_handle(multi, j->easy);
            if (job_finish(j, code, j->errbuf, t0) < 0)
                failed++;
        }
        if (rc != CURLM_OK || running == 0)
            break;
        curl_multi_poll(multi, NULL, 0, 1000, NULL);   /* ждать сокеты libcurl */
    }
    printf("Multi total time: %.3f sec.\n", job_now() - t0);
    for (size_t i = 0; i < count; i++)
        job_cleanup(&jobs[i]);
    curl_multi_cleanup(multi);
    free(jobs);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
