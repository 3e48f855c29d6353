#!/usr/bin/python3
"""test-autosave.py CONVSCOPE — the autosave survives SIGKILL, end to end

Runs the real application on the display it is given (tests/gui/run-xvfb.sh
makes one, and a private $CONVSCOPE_STATE_DIR for the autosave) with an
autosave every second, makes it train (Alt+6 for the Training view, Space
for Play, pressed with xdotool), and kills it with SIGKILL mid-training,
five times at random moments, restarting it each time. After every kill
the autosave must be a whole, valid session file (every tensor inside the
file, the format and version right) whose step never goes back and is
above 0; the temporary files a killed write leaves are gone once the
application has started again. Finally the application restarts without
training: it restores the session, autosaves it again, and the new file
is byte for byte the one that survived the last kill — weights, optimizer
state, step, history, batch order and drawing restored exactly.

TAP output; "1..0 # SKIP …" without a display, xdotool or a state folder.
"""
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time

number = 0
failed = 0

DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
          "U8": 1, "BOOL": 1, "U16": 2, "U32": 4, "U64": 8}


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
STATE = os.environ.get("CONVSCOPE_STATE_DIR")
if not os.environ.get("DISPLAY"):
    skip_all("no display (run under tests/gui/run-xvfb.sh)")
if shutil.which("xdotool") is None:
    skip_all("no xdotool")
if not STATE:
    skip_all("no $CONVSCOPE_STATE_DIR (run under tests/gui/run-xvfb.sh)")
AUTOSAVE = os.path.join(STATE, "autosave.convscope")


def xdo(*args):
    return subprocess.run(["xdotool", *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


def read_session(path):
    """(metadata, bytes) of a whole, valid session file; raises otherwise."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{len(data)} bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError("the header runs past the end")
    header = json.loads(data[8:8 + n])
    body = len(data) - 8 - n
    end_max = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        size = DTYPES[t["dtype"]]
        for d in t["shape"]:
            size *= d
        if end - begin != size or end > body:
            raise ValueError(f"tensor {name} does not fit")
        end_max = max(end_max, end)
    if end_max != body:
        raise ValueError("bytes after the last tensor")
    meta = header["__metadata__"]
    if meta.get("format") != "convscope-session" or meta.get("version") != "1":
        raise ValueError("not a session of version 1")
    return meta, data


def temp_files():
    return sorted(f for f in os.listdir(STATE) if f.startswith("autosave.convscope."))


class App:
    def __init__(self, *args):
        env = dict(os.environ)
        env["CONVSCOPE_AUTOSAVE_SECONDS"] = "1"
        env.setdefault("GSETTINGS_BACKEND", "memory")
        self.log = open(os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                     "convscope-autosave.log"), "a+")
        self.proc = subprocess.Popen([APP, *args], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.window = None
        end = time.time() + 30
        while self.window is None and time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"convscope exited with status {self.proc.returncode}")
            try:
                ids = xdo("search", "--onlyvisible", "--pid", self.proc.pid).split()
                self.window = ids[0] if ids else None
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.2)
        if self.window is None:
            raise RuntimeError("no visible window")
        time.sleep(1.0)   # mapped, restored, drawn

    def key(self, *keys):
        xdo("mousemove", "--window", self.window, 200, 300)
        for k in keys:
            xdo("key", "--window", self.window, k)
            time.sleep(0.3)

    def play(self):
        self.key("alt+6", "space")   # the Training view, Play

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def wait_step(above, timeout=30):
    """The step of the autosave once it is above `above`, or None."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            meta, _ = read_session(AUTOSAVE)
            if int(meta["step"]) > above:
                return int(meta["step"])
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    return None


def main():
    print("1..14", flush=True)
    random.seed(int(os.environ.get("CS_AUTOSAVE_SEED", "1")))

    app = App("--new-session")
    app.play()
    step = wait_step(0)
    ok(step is not None, f"an autosave comes while it trains (step {step})")
    ok(wait_step(step or 0) is not None, "and another, later one")
    app.kill()

    last_step = 0
    for i in range(5):
        try:
            meta, data = read_session(AUTOSAVE)
            valid = True
            step = int(meta["step"])
        except (OSError, ValueError) as e:
            note(f"kill {i}: {e}")
            valid, step = False, -1
        ok(valid and step > 0 and step >= last_step,
           f"after SIGKILL {i + 1}: the autosave is whole and valid, step {step} ≥ {last_step}")
        last_step = max(step, last_step)
        left = temp_files()
        if left:
            note(f"a killed write left {left}")
        app = App()
        ok(not temp_files(), f"restart {i + 1}: no temporary file left")
        app.play()
        time.sleep(random.uniform(0.3, 2.5))
        app.kill()

    meta, survived = read_session(AUTOSAVE)
    inode = os.stat(AUTOSAVE).st_ino
    note(f"survived: step {meta['step']}, {len(survived)} bytes")
    app = App()
    end = time.time() + 10   # restored, then autosaved again (nothing trained)
    while os.stat(AUTOSAVE).st_ino == inode and time.time() < end:
        time.sleep(0.2)
    ok(os.stat(AUTOSAVE).st_ino != inode, "the restored session is autosaved again")
    meta2, again = read_session(AUTOSAVE)
    ok(again == survived,
       f"restored exactly: autosaved again, the file is byte for byte the same (step {meta2['step']})")
    app.kill()
    if failed:
        app.log.seek(0)
        note(app.log.read()[-4000:])
    return 1 if failed else 0


sys.exit(main())
