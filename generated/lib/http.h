/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

enum {
    HTTP_HEAD_MAX = 8192,    /* заголовок запроса -- меньше этого */
    HTTP_LINE_MAX = 4096,    /* одна строка заголовка -- меньше этого */
    HTTP_FIELDS_MAX = 64,    /* строк заголовка -- не больше */
    HTTP_METHOD_MAX = 16,    /* "GET", "POST", ... с нулём в конце */
    HTTP_TARGET_MAX = 2048,  /* "/blog?page=2" с нулём в конце */
    HTTP_BODY_MAX = 1 << 20  /* тело, которое мы согласны прочесть */
};
enum http_framing {
    HTTP_NO_BODY,   /* тела нет */
    HTTP_LENGTH,    /* тело -- content_length байтов */
    HTTP_CHUNKED    /* тело кусками: Transfer-Encoding: chunked */
};

struct http_field {
    unsigned short name, name_len, value, value_len; /* смещения в буфере */
};

struct http_request {
    char method[HTTP_METHOD_MAX];
    char target[HTTP_TARGET_MAX];  /* путь и запрос: "/blog?page=2" */
    int minor;                     /* HTTP/1.0 -- 0, HTTP/1.1 -- 1 */
    int keep_alive;                /* соединение переживёт ответ */
    enum http_framing framing;
    unsigned long content_length;  /* для HTTP_LENGTH */
    int nfields;
    struct http_field fields[HTTP_FIELDS_MAX];
};
struct http_parser {
    struct http_request *req;  /* куда писать разобранное */
    int state;                 /* где мы в запросе */
    int next;                  /* куда идти после \n, если был \r */
    size_t pos;                /* сколько байтов заголовка уже просмотрено */
    size_t mark;               /* начало текущего слова или строки */
    size_t name_end, value, value_end;  /* текущая строка заголовка */
    unsigned long left;        /* тело: сколько байтов ещё пропустить */
    unsigned long body;        /* тело кусками: байтов всего */
    int digits;                /* цифр в размере куска */
    size_t line;               /* тело: длина текущей строки куска */
    int hosts, lengths;        /* сколько строк Host и Content-Length */
    int te, te_chunked, te_other, te_bad;  /* Transfer-Encoding: был; chunked
                                           последний; другие; что-то после chunked */
    int conn_close, conn_keep; /* Connection: close, keep-alive */
    int status;                /* ошибка: 400, 413, 414, 431, 501, 505 */
    const char *why;           /* ...и её объяснение */
};
typedef const char *(*http_view)(const struct http_request *req);

struct http_route {
    const char *path;  /* "/blog"; NULL в последней строке таблицы */
    http_view view;
};

struct http_reply {
    int status;         /* 200, 400, 404, 405, ... */
    const char *body;   /* страница; NULL: тело ошибки по status и detail */
    const char *detail; /* для ошибок: что не так с запросом */
    int head_only;      /* ответ на HEAD: заголовок без тела */
};
enum { HTTP_ERROR = -1, HTTP_MORE = 0, HTTP_DONE = 1 };

/* Подготовить разборщик к новому запросу; разобранное пойдёт в req. */
void http_parser_init(struct http_parser *p, struct http_request *req);

/* Продолжить разбор заголовка. buf[0..len) -- все байты этого запроса,
 * пришедшие до сих пор (len только растёт); просмотренные в прошлый раз
 * не смотрятся снова. HTTP_MORE -- нужно ещё; HTTP_DONE -- заголовок
 * целиком, его длина http_head_length(p); HTTP_ERROR -- ответить
 * p->status (объяснение в p->why) и закрыть соединение. */
int http_parse_head(struct http_parser *p, const char *buf, size_t len);

size_t http_head_length(const struct http_parser *p);

/* После HTTP_DONE: пропустить тело. data[0..len) -- следующие байты
 * соединения. Возвращает, сколько из них принадлежит телу (остальное --
 * следующий запрос), или HTTP_ERROR (тогда p->status, p->why). */
long http_skip_body(struct http_parser *p, const char *data, size_t len);

/* 1, когда тело кончилось (или его не было). */
int http_body_done(const struct http_parser *p);

/* Значение строки заголовка name (без учёта регистра) в буфере head, где
 * разбирался запрос; длина в *len. NULL, если такой строки нет. */
const char *http_header(const struct http_request *req, const char *head,
                        const char *name, size_t *len);
/* Маршрут для цели запроса (часть после '?' не учитывается) или NULL. */
const struct http_route *http_find_route(const struct http_route *routes,
                                         const char *target);

/* Решить, что ответить на разобранный запрос req. */
void http_route(const struct http_route *routes,
                const struct http_request *req, struct http_reply *reply);

/* Ответ на запрос, который не разобрался: p->status и p->why. */
void http_error_reply(const struct http_parser *p, struct http_reply *reply);
/* Стандартная фраза кода статуса: 404 -> "Not Found". */
const char *http_reason(int status);

/* Тело страницы ошибки: маленькая страница HTML с кодом и объяснением.
 * Длина или -ENOSPC. */
int http_error_body(char *buf, size_t cap, int status, const char *detail);

/* Строка статуса и заголовки ответа с телом длины body_len, с пустой
 * строкой в конце; keep_alive -- соединение после ответа останется
 * открытым. Длина или -ENOSPC. */
int http_format_head(char *buf, size_t cap, int status, size_t body_len,
                     int keep_alive);

/* Ответ целиком (заголовок и тело, у HEAD -- без тела) в out[0..cap).
 * Длина или -ENOSPC. */
int http_format_reply(char *out, size_t cap, const struct http_reply *reply,
                      int keep_alive);

/* Отправить ответ целиком и сказать "Connection: close". 0 или -errno. */
int http_send_reply(int fd, const struct http_reply *reply);

#endif
