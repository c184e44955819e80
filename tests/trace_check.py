#!/usr/bin/env python3
"""tests/trace_check.py FILE [--slices] — check a trace in the Trace Event
Format (the book's lib/trace writes it) without using the book's code: the
JSON is parsed by CPython's json module, and the rules Perfetto relies on
are checked here, independently:
  - the file is a JSON object with a list "traceEvents";
  - every event has "ph" (B, E, i or M), a number "ts" >= 0, "pid", "tid";
    B, i and M events have a string "name"; M events are thread_name with
    args.name;
  - on every lane (pid, tid) ts never decreases (in file order);
  - every E closes an open B of its own lane, and none is left open.
Exit status 0 if the trace is sound, 1 with a message otherwise.
With --slices, prints every slice in the order the slices began:
"lane name<TAB>slice name<TAB>begin us<TAB>end us", one per line.
With --events, prints every slice's beginning and every instant in file
order: "lane name<TAB>name<TAB>ts us"."""
import json
import sys


def fail(msg):
    print(f"trace_check: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    if not args:
        fail("usage: trace_check.py FILE [--slices]")
    try:
        with open(args[0], encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{args[0]}: not JSON: {e}")
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        fail("not an object with a traceEvents list")
    names, last_ts, open_b, slices, events = {}, {}, {}, [], []
    for n, ev in enumerate(doc["traceEvents"]):
        where = f"event {n}"
        if not isinstance(ev, dict):
            fail(f"{where}: not an object")
        ph = ev.get("ph")
        if ph not in ("B", "E", "i", "M"):
            fail(f"{where}: ph {ph!r} is not B, E, i or M")
        ts = ev.get("ts")
        if not isinstance(ts, (int, float)) or isinstance(ts, bool) or ts < 0:
            fail(f"{where}: ts {ts!r} is not a non-negative number")
        if not isinstance(ev.get("pid"), int) or not isinstance(ev.get("tid"), int):
            fail(f"{where}: pid and tid must be integers")
        lane = (ev["pid"], ev["tid"])
        if ph != "E" and not isinstance(ev.get("name"), str):
            fail(f"{where}: no name")
        if ts < last_ts.get(lane, 0):
            fail(f"{where}: ts {ts} goes back on lane {lane} (was {last_ts[lane]})")
        last_ts[lane] = ts
        if ph == "M":
            if ev["name"] != "thread_name" or not isinstance(ev.get("args", {}).get("name"), str):
                fail(f"{where}: metadata other than thread_name with args.name")
            names[lane] = ev["args"]["name"]
        if ph in ("B", "i"):
            events.append((lane, ev["name"], ts))
        if ph == "B":
            slice_ = [lane, ev["name"], ts, None]
            open_b.setdefault(lane, []).append(slice_)
            slices.append(slice_)
        elif ph == "E":
            if not open_b.get(lane):
                fail(f"{where}: E with no open B on lane {lane}")
            open_b[lane].pop()[3] = ts
    left = [(lane, s[1]) for lane, stack in open_b.items() for s in stack]
    if left:
        fail(f"slices never closed: {left}")
    if "--slices" in args:
        for lane, name, b, e in slices:
            print(f"{names.get(lane, lane[1])}\t{name}\t{b:.3f}\t{e:.3f}")
    if "--events" in args:
        for lane, name, ts in events:
            print(f"{names.get(lane, lane[1])}\t{name}\t{ts:.3f}")


main()
