#!/usr/bin/python3
"""Chat as one of the demo's users (scripts/demo), from inside its network namespace:

    ip netns exec fedgate-demo /usr/bin/python3 demo_chat.py alice|bob [MESSAGE]

alice@contoso.test (behind fedgate) writes to bob@fabrikam.test (the partner), and bob
to alice. Without MESSAGE each line typed is sent, and every message that arrives is
printed, until end of input (Ctrl-D) or Ctrl-C. With MESSAGE it is sent once and the
client waits for one answer (XMPP_CLIENT_TIMEOUT seconds, default 20).
Exits 0, or 1 when the login fails or no answer came.

Run by /usr/bin/python3, Debian's, which has python3-slixmpp (another python3 first
on PATH may not). The client is xmpp_client.py's, with a chat of its own.
"""
import asyncio
import logging
import os
import sys

# Before slixmpp is imported: its warnings (and asyncio's at exit) are not the conversation's.
logging.basicConfig(level=logging.ERROR)
logging.getLogger("asyncio").setLevel(logging.CRITICAL)
import xmpp_client  # noqa: E402

DEMO_DIR = os.environ.get("FEDGATE_DEMO_DIR", "/var/tmp/fedgate-demo")
# As tests/interop/demo.sh registers them: JID, password, c2s address, the other user.
USERS = {
    "alice": ("alice@contoso.test", "alicepass", "127.0.0.10", "bob@fabrikam.test"),
    "bob": ("bob@fabrikam.test", "bobpass", "127.0.0.20", "alice@contoso.test"),
}


class chat(xmpp_client.client):
    def __init__(self, jid, password, ca, to, message):
        super().__init__(jid, password, ca)
        self.to, self.message = to, message

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        if self.message is not None:
            print("logged in as %s; to %s: %s" % (self.boundjid.bare, self.to, self.message), flush=True)
            self.send_message(mto=self.to, mbody=self.message, mtype="chat")
            return
        print("logged in as %s; each line you type goes to %s (Ctrl-D ends)" % (self.boundjid.bare, self.to),
              flush=True)
        loop = asyncio.get_event_loop()
        while True:
            # In a thread: a terminal, a pipe or a file alike.
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if line.strip():
                self.send_message(mto=self.to, mbody=line.rstrip("\n"), mtype="chat")
        await asyncio.sleep(2)  # what was just written may still be answered
        self.finish("end of input")

    def on_message(self, msg):
        sender = msg["from"].bare
        if msg["type"] == "error":
            print("error from %s: %s" % (sender, msg["error"]["condition"]), flush=True)
            if self.message is not None:
                self.finish("error")
        elif msg["type"] in ("chat", "normal"):
            print("%s: %s" % (sender, msg["body"]), flush=True)
            if self.message is not None and sender == self.to:
                self.finish("answered")


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in USERS:
        print("usage: demo_chat.py alice|bob [MESSAGE]", file=sys.stderr)
        return 2
    jid, password, address, to = USERS[sys.argv[1]]
    ca = os.path.join(DEMO_DIR, "pki", "ca.crt")
    if not os.path.exists(ca):
        print("demo_chat.py: %s is missing: is the demo running (scripts/demo)?" % ca, file=sys.stderr)
        return 1
    xmpp = chat(jid, password, ca, to, sys.argv[2] if len(sys.argv) == 3 else None)
    xmpp.connect((address, 5222))
    loop = asyncio.get_event_loop()
    timeout = xmpp_client.TIMEOUT if xmpp.message is not None else None
    try:
        result = loop.run_until_complete(asyncio.wait_for(xmpp.done, timeout))
    except asyncio.TimeoutError:
        result = "no answer"
    except KeyboardInterrupt:
        result = "interrupted"
    if result == "login failed":
        print(result, file=sys.stderr)
    elif result == "no answer":  # Prosody keeps a message for a user who is offline
        print("no answer within %g s (is %s logged in?)" % (timeout, xmpp.to), file=sys.stderr)
    xmpp.disconnect()
    try:  # let what was sent last leave before the process ends
        loop.run_until_complete(asyncio.wait_for(xmpp.disconnected, 5))
    except (asyncio.TimeoutError, Exception):
        pass
    rc = 1 if result in ("login failed", "no answer", "error") else 0
    if result == "interrupted":  # not waiting for the thread that reads a line nobody types
        sys.stdout.flush()
        os._exit(rc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
