-- Recall is durable: one row per recalled message, written before anything of the message is
-- deleted, and kept (a few dozen bytes per recall). It carries what the recall event needs, so a
-- repeated DELETE /v1/messages/{id} finds the recall after the history row is gone and redoes the
-- remaining steps (offline rows, hot-history cache, the conversation's last message, the event);
-- and worker-persist, when it retries a round (after a failure or a stall), leaves out the
-- messages recalled meanwhile instead of inserting them again. The Redis tombstone (24 h) only
-- stops deliveries in flight; this row is what makes a recall final.
CREATE TABLE message_recall (
  message_id BIGINT NOT NULL,
  conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seq BIGINT NOT NULL,
  sender_id BIGINT NOT NULL,
  receiver_id BIGINT NULL,
  group_id BIGINT NULL,
  recalled_at BIGINT NOT NULL,
  PRIMARY KEY (message_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
