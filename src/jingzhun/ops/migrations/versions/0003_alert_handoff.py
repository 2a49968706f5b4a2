"""alerts handed to the case workflow: run_ledger.handoff_status/handoff, case_alert, one open case per
household enforced by a partial unique index

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OPEN = "state NOT IN ('eliminated', 'closed')"


def upgrade() -> None:
    _check_one_open_case_per_household()  # first: SQLite does not roll back DDL on its own
    op.add_column("run_ledger", sa.Column("handoff_status", sa.String(20), nullable=True))
    op.add_column("run_ledger", sa.Column("handoff", sa.JSON(), nullable=True))
    op.create_table(
        "case_alert",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("monitoring_case.id"), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("household_id", sa.String(40), nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("period", "household_id", "rule_id", "status", name="uq_case_alert"),
    )
    op.create_index("ix_case_alert_case_id", "case_alert", ["case_id"])
    op.create_index("ix_case_alert_run", "case_alert", ["run_id"])
    op.create_index(
        "uq_case_open_household",
        "monitoring_case",
        ["household_id"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )


def _check_one_open_case_per_household() -> None:
    """Refuse with a clear message (instead of a bare integrity error) when households already have two
    open cases: a person must close one of them first."""
    rows = op.get_bind().execute(sa.text(
        f"SELECT household_id, count(*) FROM monitoring_case WHERE {_OPEN} "
        "GROUP BY household_id HAVING count(*) > 1 ORDER BY household_id LIMIT 20"
    )).all()
    if rows:
        listed = ", ".join(f"{household} ({n} cases)" for household, n in rows)
        raise RuntimeError(
            "migration 0003: these households have more than one open case; close the extra ones "
            f"(state closed) and upgrade again: {listed}"
        )


def downgrade() -> None:
    op.drop_index("uq_case_open_household", table_name="monitoring_case")
    op.drop_index("ix_case_alert_run", table_name="case_alert")
    op.drop_index("ix_case_alert_case_id", table_name="case_alert")
    op.drop_table("case_alert")
    with op.batch_alter_table("run_ledger") as batch:
        batch.drop_column("handoff")
        batch.drop_column("handoff_status")
