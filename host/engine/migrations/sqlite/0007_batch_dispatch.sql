-- Batch dispatch.
--
-- `batch_size` is the most changes one provision-batch call to the target carries, as its
-- connector declares (capped by the runtime). The dispatcher writes it when it builds the
-- target's connector; NULL (a target no dispatcher has built yet) means 1. Claims hand a
-- target up to (calls allowed) x (batch size) jobs and count its running jobs in calls.
ALTER TABLE targets ADD COLUMN batch_size BIGINT;
