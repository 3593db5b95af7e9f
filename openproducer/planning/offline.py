"""The offline planner (pure): a plan from the spec's own structure, no AI involved.

Headed sections nest; a leaf section yields one issue, or one per top-level item when its
content is a list of deliverables. A section with sub-sections passes its text down as
context. The preamble, "Background"-like sections and ``<context>`` blocks inform issues but
never become one; "Acceptance criteria" sections attach to the issues they are about.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from openproducer import PlanError
from openproducer.model import Options, Plan, PlannedIssue, Section, Spec
from openproducer.planning.dependencies import (
    before_steps,
    foundations_first,
    is_order_heading,
    label_of,
    order_edges,
    order_pairs,
    ordered_steps,
    overlap,
    unlabelled,
    words,
)
from openproducer.planning.paste import drop_chrome, drop_trigger, fence_diagrams
from openproducer.planning.roles import (
    CONTAINERS,
    CRITERIA_WORDS,
    NUMBERING,
    ROLE_WORDS,
    heading_name,
    section_kind,
)
from openproducer.planning.stories import (
    Candidate,
    is_story,
    names,
    restated,
    same_as,
    states,
    story_goal,
)
from openproducer.spec import (
    FENCE,
    HTML_TAGS,
    clean_title,
    has_markdown_headings,
    parse_sections,
)

TITLE_LIMIT = 79  # GitHub shows about 80 characters of a title in lists
CONTEXT_LIMIT = 600
EXCERPT_LIMIT = 220
FOLD_LIMIT = 1500
_PROSE_INTRO_WORDS = 15  # prose up to this long only introduces a list
_INTRO_MAX_WORDS = 40
_ITEM_WORDS = 5  # items this long on average read as steps to build, not as detail
_PROSE_CONTEXT_WORDS = 60  # ... and so does a paragraph up to this long that ends with ":"
_SUBSTANTIAL_WORDS = 12

# --------------------------------------------------------------------------- Markdown blocks

_ITEM = re.compile(
    r"^(?P<indent>\s*)(?P<marker>[-*+]|\d{1,9}[.)])(?:[ \t]+(?P<content>.*)|[ \t]*$)"
)
_CHECKBOX = re.compile(r"^\[(?P<mark>[ xX])\][ \t]*")
_THEMATIC = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")


@dataclass(frozen=True)
class _Block:
    kind: str  # "para", "list", "code", "table", "quote"
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class _Item:
    """A list item: its own text, its sub-items and any other nested content."""

    head: str
    checked: bool | None  # None: not a checkbox
    subs: tuple[_Item, ...] = ()
    detail: str = ""


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _is_item(line: str) -> bool:
    return bool(_ITEM.match(line)) and not _THEMATIC.match(line)


def split_blocks(text: str) -> tuple[_Block, ...]:
    """Top-level Markdown blocks: paragraphs, lists, code, tables and quotes."""
    lines = text.split("\n")
    blocks = []
    index = 0
    while index < len(lines):
        if not lines[index].strip() or _THEMATIC.match(lines[index]):
            index += 1
            continue
        end, kind = _block_end(lines, index)
        blocks.append(_Block(kind, tuple(lines[index:end])))
        index = end
    return tuple(blocks)


def _block_end(lines: Sequence[str], index: int) -> tuple[int, str]:
    line = lines[index]
    fence = FENCE.match(line)
    if fence:
        return _fence_end(lines, index, fence.group(1)), "code"
    if _is_item(line):
        return _list_end(lines, index), "list"
    kind = {"|": "table", ">": "quote"}.get(line.lstrip()[:1], "para")
    end = index + 1
    while end < len(lines) and _continues_paragraph(lines[end]):
        end += 1
    return end, kind


def _continues_paragraph(line: str) -> bool:
    return bool(line.strip()) and not FENCE.match(line) and not _is_item(line)


def _fence_end(lines: Sequence[str], index: int, fence: str) -> int:
    for end in range(index + 1, len(lines)):
        stripped = lines[end].strip()
        if len(stripped) >= len(fence) and set(stripped) == {fence[0]}:
            return end + 1
    return len(lines)


def _list_end(lines: Sequence[str], index: int) -> int:
    base = _indent(lines[index])
    end = index + 1
    while end < len(lines):
        line = lines[end]
        if not line.strip():
            following = _next_filled(lines, end)
            if following is None or not _belongs_to_list(lines[following], base):
                return end
            end = following
        elif _belongs_to_list(line, base) or not FENCE.match(line):
            end += 1
        else:
            return end
    return end


def _belongs_to_list(line: str, base: int) -> bool:
    return _indent(line) > base or (_is_item(line) and _indent(line) >= base - 1)


def _next_filled(lines: Sequence[str], index: int) -> int | None:
    return next((i for i in range(index, len(lines)) if lines[i].strip()), None)


def parse_items(lines: Sequence[str]) -> tuple[_Item, ...]:
    """The top-level items of a list block, each with its nested content."""
    base = min(_indent(line) for line in lines if _is_item(line))
    groups: list[list[str]] = []
    for line in lines:
        if _is_item(line) and _indent(line) <= base + 1:
            groups.append([line])
        elif groups:
            groups[-1].append(line)
    items = (_parse_item(group) for group in groups)
    return tuple(item for item in items if item.head or item.subs or item.detail)


def _parse_item(group: Sequence[str]) -> _Item:
    match = _ITEM.match(group[0])
    content = (match["content"] if match else "") or ""
    box = _CHECKBOX.match(content)
    checked = None if box is None else box["mark"] != " "
    head = [content[box.end() :] if box else content]
    rest = list(group[1:])
    while rest and rest[0].strip() and not _is_item(rest[0]) and not FENCE.match(rest[0]):
        head.append(rest.pop(0).strip())
    subs, detail = _nested(_dedent(rest))
    return _Item(" ".join(h.strip() for h in head).strip(), checked, subs, detail)


def _dedent(lines: Sequence[str]) -> list[str]:
    filled = [_indent(line) for line in lines if line.strip()]
    cut = min(filled, default=0)
    return [line.expandtabs(4)[cut:] for line in lines]


def _nested(lines: Sequence[str]) -> tuple[tuple[_Item, ...], str]:
    subs: list[_Item] = []
    detail = []
    for block in split_blocks("\n".join(lines)):
        if block.kind == "list":
            subs.extend(parse_items(block.lines))
        else:
            detail.append(block.text)
    return tuple(subs), "\n\n".join(detail)


def render_item(item: _Item, *, checklist: bool, depth: int = 0) -> str:
    """An item as Markdown; as a checklist entry when ``checklist``."""
    pad = "  " * depth
    mark = "- [x] " if item.checked else ("- [ ] " if checklist else "- ")
    lines = [pad + mark + item.head]
    lines += [pad + "  " + line if line else "" for line in item.detail.split("\n") if item.detail]
    lines += [render_item(sub, checklist=checklist, depth=depth + 1) for sub in item.subs]
    return "\n".join(lines)


def _words(text: str) -> int:
    return len(text.split()) + len(_CJK.findall(text)) // 2


# --------------------------------------------------------------------------- section content

_AC_WORDS = CRITERIA_WORDS
_AC_INTRO = re.compile(rf"^\W*(?:{_AC_WORDS})\W*$", re.IGNORECASE)
_AC_LINE = re.compile(
    r"^\s*(?:[*_]{1,2})?(?P<word>AC|done when|acceptance|akzeptanz|完了条件)(?:[*_]{1,2})?"
    r"(?:\s*[:：]|\s+(?=\w))(?:[*_]{1,2})?\s*(?P<rest>\S.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Content:
    """A section body: blocks in order (acceptance criteria taken out), items, criteria."""

    blocks: tuple[_Block, ...] = ()
    items: tuple[_Item, ...] = ()
    criteria: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)

    @property
    def prose(self) -> str:
        return "\n\n".join(block.text for block in self.blocks if block.kind != "list")

    @property
    def deliverables(self) -> bool:
        """True when the items are the work, not detail of the prose around them."""
        if len(self.items) < 2:
            return False
        if any(item.checked is not None for item in self.items):
            return True
        prosaic = [b for b in self.blocks if b.kind in ("para", "table", "quote")]
        prose = sum(_words(b.text) for b in prosaic)
        if prose <= _PROSE_INTRO_WORDS or (len(prosaic) == 1 and _is_intro(prosaic[0])):
            return True
        listed = sum(_words(item.head) for item in self.items)
        if len(self.items) >= 5 and listed >= prose:
            return True
        # Three or more sentence-like items next to a paragraph or two are steps, not detail.
        sentence_like = listed >= _ITEM_WORDS * len(self.items)
        return len(self.items) >= 3 and sentence_like and prose <= _PROSE_CONTEXT_WORDS


_DESCRIPTIVE = re.compile(
    r"^(?:the|a|an|each|every|all|any|within|on|below|above|when|while|if|in|for|at|after|"
    r"before|its|their|this|these|those|no|only|there|it|they|we|users?)\b",
    re.IGNORECASE,
)
_COMMAND = re.compile(
    r"^(?:add|allow|build|check|clean|configure|create|define|delete|deploy|design|document|"
    r"drop|enable|disable|ensure|expose|extract|fix|handle|implement|import|export|introduce|"
    r"keep|let|log|make|measure|migrate|move|parse|pick|provide|publish|remove|rename|replace|"
    r"refactor|report|reset|return|run|send|set|ship|show|split|store|support|test|track|"
    r"update|upgrade|use|validate|verify|write)\b"
    r"|^\S+\s+(?:a|an|the|all|each|every|new|its|their|our|my|your|this|that|these|those)\b",
    re.IGNORECASE,
)
_VERB_SIGNAL = re.compile(
    r"^\S+(?:\s+\S+)?\s+(?:is|are|was|were|has|have|can|cannot|must|should|will|may|"
    r"[a-z]+[^s\W]s)\b"
)


def _is_other_sentence(text: str) -> bool:
    """In a language other than English, a whole sentence ("Код состоит из шести цифр.") is a
    description; a task opens with an infinitive ("Добавить вход по коду")."""
    first = text.split(maxsplit=1)[0].casefold()
    sentence = _words(text) >= _SENTENCE_WORDS and text.rstrip().endswith((".", "。", ";"))
    return sentence and (not _INFINITIVE.search(first) or bool(_MODAL.search(text)))


_INFINITIVE = re.compile(r"(?:ть|ться|ти|чь|en|er|ir|ar)$")  # Russian, German, French, Spanish
_MODAL = re.compile(r"(?i)\b(?:можно|нельзя|kann|können|darf|peut|puede)\b")  # "one can …"
_SIGNATURE = re.compile(r"^`[^`]*\([^`]*\)[^`]*`")  # "`pub fn remaining(self) -> Duration`"
_CODE_RULE = re.compile(r"^`[^`]+`\s+(?:must|should|is|are|may|can|cannot|will|shall)\b")
_DESCRIPTIVE_SHARE = 2 / 3
_LONG_SENTENCE_WORDS = 10  # a whole sentence this long that gives no command describes
_SENTENCE_WORDS = 4


def _describes(items: Sequence[_Item]) -> bool:
    """Items that describe one feature ("The card shows …", "Polling pauses when …") are its
    checklist, not steps to build one by one (those read as commands: "Add the card")."""
    if _continues_sentence(items):
        return True
    described = sum(_is_description(item.head.strip()) for item in items)
    return described >= len(items) * _DESCRIPTIVE_SHARE


def _continues_sentence(items: Sequence[_Item]) -> bool:
    """Lower-case items closed by ";" finish the sentence before them ("The app sends push
    notifications: - two hours before a class; - when a class is cancelled."): one thing's
    parts, in any language."""
    heads = [item.head.strip() for item in items]
    return all(h[:1].islower() for h in heads) and all(h.endswith((";", ",")) for h in heads[:-1])


def _is_description(text: str) -> bool:
    """A sentence about the thing: opens with an article or the like, or has a verb of its
    own in its first words ("Polling pauses", "Empty groups are collapsed")."""
    if text.startswith("`"):
        # A list of named things (endpoints, commands, flags) is a breakdown, unless it states
        # rules about them ("`perNodeBytes` must be at least 10 MiB").
        return bool(_CODE_RULE.match(text) or _SIGNATURE.match(text))
    if _DESCRIPTIVE.match(text):
        return True
    if text[:1].isalpha() and not text[:1].isascii():
        return _is_other_sentence(text)
    if _COMMAND.match(text):
        return False
    long_sentence = _words(text) >= _LONG_SENTENCE_WORDS and text.rstrip().endswith(".")
    return long_sentence or (_words(text) >= _SENTENCE_WORDS and bool(_VERB_SIGNAL.match(text)))


_OWN_WORK_WORDS = 100  # a parent section this long specifies work of its own
_OWN_WORK_BLOCKS = 3


def _is_own_work(content: _Content) -> bool:
    """A parent section whose own text specifies something (long, in several blocks or with
    code) is an issue of its own, not only context for its sub-sections."""
    words = sum(_words(block.text) for block in content.blocks if block.kind != "code")
    has_code = any(block.kind == "code" for block in content.blocks)
    return words >= _OWN_WORK_WORDS and (has_code or len(content.blocks) >= _OWN_WORK_BLOCKS)


def _breaks_down(node: _Node, content: _Content) -> bool:
    """Whether the section's items are its issues: deliverables, unless they describe the
    one feature a specific heading names (then they are that issue's checklist)."""
    if not content.deliverables:
        return False
    ticked = any(item.checked is not None for item in content.items)
    specific = not _is_generic(node.section.title)
    if ticked or not specific:
        return True
    return not (_names_one_thing(node.section.title) or _describes(content.items))


def _names_one_thing(title: str) -> bool:
    """A heading that is one named thing ("`kiln run`", "The `Deadline` type"): its items are
    that thing's behaviour, not parts to build apart."""
    return bool(
        re.fullmatch(
            r"(?:the\s+)?`[^`]+`(?:\s+(?:command|type|function|class|flag))?", _display(title), re.I
        )
    )


def _is_intro(block: _Block) -> bool:
    """A short paragraph ending with a colon introduces the list after it."""
    return block.text.rstrip().endswith((":", "：")) and _words(block.text) <= _INTRO_MAX_WORDS


def analyze(body: str) -> _Content:
    """Split a section body into prose blocks, deliverable candidates and criteria."""
    blocks: list[_Block] = []
    items: list[_Item] = []
    criteria: list[str] = []
    expect_criteria = False
    for block in split_blocks(_COMMENT.sub("", body)):
        if block.kind == "list" and expect_criteria:
            criteria += [render_item(i, checklist=True) for i in parse_items(block.lines)]
            expect_criteria = False
            continue
        if block.kind == "para":
            block, found, expect_criteria = _take_criteria(block)
            criteria += found
            if not block.lines:
                continue
        else:
            expect_criteria = False
        if block.kind == "list":
            listed = parse_items(block.lines)
            if _is_field_list(listed):
                block, found = _take_field_criteria(listed)
                criteria += found
            else:
                items += listed
        blocks.append(block)
    return _Content(tuple(blocks), tuple(items), tuple(criteria))


_FIELD = re.compile(
    r"^(?:\*\*|__)?(?P<label>[^\W\d][\w /-]{0,24}?)[:：](?:\*\*|__)?(?:[:：])?(?:\s|$)"
)
_FIELD_LABEL = re.compile(r"^(?:\*\*|__)(?P<label>[^*_]{1,25}?)[:：]?(?:\*\*|__)[:：]?(?:\s|$)")


_AC_LABEL = re.compile(
    rf"^(?:{_AC_WORDS}|acceptance|akzeptanz|acceptation|aceptación|приемка)$", re.I
)


def _field_label(head: str) -> str | None:
    """The label of a "**Story:** …" or "Benefit: …" item, or None."""
    match = _FIELD_LABEL.match(head) or _FIELD.match(head)
    return match["label"].strip() if match and len(match["label"].split()) <= 3 else None


def _is_field_list(items: Sequence[_Item]) -> bool:
    """Every item opens with a bold label ("**Story:**", "**Acceptance:**"): the items are
    fields of one thing (a user story), not deliverables of their own."""
    labels = [_field_label(item.head) for item in items]
    bold = [item.head.startswith(("**", "__")) for item in items]
    return len(items) >= 2 and all(labels) and all(bold) and len(set(labels)) == len(labels)


def _take_field_criteria(items: Sequence[_Item]) -> tuple[_Block, list[str]]:
    """The fields as one list block, the "Acceptance" field's content as criteria."""
    kept: list[str] = []
    criteria: list[str] = []
    for item in items:
        label = _field_label(item.head) or ""
        if _AC_LABEL.match(label):
            rest = _FIELD_LABEL.sub("", item.head).strip()
            criteria += [render_item(sub, checklist=True) for sub in item.subs]
            criteria += ["- [ ] " + _capitalize(rest)] if rest else []
        else:
            kept.append(render_item(item, checklist=False))
    return _Block("list", tuple("\n".join(kept).split("\n"))), criteria


def _take_criteria(block: _Block) -> tuple[_Block, list[str], bool]:
    """Remove "AC: …" lines and a trailing "Acceptance criteria:" intro from a paragraph."""
    kept: list[str] = []
    found: list[str] = []
    for line in block.lines:
        match = _AC_LINE.match(line)
        if match and not _AC_INTRO.match(line):
            found.append("- [ ] " + _capitalize(match["rest"].strip()))
        else:
            kept.append(line)
    intro = bool(kept) and bool(_AC_INTRO.match(clean_title(kept[-1]) + ":"))
    if intro:
        kept.pop()
    return _Block(block.kind, tuple(kept)), found, intro


# --------------------------------------------------------------------------- section kinds

_KIND_WORDS = ROLE_WORDS
_CONTAINERS = CONTAINERS
_GENERIC = re.compile(
    r"^(?:tasks?|to-?dos?|to do|checklist|deliverables|requirements|features|work items|items|"
    r"steps|action items|scope|backlog|(?:user )?stories|details|implementation|misc|other|"
    r"aufgaben|anforderungen|タスク|要件|やること|требования|задачи|tareas|requisitos|tâches|"
    r"exigences|任务|需求)$"
)
_NUMBERING = NUMBERING


def _display(title: str) -> str:
    return _NUMBERING.sub("", title).strip() or title


def _is_generic(title: str) -> bool:
    return bool(_GENERIC.match(_display(title).casefold()))


@dataclass(frozen=True)
class _Node:
    section: Section
    children: tuple[_Node, ...]

    @property
    def kind(self) -> str:
        kind = section_kind(self.section.title)
        return "reference" if kind == "work" and _is_narrative(self.section) else kind

    @property
    def walked(self) -> bool:
        """Whether the section yields issues: work, or context that holds work sections."""
        if self.kind == "work":
            return not self.only_holds_context
        return self.kind in _CONTAINERS and self.has_work

    @property
    def only_holds_context(self) -> bool:
        """An unknown heading with no text of its own over context sections is context too."""
        if not self.children or _has_content(self.section.body):
            return False
        return not self.has_work and any(c.kind == "reference" for c in self.children)

    @property
    def has_work(self) -> bool:
        return any(child.walked for child in self.children)

    def subtree_text(self) -> str:
        parts = [self.section.body] + [c.render() for c in self.children]
        return "\n\n".join(part for part in parts if part.strip())

    def render(self) -> str:
        heading = "#" * min(self.section.level, 6) + " " + self.section.title
        return heading + "\n\n" + self.subtree_text()


_STORY = re.compile(r"\b(?:user )?stor(?:y|ies)\b|\bscenarios?\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"^(?:I|We)\s")
_NARRATIVE_WORDS = 30


def _is_narrative(section: Section) -> bool:
    """A story told in the first person ("I run a platform team …"), with no list or criteria,
    illustrates why; the design sections say what to build."""
    if not any(_STORY.search(title) for title in section.path[-2:]):
        return False
    content = analyze(section.body)
    paragraphs = [block for block in content.blocks if block.kind == "para"]
    if content.items or content.criteria or len(paragraphs) != len(content.blocks):
        return False
    text = content.text.strip()
    return bool(_FIRST_PERSON.match(text)) and _words(text) >= _NARRATIVE_WORDS


def build_tree(sections: Sequence[Section]) -> tuple[_Node, ...]:
    """Sections as a forest: each section's children are the sections nested under it."""

    def take(start: int, level: int) -> tuple[list[_Node], int]:
        nodes: list[_Node] = []
        index = start
        while index < len(sections) and sections[index].level > level:
            section = sections[index]
            children, index = take(index + 1, section.level)
            nodes.append(_Node(section, tuple(children)))
        return nodes, index

    forest, _ = take(0, 0)
    return tuple(forest)


# --------------------------------------------------------------------------- drafts


@dataclass(frozen=True)
class _Unit:
    """A piece a draft can be split into: its title and text."""

    title: str
    text: str
    criteria: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Draft:
    title: str  # the item's or section's own words, before prefixing and shortening
    path: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]  # (label, verbatim spec text)
    prefix: str = ""  # the section name that makes a short title specific
    group: str | None = None
    context: tuple[tuple[str, str], ...] = ()
    criteria: tuple[str, ...] = ()
    extras: tuple[tuple[str, str], ...] = ()
    covers: tuple[str, ...] = ()
    units: tuple[_Unit, ...] = ()
    members: tuple[tuple[tuple[str, ...], str], ...] = ()  # (path, title) merged into this one

    @property
    def size(self) -> int:
        return sum(len(text) for _, text in self.parts) + 60 * len(self.criteria)


@dataclass(frozen=True)
class _Scope:
    """What the issues of a section inherit from the sections around it."""

    doc: tuple[str, ...] = ()  # the path of the document title heading, if any
    context: tuple[tuple[str, str], ...] = ()
    criteria: tuple[str, ...] = ()
    extras: tuple[tuple[str, str], ...] = ()
    covers: tuple[str, ...] = ()
    targeted: tuple[tuple[str, str], ...] = ()  # (section name, criterion) for named sections
    named: tuple[tuple[str, str], ...] = ()  # (section name, criteria section) for covers

    def add(
        self,
        *,
        context: Iterable[tuple[str, str]] = (),
        criteria: Iterable[str] = (),
        extras: Iterable[tuple[str, str]] = (),
        covers: Iterable[str] = (),
        targeted: Iterable[tuple[str, str]] = (),
        named: Iterable[tuple[str, str]] = (),
    ) -> _Scope:
        return replace(
            self,
            context=_unique_pairs((*self.context, *context)),
            criteria=_unique_str((*self.criteria, *criteria)),
            extras=_unique_pairs((*self.extras, *extras)),
            covers=_unique_str((*self.covers, *covers)),
            targeted=_unique_pairs((*self.targeted, *targeted)),
            named=_unique_pairs((*self.named, *named)),
        )

    def criteria_for(self, path: Sequence[str]) -> tuple[str, ...]:
        names = {_norm(_display(title)) for title in path}
        named = (criterion for name, criterion in self.targeted if name in names)
        return _unique_str((*named, *self.criteria))

    def covers_for(self, path: Sequence[str]) -> tuple[str, ...]:
        names = {_norm(_display(title)) for title in path}
        named = (section for name, section in self.named if name in names)
        return _unique_str((*self.covers, *named))


def _path_name(path: Sequence[str]) -> str:
    return " > ".join(path)


def _visible_path(path: Sequence[str], scope: _Scope) -> tuple[str, ...]:
    return tuple(path[len(scope.doc) :]) if path[: len(scope.doc)] == scope.doc else tuple(path)


def _prefix_for(path: Sequence[str], scope: _Scope, *, doc_fallback: bool = True) -> str:
    """The nearest specific section name along ``path`` (generic ones like "Tasks" skipped)."""
    for title in reversed(_visible_path(path, scope)):
        if not _is_generic(title) and section_kind(title) == "work":
            return _display(title)
    return _display(scope.doc[-1]) if scope.doc and doc_fallback else ""


def _walk(node: _Node, scope: _Scope) -> list[_Draft]:
    """Drafts for a work section and everything nested under it."""
    scope = _attach(node, scope)
    content = analyze(node.section.body)
    scope = scope.add(criteria=content.criteria)
    work = [child for child in node.children if child.walked]
    if not work:
        if _breaks_down(node, content):
            return _item_drafts(node.section.path, content, scope)
        return [_section_draft(node.section, content, scope)]
    breaks_down = _breaks_down(node, content)
    drafts = _item_drafts(node.section.path, content, scope) if breaks_down else []
    if not breaks_down and _is_own_work(content):
        drafts.append(_section_draft(node.section, content, scope))
    passed = content.prose if breaks_down else content.text
    inner = scope.add(context=(_context(node.section.path, passed),)) if passed else scope
    for child in work:
        drafts += _walk(child, inner)
    return drafts


def _attach(node: _Node, scope: _Scope) -> _Scope:
    """Add the section's non-work children (criteria, out of scope, notes) to its scope."""
    for child in node.children:
        if not child.walked:
            scope = _attach_one(child, scope)
    return scope


def _attach_one(child: _Node, scope: _Scope) -> _Scope:
    name = _path_name(child.section.path)
    text = child.subtree_text()
    if child.kind == "criteria":
        return _add_criteria(child, scope)
    if not text.strip():
        return scope
    return scope.add(extras=((_display(child.section.title), text),), covers=(name,))


def _add_criteria(node: _Node, scope: _Scope) -> _Scope:
    """Criteria for the enclosing scope, or for the section a (sub-)heading names."""
    name = _path_name(node.section.path)
    target = _criteria_target(node.section.title)
    found = _criteria_of(node.section.body)
    if target:
        scope = scope.add(targeted=((target, c) for c in found), named=((target, name),))
    elif found:
        scope = scope.add(criteria=found, covers=(name,))
    for child in node.children:
        key = _norm(_display(child.section.title))
        pairs = ((key, c) for c in _criteria_of(child.subtree_text()))
        scope = scope.add(targeted=pairs, named=((key, _path_name(child.section.path)),))
    return scope


def _criteria_target(title: str) -> str:
    """The section an "Acceptance criteria for X" / "Acceptance criteria (X)" heading names."""
    rest = re.sub(rf"^(?:{_KIND_WORDS['criteria']})", "", heading_name(title))
    return _norm(re.sub(r"^\s*(?:for|of|[:(\-–—])\s*", "", rest).rstrip(")"))


def _criteria_of(text: str) -> tuple[str, ...]:
    content = analyze(text)
    listed = tuple(render_item(item, checklist=True) for item in content.items)
    prose = tuple(
        "- [ ] " + " ".join(b.text.split())
        for b in content.blocks
        if b.kind in ("para", "quote", "table")
    )
    return content.criteria + listed + prose


def _base(path: tuple[str, ...], scope: _Scope) -> _Draft:
    visible = _visible_path(path, scope)
    return _Draft(
        title="",
        path=path,
        parts=(),
        group=visible[0] if visible else (path[0] if path else None),
        context=scope.context,
        criteria=scope.criteria_for(path),
        extras=scope.extras,
        covers=(_path_name(path), *scope.covers_for(path)) if path else scope.covers,
    )


def _context(path: Sequence[str], text: str) -> tuple[str, str]:
    """A section's own text as context for the issues under it."""
    label = f"Context ({_display(path[-1])})" if path else "Context"
    return label, _excerpt(text, CONTEXT_LIMIT)


def _item_drafts(path: tuple[str, ...], content: _Content, scope: _Scope) -> list[_Draft]:
    """One draft per top-level item; the section's prose becomes their context."""
    base = _base(path, scope)
    if content.prose:
        base = replace(base, context=(*base.context, _context(path, content.prose)))
    prefix = _prefix_for(path, scope)
    items = open_items(content.items)
    return [_item_draft(item, base, prefix, content.criteria) for item in items]


def open_items(items: Sequence[_Item]) -> tuple[_Item, ...]:
    """The items still to do: ticked ones are done once a list ticks two or more.

    A single tick among open items is kept (it may be a slip, and plans have relied on it)."""
    ticked = [item for item in items if item.checked]
    return tuple(item for item in items if not item.checked) if len(ticked) >= 2 else tuple(items)


def _done_count(sections: Sequence[Section], preamble: str) -> int:
    bodies = (preamble, *(section.body for section in sections))
    return sum(
        len(content.items) - len(open_items(content.items)) for content in map(analyze, bodies)
    )


def _done_note(count: int) -> list[str]:
    if not count:
        return []
    items = "item is" if count == 1 else "items are"
    return [f"{count} ticked {items} done and not planned."]


def _item_draft(item: _Item, base: _Draft, prefix: str, criteria: tuple[str, ...]) -> _Draft:
    title = _title_from(item.head) or _title_from(item.detail)
    text = "\n\n".join(part for part in (item.head, item.detail) if part)
    units = (
        _Unit(title, text or title, criteria),
        *(_Unit(_title_from(s.head), render_item(s, checklist=False)) for s in item.subs),
    )
    own = tuple(render_item(sub, checklist=True) for sub in item.subs)
    return replace(
        base,
        title=title,
        prefix=prefix,
        parts=(("", text or title),),
        criteria=_unique_str((*own, *criteria, *base.criteria)),
        units=units if item.subs else (),
    )


def _unique_str(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _section_draft(section: Section, content: _Content, scope: _Scope) -> _Draft:
    base = _base(section.path, scope)
    title = _display(section.title)
    parent = _prefix_for(section.path[:-1], scope, doc_fallback=_is_generic(title))
    specific = not _is_generic(title) and not _is_short(title)
    text = content.text or (_criteria_text(content) if content.criteria else "")
    return replace(
        base,
        title=title,
        prefix="" if specific or parent.casefold() in title.casefold() else parent,
        parts=(("", text),),
        criteria=_unique_str((*content.criteria, *base.criteria)),
        units=_units(content, prose=False),
    )


def _criteria_text(content: _Content) -> str:
    return "\n".join(content.criteria)


def _units(content: _Content, *, prose: bool = True) -> tuple[_Unit, ...]:
    """How a draft splits to meet a count: by its list items, else (``prose``: text without
    headings) paragraphs, else sentences. A headed section's prose explains one thing: cut
    into sentences it gives issues such as "And then hand it to every step"."""
    if len(content.items) >= 2:
        return tuple(
            _Unit(_title_from(i.head), render_item(i, checklist=False)) for i in content.items
        )
    if not prose:
        return ()
    paragraphs = [b.text for b in content.blocks if b.kind == "para" and _words(b.text) >= 5]
    if len(paragraphs) >= 2:
        return tuple(_Unit(_title_from(p), p) for p in paragraphs)
    sentences = [s for s in _sentences(content.prose) if _words(s) >= 4]
    if len(sentences) >= 2:
        return tuple(_Unit(_title_from(s), s) for s in sentences)
    return ()


def _sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    return [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]


# --------------------------------------------------------------------------- titles


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text


_AUTHOR_NOTE = re.compile(r"\s*\[(?:TBD|TBC|TODO|FIXME|XXX)\b[^\]]*\]", re.IGNORECASE)


def _title_from(text: str) -> str:
    """A plain one-line title from item or paragraph text (full text stays in the body)."""
    lines = (clean_title(_strip_marker(_AUTHOR_NOTE.sub("", line))) for line in text.split("\n"))
    cleaned = next((line for line in lines if _is_wordy(line)), "")
    if len(cleaned) > TITLE_LIMIT:
        sentence = _sentences(cleaned)[0] if _sentences(cleaned) else cleaned
        cleaned = sentence if _words(sentence) >= 3 else cleaned
    return _capitalize(cleaned.rstrip(".,;:!?。、；：！？ "))


def _strip_marker(line: str) -> str:
    """A line without its list marker, checkbox or quote mark."""
    line = re.sub(r"^\s*(?:>\s*)*(?:(?:[-*+]|\d{1,9}[.)])\s+)?", "", line)
    return _CHECKBOX.sub("", line)


def _is_wordy(line: str) -> bool:
    """A line a title can come from: words, and not a code fence."""
    return bool(re.search(r"[^\W_]", line)) and not FENCE.match(line)


def shorten(title: str, limit: int = TITLE_LIMIT) -> str:
    """Shorten at a clause or word boundary (or CJK punctuation) and mark the cut with "…"."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    clause = max(cut.rfind(mark) for mark in (", ", "; ", " – ", " — ", " (", "、", "，"))
    space = cut.rfind(" ")
    if clause >= limit * 2 // 3:
        cut = cut[:clause]
    elif space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(".,;:!?、，；：-–—( ") + "…"


def _is_short(title: str) -> bool:
    return _words(title) <= 3 and len(title) <= 30


def _ordinals() -> Iterable[str]:
    yield from ("second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
    number = 10
    while True:
        yield f"{number}th"
        number += 1


def _full_title(draft: _Draft, *, total: dict[tuple[str, ...], int], doc: tuple[str, ...]) -> str:
    if len(draft.members) > 1:
        return _merged_title(draft, total=total, doc=doc)
    title = draft.title or draft.prefix or _title_from(_text_of(draft)) or "Work from the spec"
    prefix = draft.prefix
    if prefix and _is_short(title) and prefix.casefold() not in title.casefold():
        title = f"{prefix}: {title}"
    return shorten(_with_object(title, draft))


_STEP_LABEL = re.compile(r"(?m)^\*\*([^*\n]{1,24}?):?\*\*:?\s")  # "**Phase 2:** …"
_CODE_ONLY = re.compile(r"^`[^`]+`$")
_LONE_WORD = re.compile(r"^[^\W\d_][\w'’-]*$")


def _with_object(title: str, draft: _Draft) -> str:
    """A heading word alone ("Observability") says what the issue is about, not what to do: its
    text's first sentence says it ("Export tasks as CSV"), after the heading unless it names
    it ("Observability: Every service exports Prometheus metrics …")."""
    if not (_LONE_WORD.match(title) or _CODE_ONLY.match(title)):
        return title
    steps = _unique_str(_STEP_LABEL.findall(_text_of(draft)))
    if is_order_heading(title) and len(steps) >= 2:
        return f"{title}: {_join(steps)} in order"
    gist = _title_from(_text_of(draft))
    gist = next(iter(_sentences(gist)), gist).rstrip(".,;:!?。、；：！？ ")
    if not gist or gist.casefold() == title.casefold() or _words(gist) < 3:
        return title
    return gist if names(title, gist) else f"{title}: {gist}"


def _text_of(draft: _Draft) -> str:
    return "\n\n".join(text for _, text in draft.parts)


def _merged_title(draft: _Draft, *, total: dict[tuple[str, ...], int], doc: tuple[str, ...]) -> str:
    """A merged issue is named by the section it makes up whole, or lists what it merges
    (after the section they share), cut at the title's length: never "… and 3 more"."""
    by_path: dict[tuple[str, ...], list[str]] = {}
    for path, title in draft.members:
        by_path.setdefault(path, []).append(title)
    common = draft.path
    under = sum(n for path, n in total.items() if path[: len(common)] == common)
    if len(common) > len(doc) and len(draft.members) == under:
        name, parts = _display(common[-1]), _child_names(by_path, common)
        return shorten(f"{name}: {', '.join(parts)}" if len(parts) >= 2 else name)
    names = _member_names(by_path, total=total, doc=doc)
    head = _prefix_for(common, _Scope(doc=doc), doc_fallback=len(by_path) == 1)
    head = f"{head}: " if head and head.casefold() not in names[0].casefold() else ""
    listed = head + _join(names)
    return listed if len(listed) <= TITLE_LIMIT else shorten(head + ", ".join(names))


def _member_names(
    by_path: dict[tuple[str, ...], list[str]],
    *,
    total: dict[tuple[str, ...], int],
    doc: tuple[str, ...],
) -> list[str]:
    """What a merged issue holds: each section it holds whole by name, else its items."""
    names: list[str] = []
    for path, items in by_path.items():
        whole = total.get(path, 0) == len(items) and len(path) > len(doc)
        names += [_display(path[-1])] if whole else items
    return names


def _child_names(by_path: dict[tuple[str, ...], list[str]], common: tuple[str, ...]) -> list[str]:
    """The names of the parts below ``common`` a merged issue holds, in order."""
    found = [_display(path[len(common)]) if len(path) > len(common) else "" for path in by_path]
    return [name for name in dict.fromkeys(found) if name]


def _join(titles: Sequence[str]) -> str:
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def _unique_titles(
    drafts: Sequence[_Draft], *, total: dict[tuple[str, ...], int], doc: tuple[str, ...]
) -> list[str]:
    """Titles unique ignoring case; a repeat is told apart by its section, never a number."""
    seen: set[str] = set()
    titles = []
    for draft in drafts:
        first = _full_title(draft, total=total, doc=doc)
        title = next(c for c in _alternatives(first, draft, doc=doc) if c.casefold() not in seen)
        seen.add(title.casefold())
        titles.append(title)
    return titles


def _alternatives(title: str, draft: _Draft, *, doc: tuple[str, ...]) -> Iterable[str]:
    yield title
    visible = [_display(t) for t in (draft.path[len(doc) :] or draft.path)]
    own = draft.title or title
    for depth in range(1, len(visible) + 1):
        where = " › ".join(visible[-depth:])
        if where.casefold() not in own.casefold():
            yield shorten(f"{where}: {own}")
            yield shorten(own, TITLE_LIMIT - len(where) - 3) + f" ({where})"
    gist = _title_from(_text_of(draft))
    if gist and gist.casefold() != own.casefold():
        yield shorten(f"{own}: {gist}")
    where = visible[-1] if visible else "spec"
    for ordinal in _ordinals():
        tail = f" ({ordinal} {where} section)"
        yield shorten(own, max(TITLE_LIMIT - len(tail), 20)) + tail


# --------------------------------------------------------------------------- merge and split


def _merge(first: _Draft, second: _Draft) -> _Draft:
    common = _common_prefix(first.path, second.path)
    return replace(
        first,
        title=first.title if common == first.path else "",
        path=common,
        parts=_labelled(first) + _labelled(second),
        group=first.group,
        context=_unique_pairs((*first.context, *second.context)),
        criteria=_unique_str((*first.criteria, *second.criteria)),
        extras=_unique_pairs((*first.extras, *second.extras)),
        covers=_unique_str((*first.covers, *second.covers)),
        units=(),
        members=(*_members(first), *_members(second)),
    )


def _members(draft: _Draft) -> tuple[tuple[tuple[str, ...], str], ...]:
    return draft.members or ((draft.path, draft.title or draft.prefix),)


def _labelled(draft: _Draft) -> tuple[tuple[str, str], ...]:
    if len(draft.parts) == 1 and not draft.parts[0][0]:
        label = draft.title or draft.prefix
        if draft.prefix and _is_short(label) and draft.prefix.casefold() not in label.casefold():
            label = f"{draft.prefix}: {label}"
        return ((label, draft.parts[0][1]),)
    return draft.parts


def _unique_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(dict.fromkeys(pairs))


def _common_prefix(first: Sequence[str], second: Sequence[str]) -> tuple[str, ...]:
    common: list[str] = []
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        common.append(a)
    return tuple(common)


def _merge_down(drafts: list[_Draft], target: int) -> list[_Draft]:
    """Merge adjacent drafts, same section first, then same group, then any, smallest first."""
    drafts = list(drafts)
    while len(drafts) > max(target, 1):
        pairs = range(len(drafts) - 1)
        best = min(
            pairs, key=lambda i: (_distance(drafts[i], drafts[i + 1]), _pair_size(drafts, i))
        )
        drafts[best : best + 2] = [_merge(drafts[best], drafts[best + 1])]
    return drafts


def _pair_size(drafts: Sequence[_Draft], index: int) -> int:
    return drafts[index].size + drafts[index + 1].size


def _distance(first: _Draft, second: _Draft) -> int:
    if first.path == second.path:
        return 0
    return 1 if first.group == second.group else 2


def _split_up(drafts: list[_Draft], target: int) -> list[_Draft]:
    """Split the largest splittable drafts into their units until there are ``target``."""
    drafts = list(drafts)
    while len(drafts) < target:
        splittable = [i for i, d in enumerate(drafts) if d.units]
        if not splittable:
            break
        index = max(splittable, key=lambda i: drafts[i].size)
        drafts[index : index + 1] = _split(drafts[index])
    return drafts


def _split(draft: _Draft) -> list[_Draft]:
    parent = draft.title or draft.prefix
    shared = _shared_criteria(draft, draft.criteria)
    return [_split_part(draft, unit, parent=parent, shared=shared) for unit in draft.units]


def _split_part(draft: _Draft, unit: _Unit, *, parent: str, shared: tuple[str, ...]) -> _Draft:
    whole = unit.title == parent
    context = draft.context if whole or not parent else (*draft.context, ("Part of", parent))
    return replace(
        draft,
        title=unit.title or parent,
        prefix=draft.prefix if whole else parent,
        parts=(("", unit.text),),
        context=context,
        criteria=_unique_str((*unit.criteria, *shared)),
        units=(),
        members=(),
    )


def _shared_criteria(draft: _Draft, criteria: tuple[str, ...]) -> tuple[str, ...]:
    """Criteria that came from the split units themselves no longer apply to each part."""
    own = {"- [ ] " + u.text.removeprefix("- ") for u in draft.units}
    own |= {"- [x] " + u.text.removeprefix("- ") for u in draft.units}
    return tuple(c for c in criteria if c not in own)


# --------------------------------------------------------------------------- context


_TAG_OPEN = re.compile(r"^\s*<(?P<name>[A-Za-z][\w-]*)(?:\s[^<>]*)?>\s*$")
_TAG_INLINE = re.compile(
    r"^\s*<(?P<name>[A-Za-z][\w-]*)(?:\s[^<>]*)?>(?P<inner>.*)</(?P=name)>\s*$"
)


@dataclass(frozen=True)
class _Prepared:
    text: str  # the spec with context tag blocks taken out
    context: tuple[str, ...]  # text of the ``<context>``-style blocks


def prepare(text: str) -> _Prepared:
    """Take ``<context>…</context>``-style blocks out; other custom tags become headings when
    the spec has no Markdown headings of its own, and are dropped otherwise."""
    text = fence_diagrams(drop_trigger(text))
    text = text if has_markdown_headings(text) else drop_chrome(text)
    lines = text.split("\n")
    hidden = _code_lines(lines)
    has_headings = bool(parse_sections(text))
    kept: list[str] = []
    context: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        name, inner, end = _tag_block(lines, index) if index not in hidden else ("", [], index)
        if not name:
            kept.append(line)
            index += 1
            continue
        if section_kind(_tag_title(name)) in ("context", "reference", "notes"):
            context.append("\n".join(inner).strip())
        elif has_headings:
            kept += inner
        else:
            kept += ["", "# " + _tag_title(name), "", *inner, ""]
        index = end
    return _Prepared("\n".join(kept), tuple(c for c in context if c))


def _tag_block(lines: Sequence[str], index: int) -> tuple[str, list[str], int]:
    """(tag name, inner lines, index after the block) of a custom tag block at ``index``."""
    inline = _TAG_INLINE.match(lines[index])
    if inline and inline["name"].lower() not in HTML_TAGS:
        return inline["name"], [inline["inner"]], index + 1
    match = _TAG_OPEN.match(lines[index])
    if not match or match["name"].lower() in HTML_TAGS:
        return "", [], index
    closing = f"</{match['name']}>"
    for end in range(index + 1, len(lines)):
        if lines[end].strip() == closing:
            return match["name"], list(lines[index + 1 : end]), end + 1
    return "", [], index


def _tag_title(name: str) -> str:
    return _capitalize(re.sub(r"[_-]+", " ", name).strip())


def _code_lines(lines: Sequence[str]) -> set[int]:
    hidden: set[int] = set()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence:
            end = _fence_end(lines, index, fence.group(1))
            hidden.update(range(index, end))
            index = end
        else:
            index += 1
    return hidden


def _excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """Text as context: whole when short, else whole sentences up to ``limit`` and "…"."""
    text = _COMMENT.sub("", text).strip()
    if len(text) <= limit:
        return text
    # Only prose reads well flattened into one line: code, tables ("| | | --- |"), lists (a
    # table of contents, "- Start Date: …") and field blocks ("PEP: 9437") do not.
    prose = [
        b.text for b in split_blocks(text) if b.kind in ("para", "quote") and not _is_fields(b)
    ]
    if not prose:
        return ""
    flat = " ".join(prose)
    flat = " ".join(flat.split())
    kept = ""
    for sentence in _sentences(flat):
        if len(kept) + len(sentence) + 1 > limit:
            break
        kept = f"{kept} {sentence}".strip()
    return kept + " …" if kept and len(kept) < len(flat) else shorten(flat, limit)


_FIELD_LINE = re.compile(r"^[A-Z][\w -]{0,30}:(?:\s|$)")


def _is_fields(block: _Block) -> bool:
    """A block of "Key: value" lines (RFC and PEP headers), not prose."""
    return len(block.lines) > 1 and all(_FIELD_LINE.match(line) for line in block.lines)


def _preamble(sections: Sequence[Section], text: str) -> str:
    """The text before the first heading."""
    if not sections:
        return text
    return "\n".join(text.split("\n")[: sections[0].line - 1]).strip()


def _doc_title(forest: Sequence[_Node]) -> _Node | None:
    """A lone top heading with everything else under it is the document's title."""
    if len(forest) == 1 and forest[0].section.level == 1 and forest[0].has_work:
        return forest[0]
    return None


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class _Outline:
    drafts: tuple[_Draft, ...]
    doc: tuple[str, ...]
    notes: tuple[str, ...]
    intro: str  # preamble excerpt for every issue
    orders: tuple[tuple[str, ...], ...] = ()  # sequences of steps the spec orders its work in


def _outline(text: str) -> _Outline:
    """Drafts from the spec's structure, before count and limits."""
    prepared = prepare(text)
    sections = parse_sections(prepared.text)
    forest = build_tree(sections)
    title = _doc_title(forest)
    roots = title.children if title else forest
    scope = _Scope(doc=title.section.path if title else ())
    intro_parts = [_preamble(sections, prepared.text), *prepared.context]
    if title:
        intro_parts.append(title.section.body)
    scope, notes, background = _globals(roots, scope)
    notes += _done_note(_done_count(sections, _preamble(sections, prepared.text)))
    intro = _excerpt("\n\n".join(p for p in (*intro_parts, *background) if p.strip()))
    drafts: list[_Draft] = []
    for node in roots:
        if node.walked:
            drafts += _walk(node, scope)
    if not drafts and sections:
        drafts = [d for node in roots for d in _walk_all(node, scope)]
    if not drafts:
        rest = prepared.text if _has_content(prepared.text) else "\n\n".join(prepared.context)
        return _Outline(tuple(_unstructured(rest)), (), (), "")
    drafts = _fold_stories(_place_loose_criteria(drafts, scope), scope.doc)
    orders = _orders(sections, _preamble(sections, prepared.text))
    return _Outline(tuple(drafts), scope.doc, tuple(notes), intro, orders)


_CRITERION_MATCH = 3  # a shared word of the title or section counts 3, of the task text 1
RELEASE_TITLE = "Check the release against the remaining acceptance criteria"


def _place_loose_criteria(drafts: list[_Draft], scope: _Scope) -> list[_Draft]:
    """Criteria under a heading that names no section ("Must Have") go to the issue they are
    about, by its words; those about no issue go to one release-acceptance issue."""
    planned = {_norm(_display(title)) for draft in drafts for title in draft.path}
    loose = [(name, c) for name, c in scope.targeted if name not in planned]
    unplaced: list[str] = []
    for _, criterion in loose:
        index = _criterion_owner(criterion, drafts)
        if index is None:
            unplaced.append(criterion)
        else:
            owner = drafts[index]
            drafts[index] = replace(owner, criteria=_unique_str((*owner.criteria, criterion)))
    if not unplaced:
        return drafts
    covers = _unique_str(section for name, section in scope.named if name not in planned)
    release = _Draft(
        title=RELEASE_TITLE,
        path=(),
        parts=(("", "Check the finished release against these criteria of the spec."),),
        criteria=tuple(unplaced),
        covers=covers,
    )
    return [*drafts, release]


def _fold_stories(drafts: list[_Draft], doc: tuple[str, ...]) -> list[_Draft]:
    """A user story that restates a feature of another section is one issue with it, in the
    story's place, cross-referenced (``stories.py``)."""
    stories = [i for i, d in enumerate(drafts) if d.path and is_story(_text_of(d))]
    if not stories:
        return drafts
    story_sections = {drafts[i].path[len(doc) : len(doc) + 1] for i in stories}
    features = [
        i
        for i, d in enumerate(drafts)
        if d.path and i not in stories and d.path[len(doc) : len(doc) + 1] not in story_sections
    ]
    pairs = restated(
        [_candidate(drafts[i]) for i in stories], [_candidate(drafts[i]) for i in features]
    )
    folded = list(drafts)
    for story, feature in pairs.items():
        folded[stories[story]] = _fold(drafts[stories[story]], drafts[features[feature]], doc)
    gone = {features[feature] for feature in pairs.values()}
    return [draft for i, draft in enumerate(folded) if i not in gone]


def _candidate(draft: _Draft) -> Candidate:
    heading = draft.title or _display(draft.path[-1])
    return Candidate(heading, "\n".join((draft.title, _text_of(draft), *draft.criteria)))


def _fold(story: _Draft, feature: _Draft, doc: tuple[str, ...]) -> _Draft:
    goal = story_goal(story.title)
    name = feature.title or _display(feature.path[-1])
    if not names(name, goal):
        lead = goal[:1].lower() if goal[1:2].islower() else goal[:1]
        goal = f"{name}: {lead}{goal[1:]}"
    where = " › ".join(_display(t) for t in story.path[len(doc) :])
    return replace(
        feature,
        title=goal,
        prefix="",
        parts=(
            *(("", text) for _, text in feature.parts),
            *(("User story", text) for _, text in story.parts),
        ),
        context=_unique_pairs((*feature.context, ("Also in the spec", where), *story.context)),
        criteria=_unique_str((*story.criteria, *feature.criteria)),
        extras=_unique_pairs((*feature.extras, *story.extras)),
        covers=_unique_str((*feature.covers, *story.covers)),
        units=(),
    )


def _criterion_owner(criterion: str, drafts: Sequence[_Draft]) -> int | None:
    scores = [_criterion_score(criterion, draft) for draft in drafts]
    best = max(scores, default=0)
    return scores.index(best) if best >= _CRITERION_MATCH else None


def _criterion_score(criterion: str, draft: _Draft) -> int:
    named = words(" ".join((draft.title, *(_display(t) for t in draft.path[-1:]))))
    text = "\n".join((_text_of(draft), *draft.criteria))
    return _CRITERION_MATCH * overlap(criterion, named) + overlap(criterion, words(text))


def _orders(sections: Sequence[Section], preamble: str) -> tuple[tuple[str, ...], ...]:
    """Every sequence of steps in the spec's prose, items and roadmap lists."""
    found: list[tuple[str, ...]] = []
    for title, body, kind in (
        ("", preamble, "context"),
        *((s.title, s.body, section_kind(s.title)) for s in sections),
    ):
        order = is_order_heading(title)
        blocks = split_blocks(_COMMENT.sub("", body))
        for block in blocks:
            found += _block_orders(block, ordered_list=order, loose=order or kind != "work")
        found += _phase_orders(blocks) if order else []
    return tuple(steps for steps in found if len(steps) >= 2)


_PARALLEL = re.compile(r",\s+and\s+|;\s+")  # "a remote cache, and a `kiln graph` command"


def _phase_orders(blocks: Sequence[_Block]) -> list[tuple[str, ...]]:
    """ "**MVP:** 1) … 4) …", "**Phase 2:** …", "**Phase 3:** a, and b": each phase's first
    step (every item of a phase that lists its work side by side) follows the last step of the
    phase before."""
    phases: list[tuple[list[str], list[str]]] = []  # (steps in order, what starts the phase)
    for block in blocks:
        if block.kind != "para" or not label_of(block.text):
            continue
        steps = ordered_steps(block.text)
        parallel = _PARALLEL.split(unlabelled(block.text))
        phases.append((steps, steps[:1]) if steps else (parallel, parallel))
    return [
        (before[-1], first)
        for (before, _), (_, starts) in itertools.pairwise(phases)
        for first in starts
    ]


def _block_orders(block: _Block, *, ordered_list: bool, loose: bool) -> list[tuple[str, ...]]:
    if block.kind == "para":
        return [tuple(ordered_steps(block.text, loose=loose)), tuple(before_steps(block.text))]
    if block.kind != "list":
        return []
    items = parse_items(block.lines)
    found = [tuple(ordered_steps(f"{item.head} {item.detail}", loose=loose)) for item in items]
    if ordered_list and re.match(r"^\s*\d", block.lines[0]):
        found.append(tuple(item.head for item in items))
    return found


def _walk_all(node: _Node, scope: _Scope) -> list[_Draft]:
    """Every section as work: for specs made only of "Background"-like sections."""
    content = analyze(node.section.body)
    if node.children:
        drafts = (
            _item_drafts(node.section.path, content, scope) if _breaks_down(node, content) else []
        )
        if content.text and not _breaks_down(node, content):
            drafts.append(_section_draft(node.section, content, scope))
        return drafts + [d for child in node.children for d in _walk_all(child, scope)]
    if _breaks_down(node, content):
        return _item_drafts(node.section.path, content, scope)
    return [_section_draft(node.section, content, scope)]


def _globals(roots: Sequence[_Node], scope: _Scope) -> tuple[_Scope, list[str], list[str]]:
    """Top-level non-work sections: global criteria, notes for the user, background text."""
    notes: list[str] = []
    background: list[str] = []
    work_seen = False
    for node in roots:
        if node.walked:
            work_seen = True
            continue
        text = node.subtree_text()
        name = _display(node.section.title)
        if node.kind == "criteria":
            scope = _add_criteria(node, scope)
        elif node.kind == "scope" and text.strip():
            notes.append(_not_planned(name, text))
        elif node.kind == "constraints" and text.strip():
            scope = scope.add(extras=((name, text),), covers=(_path_name(node.section.path),))
        elif text.strip():
            leading = node.kind == "reference" and not work_seen and not _CHECKLIST.match(name)
            background += [text] if node.kind == "context" or leading else []
            notes.append(f'"{name}" was read as context for the issues, not as work to do.')
            notes += _nested_scope_notes(node)
    return scope, notes, background


# Read as context, but no introduction to an issue: a checklist of the document's own process.
_CHECKLIST = re.compile(r"(?i).*\b(?:sign[- ]?off|checklist|questionnaire|table of contents)\b")


def _not_planned(name: str, text: str) -> str:
    listed = "; ".join(clean_title(i.head) for i in analyze(text).items) or _excerpt(text, 160)
    return f'Not planned, as "{name}" says: {listed}'


def _nested_scope_notes(node: _Node) -> list[str]:
    """Non-goals nested in a context section ("Motivation > Non-Goals") are still said."""
    notes = []
    for child in node.children:
        text = child.subtree_text()
        if child.kind == "scope" and text.strip():
            notes.append(_not_planned(_display(child.section.title), text))
        else:
            notes += _nested_scope_notes(child)
    return notes


def _unstructured(text: str) -> list[_Draft]:
    """No headings: one issue per list item, else per substantial paragraph, else one."""
    content = analyze(text)
    if len(content.items) >= 2 and (content.deliverables or len(content.blocks) == 1):
        return _item_drafts((), content, _Scope())
    blocks = [b for b in content.blocks if b.text.strip()]
    substantial = [b for b in blocks if _words(b.text) >= _SUBSTANTIAL_WORDS]
    if len(substantial) >= 2:
        return _paragraph_drafts(blocks)
    body = content.text or _COMMENT.sub("", text).strip()
    draft = _paragraph_draft([body])
    return [replace(draft, criteria=content.criteria, units=_units(content))]


def _paragraph_drafts(blocks: Sequence[_Block]) -> list[_Draft]:
    """One draft per substantial paragraph; short ones join the paragraph after them."""
    drafts: list[_Draft] = []
    pending: list[str] = []
    for block in blocks:
        pending.append(block.text)
        if _words(block.text) >= _SUBSTANTIAL_WORDS and block.kind != "code":
            drafts.append(_paragraph_draft(pending))
            pending = []
    if pending and drafts:
        last = drafts[-1]
        drafts[-1] = replace(last, parts=(("", _text_of(last) + "\n\n" + "\n\n".join(pending)),))
    elif pending:
        drafts.append(_paragraph_draft(pending))
    return drafts


def _paragraph_draft(texts: Sequence[str]) -> _Draft:
    text = "\n\n".join(texts)
    main = next((t for t in texts if _words(t) >= _SUBSTANTIAL_WORDS), texts[-1])
    title = _title_from(main)
    units = tuple(_Unit(_title_from(s), s) for s in _sentences(text) if _words(s) >= 4)
    return _Draft(title=title, path=(), parts=(("", text),), units=units if len(units) > 1 else ())


def _component_drafts(spec: Spec) -> list[_Draft]:
    """One draft per component: the expanded template, or the component with the spec."""
    options = spec.options
    drafts = []
    for index, component in enumerate(options.components, 1):
        if options.template is not None:
            expanded = options.template.replace("{component}", component)
            expanded = expanded.replace("{index}", str(index))
            lines = expanded.strip().split("\n")
            title = clean_title(lines[0]) or component
            body = "\n".join(lines[1:]).strip() if len(lines) > 1 else expanded.strip()
        else:
            title, body = component, ""
        drafts.append(
            _Draft(
                title=title,
                path=(),
                parts=(("", body),),
                group=component,
                context=(("Component", component),),
                extras=_spec_extra(spec.text),
            )
        )
    return drafts


def _spec_extra(text: str) -> tuple[tuple[str, str], ...]:
    """The whole spec as context of a component issue, folded away when it is long."""
    text = text.strip()
    if not _has_content(text):
        return ()
    if len(text) <= FOLD_LIMIT:
        return (("The spec", text),)
    return (("", f"<details><summary>The spec</summary>\n\n{text}\n\n</details>"),)


def _template_extra(template: str, title: str, index: int) -> tuple[str, str]:
    text = template.replace("{component}", title).replace("{index}", str(index))
    return ("Template", text)


def _has_content(text: str) -> bool:
    return bool(_COMMENT.sub("", text).strip())


def build_offline_plan(spec: Spec, *, max_issues: int = 100) -> Plan:
    """Plan issues from the spec's own structure; ``Plan.planner`` is "offline"."""
    options = spec.options
    if not _has_content(spec.text) and not options.components:
        raise PlanError(
            "The spec is empty: write what should be built under the trigger, for example a "
            "few headed sections or a checklist, then ask again."
        )
    if options.components:
        outline = _Outline(tuple(_component_drafts(spec)), (), _component_notes(options), "")
        drafts = list(outline.drafts)
    else:
        outline = _outline(spec.text)
        drafts, count_notes = _fit_count(_dedupe(list(outline.drafts)), options, max_issues)
        outline = replace(outline, notes=(*outline.notes, *count_notes))
    drafts, limit_notes = _fit_limit(drafts, max_issues)
    notes = (*outline.notes, *limit_notes)
    return Plan(issues=tuple(_issues(drafts, outline)), planner="offline", notes=notes)


def _component_notes(options: Options) -> tuple[str, ...]:
    if options.count is None or options.count == len(options.components):
        return ()
    return (
        f"count {options.count} was not used: there is one issue per component "
        f"({len(options.components)}).",
    )


def _dedupe(drafts: list[_Draft]) -> list[_Draft]:
    """The same item written twice in one section is one issue."""
    kept: list[_Draft] = []
    seen: set[tuple[tuple[str, ...], str, str]] = set()
    for draft in drafts:
        key = (draft.path, draft.title.casefold(), _text_of(draft).strip())
        if key not in seen:
            seen.add(key)
            kept.append(draft)
    return kept


def _fit_count(
    drafts: list[_Draft], options: Options, max_issues: int
) -> tuple[list[_Draft], list[str]]:
    drafts, notes = _fit_to(drafts, options.count, max_issues=max_issues)
    if options.template is None:
        return drafts, notes
    note = "The template was added to every issue; list components to get one issue each."
    return _with_template(drafts, options.template), [*notes, note]


def _fit_to(
    drafts: list[_Draft], count: int | None, *, max_issues: int
) -> tuple[list[_Draft], list[str]]:
    if count is None:
        return drafts, []
    target = min(count, max_issues)
    found = len(drafts)
    drafts = _split_up(drafts, target)
    if len(drafts) > target:
        merged = _merge_down(drafts, target)
        note = f"Merged related items into {target} issues, as count asks ({found} found)"
        return merged, [note + _merged_list(drafts, merged)]
    if len(drafts) < target:
        return drafts, [f"The spec supports {len(drafts)} distinct issues; asked for {count}."]
    return drafts, []


def _fit_limit(drafts: list[_Draft], max_issues: int) -> tuple[list[_Draft], list[str]]:
    if len(drafts) <= max_issues:
        return drafts, []
    note = (
        f"The spec has {len(drafts)} items; related ones were merged to stay within the limit "
        f"of {max_issues} issues"
    )
    merged = _merge_down(drafts, max_issues)
    return merged, [note + _merged_list(drafts, merged)]


MERGES_LISTED = 5


def _merged_list(before: Sequence[_Draft], after: Sequence[_Draft]) -> str:
    """ ": “A” with “B”; “C” with “D” and “E”." — what was merged, the first few."""
    total: dict[tuple[str, ...], int] = {}
    for draft in before:
        total[draft.path] = total.get(draft.path, 0) + 1
    merged = []
    for draft in after:
        if len(draft.members) < 2:
            continue
        by_path: dict[tuple[str, ...], list[str]] = {}
        for path, title in draft.members:
            by_path.setdefault(path, []).append(title or _display(path[-1]) if path else title)
        names = _member_names(by_path, total=total, doc=())
        merged.append([shorten(name, 40) for name in names if name])
    merged = [names for names in merged if len(names) > 1]
    told = "; ".join(
        " with ".join([f"“{names[0]}”", _join([f"“{n}”" for n in names[1:]])])
        for names in merged[:MERGES_LISTED]
    )
    more = len(merged) - MERGES_LISTED
    return (f": {told}" + (f"; and {more} more merges" if more > 0 else "") + ".") if told else "."


def _with_template(drafts: Sequence[_Draft], template: str) -> list[_Draft]:
    return [
        replace(d, extras=(*d.extras, _template_extra(template, d.title or d.prefix, i)))
        for i, d in enumerate(drafts, 1)
    ]


def _issues(drafts: Sequence[_Draft], outline: _Outline) -> list[PlannedIssue]:
    total: dict[tuple[str, ...], int] = {}
    for draft in outline.drafts:
        total[draft.path] = total.get(draft.path, 0) + 1
    drafts = _in_spec_order(drafts, outline, total=total)
    titles = _unique_titles(drafts, total=total, doc=outline.doc)
    names = [_step_names(draft, title) for draft, title in zip(drafts, titles, strict=True)]
    ordered = order_edges(outline.orders, names, [_heading_words(d) for d in drafts])
    depends = [
        tuple(sorted({*named, *(i + 1 for i in follows)}))
        for named, follows in zip(_dependencies(drafts, titles), ordered, strict=True)
    ]
    return [
        PlannedIssue(
            key=str(index),
            title=title,
            body=render_body(draft, intro=outline.intro),
            depends_on=tuple(str(d) for d in depends[index - 1]),
            size=_size(draft),
            covers=tuple(c for c in draft.covers if c),
            group=draft.group,
        )
        for index, (draft, title) in enumerate(zip(drafts, titles, strict=True), 1)
    ]


def _in_spec_order(
    drafts: Sequence[_Draft], outline: _Outline, *, total: dict[tuple[str, ...], int]
) -> list[_Draft]:
    """Drafts reordered so that what the spec says comes first does (foundations first)."""
    if not outline.orders:
        return list(drafts)
    titles = _unique_titles(drafts, total=total, doc=outline.doc)
    names = [_step_names(draft, title) for draft, title in zip(drafts, titles, strict=True)]
    headings = [_heading_words(draft) for draft in drafts]
    order = foundations_first(len(drafts), order_pairs(outline.orders, names, headings))
    return [drafts[index] for index in order]


def _heading_words(draft: _Draft) -> frozenset[str]:
    return words(_display(draft.path[-1])) if draft.path else frozenset()


def _step_names(draft: _Draft, title: str) -> frozenset[str]:
    """The words a step of the spec's order may name an issue by: its title and section."""
    section = _display(draft.path[-1]) if draft.path else ""
    return words(f"{title} {draft.title} {section}")


def _size(draft: _Draft) -> str:
    size = draft.size
    return "S" if size < 400 else ("M" if size < 1500 else "L")


# --------------------------------------------------------------------------- body


def render_body(draft: _Draft, *, intro: str) -> str:
    """The issue body: where it comes from, context, the spec text, acceptance criteria."""
    where = " › ".join(_display(t) for t in draft.path)
    lines = [f"> **Spec section:** {where}" if where else "> **From the spec**"]
    lines += ["> " + line if line else ">" for line in intro.split("\n") if intro]
    for label, text in draft.context:
        lines += ["", *_labelled_block(label, text)]
    parts = [(label, text) for label, text in draft.parts if text.strip()]
    if parts:
        lines += ["", "### Task"]
    for label, text in parts:
        lines += ["", f"#### {label}", "", text] if label else ["", text]
    if draft.criteria:
        lines += ["", "### Acceptance criteria", "", *draft.criteria]
    for label, text in draft.extras:
        lines += ["", *_labelled_block(label, text)]
    return "\n".join(lines).strip() + "\n"


def _labelled_block(label: str, text: str) -> list[str]:
    if not label:
        return [text.strip()]
    if "\n" not in text.strip():
        return [f"**{label}:** {text.strip()}"]
    return [f"**{label}:**", "", text.strip()]


# --------------------------------------------------------------------------- dependencies

_DEPENDS = re.compile(
    r"\b(?:depends on|blocked by|requires|after|needs)\s+(?:the\s+|an?\s+)?[\"'“`]?"
    r"(?P<name>[^\"'”`.,;:()\n]{3,80})",
    re.IGNORECASE,
)


def _dependencies(drafts: Sequence[_Draft], titles: Sequence[str]) -> list[tuple[int, ...]]:
    """Keys of earlier issues that an issue's own text says it depends on, by name."""
    names = [_names(draft, title) for draft, title in zip(drafts, titles, strict=True)]
    result = []
    for index, draft in enumerate(drafts):
        wanted = [_norm(m["name"]) for _, text in draft.parts for m in _DEPENDS.finditer(text)]
        found = [i + 1 for i in range(index) if any(_names_match(w, names[i]) for w in wanted)]
        result.append(tuple(sorted({*found, *_reused(index, drafts)})))
    return result


def _reused(index: int, drafts: Sequence[_Draft]) -> set[int]:
    """Keys of earlier issues that state what this one reuses ("the same polling interval as
    statuses"): the issue builds on theirs."""
    own = "\n".join((_text_of(drafts[index]), *drafts[index].criteria))
    return {
        i + 1
        for phrase in same_as(own)
        for i in range(index)
        if states("\n".join((_text_of(drafts[i]), *drafts[i].criteria)), phrase)
    }


def _names_match(wanted: str, names: set[str]) -> bool:
    """Exact name, or a name of two words or more followed by more words."""
    return any(wanted == n or (" " in n and wanted.startswith(n + " ")) for n in names)


def _names(draft: _Draft, title: str) -> set[str]:
    return {n for n in (_norm(title), _norm(draft.title)) if n}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", clean_title(text).casefold()).split())
