#!/usr/bin/env python3
"""End-to-end tests of convscope-cli: the real binary on the bundled data.

    tests/test-cli.py build/app/convscope-cli

Trains a model for an epoch, saves it, evaluates it, predicts PNG files
(and one on stdin), and runs every error path the issue lists: each must
exit with the documented status and print exactly one line on stderr that
names the argument or file at fault. Prints TAP.
"""

import gzip
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

CLI = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "data", "digits")

results = []


def check(ok, what, detail=""):
    results.append(ok)
    print(("ok %d - %s" if ok else "not ok %d - %s") % (len(results), what))
    if not ok and detail:
        for line in str(detail).splitlines():
            print("#   " + line)
    sys.stdout.flush()


def run(*args, stdin=None, env=None):
    e = dict(os.environ)
    e["LC_ALL"] = "C.UTF-8"
    if env:
        e.update(env)
    p = subprocess.run([CLI] + list(args), input=stdin, capture_output=True, env=e,
                       timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def json_lines(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def read_idx(name):
    with gzip.open(os.path.join(DIGITS, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def png_gray(width, height, pixels):
    """A minimal 8-bit grayscale PNG (no PIL on a fresh Debian)."""
    raw = b"".join(b"\0" + bytes(pixels[y * width:(y + 1) * width]) for y in range(height))

    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def error_case(what, args, status, must_name):
    code, out, err = run(*args)
    lines = [l for l in err.splitlines() if l.strip()]
    ok = code == status and len(lines) == 1 and must_name in lines[0] and out == ""
    check(ok, "%s: exit %d, one line naming %r" % (what, status, must_name),
          "exit %d\nstdout: %r\nstderr: %r" % (code, out, err))


def main():
    tmp = tempfile.mkdtemp(prefix="convscope-cli-test-")
    ckpt = os.path.join(tmp, "mlp.safetensors")

    # --help, usage
    code, out, _ = run("--help")
    check(code == 0 and "train" in out and "convolve" in out, "convscope-cli --help")
    for cmd in ("train", "eval", "predict", "convolve", "bench"):
        code, out, err = run(cmd, "--help")
        check(code == 0 and "Usage:" in out and "--json" in out, cmd + " --help")
    code, _, err = run()
    check(code == 2 and "Usage" in err, "no command: exit 2 with the usage")
    error_case("unknown command", ["frobnicate"], 2, "frobnicate")

    # train one epoch, save, with JSON lines
    code, out, err = run("train", "-m", "mlp", "-e", "1", "-t", "1", "--save", ckpt, "--json")
    lines = json_lines(out) if code == 0 else []
    events = [l.get("event") for l in lines]
    check(code == 0 and events == ["start", "epoch", "saved"], "train --json: start, epoch, saved",
          "exit %d\n%s\n%s" % (code, out, err))
    epoch = lines[1] if len(lines) > 1 else {}
    check(epoch.get("test_accuracy", 0) > 0.85 and epoch.get("step") == 125,
          "train: 125 steps of 64, test accuracy above 85% after one epoch", epoch)
    check(os.path.isfile(ckpt), "train --save wrote the checkpoint")

    # the same numbers from eval
    code, out, err = run("eval", "-c", ckpt, "--json")
    ev = json_lines(out)[0] if code == 0 else {}
    check(code == 0 and ev.get("examples") == 2000
          and abs(ev.get("accuracy", -1) - epoch.get("test_accuracy", -2)) < 1e-9,
          "eval gives the accuracy train reported", "%s %s" % (out, err))
    conf = ev.get("confusion", [])
    check(len(conf) == 10 and sum(map(sum, conf)) == 2000
          and sum(conf[i][i] for i in range(10)) == ev.get("correct"),
          "eval: a 10×10 confusion matrix whose diagonal is the correct count")
    code, out, _ = run("eval", "-c", ckpt)
    check(code == 0 and "confusion matrix" in out and "accuracy" in out, "eval, human output")

    # predict PNGs made from test digits, one of them on stdin
    (n, rows, cols), images = read_idx("t10k-images-idx3-ubyte.gz")
    _, labels = read_idx("t10k-labels-idx1-ubyte.gz")
    paths = []
    for i in range(20):
        # white ink on black, as MNIST; the picture is enlarged 3× so that
        # preprocessing has work to do
        img = images[i * 784:(i + 1) * 784]
        big = [img[(y // 3) * 28 + x // 3] for y in range(84) for x in range(84)]
        path = os.path.join(tmp, "digit-%02d-%d.png" % (i, labels[i]))
        with open(path, "wb") as f:
            f.write(png_gray(84, 84, big))
        paths.append(path)
    code, out, err = run("predict", "-c", ckpt, "--json", *paths)
    preds = json_lines(out) if code == 0 else []
    right = sum(1 for p, i in zip(preds, range(20)) if p.get("class") == labels[i])
    check(code == 0 and len(preds) == 20 and right >= 17,
          "predict: %d of 20 enlarged test digits right" % right, out + err)
    probs = preds[0].get("probabilities", []) if preds else []
    check(len(probs) == 10 and abs(sum(probs) - 1) < 1e-4, "predict: ten probabilities summing to 1")
    with open(paths[0], "rb") as f:
        code, out, err = run("predict", "-c", ckpt, "--json", "-", stdin=f.read())
    p = json_lines(out)[0] if code == 0 else {}
    check(p.get("class") == preds[0].get("class") and p.get("file") == "-",
          "predict - reads a PNG on stdin", out + err)

    # a folder of MNIST IDX files, and a folder of train/ and test/ image folders
    idx_dir = os.path.join(tmp, "idx")
    os.mkdir(idx_dir)
    for name in os.listdir(DIGITS):
        if name.endswith(".gz"):
            os.symlink(os.path.join(DIGITS, name), os.path.join(idx_dir, name))
    code, out, err = run("train", "-d", idx_dir, "-t", "1", "--json")
    lines = json_lines(out) if code == 0 else []
    check(code == 0 and lines[1]["test_accuracy"] == epoch.get("test_accuracy"),
          "train on a folder of IDX files gives the bundled digits' result", out + err)
    folders = os.path.join(tmp, "folders")
    for split, count in (("train", 60), ("test", 20)):
        offset = 0 if split == "train" else 100
        for i in range(offset, offset + count):
            label = labels[i]
            d = os.path.join(folders, split, "digit-%d" % label)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "%04d.png" % i), "wb") as f:
                f.write(png_gray(28, 28, images[i * 784:(i + 1) * 784]))
    code, out, err = run("train", "-d", folders, "-e", "3", "-t", "1", "--json")
    lines = json_lines(out) if code == 0 else []
    check(code == 0 and len(lines) == 4 and lines[0]["train_examples"] == 60
          and lines[0]["test_examples"] == 20,
          "train on an image folder with train/ and test/", out + err)
    code, out, err = run("eval", "-c", ckpt, "-d", folders)
    check(code == 0 and "digit-" in out, "eval on an image folder names its classes", out + err)
    os.makedirs(os.path.join(folders, "test", "digit-x"))
    with open(os.path.join(folders, "test", "digit-x", "readme.txt"), "w") as f:
        f.write("hello")
    error_case("train on an image folder with a non-image file", ["train", "-d", folders], 1,
               "readme.txt")

    # error paths: one line, naming the culprit
    error_case("train --epochs 0", ["train", "--epochs", "0"], 2, "--epochs")
    error_case("train --batch-size -3", ["train", "-b", "-3"], 2, "--batch-size")
    error_case("train --optimizer bad", ["train", "--optimizer", "adagrad"], 2, "adagrad")
    error_case("train --lr -1", ["train", "--lr", "-1"], 2, "learning rate")
    error_case("train unknown option", ["train", "--frobnicate"], 2, "frobnicate")
    error_case("train --model missing preset", ["train", "-m", "resnet152"], 1, "resnet152")
    bad_json = os.path.join(tmp, "bad.json")
    with open(bad_json, "w") as f:
        f.write('{"name": "x", "input": [1, 28, 28], "layers": [{"type": "conv9d"}]}')
    error_case("train --model bad JSON", ["train", "-m", bad_json], 1, "conv9d")
    error_case("train --dataset missing folder", ["train", "-d", "/nonexistent/x"], 1, "/nonexistent/x")
    error_case("train --dataset unknown name", ["train", "-d", "cifar"], 1, "cifar")
    error_case("train --device bogus", ["train", "--device", "tpu"], 2, "tpu")
    error_case("eval without --checkpoint", ["eval"], 2, "--checkpoint")
    error_case("eval missing checkpoint", ["eval", "-c", os.path.join(tmp, "nope.safetensors")], 1,
               "nope.safetensors")
    garbage = os.path.join(tmp, "garbage.safetensors")
    with open(garbage, "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    error_case("eval corrupt checkpoint", ["eval", "-c", garbage], 1, "garbage.safetensors")
    error_case("eval --split bad", ["eval", "-c", ckpt, "--split", "dev"], 2, "dev")
    notes = os.path.join(tmp, "notes.png")
    with open(notes, "w") as f:
        f.write("not a picture\n")
    error_case("predict a text file named .png", ["predict", "-c", ckpt, notes], 1, "notes.png")
    error_case("predict without files", ["predict", "-c", ckpt], 2, "FILE")
    error_case("bench --threads bad", ["bench", "--threads", "0"], 2, "--threads")

    # Ctrl-C during train --save leaves the old checkpoint untouched
    with open(ckpt, "rb") as f:
        before = f.read()
    e = dict(os.environ)
    p = subprocess.Popen([CLI, "train", "-m", "simple-cnn", "-e", "3", "-t", "1", "--save", ckpt],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    p.stdout.readline()  # the banner: interrupts are caught from here on
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    with open(ckpt, "rb") as f:
        after = f.read()
    stray = [n for n in os.listdir(tmp) if n.startswith("mlp.safetensors.")]
    check(p.returncode == 130 and after == before and not stray and b"interrupted" in err,
          "Ctrl-C during train --save: exit 130, old checkpoint unchanged, no temporary file",
          "exit %s, stray %s, stderr %r" % (p.returncode, stray, err))

    # a terminal gets a progress bar with an ETA
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(CLI, [CLI, "train", "-m", "mlp", "-e", "1", "-t", "1"])
    data = b""
    while True:
        r, _, _ = select.select([fd], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    text = data.decode("utf-8", "replace")
    check(os.WEXITSTATUS(status) == 0 and "\r" in text and "ETA" in text and "test accuracy" in text,
          "train on a terminal draws a progress bar with an ETA", text[-500:])

    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
