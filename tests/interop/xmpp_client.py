#!/usr/bin/python3
"""A real XMPP client (slixmpp) for the interop lab: log in as one user, send a chat
message to another JID and wait for a message back, or wait for a message and answer.

    xmpp_client.py send JID PASSWORD ADDRESS CA TO BODY   -> waits for a reply, prints it
    xmpp_client.py echo JID PASSWORD ADDRESS CA           -> answers the first message
    xmpp_client.py subscribe JID PASSWORD ADDRESS CA TO   -> asks for TO's presence and
        waits until TO accepted and its presence arrived
    xmpp_client.py accept JID PASSWORD ADDRESS CA         -> accepts a subscription
        request (and asks back), waits for the requester's presence
    xmpp_client.py burst JID PASSWORD ADDRESS CA TO COUNT -> sends COUNT messages to TO,
        waits for an answer (message or error) to each, prints the count by kind
    xmpp_client.py flood JID PASSWORD ADDRESS CA TO COUNT -> sends COUNT messages to TO
        (ids burst0...), then counts the errors that come back until the timeout
        (XMPP_CLIENT_FLOOD_INTERVAL, when set: seconds between two of them; all at once otherwise)
    xmpp_client.py collect JID PASSWORD ADDRESS CA COUNT  -> logs in (offline messages
        arrive), counts the messages with ids burst0... until COUNT distinct ones came
Exits 0 on success, 1 on timeout.
XMPP_CLIENT_CONDITIONS, when set, names more stanza error conditions (spaces
between) that slixmpp is to know: 1.8.3 knows RFC 3920's only, and reads any other,
such as <policy-violation/>, as ''.
XMPP_CLIENT_EXPECT_FILE, when set, names a file that flood and collect watch: once it
holds a number N and N answers came (flood: errors; collect: messages), they end
early, printing what they would at the timeout (collect without "timeout with").
XMPP_CLIENT_ANSWERS_FILE, when set, names a file where flood and collect write, as they
end, one line per id that came back: the id, then what came for it in order (received,
or an error condition; '' for one slixmpp does not know).
"""
import asyncio
import os
import sys

import slixmpp

TIMEOUT = float(os.environ.get("XMPP_CLIENT_TIMEOUT", "20"))
FLOOD_INTERVAL = float(os.environ.get("XMPP_CLIENT_FLOOD_INTERVAL", "0"))
if os.environ.get("XMPP_CLIENT_CONDITIONS"):
    from slixmpp.stanza.error import Error
    Error.conditions.update(os.environ["XMPP_CLIENT_CONDITIONS"].split())


class client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca):
        super().__init__(jid, password)
        self.ca_certs = ca
        self.done = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        # slixmpp's "message" is only for messages with a body: Prosody's error
        # replies carry none (fedgate's bounces keep the original body).
        self.add_event_handler("message_error", lambda msg: None if msg["body"] else self.on_message(msg))
        self.add_event_handler("failed_auth", lambda _: self.finish("login failed"))
        self.add_event_handler("presence_subscribed", self.on_subscribed)
        self.add_event_handler("presence_available", self.on_available)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.mode = None
        self.accepted = False
        self.asked_back = False
        self.seen = False
        self.to = None
        self.count = 0
        self.answers = {}  # message id -> "delivered" or the error condition

    def finish(self, result):
        if not self.done.done():
            self.done.set_result(result)

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        if self.mode == "send":
            self.send_message(mto=self.to, mbody=self.body, mtype="chat")
        elif self.mode in ("burst", "flood"):
            for i in range(self.count):
                m = self.make_message(mto=self.to, mbody="burst %d" % i, mtype="chat")
                m["id"] = "burst%d" % i
                m.send()
                if self.mode == "flood" and FLOOD_INTERVAL > 0 and i + 1 < self.count:
                    await asyncio.sleep(FLOOD_INTERVAL)
        elif self.mode == "subscribe":
            self.send_presence(pto=self.to, ptype="subscribe")
        else:
            print("ready", flush=True)

    def on_subscribed(self, presence):
        if self.mode == "subscribe" and presence["from"].bare == self.to:
            self.accepted = True
            self.check_subscribed()

    def on_subscribe(self, presence):
        # The contact asks back; answer explicitly, so that the answer is sent
        # before this client may finish (slixmpp's auto_authorize answers too).
        if self.mode == "subscribe" and presence["from"].bare == self.to:
            self.send_presence(pto=self.to, ptype="subscribed")
            self.asked_back = True
            self.check_subscribed()

    def check_subscribed(self):
        if self.accepted and self.asked_back and self.seen:
            self.finish("subscribed, and presence received from " + self.to)

    def on_available(self, presence):
        # slixmpp accepts requests and asks back by itself (auto_authorize,
        # auto_subscribe): presence from the other side means both ways work.
        sender = presence["from"].bare
        if sender == self.boundjid.bare:
            return
        if self.mode == "subscribe" and sender == self.to:
            self.seen = True
            self.check_subscribed()
        elif self.mode == "accept":
            self.finish("accepted, and presence received from " + sender)

    def on_message(self, msg):
        if self.mode in ("flood", "collect"):
            if msg["id"].startswith("burst"):
                kind = str(msg["error"]["condition"]) if msg["type"] == "error" else "received"
                self.answers.setdefault(msg["id"], []).append(kind)
            if self.mode == "collect" and len(self.answers) >= self.count:
                self.finish(self.tally())
            return
        if self.mode == "burst":
            if msg["id"].startswith("burst"):
                self.answers[msg["id"]] = str(msg["error"]["condition"]) if msg["type"] == "error" else "answered"
            if len(self.answers) >= self.count:
                kinds = {}
                for kind in self.answers.values():
                    kinds[kind] = kinds.get(kind, 0) + 1
                self.finish("%d sent, %d answered: %s" % (self.count, len(self.answers), " ".join(
                    "%s=%d" % k for k in sorted(kinds.items()))))
            return
        if msg["type"] == "error":
            self.finish("error: " + str(msg["error"]["condition"]))
        elif msg["type"] in ("chat", "normal"):
            if self.mode == "echo":
                msg.reply("echo: " + msg["body"]).send()
            self.finish(msg["body"])


    def tally(self):
        """'N distinct, D duplicates: kind=n ...' over what came back."""
        kinds = {}
        for seen in self.answers.values():
            kinds[seen[0]] = kinds.get(seen[0], 0) + 1
        duplicates = sum(len(seen) - 1 for seen in self.answers.values())
        return "%d distinct, %d duplicates: %s" % (len(self.answers), duplicates,
                                                  " ".join("%s=%d" % k for k in sorted(kinds.items())) or "none")


