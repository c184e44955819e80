/* Этот файл извлечён (tangle) из книги: book/05-generators.nw book/06-coroutines.nw book/07-delegation.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "gen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void verr_into(gen_error *e, int code, const char *fmt, va_list ap)
{
    e->code = code;
    e->payload = gen_none();
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    if (code == 0) {
        char was[GEN_MSG_MAX];
        memcpy(was, e->msg, sizeof was);
        e->code = GEN_ENOCODE;
        snprintf(e->msg, sizeof e->msg, "error with code 0: %.70s", was);
    }
}

static void err_into(gen_error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr_into(e, code, fmt, ap);
    va_end(ap);
}

gen_error gen_err(int code, const char *fmt, ...)
{
    gen_error e;
    va_list ap;
    va_start(ap, fmt);
    verr_into(&e, code, fmt, ap);
    va_end(ap);
    return e;
}
static gen_status fail_code(gen_result *r, int code, const char *msg)
{
    r->status = GEN_FAILED;
    err_into(&r->error, code, "%s", msg);
    return GEN_FAILED;
}

static gen_status done(gen_result *r, gen_status s, gen_value v)
{
    r->status = s;
    r->value = v;
    return s;
}

void gen__misuse(const gen *g, const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: generator %p: %s\n", file, line, (const void *)g, what);
    abort();
}
void gen__set_err(gen *g, const gen_error *e)
{
    if (e->code == 0)
        err_into(&g->err, 0, "%s", e->msg);
    else
        g->err = *e;
}

void gen__catch(gen *g, gen_error *into)
{
    if (g->err.code == 0) {
        into->code = 0;
        return;
    }
    *into = g->err;
    g->err.code = 0;
}
static gen_status fail(gen_result *r, const gen_error *e)
{
    r->status = GEN_FAILED;
    r->error = *e;
    return GEN_FAILED;
}
static gen_status close_into(gen *g, gen_result *r);
static _Atomic unsigned long long chain_epoch; /* меняется с цепочками */
static _Thread_local gen *pending_leaf; /* выполнен коротким путём, итог в *r */
static _Thread_local gen *forwarded_to; /* кому пересылают прямо сейчас */
static int runs_from_above(const gen *g)
{
    const gen *leaf = g->leaf;
    if (leaf == NULL || g->leaf_epoch != chain_epoch)
        for (leaf = g->sub; leaf->sub != NULL; leaf = leaf->sub) {
        }
    if (leaf->state != GEN_RUNNING || leaf->fast_root == NULL)
        return 0;
    for (const gen *x = g->sub; x != leaf; x = x->sub)
        if (x == leaf->fast_root)
            return 0;
    return 1;
}
static _Thread_local int chain_depth; /* сколько звеньев пересылают сейчас */
#undef gen_new
gen *gen__named(gen *g, const char *name)
{
    if (g != NULL)
        g->name = name;
    return g;
}

gen *gen_new(gen_body *body, const void *init, size_t size)
{
    gen *g = calloc(1, sizeof *g + size);
    if (g == NULL)
        return NULL;
    g->body = body;
    g->state = GEN_CREATED;
    if (init != NULL)
        memcpy(g->locals, init, size);
    return g;
}

