"""The last step before text leaves for GitHub: every title, body and comment passes here.

`Outbound` applies the whole safety policy in one place, whatever built the text:

- control and bidirectional formatting characters are removed (`safety.clean_title`,
  `safety.clean_body`);
- every configured secret, and its usual encodings, becomes ``***`` (`safety.Scrubber`);
- mentions, the legacy trigger and hidden-comment markers are disarmed by GitHub's own rule
  (`safety.neutralize`): only text inside a closed code span or code block keeps its ``@``.

The bot's own hidden blocks (signed state, item markers, one-time notices) never travel inside
the text: callers pass them apart, as ``hidden``, and they are appended byte for byte (they are
not rendered, and changing them would break their signatures). Text that merely looks like a
block is text like any other, so nobody can smuggle one in through a spec or a comment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from openproducer.safety import Scrubber, clean_body, clean_title, neutralize

# The exact shapes `state.encode_blocks`, `state.render_item_marker` and the engine's notices write.
_OWN_BLOCK = re.compile(
    r"<!-- openproducer:state [^\n<>]*\n[A-Za-z0-9+/=\n]*-->"
    r"|<!-- openproducer:item [\w=. -]+ -->"
    r"|<!-- openproducer:notice [\w:.-]+ -->"
)


@dataclass(frozen=True)
class Outbound:
    """Cleans, scrubs and neutralizes text on its way to GitHub (or the step summary)."""

    scrubber: Scrubber = field(default_factory=Scrubber)

    def title(self, text: str) -> str:
        """An issue title: one visible line, or "" when nothing visible is left."""
        return neutralize(self.scrubber.scrub(clean_title(text)))

    def body(self, text: str, hidden: Sequence[str] = ()) -> str:
        """An issue body, a comment or a step summary, then the bot's own ``hidden`` blocks."""
        for block in hidden:
            if not _OWN_BLOCK.fullmatch(block):
                raise ValueError(f"not one of OpenProducer's hidden blocks: {block[:60]!r}")
        cleaned = neutralize(self.scrubber.scrub(clean_body(text)))
        return "\n\n".join([cleaned, *hidden]) if hidden else cleaned
