-- The read side: history search by time, recall, conversation lists.

-- Search scans one user's conversations within a time range.
ALTER TABLE message_history ADD KEY idx_conversation_created (conversation, created_at);

-- Recall removes a message's pending offline rows for every receiver.
ALTER TABLE offline_message ADD KEY idx_offline_message (message_id);

-- One row per conversation: its last message and highest seq, and the best receipt any member
-- reached (a group message's status), kept current by worker-persist and acks.
CREATE TABLE conversation_state (
  conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  last_message_id BIGINT NOT NULL,
  max_seq BIGINT NOT NULL,
  best_delivered_seq BIGINT NOT NULL DEFAULT 0,
  best_read_seq BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (conversation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A user's single-chat conversations, most recent first by index. Group conversations come from
-- group_member, so a group message never writes one row per member here.
CREATE TABLE user_conversation (
  user_id BIGINT NOT NULL,
  conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  peer_id BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, conversation),
  KEY idx_user_updated (user_id, updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
