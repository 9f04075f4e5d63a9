"""Red flags after an injection: the signs that need emergency care at once,
and what to do. The wording lives here only; the aftercare and confirmation
emails, the patient portal and the printed treatment record show it, and the
patient's problem report asks them as questions (RED_FLAG_QUESTIONS; the
safety engine decides what the answers mean).

Pure: no database, no settings. A combined procedure shows every set its
parts call for (see `red_flags_for`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from treatments.rules import Agent


@dataclass(frozen=True)
class RedFlags:
    agent: Agent
    heading: str
    signs: tuple[str, ...]
    action: str


FILLER_RED_FLAGS = RedFlags(
    agent=Agent.FILLER,
    heading="After lip filler",
    signs=(
        "any change in your sight: blurred, dim or double vision, or losing sight",
        "severe pain, or pain that keeps getting worse",
        "skin on or around your lips that turns pale or white, or dusky, blue or blotchy",
    ),
    action=(
        "Call 999 or go to A&E now and say you have just had filler in your lips. "
        "Then call the clinic."
    ),
)
TOXIN_RED_FLAGS = RedFlags(
    agent=Agent.TOXIN,
    heading="After a lip flip (Botox or Dysport)",
    signs=("trouble swallowing, breathing or speaking",),
    action="Call 999 now and say you have had a botulinum toxin (Botox or Dysport) injection.",
)
RED_FLAGS = (FILLER_RED_FLAGS, TOXIN_RED_FLAGS)


def red_flags_for(agents: Iterable[str]) -> list[RedFlags]:
    """The sets of red flags for these agents, in a fixed order."""
    wanted = set(agents)
    return [flags for flags in RED_FLAGS if flags.agent in wanted]


@dataclass(frozen=True)
class RedFlagQuestion:
    """One red flag, asked of a patient who reports a problem. `code` is what
    the safety engine reads; `sign` is how the clinic's alert names it."""

    code: str
    question: str
    hint: str
    sign: str


# Asked after every treatment: after filler, trouble breathing or swallowing
# can be an allergic reaction; after toxin, a change of sight is still an
# emergency. One question per sign above, in the same order.
RED_FLAG_QUESTIONS = (
    RedFlagQuestion(
        "vision",
        "Has your sight changed?",
        "Blurred, dim or double vision, or losing sight, in either eye.",
        "a change in sight",
    ),
    RedFlagQuestion(
        "pain",
        "Is the pain severe, or getting worse?",
        "Pain that painkillers do not ease, or that is worse than yesterday.",
        "severe or worsening pain",
    ),
    RedFlagQuestion(
        "skin",
        "Has skin on or around your lips changed colour?",
        "Pale or white, blue or dusky, or blotchy (mottled) patches.",
        "skin turning white, blue or mottled",
    ),
    RedFlagQuestion(
        "breathing",
        "Do you have trouble swallowing, breathing or speaking?",
        "Food or drink going down the wrong way, feeling short of breath, or slurred words.",
        "trouble swallowing, breathing or speaking",
    ),
)
RED_FLAG_CODES = tuple(question.code for question in RED_FLAG_QUESTIONS)
