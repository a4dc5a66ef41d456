"""Migration planning: the name maps, their placeholders, and the plan for each repository."""

from __future__ import annotations

import pytest

from dtrctl.errors import UsageError
from dtrctl.reference import RepositoryName
from dtrctl.repos.migrate import (
    DestinationState,
    map_name,
    parse_map,
    parse_map_file,
    plan_migration,
    plan_summary,
)

API = RepositoryName("engineering", "api")


class TestMaps:
    def test_by_default_the_namespace_is_the_project(self) -> None:
        assert map_name(API, []) == RepositoryName("engineering", "api")

    @pytest.mark.parametrize(
        ("text", "source", "expected"),
        [
            ("engineering/*=eng/{name}", API, "eng/api"),
            ("*/*=migrated/{ns}-{name}", API, "migrated/engineering-api"),
            ("eng-*/*=eng/{1}/{2}", RepositoryName("eng-web", "ui"), "eng/web/ui"),
            ("*/api=core/{ns}/{name}", API, "core/engineering/api"),
        ],
    )
    def test_a_map_renames_with_its_placeholders(
        self, text: str, source: RepositoryName, expected: str
    ) -> None:
        assert str(map_name(source, [parse_map(text)])) == expected

    def test_a_nested_destination_keeps_the_first_component_as_project(self) -> None:
        mapped = map_name(API, [parse_map("*/*=platform/{ns}/{name}")])
        assert mapped == RepositoryName("platform", "engineering/api")

    def test_the_first_matching_map_wins_and_dash_skips(self) -> None:
        maps = [parse_map("engineering/scratch=-"), parse_map("engineering/*=eng/{name}")]
        assert map_name(RepositoryName("engineering", "scratch"), maps) is None
        assert map_name(API, maps) == RepositoryName("eng", "api")

    def test_a_star_does_not_cross_a_slash(self) -> None:
        assert map_name(API, [parse_map("*=x/{name}")]) == API

    @pytest.mark.parametrize(
        "text", ["no-equals", "=x/{name}", "a/*=", "a/*=x/{nope}", "a/*=x/{2}"]
    )
    def test_a_bad_map_is_a_usage_error(self, text: str) -> None:
        with pytest.raises(UsageError):
            parse_map(text)

    def test_a_map_to_an_invalid_harbor_name_is_a_usage_error(self) -> None:
        with pytest.raises(UsageError, match="not a Harbor PROJECT/REPOSITORY"):
            map_name(API, [parse_map("*/*={name}")])

    def test_a_map_file_skips_comments_and_names_lines(self) -> None:
        maps = parse_map_file("# renames\n\nengineering/*=eng/{name}\n", "maps.txt")
        assert len(maps) == 1
        with pytest.raises(UsageError, match=r"maps\.txt:2"):
            parse_map_file("# x\nbroken\n", "maps.txt")


class TestPlan:
    def test_each_repository_gets_its_action(self) -> None:
        sources = [
            API,
            RepositoryName("engineering", "web"),
            RepositoryName("engineering", "db"),
            RepositoryName("legacy", "tool"),
            RepositoryName("gone", "app"),
        ]
        states = {
            RepositoryName("engineering", "api"): DestinationState(would_change=True),
            RepositoryName("engineering", "web"): DestinationState(would_change=False),
            RepositoryName("engineering", "db"): DestinationState(False, "rule 3 is broken"),
        }
        items = plan_migration(
            sources,
            [parse_map("legacy/*=-")],
            {"engineering": True, "gone": False},
            states,
            create_projects=False,
        )
        actions = {str(item.source): item.action for item in items}
        assert actions == {
            "engineering/api": "make-immutable",
            "engineering/web": "already-immutable",
            "engineering/db": "blocked",
            "legacy/tool": "skip",
            "gone/app": "missing-project",
        }
        assert plan_summary(items)["make-immutable"] == 1

    def test_missing_projects_are_planned_for_creation_when_asked(self) -> None:
        items = plan_migration([API], [], {"engineering": False}, {}, create_projects=True)
        assert items[0].action == "make-immutable" and "will be created" in items[0].detail

    def test_two_repositories_mapped_to_one_name_are_refused(self) -> None:
        sources = [API, RepositoryName("ops", "api")]
        with pytest.raises(UsageError, match="both map to core/api"):
            plan_migration(
                sources, [parse_map("*/api=core/api")], {"core": True}, {}, create_projects=False
            )


class TestVerify:
    """`migrate --verify`: a destination Harbor cannot answer for is a mismatch naming why,
    never "immutable" and never a traceback (backend changes raise, #19)."""

    def test_a_destination_that_cannot_be_read_is_a_mismatch_with_the_reason(self) -> None:
        from types import SimpleNamespace
        from typing import Any, cast

        from dtrctl.errors import PermissionDenied
        from dtrctl.repos.migrate_run import verify

        source = SimpleNamespace(
            list_repositories=lambda: [
                SimpleNamespace(namespace="engineering", name="api", immutable=True)
            ]
        )

        def refused(name: RepositoryName, immutable: bool) -> Any:
            raise PermissionDenied("may not read the rules of project engineering")

        harbor = SimpleNamespace(preview_immutability=refused)
        checked, mismatches = verify(cast(Any, source), cast(Any, harbor), [])
        assert checked == 1
        [mismatch] = mismatches
        assert mismatch.reason == "may not read the rules of project engineering"
