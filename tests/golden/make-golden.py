#!/usr/bin/python3
"""Generate the PyTorch golden fixtures that Convscope's tests compare against.

Rerun from the repository root with

    /usr/bin/python3 tests/golden/make-golden.py

It rewrites these files in tests/golden/ (and nothing else):

  <model>.safetensors         the model's initial state_dict() exactly as
                              PyTorch names it ("1.weight", "3.conv1.weight",
                              "0.running_mean", "0.num_batches_tracked" as
                              I64, ...), with __metadata__ {"format":
                              "convscope", "model": <compact model JSON>}.
                              It stands for "a checkpoint written by PyTorch".
  <model>.golden.safetensors  F32 reference values for one batch of B=4:
                              x, y (class indices as F32), logits and loss
                              (train mode, initial state), dx, grad.<param>,
                              after_forward.<BN buffer>, eval_logits, and for
                              each optimizer O in sgd/adam/rmsprop the full
                              state after two steps on the same batch
                              (O.<name>, num_batches_tracked left out) plus
                              O.loss (the second step's loss).  The
                              hyper-parameters are in __metadata__.
  losses.golden.safetensors   cross-entropy (also with logits around +-50
                              and beyond the float32 exp() range), MSE and
                              softmax forward/backward, computed in float64.
  layers.golden.safetensors   single-layer forward/backward cases computed in
                              float64; each case's layer JSON is in
                              __metadata__ under the case name and the case
                              names are listed in __metadata__["cases"].

for the models mlp (data/models/mlp.json), simple-cnn
(data/models/simple-cnn.json) and residual-block
(tests/golden/residual-block.json).

Models are built from Convscope's model JSON into a torch.nn.Sequential whose
indices are the positions in "layers"; a "residual" layer becomes a module
with children conv1, bn1, conv2, bn2 and (when stride != 1 or in != out) a 1x1
shortcut; forward = bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x) with no ReLU
after the sum.  Weights keep PyTorch's default initialisation whatever the
JSON's "init" says (the checkpoint carries the actual values); every
BatchNorm then gets weight U(0.5,1.5), bias U(-0.2,0.2), running_mean
U(-0.1,0.1), running_var U(0.5,1.5).

The safetensors files are written by hand (8-byte little-endian header
length, JSON header padded with spaces to an 8-byte boundary, contiguous
little-endian row-major data in header order).  0-d tensors are stored with
shape [1] (num_batches_tracked, the losses).

Everything runs with fixed seeds on one thread; each fixture is computed
twice and must come out bit-identical, and every file written is read back
and compared.  Rerunning on the same PyTorch build gives identical bytes.
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GOLDEN_DIR = os.path.join(ROOT, "tests", "golden")

BATCH = 4

MODELS = [
    # (fixture name, model JSON path relative to the root, seed)
    ("mlp", "data/models/mlp.json", 1001),
    ("simple-cnn", "data/models/simple-cnn.json", 1002),
    ("residual-block", "tests/golden/residual-block.json", 1003),
]
LOSSES_SEED = 2001
LAYERS_SEED = 3001

# Hyper-parameters, kept as the strings recorded in the metadata.
OPTIMIZERS = {
    "sgd": {"lr": "0.1", "momentum": "0.9", "dampening": "0",
            "weight_decay": "1e-4", "nesterov": "false"},
    "adam": {"lr": "1e-3", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8",
             "weight_decay": "1e-4", "amsgrad": "false"},
    "rmsprop": {"lr": "1e-3", "alpha": "0.99", "eps": "1e-8",
                "weight_decay": "1e-4", "momentum": "0.5", "centered": "false"},
}
OPT_STEPS = 2


# --------------------------------------------------------------------------
# safetensors

DTYPES = {
    # name: (numpy little-endian dtype)
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
}


def to_numpy(t):
    """A torch tensor or array as a numpy array with a safetensors dtype."""
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        if t.dim() == 0:
            t = t.reshape(1)
        a = t.numpy()
    else:
        a = np.asarray(t)
        if a.ndim == 0:
            a = a.reshape(1)
    if a.dtype == np.float32:
        return a.astype("<f4")
    if a.dtype == np.int64:
        return a.astype("<i8")
    raise TypeError("unsupported dtype %s" % a.dtype)


def dtype_name(a):
    for name, dt in DTYPES.items():
        if a.dtype == dt:
            return name
    raise TypeError("unsupported dtype %s" % a.dtype)


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, numpy array) in file order; metadata: str->str."""
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("metadata keys and values must be strings")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    seen = set()
    for name, a in tensors:
        if name in seen or name == "__metadata__":
            raise ValueError("duplicate or reserved tensor name %r" % name)
        seen.add(name)
        a = np.ascontiguousarray(a)
        if a.ndim == 0:
            raise ValueError("0-d tensor %r: use shape [1]" % name)
        data = a.tobytes(order="C")
        header[name] = {"dtype": dtype_name(a), "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((-(8 + len(text))) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    """Returns (list of (name, array) in data order, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header runs past the end" % path)
    if (8 + n) % 8 != 0:
        raise ValueError("%s: data buffer not 8-byte aligned" % path)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    for k, v in metadata.items():
        if not isinstance(v, str):
            raise ValueError("%s: metadata %r is not a string" % (path, k))
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    out = []
    pos = 0
    for name, info in entries:
        begin, end = info["data_offsets"]
        dt = DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if begin != pos or end - begin != count * dt.itemsize:
            raise ValueError("%s: bad offsets for %r" % (path, name))
        out.append((name, np.frombuffer(data[begin:end], dtype=dt).reshape(shape)))
        pos = end
    if pos != len(data):
        raise ValueError("%s: %d trailing bytes" % (path, len(data) - pos))
    return out, metadata


def write_and_check(path, tensors, metadata):
    tensors = [(name, to_numpy(a)) for name, a in tensors]
    write_safetensors(path, tensors, metadata)
    back, meta_back = read_safetensors(path)
    if meta_back != metadata:
        raise AssertionError("%s: metadata round trip failed" % path)
    if [n for n, _ in back] != [n for n, _ in tensors]:
        raise AssertionError("%s: tensor order round trip failed" % path)
    for (n, a), (_, b) in zip(tensors, back):
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            raise AssertionError("%s: tensor %r round trip failed" % (path, n))
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise AssertionError("%s: tensor %r is not finite" % (path, n))
    size = os.path.getsize(path)
    print("%-34s %9d bytes  %3d tensors" % (os.path.relpath(path, ROOT), size, len(back)))
    return back


# --------------------------------------------------------------------------
# Model JSON -> torch.nn.Sequential

def pair(v):
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError("expected an int or [h, w], got %r" % (v,))
        return (int(v[0]), int(v[1]))
    return (int(v), int(v))


class Residual(nn.Module):
    """conv-BN-ReLU-conv-BN plus an identity or 1x1-conv shortcut; no ReLU
    after the sum (the model JSON has a separate relu layer)."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride,
                               padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1,
                               padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1,
                                      stride=stride, bias=False)
        else:
            self.shortcut = None

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return out + (self.shortcut(x) if self.shortcut is not None else x)


def build_layer(spec):
    t = spec["type"]
    if t == "linear":
        return nn.Linear(spec["in_features"], spec["out_features"],
                         bias=spec.get("bias", True))
    if t == "conv2d":
        conv = nn.Conv2d(spec["in_channels"], spec["out_channels"],
                         pair(spec["kernel_size"]),
                         stride=pair(spec.get("stride", 1)),
                         padding=pair(spec.get("padding", 0)),
                         dilation=pair(spec.get("dilation", 1)),
                         bias=spec.get("bias", True))
        if "weight" in spec:
            w = torch.tensor(spec["weight"], dtype=torch.float32)
            if w.numel() != conv.weight.numel():
                raise ValueError("conv2d weight has %d values, expected %d"
                                 % (w.numel(), conv.weight.numel()))
            with torch.no_grad():
                conv.weight.copy_(w.reshape(conv.weight.shape))
        return conv
    if t in ("maxpool2d", "avgpool2d"):
        k = pair(spec["kernel_size"])
        s = pair(spec.get("stride", spec["kernel_size"]))
        p = pair(spec.get("padding", 0))
        if t == "maxpool2d":
            return nn.MaxPool2d(k, stride=s, padding=p)
        return nn.AvgPool2d(k, stride=s, padding=p,
                            count_include_pad=spec.get("count_include_pad", True))
    if t == "relu":
        return nn.ReLU()
    if t == "leaky_relu":
        return nn.LeakyReLU(spec.get("negative_slope", 0.01))
    if t == "sigmoid":
        return nn.Sigmoid()
    if t == "tanh":
        return nn.Tanh()
    if t == "softmax":
        return nn.Softmax(dim=1)
    if t == "flatten":
        return nn.Flatten(1)
    if t == "batchnorm2d":
        return nn.BatchNorm2d(spec["num_features"], eps=spec.get("eps", 1e-5),
                              momentum=spec.get("momentum", 0.1))
    if t == "dropout":
        return nn.Dropout(spec.get("p", 0.5))
    if t == "residual":
        return Residual(spec["in_channels"], spec["out_channels"],
                        spec.get("stride", 1))
    raise ValueError("unknown layer type %r" % t)


def build_model(desc):
    return nn.Sequential(*[build_layer(s) for s in desc["layers"]])


def randomize_batchnorm(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def clone_state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def is_bn_stat(name):
    return name.endswith(".running_mean") or name.endswith(".running_var")


# --------------------------------------------------------------------------
# Model fixtures

def make_optimizer(name, params):
    h = {k: v for k, v in OPTIMIZERS[name].items()}
    f = lambda k: float(h[k])
    if name == "sgd":
        return torch.optim.SGD(params, lr=f("lr"), momentum=f("momentum"),
                               dampening=f("dampening"),
                               weight_decay=f("weight_decay"), nesterov=False)
    if name == "adam":
        return torch.optim.Adam(params, lr=f("lr"), betas=(f("beta1"), f("beta2")),
                                eps=f("eps"), weight_decay=f("weight_decay"),
                                amsgrad=False)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=f("lr"), alpha=f("alpha"), eps=f("eps"),
                                   weight_decay=f("weight_decay"),
                                   momentum=f("momentum"), centered=False)
    raise ValueError(name)


def compute_model_fixture(desc, seed):
    """Returns (checkpoint tensors, golden tensors), lists of (name, tensor)."""
    torch.manual_seed(seed)
    model = build_model(desc)
    randomize_batchnorm(model)
    x = torch.rand(BATCH, *desc["input"])
    y = torch.randint(0, desc.get("classes", 10), (BATCH,))
    init = clone_state(model)
    ce = nn.CrossEntropyLoss()

    checkpoint = [(k, v) for k, v in init.items()]

    # One train-mode forward + backward from the initial state.
    model.train()
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    if tuple(logits.shape) != (BATCH, desc.get("classes", 10)):
        raise AssertionError("%s: logits shape %s" % (desc["name"], tuple(logits.shape)))
    loss = ce(logits, y)
    model.zero_grad()
    loss.backward()
    golden = [("x", x), ("y", y.to(torch.float32)),
              ("logits", logits.detach().clone()),
              ("loss", loss.detach().reshape(1)),
              ("dx", xg.grad.detach().clone())]
    for name, p in model.named_parameters():
        golden.append(("grad." + name, p.grad.detach().clone()))
    for name, b in model.state_dict().items():
        if is_bn_stat(name):
            golden.append(("after_forward." + name, b.detach().clone()))

    # Eval mode from the initial state.
    model.load_state_dict(init)
    model.eval()
    with torch.no_grad():
        golden.append(("eval_logits", model(x).clone()))

    # Two optimizer steps on the same batch from the initial state.
    for oname in OPTIMIZERS:
        model.load_state_dict(init)
        model.train()
        model.zero_grad(set_to_none=True)
        opt = make_optimizer(oname, model.parameters())
        for _ in range(OPT_STEPS):
            opt.zero_grad()
            loss = ce(model(x), y)
            loss.backward()
            opt.step()
        for name, v in model.state_dict().items():
            if not name.endswith("num_batches_tracked"):
                golden.append(("%s.%s" % (oname, name), v.detach().clone()))
        golden.append((oname + ".loss", loss.detach().reshape(1)))

    return checkpoint, golden


def same(a, b):
    if [n for n, _ in a] != [n for n, _ in b]:
        return False
    return all(to_numpy(u).tobytes() == to_numpy(v).tobytes()
               for (_, u), (_, v) in zip(a, b))


def model_metadata(name, seed):
    meta = {"format": "convscope", "model": name, "seed": str(seed),
            "batch": str(BATCH), "loss": "cross_entropy_mean",
            "optimizer_steps": str(OPT_STEPS), "torch": torch.__version__}
    for oname, h in OPTIMIZERS.items():
        for k, v in h.items():
            meta["%s.%s" % (oname, k)] = v
    return meta


def make_model_files(name, rel_path, seed):
    with open(os.path.join(ROOT, rel_path), encoding="utf-8") as f:
        text = f.read()
    desc = json.loads(text)
    compact = json.dumps(desc, separators=(",", ":"), ensure_ascii=False)

    ck1, g1 = compute_model_fixture(desc, seed)
    ck2, g2 = compute_model_fixture(desc, seed)
    if not same(ck1, ck2) or not same(g1, g2):
        raise AssertionError("%s: two runs differ, not deterministic" % name)

    write_and_check(os.path.join(GOLDEN_DIR, name + ".safetensors"), ck1,
                    {"format": "convscope", "model": compact})
    write_and_check(os.path.join(GOLDEN_DIR, name + ".golden.safetensors"), g1,
                    model_metadata(name, seed))
    return [n for n, _ in g1]


# --------------------------------------------------------------------------
# Loss and softmax fixtures (float64 maths on float32-representable inputs)

def f32(shape, kind="normal", scale=1.0):
    if kind == "normal":
        t = torch.randn(*shape)
    else:
        t = torch.rand(*shape) * 2 - 1
    return (t * scale).to(torch.float32)


def compute_losses():
    torch.manual_seed(LOSSES_SEED)
    out = []

    def ce_case(prefix, logits32, target):
        logits = logits32.double().requires_grad_(True)
        loss = F.cross_entropy(logits, target, reduction="mean")
        loss.backward()
        out.extend([(prefix + ".logits", logits32), (prefix + ".target", target.to(torch.float32)),
                    (prefix + ".loss", loss.detach().float().reshape(1)),
                    (prefix + ".dlogits", logits.grad.float())])

    ce_case("ce", f32((5, 10)), torch.randint(0, 10, (5,)))
    # Large logits: +-50 plus noise; the last row is shifted by +100 so that a
    # naive exp() overflows float32 and only a max-subtracted log-sum-exp works.
    sign = torch.where(torch.rand(5, 10) < 0.5, -1.0, 1.0)
    big = sign * 50 + torch.randn(5, 10)
    big[4] += 100
    ce_case("ce_large", big.to(torch.float32), torch.randint(0, 10, (5,)))

    pred32, target32 = f32((5, 10)), f32((5, 10))
    pred = pred32.double().requires_grad_(True)
    loss = F.mse_loss(pred, target32.double(), reduction="mean")
    loss.backward()
    out.extend([("mse.pred", pred32), ("mse.target", target32),
                ("mse.loss", loss.detach().float().reshape(1)),
                ("mse.dpred", pred.grad.float())])

    x32, dy32 = f32((5, 10), scale=2.0), f32((5, 10))
    x = x32.double().requires_grad_(True)
    y = torch.softmax(x, dim=1)
    y.backward(dy32.double())
    out.extend([("softmax.x", x32), ("softmax.y", y.detach().float()),
                ("softmax.dy", dy32), ("softmax.dx", x.grad.float())])
    return out


def make_losses_file():
    a, b = compute_losses(), compute_losses()
    if not same(a, b):
        raise AssertionError("losses: two runs differ")
    meta = {"format": "convscope", "seed": str(LOSSES_SEED), "precision": "float64",
            "cases": "ce,ce_large,mse,softmax", "ce.reduction": "mean",
            "ce_large.reduction": "mean", "mse.reduction": "mean", "softmax.dim": "1",
            "torch": torch.__version__}
    write_and_check(os.path.join(GOLDEN_DIR, "losses.golden.safetensors"), a, meta)


# --------------------------------------------------------------------------
# Single-layer fixtures (float64 maths on float32-representable inputs)

LAYER_CASES = [
    ("conv2d_s2_p1_d2", {"type": "conv2d", "in_channels": 3, "out_channels": 4,
                         "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2,
                         "bias": True}, (2, 3, 9, 9)),
    ("conv2d_rect", {"type": "conv2d", "in_channels": 3, "out_channels": 4,
                     "kernel_size": [2, 3], "stride": [1, 2], "bias": False},
     (2, 3, 6, 9)),
    ("maxpool2d_k2_s2_p1", {"type": "maxpool2d", "kernel_size": 2, "stride": 2,
                            "padding": 1}, (2, 3, 5, 5)),
    ("maxpool2d_k3_s2", {"type": "maxpool2d", "kernel_size": 3, "stride": 2},
     (1, 2, 7, 7)),
    ("avgpool2d_k3_s2_p1", {"type": "avgpool2d", "kernel_size": 3, "stride": 2,
                            "padding": 1}, (1, 2, 7, 7)),
    ("leaky_relu", {"type": "leaky_relu", "negative_slope": 0.01}, (2, 3, 4, 4)),
    ("sigmoid", {"type": "sigmoid"}, (2, 3, 4, 4)),
    ("tanh", {"type": "tanh"}, (2, 3, 4, 4)),
    ("batchnorm2d", {"type": "batchnorm2d", "num_features": 3, "eps": 1e-5,
                     "momentum": 0.1}, (4, 3, 5, 5)),
]


def compute_layers():
    torch.manual_seed(LAYERS_SEED)
    out = []
    for case, spec, shape in LAYER_CASES:
        layer = build_layer(spec)          # float32, PyTorch default init
        if isinstance(layer, nn.BatchNorm2d):
            with torch.no_grad():
                layer.weight.uniform_(0.5, 1.5)
                layer.bias.uniform_(-0.2, 0.2)
        x32 = f32(shape)
        params32 = [(n, p.detach().clone()) for n, p in layer.named_parameters()]
        layer = layer.double().train()
        x = x32.double().requires_grad_(True)
        y = layer(x)
        dout32 = f32(tuple(y.shape))
        y.backward(dout32.double())
        out.append((case + ".x", x32))
        for n, p in params32:
            out.append(("%s.%s" % (case, n), p))
        out.extend([(case + ".dout", dout32), (case + ".out", y.detach().float()),
                    (case + ".dx", x.grad.float())])
        for n, p in layer.named_parameters():
            out.append(("%s.d%s" % (case, n), p.grad.float()))
    return out


def make_layers_file():
    a, b = compute_layers(), compute_layers()
    if not same(a, b):
        raise AssertionError("layers: two runs differ")
    meta = {"format": "convscope", "seed": str(LAYERS_SEED), "precision": "float64",
            "mode": "train", "cases": ",".join(c for c, _, _ in LAYER_CASES),
            "torch": torch.__version__}
    for case, spec, _ in LAYER_CASES:
        meta[case] = json.dumps(spec, separators=(",", ":"))
    write_and_check(os.path.join(GOLDEN_DIR, "layers.golden.safetensors"), a, meta)


# --------------------------------------------------------------------------

def check_presets():
    """Every preset in data/models must build and map its input to a vector."""
    d = os.path.join(ROOT, "data", "models")
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".json"):
            continue
        with open(os.path.join(d, fn), encoding="utf-8") as f:
            desc = json.load(f)
        torch.manual_seed(0)
        m = build_model(desc).eval()
        with torch.no_grad():
            y = m(torch.rand(2, *desc["input"]))
        n = sum(p.numel() for p in m.parameters())
        if y.dim() != 2 or ("classes" in desc and y.shape[1] != desc["classes"]):
            raise AssertionError("%s: output shape %s" % (fn, tuple(y.shape)))
        print("preset %-18s %8d parameters, output %s" % (fn, n, tuple(y.shape[1:])))


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    check_presets()
    names = {}
    for name, rel, seed in MODELS:
        names[name] = make_model_files(name, rel, seed)
    make_losses_file()
    make_layers_file()
    print("residual-block.golden.safetensors tensors: " + " ".join(names["residual-block"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
