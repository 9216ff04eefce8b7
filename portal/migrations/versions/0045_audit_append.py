"""audit log: on PostgreSQL an append is one call that locks the chain, reads its head,
hashes and inserts the entries (#19)

`audit_append(lock_key, entries)` takes the transaction-level advisory lock that
serialises appends, reads the newest entry, and inserts the given entries after it, each
with its place (`seq`) and its hash: SHA-256 of the previous hash and the entry's
canonical JSON. Python sends that JSON without its last key, `"seq"` (the greatest key,
so it comes last in sorted order): `canonical` holds the text up to `"seq":`, and the
function appends the place and the closing brace. portal/audit.py computes the same hash
to verify the chain, so the two must agree character for character; the tests check
that a chain written here verifies.

It must be a VOLATILE function: each query inside one takes a fresh snapshot under READ
COMMITTED, so the head is read after the lock is granted and a writer that committed
while this one waited is seen. One plain SELECT that took the lock and read the head
would read them under the snapshot taken before the wait, and two appends could claim
the same place in the chain.

SQLite needs nothing: its writers hold the database's write lock from BEGIN IMMEDIATE,
and portal/audit.py reads the head and inserts there itself.

Revision ID: 0045
Revises: 0044

"""

from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


CREATE = """
CREATE FUNCTION audit_append(lock_key bigint, entries json) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    place integer;
    previous varchar;
    entry json;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT e.seq, e.hash INTO place, previous FROM audit_entries e ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        place := 0;
        previous := repeat('0', 64);
    END IF;
    FOR entry IN SELECT value FROM json_array_elements(entries) LOOP
        place := place + 1;
        previous := encode(
            sha256(convert_to(previous || (entry->>'canonical') || place || '}', 'UTF8')), 'hex'
        );
        INSERT INTO audit_entries (
            seq, at, actor_id, address, action, object_type, object_id,
            practitioner_id, client_id, before, after, hash
        ) VALUES (
            place,
            (entry->>'at')::timestamptz,
            (entry->>'actor_id')::integer,
            entry->>'address',
            entry->>'action',
            entry->>'object_type',
            (entry->>'object_id')::integer,
            (entry->>'practitioner_id')::integer,
            (entry->>'client_id')::integer,
            entry->'before',
            entry->'after',
            previous
        );
    END LOOP;
    RETURN place;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(CREATE)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP FUNCTION audit_append(bigint, json)")
