/* Этот файл извлечён (tangle) из книги: book/10-sockets.nw book/d-imageserver.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "http.h"
#include "net.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static uint32_t crc_table[8][256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][n] = c;
    }
    for (int k = 1; k < 8; k++)               /* ещё один нулевой байт */
        for (int n = 0; n < 256; n++)
            crc_table[k][n] = crc_table[0][crc_table[k - 1][n] & 0xFF] ^ (crc_table[k - 1][n] >> 8);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; n -= 8, p += 8) {          /* восемь байтов за шаг */
        c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        c = crc_table[7][c & 0xFF] ^ crc_table[6][(c >> 8) & 0xFF] ^ crc_table[5][(c >> 16) & 0xFF]
            ^ crc_table[4][c >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]]
            ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    while (n-- > 0)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t adler32_of(const unsigned char *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n > 0) {
        size_t k = n < 5552 ? n : 5552;   /* столько сумм не переполнят b */
        n -= k;
        while (k-- > 0) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}
enum { STORED_MAX = 65535 };           /* байтов в одном несжатом блоке */

/* Сырые строки: байт фильтра (0) и по три байта RGB на точку. */
static size_t png_raw_size(int w, int h)
{
    return (size_t)h * (1 + 3 * (size_t)w);
}

static size_t png_size(int w, int h)
{
    size_t raw = png_raw_size(w, h);
    size_t blocks = (raw + STORED_MAX - 1) / STORED_MAX;
    size_t zlib = 2 + 5 * blocks + raw + 4;
    return 8 + (12 + 13) + (12 + zlib) + 12;
}
static unsigned char *put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

/* Чанк PNG: длина, тип, данные (уже лежат на месте), CRC типа и данных. */
static unsigned char *close_chunk(unsigned char *start, size_t len)
{
    put32(start, (uint32_t)len);
    return put32(start + 8 + len, crc32_of(start + 4, 4 + len));
}
/* Записать в out (png_size(w, h) байтов) PNG из сырых строк raw. */
static void png_encode(unsigned char *out, int w, int h, const unsigned char *raw)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    size_t n = png_raw_size(w, h);
    unsigned char *p = out, *chunk;
    memcpy(p, signature, 8);
    p += 8;
    chunk = p;                                   /* IHDR */
    memcpy(chunk + 4, "IHDR", 4);
    p = put32(put32(chunk + 8, (uint32_t)w), (uint32_t)h);
    memcpy(p, "\x08\x02\x00\x00\x00", 5);        /* 8 бит, RGB, deflate, фильтр 0, без чересстрочности */
    p = close_chunk(chunk, 13);
    chunk = p;                                   /* IDAT: поток zlib */
    memcpy(chunk + 4, "IDAT", 4);
    p = chunk + 8;
    *p++ = 0x78;                                 /* CMF: deflate, окно 32 КиБ */
    *p++ = 0x01;                                 /* FLG: 0x7801 делится на 31 */
    for (size_t off = 0; off < n;) {
        size_t k = n - off < STORED_MAX ? n - off : STORED_MAX;
        *p++ = off + k == n;                         /* BFINAL, BTYPE = 00 */
        *p++ = (unsigned char)(k & 0xFF);            /* LEN, младший байт первым */
        *p++ = (unsigned char)(k >> 8);
        *p++ = (unsigned char)(~k & 0xFF);           /* NLEN = ~LEN */
        *p++ = (unsigned char)((~k >> 8) & 0xFF);
        memcpy(p, raw + off, k);
        p += k;
        off += k;
    }
    p = put32(p, adler32_of(raw, n));
    p = close_chunk(chunk, (size_t)(p - (chunk + 8)));
    memcpy(p + 4, "IEND", 4);                    /* IEND: пустой */
    close_chunk(p, 0);
}
static uint64_t mix(uint64_t x)          /* splitmix64: номер -> «случайность» */
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* Сырые строки картинки номер serial: градиент и пять кругов. */
static void draw(unsigned char *raw, int w, int h, unsigned long serial)
{
    uint64_t r[16];
    for (int i = 0; i < 16; i++)
        r[i] = mix(serial * 16 + (uint64_t)i);
    for (int y = 0; y < h; y++) {
        unsigned char *row = raw + (size_t)y * (1 + 3 * (size_t)w);
        row[0] = 0;                              /* фильтр строки: None */
        unsigned char *px = row + 1;
        for (int c = 0; c < 3; c++)              /* фон: сверху вниз */
            px[c] = (unsigned char)((((r[0] >> (8 * c)) & 0xFF) * (uint64_t)(h - y)
                                     + ((r[1] >> (8 * c)) & 0xFF) * (uint64_t)y) / (uint64_t)h);
        for (int x = 1; x < w; x++)
            memcpy(px + 3 * x, px, 3);
        for (int k = 0; k < 5; k++) {
            long cx = (long)(r[2 + k] % (unsigned)w), cy = (long)((r[2 + k] >> 20) % (unsigned)h);
            long rad = 4 + (long)((r[2 + k] >> 40) % (unsigned)(1 + (w < h ? w : h) / 4));
            long dy = y - cy, dx = 0;
            if (dy * dy > rad * rad)
                continue;
            while ((dx + 1) * (dx + 1) + dy * dy <= rad * rad)
                dx++;                                    /* полуширина круга на этой строке */
            for (long x = cx - dx < 0 ? 0 : cx - dx; x <= cx + dx && x < w; x++)
                for (int c = 0; c < 3; c++)
                    px[3 * x + c] = (unsigned char)(r[8 + k] >> (8 * c));
        }
    }
}
enum { MAX_SIDE = 1024 };

