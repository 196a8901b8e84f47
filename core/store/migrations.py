"""Versioned schema migrations, each for both backends.

SQLite's ``PRAGMA user_version`` (PostgreSQL: the ``schema_version`` table) says how many have
run. A migration is one :class:`Migration`: its SQLite script and its PostgreSQL script (the
same text when it is portable). Each runs in one transaction, whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    sqlite: str
    #: None: the SQLite script runs unchanged.
    postgres: str | None = None

    @property
    def postgres_script(self) -> str:
        return self.sqlite if self.postgres is None else self.postgres


_SQLITE: tuple[str, ...] = (
    """
    CREATE TABLE preferences (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        task_type TEXT NOT NULL,
        model_id TEXT NOT NULL,
        version_id TEXT NOT NULL,
        model_name TEXT NOT NULL,
        credit INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (platform, user_id, task_type)
    );
    CREATE TABLE user_state (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (platform, user_id, key)
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        locale TEXT NOT NULL,
        task_type TEXT NOT NULL,
        version_id TEXT NOT NULL,
        model_name TEXT NOT NULL,
        prompt TEXT NOT NULL,
        params TEXT NOT NULL,
        n INTEGER NOT NULL,
        credits INTEGER NOT NULL,
        source TEXT NOT NULL,
        reply_target TEXT NOT NULL,
        image_urls TEXT NOT NULL,
        state TEXT NOT NULL,
        ima_task_id TEXT,
        handle TEXT,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        error_kind TEXT,
        result_urls TEXT NOT NULL DEFAULT '[]',
        result_covers TEXT NOT NULL DEFAULT '[]',
        extra TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX jobs_active ON jobs (state) WHERE state IN ('accepted', 'running');
    CREATE INDEX jobs_user ON jobs (platform, user_id, created_at);
    CREATE TABLE processed_events (
        key TEXT PRIMARY KEY,
        seen_at REAL NOT NULL
    );
    CREATE TABLE usage (
        job_id TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        model_name TEXT NOT NULL,
        credits INTEGER NOT NULL
    );
    CREATE INDEX usage_day ON usage (day, platform, user_id);
    CREATE TABLE generation_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        job_id TEXT NOT NULL,
        step TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX generation_log_at ON generation_log (at);
    """,
    # 2: find the job behind a chat message someone replies to (follow-ups).
    """
    CREATE INDEX jobs_handle ON jobs (platform, handle);
    """,
    # 3: requests stored before they are acknowledged, every message of a job, explicit
    # job states (creating, delivering), short-lived credentials with an expiry.
    """
    CREATE TABLE requests (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        received_at REAL NOT NULL,
        finished_at REAL,
        expires_at REAL
    );
    CREATE INDEX requests_unfinished ON requests (received_at) WHERE finished_at IS NULL;
    CREATE INDEX requests_expiring ON requests (expires_at) WHERE expires_at IS NOT NULL;
    INSERT OR IGNORE INTO requests (key, body, received_at, finished_at)
        SELECT key, '{}', seen_at, seen_at FROM processed_events;
    CREATE TABLE job_messages (
        platform TEXT NOT NULL,
        message_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (platform, message_id)
    );
    ALTER TABLE jobs ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE jobs ADD COLUMN origin_id TEXT;
    ALTER TABLE jobs ADD COLUMN wants TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE jobs ADD COLUMN expires_at REAL;
    UPDATE jobs SET wants = COALESCE(json_extract(extra, '$.wants'), '{}')
        WHERE json_valid(extra);
    UPDATE jobs SET handle = json_object(
            'id', CASE WHEN json_valid(handle)
                       THEN CAST(json_extract(handle, '$.message_id') AS TEXT) ELSE handle END,
            'data', handle,
            'also', json('[]'))
        WHERE handle IS NOT NULL;
    INSERT OR IGNORE INTO job_messages (platform, message_id, job_id, at)
        SELECT platform, json_extract(handle, '$.id'), id, created_at FROM jobs
        WHERE handle IS NOT NULL AND json_extract(handle, '$.id') IS NOT NULL;
    DROP INDEX jobs_active;
    CREATE INDEX jobs_active ON jobs (state)
        WHERE state IN ('accepted', 'creating', 'running', 'delivering');
    CREATE INDEX jobs_expiring ON jobs (expires_at) WHERE expires_at IS NOT NULL;
    """,
    # 4: caps a chat or server has instead of the defaults (core/limits.py).
    """
    CREATE TABLE chat_caps (
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        caps TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (platform, chat_id)
    );
    """,
    # 5: the queue (jobs wait for a slot within their limits) and credits counted per window.
    """
    ALTER TABLE jobs ADD COLUMN user_slots INTEGER;
    ALTER TABLE jobs ADD COLUMN chat_slots INTEGER;
    ALTER TABLE usage ADD COLUMN at REAL NOT NULL DEFAULT 0;
    UPDATE usage SET at = COALESCE((SELECT created_at FROM jobs WHERE jobs.id = usage.job_id), 0);
    CREATE INDEX usage_at ON usage (platform, at);
    DROP INDEX jobs_active;
    CREATE INDEX jobs_active ON jobs (state)
        WHERE state IN ('queued', 'accepted', 'creating', 'running', 'delivering');
    """,
)

#: PostgreSQL's schema starts where SQLite's third migration left it.
_POSTGRES_SCHEMA = """
    CREATE TABLE preferences (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        task_type TEXT NOT NULL,
        model_id TEXT NOT NULL,
        version_id TEXT NOT NULL,
        model_name TEXT NOT NULL,
        credit INTEGER NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (platform, user_id, task_type)
    );
    CREATE TABLE user_state (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (platform, user_id, key)
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        locale TEXT NOT NULL,
        task_type TEXT NOT NULL,
        version_id TEXT NOT NULL,
        model_name TEXT NOT NULL,
        prompt TEXT NOT NULL,
        params TEXT NOT NULL,
        n INTEGER NOT NULL,
        credits INTEGER NOT NULL,
        source TEXT NOT NULL,
        reply_target TEXT NOT NULL,
        image_urls TEXT NOT NULL,
        state TEXT NOT NULL,
        ima_task_id TEXT,
        handle TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        started_at DOUBLE PRECISION,
        finished_at DOUBLE PRECISION,
        error_kind TEXT,
        result_urls TEXT NOT NULL DEFAULT '[]',
        result_covers TEXT NOT NULL DEFAULT '[]',
        extra TEXT NOT NULL DEFAULT '{}',
        model_id TEXT NOT NULL DEFAULT '',
        attachments TEXT NOT NULL DEFAULT '[]',
        origin_id TEXT,
        wants TEXT NOT NULL DEFAULT '{}',
        expires_at DOUBLE PRECISION
    );
    CREATE INDEX jobs_active ON jobs (state)
        WHERE state IN ('accepted', 'creating', 'running', 'delivering');
    CREATE INDEX jobs_user ON jobs (platform, user_id, created_at);
    CREATE INDEX jobs_handle ON jobs (platform, handle);
    CREATE INDEX jobs_expiring ON jobs (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE processed_events (
        key TEXT PRIMARY KEY,
        seen_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE usage (
        job_id TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        model_name TEXT NOT NULL,
        credits INTEGER NOT NULL
    );
    CREATE INDEX usage_day ON usage (day, platform, user_id);
    CREATE TABLE generation_log (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at DOUBLE PRECISION NOT NULL,
        job_id TEXT NOT NULL,
        step TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX generation_log_at ON generation_log (at);
    CREATE TABLE requests (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION,
        expires_at DOUBLE PRECISION
    );
    CREATE INDEX requests_unfinished ON requests (received_at) WHERE finished_at IS NULL;
    CREATE INDEX requests_expiring ON requests (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE job_messages (
        platform TEXT NOT NULL,
        message_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (platform, message_id)
    );
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(_SQLITE[0], _POSTGRES_SCHEMA),
    Migration(_SQLITE[1], ""),
    Migration(_SQLITE[2], ""),
    # 4, 5: per-chat caps, the queue's slots and the ledger's times (timestamps are double
    # precision on PostgreSQL, whose REAL is single).
    *(Migration(script, script.replace(" REAL", " DOUBLE PRECISION")) for script in _SQLITE[3:5]),
    # 6: job leases (core/leases.py): which replica runs an active job, until when, and a
    # version every claim bumps, so a replica that lost the lease writes nothing.
    Migration(
        """
        ALTER TABLE jobs ADD COLUMN owner TEXT;
        ALTER TABLE jobs ADD COLUMN lease_until DOUBLE PRECISION;
        ALTER TABLE jobs ADD COLUMN lease_version INTEGER NOT NULL DEFAULT 0;
        """
    ),
    # 7: request leases: which replica answers a stored request, so a replica that starts (or
    # takes over from a dead one) never answers a request another live replica is answering.
    Migration(
        """
        ALTER TABLE requests ADD COLUMN owner TEXT;
        ALTER TABLE requests ADD COLUMN lease_until DOUBLE PRECISION;
        """
    ),
    # 8: ids operators added to the allowlists (core/access.py); the console's sessions, kept
    # by their token's SHA-256, and wrong passwords per address, so every replica shares them.
    Migration(
        """
        CREATE TABLE access_entries (
            platform TEXT NOT NULL,
            kind TEXT NOT NULL,
            entry_id TEXT NOT NULL,
            added_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (platform, kind, entry_id)
        );
        CREATE TABLE console_sessions (
            token_hash TEXT PRIMARY KEY,
            csrf TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE console_login_failures (
            address TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX console_login_failures_address ON console_login_failures (address, at);
        """
    ),
    # 9: the jobs cancelled lately, which every running replica looks for (SQLStore.watch_cancels).
    Migration("CREATE INDEX jobs_cancelled ON jobs (finished_at) WHERE state = 'cancelled'"),
    # 10: what every admission reads without a scan of all jobs (SQLStore.admit): the queue in
    # order, the jobs holding a slot (everyone's and a chat's).
    Migration(
        """
        CREATE INDEX jobs_state ON jobs (state, created_at, id);
        CREATE INDEX jobs_chat ON jobs (platform, chat_id, state);
        """
    ),
    # 11: whether the person chose a saved model (binding) or it was saved because they used
    # it (the spec's rule: the planner may fit another model for a wish, as for a default).
    # Rows saved before this can't be told apart: they stay binding, as they were.
    Migration("ALTER TABLE preferences ADD COLUMN chosen INTEGER NOT NULL DEFAULT 1"),
)
