"""identity verification: per-conversation state and code requests

Revision ID: 0002_verification
Revises: 0001
Create Date: 2026-11-27 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_verification"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_states",
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=True),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("request_text", sa.Text(), nullable=False),
        sa.Column("request_message_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.Double(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.Double(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_table(
        "verification_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=True),
        sa.Column("requested_at", sa.Double(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.create_index("ix_verification_requests_customer_time", ["customer_id", "requested_at"], unique=False)
        batch_op.create_index(
            "ix_verification_requests_conversation_time", ["conversation_id", "requested_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_requests_conversation_time")
        batch_op.drop_index("ix_verification_requests_customer_time")
    op.drop_table("verification_requests")
    op.drop_table("verification_states")
