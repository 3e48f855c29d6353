#!/usr/bin/env python3
"""test-po.py SOURCE_ROOT [LANG…] — every translatable string has a translation

For each LANG (po/LANG.po; without one, each language of po/LINGUAS), as a
TAP test:

  * po/POTFILES.in names every file under app/ and data/ that has
    translatable strings (_(), N_(), C_(), g_dngettext (), ngettext (),
    translatable="yes", or a desktop file or metainfo), and only files that
    exist;
  * the template is made afresh from those files with xgettext and Meson's
    'glib' preset (what `meson compile convscope-pot` runs), merged into
    LANG.po without fuzzy matching, and every message of it must have a
    translation that is neither empty nor fuzzy (each plural form too);
  * msgfmt --check (formats, plural forms, header) and
    --check-accelerators=_ (one mnemonic where the original has one) pass,
    on LANG.po and on the merged catalogue, whose c-format flags are the
    template's own.

Usage: test-po.py SOURCE_ROOT [LANG…]; --pot FILE [SOURCE_ROOT] only writes the
template (for translators: msgmerge --update po/LANG.po FILE).
"""
import os
import re
import subprocess
import sys
import tempfile

# Meson's i18n 'glib' preset (mesonbuild/modules/i18n.py), the keywords and
# format flags xgettext is given for po/meson.build.
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format', '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]

# What marks a file as having translatable strings
C_MARK = re.compile(r'\b(?:N?C?_|g_dngettext|g_dpgettext2|ngettext)\s*\(\s*(?:NULL\s*,\s*)?"')
UI_MARK = re.compile(r'translatable="yes"')


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def potfiles(root):
    with open(os.path.join(root, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.startswith('#')]


def files_with_strings(root):
    found = []
    for top in ('app', 'data'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                if name.endswith(('.desktop.in', '.metainfo.xml.in')):
                    found.append(rel)
                elif name.endswith(('.c', '.h', '.ui')):
                    with open(path, encoding='utf-8') as f:
                        text = f.read()
                    mark = UI_MARK if name.endswith('.ui') else C_MARK
                    if mark.search(text):
                        found.append(rel)
    return found


def make_pot(root, out):
    listed = os.path.join(os.path.dirname(out), 'POTFILES')
    with open(listed, 'w', encoding='utf-8') as f:
        f.write('\n'.join(potfiles(root)) + '\n')
    r = run(['xgettext', *XGETTEXT_ARGS, '--package-name=convscope', '-D', root,
             '-f', listed, '-o', out])
    if r.returncode != 0:
        sys.exit(f'xgettext failed:\n{r.stderr}')
    return r.stderr


ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '"': '"', '\\': '\\', 'a': '\a', 'b': '\b',
           'f': '\f', 'v': '\v'}


def unquote(s):
    return re.sub(r'\\(.)', lambda m: ESCAPES.get(m.group(1), m.group(0)), s[1:-1])


def parse_po(path):
    """The entries of a PO file (blocks between empty lines): dicts with
    ctxt, id, plural, strs (form: text), flags and obsolete."""
    with open(path, encoding='utf-8') as f:
        blocks = f.read().split('\n\n')
    entries = []
    for block in blocks:
        e = {'flags': set(), 'strs': {}, 'obsolete': False}
        key = None
        for line in block.splitlines():
            if line.startswith('#~'):
                e['obsolete'] = True
                line = line[2:].lstrip()
            if line.startswith('#,'):
                e['flags'] |= {x.strip() for x in line[2:].split(',')}
            elif line.startswith('#') or not line.strip():
                continue
            elif line.startswith('"'):
                if key is None:
                    raise ValueError(f'{path}: a string outside a message: {line!r}')
                if key[0] == 'strs':
                    e['strs'][key[1]] += unquote(line)
                else:
                    e[key[0]] += unquote(line)
            else:
                m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
                if m is None:
                    raise ValueError(f'{path}: cannot read the line {line!r}')
                kind, text = m.group(1), unquote(m.group(3))
                if kind.startswith('msgstr'):
                    key = ('strs', int(m.group(2) or 0))
                    e['strs'][key[1]] = text
                else:
                    key = ({'msgctxt': 'ctxt', 'msgid': 'id', 'msgid_plural': 'plural'}[kind],)
                    e[key[0]] = text
        if 'id' in e:
            entries.append(e)
    return entries


def describe(e):
    ctxt = f'[{e["ctxt"]}] ' if 'ctxt' in e else ''
    return ctxt + repr(e['id'])


class Tap:
    def __init__(self):
        self.n, self.failed = 0, 0

    def check(self, ok, name, problems=()):
        self.n += 1
        if not ok:
            self.failed += 1
        print(f'{"ok" if ok else "not ok"} {self.n} - {name}')
        for p in problems:
            print(f'# {p}')

    def done(self):
        print(f'1..{self.n}')
        return 1 if self.failed else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == '--pot':
        make_pot(argv[3] if len(argv) > 3 else '.', os.path.abspath(argv[2]))
        return 0
    if len(argv) < 2:
        sys.exit(__doc__)
    root, langs = argv[1], argv[2:]
    if not langs:
        with open(os.path.join(root, 'po', 'LINGUAS'), encoding='utf-8') as f:
            langs = [w for l in f if not l.startswith('#') for w in l.split()]
    tap = Tap()

    listed = potfiles(root)
    missing = [f for f in listed if not os.path.exists(os.path.join(root, f))]
    unlisted = [f for f in files_with_strings(root) if f not in listed]
    tap.check(not missing and not unlisted, 'po/POTFILES.in names every file with translatable strings',
              [f'{f}: in POTFILES.in, but there is no such file' for f in missing]
              + [f'{f}: has translatable strings, add it to po/POTFILES.in' for f in unlisted])

    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'convscope.pot')
        warnings = make_pot(root, pot)
        template = [e for e in parse_po(pot) if e['id']]
        tap.check(len(template) > 0, f'the template has {len(template)} messages',
                  warnings.splitlines())

        for lang in langs:
            po = os.path.join(root, 'po', lang + '.po')
            merged = os.path.join(tmp, lang + '.po')
            r = run(['msgmerge', '--quiet', '--no-fuzzy-matching', '--no-wrap', '-o', merged, po, pot])
            tap.check(r.returncode == 0, f'{lang}: msgmerge', r.stderr.splitlines())
            if r.returncode != 0:
                continue
            header = next((e for e in parse_po(po) if e['id'] == ''), None)
            tap.check(header is not None and 'fuzzy' not in header['flags']
                      and f'Language: {lang}\n' in header['strs'].get(0, ''),
                      f'{lang}: the header names the language and is not fuzzy')

            entries = {(e.get('ctxt'), e['id']): e for e in parse_po(merged)
                       if e['id'] and not e['obsolete']}
            problems = []
            for t in template:
                e = entries.get((t.get('ctxt'), t['id']))
                if e is None:
                    problems.append(f'{describe(t)}: missing')
                elif 'fuzzy' in e['flags']:
                    problems.append(f'{describe(t)}: fuzzy')
                elif not e['strs'] or any(not s for s in e['strs'].values()):
                    problems.append(f'{describe(t)}: not translated')
            tap.check(not problems,
                      f'{lang}: every one of the {len(template)} messages is translated, none fuzzy',
                      problems)

            for name, path in ((f'po/{lang}.po', po), (f'{lang}.po merged with the template', merged)):
                r = run(['msgfmt', '--check', '--check-accelerators=_', '-o', os.devnull, path])
                tap.check(r.returncode == 0, f'{lang}: msgfmt --check on {name}',
                          r.stderr.splitlines())
    return tap.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
