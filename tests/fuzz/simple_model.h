/* tests/fuzz/simple_model.h — an exact oracle for a simple class of inputs,
 * written from RFC 9112 and not from the servers' code: a stream of requests
 *
 *     (GET|HEAD|POST) SP /path SP HTTP/1.1 CRLF
 *     Host: name CRLF
 *     [Content-Length: N CRLF]       N <= 99999, followed by N bytes of body
 *     [Connection: close CRLF]
 *     CRLF
 *
 * The body is arbitrary bytes — a whole request included: whatever it holds,
 * it is body, and it must never be answered (request smuggling). The model
 * says which requests the server answers and whether it closes after each;
 * the caller maps the request to a status. An input that leaves the class
 * gets no exact verdict (the property checks of conn_harness.h still apply).
 * A stream that ends inside a request: no reply to that request. */
#ifndef FUZZ_SIMPLE_MODEL_H
#define FUZZ_SIMPLE_MODEL_H

#include <string.h>

struct simple_req {
    char method[8];
    char path[256];    /* without the query */
    int close;
};

/* s[*i..n) starts with word: advance past it. 0 if not (or if s ends inside
   it: *ended is set then). */
static int simple_lit(const uint8_t *s, size_t n, size_t *i, const char *word, int *ended)
{
    size_t k = strlen(word);
    size_t have = n - *i < k ? n - *i : k;
    if (memcmp(s + *i, word, have) != 0)
        return 0;
    if (have < k) {
        *ended = 1;
        return 0;
    }
    *i += k;
    return 1;
}

/* Characters allowed in the class: a run of at least one of set, then stop. */
static size_t simple_run(const uint8_t *s, size_t n, size_t *i, const char *set, size_t max)
{
    size_t start = *i;
    while (*i < n && *i - start < max && s[*i] != 0 && strchr(set, s[*i]))
        (*i)++;
    return *i - start;
}

/* Parse the stream: fills req[0..*count) with the requests that must be
   answered, in order. Returns 1 if the input is in the class, 0 if not. */
static int simple_model(const uint8_t *s, size_t n, struct simple_req *req, size_t max,
                        size_t *count)
{
    static const char path_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789/?=&._-";
    size_t i = 0;
    int ended = 0;
    *count = 0;
    while (i < n && *count < max) {
        struct simple_req r = {{0}, {0}, 0};
        static const char *const methods[] = {"GET ", "HEAD ", "POST "};
        int m = -1;
        for (int k = 0; k < 3 && m < 0 && !ended; k++)
            if (simple_lit(s, n, &i, methods[k], &ended))
                m = k;
        if (ended)
            return 1;
        if (m < 0)
            return 0;
        memcpy(r.method, methods[m], strlen(methods[m]) - 1);
        size_t p0 = i;
        if (!simple_lit(s, n, &i, "/", &ended))
            return ended;
        simple_run(s, n, &i, path_chars, 200);
        if (i == n)
            return 1;
        size_t plen = 0;           /* the path without the query */
        while (p0 + plen < i && s[p0 + plen] != '?')
            plen++;
        memcpy(r.path, s + p0, plen);
        if (!simple_lit(s, n, &i, " HTTP/1.1\r\nHost: ", &ended))
            return ended;
        if (simple_run(s, n, &i, "abcdefghijklmnopqrstuvwxyz0123456789.:", 64) == 0)
            return i == n;
        if (!simple_lit(s, n, &i, "\r\n", &ended))
            return ended;
        unsigned long length = 0;
        if (simple_lit(s, n, &i, "Content-Length: ", &ended)) {
            size_t d0 = i;
            if (simple_run(s, n, &i, "0123456789", 5) == 0)
                return i == n;
            for (size_t k = d0; k < i; k++)
                length = length * 10 + (unsigned long)(s[k] - '0');
            if (!simple_lit(s, n, &i, "\r\n", &ended))
                return ended;
        }
        if (ended)
            return 1;
        if (simple_lit(s, n, &i, "Connection: close\r\n", &ended))
            r.close = 1;
        if (ended)
            return 1;
        if (!simple_lit(s, n, &i, "\r\n", &ended))
            return ended;
        if (n - i < length)
            return 1;                  /* the body never ends: no reply */
        i += length;
        req[(*count)++] = r;
        if (r.close)
            return 1;
    }
    return 1;
}

#endif