gen_state gen_get_state(const gen *g) { return g->state; }
void gen_free(gen *g)
{
    if (g == NULL)
        return;
    if (g->state == GEN_RUNNING)
        gen__misuse(g, "gen_free of a running generator", __FILE__, __LINE__);
    if (g->state == GEN_SUSPENDED) {
        gen_result r;
        if (gen_close(g, &r) == GEN_FAILED)
            fprintf(stderr, "gen_free: closing generator %p failed: %s\n",
                    (void *)g, r.error.msg);
    }
    free(g);
}
static gen_status resume(gen *g, gen_value in, const gen_error *thrown, gen_result *r)
{
    switch (g->state) {
    case GEN_RUNNING:
        return fail_code(r, GEN_ERUNNING, "generator already running");
    case GEN_CLOSED:
        if (thrown != NULL && thrown->code == 0)
            return done(r, GEN_RETURNED, gen_none()); /* как StopIteration: «остановлен» */
        if (thrown != NULL)
            return fail(r, thrown);
        return done(r, GEN_RETURNED, gen_none());
    case GEN_CREATED:
        if (thrown != NULL) {
            g->state = GEN_CLOSED;
            gen__set_err(g, thrown); /* код 0 и здесь становится GEN_ENOCODE */
            fail(r, &g->err);
            g->err.code = 0;
            return GEN_FAILED;
        }
        if (in.kind != GEN_NONE)
            return fail_code(r, GEN_ESENDNEW, "can't send a value to a just-created generator");
        break;
    case GEN_SUSPENDED:
        break;
    }
    g->state = GEN_RUNNING;
    g->in = in;
    if (thrown != NULL)
        gen__set_err(g, thrown);
    if (g->sub != NULL && g != forwarded_to && runs_from_above(g)) {
        g->state = GEN_SUSPENDED;
        g->err.code = 0;
        return fail_code(r, GEN_ERUNNING, "generator already running");
    }
    const gen_error *raw0 = NULL; /* код 0 для подгенератора: решит он (PEP 380) */
    if (thrown != NULL && thrown->code == 0 && g->sub != NULL) {
        g->err.code = 0;
        raw0 = thrown;
    }
    for (;;) {
        if (g->sub != NULL) {
            gen *sub = g->sub;
            if (chain_depth >= GEN_MAX_DEPTH) {
                g->sub = NULL;
                chain_epoch++;
                err_into(&g->err, GEN_EDEPTH, "yield from chain deeper than %d links", GEN_MAX_DEPTH);
            } else if (g->err.code == GEN_EXIT) {
                chain_depth++;
                g->sub = NULL;
                chain_epoch++;
                forwarded_to = sub;
                if (close_into(sub, r) == GEN_FAILED)
                    g->err = r->error;
                forwarded_to = NULL;
                chain_depth--;
            } else {
                gen *leaf = g->leaf;
                if (leaf != NULL && g->leaf_epoch == chain_epoch && leaf->state == GEN_SUSPENDED &&
                    g->err.code == 0 && raw0 == NULL) {
                    leaf->fast_root = g;
                    forwarded_to = leaf;
                    gen_status ls = resume(leaf, g->in, NULL, r);
                    forwarded_to = NULL;
                    leaf->fast_root = NULL;
                    if (ls == GEN_YIELDED) {
                        g->state = GEN_SUSPENDED;
                        if (g->leaf_epoch != chain_epoch) { /* ниже что-то изменилось */
                            g->leaf = leaf->sub == NULL ? leaf : leaf->leaf;
                            g->leaf_epoch = chain_epoch;
                        }
                        return GEN_YIELDED;
                    }
                    pending_leaf = leaf;
                }
                chain_depth++;
                gen_status s;
                forwarded_to = sub;
                if (sub == pending_leaf) {
                    s = r->status; /* подгенератор уже выполнен коротким путём: итог в *r */
                } else if (raw0 != NULL) {
                    s = resume(sub, gen_none(), raw0, r);
                    raw0 = NULL;
                } else if (g->err.code != 0) {
                    s = resume(sub, gen_none(), &g->err, r);
                    g->err.code = 0;
                } else {
                    s = resume(sub, g->in, NULL, r);
                }
                forwarded_to = NULL;
                pending_leaf = NULL;
                chain_depth--;
                if (s == GEN_YIELDED) {
                    g->state = GEN_SUSPENDED;
                    g->leaf = sub->sub == NULL ? sub : sub->leaf;
                    g->leaf_epoch = chain_epoch;
                    return GEN_YIELDED; /* значение уже в *r */
                }
                g->sub = NULL;
                chain_epoch++;
                if (s == GEN_RETURNED)
                    g->in = r->value;
                else
                    g->err = r->error;
            }
        }
        int signal = g->body(g);
        if (signal == GEN__YIELD) {
            g->state = GEN_SUSPENDED;
            return done(r, GEN_YIELDED, g->out);
        }
        if (signal == GEN__DELEGATE) {
            g->in = gen_none();
            if (g->sub == NULL)
                err_into(&g->err, GEN_ENOSUB, "yield from a NULL generator");
            chain_epoch++; /* цепочка изменилась */
            continue;
        }
        g->state = GEN_CLOSED;
        if (g->err.code != 0) {
            r->status = GEN_FAILED;
            r->error = g->err;
            g->err.code = 0;
            return GEN_FAILED;
        }
        return done(r, GEN_RETURNED, g->ret);
    }
}
gen_status gen_next(gen *g, gen_result *r)
{
    gen_result tmp;
    return resume(g, gen_none(), NULL, r != NULL ? r : &tmp);
}
gen_status gen_send(gen *g, gen_value v, gen_result *r)
{
    gen_result tmp;
    return resume(g, v, NULL, r != NULL ? r : &tmp);
}

gen_status gen_throw(gen *g, const gen_error *e, gen_result *r)
{
    gen_result tmp;
    return resume(g, gen_none(), e, r != NULL ? r : &tmp);
}
static gen_status close_into(gen *g, gen_result *r)
{
    if (g->state == GEN_CREATED || g->state == GEN_CLOSED) {
        g->state = GEN_CLOSED;
        return done(r, GEN_RETURNED, gen_none());
    }
    static const gen_error exit_error = {.code = GEN_EXIT, .msg = "generator exit"};
    gen_status s = resume(g, gen_none(), &exit_error, r);
    if (s == GEN_YIELDED)
        return fail_code(r, GEN_EIGNORED, "generator ignored GEN_EXIT");
    if (s == GEN_FAILED && r->error.code == GEN_EXIT)
        return done(r, GEN_RETURNED, gen_none());
    return s;
}

gen_status gen_close(gen *g, gen_result *r)
{
    gen_result tmp;
    return close_into(g, r != NULL ? r : &tmp);
}
gen *gen_prime(gen *g, gen_result *r)
{
    gen_result tmp;
    if (r == NULL)
        r = &tmp;
    if (g == NULL) {
        fail_code(r, -ENOMEM, "gen_prime: no generator (out of memory?)");
        return NULL;
    }
    if (gen_next(g, r) == GEN_YIELDED)
        return g;
    gen_free(g);
    return NULL;
}
