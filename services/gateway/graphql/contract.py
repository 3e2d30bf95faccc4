"""The schema as a contract: `schema.graphql` at the repository's root is the schema the code
serves, printed; a change to it is reviewed like code. Removing something is allowed only
once it has been deprecated in the schema that was committed before (clients had a release
to move off it); any other breaking change is listed and refused by the tests.

    python -m services.gateway.graphql.contract --write   # after changing the schema
    python -m services.gateway.graphql.contract --check   # what the tests check, for CI logs
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import graphql
from graphql import BreakingChangeType, GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType
from graphql.utilities import find_breaking_changes

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = ROOT / "schema.graphql"
REMOVED = re.compile(r"(\w+)\.(\w+) was removed")
REMOVALS = {BreakingChangeType.FIELD_REMOVED, BreakingChangeType.VALUE_REMOVED_FROM_ENUM}


def printed() -> str:
    from services.gateway.graphql.schema import build_schema

    return str(build_schema()).rstrip("\n") + "\n"


def _deprecated(schema: graphql.GraphQLSchema, description: str) -> bool:
    """Whether the removal `description` ("Field Type.name was removed.") names something
    the old schema had deprecated."""
    named = REMOVED.search(description)
    if named is None:
        return False
    type_name, member = named.groups()
    gtype = schema.get_type(type_name)
    if isinstance(gtype, GraphQLObjectType | GraphQLInputObjectType) and member in gtype.fields:
        return getattr(gtype.fields[member], "deprecation_reason", None) is not None
    if isinstance(gtype, GraphQLEnumType) and member in gtype.values:
        return gtype.values[member].deprecation_reason is not None
    return False


def breaking_changes(old_sdl: str, new_sdl: str) -> list[str]:
    """The breaking changes from `old_sdl` to `new_sdl` that are not the removal of
    something `old_sdl` deprecated, as "TYPE: description" lines."""
    old, new = graphql.build_schema(old_sdl), graphql.build_schema(new_sdl)
    found = []
    for change in find_breaking_changes(old, new):
        if change.type in REMOVALS and _deprecated(old, change.description):
            continue
        found.append(f"{change.type.name}: {change.description}")
    return found


def previous_committed() -> str | None:
    """The schema.graphql this change is measured against: HEAD's when the working copy
    differs from it, else the one before the last commit that changed it. None without git
    history (a fresh export) or before the file's first commit."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout

    name = SCHEMA_FILE.name
    at_head = git("show", f"HEAD:{name}")
    if at_head is not None and SCHEMA_FILE.exists() and at_head != SCHEMA_FILE.read_text():
        return at_head
    commits = (git("log", "--format=%H", "-n", "2", "--", name) or "").split()
    if len(commits) < 2:
        return None
    return git("show", f"{commits[1]}:{name}")


def main(argv: list[str]) -> int:
    current = printed()
    if "--write" in argv:
        SCHEMA_FILE.write_text(current)
        print(f"wrote {SCHEMA_FILE.relative_to(ROOT)}")
    elif not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text() != current:
        print("schema.graphql differs from the code's schema: run python -m services.gateway.graphql.contract --write")
        return 1
    before = previous_committed()
    problems = breaking_changes(before, current) if before else []
    for line in problems:
        print(f"breaking change: {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