static struct {
    double latency, jitter;       /* секунды: задержка ответа latency ± jitter */
    double idle;                  /* секунды на запрос: заголовок и тело */
    double send;                  /* секунды на отправку ответа */
} cfg = {0.250, 0.050, 5.0, 30.0};

static struct {
    unsigned long serial;         /* номер последней выданной картинки */
    unsigned long requests;       /* запросов (кроме /stats) */
    long active, peak_active;     /* запросов в работе: сейчас и пик */
    long conns, peak_conns;       /* открытых соединений: сейчас и пик */
} stats;

static double next_delay(void)
{
    static uint64_t seq;
    double u = (double)(mix(seq++ ^ (uint64_t)time(NULL)) >> 11) / 9007199254740992.0;
    double d = cfg.latency + cfg.jitter * (2 * u - 1);
    return d > 0 ? d : 0;
}
/* Миллисекунды >= 0 (не больше 10 минут) в секунды: для --latency и
   --jitter, через NET_OPT_CALL командной строки главы 1. */
static int parse_ms(void *out, const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 600000)
        return -1;
    *(double *)out = v / 1000;
    return 0;
}
/* fut, но не позже deadline (по часам цикла, aio_time): потом fut
   отменяется, а ошибка -- AIO_ETIMEDOUT. Ссылку на fut забирает. */
static aio_future *by_deadline(aio_loop *loop, aio_future *fut, double deadline)
{
    if (fut == NULL)
        return NULL;
    aio_future *w = aio_wait_for(loop, fut, deadline - aio_time(loop));
    aio_future_unref(fut);
    return w;
}
enum route_kind {
    R_REDIRECT,   /* /W/H: переадресация на новую картинку */
    R_IMAGE,      /* /cache/N_W_H.png: сама картинка */
    R_FAIL_404,   /* /404/W/H: «нет такой» */
    R_FAIL_CUT,   /* /cut/W/H: оборвать соединение посреди тела */
    R_FAIL_HANG,  /* /hang/W/H: не отвечать вовсе */
    R_STATS,      /* /stats и /stats/reset: счётчики */
    R_UNKNOWN,    /* всё остальное: 404 сразу */
    R_METHOD,     /* не GET и не HEAD: 405 */
    R_BAD         /* запрос не разобрался: status */
};

struct route {
    enum route_kind kind;
    int w, h;
    unsigned long serial;
    int reset;                   /* /stats/reset */
    int status;                  /* для R_BAD */
};
/* Совпадает ли s целиком с образцом pat, где каждое # -- десятичное
   число не больше max[i] (оно пишется в out[i]). */
