-- The options a check of `mailtls serve` ran under: the canonical JSON of
-- mailtls_core::options::ObserveOptions (everything its answer depends on), written when the
-- check is accepted and again when it ends (a check resumed by another instance runs under
-- that instance's options). Empty for checks recorded before this column.
ALTER TABLE checks ADD COLUMN options TEXT NOT NULL DEFAULT '';