async def watch_expected(xmpp, path):
    """Ends flood or collect once the number in `path` (XMPP_CLIENT_EXPECT_FILE) came."""
    while not xmpp.done.done():
        try:
            with open(path) as f:
                expected = int(f.read())
        except (OSError, ValueError):
            expected = None
        if expected is not None and len(xmpp.answers) >= expected:
            xmpp.finish(xmpp.tally() if xmpp.mode == "collect" else
                        "%d sent, errors: %s" % (xmpp.count, xmpp.tally()))
        await asyncio.sleep(0.1)


def write_answers(xmpp):
    """One line per id in XMPP_CLIENT_ANSWERS_FILE, when set (flood, collect)."""
    path = os.environ.get("XMPP_CLIENT_ANSWERS_FILE")
    if path and xmpp.mode in ("flood", "collect"):
        with open(path, "w") as f:
            for id, kinds in sorted(xmpp.answers.items()):
                f.write(" ".join([id] + [kind or "''" for kind in kinds]) + "\n")


def main():
    mode, jid, password, address, ca = sys.argv[1:6]
    xmpp = client(jid, password, ca)
    xmpp.mode = mode
    if mode == "send":
        xmpp.to, xmpp.body = sys.argv[6], sys.argv[7]
    elif mode == "subscribe":
        xmpp.to = sys.argv[6]
    elif mode in ("burst", "flood"):
        xmpp.to, xmpp.count = sys.argv[6], int(sys.argv[7])
    elif mode == "collect":
        xmpp.count = int(sys.argv[6])
    xmpp.connect((address, 5222))
    loop = asyncio.get_event_loop()
    if os.environ.get("XMPP_CLIENT_EXPECT_FILE") and mode in ("flood", "collect"):
        loop.create_task(watch_expected(xmpp, os.environ["XMPP_CLIENT_EXPECT_FILE"]))
    try:
        result = loop.run_until_complete(asyncio.wait_for(xmpp.done, TIMEOUT))
    except asyncio.TimeoutError:
        write_answers(xmpp)
        if mode == "flood":  # the errors that came back in the time given
            print("%d sent, errors: %s" % (xmpp.count, xmpp.tally()), flush=True)
            return 0
        if mode == "collect":
            print("timeout with " + xmpp.tally(), flush=True)
            return 1
        print("timeout" + (" with %d of %d answered" % (len(xmpp.answers), xmpp.count) if mode == "burst" else ""),
              flush=True)
        return 1
    write_answers(xmpp)
    print(result, flush=True)
    xmpp.disconnect()
    try:  # let what was sent last leave before the process ends
        loop.run_until_complete(asyncio.wait_for(xmpp.disconnected, 5))
    except (asyncio.TimeoutError, Exception):
        pass
    return 0 if not result.startswith(("error", "login failed")) else 1


if __name__ == "__main__":
    sys.exit(main())