static int match(const char *s, const char *pat, const unsigned long *max,
                 unsigned long *out)
{
    for (int k = 0; *pat != '\0'; pat++) {
        if (*pat != '#') {
            if (*s++ != *pat)
                return 0;
            continue;
        }
        const char *start = s;
        unsigned long v = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            unsigned long d = (unsigned long)(*s - '0');
            if (v > (max[k] - d) / 10)
                return 0;            /* больше предела: не наше число */
            v = v * 10 + d;
        }
        if (s == start)
            return 0;
        out[k++] = v;
    }
    return *s == '\0';
}
static struct route parse_route(char *target)
{
    static const unsigned long sides[] = {MAX_SIDE, MAX_SIDE};
    static const unsigned long cached[] = {999999999, MAX_SIDE, MAX_SIDE};
    struct route r = {.kind = R_UNKNOWN};
    unsigned long v[3];
    char *q = strchr(target, '?');
    if (q != NULL)
        *q = '\0';
    if (strcmp(target, "/stats") == 0 || strcmp(target, "/stats/reset") == 0)
        return (struct route){.kind = R_STATS, .reset = target[6] != '\0'};
    if (match(target, "/cache/#_#_#.png", cached, v))
        r = (struct route){R_IMAGE, (int)v[1], (int)v[2], v[0], 0, 0};
    else if (match(target, "/#/#", sides, v))
        r = (struct route){R_REDIRECT, (int)v[0], (int)v[1], 0, 0, 0};
    else if (match(target, "/404/#/#", sides, v))
        r = (struct route){R_FAIL_404, (int)v[0], (int)v[1], 0, 0, 0};
    else if (match(target, "/cut/#/#", sides, v))
        r = (struct route){R_FAIL_CUT, (int)v[0], (int)v[1], 0, 0, 0};
    else if (strncmp(target, "/hang", 5) == 0)
        r.kind = R_FAIL_HANG;
    if (r.kind != R_FAIL_HANG && r.kind != R_UNKNOWN && (r.w < 1 || r.h < 1))
        r.kind = R_UNKNOWN;          /* сторона 0 */
    return r;
}
/* Заголовок ответа и body_len байтов тела (само тело -- забота
   вызвавшего) в новом буфере; длина заголовка -- в *head_len. */
static unsigned char *reply(int status, const char *extra, const char *type,
                            size_t body_len, int keep, size_t *head_len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n\r\n",
                     status, http_reason(status), extra, type, body_len,
                     keep ? "keep-alive" : "close");
    unsigned char *out = malloc((size_t)n + body_len + 1);
    if (out != NULL)
        memcpy(out, head, (size_t)n + 1);
    *head_len = (size_t)n;
    return out;
}
/* Весь ответ на запрос r: буфер из malloc, его длина в *len. */
static unsigned char *respond(const struct route *r, int keep, size_t *len)
{
    char text[512];
    size_t head = 0;
    unsigned char *out;
    switch (r->kind) {
    case R_REDIRECT:
        snprintf(text, sizeof text, "Location: /cache/%06lu_%d_%d.png\r\n",
                 ++stats.serial, r->w, r->h);
        out = reply(302, text, "text/plain", 0, keep, &head);
        *len = head;
        return out;
    case R_IMAGE:
    case R_FAIL_CUT:
        {
            static unsigned char raw[MAX_SIDE * (1 + 3 * MAX_SIDE)];  /* сырые строки: одни на всех */
            size_t size = png_size(r->w, r->h);
            out = reply(200, "", "image/png", size, keep, &head);
            if (out != NULL) {
                draw(raw, r->w, r->h, r->kind == R_IMAGE ? r->serial : ++stats.serial);
                png_encode(out + head, r->w, r->h, raw);
            }
            *len = head + (r->kind == R_FAIL_CUT ? size / 2 : size);
            return out;
        }
    case R_STATS:
        snprintf(text, sizeof text, "requests %lu\nactive %ld\npeak_active %ld\n"
                 "connections %ld\npeak_connections %ld\n", stats.requests, stats.active,
                 stats.peak_active, stats.conns, stats.peak_conns);
        if (r->reset) {                          /* счёт заново с этой минуты */
            stats.requests = 0;
            stats.peak_active = stats.active;
            stats.peak_conns = stats.conns;
        }
        break;
    case R_METHOD:
        snprintf(text, sizeof text, "Method not allowed\n");
        break;
    case R_BAD:
        snprintf(text, sizeof text, "%d %s\n", r->status, http_reason(r->status));
        break;
    default:
        snprintf(text, sizeof text, "Not found\n");
    }
    int status = r->kind == R_STATS ? 200 : r->kind == R_METHOD ? 405
                 : r->kind == R_BAD ? r->status : 404;
    out = reply(status, status == 405 ? "Allow: GET, HEAD\r\n" : "", "text/plain",
                strlen(text), keep, &head);
    if (out != NULL)
        memcpy(out + head, text, strlen(text));
    *len = head + strlen(text);
    return out;
}
struct conn {
    aio_loop *loop;
    int fd;
    size_t len;                  /* байтов в buf */
    double deadline;             /* срок, к которому запрос должен прийти */
    int keep, counted;           /* держать соединение; запрос учтён в active */
    int head_only;               /* HEAD: ответить без тела */
    struct http_parser parser;
    struct http_request req;
    struct route route;
    unsigned char *out;          /* ответ целиком */
    size_t out_len;
    gen_value r;
    gen_error err;
    char buf[HTTP_HEAD_MAX];
};

