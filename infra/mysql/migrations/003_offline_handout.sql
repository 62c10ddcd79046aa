-- The offline cursor deletes only rows a pull handed out. pulled_at is set (ms) on the rows of
-- each page a pull returns; `last_message_id` then deletes the user's rows at or below it whose
-- pulled_at is set. A row stored after the client pulled past its id (a redelivered publish, a
-- retried delivery, a late group chunk) has no pulled_at, so no cursor deletes it before a pull
-- returns it. Rows stored before this migration start unmarked: at most one page is returned twice
-- (clients drop duplicates by message_id), none is lost.
ALTER TABLE offline_message ADD COLUMN pulled_at BIGINT NULL;
