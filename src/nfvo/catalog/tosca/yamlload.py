"""Safe YAML loading with line numbers and protection against hostile input.

Every mapping is loaded as a :class:`LineDict` and every sequence as a
:class:`LineList`; both remember the line where they start and, for mappings,
the line of each key.  The parser uses these to name ``file:line`` in errors.

Protections: files above 16 MiB, non UTF-8 bytes, YAML syntax errors, keys written
twice in one mapping and alias "bombs" (a few anchors expanded into billions of nodes)
are refused with a :class:`~nfvo.catalog.errors.PackageError` and a named cause.
"""

from __future__ import annotations

from typing import Any

import yaml

from nfvo.catalog.errors import PackageError

MAX_YAML_BYTES = 16 << 20
MAX_NODES = 2_000_000
MAX_EXPANDED_NODES = 2_000_000

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """Line of ``key`` if known, else the line of the mapping itself."""
        return self.lines.get(key, self.line)


class LineList(list):
    """A sequence that remembers the line where it starts (1-based)."""

    __slots__ = ("line",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.line = 0


def line_of(container: Any, key: Any = None) -> int | None:
    """Best known line for ``container[key]`` (or the container itself)."""
    if isinstance(container, LineDict):
        return container.line_of(key) if key is not None else container.line
    if isinstance(container, LineList):
        return container.line
    return None


def _make_loader(base: type) -> type:
    class _Loader(base):  # type: ignore[misc, valid-type]
        """Safe loader that records lines and counts constructed and aliased nodes."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.node_count = 0
            self.alias_hits = 0

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            if node in self.constructed_objects:
                self.alias_hits += 1
            else:
                self.node_count += 1
                if self.node_count > MAX_NODES:
                    raise PackageError("YAML_BOMB", f"more than {MAX_NODES} YAML nodes")
            return super().construct_object(node, deep)

    def construct_map(loader: Any, node: yaml.MappingNode) -> Any:
        data = LineDict()
        data.line = node.start_mark.line + 1
        yield data
        _refuse_duplicate_keys(node)
        loader.flatten_mapping(node)
        lines = data.lines
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=False)
            try:
                hash(key)
            except TypeError:
                raise PackageError(
                    "YAML_SYNTAX", "unhashable mapping key", line=key_node.start_mark.line + 1
                ) from None
            data[key] = loader.construct_object(value_node, deep=False)
            lines[key] = key_node.start_mark.line + 1

    def construct_seq(loader: Any, node: yaml.SequenceNode) -> Any:
        data = LineList()
        data.line = node.start_mark.line + 1
        yield data
        data.extend(loader.construct_object(child, deep=False) for child in node.value)

    _Loader.add_constructor("tag:yaml.org,2002:map", construct_map)
    _Loader.add_constructor("tag:yaml.org,2002:seq", construct_seq)
    return _Loader


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    """A key written twice in one mapping is refused (YAML 1.2 requires unique keys): a
    reader of the file sees the first value, a lenient parser keeps the last, and a package
    could show a reviewer one descriptor and deploy another. Keys that ``<<`` merges in may
    be overridden, as YAML allows."""
    seen: dict[tuple[str, str], int] = {}
    for key_node, _value in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        line = key_node.start_mark.line + 1
        first = seen.get((key_node.tag, key_node.value))
        seen.setdefault((key_node.tag, key_node.value), line)
        if first is not None:
            raise PackageError(
                "YAML_DUPLICATE_KEY",
                f"key {key_node.value!r} appears twice in one mapping (first at line {first})",
                line=line,
            )


FastLoader = _make_loader(_BaseLoader)
PureLoader = _make_loader(yaml.SafeLoader)


def _expanded_size(root: Any, file: str) -> int:
    """Node count with every alias expanded, computed without expanding (memoised by id)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(obj: Any) -> int:
        if not isinstance(obj, dict | list):
            return 1
        key = id(obj)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in active:
            raise PackageError("YAML_BOMB", "recursive YAML alias", file=file)
        active.add(key)
        children = obj.values() if isinstance(obj, dict) else obj
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                raise PackageError(
                    "YAML_BOMB",
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes",
                    file=file,
                )
        active.discard(key)
        sizes[key] = total
        return total

    return size(root)


def decode_yaml_bytes(data: bytes, file: str) -> str:
    """Check size and encoding; return the text."""
    if len(data) > MAX_YAML_BYTES:
        raise PackageError(
            "FILE_TOO_LARGE", f"YAML file of {len(data)} bytes exceeds {MAX_YAML_BYTES}", file=file
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError("NOT_UTF8", f"not valid UTF-8 at byte {exc.start}", file=file) from None
    return text[1:] if text.startswith("\ufeff") else text


def load_yaml(data: bytes, file: str, *, loader: type | None = None) -> LineDict:
    """Parse one YAML document that must be a mapping; errors name the file and line."""
    text = decode_yaml_bytes(data, file)
    instance = (loader or FastLoader)(text)
    try:
        doc = instance.get_single_data()
    except PackageError as exc:
        exc.file = file
        raise PackageError(exc.cause, exc.detail, file=file, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = f"YAML syntax error: {exc.problem or exc.context}"
        raise PackageError("YAML_SYNTAX", detail, file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise PackageError("YAML_SYNTAX", f"YAML error: {exc}", file=file) from None
    finally:
        instance.dispose()
    if instance.alias_hits:
        _expanded_size(doc, file)
    if not isinstance(doc, LineDict):
        kind = "empty" if doc is None else type(doc).__name__
        raise PackageError("NOT_A_MAPPING", f"YAML document is {kind}, not a mapping", file=file)
    return doc
