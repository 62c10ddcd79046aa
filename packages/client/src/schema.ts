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
        /** A user's conversations, most recent first */
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
        /** Search the conversations a user is in */
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
         * Heartbeat: the user is connected to this gateway
         * @description Sets `im:presence:{user_id}` to `gateway_id` for `ttl_s` seconds.
         */
        put: operations["setPresence"];
        post?: never;
        /**
         * The user disconnected
         * @description Removes the user's presence. With `gateway_id`, only while the presence still names that
         *     gateway (a late disconnect from an old gateway does not undo a newer connection).
         */
        delete: operations["clearPresence"];
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
        /** A group's members */
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
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description A positive integer below 2^63, as a decimal string.
         * @example 9007199254740993
         */
        Id: string;
        /** @description An id in a request, as a decimal string or a safe JSON integer. */
        IdInput: components["schemas"]["Id"] | number;
        GatewayId: string;
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
        };
        GroupSend: {
            sender_id: components["schemas"]["IdInput"];
            group_id: components["schemas"]["IdInput"];
            content: components["schemas"]["Content"];
            message_type?: components["schemas"]["MessageType"];
            client_msg_id?: components["schemas"]["ClientMsgId"];
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
                /** @description What was wrong and what is allowed, for a person to act on. */
                message: string;
            };
        };
        InvalidArgumentError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "INVALID_ARGUMENT";
            };
        };
        UnauthenticatedError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "UNAUTHENTICATED";
            };
        };
        PermissionDeniedError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "PERMISSION_DENIED";
            };
        };
        NotFoundError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "NOT_FOUND";
            };
        };
        PayloadTooLargeError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "PAYLOAD_TOO_LARGE";
            };
        };
        ResourceExhaustedError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "RESOURCE_EXHAUSTED";
            };
        };
        UnavailableError: components["schemas"]["Error"] & {
            error?: {
                /** @constant */
                code?: "UNAVAILABLE";
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
        /** @description The user may not do this (e.g. the sender is not a member of the group). */
        PermissionDenied: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["PermissionDeniedError"];
            };
        };
        /** @description Unknown user, group or message. */
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
        GroupIdPath: components["schemas"]["Id"];
        MessageIdPath: components["schemas"]["Id"];
    };
    requestBodies: never;
    headers: {
        /** @description The request's id (the caller's `x-request-id` when it sent a valid one); errors are logged with it. */
        RequestId: string;
        /** @description Seconds to wait before sending again. */
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
            };
            header?: never;
            path: {
                user_id: components["parameters"]["UserIdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Matching messages, newest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        messages: components["schemas"]["Message"][];
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
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    clearPresence: {
        parameters: {
            query?: {
                gateway_id?: components["schemas"]["GatewayId"];
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
            query?: never;
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
}
