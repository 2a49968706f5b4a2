from sqlalchemy import inspect

from jingzhun.ops import open_store
from jingzhun.ops.models import Base


def test_migrations_create_every_model_table(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for name, table in Base.metadata.tables.items():
        columns = {c["name"] for c in inspect(store.engine).get_columns(name)}
        assert columns == set(table.columns.keys()), name


def test_upgrade_twice_is_a_no_op(tmp_path):
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    open_store(url)
    open_store(url)
