"""audit log: the chain's lock and its head read in one round trip on PostgreSQL (#19)

`audit_chain_head(lock_key)` takes the transaction-level advisory lock that serialises
appends, then reads the newest entry. It must be a VOLATILE function: each query inside
one takes a fresh snapshot under READ COMMITTED, so the head is read after the lock is
granted and a writer that committed while this one waited is seen. One plain SELECT
that took the lock and read the head would read them under the snapshot taken before
the wait, and two appends could claim the same place in the chain.

SQLite needs nothing: its writers hold the database's write lock from BEGIN IMMEDIATE.

Revision ID: 0045
Revises: 0044

"""

from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


CREATE = (
    "CREATE FUNCTION audit_chain_head(lock_key bigint) "
    "RETURNS TABLE (seq integer, hash varchar) LANGUAGE plpgsql VOLATILE AS $$ "
    "BEGIN "
    "PERFORM pg_advisory_xact_lock(lock_key); "
    "RETURN QUERY SELECT e.seq, e.hash FROM audit_entries e ORDER BY e.seq DESC LIMIT 1; "
    "END $$"
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(CREATE)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP FUNCTION audit_chain_head(bigint)")
