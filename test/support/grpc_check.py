"""The gRPC API from Python's grpcio, a client in another language than the server.

Discovers the services by server reflection, builds the message classes from the descriptors the
server returns (no generated code of the API), checks grpc.health.v1, then calls every RPC of
im.message.v1 and the seed's mpim protocol and checks the answers and the errors (status code
and the im-error-code trailer). Run by test/e2e/grpc-v1.test.ts against a real fleet:

  GRPC_TARGET=127.0.0.1:6001 GRPC_TOKEN=... USER_BASE=<id> PROTO_DIR=... HEALTH_PROTO_DIR=... \
    python3 grpc_check.py

Prints "ok: N checks" and exits 0, or names the first check that failed and exits 1.
Needs grpcio, protobuf and protoc (Debian: python3-grpcio python3-protobuf protobuf-compiler).
"""
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

TARGET = os.environ["GRPC_TARGET"]
TOKEN = os.environ["GRPC_TOKEN"]
BASE = int(os.environ["USER_BASE"])
V1 = "im.message.v1.MessageService"
LEGACY = "mpim.MessageService"
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1


def compile_protos(out):
    """grpc.health.v1 and grpc.reflection.v1 message classes (the only generated code used here)."""
    reflection_dir = os.path.join(os.environ["PROTO_DIR"], "..", "node_modules", "@grpc", "reflection", "build", "proto")
    health_dir = os.environ["HEALTH_PROTO_DIR"]
    subprocess.run(["protoc", f"-I{reflection_dir}", f"--python_out={out}", "grpc/reflection/v1/reflection.proto"], check=True)
    subprocess.run(["protoc", f"-I{health_dir}", f"--python_out={out}", "health/v1/health.proto"], check=True)


