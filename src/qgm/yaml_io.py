"""YAML in and out, safely: the one reader of every YAML a user gives qgm.

:func:`yaml_load` is PyYAML's safe loader with four guards, each a one-line
:class:`~qgm.errors.ConfigError` naming the source and line:

* text over :data:`~qgm.limits.MAX_CONFIG_BYTES` is refused before parsing;
* nesting deeper than :data:`~qgm.limits.MAX_YAML_DEPTH` is refused: flow
  brackets (``[[[[...``) by a scan of the text before PyYAML's scanner sees them
  (it slows down quadratically with their depth), and any nesting while
  composing (before Python's recursion limit is near);
* anchors and aliases are measured as the data they expand to: more than
  :data:`~qgm.limits.MAX_YAML_NODES` nodes (an "alias bomb"), nesting beyond the
  depth limit through aliases, or an alias inside its own anchor are refused
  before any Python object is built;
* a key given twice in one mapping is refused (YAML forbids it; PyYAML keeps the last).

It also reads ``1e-3`` (no dot) as a float, as YAML 1.2 does. :func:`read_yaml`
adds the file checks: missing file, size, UTF-8.
"""
from __future__ import annotations

import os
import re
from typing import Any, Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from qgm.errors import ConfigError
from qgm.limits import MAX_CONFIG_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

__all__ = ["yaml_load", "yaml_dump", "read_yaml"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


def _line(node_or_mark: Any) -> int:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1 if mark is not None else 0


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expansion(root: Node, source: str) -> None:
    """Refuse a node graph whose expansion (aliases copied out) is too large, too deep or infinite."""
    done: dict[int, tuple[int, int]] = {}  # id -> (expanded nodes, expanded depth)
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            kids = [done[id(k)] for k in _children(node)]
            size = 1 + sum(k[0] for k in kids)
            depth = 1 + max((k[1] for k in kids), default=0)
            if size > MAX_YAML_NODES:
                raise ConfigError(
                    f"{source}: line {_line(node)}: the data expands to more than MAX_YAML_NODES={MAX_YAML_NODES:,} "
                    "nodes (qgm.limits; anchors and aliases count as copies); write a smaller config"
                )
            if depth > MAX_YAML_DEPTH:
                raise ConfigError(
                    f"{source}: line {_line(node)}: aliases nest the data deeper than MAX_YAML_DEPTH={MAX_YAML_DEPTH} "
                    "(qgm.limits); flatten the config"
                )
            done[key] = (size, depth)
            continue
        if key in done:
            continue
        if key in on_path:
            raise ConfigError(f"{source}: line {_line(node)}: an alias refers to a node that contains it; "
                              "remove the recursive alias")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in done)


def _flow_depth_line(text: str, limit: int) -> int:
    """The line on which flow brackets (``[``/``{`` outside quotes and comments) nest deeper than ``limit``, else 0.

    A quote opens a quoted scalar only where a scalar can start (after ``:``, ``[``, ``{``, ``,``, ``-``, ``?`` or
    at a line start), so an apostrophe inside a plain word cannot hide brackets; brackets inside plain or block
    scalars count, which errs on the side of refusing.
    """
    if text.count("[") + text.count("{") <= limit:
        return 0
    depth, line, quote, escaped, comment = 0, 1, "", False, False
    prev, sig = "\n", "\n"  # the previous character; the last one that is not a space or tab
    for ch in text:
        if ch == "\n":
            line += 1
        if comment:
            comment = ch != "\n"
        elif quote == "'":
            quote = "" if ch == "'" else quote
        elif quote == '"':
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quote = ""
        elif ch in "'\"" and sig in ":[{,-?\n":
            quote = ch
        elif ch == "#" and prev in " \t\n":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth = max(depth - 1, 0)
        prev = ch
        if ch not in " \t":
            sig = ch
    return 0


class _Loader(yaml.SafeLoader):
    """SafeLoader with the guards of the module docstring."""

    def __init__(self, stream: str, source: str = "<text>") -> None:
        super().__init__(stream)
        self.source = source
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise ConfigError(
                    f"{self.source}: line {_line(self.peek_event())}: nesting deeper than MAX_YAML_DEPTH="
                    f"{MAX_YAML_DEPTH} (qgm.limits); flatten the config"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node, self.source)
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise ConfigError(
                        f"{self.source}: line {_line(key_node)}: key {key_node.value[:60]!r} appears twice in one "
                        f"mapping (first on line {seen[key]}); keep one"
                    )
                seen[key] = _line(key_node)
        return super().construct_mapping(node, deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def yaml_load(text: str, source: str = "<text>") -> Any:
    """Parse YAML ``text`` with the guards of the module docstring; ConfigError on any problem."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: {size:,} bytes of YAML, over MAX_CONFIG_BYTES={MAX_CONFIG_BYTES:,} (qgm.limits); "
                          "write a smaller config")
    line = _flow_depth_line(text, MAX_YAML_DEPTH)
    if line:
        raise ConfigError(f"{source}: line {line}: nesting deeper than MAX_YAML_DEPTH={MAX_YAML_DEPTH} (qgm.limits); "
                          "flatten the config")
    loader = None
    try:
        loader = _Loader(text, source)
        return loader.get_single_data()
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    except (ValueError, TypeError, OverflowError, IndexError, KeyError, AttributeError) as exc:
        # a scalar PyYAML's constructors cannot convert (a bad date, a huge integer, an empty '!!int')
        raise ConfigError(f"{source}: a value cannot be read ({' '.join(str(exc).split())[:200]})") from None
    finally:
        if loader is not None:
            loader.dispose()


def yaml_dump(data: Any) -> str:
    """YAML text of plain data (keys in insertion order)."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def read_yaml(path: Union[str, "os.PathLike[str]"], field: str = "config") -> Any:
    """The YAML data in file ``path``: ConfigErrors naming ``field`` for a missing, oversized or non-UTF-8 file."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        what = "is a folder, not a file" if os.path.isdir(name) else "not found"
        raise ConfigError(f"{field}: file {name!r} {what}; give the path of a YAML file")
    size = os.path.getsize(name)
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{field}: {name!r} has {size:,} bytes, over MAX_CONFIG_BYTES={MAX_CONFIG_BYTES:,} "
                          "(qgm.limits); write a smaller config")
    with open(name, "rb") as f:
        data = f.read(MAX_CONFIG_BYTES + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{field}: {name!r} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None
    return yaml_load(text, name)
