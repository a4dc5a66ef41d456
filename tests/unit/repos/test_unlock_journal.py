"""The journal of `repo unlock` windows: written whole and private before any change, locked
while its process runs, read back bounded, and cheap to look for."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from dtrctl.errors import UsageError
from dtrctl.records.unlock import WindowChange
from dtrctl.repos import journal
from dtrctl.repos.journal import Window

URL = "https://dtr.example.com"
CHANGE = WindowChange("repository_flag", "engineering/api", "immutableTags of engineering/api")


def window(url: str = URL, repository: str = "engineering/api") -> Window:
    return Window(url, "dtr", repository, "INC-7", "2026-12-07T10:00:00+00:00", 4242, (CHANGE,))


def test_the_journal_is_private_whole_and_locked_until_closed() -> None:
    opened = journal.open_window(window())
    assert stat.S_IMODE(opened.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(opened.path.parent.stat().st_mode) == 0o700
    assert journal.read_window(opened.path) == window()
    assert [p.name for p in opened.path.parent.iterdir()] == [opened.path.name]  # no temp left
    assert journal.is_running(opened.path)
    opened.close(remove=False)
    assert not journal.is_running(opened.path)  # kept for --recover
    assert journal.journal_files() == [opened.path]
    journal.remove_window(opened.path)
    assert journal.journal_files() == []


def test_closing_after_a_full_restore_removes_it() -> None:
    opened = journal.open_window(window())
    opened.close(remove=True)
    assert not opened.path.exists()


def test_the_notice_names_the_window_of_this_registry_only() -> None:
    assert journal.open_window_notice(URL) is None  # no directory at all
    first = journal.open_window(window())
    second = journal.open_window(window(repository="engineering/web"))
    notice = journal.open_window_notice(URL)
    assert notice is not None
    assert "(reason: INC-7; since 2026-12-07T10:00:00+00:00) and 1 more" in notice
    assert "dtrctl repo unlock --recover" in notice
    assert journal.open_window_notice("https://other.example.com") is None
    first.close(remove=True)
    second.close(remove=True)


@pytest.mark.parametrize(
    "content",
    [b"{", b"[]", b'{"format": "other"}', json.dumps({"format": "x" * 2_000_000}).encode()],
)
def test_a_garbled_journal_is_an_error_naming_the_file(content: bytes) -> None:
    opened = journal.open_window(window())
    opened.close(remove=False)
    opened.path.write_bytes(content)
    with pytest.raises(UsageError, match=str(opened.path)):
        journal.read_window(opened.path)
    notice = journal.open_window_notice(URL)
    assert notice is not None and "cannot be read" in notice


def test_a_garbled_change_is_an_error() -> None:
    body = window().to_journal()
    body["changes"] = [{"kind": "rule", "repository": "a/b", "description": "x"}]  # no rule id
    with pytest.raises(UsageError):
        Window.from_journal(body, Path("j.json"))


NARROWED = WindowChange(
    "rule",
    "engineering/api",
    "rule 7 (...) of project engineering",
    project="engineering",
    rule_id=7,
    rule={"id": 7, "scope_selectors": {"repository": [{"pattern": "{api,web}"}]}},
    narrowed={"id": 7, "scope_selectors": {"repository": [{"pattern": "{web}"}]}},
    summary="narrowed rule 7 of project engineering: {api,web} without api",
)


def test_a_narrowed_rule_keeps_both_bodies_and_reads_back_the_same() -> None:
    opened = journal.open_window(replace(window(), changes=(NARROWED,)))
    opened.close(remove=False)
    [change] = journal.read_window(opened.path).changes
    assert change == NARROWED
    assert (change.action, change.to_json()["narrowed_to"]) == ("narrow", "{web}")
    assert "narrowed" not in change.to_json()  # the bodies stay in the journal


def test_a_narrowed_rule_without_its_original_is_garbled() -> None:
    body = replace(window(), changes=(NARROWED,)).to_journal()
    body["changes"][0]["rule"] = None  # nothing to put back
    with pytest.raises(UsageError):
        Window.from_journal(body, Path("j.json"))


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    opened = journal.open_window(window())
    opened.close(remove=True)
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps(window().to_journal()))
    link = journal.journal_dir() / f"{journal.registry_key(URL)}-1-x.json"
    os.symlink(target, link)
    with pytest.raises(UsageError):
        journal.read_window(link)


def test_a_journal_that_cannot_be_written_is_an_error_before_any_change(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("DTRCTL_CONFIG_DIR", str(blocker / "dtrctl"))  # under a plain file
    with pytest.raises(UsageError, match="cannot write the journal"):
        journal.open_window(window())
