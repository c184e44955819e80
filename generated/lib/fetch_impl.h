/* Этот файл извлечён (tangle) из книги: book/12-fetch.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef FETCH_IMPL_H
#define FETCH_IMPL_H

#include "fetch.h"

/* Колбэки, которые fetch отдаёт libcurl (CURLMOPT_SOCKETFUNCTION и
   CURLMOPT_TIMERFUNCTION). Открыты только для тестов: программа их
   не зовёт. */
int fetch__on_socket(CURL *easy, curl_socket_t s, int what, void *fx,
                     void *socketp);
int fetch__on_timer(CURLM *multi, long timeout_ms, void *fx);

/* За чем fetch следит на дескрипторе fd: CURL_POLL_IN, _OUT, _INOUT;
   CURL_POLL_NONE -- сокет известен, но ждать нечего; -1 -- не известен. */
int fetch__watching(const fetch *fx, int fd);

#endif
