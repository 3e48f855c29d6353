#!/usr/bin/env python3
"""The accuracy targets of the data issue, trained for real with convscope-cli.

    tests/test-accuracy.py build/app/convscope-cli

Adam, lr 1e-3, batch 64, seed 1, two threads (a run repeats bit for bit
with the same thread count):

  bundled digits   MLP 5 epochs ≥ 93%    SimpleCNN 5 epochs ≥ 97%
  Fashion-MNIST    MLP 5 epochs ≥ 87%    SimpleCNN 3 epochs ≥ 90%

Fashion-MNIST comes from Debian's dataset-fashion-mnist; without it those
two are skipped, and say so. Prints TAP.
"""

import json
import os
import subprocess
import sys

CLI = sys.argv[1]
CASES = [
    ("digits", "mlp", 5, 0.93),
    ("digits", "simple-cnn", 5, 0.97),
    ("fashion", "mlp", 5, 0.87),
    ("fashion", "simple-cnn", 3, 0.90),
]
FASHION = os.environ.get("CONVSCOPE_FASHION_DIR", "/usr/share/datasets/fashion-mnist")


def main():
    print("1..%d" % len(CASES))
    failed = 0
    for i, (dataset, model, epochs, target) in enumerate(CASES, 1):
        what = "%s on %s, %d epochs: test accuracy ≥ %.0f%%" % (model, dataset, epochs, 100 * target)
        if dataset == "fashion" and not os.path.exists(os.path.join(FASHION, "train-images-idx3-ubyte.gz")):
            print("ok %d - %s # SKIP Fashion-MNIST is not installed (dataset-fashion-mnist)" % (i, what))
            continue
        p = subprocess.run([CLI, "train", "--json", "-m", model, "-d", dataset, "-e", str(epochs),
                            "-t", "2", "--seed", "1", "--optimizer", "adam", "--lr", "0.001",
                            "-b", "64"], capture_output=True, text=True)
        epochs_seen = [json.loads(l) for l in p.stdout.splitlines() if '"epoch"' in l]
        acc = epochs_seen[-1]["test_accuracy"] if p.returncode == 0 and epochs_seen else 0.0
        ok = acc >= target and len(epochs_seen) == epochs
        failed += not ok
        print("%s %d - %s (got %.2f%%)" % ("ok" if ok else "not ok", i, what, 100 * acc))
        if not ok:
            print("#   " + p.stderr.strip().replace("\n", "\n#   "))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
