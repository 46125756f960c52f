"""Read, validate and write codebook files (YAML) without touching the project database.

A codebook file is the study's reviewable source of truth, so loading it must explain
every mistake at once, each with its line, before anything is imported. Two shapes are
accepted: the nested form (codes with ``children``) and a flat form (a list of codes,
each with ``path: a/b/c``, or with ``name`` and ``parent``). ``dump_codebook`` always
writes the nested form.

spaCy is imported only when token patterns are checked, so importing this module stays
cheap for commands that never touch NLP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rapidfuzz import process

from qualcode.errors import ImportFailed, Problem
from qualcode.ingest.transcript import read_text
from qualcode.models import CODE_NAME_LENGTH

if TYPE_CHECKING:
    from spacy.vocab import Vocab

TOP_KEYS = ("codebook", "version", "source", "codes")
TEXT_FIELDS = ("title", "definition", "include", "exclude", "example")
CODE_KEYS = ("name", "path", "parent", *TEXT_FIELDS, "colour", "patterns", "children")
PATTERN_KEYS = ("lemmas", "phrases", "tokens")
NAME_RE = re.compile(r"[a-z0-9-]+")
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")
_SPACY_DETAIL_RE = re.compile(r"- \[pattern -> (\d+) -> ([^\]]*)\] (.*)")
_NULL_TAG = "tag:yaml.org,2002:null"


@dataclass
class Patterns:
    """The deductive-suggestion patterns of one code, as written in the file.

    ``lemmas`` match one token by its lemma (or lower-cased text), ``phrases`` match
    lower-cased token sequences, ``tokens`` are spaCy ``Matcher`` token patterns.
    """

    lemmas: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    tokens: list[list[dict[str, Any]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.lemmas or self.phrases or self.tokens)


@dataclass
class CodeSpec:
    """One code as declared in a codebook file; ``line`` is where it starts (1-based)."""

    path: str
    name: str
    title: str | None = None
    definition: str | None = None
    include: str | None = None
    exclude: str | None = None
    example: str | None = None
    colour: str | None = None
    patterns: Patterns = field(default_factory=Patterns)
    parent: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass
class Codebook:
    """A validated codebook: codes in tree order (each parent before its children)."""

    name: str | None
    version: Any
    source: str | None
    codes: list[CodeSpec]

    def get(self, path: str) -> CodeSpec:
        """The code at ``path``; raises ``KeyError`` if there is none."""
        for spec in self.codes:
            if spec.path == path:
                return spec
        raise KeyError(path)

    def paths(self) -> list[str]:
        return [spec.path for spec in self.codes]

    def children(self, path: str | None) -> list[CodeSpec]:
        """Direct children of ``path``; ``None`` gives the top-level codes."""
        return [spec for spec in self.codes if spec.parent == path]


@dataclass(eq=False)
class _Entry:
    """A code read from the file before its path is known (parents may come later)."""

    node: yaml.MappingNode
    name: str | None
    explicit_path: str | None = None
    parent_ref: str | None = None
    container: _Entry | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    patterns: Patterns = field(default_factory=Patterns)
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return _line(self.node)


def load_codebook(path: str | Path) -> Codebook:
    """Load and validate a codebook file; raise ``ImportFailed`` listing every problem."""
    return _Reader(Path(path)).read()


def dump_codebook(codebook: Codebook, path: str | Path) -> Path:
    """Write ``codebook`` in the nested form, so that loading it gives the same codes."""
    doc: dict[str, Any] = {
        key: value
        for key, value in (
            ("codebook", codebook.name),
            ("version", codebook.version),
            ("source", codebook.source),
        )
        if value is not None
    }
    doc["codes"] = [_code_document(codebook, spec) for spec in codebook.children(None)]
    text = yaml.dump(
        doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
    target = Path(path)
    target.write_text(text, encoding="utf-8")
    return target


def _code_document(codebook: Codebook, spec: CodeSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": spec.name}
    for key in (*TEXT_FIELDS, "colour"):
        if getattr(spec, key) is not None:
            doc[key] = getattr(spec, key)
    patterns = {key: getattr(spec.patterns, key) for key in PATTERN_KEYS}
    patterns = {key: value for key, value in patterns.items() if value}
    if patterns:
        doc["patterns"] = patterns
    children = codebook.children(spec.path)
    if children:
        doc["children"] = [_code_document(codebook, child) for child in children]
    return doc


class _Dumper(yaml.SafeDumper):
    """Writes multi-line text as ``|`` blocks so dumped codebooks stay readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "empty" if node.tag == _NULL_TAG else f"'{node.value}'"


