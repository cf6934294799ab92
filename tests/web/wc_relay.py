"""A local WalletConnect v2 relay for the browser tests (the public relay is unreachable here):
a websocket server speaking the relay's JSON-RPC as ``@walletconnect/core`` uses it.

- ``irn_subscribe`` / ``irn_batchSubscribe``: the client's topics; answered with the
  subscription id the client computes itself (sha256 of topic + its did:key, the JWT's ``iss``);
  messages already published on the topic are delivered at once (the relay's mailbox).
- ``irn_publish`` / ``irn_batchPublish``: stored, and forwarded to every other subscriber as
  ``irn_subscription`` requests (the client acks each with ``true``).
- ``wc_proposeSession`` (the proposal on the pairing topic) and ``wc_approveSession`` (the
  answer on the pairing topic, the settlement on the new session topic): the publishes the
  sign client folds into one call since 2.2x; each also subscribes its sender (the proposer to
  the pairing topic, the wallet to the session topic), as the client expects.
- ``irn_unsubscribe`` / ``irn_batchUnsubscribe``, ``irn_batchFetchMessages`` (nothing more than
  what subscribe delivered).

The auth JWT (query ``auth``) is decoded for its ``iss`` but its signature and issuer are not
checked. ``methods`` counts each method received, for the tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

# sign-client tags of the messages the folded methods carry (wc_sessionPropose and its reply,
# wc_sessionSettle)
PROPOSE_TAG, PROPOSE_REPLY_TAG, SETTLE_TAG = 1100, 1101, 1102


def client_id(jwt: str) -> str:
    """The ``iss`` of the relay auth JWT (the client's did:key), unverified."""
    try:
        body = jwt.split(".")[1]
        return str(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["iss"])
    except (IndexError, KeyError, ValueError):
        return ""


@dataclass
class Client:
    ws: web.WebSocketResponse
    did: str
    topics: set[str] = field(default_factory=set)
    next_id: int = 1

    def subscription_id(self, topic: str) -> str:
        return hashlib.sha256((topic + self.did).encode()).hexdigest()


@dataclass
class Relay:
    clients: list[Client] = field(default_factory=list)
    mailbox: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    methods: Counter[str] = field(default_factory=Counter)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.connect)
        return app

    async def connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=10)
        await ws.prepare(request)
        me = Client(ws, client_id(request.query.get("auth", "")))
        self.clients.append(me)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self.on_message(me, json.loads(msg.data))
        finally:
            self.clients.remove(me)
        return ws

    async def on_message(self, me: Client, msg: dict[str, Any]) -> None:
        if "method" not in msg:  # an ack of an irn_subscription we sent
            return
        method, params, rid = msg["method"], msg.get("params") or {}, msg.get("id")
        self.methods[method] += 1
        result: Any = True
        if method == "irn_subscribe":
            result = await self.subscribe(me, params["topic"])
        elif method == "irn_batchSubscribe":
            result = [await self.subscribe(me, t) for t in params["topics"]]
        elif method in ("irn_unsubscribe", "irn_batchUnsubscribe"):
            for sub in params.get("subscriptions") or [params]:
                me.topics.discard(sub["topic"])
        elif method == "irn_batchFetchMessages":
            result = {"messages": [], "hasMore": False}
        elif method == "irn_publish":
            await self.publish(me, params["topic"], params["message"], params.get("tag", 0))
        elif method == "irn_batchPublish":
            for m in params["messages"]:
                await self.publish(me, m["topic"], m["message"], m.get("tag", 0))
        elif method == "wc_proposeSession":  # the proposer now listens on the pairing topic
            me.topics.add(params["pairingTopic"])
            await self.publish(me, params["pairingTopic"], params["sessionProposal"], PROPOSE_TAG)
        elif method == "wc_approveSession":  # the wallet now listens on the session topic
            me.topics.add(params["sessionTopic"])
            await self.publish(me, params["pairingTopic"], params["sessionProposalResponse"],
                               PROPOSE_REPLY_TAG)
            await self.publish(me, params["sessionTopic"], params["sessionSettlementRequest"],
                               SETTLE_TAG)
        else:
            await me.ws.send_json({"jsonrpc": "2.0", "id": rid,
                                   "error": {"code": -32601, "message": f"unknown {method}"}})
            return
        await me.ws.send_json({"jsonrpc": "2.0", "id": rid, "result": result})

    async def subscribe(self, me: Client, topic: str) -> str:
        me.topics.add(topic)
        for data in self.mailbox[topic]:
            if data["sender"] is not me:
                await self.deliver(me, data)
        return me.subscription_id(topic)

    async def publish(self, me: Client, topic: str, message: str, tag: int) -> None:
        data = {"topic": topic, "message": message, "publishedAt": int(time.time() * 1000),
                "tag": tag, "sender": me}
        self.mailbox[topic].append(data)
        for other in self.clients:
            if other is not me and topic in other.topics:
                await self.deliver(other, data)

    async def deliver(self, to: Client, data: dict[str, Any]) -> None:
        to.next_id += 1
        body = {k: v for k, v in data.items() if k != "sender"}
        await to.ws.send_json({"jsonrpc": "2.0", "id": int(time.time() * 1000) * 1000 + to.next_id,
                               "method": "irn_subscription",
                               "params": {"id": to.subscription_id(data["topic"]), "data": body}})
