/* CPython is the oracle: the same scenarios run on chains of gen.h
 * generators here and on chains of Python generators in tests/gen_oracle.py
 * (python3), and what both print must be the same, event for event. The
 * scenario language is described in gen_oracle.py; the C bodies below are
 * its link and leaf written with the book's macros. Names of errors map one
 * to one: E1, E2 are ours (codes 1, 2); GEN_EXIT is GeneratorExit,
 * GEN_ERUNNING ValueError, GEN_ESENDNEW TypeError, GEN_EIGNORED and
 * GEN_ENOCODE RuntimeError; a thrown error with code 0 is StopIteration.
 * One difference is the book's on purpose: Python turns a StopIteration
 * into RuntimeError when it leaves a body, we when it enters one, so a body
 * that catches everything would see different names; random scenarios that
 * throw code 0 never catch everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gen.h"
#include "support.h"

enum { E1 = 1, E2 = 2, MAX_LINKS = 8 };

/* ---- the log of one scenario ---- */

static char logbuf[8192];
static size_t loglen;

static void say(const char *fmt, ...)
{
    va_list ap;
    if (loglen > 0 && loglen < sizeof logbuf - 1)
        logbuf[loglen++] = ' ';
    va_start(ap, fmt);
    int n = vsnprintf(logbuf + loglen, sizeof logbuf - loglen, fmt, ap);
    va_end(ap);
    if (n > 0)
        loglen = loglen + (size_t)n < sizeof logbuf ? loglen + (size_t)n : sizeof logbuf - 1;
}

static const char *err_name(int code)
{
    switch (code) {
    case E1: return "E1";
    case E2: return "E2";
    case GEN_EXIT: return "GeneratorExit";
    case GEN_ERUNNING: return "ValueError";
    case GEN_ESENDNEW: return "TypeError";
    case GEN_EIGNORED: case GEN_ENOCODE: return "RuntimeError";
    case 0: return "code-0";
    default: return "unknown";
    }
}

static const char *value_str(gen_value v, char *buf, size_t cap)
{
    switch (v.kind) {
    case GEN_NONE: return "None";
    case GEN_INT: snprintf(buf, cap, "%lld", v.i); return buf;
    case GEN_STR: return v.s;
    default: return "?";
    }
}

static void say_result(const char *what, gen_status s, const gen_result *r)
{
    char buf[32];
    if (s == GEN_YIELDED)
        say("%syielded:%s", what, value_str(r->value, buf, sizeof buf));
    else if (s == GEN_RETURNED)
        say("%sreturned:%s", what, value_str(r->value, buf, sizeof buf));
    else
        say("%sfailed:%s", what, err_name(r->error.code));
}

static void say_closed(const char *what, gen_status s, const gen_result *r)
{
    if (s == GEN_FAILED)
        say("%sfailed:%s", what, err_name(r->error.code));
    else
        say("%sreturned", what);
}

/* ---- a link of the chain: the leaf and the delegator ---- */

struct link {
    int i, n, k;
    char catch, act;
    gen *sub;          /* the delegator's subgenerator */
    gen **chain;       /* all links, top first: the leaf resumes one of them */
    gen_error e;
    char out[16];      /* what it yields or returns */
};

static int matches(char catch, int code)
{
    return catch == 'a' || (catch == 'e' && code == E1);
}

static void reenter(struct link *f)
{
    gen *target = f->act != 'p' || f->i == 0 ? f->chain[0] : f->chain[f->i - 1];
    gen_result r;
    char what[32];
    snprintf(what, sizeof what, "%d:reenter:", f->i);
    if (f->act == 'q')
        say_closed(what, gen_close(target, &r), &r);
    else
        say_result(what, gen_next(target, &r), &r);
}

