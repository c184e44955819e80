/* Этот файл извлечён (tangle) из книги: book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef SELECTOR_H
#define SELECTOR_H

#include <stddef.h>

enum {
    SELECTOR_READ = 1,  /* готов к чтению: EVENT_READ в Python */
    SELECTOR_WRITE = 2, /* готов к записи: EVENT_WRITE */
    SELECTOR_ERROR = 4  /* только в ответе: ошибка или обрыв (POLLERR, POLLHUP) */
};
typedef struct selector selector;

typedef struct selector_key {
    int fd;      /* наблюдаемый дескриптор */
    int events;  /* что нас интересует: SELECTOR_READ | SELECTOR_WRITE */
    void *data;  /* что угодно вызывающему; селектор его не трогает */
} selector_key;

typedef struct selector_event {
    int fd;      /* готовый дескриптор */
    int events;  /* что именно готово (подмножество интересующего) */
    void *data;  /* data из ключа на момент ожидания */
} selector_event;
/* Имя i-го доступного бэкенда (0 -- лучший) или NULL за концом списка. */
const char *selector_backend_at(size_t i);

/* Новый селектор в *out. backend -- имя ("epoll", "poll", "select",
   "kqueue") или NULL: тогда $SELECTOR_BACKEND, если задана, иначе
   лучший из запустившихся. 0, -EINVAL (нет такого бэкенда), -ENOMEM
   или ошибка системного вызова (-EMFILE...). */
int selector_new(selector **out, const char *backend);

/* Освобождает селектор. Зарегистрированные дескрипторы не закрывает. */
void selector_free(selector *s);

const char *selector_backend_name(const selector *s);
/* Начать следить за fd. 0 или: -EBADF (fd отрицателен или закрыт),
   -EINVAL (events пусто или с лишними битами), -EEXIST (fd уже
   зарегистрирован), -ERANGE (бэкенд select: fd >= FD_SETSIZE),
   -EPERM (epoll: обычный файл), -ENOMEM. */
int selector_register(selector *s, int fd, int events, void *data);

/* Поменять события и data. 0, -ENOENT (fd не зарегистрирован), -EINVAL. */
int selector_modify(selector *s, int fd, int events, void *data);

/* Перестать следить. 0 или -ENOENT. Работает и для уже закрытого fd,
   но правило книги: сначала unregister, потом close. */
int selector_unregister(selector *s, int fd);

/* Ключ fd или NULL. Указатель живёт до следующего register/unregister. */
const selector_key *selector_get_key(const selector *s, int fd);

size_t selector_count(const selector *s);
/* Ждать, пока хоть один дескриптор станет готов, но не дольше
   timeout_ms (0 -- только проверить, -1 -- сколько угодно). Пишет
   до cap событий в ready и возвращает их число (0 -- тайм-аут; изредка
   раньше срока, если ядро сообщило только о снятых дескрипторах),
   либо -EINTR (прерван сигналом), -EINVAL (cap < 1), -EBADF
   (бэкенд select: среди наблюдаемых есть закрытый дескриптор). */
int selector_select(selector *s, selector_event *ready, int cap,
                    int timeout_ms);

#endif
