"""Expand, then contract (docs/architecture.md, "Upgrades"): during a rolling deploy the previous release keeps
serving on the migrated schema, so a migration may add tables, nullable columns, columns with a server default and
indexes, but drops, renames, type changes and new NOT NULL columns without a server default wait for a later
release, once no serving code uses what goes. This reads the upgrade() of every migration and refuses what the
previous release could not run on, unless the migration is listed below as a contract one, with why it is safe.

A migration is also frozen: replaying it on a new database later must build what it built when it was written, so
it imports nothing from the app (eventreg): what it needs of the app's code (a key's formula, the tallies' triggers,
the sealing of tokens) is written out in it, and a later change of that code comes as a migration of its own."""

import ast
from pathlib import Path

import pytest

VERSIONS = Path(__file__).parent.parent / "migrations" / "versions"

# Contract migrations: revision → why the release before it no longer needs what the migration takes away. The
# three below came before the rule, when an upgrade stopped the single host; a new entry needs a reason of its own.
CONTRACT_MIGRATIONS = {
    "0005": "before the rule: registration.checkin_code NOT NULL once filled, which 0004's code never wrote",
    "0007": "before the rule: registration.token_digest NOT NULL once filled, which 0006's code never wrote",
    "0010": "before the rule: registration.token replaced by token_sealed, which 0009's code never wrote",
}

# Operations that take away something the previous release reads or writes.
DROPS = {"drop_table", "drop_column", "rename_table"}


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _column_needs_a_value(column: ast.expr) -> bool:
    """`sa.Column(…, nullable=False)` without a server_default: an INSERT of the previous release fails on it."""
    if not (isinstance(column, ast.Call) and getattr(column.func, "attr", getattr(column.func, "id", "")) == "Column"):
        return False
    keywords = _keywords(column)
    return _is_false(keywords.get("nullable")) and "server_default" not in keywords


def contract_steps(source: str) -> list[str]:
    """The steps of the migration's upgrade() that the previous release could not run on, each as `line: what`."""
    tree = ast.parse(source)
    upgrade = next(
        (node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "upgrade"),
        None,
    )
    if upgrade is None:
        return []
    steps = []
    for node in ast.walk(upgrade):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        operation, keywords = node.func.attr, _keywords(node)
        if operation in DROPS:
            steps.append(f"{node.lineno}: {operation}")
        elif operation == "alter_column":
            if "new_column_name" in keywords:
                steps.append(f"{node.lineno}: alter_column renames a column")
            if "type_" in keywords:
                steps.append(f"{node.lineno}: alter_column changes a type")
            if _is_false(keywords.get("nullable")) and "server_default" not in keywords:
                steps.append(f"{node.lineno}: alter_column sets NOT NULL without a server default")
        elif operation == "add_column" and any(_column_needs_a_value(argument) for argument in node.args):
            steps.append(f"{node.lineno}: add_column NOT NULL without a server default")
        elif operation == "execute":
            statement = " ".join(
                part.value.upper()
                for part in ast.walk(node)
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
            )
            if any(word in statement for word in ("DROP TABLE", "DROP COLUMN", "RENAME", "SET NOT NULL")):
                steps.append(f"{node.lineno}: execute {statement.split()[0:3]}")
    return steps