/* Убрать из начала buf n байтов, уже разобранных. */
static void consume(struct conn *f, size_t n)
{
    memmove(f->buf, f->buf + n, f->len - n);
    f->len -= n;
}

static void request_begin(struct conn *f)
{
    f->counted = 1;
    stats.requests++;
    if (++stats.active > stats.peak_active)
        stats.peak_active = stats.active;
}

static void request_end(struct conn *f)
{
    if (f->counted)
        stats.active--;
    f->counted = 0;
}
static int conn_body(gen *g)
{
    struct conn *f = gen_locals(g);
    GEN_BEGIN(g);
    if (++stats.conns > stats.peak_conns)
        stats.peak_conns = stats.conns;
    for (;;) {
        f->deadline = aio_time(f->loop) + cfg.idle;
        http_parser_init(&f->parser, &f->req);
        while (http_parse_head(&f->parser, f->buf, f->len) == HTTP_MORE) {
            AIO_AWAIT_NEW_CATCH(g, f->r, f->err, by_deadline(f->loop, aio_sock_recv(f->loop, f->fd, f->buf + f->len, sizeof f->buf - f->len), f->deadline));
            if (f->err.code != 0 || f->r.i == 0)
                GEN_RETURN(g, gen_none()); /* срок, отмена, ошибка или EOF */
            f->len += (size_t)f->r.i;
        }
        if (f->parser.status == 0)
            consume(f, http_head_length(&f->parser));
        while (f->parser.status == 0 && !http_body_done(&f->parser)) {
            long used = http_skip_body(&f->parser, f->buf, f->len);
            if (used < 0)
                break;                      /* ошибка в теле: ответим о ней */
            consume(f, (size_t)used);
            if (http_body_done(&f->parser))
                break;
            AIO_AWAIT_NEW_CATCH(g, f->r, f->err, by_deadline(f->loop, aio_sock_recv(f->loop, f->fd, f->buf, sizeof f->buf), f->deadline));
            if (f->err.code != 0 || f->r.i == 0)
                GEN_RETURN(g, gen_none());
            f->len = (size_t)f->r.i;
        }
        if (f->parser.status != 0) {
            f->route = (struct route){.kind = R_BAD, .status = f->parser.status};
            f->keep = 0;
        } else {
            f->head_only = strcmp(f->req.method, "HEAD") == 0;
            if (strcmp(f->req.method, "GET") != 0 && !f->head_only)
                f->route = (struct route){.kind = R_METHOD};
            else
                f->route = parse_route(f->req.target);
            f->keep = f->req.keep_alive;
        }
        if (f->route.kind == R_FAIL_HANG) {
            request_begin(f);
            do
                AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sock_recv(f->loop, f->fd, f->buf, sizeof f->buf));
            while (f->err.code == 0 && f->r.i > 0);
            GEN_RETURN(g, gen_none());
        }
        if (f->route.kind < R_STATS) {           /* картинки и поломки */
            request_begin(f);
            AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, next_delay()));
        }
        f->out = respond(&f->route, f->keep, &f->out_len);
        if (f->out == NULL)
            GEN_RAISE(g, -ENOMEM, "no memory for a reply");
        if (f->head_only)
            f->out_len = (size_t)(strstr((char *)f->out, "\r\n\r\n") + 4 - (char *)f->out);
        AIO_AWAIT_NEW_CATCH(g, f->r, f->err, by_deadline(f->loop, aio_sock_sendall(f->loop, f->fd, f->out, f->out_len), aio_time(f->loop) + cfg.send));
        free(f->out);
        f->out = NULL;
        request_end(f);
        if (f->err.code != 0 || f->route.kind == R_FAIL_CUT || !f->keep)
            break;
    }
    GEN_FINALLY(g);
    free(f->out);
    request_end(f);
    stats.conns--;
    aio_close(f->loop, f->fd);
    GEN_END(g);
}
static gen *new_conn(int fd, void *arg)
{
    return gen_new(conn_body, &(struct conn){.loop = arg, .fd = fd}, sizeof(struct conn));
}

