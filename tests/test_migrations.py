"""The schema comes from Alembic: one head, and the models agree with the migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from webapp.extensions import db


def test_exactly_one_migration_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_match_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migration_files_are_named_by_date_and_purpose(app):
    config = app.extensions["migrate"].migrate.get_config()
    for script in ScriptDirectory.from_config(config).walk_revisions():
        name = script.path.rsplit("/", 1)[-1]
        assert name[:8].isdigit() and name[8] == "_" and script.doc and script.doc != "empty message", name


def test_autogenerate_compares_column_types(app):
    assert app.extensions["migrate"].configure_args["compare_type"] is True
