-- Each (conversation, seq) belongs to one message, enforced by the database.
--
-- seq comes from Redis (the admission script) so that the 202 can carry it. Redis guards it
-- (counters checked by epoch, re-seeded from MySQL after a restart or failover, a shard's
-- counters in the slot of its jobs), but a failover to a replica that lagged can still hand out
-- a seq whose first message a worker was storing at that moment. message_history cannot refuse
-- the second one itself: it is partitioned by message_id, and every unique key of a partitioned
-- table must contain the partition column. So each message claims its (conversation, seq) here,
-- in a narrow table that is not partitioned, before its history row is written. A claim that
-- finds the pair taken by another message is a detected fault: worker-persist counts it
-- (im_errors_total{kind="seq_conflict"}), takes a new seq above every seq stored for the
-- conversation, and stores the message under it (docs/architecture.md, "seq").
--
-- worker-cleaner deletes the claims of history that retention dropped.

CREATE TABLE message_seq (
  conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seq BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  PRIMARY KEY (conversation, seq),
  KEY idx_seq_message (message_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- History stored before this table existed claims its pairs now (a pair stored twice keeps the
-- message that comes first).
INSERT IGNORE INTO message_seq (conversation, seq, message_id)
  SELECT conversation, seq, message_id FROM message_history ORDER BY message_id;