struct serve {
    aio_loop *loop;
    int port;
    aio_server *srv;
    gen_value r;
};

static int serve_body(gen *g)
{
    struct serve *f = gen_locals(g);
    int rc;
    char note[128];
    GEN_BEGIN(g);
    rc = aio_start_server(f->loop, "127.0.0.1", f->port, new_conn, f->loop, &f->srv);
    if (rc < 0)
        GEN_RAISE(g, rc, "cannot listen on 127.0.0.1:%d: %s", f->port, strerror(-rc));
    snprintf(note, sizeof note, "images at /WIDTH/HEIGHT, latency %.0f +- %.0f ms",
             cfg.latency * 1000, cfg.jitter * 1000);
    net_say_listening("http", f->port, note);
    AIO_AWAIT_NEW(g, f->r, aio_future_new(f->loop));   /* до сигнала */
    GEN_FINALLY(g);
    aio_server_close(f->srv);
    GEN_END(g);
}
int main(int argc, char **argv)
{
    int port = 5002, status;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5002)"},
        {.name = "latency", .kind = NET_OPT_CALL, .value = &cfg.latency, .arg = "MS",
         .help = "delay of every reply, ms (default 250)", .call = parse_ms},
        {.name = "jitter", .kind = NET_OPT_CALL, .value = &cfg.jitter, .arg = "MS",
         .help = "the delay varies by +- this, ms (default 50)", .call = parse_ms},
        {.name = "idle-timeout", .kind = NET_OPT_SECONDS, .value = &cfg.idle, .arg = "S",
         .help = "seconds a client may take over a request (default 5)"},
        {.name = "send-timeout", .kind = NET_OPT_SECONDS, .value = &cfg.send, .arg = "S",
         .help = "seconds a client may take to read a reply (default 30)"},
        TRACE_OPTION,
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N] [--latency MS] [--jitter MS] "
                       "[--idle-timeout S] [--send-timeout S]", opts, 0, &status) < 0)
        return status;
    setvbuf(stdout, NULL, _IOLBF, 0);
    net_raise_open_files_limit();
    crc_init();
    aio_loop *loop;
    int rc = aio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "aio_loop_new: %s\n", strerror(-rc));
        return 1;
    }
    gen_result r;
    rc = aio_run(loop, gen_new(serve_body, &(struct serve){.loop = loop, .port = port},
                               sizeof(struct serve)), &r);
    aio_loop_free(loop);
    fprintf(stderr, "imageserver: %lu requests, peak %ld at once, peak %ld connections\n",
            stats.requests, stats.peak_active, stats.peak_conns);
    if (rc != 0 && rc != AIO_ECANCELLED) {
        fprintf(stderr, "imageserver: %s\n", r.error.msg);
        return 1;
    }
    net_say_stopped();
    return 0;
}
