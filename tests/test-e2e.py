#!/usr/bin/python3
"""test-e2e.py CONVSCOPE [--screenshots DIR] — the real application, end to end

Runs the convscope binary on the display it is given (tests/gui/run-xvfb.sh
makes one), draws digits on the canvas with real pointer strokes (xdotool:
press, moves 4 px and 20 ms apart, release), and reads the prediction back
through the accessibility bus (AT-SPI, Debian's python3-pyatspi) from the
prediction label's accessible name, "Prediction: 7". The SimpleCNN must
read a drawn 1 and 7 right, and so must the MLP. Also: the prediction
changes while the button is still down, Ctrl+Z undoes a stroke, Delete and
the Clear button clear the canvas, the MLP/CNN buttons work by their
accessible actions, and the settings schema is found with the program
run uninstalled. In the Training view: Step, pressed through its
accessible action, trains one batch (the step counter and the loss label
read back), and Play, ten seconds, Pause raise the accuracy.

With --screenshots DIR it also saves the window at 1280×800 and 1920×1080
(ImageMagick's import) with a drawn 7, and the Mistakes view at 1280×800:
tools/make-screenshots.sh.

TAP output; "1..0 # SKIP …" when xdotool or pyatspi is missing.
"""
import os
import shutil
import subprocess
import sys
import time

ONE = [(0.52, 0.15), (0.50, 0.50), (0.47, 0.85)]
SEVEN = [(0.25, 0.20), (0.75, 0.20), (0.45, 0.85)]

planned = 0
failed = 0
number = 0


def ok(cond, what):
    global number, failed
    number += 1
    print(f"{'ok' if cond else 'not ok'} {number} {what}", flush=True)
    if not cond:
        failed += 1
    return cond


def note(text):
    for line in str(text).splitlines():
        print(f"# {line}", flush=True)


def skip_all(why):
    print(f"1..0 # SKIP {why}")
    sys.exit(0)


if len(sys.argv) < 2:
    sys.exit(__doc__)
APP = sys.argv[1]
SHOTS = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None

if not os.environ.get("DISPLAY"):
    skip_all("no display (run under tests/gui/run-xvfb.sh)")
if shutil.which("xdotool") is None:
    skip_all("no xdotool")
try:
    import pyatspi
except ImportError:
    skip_all("no pyatspi (python3-pyatspi, for /usr/bin/python3)")


