"""The ingest connection's MQTT client: aiomqtt's, with its receive path driven straight
from the event loop (issue #18; docs/PERFORMANCE.md, item 10).

aiomqtt keeps what it does well: connecting (in an executor thread), CONNACK and
DISCONNECT, subscribe/unsubscribe/publish and their futures, paho's keepalive (its misc
loop), TLS and the socket's close. Per message it and paho cost several times hazmon's own
work on a 1-reading message, so three things are done here instead:

- **reads**: paho reads a packet with three or more `recv` calls (the command byte, each
  remaining-length byte, the body) and one packet per readable event. `_BufferedRecv`
  stands in for paho's `_sock_recv`: one large `recv`, the packets served from it, and the
  reader runs paho's `loop_read` while whole packets are buffered. Framing, keepalive and
  the handling of every other packet stay paho's.
- **messages**: paho's PUBLISH handler builds an `MQTTMessage` (and for MQTT 5 a
  `Properties` object), logs it, matches topic callbacks under two locks; aiomqtt then
  builds a `Message` and a `Topic`, queues it, and its iterator spends a task and an
  `asyncio.wait` per message. Here a QoS 0/1 PUBLISH becomes one tuple in a list, and the
  consumer takes the list whole (`next_batch`) once per read. Its properties are not
  decoded: hazmon reads none, and the broker sends no topic alias, since the CONNECT
  allows none. QoS 2, and any PUBLISH while paho's logger is at DEBUG, go paho's own way.
- **acks**: paho sends each PUBACK as its own packet and `send`; the QoS 1 acks given in
  one event-loop turn (the sink acknowledges what one write made durable, all at once)
  go out as one write, after that turn. An ack is still only ever sent after it was given.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import aiomqtt
from paho.mqtt import client as paho_client
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

Incoming = tuple[str, bytes, int, int]  # topic, payload, mid, qos

_PUBACK = struct.Struct("!BBH")  # PUBACK, remaining length 2, mid (MQTT 5: reason 0)
_CHUNK = 256 * 1024  # one recv: about 2,000 1-reading messages


class _BufferedRecv:
    """paho's `_sock_recv` (its TLS error mapping included) read in large chunks."""

    __slots__ = ("_buf", "_pos", "_raw")

    def __init__(self, raw: Callable[[int], bytes]) -> None:
        self._raw = raw
        self._buf = b""
        self._pos = 0

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def reset(self) -> None:
        self._buf = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            buf = self._raw(_CHUNK)  # BlockingIOError when nothing is there: paho's "again"
            if not buf:
                return buf  # closed by the broker
            self._buf, pos = buf, 0
        end = min(pos + bufsize, len(buf))
        self._pos = end
        return buf if pos == 0 and end == len(buf) else buf[pos:end]