def _python(node: yaml.Node) -> Any:
    """Plain Python value of a subtree (token patterns need real ints and booleans)."""
    return yaml.SafeLoader("").construct_document(node)


@lru_cache(maxsize=1)
def _blank_vocab() -> Vocab:
    import spacy

    return spacy.blank("en").vocab


class _Reader:
    """One pass over one file, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[Problem] = []
        self.entries: list[_Entry] = []

    def problem(self, where: yaml.Node | int | None, field_name: str | None, message: str) -> None:
        """Record a problem at a node's first line (or at an explicit line)."""
        line = _line(where) if isinstance(where, yaml.Node) else where
        self.problems.append(Problem(self.path, line, field_name, message))

    def fail_if_problems(self) -> None:
        if self.problems:
            raise ImportFailed(sorted(self.problems, key=lambda p: p.line or 0))

    def read(self) -> Codebook:
        root = self.compose()
        header = self.mapping(root, TOP_KEYS)
        codes_node = header.get("codes")
        if codes_node is None:
            self.problem(root, "codes", "missing 'codes' list")
        elif not isinstance(codes_node, yaml.SequenceNode):
            self.problem(codes_node, "codes", f"must be a list of codes, not {_kind(codes_node)}")
        else:
            for item in codes_node.value:
                self.entry(item, container=None)
        codebook = Codebook(
            name=self.text(header.get("codebook"), "codebook"),
            version=_python(header["version"]) if "version" in header else None,
            source=self.text(header.get("source"), "source"),
            codes=self.resolve(),
        )
        self.fail_if_problems()
        return codebook

    def compose(self) -> yaml.MappingNode:
        try:
            root = yaml.compose(read_text(self.path)[0], Loader=yaml.SafeLoader)
        except OSError as exc:
            self.problem(None, None, f"cannot read the file: {exc.strerror}")
            root = None
        except Problem as problem:  # empty, binary, or not text in any encoding we read
            self.problem(None, None, problem.message)
            root = None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self.problem(mark.line + 1 if mark else None, None, f"YAML syntax error: {exc.problem}")
            root = None
        if root is None and not self.problems:
            self.problem(None, None, "the file is empty")
        elif root is not None and not isinstance(root, yaml.MappingNode):
            self.problem(root, None, "a codebook file must be a mapping with a 'codes' list")
        self.fail_if_problems()
        assert isinstance(root, yaml.MappingNode)
        return root

    def mapping(
        self, node: yaml.MappingNode, allowed: tuple[str, ...], prefix: str = ""
    ) -> dict[str, yaml.Node]:
        """Value nodes by key, reporting unknown (with a did-you-mean) and repeated keys."""
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            where = prefix + key
            if key in found:
                self.problem(key_node, where, f"duplicate key '{key}'")
            elif key not in allowed:
                self.problem(key_node, where, _unknown_key_message(key, allowed))
            else:
                found[key] = value_node
        return found

    def text(self, node: yaml.Node | None, field_name: str) -> str | None:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, field_name, f"must be text, not {_kind(node)}")
            return None
        return str(node.value)

    def entry(self, node: yaml.Node, container: _Entry | None) -> None:
        """Read one code mapping (and, recursively, its children) into ``self.entries``."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, None, f"a code must be a mapping, not {_kind(node)}")
            return
        keys = self.mapping(node, CODE_KEYS)
        entry = _Entry(node=node, name=None, container=container)
        entry.key_lines = {str(k.value): _line(k) for k, _ in node.value}
        self.identity(entry, keys)
        for key in TEXT_FIELDS:
            entry.fields[key] = self.text(keys.get(key), key)
        entry.fields["colour"] = self.colour(keys.get("colour"))
        if "patterns" in keys:
            entry.patterns = self.patterns(keys["patterns"])
        if entry.name is not None:
            self.entries.append(entry)
        children = keys.get("children")
        if isinstance(children, yaml.SequenceNode):
            for child in children.value:
                self.entry(child, container=entry)
        elif children is not None and children.tag != _NULL_TAG:
            self.problem(children, "children", f"must be a list of codes, not {_kind(children)}")

    def identity(self, entry: _Entry, keys: dict[str, yaml.Node]) -> None:
        """Set the entry's name, path or parent reference from its keys."""
        nested = entry.container is not None
        for key in ("path", "parent"):
            if nested and key in keys:
                self.problem(keys[key], key, f"'{key}' is not allowed inside children")
        if "path" in keys and not nested:
            if "name" in keys or "parent" in keys:
                message = "give either 'path' or 'name' (with 'parent'), not both"
                self.problem(entry.line, "path", message)
                return
            entry.explicit_path = self.path_value(keys["path"])
            entry.name = entry.explicit_path.rsplit("/", 1)[-1] if entry.explicit_path else None
            return
        if "name" not in keys:
            message = "code has no name" if nested else "code has no name or path"
            self.problem(entry.line, "name", message)
            return
        entry.name = self.name_value(keys["name"])
        if "parent" in keys and not nested:
            entry.parent_ref = self.text(keys["parent"], "parent")

    def name_value(self, node: yaml.Node) -> str | None:
        name = self.text(node, "name")
        if name is None:
            self.problem(node, "name", "code has no name")
        elif "/" in name:
            hint = "a name cannot contain '/'; nest the code under children or use 'path'"
            self.problem(node, "name", f"invalid name '{name}': {hint}")
        elif not NAME_RE.fullmatch(name):
            hint = "use lowercase letters, digits and hyphens"
            self.problem(node, "name", f"invalid name '{name}': {hint}")
        elif len(name) > CODE_NAME_LENGTH:
            self.problem(node, "name", f"name '{name[:30]}…' is {len(name)} characters long; a code's name holds at most"
                                       f" {CODE_NAME_LENGTH}: shorten it, and put the longer wording in its title")
        else:
            return name
        return None

    def path_value(self, node: yaml.Node) -> str | None:
        path = self.text(node, "path")
        segments = (path or "").split("/")
        bad = [segment for segment in segments if not NAME_RE.fullmatch(segment) or len(segment) > CODE_NAME_LENGTH]
        if path is None or bad:
            hint = (f"segments are lowercase letters, digits and hyphens separated by '/', at most {CODE_NAME_LENGTH}"
                    " characters each")
            self.problem(node, "path", f"invalid path '{path or ''}': {hint}")
            return None
        return path

    def colour(self, node: yaml.Node | None) -> str | None:
        colour = self.text(node, "colour")
        if colour is not None and not COLOUR_RE.fullmatch(colour):
            hint = "use #rrggbb (quoted, since # starts a YAML comment)"
            self.problem(node, "colour", f"invalid colour '{colour}': {hint}")
            return None
        return colour

    def patterns(self, node: yaml.Node) -> Patterns:
        if not isinstance(node, yaml.MappingNode):
            if node.tag != _NULL_TAG:
                expected = "must be a mapping of lemmas, phrases and tokens"
                self.problem(node, "patterns", f"{expected}, not {_kind(node)}")
            return Patterns()
        keys = self.mapping(node, PATTERN_KEYS, prefix="patterns.")
        return Patterns(
            lemmas=self.strings(keys.get("lemmas"), "lemma"),
            phrases=self.strings(keys.get("phrases"), "phrase"),
            tokens=self.token_patterns(keys.get("tokens")),
        )

    def items(self, node: yaml.Node | None, field_name: str) -> list[yaml.Node]:
        if node is None or node.tag == _NULL_TAG:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, field_name, f"must be a list, not {_kind(node)}")
            return []
        return list(node.value)

    def strings(self, node: yaml.Node | None, noun: str) -> list[str]:
        field_name = f"patterns.{noun}s"
        values: list[str] = []
        for item in self.items(node, field_name):
            scalar = isinstance(item, yaml.ScalarNode) and item.tag != _NULL_TAG
            value = str(item.value).strip() if scalar else ""
            if not value:
                message = f"each {noun} must be a non-empty string, not {_kind(item)}"
                self.problem(item, field_name, message)
            elif noun == "lemma" and " " in value:
                self.problem(item, field_name, f"lemma '{value}' has a space; put it under phrases")
            elif noun == "lemma" and value != value.lower():
                self.problem(item, field_name, f"lemma '{value}' must be lower case")
            else:
                values.append(value)
        return values

    def token_patterns(self, node: yaml.Node | None) -> list[list[dict[str, Any]]]:
        patterns = []
        for item in self.items(node, "patterns.tokens"):
            tokens = item.value if isinstance(item, yaml.SequenceNode) else []
            if not tokens or not all(isinstance(token, yaml.MappingNode) for token in tokens):
                message = "a token pattern must be a non-empty list of token mappings"
                self.problem(item, "patterns.tokens", f"{message}, e.g. [{{LOWER: ofsted}}]")
                continue
            pattern = _python(item)
            if self.compiles(pattern, tokens):
                patterns.append(pattern)
        return patterns

    def compiles(self, pattern: list[dict[str, Any]], token_nodes: list[yaml.Node]) -> bool:
        """Check a token pattern by adding it to a real spaCy ``Matcher``."""
        from spacy.matcher import Matcher

        try:
            Matcher(_blank_vocab(), validate=True).add("check", [pattern])
        except re.error as exc:
            index = next((i for i, token in enumerate(pattern) if exc.pattern in _regexes(token)), 0)
            message = f"token {index + 1}: '{exc.pattern}' is not a regular expression ({exc})"
            self.problem(token_nodes[index], "patterns.tokens", message)
            return False
        except ValueError as exc:
            detail = _SPACY_DETAIL_RE.search(str(exc))
            if detail is None:
                index, reason = 0, str(exc).splitlines()[0]
            else:
                index = min(int(detail.group(1)), len(token_nodes) - 1)
                reason = f"token {index + 1}, {detail.group(2)}: {detail.group(3)}"
            if any(isinstance(value, bool) for value in pattern[index].values()):
                reason += " (YAML reads unquoted on/off/yes/no as true/false; quote the word)"
            message = f"token pattern does not compile: {reason}"
            self.problem(token_nodes[index], "patterns.tokens", message)
            return False
        return True

    def resolve(self) -> list[CodeSpec]:
        """Give every entry its path, report clashes, and return the codes in tree order."""
        resolver = _PathResolver(self, self.entries)
        by_path: dict[str, _Entry] = {}
        for entry in self.entries:
            path = resolver.resolve(entry)
            if path is None:
                continue
            if path in by_path:
                first = by_path[path].line
                message = f"duplicate code path '{path}' (first defined on line {first})"
                self.problem(entry.line, "name", message)
                continue
            by_path[path] = entry
        for path, entry in by_path.items():
            parent = path.rpartition("/")[0]
            if entry.explicit_path and parent and parent not in by_path:
                self.problem(entry.line, "path", f"parent '{parent}' of '{path}' is not defined")
        return _tree_order(by_path)


