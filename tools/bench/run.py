#!/usr/bin/env python3
"""Side-by-side benchmark: dit-spark (bin/dit bench ...) against PyTorch eager (tools/bench/torch_bench.py).

Runs each case in both, alternating A B A B (Java first, then PyTorch, per round), each run a fresh process,
and prints a ready-to-paste Markdown table of per-step medians and Java/PyTorch ratios, wall time and CPU
time (CPU time: the whole process, every thread; on a shared machine it is the steadier figure). The ratio
column is the median over rounds of each round's paired ratio. "Java JIT" is the part of the Java CPU time that
the JVM's JIT compiler threads used in the timed window (start-up work a long run pays once; `jit_s` of
`dit bench`), so a reader can see whether the warm-up was long enough.

    python3 tools/bench/run.py --quick         # about 3 minutes on 2 idle cores
    python3 tools/bench/run.py                 # the full set (see CASES), about an hour on 2 cores
    python3 tools/bench/run.py --cases step --threads 2 --busy 1   # with one core kept busy

Options --busy N keeps N cores busy (a `while True: pass` process pinned to each of cores 0..N-1) for the
whole run: the thread-policy measurement of docs/benchmarks.md. --java-env KEY=VALUE sets (or, with an empty
value, clears) a variable for the Java side only, e.g. GLIBC_TUNABLES= to measure without bin/dit's allocator
settings; --torch-env does the same for the PyTorch side (OMP_WAIT_POLICY=PASSIVE there compares the kernels
without the wait-policy difference). Runs offline; needs python3 with torch >= 2 and the project built (bin/dit builds it when stale).
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TORCH_BENCH = os.path.join(ROOT, "tools", "bench", "torch_bench.py")
DIT = os.path.join(ROOT, "bin", "dit")
DEMO = os.path.join(ROOT, "conf", "demo.yaml")

# (case, model arguments, label, batch, extra arguments) -- shared by both sides.
FULL = [
    # The demo step: 40 warm-up steps (about 7 s) on both sides, so the timed steps are past the JVM's JIT compiling
    # (which runs on its own threads for the first seconds of a run; the jit column shows what is left of it).
    ("step", ["--config", DEMO], "demo", "64", ["--iterations", "40", "--warmup", "40"]),
    ("step", ["--model", "DiT-S/2"], "DiT-S/2", "8", ["--iterations", "5", "--warmup", "1"]),
    ("fwdbwd", ["--model", "DiT-S/8"], "DiT-S/8", "8", ["--iterations", "10", "--warmup", "2"]),
    ("fwdbwd", ["--model", "DiT-S/2"], "DiT-S/2", "8", ["--iterations", "5", "--warmup", "1"]),
    ("fwdbwd", ["--model", "DiT-B/4"], "DiT-B/4", "8", ["--iterations", "5", "--warmup", "1"]),
    ("sample", ["--config", DEMO], "demo", "16", ["--steps", "250", "--cfg-scale", "4", "--warmup", "10"]),
    ("memory", ["--model", "DiT-XL/2"], "DiT-XL/2", "2", []),
]
QUICK = [
    ("step", ["--config", DEMO], "demo", "64", ["--iterations", "8", "--warmup", "2"]),
    ("fwdbwd", ["--model", "DiT-S/8"], "DiT-S/8", "8", ["--iterations", "3", "--warmup", "1"]),
    ("sample", ["--config", DEMO], "demo", "16", ["--steps", "50", "--cfg-scale", "4", "--warmup", "5"]),
    ("memory", ["--model", "DiT-S/2"], "DiT-S/2", "2", []),
]
RESULT = re.compile(r"^result (.*)$", re.M)


def parse(text):
    """The last `result case=...` line of a run, as a dict (values as strings)."""
    rows = [dict(kv.split("=", 1) for kv in m.split()) for m in RESULT.findall(text)]
    return rows[-1] if rows else None


def run(cmd, env, log):
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    row = parse(p.stdout)
    if log:
        log.write("$ %s  (%.1f s, rc %d)\n%s%s\n" % (" ".join(cmd), time.time() - t0, p.returncode,
                                                     p.stdout, p.stderr[-2000:] if p.returncode else ""))
        log.flush()
    if p.returncode != 0 or row is None:
        sys.exit("run.py: `%s` failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, (p.stderr or p.stdout)[-1500:]))
    return row


def java_cmd(case, model, batch, extra, threads):
    return [DIT, "bench", case] + model + ["--batch", batch, "--threads", str(threads)] + extra


def torch_cmd(case, model, batch, extra, threads):
    return [sys.executable, TORCH_BENCH, case] + model + ["--batch", batch, "--threads", str(threads)] + extra


def busy(n):
    """n processes spinning in a loop, pinned to cores 0..n-1 (Linux sched_setaffinity)."""
    procs = []
    for core in range(n):
        code = "import os; os.sched_setaffinity(0, {%d})\nwhile True: pass" % core
        procs.append(subprocess.Popen([sys.executable, "-c", code]))
    time.sleep(0.5)
    return procs


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description="dit-spark vs PyTorch, alternating A B A B; prints a Markdown table.")
    ap.add_argument("--quick", action="store_true", help="small cases, about 3 minutes")
    ap.add_argument("--rounds", type=int, help="A B pairs per case and thread count (default 3, quick 2)")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--cases", default="", help="only cases whose name or model contains one of these (comma-separated)")
    ap.add_argument("--busy", type=int, default=0, help="keep this many cores busy during the run")
    ap.add_argument("--java-env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment for the Java side only (empty value: unset)")
    ap.add_argument("--torch-env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment for the PyTorch side only, e.g. OMP_WAIT_POLICY=PASSIVE to compare kernels alone")
    ap.add_argument("--log", default=os.path.join(ROOT, "runs", "bench", "run.log"), help="raw output of every run")
    args = ap.parse_args()
    rounds = args.rounds or (2 if args.quick else 3)
    threads = [int(t) for t in args.threads.split(",")]
    cases = QUICK if args.quick else FULL
    if args.cases:
        wanted = args.cases.split(",")
        cases = [c for c in cases if any(w == c[0] or w in c[2] for w in wanted)]
    env = dict(os.environ)
    jenv = dict(env)
    for kv in args.java_env:
        k, _, v = kv.partition("=")
        if v:
            jenv[k] = v
        else:
            jenv.pop(k, None)
            jenv[k] = ""  # set but empty: bin/dit keeps it (its defaults apply only to unset variables)
    for kv in args.torch_env:
        k, _, v = kv.partition("=")
        if v:
            env[k] = v
        else:
            env.pop(k, None)
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    subprocess.run([DIT, "--help"], stdout=subprocess.DEVNULL, cwd=ROOT, env=jenv, check=True)  # builds if stale
    started = time.time()
    header = "%s, %d cores, load %s, rounds %d%s%s%s" % (
        datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), os.cpu_count(), loadavg(), rounds,
        ", %d core(s) kept busy" % args.busy if args.busy else "",
        ", Java env " + " ".join(args.java_env) if args.java_env else "",
        ", PyTorch env " + " ".join(args.torch_env) if args.torch_env else "")
    print("# " + header, flush=True)
    spinners = busy(args.busy)
    timing, memory = [], []
    try:
        with open(args.log, "a") as log:
            log.write("# %s\n" % header)
            for case, model, label, batch, extra in cases:
                for t in (threads if case != "memory" else threads[:1]):
                    pairs = []
                    for r in range(rounds):
                        a = run(java_cmd(case, model, batch, extra, t), jenv, log)
                        b = run(torch_cmd(case, model, batch, extra, t), env, log)
                        pairs.append((a, b))
                        print("  %s %s batch %s threads %d round %d: Java %s, PyTorch %s" % (
                            case, label, batch, t, r + 1, brief(a), brief(b)), flush=True)
                    (memory if case == "memory" else timing).append((case, label, batch, t, extra, pairs))
    finally:
        for p in spinners:
            p.kill()
    print()
    print(table(timing, memory))
    print("\n(%s; %.0f s in all; raw lines in %s)" % (header, time.time() - started, os.path.relpath(args.log, ROOT)))


def brief(row):
    if "peak_mb" in row:
        return "%s MB" % row["peak_mb"]
    jit = " (JIT %.4f)" % float(row["jit_s"]) if "jit_s" in row else ""
    return "%.4f s wall, %.4f s CPU%s" % (float(row["wall_s"]), float(row["cpu_s"]), jit)


def med(xs):
    return statistics.median(xs)


def table(timing, memory):
    out = []
    if timing:
        out.append("| case | model | batch | threads | Java wall s/step | PyTorch wall s/step | wall ratio "
                   "| Java CPU s/step | of which Java JIT | PyTorch CPU s/step | CPU ratio |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for case, label, batch, t, extra, pairs in timing:
            name = case if case != "sample" else "sample (DDPM %s, cfg %s)" % (
                extra[extra.index("--steps") + 1], extra[extra.index("--cfg-scale") + 1])
            jw = [float(a["wall_s"]) for a, _ in pairs]
            pw = [float(b["wall_s"]) for _, b in pairs]
            jc = [float(a["cpu_s"]) for a, _ in pairs]
            pc = [float(b["cpu_s"]) for _, b in pairs]
            jit = [float(a["jit_s"]) for a, _ in pairs if "jit_s" in a]
            out.append("| %s | %s | %s | %d | %.4f | %.4f | %.2f | %.4f | %s | %.4f | %.2f |" % (
                name, label, batch, t, med(jw), med(pw), med([a / b for a, b in zip(jw, pw)]),
                med(jc), "%.4f" % med(jit) if jit else "-", med(pc),
                med([a / b for a, b in zip(jc, pc) if b > 0] or [float("nan")])))
    if memory:
        out.append("")
        out.append("| case | model | batch | threads | Java peak MB | PyTorch peak MB | ratio | Java after init MB "
                   "| PyTorch after init MB |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for case, label, batch, t, extra, pairs in memory:
            jp = [float(a["peak_mb"]) for a, _ in pairs]
            pp = [float(b["peak_mb"]) for _, b in pairs]
            out.append("| forward+backward peak RSS | %s | %s | %d | %.0f | %.0f | %.2f | %.0f | %.0f |" % (
                label, batch, t, med(jp), med(pp), med([a / b for a, b in zip(jp, pp)]),
                med([float(a["init_mb"]) for a, _ in pairs]), med([float(b["init_mb"]) for _, b in pairs])))
    return "\n".join(out)


if __name__ == "__main__":
    main()
