#!/usr/bin/env python3
"""test-mime.py — the session files' type, as a desktop installs it

    test-mime.py BUILT_MIME_XML DESKTOP_FILE

update-mime-database (shared-mime-info) reads the built type definition
into a private database, which must give *.convscope files the type
application/x-convscope-session with its name in English and Chinese; and
the desktop file must say that Convscope opens that type, and pass the file
it is given. TAP on stdout.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TYPE = "application/x-convscope-session"


def main():
    xml, desktop = sys.argv[1], sys.argv[2]
    tool = shutil.which("update-mime-database")
    print("1..3")
    if tool is None:
        for i in range(1, 4):
            print(f"ok {i} # SKIP update-mime-database not installed (shared-mime-info)")
        return 0
    failed = 0
    with tempfile.TemporaryDirectory() as root:
        packages = os.path.join(root, "mime", "packages")
        os.makedirs(packages)
        shutil.copy(xml, os.path.join(packages, "io.github.convscope.Convscope.xml"))
        run = subprocess.run([tool, os.path.join(root, "mime")], capture_output=True, text=True)
        globs = os.path.join(root, "mime", "globs2")
        text = open(globs).read() if os.path.exists(globs) else ""
        if run.returncode == 0 and f"{TYPE}:*.convscope" in text:
            print("ok 1 *.convscope is " + TYPE)
        else:
            failed += 1
            print("not ok 1 *.convscope is " + TYPE)
            print("# " + (run.stderr or text).replace("\n", "\n# "))
        described = os.path.join(root, "mime", *TYPE.split("/")) + ".xml"
        body = open(described, encoding="utf-8").read() if os.path.exists(described) else ""
        if "Convscope session" in body and 'xml:lang="zh_CN">Convscope 会话<' in body:
            print("ok 2 the type's name in English and Chinese")
        else:
            failed += 1
            print("not ok 2 the type's name in English and Chinese")
            print("# " + body.replace("\n", "\n# "))
    entry = open(desktop, encoding="utf-8").read().splitlines()
    mime = [l for l in entry if l.startswith("MimeType=")]
    exec_ = [l for l in entry if l.startswith("Exec=")]
    if mime and TYPE in mime[0].split("=", 1)[1].split(";") and exec_ and "%f" in exec_[0]:
        print("ok 3 the desktop file opens the type and passes the file")
    else:
        failed += 1
        print(f"not ok 3 the desktop file opens the type and passes the file: {mime} {exec_}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