def _regexes(token: dict[str, Any]) -> list[str]:
    """The REGEX values of one token pattern, as in ``{LOWER: {REGEX: "^compet"}}``."""
    return [v["REGEX"] for v in token.values() if isinstance(v, dict) and isinstance(v.get("REGEX"), str)]


class _PathResolver:
    """Works out each entry's path through containers and ``parent`` references.

    ``parent`` may name another code or give its path; following references detects
    cycles, which only the flat ``name``/``parent`` form can express.
    """

    def __init__(self, reader: _Reader, entries: list[_Entry]):
        self.reader = reader
        self.entries = entries
        self.done: dict[int, str | None] = {}

    def resolve(self, entry: _Entry, stack: tuple[_Entry, ...] = ()) -> str | None:
        key = id(entry)
        if key in self.done:
            return self.done[key]
        if entry in stack:
            chain = " -> ".join(e.name or "?" for e in (*stack[stack.index(entry):], entry))
            line = entry.key_lines.get("parent", entry.line)
            self.reader.problem(line, "parent", f"parent cycle: {chain}")
            return None
        self.done[key] = path = self.compute(entry, (*stack, entry))
        return path

    def compute(self, entry: _Entry, stack: tuple[_Entry, ...]) -> str | None:
        if entry.explicit_path is not None:
            return entry.explicit_path
        if entry.container is not None:
            return self.join(self.resolve(entry.container, stack), entry.name)
        if entry.parent_ref is None:
            return entry.name
        parent = self.parent_of(entry, stack)
        return self.join(self.resolve(parent, stack), entry.name) if parent else None

    @staticmethod
    def join(parent_path: str | None, name: str | None) -> str | None:
        return f"{parent_path}/{name}" if parent_path and name else None

    def parent_of(self, entry: _Entry, stack: tuple[_Entry, ...]) -> _Entry | None:
        ref = entry.parent_ref or ""
        line = entry.key_lines.get("parent", entry.line)
        if ref in (entry.name, entry.explicit_path):
            self.reader.problem(line, "parent", f"code '{entry.name}' cannot be its own parent")
            return None
        last = ref.rsplit("/", 1)[-1]
        candidates = [e for e in self.entries if e.name == last and e is not entry]
        if "/" in ref:
            candidates = [e for e in candidates if e in stack or self.resolve(e, stack) == ref]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            message = f"parent '{ref}' is ambiguous: {len(candidates)} codes have that name"
            self.reader.problem(line, "parent", f"{message}; give its path")
        else:
            known = {e.name for e in self.entries if e.name} | {p for p in self.done.values() if p}
            message = f"parent '{ref}' of '{entry.name}' is not defined"
            self.reader.problem(line, "parent", _not_found_message(message, ref, sorted(known)))
        return None