static int leaf_body(gen *g)
{
    struct link *f = gen_locals(g);
    char buf[32];
    GEN_BEGIN(g);
    for (f->k = 0; f->k < f->n; f->k++) {
        snprintf(f->out, sizeof f->out, "y%d.%d", f->i, f->k);
        GEN_YIELD_CATCH(g, gen_str(f->out), f->e);
        if (f->e.code == 0) {
            say("%d:got:%s", f->i, value_str(gen_received(g), buf, sizeof buf));
            if ((f->act == 'z' || f->act == 'p' || f->act == 'q') && f->k == 0)
                reenter(f);
            continue;
        }
        if (!matches(f->catch, f->e.code))
            GEN_RAISE_ERR(g, f->e);
        say("%d:caught:%s", f->i, err_name(f->e.code));
        snprintf(f->out, sizeof f->out, "c%d", f->i);
        if (f->act == 'y')
            GEN_YIELD(g, gen_str(f->out));
        else if (f->act == 'r')
            GEN_RETURN(g, gen_str(f->out));
        else if (f->act == 'x')
            GEN_RAISE(g, E2, "E2");
    }
    snprintf(f->out, sizeof f->out, "r%d", f->i);
    GEN_RETURN(g, gen_str(f->out));
    GEN_FINALLY(g);
    say("%d:finally", f->i);
    GEN_END(g);
}

static int mid_body(gen *g)
{
    struct link *f = gen_locals(g);
    char buf[32];
    GEN_BEGIN(g);
    GEN_YIELD_FROM_CATCH(g, f->sub, f->e);
    if (f->e.code == 0) {
        say("%d:from:%s", f->i, value_str(gen_received(g), buf, sizeof buf));
    } else {
        if (!matches(f->catch, f->e.code))
            GEN_RAISE_ERR(g, f->e);
        say("%d:caught:%s", f->i, err_name(f->e.code));
        snprintf(f->out, sizeof f->out, "c%d", f->i);
        if (f->act == 'y')
            GEN_YIELD(g, gen_str(f->out));
        else if (f->act == 'r')
            GEN_RETURN(g, gen_str(f->out));
        else if (f->act == 'x')
            GEN_RAISE(g, E2, "E2");
    }
    snprintf(f->out, sizeof f->out, "a%d", f->i);
    GEN_YIELD(g, gen_str(f->out));
    snprintf(f->out, sizeof f->out, "r%d", f->i);
    GEN_RETURN(g, gen_str(f->out));
    GEN_FINALLY(g);
    say("%d:finally", f->i);
    GEN_END(g);
}

/* Run one scenario (the language of gen_oracle.py); its log in logbuf. */
static void run_scenario(const char *line)
{
    char links[128], ops[64];
    gen *chain[MAX_LINKS] = {0};
    loglen = 0;
    logbuf[0] = '\0';
    assert_int_equal(sscanf(line, "%127[^|]|%63s", links, ops), 2);
    char *specs[MAX_LINKS];
    int n = 0;
    for (char *tok = strtok(links, ","); tok != NULL && n < MAX_LINKS; tok = strtok(NULL, ","))
        specs[n++] = tok;
    for (int i = n - 1; i >= 0; i--) {
        struct link init = {.i = i, .chain = chain};
        if (i == n - 1) {
            init.n = specs[i][1] - '0';
            init.catch = specs[i][2];
            init.act = specs[i][3];
            chain[i] = gen_new(leaf_body, &init, sizeof init);
        } else {
            init.catch = specs[i][1];
            init.act = specs[i][2];
            init.sub = chain[i + 1];
            chain[i] = gen_new(mid_body, &init, sizeof init);
        }
        assert_non_null(chain[i]);
    }
    gen *top = chain[0];
    for (const char *op = ops; *op != '\0'; op++) {
        gen_result r;
        gen_status s;
        char what[4] = {*op, '>', '\0'};
        gen *other = chain[(*op == 'M' || *op == 'B') && n > 1 ? 1 : n - 1];
        if (*op == 'N' || *op == 'B' || *op == 'E') {
            gen_error e1 = {.code = E1, .msg = "thrown"};
            s = *op == 'E' ? gen_throw(other, &e1, &r) : gen_next(other, &r);
            say_result(what, s, &r);
            continue;
        }
        if (*op == 'C' || *op == 'M') {
            say_closed(what, gen_close(other, &r), &r);
            continue;
        }
        /* a literal, not gen_err: gen_err itself turns code 0 into GEN_ENOCODE */
        gen_error e = {.code = *op == 'e' ? E1 : *op == 'f' ? E2 : 0, .msg = "thrown"};
        if (*op == 'n')
            s = gen_next(top, &r);
        else if (*op == 's')
            s = gen_send(top, gen_int(7), &r);
        else if (*op == 'c')
            s = gen_close(top, &r);
        else
            s = gen_throw(top, &e, &r);
        if (*op == 'c')
            say_closed(what, s, &r);
        else
            say_result(what, s, &r);
    }
    for (int i = 0; i < n; i++) {
        gen_result r;
        char what[16];
        snprintf(what, sizeof what, "end%d>", i);
        say_closed(what, gen_close(chain[i], &r), &r);
    }
    size_t keep = loglen; /* what gen_free does is not the scenario's: Python's
                             collector does it after the scenario is printed */
    for (int i = 0; i < n; i++)
        gen_free(chain[i]);
    loglen = keep;
    logbuf[loglen] = '\0';
}

