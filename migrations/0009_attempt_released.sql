-- A worker that claimed an attempt ahead of a free slot and got no slot in time hands it back
-- unstarted (AttemptReleased): its `attempts` row closes as 'released' — no duration, no failure.
-- The task itself goes back to 'pending', a status task_instances already allows.
ALTER TABLE attempts DROP CONSTRAINT attempts_status_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_status_check
  CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned', 'released'));
