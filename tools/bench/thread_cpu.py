#!/usr/bin/env python3
"""CPU seconds per kind of thread of a command (Linux), e.g. the streaming reader's threads against the decoders.

Runs COMMAND (bin/dit execs java, so the child's pid is the JVM's), samples /proc/PID/task/*/stat every 0.2 s,
and at the end prints the CPU (user + system) each kind of thread used: threads are grouped by name with trailing
digits dropped ("dit-stream-0-reader-3" and "dit-stream-0-reader-1" count together; Linux keeps 15 characters of a
name). With --after REGEX only the CPU after the first output line matching REGEX counts (e.g. "written in" to
leave out `dit bench loader`'s writing of the shards). A thread that ends between two samples loses its last
0.2 s at most. The command's output goes to --log (default /tmp/thread_cpu.out) and its last lines are echoed.

    python3 tools/bench/thread_cpu.py --after "written in" -- bin/dit bench loader --latent-px 512 --iterations 3 \\
        --memory-mb 768

(docs/benchmarks.md, "Streaming the shards": the reader threads' CPU per row before and after its changes.)
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def sample(pid):
    """{tid: (name, user+system ticks)} of the process's threads now."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tids:
        try:
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                name = f.read().strip()
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended between the listing and the read
        fields = stat[stat.rindex(")") + 2:].split()
        out[t] = (name, int(fields[11]) + int(fields[12]))  # utime, stime: fields 14 and 15 of proc(5)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--after", help="count only after the first output line matching this regex")
    ap.add_argument("--log", default="/tmp/thread_cpu.out", help="where the command's output goes")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        sys.exit("thread_cpu.py: give a command after --")
    after = re.compile(args.after) if args.after else None
    with open(args.log, "w") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        base = {} if after is None else None
        last = {}
        while p.poll() is None:
            now = sample(p.pid)
            if base is None:
                with open(args.log) as f:
                    if any(after.search(line) for line in f):
                        base = now
            if base is not None:
                last.update(now)
            time.sleep(0.2)
    kinds = collections.Counter()
    for tid, (name, ticks) in last.items():
        start = base.get(tid) if base else None
        # A tid reused by a thread of another name started after the base reading: count it from zero.
        before = start[1] if start and start[0] == name else 0
        kinds[re.sub(r"[-_ #]*\d+$", "", name) or name] += ticks - before
    print("CPU seconds by thread kind%s: %s" % (
        " after /%s/" % args.after if args.after else "",
        ", ".join("%s %.2f" % (k, v / TICKS) for k, v in kinds.most_common() if v > 0)))
    with open(args.log) as f:
        sys.stdout.write("".join(f.readlines()[-8:]))
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
