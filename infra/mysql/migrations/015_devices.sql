-- Several devices per user (docs/architecture.md, "Devices and sync").
--
-- A device is (user_id, device_id), named by the gateway, with its platform. Presence is per
-- device in Redis; this registry is what delivery reads to store a message for each device that
-- did not get it online, what the device limit counts, and what the cleaner forgets after
-- devices.inactive_days (last_seen_at is refreshed at most once an hour per ingest process).
CREATE TABLE user_device (
  user_id BIGINT NOT NULL,
  device_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  platform VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'unknown',
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, device_id),
  KEY idx_device_seen (last_seen_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Offline rows become each device's sync: what the device has not confirmed yet, in one order
-- (the primary key). A row is a message (message_id is the message), or an event with an id of
-- its own from the same generator (so events and messages interleave in time order): `read`
-- (another device of the user read `conversation` up to `seq`) or `recall` (`ref_message_id` was
-- recalled). origin_device names the device the message was sent from or that read.
--
-- Rows of today become the `default` device's (the single-device routes' device): the column's
-- default, so rows written by a process of the previous release during a rolling upgrade land
-- there too. Every user holding offline rows gets the `default` device registered below.
ALTER TABLE offline_message
  ADD COLUMN device_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'default' AFTER user_id,
  ADD COLUMN kind ENUM('message', 'read', 'recall') NOT NULL DEFAULT 'message',
  ADD COLUMN conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN seq BIGINT NULL,
  ADD COLUMN ref_message_id BIGINT NULL,
  ADD COLUMN origin_device VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (user_id, device_id, message_id);

INSERT IGNORE INTO user_device (user_id, device_id, platform, created_at, last_seen_at)
  SELECT DISTINCT user_id, 'default', 'unknown', UNIX_TIMESTAMP() * 1000, UNIX_TIMESTAMP() * 1000 FROM offline_message;
