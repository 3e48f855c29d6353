#!/usr/bin/python3
"""Convscope's CPU engine beside PyTorch: training throughput, same models,
same data, same batch, same threads.

    /usr/bin/python3 bench/compare-pytorch.py [--repeat N] [build/app/convscope-cli]

For each thread count (1 and 2) it runs `convscope-cli bench --json` and
bench/torch-train.py, each in a fresh process with OPENBLAS_NUM_THREADS and
OMP_NUM_THREADS set to that count (OpenBLAS reads them when it loads), and
prints both throughputs and their ratio. PyTorch's figure is the best of
its CPU configurations (default oneDNN, channels_last, oneDNN off, and at 2
threads each again with OpenBLAS on one thread, "+blas1"); all are shown. OPENBLAS_CORETYPE is left as the environment has it and
reported, since it decides which kernels OpenBLAS runs.

Run it on a quiet machine: another build on the same cores halves both.
Where the machine is shared, --repeat N measures each side N times, one
after the other, and keeps each configuration's best (the figure least
disturbed by the neighbours), printing the medians and the load average
beside them.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "app", "convscope-cli")
MODELS = ["mlp", "simple-cnn"]
THREADS = [1, 2]


def env_for(threads, blas_threads=None):
    e = dict(os.environ)
    e["OPENBLAS_NUM_THREADS"] = str(threads if blas_threads is None else blas_threads)
    e["OMP_NUM_THREADS"] = str(threads)
    return e


def convscope(model, threads):
    out = subprocess.run([CLI, "bench", "--json", "-m", model, "-t", str(threads)],
                         capture_output=True, text=True, check=True, env=env_for(threads)).stdout
    lines = [json.loads(l) for l in out.splitlines()]
    machine = next(l for l in lines if l["event"] == "machine")
    train = next(l for l in lines if l["event"] == "train")
    return machine, train["samples_per_s"]


def pytorch(model, threads):
    """Every configuration, and with more than one thread both with
    OpenBLAS on as many threads as OpenMP and on one: PyTorch's two pools
    (OpenMP for oneDNN, OpenBLAS's own for Linear) spin against each other
    on a 2-core machine, and its best run may be with one of them alone."""
    batches = "400" if model == "mlp" else "100"
    results = {}
    for blas in sorted({threads, 1}, reverse=True):
        out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "torch-train.py"),
                              "--model", model, "--threads", str(threads), "--batches", batches],
                             capture_output=True, text=True, check=True,
                             env=env_for(threads, blas)).stdout
        for l in map(json.loads, out.splitlines()):
            name = l["config"] if blas == threads else l["config"] + "+blas1"
            results[name] = l["samples_per_s"]
    return results


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    import statistics
    import torch  # only to report its version and BLAS

    global CLI
    args = sys.argv[1:]
    repeat = 1
    if len(args) >= 2 and args[0] == "--repeat":
        repeat = max(1, int(args[1]))
        args = args[2:]
    if args:
        CLI = args[0]

    load_before = load_average()
    rows, medians = [], []
    machine = None
    for model in MODELS:
        for threads in THREADS:
            ours_runs, theirs_runs = [], []
            for _ in range(repeat):
                machine, ours = convscope(model, threads)
                ours_runs.append(ours)
                theirs_runs.append(pytorch(model, threads))
            ours = max(ours_runs)
            theirs = {k: max(r[k] for r in theirs_runs) for k in theirs_runs[0]}
            best = max(theirs, key=theirs.get)
            rows.append((model, threads, ours, theirs, best))
            medians.append((model, threads, statistics.median(ours_runs),
                            statistics.median(max(r.values()) for r in theirs_runs)))

    print("Machine: %s, %d processors" % (machine["cpu"], machine["processors"]))
    print("OPENBLAS_CORETYPE=%s; Convscope's GEMM: %s" % (os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
                                                       machine["blas"]))
    print("PyTorch %s (BLAS: the system's OpenBLAS through libblas; convolutions: oneDNN %s)"
          % (torch.__version__, "on" if torch.backends.mkldnn.is_available() else "off"))
    print("Load average before and after: %s; %s" % (load_before, load_average()))
    if repeat > 1:
        print("Training throughput, batch 64, Adam, bundled digits (samples/s), "
              "best of %d runs each:\n" % repeat)
    else:
        print("Training throughput, batch 64, Adam, bundled digits (samples/s):\n")
    print("%-11s %7s %11s %11s %14s %11s  %s" % ("model", "threads", "Convscope", "PyTorch",
                                                "(its config)", "ratio", "PyTorch, all configs"))
    for model, threads, ours, theirs, best in rows:
        others = ", ".join("%s %.0f" % (k, v) for k, v in theirs.items())
        print("%-11s %7d %11.0f %11.0f %14s %10.2f×  %s" % (model, threads, ours, theirs[best],
                                                         best, ours / theirs[best], others))
    if repeat > 1:
        print("\nMedians over the %d runs (PyTorch: its best configuration of each run):" % repeat)
        for model, threads, ours, theirs in medians:
            print("%-11s %7d %11.0f %11.0f %25.2f×" % (model, threads, ours, theirs, ours / theirs))
    for (model, threads, ours, theirs, best), (_, _, ours_med, theirs_med) in zip(rows, medians):
        print(json.dumps({"model": model, "threads": threads, "convscope": round(ours, 1),
                          "pytorch": round(theirs[best], 1), "pytorch_config": best,
                          "ratio": round(ours / theirs[best], 3), "runs": repeat,
                          "convscope_median": round(ours_med, 1),
                          "pytorch_median": round(theirs_med, 1)}))


if __name__ == "__main__":
    main()