class IngestClient(aiomqtt.Client):
    """`aiomqtt.Client` for the ingest connection: manual acks, messages by `next_batch`
    (not `messages`), QoS 1 acks by `ack`. Everything else is aiomqtt's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        paho = self._client
        # Without manual acks paho acknowledges a QoS 1 message on arrival: lost if we
        # crashed before it was stored.
        paho.manual_ack_set(True)
        self._inbox: list[Incoming] = []
        self._waiter: asyncio.Future[None] | None = None
        self._acks: list[int] = []
        self._v5 = paho._protocol == MQTTProtocolVersion.MQTTv5
        self._recv = _BufferedRecv(paho._sock_recv)
        self._paho_handle_publish = paho._handle_publish
        # paho calls these through `self`: instance attributes take the place of its methods
        setattr(paho, "_sock_recv", self._recv.recv)  # noqa: B010
        setattr(paho, "_handle_publish", self._handle_publish)  # noqa: B010

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        # However the connection ends (paho's disconnect, a read or write error), a
        # consumer waiting in next_batch wakes up to see it.
        self._disconnected.add_done_callback(lambda _f: self._wake())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._send_acks()  # acks given before the disconnect go before it
        await super().__aexit__(exc_type, exc, tb)

    # --- receiving ---------------------------------------------------------------------

    async def next_batch(self) -> list[Incoming]:
        """The messages that arrived since the last call, in order (waits for one). Raises
        `aiomqtt.MqttError` once disconnected and nothing is left."""
        while not self._inbox:
            if self._disconnected.done():
                raise aiomqtt.MqttError("Disconnected during message iteration") from (
                    self._disconnected.exception())
            waiter = self._loop.create_future()
            self._waiter = waiter
            await waiter
        batch, self._inbox = self._inbox, []
        return batch

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_socket_open(self, client: paho_client.Client, userdata: Any,
                        sock: Any) -> None:
        recv = self._recv
        recv.reset()

        def on_readable() -> None:
            try:
                while True:
                    rc = client.loop_read()
                    if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or client._sock is None:
                        break
                    # TLS may hold decrypted bytes the socket no longer signals (as aiomqtt)
                    pending = getattr(client._sock, "pending", None)
                    if not (recv.buffered or (pending is not None and pending() > 0)):
                        break
            except Exception as exc:  # a broken connection: aiomqtt's own reaction
                if not self._disconnected.done():
                    self._disconnected.set_exception(exc)
            if self._inbox:
                self._wake()

        def create_misc_task() -> None:
            self._misc_task = self._loop.create_task(self._misc_loop())

        # called from the executor thread that runs paho's connect()
        self._loop.call_soon_threadsafe(self._loop.add_reader, sock.fileno(), on_readable)
        self._loop.call_soon_threadsafe(create_misc_task)

    def _handle_publish(self) -> MQTTErrorCode:
        paho = self._client
        header: int = paho._in_packet["command"]
        qos = (header & 0x06) >> 1
        logger = paho._logger
        if qos == 2 or (logger is not None and logger.isEnabledFor(logging.DEBUG)):
            return self._paho_handle_publish()
        self._inbox.append(_decode_publish(header, paho._in_packet["packet"], qos, self._v5))
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _on_message(self, client: paho_client.Client, userdata: Any,
                    message: paho_client.MQTTMessage) -> None:
        """A message paho handled itself (QoS 2, or its DEBUG log on)."""
        topic = bytes(message._topic).decode("utf-8", "replace")
        self._inbox.append((topic, bytes(message.payload), message.mid, message.qos))
        self._wake()

    # --- acknowledging -----------------------------------------------------------------

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message once its data is durable. QoS 1 acks go out together at
        the end of this event-loop turn."""
        if qos == 2:
            self._client.ack(mid, qos)
            return
        acks = self._acks
        if not acks:
            self._loop.call_soon(self._send_acks)
        acks.append(mid)

    def _send_acks(self) -> None:
        mids, self._acks = self._acks, []
        paho = self._client
        if not mids or paho._sock is None:
            return  # disconnected: the broker sends these messages again
        pack = _PUBACK.pack
        data = b"".join([pack(0x40, 2, mid) for mid in mids])
        # one queued packet of several PUBACKs: paho's writer handles partial sends
        paho._packet_queue(paho_client.PUBACK, data, 0, 0)


def _decode_publish(header: int, packet: bytes | bytearray, qos: int,
                    v5: bool) -> Incoming:
    """Topic, payload, message id and QoS of a PUBLISH (after its fixed header)."""
    try:
        n = packet[0] << 8 | packet[1]
        pos = 2 + n
        if pos > len(packet):
            raise IndexError
        topic = packet[2:pos].decode("utf-8", "replace")
        mid = 0
        if qos:
            mid = packet[pos] << 8 | packet[pos + 1]
            pos += 2
        if v5:  # properties: a variable byte integer length, then the properties, skipped
            length = mult = 0
            for _ in range(4):
                b = packet[pos]
                pos += 1
                length += (b & 0x7F) << mult
                mult += 7
                if not b & 0x80:
                    break
            else:
                raise MalformedPacket("properties length over 4 bytes")
            pos += length
        if pos > len(packet) or (not v5 and n == 0):
            raise IndexError
    except IndexError:
        raise MalformedPacket("PUBLISH shorter than its lengths") from None
    return topic, bytes(memoryview(packet)[pos:]), mid, qos
