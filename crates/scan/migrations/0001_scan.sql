-- The scan store (mailtls scan). One dialect for SQLite and PostgreSQL: TEXT and BIGINT only,
-- times as Unix seconds, booleans as 0/1, lists as comma-separated text.

-- Marks a database as mailtls's, so a foreign database is refused rather than written to.
CREATE TABLE mailtls_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO mailtls_meta (key, value) VALUES ('format', 'mailtls-scan');

-- One scan: a list and the options it is checked with. Workers (shards, resumed runs) join it.
CREATE TABLE scans (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    input TEXT NOT NULL,
    options TEXT NOT NULL,
    mailtls_version TEXT NOT NULL
);

-- Each process that worked on a scan: which shard, what it read, how it ended.
CREATE TABLE scan_runs (
    scan_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    shard TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    lines_read BIGINT NOT NULL DEFAULT 0,
    targets_done BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    stopped TEXT,
    PRIMARY KEY (scan_id, run_id)
);

-- One row per target checked, written with everything below in one transaction.
CREATE TABLE targets (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    line BIGINT NOT NULL,
    account TEXT,
    kind TEXT NOT NULL,
    verdict TEXT NOT NULL,
    exit_code BIGINT NOT NULL,
    summary TEXT NOT NULL,
    fix TEXT,
    recommendation TEXT,
    error TEXT,
    checked_at BIGINT NOT NULL,
    run_id TEXT NOT NULL,
    shard TEXT NOT NULL,
    PRIMARY KEY (scan_id, target)
);

-- Every (host, address, port) probed for a target.
CREATE TABLE endpoints (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    host TEXT NOT NULL,
    address TEXT NOT NULL,
    port BIGINT NOT NULL,
    sni TEXT,
    result TEXT NOT NULL,
    tls_version TEXT,
    leaf_names TEXT,
    not_after BIGINT,
    PRIMARY KEY (scan_id, target, host, address, port)
);

-- Every problem found, with the server it was found on and the sources that sent clients there.
CREATE TABLE problems (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    seq BIGINT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    server TEXT NOT NULL,
    port BIGINT,
    source TEXT,
    expected_name TEXT,
    presented_names TEXT,
    suggested_name TEXT,
    verified BIGINT NOT NULL,
    PRIMARY KEY (scan_id, target, seq)
);

-- Where each mail domain sends clients: one row per server handed out (or source that failed).
CREATE TABLE discovery (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    seq BIGINT NOT NULL,
    source TEXT NOT NULL,
    url_or_record TEXT NOT NULL,
    hostname TEXT NOT NULL,
    port BIGINT,
    security TEXT,
    status TEXT NOT NULL,
    detail TEXT,
    error TEXT,
    instead TEXT,
    PRIMARY KEY (scan_id, target, seq)
);

-- The full report of each target, as `mailtls check --json` prints it (docs/json.md).
CREATE TABLE observations (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (scan_id, target)
);

-- Lines of the input that are not targets.
CREATE TABLE rejected (
    scan_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (scan_id, line)
);

CREATE INDEX problems_code ON problems (scan_id, code);
