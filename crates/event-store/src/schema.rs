//! Append-only migrations, applied past `PRAGMA user_version` in one transaction.

use crate::StoreError;
use rusqlite::Connection;

/// Never edit a shipped entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: stores, imports, discovery and progress, failures, raw log files, event index.
    r#"
    CREATE TABLE event_data_stores (
        num                     INTEGER PRIMARY KEY,
        id                      TEXT NOT NULL UNIQUE,
        arn                     TEXT NOT NULL UNIQUE,
        name                    TEXT NOT NULL,
        status                  TEXT NOT NULL,
        retention_days          INTEGER NOT NULL,
        termination_protection  INTEGER NOT NULL,
        multi_region            INTEGER NOT NULL,
        organization            INTEGER NOT NULL,
        billing_mode            TEXT NOT NULL,
        details                 TEXT NOT NULL DEFAULT '{}',
        created_ms              INTEGER NOT NULL,
        updated_ms              INTEGER NOT NULL
    );
    CREATE TABLE imports (
        id                  TEXT PRIMARY KEY,
        account             TEXT NOT NULL,
        region              TEXT NOT NULL,
        destination         TEXT NOT NULL,
        eds_num             INTEGER REFERENCES event_data_stores(num),
        source_uri          TEXT NOT NULL,
        bucket_region       TEXT NOT NULL,
        role_arn            TEXT NOT NULL,
        start_ms            INTEGER,
        end_ms              INTEGER,
        status              TEXT NOT NULL,
        discovered          INTEGER NOT NULL DEFAULT 0,
        prefixes_found      INTEGER NOT NULL DEFAULT 0,
        prefixes_completed  INTEGER NOT NULL DEFAULT 0,
        files_completed     INTEGER NOT NULL DEFAULT 0,
        events_completed    INTEGER NOT NULL DEFAULT 0,
        failed_entries      INTEGER NOT NULL DEFAULT 0,
        created_ms          INTEGER NOT NULL,
        updated_ms          INTEGER NOT NULL
    );
    CREATE INDEX imports_by_created ON imports(created_ms, id);
    CREATE TABLE import_prefixes (
        import_id   TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
        prefix_no   INTEGER NOT NULL,
        prefix      TEXT NOT NULL,
        files_total INTEGER NOT NULL,
        files_done  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (import_id, prefix_no)
    ) WITHOUT ROWID;
    CREATE TABLE import_files (
        import_id   TEXT NOT NULL,
        file_no     INTEGER NOT NULL,
        prefix_no   INTEGER NOT NULL,
        key         TEXT NOT NULL,
        size        INTEGER NOT NULL,
        state       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (import_id, file_no),
        FOREIGN KEY (import_id, prefix_no) REFERENCES import_prefixes(import_id, prefix_no) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE TABLE import_failures (
        num             INTEGER PRIMARY KEY,
        import_id       TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
        file_no         INTEGER,
        location        TEXT NOT NULL,
        status          TEXT NOT NULL,
        error_type      TEXT NOT NULL,
        error_message   TEXT NOT NULL,
        updated_ms      INTEGER NOT NULL
    );
    CREATE INDEX import_failures_by_import ON import_failures(import_id, num);
    CREATE TABLE log_files (
        num         INTEGER PRIMARY KEY,
        eds_num     INTEGER NOT NULL REFERENCES event_data_stores(num),
        import_id   TEXT NOT NULL,
        file_no     INTEGER NOT NULL,
        key         TEXT NOT NULL,
        first_event INTEGER NOT NULL,
        events      INTEGER NOT NULL,
        gz          BLOB NOT NULL
    );
    CREATE UNIQUE INDEX log_files_by_import_file ON log_files(import_id, file_no);
    CREATE TABLE strings (
        num     INTEGER PRIMARY KEY,
        value   TEXT NOT NULL UNIQUE
    );
    -- A log file's events are the rows first_event .. first_event + events - 1.
    CREATE TABLE events (
        num         INTEGER PRIMARY KEY,
        log_file    INTEGER NOT NULL,
        offset      INTEGER NOT NULL,
        len         INTEGER NOT NULL,
        event_time  INTEGER NOT NULL,
        event_id    TEXT,
        source      INTEGER NOT NULL,
        name        INTEGER NOT NULL,
        region      INTEGER,
        account     INTEGER
    );
    "#,
    // 2: tags of event data stores (and any other resource, by ARN), moved out of the store's
    // settings where the first version kept them.
    r#"
    CREATE TABLE tags (
        num         INTEGER PRIMARY KEY,
        resource    TEXT NOT NULL,
        key         TEXT NOT NULL,
        value       TEXT,
        UNIQUE (resource, key)
    );
    INSERT OR IGNORE INTO tags (resource, key, value)
        SELECT e.arn, json_extract(t.value, '$.Key'), json_extract(t.value, '$.Value')
        FROM event_data_stores e, json_each(e.details, '$.TagsList') t
        WHERE json_valid(e.details) AND json_extract(t.value, '$.Key') IS NOT NULL;
    "#,
    // 3: the run that owns an ongoing import, until when (wall-clock ms) its lease holds, and
    // where its bucket is read from (a resume from elsewhere is refused).
    r#"
    ALTER TABLE imports ADD COLUMN owner TEXT;
    ALTER TABLE imports ADD COLUMN lease_until_ms INTEGER;
    ALTER TABLE imports ADD COLUMN source_root TEXT;
    "#,
    // 4: the last file handed to the parsers (the files a crashed run may have been reading),
    // and the folder a failure entry stands for when a folder could not be listed.
    r#"
    ALTER TABLE imports ADD COLUMN dispatched_to INTEGER;
    ALTER TABLE import_failures ADD COLUMN folder TEXT;
    "#,
    // 5: CloudWatch Logs import tasks and their hourly batches; log groups, streams, and log
    // events that point at stored events (a message is its record's bytes, never a copy);
    // events by time, for batches and queries.
    r#"
    CREATE INDEX events_by_time ON events(event_time);
    CREATE TABLE log_tasks (
        id              TEXT PRIMARY KEY,
        account         TEXT NOT NULL,
        region          TEXT NOT NULL,
        source_arn      TEXT NOT NULL,
        eds_num         INTEGER NOT NULL REFERENCES event_data_stores(num),
        destination_arn TEXT NOT NULL,
        role_arn        TEXT NOT NULL,
        start_ms        INTEGER,
        end_ms          INTEGER,
        from_ms         INTEGER NOT NULL,
        to_ms           INTEGER NOT NULL,
        max_event       INTEGER NOT NULL,
        status          TEXT NOT NULL,
        bytes_imported  INTEGER NOT NULL DEFAULT 0,
        error_message   TEXT,
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        owner           TEXT,
        lease_until_ms  INTEGER
    );
    CREATE INDEX log_tasks_by_scope ON log_tasks(account, region);
    CREATE TABLE log_task_batches (
        task_id         TEXT NOT NULL REFERENCES log_tasks(id) ON DELETE CASCADE,
        batch_no        INTEGER NOT NULL,
        batch_id        TEXT NOT NULL,
        hour_ms         INTEGER NOT NULL,
        status          TEXT NOT NULL,
        error_message   TEXT,
        PRIMARY KEY (task_id, batch_no)
    ) WITHOUT ROWID;
    CREATE TABLE log_groups (
        num             INTEGER PRIMARY KEY,
        account         TEXT NOT NULL,
        region          TEXT NOT NULL,
        name            TEXT NOT NULL,
        arn             TEXT NOT NULL,
        class           TEXT NOT NULL,
        created_ms      INTEGER NOT NULL,
        stored_bytes    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, region, name)
    );
    CREATE TABLE log_streams (
        num                 INTEGER PRIMARY KEY,
        group_num           INTEGER NOT NULL REFERENCES log_groups(num) ON DELETE CASCADE,
        name                TEXT NOT NULL,
        created_ms          INTEGER NOT NULL,
        first_event_ms      INTEGER,
        last_event_ms       INTEGER,
        last_ingestion_ms   INTEGER,
        UNIQUE (group_num, name)
    );
    CREATE TABLE log_events (
        num             INTEGER PRIMARY KEY,
        group_num       INTEGER NOT NULL,
        stream_num      INTEGER NOT NULL,
        timestamp_ms    INTEGER NOT NULL,
        ingestion_ms    INTEGER NOT NULL,
        event_num       INTEGER NOT NULL
    );
    CREATE INDEX log_events_by_group ON log_events(group_num, timestamp_ms, num);
    CREATE INDEX log_events_by_stream ON log_events(stream_num, timestamp_ms, num);
    "#,
    r#"
    CREATE TABLE queries (
        id              TEXT PRIMARY KEY,
        account         TEXT NOT NULL,
        region          TEXT NOT NULL,
        statement       TEXT NOT NULL,
        status          TEXT NOT NULL,
        error_message   TEXT,
        delivery_uri    TEXT,
        delivery_status TEXT,
        columns         TEXT NOT NULL DEFAULT '[]',
        events_scanned  INTEGER NOT NULL DEFAULT 0,
        events_matched  INTEGER NOT NULL DEFAULT 0,
        bytes_scanned   INTEGER NOT NULL DEFAULT 0,
        results_count   INTEGER NOT NULL DEFAULT 0,
        exec_ms         INTEGER NOT NULL DEFAULT 0,
        created_ms      INTEGER NOT NULL,
        ended_ms        INTEGER,
        owner           TEXT,
        names           INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX queries_by_scope ON queries(account, region, status);
    CREATE TABLE query_stores (
        eds_num     INTEGER NOT NULL,
        query_id    TEXT NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
        PRIMARY KEY (eds_num, query_id)
    ) WITHOUT ROWID;
    CREATE INDEX query_stores_by_query ON query_stores(query_id);
    CREATE TABLE query_rows (
        query_id    TEXT NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
        row_no      INTEGER NOT NULL,
        cells       TEXT NOT NULL,
        PRIMARY KEY (query_id, row_no)
    ) WITHOUT ROWID;
    "#,
    // 7: indexes of `events` a bulk import dropped, to be made again at its end (or by whoever
    // comes next, if it never ended).
    r#"
    CREATE TABLE suspended_indexes (
        name    TEXT PRIMARY KEY,
        sql     TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 8: log segments, the files beside the database (`<db>-logs/<num>.seg`) where an import
    // run appends the gzip bytes of the log files it stores (each file begins with its row's
    // random `token`, so a segment of another database is never read): a log file's bytes are then
    // `gz_len` bytes at `seg_offset` of segment `segment`, and `gz` is empty. (Rows of earlier
    // versions keep their bytes in `gz`.) A new row's `key` is empty: the file's key is its
    // `import_files` row's. `events.event_id` goes: a query reads the eventID from the record
    // (dropping it rewrites `events` once: well under a second per million events).
    r#"
    CREATE TABLE log_segments (
        num         INTEGER PRIMARY KEY,
        import_id   TEXT NOT NULL,
        token       TEXT NOT NULL,
        created_ms  INTEGER NOT NULL
    );
    ALTER TABLE log_files ADD COLUMN segment INTEGER REFERENCES log_segments(num);
    ALTER TABLE log_files ADD COLUMN seg_offset INTEGER;
    ALTER TABLE log_files ADD COLUMN gz_len INTEGER;
    ALTER TABLE events DROP COLUMN event_id;
    "#,
];

/// Refuses a database written by a newer build, without changing anything.
/// The schema a database read without migrating has; refuses a newer one.
pub(crate) fn check(conn: &Connection) -> Result<i64, StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    Ok(found)
}

/// The first schema with log segments: a database read at an older one (read-only, never
/// migrated) holds every log file's bytes in `log_files.gz`.
pub(crate) const SEGMENTS_SCHEMA: i64 = 8;

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    if found > 0 && found < SEGMENTS_SCHEMA {
        // Dropping `events.event_id` rewrote the table through the write-ahead log: give the
        // log's space back now rather than keep a file the size of the table.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(())
}
