-- im-message initial schema. Runs on MariaDB 10.11 and MySQL 8.
-- Ids are BIGINT (below 2^63); times are BIGINT milliseconds since the epoch (UTC, no time zone ambiguity).
-- No foreign keys: message_history is partitioned by message_id later, and partitioned InnoDB tables
-- allow none; ingest checks users and groups (cached) instead.

CREATE TABLE `user` (
  id BIGINT NOT NULL,
  name VARCHAR(128) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE im_group (
  id BIGINT NOT NULL,
  name VARCHAR(128) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE group_member (
  group_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (group_id, user_id),
  KEY idx_member_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per message. message_id is time-ordered (Snowflake), so it is also the key that
-- monthly partitions will range over (every unique key must contain the partition column).
-- conversation is 's:{low user id}:{high user id}' for single chat, 'g:{group_id}' for a group.
-- status is not stored: it follows the receivers' cursors in conversation_cursor.
CREATE TABLE message_history (
  message_id BIGINT NOT NULL,
  conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seq BIGINT NOT NULL,
  sender_id BIGINT NOT NULL,
  receiver_id BIGINT NULL,
  group_id BIGINT NULL,
  message_type ENUM('text', 'image', 'file', 'voice') NOT NULL DEFAULT 'text',
  content MEDIUMTEXT NOT NULL,
  client_msg_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (message_id),
  KEY idx_conversation_seq (conversation, seq),
  KEY idx_sender_created (sender_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A pending offline delivery. It references the history row instead of copying the content,
-- so a 10,000-member group message is stored once. Pull order and the cursor are message_id.
CREATE TABLE offline_message (
  user_id BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, message_id),
  KEY idx_offline_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Receipts as cursors: per user and conversation, the highest seq delivered and read.
-- Only ever moved forward (GREATEST), one row per user and conversation however many messages.
CREATE TABLE conversation_cursor (
  user_id BIGINT NOT NULL,
  conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  delivered_seq BIGINT NOT NULL DEFAULT 0,
  read_seq BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, conversation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
