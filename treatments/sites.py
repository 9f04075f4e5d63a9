"""The fixed list of injection sites, and where each sits on the lip chart.

Toxin goes in points just above the upper lip's border (cupid's bow, centre,
corners); filler goes in zones: vermilion body and border of each lip half,
the philtral columns and the corners of the mouth (DOMAIN.md). Codes are
stored on injection lines and never change; labels may.

Chart coordinates are in the lip chart's SVG viewBox (0 0 400 240).
"""

from dataclasses import dataclass

from treatments.rules import Agent


@dataclass(frozen=True)
class Site:
    code: str
    label: str
    agent: Agent
    lip: str  # "upper" or "lower": for per-lip filler totals
    x: float  # where the amount is written on the chart
    y: float
    shape: str = ""  # SVG path of a filler zone; toxin points are circles at (x, y)


T, F = Agent.TOXIN, Agent.FILLER

SITES = [
    Site("TX-L3", "Toxin point: left corner", T, "upper", 78, 118),
    Site("TX-L2", "Toxin point: left of centre", T, "upper", 118, 100),
    Site("TX-L1", "Toxin point: left peak of the cupid's bow", T, "upper", 166, 84),
    Site("TX-C", "Toxin point: centre of the cupid's bow", T, "upper", 200, 92),
    Site("TX-R1", "Toxin point: right peak of the cupid's bow", T, "upper", 234, 84),
    Site("TX-R2", "Toxin point: right of centre", T, "upper", 282, 100),
    Site("TX-R3", "Toxin point: right corner", T, "upper", 322, 118),
    Site("FB-UL", "Filler: upper lip body, left", F, "upper", 145, 118,
         "M74 129 Q112 108 168 100 L196 107 L196 130 Q140 133 80 131 Z"),
    Site("FB-UR", "Filler: upper lip body, right", F, "upper", 255, 118,
         "M326 129 Q288 108 232 100 L204 107 L204 130 Q260 133 320 131 Z"),
    Site("FV-UL", "Filler: upper lip border, left", F, "upper", 128, 101,
         "M66 128 Q110 102 168 93 L196 101 L196 107 L168 100 Q112 108 74 129 Z"),
    Site("FV-UR", "Filler: upper lip border, right", F, "upper", 272, 101,
         "M334 128 Q290 102 232 93 L204 101 L204 107 L232 100 Q288 108 326 129 Z"),
    Site("FB-LL", "Filler: lower lip body, left", F, "lower", 145, 150,
         "M80 134 Q140 137 196 137 L196 170 Q135 166 86 139 Z"),
    Site("FB-LR", "Filler: lower lip body, right", F, "lower", 255, 150,
         "M320 134 Q260 137 204 137 L204 170 Q265 166 314 139 Z"),
    Site("FV-LL", "Filler: lower lip border, left", F, "lower", 128, 178,
         "M86 139 Q135 166 196 170 L196 180 Q128 178 70 134 Z"),
    Site("FV-LR", "Filler: lower lip border, right", F, "lower", 272, 178,
         "M314 139 Q265 166 204 170 L204 180 Q272 178 330 134 Z"),
    Site("FP-L", "Filler: philtral column, left", F, "upper", 186, 62,
         "M181 40 L191 40 L194 90 L184 92 Z"),
    Site("FP-R", "Filler: philtral column, right", F, "upper", 214, 62,
         "M209 40 L219 40 L216 92 L206 90 Z"),
    Site("FC-L", "Filler: corner of the mouth, left", F, "upper", 56, 131,
         "M66 122 A11 11 0 1 0 66 140 L70 131 Z"),
    Site("FC-R", "Filler: corner of the mouth, right", F, "upper", 344, 131,
         "M334 122 A11 11 0 1 1 334 140 L330 131 Z"),
]  # fmt: skip

BY_CODE = {site.code: site for site in SITES}
CHOICES = [(site.code, site.label) for site in SITES]


def sites_for(agents):
    return [site for site in SITES if site.agent in agents]