def _tree_order(by_path: dict[str, _Entry]) -> list[CodeSpec]:
    """Codes with each parent before its children, siblings in file order."""
    kids: dict[str | None, list[str]] = {}
    for path in by_path:
        parent = path.rpartition("/")[0] or None
        if parent is None or parent in by_path:
            kids.setdefault(parent, []).append(path)
    ordered: list[CodeSpec] = []

    def visit(parent: str | None) -> None:
        for path in sorted(kids.get(parent, []), key=lambda p: by_path[p].line):
            ordered.append(_spec(path, by_path[path]))
            visit(path)

    visit(None)
    return ordered


def _spec(path: str, entry: _Entry) -> CodeSpec:
    return CodeSpec(
        path=path,
        name=path.rsplit("/", 1)[-1],
        patterns=entry.patterns,
        parent=path.rpartition("/")[0] or None,
        line=entry.line,
        **entry.fields,
    )


def _unknown_key_message(key: str, allowed: tuple[str, ...]) -> str:
    fallback = f"expected one of: {', '.join(allowed)}"
    return _not_found_message(f"unknown key '{key}'", key, list(allowed), fallback=fallback)


def _not_found_message(
    message: str, wanted: str, choices: list[str], fallback: str | None = None
) -> str:
    """Append the closest known choice (rapidfuzz), so a typo is answered with a fix."""
    match = process.extractOne(wanted, choices, score_cutoff=70) if choices else None
    if match is not None:
        return f"{message}; did you mean '{match[0]}'?"
    return f"{message}; {fallback}" if fallback else message
