-- Many workers on one scan in PostgreSQL (issue 24): a work queue with leases, and the limits per
-- server address kept by every worker together. Times in this migration are milliseconds of the
-- database's clock, microseconds for the rates' turns (so the workers' clocks never matter); a
-- lease is held until its time passes unless its holder renews it, so a worker that dies holds
-- nothing for longer than a lease.
-- SQLite stores get the tables too (one schema), and leave them empty.

-- The limits every worker of a scan keeps together (--per-ip, --per-ip-rate, --dns-rate), as
-- canonical JSON; the list's loading into the queue: who loads it (a lease), how many lines are
-- in, and whether all are.
ALTER TABLE scans ADD COLUMN limits TEXT;
ALTER TABLE scans ADD COLUMN loader TEXT;
ALTER TABLE scans ADD COLUMN loader_until_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scans ADD COLUMN loaded_lines BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scans ADD COLUMN loaded BIGINT NOT NULL DEFAULT 0;

-- Until when each worker's last renewal of its leases holds: a worker is live until then.
ALTER TABLE scan_runs ADD COLUMN alive_until_ms BIGINT;

-- Targets to check: a row leaves in the transaction that records its target.
CREATE TABLE queue (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    line BIGINT NOT NULL,
    text TEXT NOT NULL,
    account TEXT,
    holder TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scan_id, target)
);
CREATE INDEX queue_line ON queue (scan_id, line);

-- The places among connections at once to one address (--per-ip rows per address).
CREATE TABLE address_slots (
    scan_id TEXT NOT NULL,
    address TEXT NOT NULL,
    slot BIGINT NOT NULL,
    holder TEXT,
    expires_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scan_id, address, slot)
);

-- The next free turn of a rate: a new connection to an address (--per-ip-rate), or a DNS
-- question (--dns-rate: the row whose address is empty); microseconds of the database's clock.
CREATE TABLE address_rate (
    scan_id TEXT NOT NULL,
    address TEXT NOT NULL,
    next_us BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scan_id, address)
);
