// Generated from docs/openapi.yaml by openapi-typescript: do not edit.
// Regenerate with `npm run client:generate`; npm test fails while this file is out of date.
export interface paths {
    "/v1/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a single-chat message
         * @description Validates, dedupes `(sender_id, client_msg_id)` for 24 hours, assigns `message_id` and the
         *     conversation's `seq`, and queues the message. Sender and receiver must be known users.
         *     A repeat of a `client_msg_id` returns the first answer and creates nothing.
         */
        post: operations["sendMessage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/group-messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a group message
         * @description The sender must be a member of the group (403 otherwise).
         */
        post: operations["sendGroupMessage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send up to 1000 messages in one request
         * @description Each item is a single send, or a group send when it carries `group_id`. Items are checked
         *     one by one: a bad item gets its own error in `results`, the others go through.
         */
        post: operations["sendBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/{message_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Recall a message (sender only)
         * @description Removes the message from history and from pending offline rows; recipients get a `recall`
         *     event on Pub/Sub. A recall is final: no retry of the message's persist job brings it back to
         *     history, and deliveries still in flight skip it. Repeating the call for a recalled message (after an error or a lost answer) redoes
         *     every step and answers the same `200` with the same event; 403 for anyone but the sender;
         *     404 only for a message not (yet) in history and never recalled.
         */
        delete: operations["recallMessage"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/offline-messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Pull a user's offline messages (acknowledge by cursor)
         * @description `last_message_id` is the last `message_id` of the page the client received: the rows of that
         *     page are deleted first, then the next `limit` rows are returned in ascending `message_id`.
         *     A first pull passes none; asking again with the same cursor (or none) returns the same page.
         */
        get: operations["pullOfflineMessages"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/acks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm delivery or reading of messages
         * @description Moves the user's delivered or read cursor of each conversation forward to the highest
         *     acknowledged `seq` (never back). Messages the user did not receive change nothing and are
         *     not counted in `updated`.
         */
        post: operations["acknowledge"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/conversations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A user's conversations, most recent first, a page at a time
         * @description Ordered by the time of the last message, newest first. Walk the list with `cursor`: pass the
         *     `next_cursor` of the previous page until `has_more` is false. A conversation whose messages
         *     were all recalled is left out, so a page may hold fewer than `limit`; `has_more` decides. A
         *     conversation that gets a new message during the walk moves to the top, where a new walk
         *     finds it.
         */
        get: operations["listConversations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Messages of one conversation, newest first
         * @description Give exactly one of `peer_id` (single chat) or `group_id` (the user must be a member).
         */
        get: operations["getHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Search the conversations a user is in
         * @description Walk the matches with `cursor`: pass the `next_cursor` of the previous page, with the same
         *     `keyword`, `start_time` and `end_time` as given to the first page (a cursor is good only for
         *     the query it came from), until `has_more` is false.
         */
        get: operations["searchMessages"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/presence/{user_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Heartbeat: a device of the user is connected to this gateway
         * @description Marks the device online on `gateway_id` for `ttl_s` seconds (each device of a user on its
         *     own; the user is online while any device is). Without `device_id`, the device is `default`
         *     (the single-device routes' device). The first heartbeat of a device registers it: from then
         *     on every message to the user that this device does not get online is kept in its sync. A
         *     new device beyond `devices.max_per_user` is refused with 403 PERMISSION_DENIED, reason
         *     DEVICE_LIMIT (retrying does not help until a device is removed).
         */
        put: operations["setPresence"];
        post?: never;
        /**
         * The user disconnected
         * @description Removes the presence of the device `device_id`, or of every device of the user when none is
         *     named. With `gateway_id`, only presence that still names that gateway goes (a late
         *     disconnect from an old gateway does not undo a newer connection).
         */
        delete: operations["clearPresence"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/devices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's devices, registered or online */
        get: operations["listDevices"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/devices/{device_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Forget a device, its sync and its presence */
        delete: operations["removeDevice"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/devices/{device_id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A device catches up: messages, recalls and reads it missed, confirmed by cursor
         * @description Everything the device has not confirmed yet, in one stable order (`id`): messages to the
         *     user it did not get online (a message delivered online to another device is still here),
         *     messages the user sent from other devices, recalls, and reads on other devices. `cursor` is
         *     the `cursor` of the page the device received: that page is deleted first, then the next
         *     `limit` items are returned. A cursor confirms exactly the page that ended with it: an
         *     answer that was lost loses nothing (the same request returns the page again), and a repeat
         *     of a confirmed cursor returns the next page again. A device syncing for the first time is
         *     registered, and starts with the newest messages of the user's conversations of the last
         *     `devices.new_device_window_days` (at most `devices.new_device_max_messages`). The `default`
         *     device's sync carries messages only (GET offline-messages is that device's sync).
         */
        get: operations["syncDevice"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Create or rename a user */
        put: operations["upsertUser"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/devices/{device_id}/push-token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Register a device's push token
         * @description Stores the provider token of one device of the user, replacing the one it had. Offline
         *     messages to the device then become pushes (with `push.enabled`): FCM and APNs tokens go to
         *     their providers, `webhook` tokens to the deployment's signed webhook (see `PushWebhook`). A
         *     token the provider says is gone (FCM `UNREGISTERED`, APNs 410 or `BadDeviceToken`) is removed.
         *     Until receivers are devices, every offline message goes to the device `default`.
         */
        put: operations["setPushToken"];
        post?: never;
        /** Remove a device's push token */
        delete: operations["removePushToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user_id}/mutes/{conversation}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Mute a conversation for the user
         * @description Its messages are still delivered and stored offline, but none becomes a push to any of the user's devices.
         */
        put: operations["muteConversation"];
        post?: never;
        /** Unmute a conversation for the user */
        delete: operations["unmuteConversation"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/groups/{group_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Create or rename a group */
        put: operations["upsertGroup"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/groups/{group_id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A group's members, by user id, a page at a time
         * @description Up to `limit` member ids in ascending order. Walk the list with `cursor`: pass the
         *     `next_cursor` of the previous page until `has_more` is false.
         */
        get: operations["listGroupMembers"];
        put?: never;
        /**
         * Add and remove group members
         * @description At least one id in `add` or `remove`; no id in both. Users to add must be known.
         */
        post: operations["changeGroupMembers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Broadcast a notification on system:notification */
        post: operations["broadcastNotification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness (this process can take traffic)
         * @description 200 while this process can take traffic: started, its message-id node lease held, not shutting down. Redis and MySQL are not part of it: an outage of either is shared by every instance, which keep answering sends as the contract says (202, or 503 with Retry-After); their state is on /health/dependencies.
         */
        get: operations["ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/dependencies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Redis and MySQL as this process sees them
         * @description Each backing service answering a trivial command within 2 s. Served beside /metrics: on the API port by default, on the ops port only when `metrics.port` gives ingest-api one.
         */
        get: operations["dependencies"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document, as JSON */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document, rendered (Swagger UI) */
        get: operations["docs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    push: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A push to a device registered with platform webhook (sent by worker-push)
         * @description Sent to `push.webhook_url` once per device per collapse window, signed: `X-IM-Timestamp`
         *     (Unix seconds) and `X-IM-Signature` (`v1=` + hex HMAC-SHA256 of `{timestamp}.{raw body}`
         *     keyed by `push.webhook_secret`). Refuse timestamps more than 5 minutes off. Answer 2xx to
         *     accept; 404 or 410 removes the device's token; 429 or 5xx (optionally with `Retry-After`)
         *     is retried. No message text unless `push.include_content`.
         */
        post: operations["pushWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    beforeSend: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A send about to be admitted (sent by ingest-api to hooks.before_send_url)
         * @description One signed call per request (a batch request's messages together), before admission, on the
         *     path shared by HTTP and gRPC, bounded by `hooks.before_send_timeout_ms`. Answer 200 with one
         *     result per message, in order: `accept`, `refuse` (the sender gets 403 `PERMISSION_DENIED`
         *     naming `reason`) or `replace` (the message is admitted with `content`). A failure (an error,
         *     a timeout, another status, an answer not as documented) follows `hooks.before_send_policy`:
         *     `fail_open` admits the sends unchanged, `fail_closed` answers them 503.
         */
        post: operations["beforeSendHook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    afterSend: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Messages stored (sent by worker-push to hooks.after_send_url)
         * @description The messages of one persist job, once stored; signed like every hook call. At least once:
         *     not taken (429, 5xx, a timeout) it is sent again, so drop repeats by `event_id`. Another 4xx
         *     puts the event in the failed set of im.hook for an operator.
         */
        post: operations["afterSendEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    afterRecall: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A message recalled (sent by worker-push to hooks.after_recall_url)
         * @description One recall, signed, at least once (drop repeats by `event_id`).
         */
        post: operations["afterRecallEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        BeforeSendRequest: {
            /** @constant */
            event: "before_send";
            messages: {
                sender_id: components["schemas"]["Id"];
                receiver_id: components["schemas"]["Id"] | null;
                group_id: components["schemas"]["Id"] | null;
                content: string;
                /** @enum {string} */
                message_type: "text" | "image" | "file" | "voice";
                client_msg_id: string | null;
            }[];
        };
        BeforeSendAnswer: {
            /** @description One per message, in order. */
            results: ({
                /** @constant */
                action: "accept";
            } | {
                /** @constant */
                action: "refuse";
                reason: string;
            } | {
                /** @constant */
                action: "replace";
                /** @description At most message_limits.max_message_length characters. */
                content: string;
            })[];
        };
        AfterSendEvent: {
            /** @constant */
            event: "after_send";
            /** @description The same on every attempt: drop repeats by it. */
            event_id: string;
            messages: {
                message_id: components["schemas"]["Id"];
                seq: number;
                sender_id: components["schemas"]["Id"];
                receiver_id: components["schemas"]["Id"] | null;
                group_id: components["schemas"]["Id"] | null;
                conversation: string;
                content: string;
                /** @enum {string} */
                message_type: "text" | "image" | "file" | "voice";
                timestamp: number;
                client_msg_id: string | null;
            }[];
        };
        AfterRecallEvent: {
            /** @constant */
            event: "after_recall";
            event_id: string;
            message_id: components["schemas"]["Id"];
            conversation: string;
            seq: number;
            sender_id: components["schemas"]["Id"];
            receiver_id: components["schemas"]["Id"] | null;
            group_id: components["schemas"]["Id"] | null;
            recalled_at: number;
        };
        PushWebhook: {
            /** @constant */
            event: "push";
            user_id: components["schemas"]["Id"];
            device_id: string;
            /** @description The device's registered token. */
            token: string;
            /** @description Messages the device's collapse window gathered. */
            count: number;
            /** @description The newest message's conversation: a newer push of it replaces the older. */
            collapse_id: string;
            message: components["schemas"]["PushMessage"];
        };
        /** @description The newest message of the window; `content` only with `push.include_content`. */
        PushMessage: {
            message_id: components["schemas"]["Id"];
            seq: number;
            sender_id: components["schemas"]["Id"];
            receiver_id: components["schemas"]["Id"] | null;
            group_id: components["schemas"]["Id"] | null;
            conversation: string;
            /** @enum {string} */
            message_type: "text" | "image" | "file" | "voice";
            timestamp: number;
            content?: string;
        };
        /**
         * @description A positive integer below 2^63, as a decimal string.
         * @example 9007199254740993
         */
        Id: string;
        /** @description An id in a request, as a decimal string or a safe JSON integer. */
        IdInput: components["schemas"]["Id"] | number;
        /** @description The cursor of the next page (opaque, URL-safe), or null on the last page (`has_more` false). */
        NextCursor: string | null;
        GatewayId: string;
        /** @description A device of a user, named by its gateway; `default` is the single-device routes' device. */
        DeviceId: string;
        /** @enum {string} */
        Platform: "ios" | "android" | "web" | "desktop" | "unknown";
        Device: {
            device_id: components["schemas"]["DeviceId"];
            platform: components["schemas"]["Platform"];
            /** @description When it was registered (ms); null for a device seen only in presence of an earlier release. */
            created_at: number | null;
            /** @description Last registration or heartbeat written to MySQL (at most hourly per ingest process). */
            last_seen_at: number | null;
            online: boolean;
            gateway_id: components["schemas"]["GatewayId"] | null;
        };
        /** @description One item of a device's sync, by `kind`. */
        SyncItem: {
            /** @constant */
            kind: "message";
            id: components["schemas"]["Id"];
            message_id: components["schemas"]["Id"];
            seq: number;
            sender_id: components["schemas"]["Id"];
            sender_name: string | null;
            group_id: components["schemas"]["Id"] | null;
            group_name: string | null;
            content: string;
            message_type: components["schemas"]["MessageType"];
            created_at: number;
            /** @description The sender's device it was sent from, when the send named one. */
            origin_device_id: string | null;
        } | {
            /** @constant */
            kind: "read";
            id: components["schemas"]["Id"];
            /** @description 's:{low}:{high}' or 'g:{group_id}' */
            conversation: string;
            /** @description The user read the conversation up to this seq. */
            seq: number;
            /** @description The device that read. */
            origin_device_id: string | null;
            created_at: number;
        } | {
            /** @constant */
            kind: "recall";
            id: components["schemas"]["Id"];
            message_id: components["schemas"]["Id"];
            conversation: string | null;
            created_at: number;
        };
        /** @description 1 to 128 characters of text without control characters. */
        Name: string;
        /** @description 1 to `message_limits.max_message_length` (default 4096) Unicode characters, stored byte-exact. */
        Content: string;
        /** @enum {string} */
        MessageType: "text" | "image" | "file" | "voice";
        /** @description The sender's idempotency key (24 hours). */
        ClientMsgId: string;
        SingleSend: {
            sender_id: components["schemas"]["IdInput"];
            receiver_id: components["schemas"]["IdInput"];
            content: components["schemas"]["Content"];
            message_type?: components["schemas"]["MessageType"];
            client_msg_id?: components["schemas"]["ClientMsgId"];
            /** @description The sender's device the message was typed on; the sender's other devices get the message too. */
            device_id?: components["schemas"]["DeviceId"];
        };
        GroupSend: {
            sender_id: components["schemas"]["IdInput"];
            group_id: components["schemas"]["IdInput"];
            content: components["schemas"]["Content"];
            message_type?: components["schemas"]["MessageType"];
            client_msg_id?: components["schemas"]["ClientMsgId"];
            /** @description The sender's device the message was typed on; the sender's other devices get the message too. */
            device_id?: components["schemas"]["DeviceId"];
        };
        SendResult: {
            message_id: components["schemas"]["Id"];
            seq: number;
            /** @description Milliseconds since the epoch; the millisecond the id encodes. */
            timestamp: number;
        };
        Message: {
            message_id: components["schemas"]["Id"];
            seq: number;
            sender_id: components["schemas"]["Id"];
            receiver_id: components["schemas"]["Id"] | null;
            group_id: components["schemas"]["Id"] | null;
            content: string;
            message_type: components["schemas"]["MessageType"];
            /**
             * @description For a group message, the best status any member reached.
             * @enum {string}
             */
            status: "sent" | "delivered" | "read";
            created_at: number;
        };
        OfflineMessage: {
            id: components["schemas"]["Id"];
            message_id: components["schemas"]["Id"];
            seq: number;
            sender_id: components["schemas"]["Id"];
            sender_name: string | null;
            group_id: components["schemas"]["Id"] | null;
            group_name: string | null;
            content: string;
            message_type: components["schemas"]["MessageType"];
            created_at: number;
        };
        Conversation: {
            peer_id: components["schemas"]["Id"];
            last_message: components["schemas"]["Message"];
            max_seq: number;
            read_seq: number;
            unread: number;
        } | {
            group_id: components["schemas"]["Id"];
            last_message: components["schemas"]["Message"];
            max_seq: number;
            read_seq: number;
            unread: number;
        };
        /** @description Every error answer, and a failed item of a batch. */
        Error: {
            error: {
                /** @enum {string} */
                code: "INVALID_ARGUMENT" | "UNAUTHENTICATED" | "PERMISSION_DENIED" | "NOT_FOUND" | "PAYLOAD_TOO_LARGE" | "RESOURCE_EXHAUSTED" | "UNAVAILABLE" | "INTERNAL";
                reason: components["schemas"]["ErrorReason"];
                /** @description What was wrong and what is allowed, for a person to act on. */
                message: string;
                /** @description Seconds to wait before a retry, on `RESOURCE_EXHAUSTED` and `UNAVAILABLE` only (the `Retry-After` header's value; in a batch, each refused item's own). */
                retry_after_s?: number;
            };
        };
        /**
         * @description The machine-readable reason beside `code`: each reason belongs to one code (listed per code in the error schemas below and in the contract's section 2). Branch on it, never on `message`.
         * @enum {string}
         */
        ErrorReason: "INVALID_FIELD" | "MALFORMED_BODY" | "UNSUPPORTED_MEDIA_TYPE" | "INVALID_PATH" | "INVALID_CURSOR" | "METHOD_NOT_ALLOWED" | "MISSING_TOKEN" | "INVALID_TOKEN" | "NOT_A_MEMBER" | "NOT_THE_SENDER" | "DEVICE_LIMIT" | "HOOK_REFUSED" | "UNKNOWN_USER" | "UNKNOWN_GROUP" | "UNKNOWN_MESSAGE" | "UNKNOWN_DEVICE" | "UNKNOWN_ROUTE" | "PAYLOAD_TOO_LARGE" | "RATE_LIMITED" | "STREAM_BACKLOG" | "DEPENDENCY_UNAVAILABLE" | "OVERLOADED" | "ADMISSION_TIMEOUT" | "OUTCOME_UNKNOWN" | "SEND_IN_PROGRESS" | "REPLICATION_TIMEOUT" | "RESHARDING" | "HOOK_UNAVAILABLE" | "SHUTTING_DOWN" | "INTERNAL_ERROR";
        InvalidArgumentError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "INVALID_ARGUMENT";
                /** @enum {unknown} */
                reason?: "INVALID_FIELD" | "MALFORMED_BODY" | "UNSUPPORTED_MEDIA_TYPE" | "INVALID_PATH" | "INVALID_CURSOR" | "METHOD_NOT_ALLOWED";
            };
        };
        UnauthenticatedError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "UNAUTHENTICATED";
                /** @enum {unknown} */
                reason?: "MISSING_TOKEN" | "INVALID_TOKEN";
            };
        };
        PermissionDeniedError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "PERMISSION_DENIED";
                /** @enum {unknown} */
                reason?: "NOT_A_MEMBER" | "NOT_THE_SENDER" | "DEVICE_LIMIT" | "HOOK_REFUSED";
            };
        };
        NotFoundError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "NOT_FOUND";
                /** @enum {unknown} */
                reason?: "UNKNOWN_USER" | "UNKNOWN_GROUP" | "UNKNOWN_MESSAGE" | "UNKNOWN_DEVICE" | "UNKNOWN_ROUTE";
            };
        };
        PayloadTooLargeError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "PAYLOAD_TOO_LARGE";
                /** @enum {unknown} */
                reason?: "PAYLOAD_TOO_LARGE";
            };
        };
        ResourceExhaustedError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "RESOURCE_EXHAUSTED";
                /** @enum {unknown} */
                reason?: "RATE_LIMITED" | "STREAM_BACKLOG";
                retry_after_s: number;
            };
        };
        UnavailableError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "UNAVAILABLE";
                /** @enum {unknown} */
                reason?: "DEPENDENCY_UNAVAILABLE" | "OVERLOADED" | "ADMISSION_TIMEOUT" | "OUTCOME_UNKNOWN" | "SEND_IN_PROGRESS" | "REPLICATION_TIMEOUT" | "RESHARDING" | "HOOK_UNAVAILABLE" | "SHUTTING_DOWN";
                retry_after_s: number;
            };
        };
        /** @description Each backing service, up or down. */
        DependencyStates: {
            /** @enum {unknown} */
            redis: "up" | "down";
            /** @enum {unknown} */
            mysql: "up" | "down";
        };
        InternalError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "INTERNAL";
                /** @enum {unknown} */
                reason?: "INTERNAL_ERROR";
            };
        };
    };
    responses: {
        /** @description Malformed JSON, a missing or mistyped field, a bad id, empty or too long content, an unknown field or type. */
        InvalidArgument: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InvalidArgumentError"];
            };
        };
        /** @description Missing or wrong bearer token. */
        Unauthenticated: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["UnauthenticatedError"];
            };
        };
        /** @description The user may not do this (the sender is not a member of the group, not the sender of a recall, or has all the devices devices.max_per_user allows), or the before_send hook refused the message (its reason in the message). */
        PermissionDenied: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["PermissionDeniedError"];
            };
        };
        /** @description Unknown user, group, message or device. */
        NotFound: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["NotFoundError"];
            };
        };
        /** @description The body is over `message_service.max_body_bytes`. */
        PayloadTooLarge: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["PayloadTooLargeError"];
            };
        };
        /** @description The sender is over its rate limit. */
        ResourceExhausted: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "retry-after": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ResourceExhaustedError"];
            };
        };
        /** @description Redis or MySQL unreachable, ingest overloaded, this process shutting down, or the send not admitted within message_service.request_timeout_ms. Nothing was accepted; safe to retry after Retry-After. One exception, when Redis stopped answering in the middle of a send: the message says the outcome is not known, the send is taken back as soon as Redis answers unless a worker holds it already, and a retry with the same client_msg_id answers the first outcome. */
        Unavailable: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "retry-after": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["UnavailableError"];
            };
        };
        /** @description Anything else; logged with the request id. */
        Internal: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InternalError"];
            };
        };
    };
    parameters: {
        UserIdPath: components["schemas"]["Id"];
        /** @description s:{user_id}:{user_id} (a single chat of the user, either order) or g:{group_id} (a known group). */
        ConversationPath: string;
        GroupIdPath: components["schemas"]["Id"];
        DeviceIdPath: components["schemas"]["DeviceId"];
        MessageIdPath: components["schemas"]["Id"];
        /** @description The `next_cursor` of the previous page, as it came (opaque); none for the first page. A cursor this list did not issue for the same user, group or query is refused with 400 `INVALID_ARGUMENT`, reason `INVALID_CURSOR`. */
        Cursor: string;
    };
    requestBodies: never;
    headers: {
        /** @description The request's id (the caller's `x-request-id` when it sent a valid one); errors are logged with it. */
        RequestId: string;
        /** @description Seconds to wait before sending again; on every 429 and 503. */
        RetryAfter: number;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    sendMessage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SingleSend"];
            };
        };
        responses: {
            /** @description Durably queued; it will be persisted and routed. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SendResult"];
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["PermissionDenied"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["ResourceExhausted"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    sendGroupMessage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["GroupSend"];
            };
        };
        responses: {
            /** @description Durably queued; it will be persisted and fanned out to the members. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SendResult"];
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["PermissionDenied"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["ResourceExhausted"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    sendBatch: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    messages: (components["schemas"]["SingleSend"] | components["schemas"]["GroupSend"] | unknown)[];
                };
            };
        };
        responses: {
            /** @description One result per item, in request order. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        results: (components["schemas"]["SendResult"] | components["schemas"]["Error"])[];
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    recallMessage: {
        parameters: {
            query: {
                /** @description The sender of the message. */
                user_id: components["schemas"]["Id"];
            };
            header?: never;
            path: {
                message_id: components["parameters"]["MessageIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Recalled. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        deleted: true;
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["PermissionDenied"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    pullOfflineMessages: {
        parameters: {
            query?: {
                limit?: number;
                /**
                 * @description The last `message_id` of the previous page, as this call returned it. It acknowledges
                 *     exactly that page: the user's rows whose latest page ended at this id are deleted. An id
                 *     that ended no page (one received online, one inside a page) deletes nothing, so a page
                 *     whose answer was lost comes again; a page may be returned twice, no row is deleted unseen.
                 */
                last_message_id?: components["schemas"]["Id"];
            };
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The next page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        messages: components["schemas"]["OfflineMessage"][];
                        has_more: boolean;
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    acknowledge: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    user_id: components["schemas"]["IdInput"];
                    message_ids: components["schemas"]["IdInput"][];
                    /** @enum {string} */
                    status: "delivered" | "read";
                    /**
                     * @description The device that received or read them (default `default`). Its publishes stop
                     *     waiting for redelivery; a `read` moves the user's cursors and tells the user's
                     *     other devices (a `read` event on user:{id} and in their sync).
                     */
                    device_id?: components["schemas"]["DeviceId"];
                };
            };
        };
        responses: {
            /** @description How many of the messages were acknowledged. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        updated: number;
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    listConversations: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page, as it came (opaque); none for the first page. A cursor this list did not issue for the same user, group or query is refused with 400 `INVALID_ARGUMENT`, reason `INVALID_CURSOR`. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Conversations with their last message and unread count. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        conversations: components["schemas"]["Conversation"][];
                        has_more: boolean;
                        next_cursor: components["schemas"]["NextCursor"];
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    getHistory: {
        parameters: {
            query?: {
                peer_id?: components["schemas"]["Id"];
                group_id?: components["schemas"]["Id"];
                /** @description Only messages with a lower `seq` (the next page down). */
                before_seq?: number;
                limit?: number;
            };
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of history. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        messages: components["schemas"]["Message"][];
                        has_more: boolean;
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["PermissionDenied"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    searchMessages: {
        parameters: {
            query: {
                keyword: string;
                /** @description Milliseconds since the epoch (default 0). */
                start_time?: number;
                /** @description Milliseconds since the epoch (default now); not before start_time. */
                end_time?: number;
                limit?: number;
                /** @description The `next_cursor` of the previous page, as it came (opaque); none for the first page. A cursor this list did not issue for the same user, group or query is refused with 400 `INVALID_ARGUMENT`, reason `INVALID_CURSOR`. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Matching messages, newest first (by time, then `message_id`), a page at a time. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        messages: components["schemas"]["Message"][];
                        has_more: boolean;
                        next_cursor: components["schemas"]["NextCursor"];
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    setPresence: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    gateway_id: components["schemas"]["GatewayId"];
                    /** @default 60 */
                    ttl_s?: number;
                    device_id?: components["schemas"]["DeviceId"];
                    platform?: components["schemas"]["Platform"];
                };
            };
        };
        responses: {
            /** @description Presence set. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["PermissionDenied"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    clearPresence: {
        parameters: {
            query?: {
                gateway_id?: components["schemas"]["GatewayId"];
                device_id?: components["schemas"]["DeviceId"];
            };
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Presence removed (or it named another gateway, or there was none). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    listDevices: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The devices, by device_id. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        devices: components["schemas"]["Device"][];
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    removeDevice: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
                device_id: components["parameters"]["DeviceIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The device is forgotten. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    syncDevice: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `cursor` of the previous answer (none on the first call). */
                cursor?: components["schemas"]["Id"];
            };
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
                device_id: components["parameters"]["DeviceIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The next page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["SyncItem"][];
                        /** @description Pass it with the next call to confirm this page; null when the page is empty. */
                        cursor: components["schemas"]["Id"] | null;
                        has_more: boolean;
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["PermissionDenied"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    upsertUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: components["schemas"]["Name"];
                };
            };
        };
        responses: {
            /** @description Stored. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    setPushToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
                device_id: components["parameters"]["DeviceIdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    platform: "fcm" | "apns" | "webhook";
                    /** @description The provider token (printable ASCII, no spaces). */
                    token: string;
                };
            };
        };
        responses: {
            /** @description Stored. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    removePushToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
                device_id: components["parameters"]["DeviceIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed (or there was none). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    muteConversation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
                /** @description s:{user_id}:{user_id} (a single chat of the user, either order) or g:{group_id} (a known group). */
                conversation: components["parameters"]["ConversationPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Muted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    unmuteConversation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
                /** @description s:{user_id}:{user_id} (a single chat of the user, either order) or g:{group_id} (a known group). */
                conversation: components["parameters"]["ConversationPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unmuted (or it was not muted). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    upsertGroup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                group_id: components["parameters"]["GroupIdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: components["schemas"]["Name"];
                };
            };
        };
        responses: {
            /** @description Stored. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    listGroupMembers: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page, as it came (opaque); none for the first page. A cursor this list did not issue for the same user, group or query is refused with 400 `INVALID_ARGUMENT`, reason `INVALID_CURSOR`. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path: {
                group_id: components["parameters"]["GroupIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Member user ids. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        members: components["schemas"]["Id"][];
                        has_more: boolean;
                        next_cursor: components["schemas"]["NextCursor"];
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    changeGroupMembers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                group_id: components["parameters"]["GroupIdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    add?: components["schemas"]["IdInput"][];
                    remove?: components["schemas"]["IdInput"][];
                };
            };
        };
        responses: {
            /** @description The group's member count after the change. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        member_count: number;
                    };
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    broadcastNotification: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    content: components["schemas"]["Content"];
                };
            };
        };
        responses: {
            /** @description Published. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            400: components["responses"]["InvalidArgument"];
            401: components["responses"]["Unauthenticated"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process runs. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ok";
                    };
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process can take traffic. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ready";
                    };
                };
            };
            /** @description The process is starting, shutting down, or holds no message-id node (named in `reasons`). */
            503: {
                headers: {
                    "retry-after": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "unavailable";
                        reasons: ("starting" | "draining" | "id_lease")[];
                    } | components["schemas"]["UnavailableError"];
                };
            };
        };
    };
    dependencies: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every backing service answers. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ok";
                        dependencies: components["schemas"]["DependencyStates"];
                    };
                };
            };
            /** @description A backing service does not answer (named in `failed`), or the process is shutting down. */
            503: {
                headers: {
                    "retry-after": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "unavailable";
                        failed: ("redis" | "mysql")[];
                        dependencies: components["schemas"]["DependencyStates"];
                    } | components["schemas"]["UnavailableError"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format (contract section 7). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        openapi: string;
                        info: Record<string, never>;
                        paths: Record<string, never>;
                    };
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    docs: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page; its scripts and styles are served below /docs/ by ingest-api itself. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    pushWebhook: {
        parameters: {
            query?: never;
            header: {
                "X-IM-Timestamp": string;
                "X-IM-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PushWebhook"];
            };
        };
        responses: {
            /** @description Accepted. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The token is unknown here: it is removed. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not now: retried with the backoff, never sooner than `Retry-After`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    beforeSendHook: {
        parameters: {
            query?: never;
            header: {
                "X-IM-Timestamp": string;
                "X-IM-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BeforeSendRequest"];
            };
        };
        responses: {
            /** @description The verdicts. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BeforeSendAnswer"];
                };
            };
        };
    };
    afterSendEvent: {
        parameters: {
            query?: never;
            header: {
                "X-IM-Timestamp": string;
                "X-IM-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AfterSendEvent"];
            };
        };
        responses: {
            /** @description Taken. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    afterRecallEvent: {
        parameters: {
            query?: never;
            header: {
                "X-IM-Timestamp": string;
                "X-IM-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AfterRecallEvent"];
            };
        };
        responses: {
            /** @description Taken. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
