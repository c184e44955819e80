/* Этот файл извлечён (tangle) из книги: book/a-measurements.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef TRACE_H
#define TRACE_H

/* Трасса в формате Trace Event (JSON) для Perfetto и chrome://tracing.
   Одна на процесс: открыть, писать события, закрыть. Пока трасса не
   открыта, trace_enabled == 0, и макрос TRACE стоит одного сравнения. */
extern int trace_enabled;

#define TRACE(call)                                                      \
    do {                                                                 \
        if (trace_enabled)                                               \
            trace_##call;                                                \
    } while (0)

/* Начать трассу в файле path. 0 или -errno; -EBUSY, если уже открыта. */
int trace_open(const char *path);

/* Дописать и закрыть. 0 или -errno (ошибка записи где-то по пути). */
int trace_close(void);

/* Дорожка lane (>= 0) называется name: задача, дескриптор, загрузка. */
void trace_lane(int lane, const char *name);

/* Отрезок на дорожке: начало с именем name и конец. Отрезки одной
   дорожки вложены правильно: конец закрывает последнее начало. */
void trace_begin(int lane, const char *name);
void trace_end(int lane);

/* Мгновенная отметка с именем name и необязательной подписью detail. */
void trace_instant(int lane, const char *name, const char *detail);

#endif
