#!/usr/bin/env python3
"""Thread and allocator policy: how a training step of dit-spark slows down when another process keeps one
core busy, under several environment settings. For each setting, alternating idle / busy (a `while True: pass`
process pinned to core 0), it runs `bin/dit bench step` (the demo model, batch 64, the real Trainer) and prints
a Markdown table of median wall and CPU time per step and the busy/idle ratio.

    python3 tools/bench/threads.py                     # the settings in VARIANTS, 3 rounds
    python3 tools/bench/threads.py --rounds 5 --threads 2 --variants before,passive

Each variant is a set of environment variables for the JVM (an empty value unsets bin/dit's default, so
"before" is the JVM without any of bin/dit's settings) plus a thread count (None: --threads, default 2). Results go in docs/benchmarks.md, "Thread policy".
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
# name -> (environment for the JVM, threads: a number, or None for --threads)
VARIANTS = {
    "before": ({"GLIBC_TUNABLES": "", "OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": ""}, None),
    "malloc": ({"GLIBC_TUNABLES": TUNABLES, "OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": ""}, None),
    "passive": ({"GLIBC_TUNABLES": TUNABLES, "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": ""}, None),
    "spin1k": ({"GLIBC_TUNABLES": TUNABLES, "OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "1000"}, None),
    "spin10k": ({"GLIBC_TUNABLES": TUNABLES, "OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "10000"}, None),
    "spin100k": ({"GLIBC_TUNABLES": TUNABLES, "OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "100000"}, None),
    "passive-1thread": ({"GLIBC_TUNABLES": TUNABLES, "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": ""}, 1),
}


def main():
    ap = argparse.ArgumentParser(description="busy vs idle step time per environment setting (Markdown table)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of: " + ", ".join(VARIANTS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="threads of the variants that fix them (default 2)")
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--batch", default="64")
    ap.add_argument("--log", default=os.path.join(bench.ROOT, "runs", "bench", "threads.log"))
    args = ap.parse_args()
    names = args.variants.split(",")
    for n in names:
        if n not in VARIANTS:
            sys.exit("--variants: unknown variant %s (known: %s)" % (n, ", ".join(VARIANTS)))
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    results = {(n, load): [] for n in names for load in ("idle", "busy")}
    print("# load before: %s" % bench.loadavg(), flush=True)
    with open(args.log, "a") as log:
        for r in range(args.rounds):
            for n in names:
                env_over, threads = VARIANTS[n]
                env = dict(os.environ)
                for k, v in env_over.items():
                    if v or k in ("GLIBC_TUNABLES", "OMP_WAIT_POLICY"):
                        env[k] = v  # empty: bin/dit leaves its default out
                    else:
                        env.pop(k, None)
                t = args.threads if threads is None else threads
                cmd = [bench.DIT, "bench", "step", "--config", bench.DEMO, "--batch", args.batch,
                       "--iterations", str(args.iterations), "--warmup", "2", "--threads", str(t)]
                for load in ("idle", "busy"):
                    spinners = bench.busy(1) if load == "busy" else []
                    try:
                        row = bench.run(cmd, env, log)
                    finally:
                        for p in spinners:
                            p.kill()
                            p.wait()
                    results[(n, load)].append(row)
                    print("  round %d %s %s: threads %s, %.4f s wall, %.4f s CPU" % (
                        r + 1, n, load, row["threads"], float(row["wall_s"]), float(row["cpu_s"])), flush=True)
    print("# load after: %s\n" % bench.loadavg())
    print("| setting | threads idle / busy | idle wall s/step | busy wall s/step | busy/idle wall | idle CPU s/step "
          "| busy CPU s/step |")
    print("|---|---|---|---|---|---|---|")
    med = statistics.median
    for n in names:
        idle, busy = results[(n, "idle")], results[(n, "busy")]
        iw = [float(x["wall_s"]) for x in idle]
        bw = [float(x["wall_s"]) for x in busy]
        print("| %s | %s / %s | %.4f | %.4f | %.2f | %.4f | %.4f |" % (
            n, "/".join(sorted({x["threads"] for x in idle})), "/".join(sorted({x["threads"] for x in busy})),
            med(iw), med(bw), med([b / a for a, b in zip(iw, bw)]),
            med([float(x["cpu_s"]) for x in idle]), med([float(x["cpu_s"]) for x in busy])))


if __name__ == "__main__":
    main()
