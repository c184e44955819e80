/* Этот файл извлечён (tangle) из книги: book/12-fetch.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef FETCH_H
#define FETCH_H

#include <curl/curl.h>

#include "aio.h"

typedef struct fetch fetch;

/* Мультиинтерфейс libcurl, которым управляет цикл loop: его сокеты
   -- читатели и писатели цикла, его тайм-аут -- таймер цикла.
   curl_global_init -- дело программы. 0 и *out, -ENOMEM или -EIO
   (libcurl не создала или не настроила мультиинтерфейс). */
int fetch_new(aio_loop *loop, fetch **out);

/* Снять все незавершённые передачи (их Future отменяются), закрыть
   соединения libcurl и освободить всё. Звать, когда цикл больше не
   будет крутиться, но ещё не освобождён: после aio_run, до
   aio_loop_free. */
void fetch_free(fetch *fx);

/* Мультиинтерфейс, чтобы настроить его (CURLMOPT_MAX_HOST_CONNECTIONS...). */
CURLM *fetch_multi(fetch *fx);
enum { FETCH_ECURL = -20001 };  /* libcurl вернула ошибку, кроме описанных */

/* Начать передачу easy (уже настроенную curl_easy_setopt) и вернуть
   Future, который завершится вместе с ней: результат gen_int(0), или
   ошибка с кодом -ETIMEDOUT (CURLE_OPERATION_TIMEDOUT), -ECONNREFUSED
   (CURLE_COULDNT_CONNECT), -ENOMEM или FETCH_ECURL; в payload --
   gen_int(CURLcode), в msg -- объяснение libcurl. Пока передача идёт,
   fetch занимает у easy CURLOPT_PRIVATE и CURLOPT_ERRORBUFFER. easy
   остаётся у вызвавшего. NULL -- нет памяти. */
aio_future *fetch_perform(fetch *fx, CURL *easy);

/* Снять передачу easy, если она ещё идёт; её Future отменяется.
   1 -- сняли, 0 -- передачи не было. Звать перед curl_easy_cleanup
   всегда, когда Future мог не завершиться (например, в GEN_FINALLY
   отменённой задачи). */
int fetch_remove(fetch *fx, CURL *easy);
struct fetch_stats {
    unsigned long actions;  /* вызовов curl_multi_socket_action */
    unsigned long timeouts; /* из них по таймеру (CURL_SOCKET_TIMEOUT) */
    unsigned long in, out, err; /* вызовов с CURL_CSELECT_IN, _OUT, _ERR */
    int running;            /* передач в работе после последнего вызова */
    int sockets;            /* сокетов, о которых сейчас сказала libcurl */
    int timer;              /* 1 -- таймер libcurl взведён на цикле */
};

void fetch_get_stats(const fetch *fx, struct fetch_stats *st);

#endif
