/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw book/03-select.nw book/05-generators.nw book/c-parsing.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef NET_H
#define NET_H

#include <stddef.h>

/* Длина буфера, в который net_peer_name пишет адрес клиента. */
enum { NET_PEER_NAME_MAX = 64 };

/* Слушающий TCP-сокет на host:port (host — IPv4-адрес вроде "127.0.0.1",
 * "localhost" или NULL для всех адресов): socket, SO_REUSEADDR, bind,
 * listen. Возвращает дескриптор или -errno; что именно не удалось,
 * печатает в stderr. */
int net_listen(const char *host, int port);

/* Отправить все len байтов, повторяя send после частичной записи и EINTR.
 * Флаг MSG_NOSIGNAL: ушедший клиент даёт -EPIPE, а не смерть процесса
 * от SIGPIPE. Возвращает 0 или -errno. Для блокирующих сокетов. */
int net_send_all(int fd, const void *buf, size_t len);

/* Адрес собеседника в виде, в каком его печатает Python:
 * "('127.0.0.1', 54321)". Пишет в buf (cap байтов) и возвращает buf. */
const char *net_peer_name(int fd, char *buf, size_t cap);
/* accept() на слушающем сокете; повторяет его после ECONNABORTED (клиент
 * ушёл, не дождавшись) и после EINTR, если остановку не просили.
 * Возвращает дескриптор клиентского сокета или -errno (-EINTR: пора
 * останавливаться). */
int net_accept(int listen_fd);

/* Закрыть соединение после ответа так, чтобы ответ дошёл: shutdown на
 * запись, дочитать и выбросить то, что клиент ещё шлёт (не больше 64 КиБ
 * и не дольше секунды), close. Возвращает 0 или -errno от close. */
int net_close_after_reply(int fd);

/* Монотонные часы (CLOCK_MONOTONIC) в секундах: для сроков. */
double net_now(void);

/* SIGINT и SIGTERM только взводят флаг (и прерывают блокирующий вызов с
 * EINTR), SIGPIPE игнорируется. Возвращает 0 или -errno. */
int net_catch_stop_signals(void);

/* 1, если пришёл SIGINT или SIGTERM, иначе 0. */
int net_stop_requested(void);
/* Поднять мягкий предел открытых файлов (RLIMIT_NOFILE) до жёсткого, но
 * не выше 65536; если setrlimit отказал, сказать об этом в stderr.
 * Возвращает 0 или -errno. */
int net_raise_open_files_limit(void);
/* Перевести дескриптор в неблокирующий режим (O_NONBLOCK): recv, send
 * и accept, которым нечего делать, сразу возвращают -1 с EAGAIN вместо
 * того, чтобы ждать. Возвращает 0 или -errno. */
int net_set_nonblocking(int fd);
/* Текст любой ошибки книги: code -- -errno или собственный код модуля
   (GEN_E*, FETCH_ECURL). Строка статическая: не освобождать. */
const char *net_strerror(int code);
enum net_opt_kind {
    NET_OPT_FLAG,    /* --name: *(int *)value = 1 */
    NET_OPT_PORT,    /* --name N: *(int *)value, 1..65535; умолчание -- из PORT */
    NET_OPT_LONG,    /* --name N: *(long *)value, от min до max */
    NET_OPT_SECONDS, /* --name S: *(double *)value, больше 0, не больше max */
    NET_OPT_TEXT,    /* --name TEXT: *(const char **)value */
    NET_OPT_CALL     /* --name TEXT: call(value, TEXT), 0 или -1 */
};

struct net_option {
    const char *name;      /* "port"; NULL в последней строке таблицы */
    enum net_opt_kind kind;
    void *value;
    const char *arg;       /* "N" в подсказке; NULL у флага */
    const char *help;      /* что это, одной строкой */
    long min, max;         /* NET_OPT_LONG; у NET_OPT_SECONDS -- max, 0: любое */
    int (*call)(void *value, const char *text);
};

/* Разобрать argv по таблице opts (getopt_long). usage -- строка после
 * имени программы в подсказке ("[--port N]"). Позиционных аргументов --
 * не больше max_positional. Возвращает индекс первого позиционного
 * аргумента (argc, если их нет) или -1: программе пора выйти с кодом
 * *exit_status (0 после --help, 2 после ошибки; подсказка напечатана). */
int net_parse_args(int argc, char **argv, const char *usage,
                   const struct net_option *opts, int max_positional,
                   int *exit_status);

/* Строки, которыми сервер начинает и кончает работу, одни на всю книгу:
 * "Listening on http://127.0.0.1:5000/ (Ctrl+C to stop)" (scheme NULL --
 * без "http://" и "/"; note -- пояснение в скобках перед "Ctrl+C") и
 * "Stopped." */
void net_say_listening(const char *scheme, int port, const char *note);
void net_say_stopped(void);

#endif
