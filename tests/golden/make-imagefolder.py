#!/usr/bin/python3
"""Generate the image-folder fixture that test-imagefolder compares against.

Rerun from the repository root with

    /usr/bin/python3 tests/golden/make-imagefolder.py

(needs Debian's python3-torchvision and python3-pil). It rewrites

  tests/golden/imagefolder-images-idx3-ubyte   (n, 28, 28) bytes
  tests/golden/imagefolder-labels-idx1-ubyte   (n) bytes

with what torchvision reads from the folder below through

  ImageFolder(root, transform=Compose([Grayscale(), Resize((28, 28)),
                                       ToTensor()]))

times 255, in ImageFolder's order. The pictures are made from formulas that
tests/test-imagefolder.c repeats, and saved as PNG (lossless, so both sides
read the same pixels; opaque, since ImageFolder drops an alpha channel that
Convscope composites over white). The folder also holds what both skip: a
hidden file in a class folder and a file beside the class folders. (A hidden
folder, such as Jupyter's .ipynb_checkpoints, ImageFolder takes for a class;
Convscope skips it, and the C test checks that apart.)
"""

import os
import struct
import sys
import tempfile

import torch
import torchvision
from PIL import Image
from torchvision import transforms

# (class, file, width, height, seed, grey): keep in step with FILES in
# tests/test-imagefolder.c
FILES = [
    ("10", "b.png", 28, 28, 1, False),
    ("10", "a.png", 56, 56, 2, False),
    ("2", "Z.png", 37, 23, 3, False),
    ("2", "y.png", 20, 10, 4, False),
    ("2", "x.png", 100, 300, 5, True),
    ("cat", "img.png", 9, 40, 6, False),
]


def pixel(x, y, k, grey):
    if grey:
        v = (x * 3 + y * y + 7 * k) & 255
        return (v, v, v)
    return ((x * 7 + y * 3 + 11 * k) & 255,
            (x * x + y * 5 + 17 * k) & 255,
            (x * y + 3 * k) & 255)


def write_idx(path, magic, dims, data):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(bytes(data))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as root:
        for cls, name, w, h, k, grey in FILES:
            os.makedirs(os.path.join(root, cls), exist_ok=True)
            im = Image.new("RGB", (w, h))
            im.putdata([pixel(x, y, k, grey) for y in range(h) for x in range(w)])
            im.save(os.path.join(root, cls, name))
        with open(os.path.join(root, "cat", ".DS_Store"), "wb") as f:
            f.write(b"\0\0\0\1Bud1")
        with open(os.path.join(root, "README.txt"), "w") as f:
            f.write("not a class\n")

        ds = torchvision.datasets.ImageFolder(root, transform=transforms.Compose([
            transforms.Grayscale(), transforms.Resize((28, 28)), transforms.ToTensor()]))
        assert ds.classes == ["10", "2", "cat"], ds.classes
        images, labels = [], []
        for x, y in ds:
            assert x.shape == (1, 28, 28)
            b = (x * 255).round()
            assert torch.equal(b / 255, x), "ToTensor gives L / 255"
            images += [int(v) for v in b.flatten()]
            labels.append(y)
        order = [os.path.relpath(p, root) for p, _ in ds.samples]
        print("order:", order, "labels:", labels, file=sys.stderr)

    write_idx(os.path.join(here, "imagefolder-images-idx3-ubyte"), 0x803,
              [len(labels), 28, 28], images)
    write_idx(os.path.join(here, "imagefolder-labels-idx1-ubyte"), 0x801,
              [len(labels)], labels)


if __name__ == "__main__":
    main()
