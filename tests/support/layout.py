#!/usr/bin/env python3
"""Lays out a connector project from the repository's templates, by the rules that
`provisioner connector new` follows, for tests and benches that build a template without the
binary:

1. every file under sdk/templates/<lang>/ at the same relative path, with {{name}} replaced by
   the name and {{name_snake}} by it with '-' turned into '_';
2. wit/v0.2/* into <project>/wit/;
3. every file under sdk/<lang>/ (skipping target/, node_modules/, __pycache__/, *.wasm and
   symlinks) into <project>/vendor/provisioner-sdk/; for rust also the WIT into
   <project>/vendor/provisioner-sdk/wit/.

Usage: layout.py <repo> <name> <lang> <project-dir>
"""
import os
import shutil
import sys

SKIP_DIRS = {"target", "node_modules", "__pycache__"}


def files(root):
    """Relative paths of the regular files under root, without skipped dirs or symlinks."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [
            d for d in dirnames
            if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d))
        ]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or name.endswith(".wasm"):
                continue
            yield os.path.relpath(path, root)


def copy_tree(source, dest, transform=None):
    for rel in files(source):
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if transform is None:
            shutil.copyfile(os.path.join(source, rel), target)
        else:
            with open(os.path.join(source, rel), encoding="utf-8") as f:
                text = f.read()
            with open(target, "w", encoding="utf-8") as f:
                f.write(transform(text))


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: layout.py <repo> <name> <lang> <project-dir>")
    repo, name, lang, project = sys.argv[1:]
    snake = name.replace("-", "_")
    template = os.path.join(repo, "sdk", "templates", lang)
    if not os.path.isdir(template):
        sys.exit(f"no template for language {lang!r} at {template}")
    copy_tree(template, project,
              lambda t: t.replace("{{name_snake}}", snake).replace("{{name}}", name))
    wit = os.path.join(repo, "wit", "v0.2")
    copy_tree(wit, os.path.join(project, "wit"))
    vendor = os.path.join(project, "vendor", "provisioner-sdk")
    copy_tree(os.path.join(repo, "sdk", lang), vendor)
    if lang == "rust":
        copy_tree(wit, os.path.join(vendor, "wit"))


if __name__ == "__main__":
    main()
