-- Push hand-off for offline devices (docs/push.md). One provider token per device of a user,
-- replaced by each registration and removed when the provider says it is gone (FCM UNREGISTERED,
-- APNs 410 / BadDeviceToken): removed only while it is still the token that was refused, so a
-- registration that raced the refusal survives. Kept apart from the devices themselves.
CREATE TABLE push_token (
  user_id BIGINT NOT NULL,
  device_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  platform VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  token VARCHAR(4096) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, device_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Conversations a user muted: their messages are still delivered and stored offline, but no push
-- goes to any of the user's devices for them.
CREATE TABLE conversation_mute (
  user_id BIGINT NOT NULL,
  conversation VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, conversation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
