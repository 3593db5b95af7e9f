"""The `spec` option: plan a file of this repository (read with the contents API, never written)."""

from __future__ import annotations

from tests.conftest import REPO, TRIGGER, Harness

FILE = """# Payments RFC

## Refunds
- [ ] Refund a card payment in full
- [ ] Refund part of a payment

## Receipts
- [ ] E-mail a receipt after each payment
"""


def test_a_spec_file_is_planned_and_the_reply_links_the_commit(gh: Harness) -> None:
    sha = gh.emu.add_file(REPO, "docs/rfc-12.md", FILE)
    issue, result = gh.open_issue(f"spec: docs/rfc-12.md\n{TRIGGER} plan the RFC in the repo.")
    assert result.outputs["status"] == "completed", result.log
    titles = sorted(i["title"] for i in gh.created(issue["number"]))
    assert len(titles) == 3 and any("Refund part of a payment" in t for t in titles)
    reply = gh.last_reply(issue["number"])
    assert f"`docs/rfc-12.md` at `{sha[:7]}`" in reply and f"/blob/{sha}/docs/rfc-12.md" in reply
    writes = [r for r in gh.emu.requests if "/contents/" in r.path]
    assert writes and all(r.method == "GET" for r in writes)  # read, never written


def test_a_ref_or_a_link_picks_the_version(gh: Harness) -> None:
    gh.emu.add_file(REPO, "docs/rfc-12.md", FILE)
    v2 = gh.emu.add_file(
        REPO, "docs/rfc-12.md", FILE + "- [ ] Print a receipt on paper\n", branch="v2"
    )
    issue, result = gh.open_issue(f"spec: docs/rfc-12.md@v2\n{TRIGGER}")
    assert len(result.created) == 4, result.log
    assert v2[:7] in gh.last_reply(issue["number"])


def test_a_link_to_a_file_of_this_repository_works_too(gh: Harness) -> None:
    main = gh.emu.add_file(REPO, "docs/rfc-12.md", FILE)
    link = f"https://github.com/{REPO}/blob/main/docs/rfc-12.md"
    issue, result = gh.open_issue(f"spec: {link}\n{TRIGGER}")
    assert len(result.created) == 3, result.log
    assert main[:7] in gh.last_reply(issue["number"])


def test_the_issues_options_apply_over_the_files(gh: Harness) -> None:
    gh.emu.add_file(REPO, "docs/rfc-12.md", "labels: from-file\ndry_run: true\n\n" + FILE)
    issue, result = gh.open_issue(f"spec: docs/rfc-12.md\ndry_run: false\n{TRIGGER}")
    assert result.outputs["status"] == "completed", result.log
    assert all(
        [label["name"] for label in i["labels"]] == ["from-file"]
        for i in gh.created(issue["number"])
    )


def test_a_missing_file_or_another_repository_gets_a_clear_reply_and_nothing_is_created(
    gh: Harness,
) -> None:
    gh.emu.add_file(REPO, "docs/rfc-12.md", FILE)
    cases = [
        ("spec: docs/missing.md", "There is no file `docs/missing.md` in this repository"),
        ("spec: docs/rfc-12.md@nope", "There is no file `docs/rfc-12.md@nope`"),
        (
            "spec: https://github.com/someone/else/blob/main/x.md",
            "I only read files of this repository",
        ),
        ("spec: ../secrets.md", "spec must be a relative path to a file"),
    ]
    for option, expected in cases:
        issue, result = gh.open_issue(f"{option}\n{TRIGGER}")
        assert result.outputs["status"] in ("failed", "invalid"), result.log
        assert expected in gh.last_reply(issue["number"]), option
        assert gh.created(issue["number"]) == []


def test_option_errors_in_the_file_name_the_file(gh: Harness) -> None:
    gh.emu.add_file(REPO, "docs/rfc-12.md", "count: many\n\n" + FILE)
    issue, result = gh.open_issue(f"spec: docs/rfc-12.md\n{TRIGGER}")
    assert result.outputs["status"] == "invalid", result.log
    reply = gh.last_reply(issue["number"])
    assert "The lines are those of `docs/rfc-12.md`." in reply and "count" in reply


def test_a_quoted_kubernetes_manifest_is_spec_text_not_options() -> None:
    from openproducer.spec import parse_spec

    text = (
        "## Deploy\nApply this:\n\n```yaml\napiVersion: apps/v1\nkind: Deployment\n"
        "metadata:\n  name: web\nspec:\n  replicas: 2\n```\n"
    )
    parsed = parse_spec(text, max_issues=10)
    assert parsed.errors == () and parsed.options.spec is None
    assert "replicas: 2" in parsed.text
    options = parse_spec("```yaml\nlabels: [x]\nspec: docs/a.md\n```\n## A\n", max_issues=10)
    assert options.options.spec == "docs/a.md" and options.options.labels == ("x",)