def load(path, name):
    """A generated module by its file (grpc/reflection/... would collide with the grpc package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def message_class(pool, name):
    desc = pool.FindMessageTypeByName(name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


class Service:
    """Calls the methods of one service by name, with dicts in and out (int64 as decimal strings)."""

    def __init__(self, channel, pool, name):
        self.service = pool.FindServiceByName(name)
        self.pool = pool
        self.channel = channel
        self.name = name

    def __call__(self, method, request, token=TOKEN):
        m = self.service.methods_by_name[method]
        req_cls = message_class(self.pool, m.input_type.full_name)
        res_cls = message_class(self.pool, m.output_type.full_name)
        call = self.channel.unary_unary(f"/{self.name}/{method}", request_serializer=req_cls.SerializeToString, response_deserializer=res_cls.FromString)
        metadata = [("authorization", f"Bearer {token}")] if token else []
        res = call(json_format.ParseDict(request, req_cls()), metadata=metadata, timeout=10)
        return json_format.MessageToDict(res, preserving_proto_field_name=True, including_default_value_fields=True)

    def fails(self, method, request, code, token=TOKEN):
        try:
            self(method, request, token)
        except grpc.RpcError as e:
            check(e.code() == code, f"{self.name}/{method} {request}: {code.name} expected, got {e.code().name}: {e.details()}")
            trailers = dict(e.trailing_metadata() or ())
            check("im-error-code" in trailers and "im-error-reason" in trailers, f"{method}: im-error-code and im-error-reason trailers ({trailers})")
            return e
        check(False, f"{self.name}/{method} {request}: {code.name} expected, the call succeeded")


def wait_for(what, fn, seconds=15):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    check(False, f"timed out waiting for {what}")


def main():
    out = tempfile.mkdtemp(prefix="grpc-check-")
    compile_protos(out)
    reflection_pb2 = load(os.path.join(out, "grpc", "reflection", "v1", "reflection_pb2.py"), "reflection_pb2")
    health_pb2 = load(os.path.join(out, "health", "v1", "health_pb2.py"), "health_pb2")

    channel = grpc.insecure_channel(TARGET)

    # Health: the whole server and each service.
    check_health = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=health_pb2.HealthCheckRequest.SerializeToString, response_deserializer=health_pb2.HealthCheckResponse.FromString)
    for name in ("", V1, LEGACY):
        check(check_health(health_pb2.HealthCheckRequest(service=name), timeout=10).status == health_pb2.HealthCheckResponse.SERVING, f"health {name!r} SERVING")

    # Reflection: list the services, then fetch the file that defines each.
    info = channel.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString, response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    listed = next(info(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10))
    names = {s.name for s in listed.list_services_response.service}
    for name in (V1, LEGACY, "grpc.health.v1.Health"):
        check(name in names, f"reflection lists {name} (got {sorted(names)})")
    pool = descriptor_pool.DescriptorPool()
    for symbol in (V1, LEGACY):
        res = next(info(iter([reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)]), timeout=10))
        for raw in res.file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            try:
                pool.Add(fd)
            except TypeError:
                pass  # already added
    check(pool.FindFileContainingSymbol(V1).package == "im.message.v1", "v1 package")

    v1 = Service(channel, pool, V1)
    legacy = Service(channel, pool, LEGACY)
    ann, bob, cid, grp = (str(BASE + n) for n in (1, 2, 3, 50))

    # Directory.
    for uid, name in ((ann, "ann"), (bob, "bob"), (cid, "cid")):
        check(v1("UpsertUser", {"user_id": uid, "name": name}) == {}, "UpsertUser")
    v1("UpsertGroup", {"group_id": grp, "name": "py group"})
    check(v1("ChangeGroupMembers", {"group_id": grp, "add": [ann, bob, cid]})["member_count"] == 3, "ChangeGroupMembers")
    check(sorted(v1("ListGroupMembers", {"group_id": grp})["members"]) == sorted([ann, bob, cid]), "ListGroupMembers: int64 ids above 2^53 exact")
    page1 = v1("ListGroupMembers", {"group_id": grp, "limit": 2})
    page2 = v1("ListGroupMembers", {"group_id": grp, "limit": 2, "cursor": page1["next_cursor"]})
    check(page1["has_more"] and not page2["has_more"] and page2["next_cursor"] == "", f"member pages {page1} {page2}")
    check(sorted(page1["members"] + page2["members"]) == sorted([ann, bob, cid]), "member pages cover the group once")
    v1.fails("UpsertUser", {"user_id": ann, "name": ""}, grpc.StatusCode.INVALID_ARGUMENT)
    v1.fails("ListGroupMembers", {"group_id": grp}, grpc.StatusCode.UNAUTHENTICATED, token=None)

    # Sends.
    first = v1("SendMessage", {"sender_id": ann, "receiver_id": bob, "content": "from Python 🐍 你好", "client_msg_id": "py-1"})["sent"]
    check(first["seq"] == "1", f"first seq 1 (got {first})")
    check(v1("SendMessage", {"sender_id": ann, "receiver_id": bob, "content": "from Python 🐍 你好", "client_msg_id": "py-1"})["sent"] == first, "dedupe by client_msg_id")
    grp_sent = v1("SendGroupMessage", {"sender_id": ann, "group_id": grp, "content": "py group hello", "message_type": "MESSAGE_TYPE_FILE"})["sent"]
    batch = v1("SendBatch", {"messages": [{"sender_id": bob, "receiver_id": ann, "content": "py batch"}, {"sender_id": bob, "receiver_id": ann, "content": ""}]})["results"]
    check("sent" in batch[0] and batch[1]["error"]["code"] == "INVALID_ARGUMENT", f"batch outcomes {batch}")
    v1.fails("SendMessage", {"sender_id": ann, "receiver_id": bob, "content": "x" * 4097}, grpc.StatusCode.INVALID_ARGUMENT)
    missing = v1.fails("SendMessage", {"sender_id": ann, "receiver_id": str(BASE + 99), "content": "x"}, grpc.StatusCode.NOT_FOUND)
    check(dict(missing.trailing_metadata())["im-error-reason"] == "UNKNOWN_USER", "reason UNKNOWN_USER")

    # Inbox.
    page = wait_for("two offline messages for bob", lambda: (lambda p: p if len(p["messages"]) == 2 else None)(v1("PullOfflineMessages", {"user_id": bob})))
    check([m["message_id"] for m in page["messages"]] == [first["message_id"], grp_sent["message_id"]], "pull order")
    check(page["messages"][0]["content"] == "from Python 🐍 你好" and page["messages"][1]["message_type"] == "MESSAGE_TYPE_FILE", "pulled content and type")
    check(v1("AckMessages", {"user_id": bob, "message_ids": [first["message_id"]], "status": "ACK_STATUS_READ"})["updated"] == 1, "AckMessages read")
    v1.fails("AckMessages", {"user_id": bob, "message_ids": [first["message_id"]]}, grpc.StatusCode.INVALID_ARGUMENT)

    # Read side.
    hist = wait_for("history with ann", lambda: (lambda h: h if len(h["messages"]) == 2 else None)(v1("GetHistory", {"user_id": bob, "peer_id": ann})))
    check([m["status"] for m in hist["messages"]] == ["MESSAGE_STATUS_SENT", "MESSAGE_STATUS_READ"], f"statuses {hist}")
    convs = v1("ListConversations", {"user_id": bob})["conversations"]
    check({c["peer_id"] for c in convs} >= {ann} and any(c["group_id"] == grp for c in convs), f"conversations {convs}")
    check([m["message_id"] for m in v1("SearchMessages", {"user_id": bob, "keyword": "🐍"})["messages"]] == [first["message_id"]], "search")
    v1.fails("GetHistory", {"user_id": bob}, grpc.StatusCode.INVALID_ARGUMENT)
    v1.fails("RecallMessage", {"message_id": first["message_id"], "user_id": bob}, grpc.StatusCode.PERMISSION_DENIED)
    check(v1("RecallMessage", {"message_id": first["message_id"], "user_id": ann}) == {"deleted": True}, "recall")

    # Devices and their sync.
    check(v1("SetPresence", {"user_id": cid, "gateway_id": "py-gw", "device_id": "py-phone", "platform": "android"}) == {}, "SetPresence of a device")
    phone = [d for d in v1("ListDevices", {"user_id": cid})["devices"] if d["device_id"] == "py-phone"]
    check(phone and phone[0]["online"] and phone[0]["platform"] == "android", f"ListDevices {phone}")
    v1("SyncDevice", {"user_id": cid, "device_id": "py-tablet"})
    note = v1("SendMessage", {"sender_id": ann, "receiver_id": cid, "content": "to the tablet"})["sent"]
    synced = wait_for("the tablet's sync", lambda: (lambda p: p if any(i.get("message", {}).get("message", {}).get("message_id") == note["message_id"] for i in p["items"]) else None)(v1("SyncDevice", {"user_id": cid, "device_id": "py-tablet"})))
    check(synced["cursor"] == synced["items"][-1]["id"], "sync cursor is the last item's id")
    check(v1("RemoveDevice", {"user_id": cid, "device_id": "py-tablet"}) == {}, "RemoveDevice")
    v1.fails("RemoveDevice", {"user_id": cid, "device_id": "py-tablet"}, grpc.StatusCode.NOT_FOUND)

    # Presence and notifications.
    check(v1("SetPresence", {"user_id": cid, "gateway_id": "py-gw", "ttl_s": 30}) == {}, "SetPresence")
    check(v1("ClearPresence", {"user_id": cid, "gateway_id": "py-gw"}) == {}, "ClearPresence")
    v1.fails("SetPresence", {"user_id": cid, "gateway_id": ""}, grpc.StatusCode.INVALID_ARGUMENT)
    check(v1("PublishNotification", {"content": "py notice"}) == {}, "PublishNotification")

    # The seed's protocol, still served.
    old = legacy("SendMessage", {"sender_id": cid, "receiver_id": ann, "content": "seed protocol", "message_type": "VOICE"})
    check(old["result"] == {"code": 0, "msg": "OK"} and old["seq"] == str(int(note["seq"]) + 1), f"mpim SendMessage continues the conversation's seq {old}")
    mine = lambda p: next((m for m in p["messages"] if m["message_id"] == old["message_id"]), None)  # noqa: E731
    pulled = wait_for("the seed-protocol message for ann", lambda: mine(legacy("PullOfflineMessage", {"user_id": ann})))
    check(pulled["message_type"] == "VOICE" and pulled["sender_name"] == "cid" and pulled["id"] == old["message_id"], f"mpim pull {pulled}")
    legacy.fails("PullOfflineMessage", {"user_id": "0"}, grpc.StatusCode.INVALID_ARGUMENT)

    channel.close()
    print(f"ok: {checks} checks")


if __name__ == "__main__":
    main()
