"""CPython as the oracle for lib/gen (tests/test_gen_python.c).

Reads scenarios, one a line, from the file named by argv[1] and prints, for
each, what a chain of Python generators does under the scenario's operations:
one line per scenario, the events joined by spaces. The C test runs the same
scenarios on gen.h generators and compares line by line.

A scenario is LINKS|OPS. LINKS, top first, are delegators "M<catch><act>"
ending with one leaf "L<n><catch><act>":
  catch  '-' catches nothing, 'e' catches E1, 'a' catches everything
  act    after a catch: 'y' yields "c<i>", 'r' returns "c<i>", 'x' raises E2;
         for the leaf also 'z' (no catch action; on its first received value
         it resumes the top of the chain), 'p' (the same with its parent)
         and 'q' (it closes the top)
A leaf yields "y<i>.<k>" n times and returns "r<i>"; a delegator does
"r = yield from sub", yields "a<i>" and returns "r<i>"; each logs what it
received, caught and its finally. OPS: 'n' next, 's' send(7), 'e' throw E1,
'f' throw E2, '0' throw StopIteration (the C error with code 0), 'c' close,
all on the top; 'N' next, 'E' throw E1, 'C' close on the leaf; 'B' next and
'M' close on the second link (the leaf if there is none).
At the end every link is closed, top first.
"""
import sys


class E1(Exception):
    pass


class E2(Exception):
    pass


def run(line):
    links_s, ops = line.strip().split("|")
    specs = links_s.split(",")
    log = []
    chain = []

    def matches(catch, e):
        return catch == "a" or (catch == "e" and isinstance(e, E1))

    def outcome(f):
        try:
            return "yielded:%s" % f()
        except StopIteration as e:
            return "returned:%s" % e.value
        except BaseException as e:
            return "failed:%s" % type(e).__name__

    def close(g):
        try:
            g.close()
            return "returned"
        except BaseException as e:
            return "failed:%s" % type(e).__name__

    def leaf(i, n, catch, act):
        try:
            k = 0
            while k < n:
                try:
                    x = yield "y%d.%d" % (i, k)
                    log.append("%d:got:%s" % (i, x))
                    if act in "zpq" and k == 0:
                        target = chain[0] if act != "p" or i == 0 else chain[i - 1]
                        if act == "q":
                            log.append("%d:reenter:%s" % (i, close(target)))
                        else:
                            log.append("%d:reenter:%s" % (i, outcome(lambda: next(target))))
                except BaseException as e:
                    if not matches(catch, e):
                        raise
                    log.append("%d:caught:%s" % (i, type(e).__name__))
                    if act == "y":
                        yield "c%d" % i
                    elif act == "r":
                        return "c%d" % i
                    elif act == "x":
                        raise E2()
                k += 1
            return "r%d" % i
        finally:
            log.append("%d:finally" % i)

    def mid(i, sub, catch, act):
        try:
            try:
                r = yield from sub
                log.append("%d:from:%s" % (i, r))
            except BaseException as e:
                if not matches(catch, e):
                    raise
                log.append("%d:caught:%s" % (i, type(e).__name__))
                if act == "y":
                    yield "c%d" % i
                elif act == "r":
                    return "c%d" % i
                elif act == "x":
                    raise E2()
            yield "a%d" % i
            return "r%d" % i
        finally:
            log.append("%d:finally" % i)

    last = len(specs) - 1
    sub = leaf(last, int(specs[last][1]), specs[last][2], specs[last][3])
    gens = [sub]
    for i in range(last - 1, -1, -1):
        sub = mid(i, sub, specs[i][1], specs[i][2])
        gens.insert(0, sub)
    chain.extend(gens)
    top = gens[0]

    for op in ops:
        if op in "NCEMB":
            g = gens[1 if op in "MB" and len(gens) > 1 else -1]
            if op in "NB":
                log.append(op + ">" + outcome(lambda: next(g)))
            elif op == "E":
                log.append("E>" + outcome(lambda: g.throw(E1)))
            else:
                log.append(op + ">" + close(g))
        elif op == "n":
            log.append("n>" + outcome(lambda: next(top)))
        elif op == "s":
            log.append("s>" + outcome(lambda: top.send(7)))
        elif op in "ef0":
            exc = {"e": E1, "f": E2, "0": StopIteration}[op]
            log.append(op + ">" + outcome(lambda: top.throw(exc)))
        elif op == "c":
            log.append("c>" + close(top))
    for i, g in enumerate(gens):
        log.append("end%d>%s" % (i, close(g)))
    return " ".join(log)


def main():
    # a generator that ignored GeneratorExit is closed again when collected;
    # what it says then belongs to no scenario (the C side frees quietly too)
    sys.unraisablehook = lambda unraisable: None
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                print(run(line))


if __name__ == "__main__":
    main()
