"""audit log (append-only, hash-chained), session notes, client records and tags (#23)

audit_entries is append-only in the database itself: a trigger refuses every UPDATE and
DELETE, whoever connects. The notes' and the client records' texts are Fernet tokens
(portal/crypto.py).

Revision ID: 0028
Revises: 0027

"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

REFUSAL = "audit_entries is append-only"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_entries_seq")),
    )
    op.create_index(
        "ix_audit_entries_practitioner_seq", "audit_entries", ["practitioner_id", "seq"]
    )
    op.create_index("ix_audit_entries_client_seq", "audit_entries", ["client_id", "seq"])
    op.create_index("ix_audit_entries_object", "audit_entries", ["object_type", "object_id"])
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()"
        )
        # TRUNCATE fires no row trigger: it gets its own.
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse()"
        )

    op.create_table(
        "session_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("free", "soap", name="note_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("body_encrypted", sa.Text(), nullable=False),
        sa.Column("shared_with_staff", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("signed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_session_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_session_notes_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_session_notes_client_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_notes")),
        sa.UniqueConstraint("booking_id", "author_id", name="uq_session_notes_author"),
    )
    for column in ("author_id", "booking_id", "client_id"):
        op.create_index(op.f(f"ix_session_notes_{column}"), "session_notes", [column])

    op.create_table(
        "note_addenda",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body_encrypted", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_note_addenda_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["session_notes.id"], name=op.f("fk_note_addenda_note_id_session_notes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_addenda")),
    )
    op.create_index(op.f("ix_note_addenda_note_id"), "note_addenda", ["note_id"])

    op.create_table(
        "client_records",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("about_encrypted", sa.Text(), nullable=True),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_client_records_client_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["users.id"], name=op.f("fk_client_records_practitioner_id_users")
        ),
        sa.PrimaryKeyConstraint("practitioner_id", "client_id", name=op.f("pk_client_records")),
    )
    op.create_index(op.f("ix_client_records_client_id"), "client_records", ["client_id"])

    op.create_table(
        "client_tags",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_client_tags_client_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["users.id"], name=op.f("fk_client_tags_practitioner_id_users")
        ),
        sa.PrimaryKeyConstraint("practitioner_id", "client_id", "tag", name=op.f("pk_client_tags")),
    )
    op.create_index("ix_client_tags_practitioner_tag", "client_tags", ["practitioner_id", "tag"])


def downgrade():
    op.drop_index("ix_client_tags_practitioner_tag", table_name="client_tags")
    op.drop_table("client_tags")
    op.drop_index(op.f("ix_client_records_client_id"), table_name="client_records")
    op.drop_table("client_records")
    op.drop_index(op.f("ix_note_addenda_note_id"), table_name="note_addenda")
    op.drop_table("note_addenda")
    for column in ("author_id", "booking_id", "client_id"):
        op.drop_index(op.f(f"ix_session_notes_{column}"), table_name="session_notes")
    op.drop_table("session_notes")
    # Dropping the table drops its triggers; PostgreSQL's function goes after it.
    op.drop_index("ix_audit_entries_object", table_name="audit_entries")
    op.drop_index("ix_audit_entries_client_seq", table_name="audit_entries")
    op.drop_index("ix_audit_entries_practitioner_seq", table_name="audit_entries")
    op.drop_table("audit_entries")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION audit_entries_refuse()")
