/* tests/download_common.h — what the two suites of chapter 11's downloader
 * share (test_download.c, test_download_hostile.c): the image server under
 * test, a scratch directory, counting lines. Static functions, included by
 * each suite (the Makefile builds a suite from its own file). */
#ifndef TESTS_DOWNLOAD_COMMON_H
#define TESTS_DOWNLOAD_COMMON_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

/* The book's image server on a free port, latency_ms per answer, no jitter. */
static void start_server(struct sup_server *s, const char *latency_ms)
{
    char *args[] = {"--latency", (char *)latency_ms, "--jitter", "0", NULL};
    assert_int_equal(sup_server_start(s, "images-imageserver", "imageserver", args, 5000), 0);
}

/* SIGTERM: it exits with 0 and prints its summary. */
static void stop_server(struct sup_server *s)
{
    assert_int_equal(sup_stop(s->pid, 5000), 0);
    char *log = sup_read_file(s->log);
    assert_non_null(log);
    assert_non_null(strstr(log, "imageserver: "));    /* the summary at exit */
    free(log);
    unlink(s->log);
}

/* A fresh directory under TMPDIR named after tag. */
static void make_dir(char *dir, size_t cap, const char *tag)
{
    sup_tmp_path(dir, cap, tag);
    assert_int_equal(mkdir(dir, 0755), 0);
}

/* Remove dir and every file in it, hidden ones too. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

#endif
