-- Checks asked of `mailtls serve` (the page and the API): one row each, written when accepted
-- (state 'queued') and again when done, so any instance behind a load balancer can answer for it
-- and nothing accepted is lost. `target` is what was checked: without the local part of an
-- e-mail address unless the server is configured to keep it. `owner` is the instance that
-- accepted it (host name and listen address): on start, an instance runs again what it left
-- unfinished itself, and anyone's that is older than a check may take (abandoned).
CREATE TABLE checks (
    id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    verdict TEXT,
    page TEXT,
    report TEXT,
    error TEXT,
    owner TEXT NOT NULL DEFAULT ''
);
CREATE INDEX checks_unfinished ON checks (state, created_at);
