-- Inbound delivery of each mail domain (issue 23): what sending servers find of its MTA-STS and
-- DANE, and what that makes them do with each MX. Vocabularies as in docs/json.md (`inbound` of
-- the mail-domain report); lists comma-separated; NULL where there is nothing (a domain without
-- MX hosts has no DANE state, an MX without a certificate no certificate verdict).
CREATE TABLE inbound (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    verdict TEXT NOT NULL,
    mta_sts TEXT NOT NULL,
    policy_problems TEXT,
    dane TEXT,
    tlsrpt TEXT NOT NULL,
    costs_mail TEXT NOT NULL,
    PRIMARY KEY (scan_id, target)
);

CREATE TABLE inbound_mx (
    scan_id TEXT NOT NULL,
    target TEXT NOT NULL,
    seq BIGINT NOT NULL,
    host TEXT NOT NULL,
    preference BIGINT NOT NULL,
    port25 TEXT NOT NULL,
    certificate TEXT,
    dane TEXT NOT NULL,
    mta_sts_sender TEXT NOT NULL,
    dane_sender TEXT NOT NULL,
    PRIMARY KEY (scan_id, target, seq)
);
