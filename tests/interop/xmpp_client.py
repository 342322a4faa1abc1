#!/usr/bin/python3
"""A real XMPP client (slixmpp) for the interop lab: log in as one user, send a chat
message to another JID and wait for a message back, or wait for a message and answer.

    xmpp_client.py send JID PASSWORD ADDRESS CA TO BODY   -> waits for a reply, prints it
    xmpp_client.py echo JID PASSWORD ADDRESS CA           -> answers the first message
Exits 0 on success, 1 on timeout.
"""
import asyncio
import sys

import slixmpp

TIMEOUT = 20


class client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca):
        super().__init__(jid, password)
        self.ca_certs = ca
        self.done = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda _: self.finish("login failed"))
        self.mode = None

    def finish(self, result):
        if not self.done.done():
            self.done.set_result(result)

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        if self.mode == "send":
            self.send_message(mto=self.to, mbody=self.body, mtype="chat")
        else:
            print("ready", flush=True)

    def on_message(self, msg):
        if msg["type"] == "error":
            self.finish("error: " + str(msg["error"]["condition"]))
        elif msg["type"] in ("chat", "normal"):
            if self.mode == "echo":
                msg.reply("echo: " + msg["body"]).send()
            self.finish(msg["body"])


def main():
    mode, jid, password, address, ca = sys.argv[1:6]
    xmpp = client(jid, password, ca)
    xmpp.mode = mode
    if mode == "send":
        xmpp.to, xmpp.body = sys.argv[6], sys.argv[7]
    xmpp.connect((address, 5222))
    loop = asyncio.get_event_loop()
    try:
        result = loop.run_until_complete(asyncio.wait_for(xmpp.done, TIMEOUT))
    except asyncio.TimeoutError:
        print("timeout", flush=True)
        return 1
    print(result, flush=True)
    xmpp.disconnect()
    return 0 if not result.startswith(("error", "login failed")) else 1


if __name__ == "__main__":
    sys.exit(main())