def xdo(*args):
    return subprocess.run(["xdotool", *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


def walk(node):
    yield node
    for i in range(node.childCount):
        child = node.getChildAtIndex(i)
        if child is not None:
            yield from walk(child)


class App:
    def __init__(self, path):
        env = dict(os.environ)
        env.pop("GTK_A11Y", None)          # AT-SPI on
        env.pop("GSETTINGS_SCHEMA_DIR", None)   # found in the build folder by itself
        env.setdefault("GSETTINGS_BACKEND", "memory")
        self.log = open(os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "convscope.log"), "w+")
        self.proc = subprocess.Popen([path], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.root = self.find_app()
        self.window = self.find_window()

    def find_app(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"convscope exited with status {self.proc.returncode}")
            for app in pyatspi.Registry.getDesktop(0):
                try:
                    if app is not None and app.get_process_id() == self.proc.pid and app.childCount > 0:
                        return app
                except Exception:
                    pass
            time.sleep(0.2)
        raise RuntimeError("convscope did not appear on the accessibility bus")

    def find_window(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            try:
                ids = xdo("search", "--onlyvisible", "--pid", self.proc.pid).split()
                if ids:
                    return ids[0]
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.2)
        raise RuntimeError("no visible window")

    def origin(self):
        geometry = xdo("getwindowgeometry", "--shell", self.window)
        values = dict(line.split("=", 1) for line in geometry.split())
        return int(values["X"]), int(values["Y"])

    def find(self, name, role=None, prefix=False, timeout=5):
        end = time.time() + timeout
        while True:
            self.root.clear_cache()
            for node in walk(self.root):
                try:
                    n = node.name or ""
                    if (n.startswith(name) if prefix else n == name) and \
                            (role is None or node.getRoleName() == role):
                        return node
                except Exception:
                    pass
            if time.time() > end:
                raise LookupError(f"no {role or 'widget'} named {name!r}")
            time.sleep(0.1)

    def prediction(self):
        return self.find("Prediction:", "label", prefix=True).name

    def wait_prediction(self, old, timeout=5):
        """The label's name once it differs from old and holds still."""
        end = time.time() + timeout
        last = self.prediction()
        while last == old and time.time() < end:
            time.sleep(0.1)
            last = self.prediction()
        time.sleep(0.3)
        return self.prediction()

    def click(self, name, role="push button"):
        node = self.find(name, role)
        action = node.queryAction()
        names = [action.getName(i) for i in range(action.nActions)]
        action.doAction(names.index("click") if "click" in names else 0)

    def canvas_box(self):
        canvas = self.find("Drawing canvas")
        e = canvas.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        ox, oy = self.origin()
        return ox + e.x, oy + e.y, e.width, e.height

    def stroke(self, points, midway=None):
        """Press, move through points, release; midway () is called while
        the button is still down, after the first segment."""
        x0, y0, w, h = self.canvas_box()
        screen = [(x0 + u * w, y0 + v * h) for u, v in points]
        xdo("mousemove", round(screen[0][0]), round(screen[0][1]))
        time.sleep(0.05)
        xdo("mousedown", 1)
        time.sleep(0.05)
        for (ax, ay), (bx, by) in zip(screen, screen[1:]):
            n = max(1, int(max(abs(bx - ax), abs(by - ay)) / 4))
            for i in range(1, n + 1):
                xdo("mousemove", round(ax + (bx - ax) * i / n), round(ay + (by - ay) * i / n))
                time.sleep(0.02)
            if midway is not None:
                midway()
                midway = None
        time.sleep(0.05)
        xdo("mouseup", 1)

    def draw(self, points):
        before = self.prediction()
        self.stroke(points)
        return self.wait_prediction(before)

    def wait_for(self, name, timeout=5):
        end = time.time() + timeout
        while self.prediction() != name and time.time() < end:
            time.sleep(0.1)
        return self.prediction()

    def clear(self):
        if self.prediction() != "Prediction: none":
            self.click("Clear")
        return self.wait_for("Prediction: none")

    def resize(self, width, height):
        xdo("windowsize", self.window, width, height)
        time.sleep(1.0)

    def screenshot(self, path):
        subprocess.run(["import", "-window", self.window, path], check=True)

    def quit(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.seek(0)
        return self.log.read()


def number_in(text, prefix):
    """The first number after prefix in text: "Accuracy 91.2% …" → 91.2."""
    rest = text[len(prefix):].strip().split()[0].rstrip("%")
    return float(rest)


def training(app):
    """The Training view: one Step is one batch, Play trains until Pause."""
    xdo("key", "alt+6")   # the view switcher's shortcut: the Training view is the sixth
    time.sleep(0.5)
    app.click("Step")
    end = time.time() + 30
    while not app.find("Step ", "label", prefix=True).name.startswith("Step 1 ") and time.time() < end:
        time.sleep(0.1)
    counter = app.find("Step ", "label", prefix=True).name
    loss = app.find("Loss ", "label", prefix=True).name
    accuracy = app.find("Accuracy", "label", prefix=True).name
    note(f"after one Step: {counter!r}, {loss!r}, {accuracy!r}")
    ok(counter.startswith("Step 1 "), "Step trains one batch: the counter reads 1")
    first_loss = number_in(loss, "Loss")
    ok(1.5 < first_loss < 3.5, f"the loss of the first batch is about ln 10 ({first_loss})")
    first_acc = number_in(accuracy, "Accuracy")

    app.click("Play")
    time.sleep(10)
    app.click("Pause")
    time.sleep(1.0)
    counter = app.find("Step ", "label", prefix=True).name
    accuracy = app.find("Accuracy", "label", prefix=True).name
    loss = app.find("Loss ", "label", prefix=True).name
    note(f"after Play, 10 s, Pause: {counter!r}, {loss!r}, {accuracy!r}")
    steps = number_in(counter, "Step")
    ok(steps > 20, f"Play trained on ({steps:.0f} steps)")
    acc = number_in(accuracy, "Accuracy")
    ok(acc > first_acc + 30 and acc > 70, f"and the accuracy rose: {first_acc}% → {acc}%")
    ok(number_in(loss, "Loss") < first_loss, "and the loss fell")
    # paused: nothing moves any more
    time.sleep(1.0)
    ok(app.find("Step ", "label", prefix=True).name == counter, "Pause stops training")

    # the keyboard: Ctrl+R resets, → steps, Space plays and pauses
    def counter_after(key, want, timeout=10):
        xdo("key", key)
        end = time.time() + timeout
        while time.time() < end:
            name = app.find("Step ", "label", prefix=True).name
            if want(number_in(name, "Step")):
                return name
            time.sleep(0.1)
        return app.find("Step ", "label", prefix=True).name
    got = counter_after("ctrl+r", lambda n: n == 0)
    ok(got.startswith("Step 0 "), f"Ctrl+R resets ({got!r})")
    got = counter_after("Right", lambda n: n == 1)
    ok(got.startswith("Step 1 "), f"→ steps one batch ({got!r})")
    got = counter_after("space", lambda n: n > 5)
    xdo("key", "space")
    time.sleep(1.0)
    still = app.find("Step ", "label", prefix=True).name
    time.sleep(0.5)
    ok(number_in(got, "Step") > 5 and app.find("Step ", "label", prefix=True).name == still,
       f"Space plays ({got!r}) and pauses ({still!r})")
    if SHOTS:
        app.click("Step")
        time.sleep(1.5)
        for width, height in ((1280, 800), (1920, 1080)):
            app.resize(width, height)
            path = os.path.join(SHOTS, f"training-{width}x{height}.png")
            app.screenshot(path)
            note(f"saved {path}")


def main():
    try:
        app = App(APP)
    except Exception as e:
        ok(False, f"the application starts: {e}")
        print(f"1..{number}")
        return 1
    try:
        note(f"window {app.window} at {app.origin()}, canvas {app.canvas_box()}")
        ok(app.prediction() == "Prediction: none", "the prediction label starts empty")
        for title, model in (("CNN", "SimpleCNN"), ("MLP", "MLP")):
            app.click(title, "push button")
            time.sleep(0.3)
            app.clear()
            got = app.draw(ONE)
            note(f"{model}, a drawn 1: {got!r}")
            ok(got == "Prediction: 1", f"the {model} reads a drawn 1")
            app.clear()
            got = app.draw(SEVEN)
            note(f"{model}, a drawn 7: {got!r}")
            ok(got == "Prediction: 7", f"the {model} reads a drawn 7")

        # the keyboard: Ctrl+Z over the canvas undoes the stroke
        xdo("key", "ctrl+z")
        got = app.wait_for("Prediction: none")
        ok(got == "Prediction: none", f"Ctrl+Z undoes the stroke ({got!r})")

        # the prediction follows the stroke while the button is held
        app.click("CNN", "push button")
        seen = []
        app.stroke(SEVEN, midway=lambda: seen.append(app.wait_prediction("Prediction: none", 2)))
        got = app.wait_prediction(seen[0])
        note(f"halfway through the 7: {seen[0]!r}, at the end: {got!r}")
        ok(seen[0].startswith("Prediction: ") and seen[0] != "Prediction: none",
           "the prediction changes while the stroke is drawn")
        ok(got == "Prediction: 7", "and reads 7 at the end")

        # two strokes make a 7 too, and Clear empties the canvas
        app.clear()
        app.draw(SEVEN[:2])
        got = app.draw(SEVEN[1:])
        ok(got == "Prediction: 7", f"a 7 drawn in two strokes ({got!r})")
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            for width, height in ((1280, 800), (1920, 1080)):
                app.resize(width, height)
                path = os.path.join(SHOTS, f"draw-{width}x{height}.png")
                app.screenshot(path)
                note(f"saved {path}")
            # the Mistakes view (Alt+8) of the pretrained SimpleCNN
            xdo("key", "alt+8")
            time.sleep(4.0)
            app.resize(1280, 800)
            path = os.path.join(SHOTS, "mistakes-1280x800.png")
            app.screenshot(path)
            note(f"saved {path}")
            xdo("key", "alt+1")
            time.sleep(0.5)
        xdo("key", "Delete")
        got = app.wait_for("Prediction: none")
        ok(got == "Prediction: none", f"Delete clears the canvas ({got!r})")
        app.draw(ONE)
        got = app.clear()
        ok(got == "Prediction: none", f"the Clear button clears it ({got!r})")

        training(app)
    except Exception as e:
        ok(False, f"{type(e).__name__}: {e}")
    finally:
        log = app.quit()
        if log.strip():
            note("the application's output:\n" + log)
        ok("will not be remembered" not in log, "the settings schema is found, uninstalled")
        print(f"1..{number}")
    return 1 if failed else 0


sys.exit(main())
