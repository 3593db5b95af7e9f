"""Section roles: what a heading says its section is for (#12).

A section is work unless its heading (or, for an unknown heading, its content) says it is
something else:

- ``criteria``: acceptance criteria, attached to the issues they are about;
- ``scope``: non-goals and out-of-scope lists, never planned (the plan says so);
- ``reference``: background, rationale, alternatives, questionnaires, history… that inform the
  issues and are never walked for work, even when they have sub-sections;
- ``context``, ``notes``, ``constraints``: text that informs the issues but may hold work
  sections below it ("Overview" with a "Reports" sub-section).

Each role knows its words in English, German, French, Spanish, Russian, Japanese and Chinese.
"""

from __future__ import annotations

import re

CRITERIA_WORDS = (
    r"acceptance[ -]criteri(?:a|on)|definition of done|done when|success criteria|"
    r"exit criteria|ac|dod|akzeptanzkriterien|abnahmekriterien|fertig wenn|"
    r"受け入れ基準|受入基準|受け入れ条件|完了条件|完了の定義|验收标准|验收条件|完成的定义|"
    r"critères d'acceptation|critères d’acceptation|criterios de aceptación|"
    r"критерии (?:приемки|готовности)|определение готовности"
)

ROLE_WORDS = {
    "criteria": CRITERIA_WORDS + r"|acceptance tests?",
    "scope": (
        r"out of scope|not in scope|non[- ]?goals|won'?t do|won'?t have|nicht im umfang|"
        r"nicht[- ]?ziele|außerhalb des umfangs|スコープ外|対象外|やらないこと|非目標|"
        r"hors périmètre|hors du périmètre|non[- ]objectifs|fuera de alcance|"
        r"fuera del alcance|no objetivos|не входит в (?:объем|рамки)|вне рамок|не цели|"
        r"нецели|非目标|不在范围内|范围之外"
    ),
    "reference": (
        r"abstract|summary|executive summary|tl;?dr|motivation|background|problem|"
        r"problem statement|goals?|success metrics|metrics of success|prior art|"
        r"alternatives?(?: considered)?|considered alternatives|rationale|drawbacks|"
        r"rejected (?:ideas|alternatives|approaches)|unresolved questions|open questions|"
        r"open issues|future (?:possibilities|work)|risks?|implementation history|history|"
        r"changelog|revision history|references|glossary|terminology|appendix|appendices|"
        r"copyright|license|footnotes|acknowl?edg(?:e)?ments|personas|"
        r"production readiness(?: review)?(?: questionnaire)?|"
        r"(?:release )?sign[- ]?off checklist|"
        r"zusammenfassung|motivation|hintergrund|ziele?|problemstellung|begründung|"
        r"alternativen|risiken|offene fragen|ausblick|glossar|anhang|referenzen|"
        r"résumé|contexte|objectifs?|justification|risques|questions ouvertes|glossaire|"
        r"annexe|références|travaux futurs|historique|"
        r"resumen|motivación|antecedentes|objetivos?|metas|alternativas|riesgos|"
        r"preguntas abiertas|glosario|apéndice|referencias|trabajo futuro|historial|"
        r"аннотация|резюме|мотивация|предпосылки|предыстория|цели|альтернативы|риски|"
        r"открытые вопросы|глоссарий|термины|приложение|ссылки|история|обоснование|"
        r"概要|背景|動機|目的|目標|代替案|リスク|未解決の問題|未解決の課題|用語集|参考文献|"
        r"付録|今後の課題|摘要|概述|动机|目标|替代方案|备选方案|风险|未解决的问题|"
        r"开放问题|术语表|参考资料|附录|未来工作"
    ),
    "context": (
        r"context|overview|introduction|intro|objectives?|purpose|about|vision|proposal|"
        r"kontext|überblick|übersicht|einleitung|einführung|"
        r"はじめに|前提|aperçu|introducción|введение|обзор|контекст|简介|引言"
    ),
    "constraints": (
        r"constraints|guidelines|conventions|rules|non[- ]functional requirements|"
        r"rahmenbedingungen|einschränkungen|制約|制約事項|前提条件|contraintes|restricciones|"
        r"ограничения|约束|nicht[- ]?funktionale anforderungen|exigences non fonctionnelles|"
        r"requisitos no funcionales|нефункциональные требования|非機能要件|非功能需求"
    ),
    "notes": (
        r"notes?|questions|links|resources|assumptions|faq|see also|further reading|related|"
        r"anmerkungen|notizen|hinweise|備考|メモ|注意事項|参考|補足|remarques|notas|"
        r"примечания|заметки|备注|说明"
    ),
}
_ROLES = {
    role: re.compile(rf"^(?:{words})(?:\s*(?:[:(\-–—&/,]|\band\b|\bfor\b|\bof\b|\bon\b).*)?$")
    for role, words in ROLE_WORDS.items()
}
CONTAINERS = ("context", "notes", "constraints")  # roles that may hold work sections
NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[A-Z][.)])\s+")
_QUESTION = re.compile(r"[?？]\s*$")


def heading_name(title: str) -> str:
    """A heading as its role is read: no numbering, case or "ё", single spaces."""
    name = NUMBERING.sub("", title).casefold().replace("ё", "е")
    return " ".join(name.split())


def section_kind(title: str) -> str:
    """ "work", or the role the heading names (see the module docstring)."""
    name = heading_name(title)
    if _QUESTION.search(name):
        return "reference"  # a questionnaire's question is answered, not built
    return next((role for role, pattern in _ROLES.items() if pattern.match(name)), "work")
