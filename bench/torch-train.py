#!/usr/bin/python3
"""Time PyTorch training the same models on the same data as convscope-cli.

    /usr/bin/python3 bench/torch-train.py --model simple-cnn --threads 2

Trains with Adam (lr 1e-3) on the bundled digits (data/digits/*.gz, the
same IDX files convscope-cli reads), batch 64, after a warm-up, and prints
one JSON object per configuration tried: {"model", "threads", "config",
"samples_per_s", "batches", "seconds"}.  bench/compare-pytorch.py runs it
in a fresh process per thread count, so that OPENBLAS_NUM_THREADS (read by
OpenBLAS when it loads) matches torch.set_num_threads().

With --device cuda it trains on the GPU instead: each batch is taken from
the images in host memory and copied over, as convscope-cli's GPU runs do,
and the clock stops after torch.cuda.synchronize(); the configurations are
then the default layout and channels_last.

"Best configuration" means the fastest of the layouts and convolution
paths PyTorch 1.13 offers on the CPU: the default (oneDNN convolutions,
NCHW), channels_last, and oneDNN switched off (im2col + BLAS, like ours).
"""

import argparse
import gzip
import importlib.util
import json
import os
import struct
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_golden_builder():
    # The golden-fixture script already turns a model JSON into the same
    # torch.nn.Sequential (state-dict names and all); reuse it.
    path = os.path.join(ROOT, "tests", "golden", "make-golden.py")
    spec = importlib.util.spec_from_file_location("make_golden", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build_model


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def time_config(build_model, desc, x_all, y_all, config, batch, batches, warmup, device):
    torch.manual_seed(1)
    torch.backends.mkldnn.enabled = config != "no-onednn"
    model = build_model(desc)
    fmt = torch.channels_last if config == "channels_last" else torch.contiguous_format
    model = model.to(device=device, memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x_all.shape[0]
    g = torch.Generator().manual_seed(1)
    perm = torch.randperm(n, generator=g)

    def step(i):
        idx = perm[(i * batch) % (n - batch):][:batch]
        x = x_all[idx].to(device).contiguous(memory_format=fmt)
        y = y_all[idx].to(device)
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for i in range(warmup):
        step(i)
    sync()
    t0 = time.perf_counter()
    for i in range(batches):
        step(warmup + i)
    sync()
    seconds = time.perf_counter() - t0
    return batches * batch / seconds, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="simple-cnn")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--configs", default=None,
                    help="comma-separated; default,channels_last,no-onednn on the CPU, "
                         "default,channels_last on the GPU")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("torch-train.py: this PyTorch sees no CUDA device", file=sys.stderr)
        return 1
    device = torch.device(args.device)
    configs = args.configs or ("default,channels_last" if args.device == "cuda"
                               else "default,channels_last,no-onednn")

    torch.set_num_threads(args.threads)
    with open(os.path.join(ROOT, "data", "models", args.model + ".json")) as f:
        desc = json.load(f)
    images = read_idx(os.path.join(ROOT, "data", "digits", "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(ROOT, "data", "digits", "train-labels-idx1-ubyte.gz"))
    shape = [-1] + list(desc["input"])
    x_all = torch.from_numpy(images.astype(np.float32) / 255.0).reshape(shape)
    y_all = torch.from_numpy(labels.astype(np.int64))

    build_model = load_golden_builder()
    for config in configs.split(","):
        rate, seconds = time_config(build_model, desc, x_all, y_all, config,
                                    args.batch_size, args.batches, args.warmup, device)
        print(json.dumps({"model": args.model, "device": args.device,
                          "threads": args.threads, "config": config,
                          "samples_per_s": round(rate, 1), "batches": args.batches,
                          "seconds": round(seconds, 3)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