/* ---- against python3 ---- */

/* Run every scenario here and in gen_oracle.py; print each that differs
 * with both logs. Returns how many differ. */
static int compare_with_python(const char *const *scenarios, size_t n)
{
    char in[256], out[256], cmd[700];
    sup_tmp_path(in, sizeof in, "gen-scenarios");
    sup_tmp_path(out, sizeof out, "gen-python");
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", scenarios[i]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 tests/gen_oracle.py '%s' >'%s'", in, out);
    assert_int_equal(system(cmd), 0);
    char *py = sup_read_file(out);
    assert_non_null(py);
    unlink(in);
    unlink(out);
    int differ = 0;
    char *line = py;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        run_scenario(scenarios[i]);
        if (strcmp(logbuf, line) != 0) {
            differ++;
            fprintf(stderr, "scenario %s\n  C:      %s\n  Python: %s\n", scenarios[i], logbuf, line);
        }
        line = nl + 1;
    }
    free(py);
    return differ;
}

/* PEP 479 on a generator that has not started: Python raises RuntimeError
 * ("generator raised StopIteration"); a closed one passes StopIteration
 * back, which is "stopped". In a chain whose subgenerator is closed, PEP
 * 380 forwards the StopIteration and the yield from ends with None. */
static void test_error_code_0_as_python(void **state)
{
    (void)state;
    static const char *const sc[] = {
        "L1--|0",        /* just created */
        "M--,L1--|0",    /* a just-created chain */
        "L1--|s0n",      /* still created after a refused send */
        "L1--|nn0",      /* finished */
        "L1--|nn00",
        "M--,L1--|nC0",  /* the subgenerator closed under its delegator */
        "M--,M--,L1--|nC0n",
        "Mey,L2--|n0",   /* suspended: RuntimeError through the chain */
    };
    assert_int_equal(compare_with_python(sc, sizeof sc / sizeof sc[0]), 0);
}

/* A small fixed-seed generator, so that a failure can be replayed. */
static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned pick(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rng >> 33) % n;
}

static void random_scenario(char *buf, size_t cap)
{
    static const char ops_all[] = "nnnnsssef0cNECMBB";
    char ops[16];
    int nops = 1 + (int)pick(8);
    int has0 = 0;
    for (int i = 0; i < nops; i++) {
        ops[i] = ops_all[pick(sizeof ops_all - 1)];
        has0 |= ops[i] == '0';
    }
    ops[nops] = '\0';
    const char *catches = has0 ? "-e" : "-ea";
    int ncatch = has0 ? 2 : 3;
    int depth = 1 + (int)pick(5);
    size_t len = 0;
    for (int i = 0; i < depth - 1; i++)
        len += (size_t)snprintf(buf + len, cap - len, "M%c%c,", catches[pick((unsigned)ncatch)], "yrx"[pick(3)]);
    snprintf(buf + len, cap - len, "L%u%c%c|%s", pick(4), catches[pick((unsigned)ncatch)],
             "yrxzpq"[pick(6)], ops);
}

static void test_random_chains_behave_as_python(void **state)
{
    (void)state;
    enum { N = 2000 };
    static char bufs[N][96];
    static const char *sc[N];
    for (size_t i = 0; i < N; i++) {
        random_scenario(bufs[i], sizeof bufs[i]);
        sc[i] = bufs[i];
    }
    assert_int_equal(compare_with_python(sc, N), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_code_0_as_python),
        cmocka_unit_test(test_random_chains_behave_as_python),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
