#!/usr/bin/python3
"""test-lesson.py — the guided lesson's PyTorch code is right (TAP)

Reads the pages of app/ui/lesson.ui and, with Debian's python3-torch:
every page's code compiles; the nn.Module of each model page has the same
layers and shapes as Convscope's preset (data/models/*.json, built into an
nn.Sequential by tests/golden/make-golden.py) and computes the same
function once given the same weights; the pooling page's numbers are the
worked example's; and the pages from the initialisation to the evaluation
run in order, as one program, on a small batch of random pictures (the
first page's torchvision download is only compiled). Skips when torch is
not installed.
"""
import contextlib
import importlib.util
import io
import os
import re
import sys
import xml.etree.ElementTree as ET

ROOT = os.environ.get("CS_SOURCE_ROOT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# the model page's class → the preset it must match
PRESETS = {"MLP": "mlp", "SimpleCNN": "simple-cnn"}

results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def load_pages():
    tree = ET.parse(os.path.join(ROOT, "app", "ui", "lesson.ui"))
    pages = {}
    for obj in tree.getroot().iter("object"):
        if obj.get("class") != "CsLessonPage":
            continue
        props = {p.get("name"): (p.text or "") for p in obj.iter("property")}
        pages[obj.get("id")] = props
    return [pages[k] for k in sorted(pages)]


def main():
    try:
        import torch
        from torch import nn
    except ImportError:
        print("1..0 # SKIP python3-torch is not installed")
        return 0
    spec = importlib.util.spec_from_file_location(
        "make_golden", os.path.join(ROOT, "tests", "golden", "make-golden.py"))
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    import json

    pages = load_pages()
    check("the lesson has pages", len(pages) >= 10, "%d pages" % len(pages))
    for i, page in enumerate(pages):
        code = page.get("code", "").strip()
        try:
            compile(code, "page%02d" % (i + 1), "exec")
            check("page %d's code compiles" % (i + 1), code != "")
        except SyntaxError as e:
            check("page %d's code compiles" % (i + 1), False, str(e))

    torch.manual_seed(6)
    x = torch.rand(64, 1, 28, 28)
    models = {}
    for i, page in enumerate(pages):
        code = page["code"].strip()
        m = re.search(r"^class (\w+)\(nn\.Module\):", code, re.M)
        if not m:
            continue
        ns = {}
        exec(code, ns)
        model = ns["model"]
        name = m.group(1)
        models[name] = (i, model)
        preset = PRESETS.get(name)
        check("page %d's %s is a preset" % (i + 1, name), preset is not None)
        if preset is None:
            continue
        with open(os.path.join(ROOT, "data", "models", preset + ".json")) as f:
            desc = json.load(f)
        seq = golden.build_model(desc)
        mine = [tuple(p.shape) for p in model.parameters()]
        theirs = [tuple(p.shape) for p in seq.parameters()]
        check("%s has the layer shapes of %s.json" % (name, preset), mine == theirs,
              "%s vs %s" % (mine, theirs))
        if mine != theirs:
            continue
        with torch.no_grad():
            for a, b in zip(model.parameters(), seq.parameters()):
                b.copy_(a)
            ya, yb = model(x), seq(x)
        check("%s computes what %s.json does" % (name, preset),
              ya.shape == (64, 10) and torch.allclose(ya, yb, atol=1e-6),
              "largest difference %g" % (ya - yb).abs().max().item())
    check("the lesson defines the MLP and the SimpleCNN", set(models) == set(PRESETS),
          "found %s" % sorted(models))

    # the pooling page: the worked example's numbers
    for i, page in enumerate(pages):
        if page.get("view") == "pooling":
            ns = {}
            with contextlib.redirect_stdout(io.StringIO()):
                exec(page["code"], ns)
            check("page %d pools the worked example" % (i + 1),
                  ns["y"].flatten().tolist() == [24.0, 18.0, 28.0, 18.0], str(ns["y"].tolist()))

    # from the initialisation to the evaluation, in order, on the MLP
    from torch.utils.data import DataLoader, TensorDataset
    labels = torch.randint(0, 10, (64,))
    data = TensorDataset(torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,)))
    ns = {"torch": torch, "nn": nn, "model": models["MLP"][1], "images": x, "labels": labels,
          "train_loader": DataLoader(data, batch_size=64, shuffle=True),
          "test_loader": DataLoader(data, batch_size=64)}
    first = min(i for i, p in enumerate(pages) if p.get("highlight") == "reset")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for i in range(first, len(pages)):
                before = [p.detach().clone() for p in ns["model"].parameters()]
                exec(pages[i]["code"], ns)
                if pages[i].get("highlight") == "reset":
                    fc1 = ns["model"].fc1
                    bound = (6.0 / (784 + 256)) ** 0.5
                    check("page %d: Xavier uniform weights, zero biases" % (i + 1),
                          fc1.weight.abs().max().item() <= bound
                          and fc1.weight.abs().max().item() > 0.9 * bound
                          and fc1.bias.abs().max().item() == 0.0)
                if "optimizer.step()" in pages[i]["code"]:
                    moved = any(not torch.equal(a, b)
                                for a, b in zip(before, ns["model"].parameters()))
                    check("page %d: the step moves the weights" % (i + 1), moved)
        check("the pages from initialisation to evaluation run", True)
        check("the evaluation prints an accuracy", "accuracy:" in out.getvalue(), out.getvalue())
    except Exception as e:  # noqa: BLE001 — reported as a failing test
        check("the pages from initialisation to evaluation run", False, repr(e))

    print("1..%d" % len(results))
    for n, (name, ok, detail) in enumerate(results, 1):
        print("%s %d %s" % ("ok" if ok else "not ok", n, name))
        if detail and not ok:
            print("# " + detail.replace("\n", "\n# "))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
