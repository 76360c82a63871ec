"""MkDocs hooks: pages generated at build time, so that they cannot drift from their sources.

- `configuration.md`: every key of `conf/config.yaml` with its default and meaning, read from the
  YAML's own comments (`python docs/hooks.py` prints it).
- `studies/...`: every study of `experiments/` (its README, pictures and tables) as it is on disk.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "conf" / "config.yaml"
STUDIES = ROOT / "experiments"
STUDY_FILES = (".md", ".png", ".gif", ".svg", ".jpg", ".csv")
GROUPS_DOC = {
    "surface": "the test surface ([Surfaces](surfaces.md))",
    "optimizer": "the optimizer ([Optimizers](optimizers.md))",
    "experiment": "a preset that overrides the values below",
}

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w-]*):(?P<rest>.*)$")
_ITEM = re.compile(r"^ *- (?P<group>[\w/]+)(?:: *(?P<choice>[\w.-]+))? *(?:#.*)?$")


@dataclass(frozen=True)
class Key:
    """One key of the YAML: dotted path, default as written, meaning (its inline comment)."""

    path: str
    default: str | None  # None: a mapping of keys below it
    meaning: str


@dataclass(frozen=True)
class Section:
    """A run of keys with the comment block written above them."""

    note: str
    keys: tuple[Key, ...]


def _split_comment(rest: str) -> tuple[str, str]:
    """`value  # comment` -> (value, comment); a `#` inside quotes is part of the value."""
    quote = None
    for i, ch in enumerate(rest):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote else ch
        elif ch == "#" and quote is None and (i == 0 or rest[i - 1].isspace()):
            return rest[:i].strip(), rest[i + 1 :].strip()
    return rest.strip(), ""


def parse(text: str, skip: tuple[str, ...] = ("hydra", "defaults")) -> list[Section]:
    """The keys of a Hydra YAML in file order, grouped by the full-line comments above them."""
    sections: list[Section] = []
    note: list[str] = []
    keys: list[Key] = []
    stack: list[tuple[int, str]] = []
    skipping = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if not line.startswith(" "):  # a top-level comment block opens a section
                if keys:
                    sections.append(Section(" ".join(note), tuple(keys)))
                    note, keys = [], []
                note.append(stripped.lstrip("#").strip())
            continue
        m = _KEY.match(line)
        if m is None:
            continue  # list items (defaults) are described by `groups`
        indent = len(m["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m["key"]))
        if indent == 0:
            skipping = m["key"] in skip
        if skipping:
            continue
        value, comment = _split_comment(m["rest"])
        path = ".".join(k for _, k in stack)
        keys.append(Key(path, value or None, comment))
    if keys or note:
        sections.append(Section(" ".join(note), tuple(keys)))
    return sections


def groups(text: str) -> list[tuple[str, str]]:
    """The config groups of the defaults list with their default choice: [(group, choice)]."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("defaults:"):
            inside = True
        elif inside and (m := _ITEM.match(line)):
            if m["choice"] is not None:
                out.append((m["group"], m["choice"]))
        elif inside and line.strip() and not line.startswith(" "):
            break
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def reference(text: str, conf_dir: Path) -> str:
    """The configuration reference page (Markdown) for the config `text` under `conf_dir`."""
    sections = parse(text)
    out = [
        "# Configuration reference",
        "",
        "Generated from `conf/config.yaml` and its comments when the site is built "
        "(`docs/hooks.py`), so it is always the file's own account. Every key is overridden on "
        "the command line, e.g. `python -m optlab steps=100 plot_options.quiver=true`; "
        "experiments (`experiment=NAME`) set several at once.",
        "",
    ]
    if sections and not sections[0].keys:
        sections = sections[1:]
    first = sections[0].note if sections else ""
    if first:
        out += [first, ""]
    out += ["## Config groups", "", "| group | default | choices | what it chooses |"]
    out.append("|---|---|---|---|")
    for group, choice in groups(text):
        names = sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
        choices = ", ".join(f"`{n}`" for n in names)
        out.append(f"| `{group}` | `{choice}` | {choices} | {GROUPS_DOC.get(group, '')} |")
    for i, section in enumerate(sections):
        title = "Keys" if i == 0 else section.note.split(".")[0].split("(")[0].strip()
        out += ["", f"## {title}", ""]
        if i > 0 and section.note:
            out += [section.note, ""]
        out += ["| key | default | meaning |", "|---|---|---|"]
        for k in section.keys:
            default = "(keys below)" if k.default is None else _code(k.default)
            out.append(f"| `{k.path}` | {default} | {_cell(k.meaning)} |")
    out += [
        "",
        "`hydra:` holds Hydra's own settings (job name `optlab`, the report callback, "
        "logging); see [Hydra's documentation](https://hydra.cc/docs/configure_hydra/intro/).",
        "",
    ]
    return "\n".join(out)


def on_files(files, config):
    """Add the generated configuration page and the studies of `experiments/` to the site."""
    from mkdocs.structure.files import File

    page = reference(CONFIG.read_text(encoding="utf-8"), CONFIG.parent)
    files.append(File.generated(config, "configuration.md", content=page))
    for path in sorted(STUDIES.rglob("*")):
        if path.is_file() and path.suffix in STUDY_FILES:
            uri = "studies/" + path.relative_to(STUDIES).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown, page, config, files):
    """A study's links into the manual (`../../docs/PAGE.md` on GitHub) as the site has them."""
    if not page.file.src_uri.startswith("studies/"):
        return markdown
    return re.sub(r"\]\(((?:\.\./)+)docs/", r"](\1", markdown)


if __name__ == "__main__":
    sys.stdout.write(reference(CONFIG.read_text(encoding="utf-8"), CONFIG.parent))
