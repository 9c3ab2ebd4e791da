"""YAML that people write (a chat file, a play's front matter), read so that every problem can be named by its
field and line: PyYAML's safe loader (plain data only) that also refuses aliases and deep nesting (no YAML
bombs), and the line of each field, list item and key given twice."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_NESTING = 16


class NotReadable(ValueError):
    """The text is no mapping of fields that can be checked one by one; `message` says why, `line` where."""

    def __init__(self, message: str, line: int | None = None):
        self.message, self.line = message, line
        super().__init__(message)


@dataclass(frozen=True)
class Duplicate:
    field: str
    message: str
    line: int


@dataclass(frozen=True)
class Document:
    data: dict[Any, Any]
    lines: dict[str, int]  # each field's path ("questions[2].text") -> its 1-based line
    duplicates: list[Duplicate] = field(default_factory=list)

    def line_of(self, name: str) -> int | None:
        """The line of field `name`, or of the nearest field holding it (`questions[2]` for `questions[2].at`)."""
        while name:
            if name in self.lines:
                return self.lines[name]
            parent = re.fullmatch(r"(.+?)(?:\.[^.\[\]]*|\[\d+\])", name)
            name = parent.group(1) if parent else ""
        return None


def read_mapping(text: str, *, what: str, first_line: int = 1) -> Document:
    """The mapping of fields `text` holds (`what` it is, for messages: "a chat file"), with their lines counted
    from `first_line`. Raises NotReadable."""
    loader = _Loader(text, what)
    offset = first_line - 1
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        message = detail if isinstance(exc, _Refused) else f"is not valid YAML: {detail}"
        raise NotReadable(message, mark.line + 1 + offset if mark else None) from None
    except yaml.YAMLError as exc:
        raise NotReadable(f"is not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise NotReadable(f"is nested too deeply for {what}") from None
    finally:
        loader.dispose()
    if node is None or data is None:
        raise NotReadable(f"is empty; {what} is a mapping of fields such as `title: ...`", first_line)
    if not isinstance(node, MappingNode) or not isinstance(data, dict):
        raise NotReadable(
            "must be a mapping of fields such as `title: ...`, not a list or a single value",
            node.start_mark.line + 1 + offset,
        )
    found = Document(data, {})
    _map_lines(node, "", offset, found)
    return found


def unknown_field(key: Any, known: tuple[str, ...], what: str) -> str:
    """What to say of a field `what` does not have: the closest known one, or them all."""
    message = f"is not a field of {what}"
    close = difflib.get_close_matches(str(key).lower(), known, n=1, cutoff=0.5)
    if close:
        return f"{message}; did you mean `{close[0]}`?"
    return f"{message}; the fields are: {', '.join(known)}"


class _Refused(yaml.composer.ComposerError):
    """Valid YAML that a person's file may not use."""


class _Loader(yaml.SafeLoader):
    """SafeLoader (plain data only) that also refuses aliases and deep nesting."""

    def __init__(self, stream: str, what: str):
        super().__init__(stream)
        self._depth, self._what = 0, what

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(None, None, "uses an alias (*name); write the value out instead", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _Refused(None, None, f"is nested too deeply for {self._what}", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _timestamp_or_text(loader: yaml.SafeLoader, node: ScalarNode) -> Any:
    """A date that looks like one but is not (2026-02-30) stays text, so validation can point at it."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _map_lines(node: MappingNode, prefix: str, offset: int, found: Document) -> None:
    """Record the line of every key (and list item) under its field path; note keys given twice."""
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            continue  # an unknown key; validation reports it
        path = f"{prefix}{key_node.value}"
        line = key_node.start_mark.line + 1 + offset
        if path in found.lines:
            found.duplicates.append(
                Duplicate(path, f"appears twice (also on line {found.lines[path]}); keep one", line)
            )
            continue
        found.lines[path] = line
        if isinstance(value_node, SequenceNode):
            for number, item in enumerate(value_node.value, 1):
                found.lines[f"{path}[{number}]"] = item.start_mark.line + 1 + offset
                if isinstance(item, MappingNode):
                    _map_lines(item, f"{path}[{number}].", offset, found)