def migrations() -> list[tuple[str, Path]]:
    """Each migration file with its revision."""
    found = []
    for path in sorted(VERSIONS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["revision"]:
                found.append((node.value.value, path))
    return found


@pytest.mark.parametrize(("revision", "path"), migrations(), ids=[revision for revision, _ in migrations()])
def test_a_migration_expands_or_is_a_listed_contract(revision, path):
    steps = contract_steps(path.read_text())
    if revision in CONTRACT_MIGRATIONS:
        assert steps, f"{path.name} is listed as a contract migration but takes nothing away: strike it from the list"
    else:
        assert not steps, (
            f"{path.name} takes away what the release before it uses ({'; '.join(steps)}): expand first (add, "
            "backfill, serve), contract in a later release, listed in CONTRACT_MIGRATIONS with why it is safe"
        )


CONTRACTS = {
    "drop a column": "with op.batch_alter_table('event') as batch_op:\n    batch_op.drop_column('venue')",
    "drop a table": "op.drop_table('outbox_attempt')",
    "rename a column": "op.alter_column('event', 'city', new_column_name='town')",
    "rename a table": "op.rename_table('event', 'ceremony')",
    "change a type": "op.alter_column('event', 'title', type_=sa.String(50))",
    "NOT NULL later": "op.alter_column('event', 'note', existing_type=sa.Text(), nullable=False)",
    "NOT NULL column": "op.add_column('event', sa.Column('note', sa.Text(), nullable=False))",
    "SQL that drops": "op.execute('ALTER TABLE event DROP COLUMN venue')",
}
EXPANSIONS = {
    "a table": "op.create_table('note', sa.Column('id', sa.Integer(), nullable=False))",
    "a nullable column": "op.add_column('event', sa.Column('note', sa.Text(), nullable=True))",
    "a defaulted column": "op.add_column('event', sa.Column('n', sa.Integer(), server_default='0', nullable=False))",
    "an index": "op.create_index('ix_event_city', 'event', ['city'], postgresql_concurrently=True)",
    "a backfill": "op.execute('UPDATE event SET note = title')",
    "dropped on the way down": "pass\n\ndef downgrade():\n    op.drop_column('event', 'note')",
}


def _migration(body: str) -> str:
    indented = "\n".join(f"    {line}" if line and not line.startswith("def ") else line for line in body.splitlines())
    return f"revision = '9999'\n\ndef upgrade():\n{indented}\n"


@pytest.mark.parametrize("body", CONTRACTS.values(), ids=CONTRACTS)
def test_a_step_that_takes_something_away_is_found(body):
    assert contract_steps(_migration(body))


@pytest.mark.parametrize("body", EXPANSIONS.values(), ids=EXPANSIONS)
def test_a_step_that_only_adds_passes(body):
    assert contract_steps(_migration(body)) == []


APP_PACKAGE = "eventreg"


def app_imports(source: str) -> list[str]:
    """The imports of the app's own code anywhere in the migration (inside a function too), each as `line: module`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""] if node.level == 0 else ["." * node.level + (node.module or "")]
        else:
            continue
        for module in modules:
            if module == APP_PACKAGE or module.startswith((f"{APP_PACKAGE}.", ".")):
                found.append(f"{node.lineno}: {module}")
    return found


@pytest.mark.parametrize(("revision", "path"), migrations(), ids=[revision for revision, _ in migrations()])
def test_a_migration_imports_nothing_from_the_app(revision, path):
    imports = app_imports(path.read_text())
    assert not imports, (
        f"{path.name} imports the app's code ({'; '.join(imports)}): replaying it later would build what that code "
        "builds then, not what this revision built. Write what it needs out in the migration (as 0009 and 0015 do)"
    )


APP_IMPORTS = {
    "a function": "from eventreg.stats.tallies import create_triggers",
    "the package": "import eventreg",
    "a module": "import eventreg.models as models",
    "inside upgrade()": "def upgrade():\n    from eventreg.data_keys import seal",
    "relative": "from .tallies import recount",
}
OTHER_IMPORTS = {
    "alembic": "from alembic import op",
    "sqlalchemy": "import sqlalchemy as sa",
    "a library": "from cryptography.fernet import Fernet, MultiFernet",
    "a name that only starts alike": "import eventregistry",
}


@pytest.mark.parametrize("source", APP_IMPORTS.values(), ids=APP_IMPORTS)
def test_an_import_of_the_app_is_found(source):
    assert app_imports(source)


@pytest.mark.parametrize("source", OTHER_IMPORTS.values(), ids=OTHER_IMPORTS)
def test_other_imports_pass(source):
    assert app_imports(source) == []
