"""The ingest connection's MQTT client: aiomqtt's, with its receive path driven straight
from the event loop (issue #18; docs/PERFORMANCE.md, item 10).

aiomqtt keeps what it does well: connecting (in an executor thread), CONNACK and
DISCONNECT, subscribe/unsubscribe/publish and their futures, paho's keepalive (its misc
loop), TLS and the socket's close. Per message it and paho cost several times hazmon's own
work on a 1-reading message, so three things are done here instead:

- **reads**: paho reads a packet with three or more `recv` calls (the command byte, each
  remaining-length byte, the body) and one packet per readable event. Here one `recv`
  (paho's own `_sock_recv`, so its TLS error mapping) takes what the socket holds, and
  the whole packets in it are framed here; a packet cut by the read waits for the next.
  Every packet but a QoS 0/1 PUBLISH then goes to paho's own handler, and paho's error
  handling (`_loop_rc_handle`) and keepalive bookkeeping are called as its `loop_read`
  calls them.
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
from typing import TYPE_CHECKING, Any, Self

import aiomqtt
from paho.mqtt import client as paho_client
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

if TYPE_CHECKING:
    from paho.mqtt.client import _InPacket

Incoming = tuple[str, bytes, int, int]  # topic, payload, mid, qos

_PUBACK = struct.Struct("!BBH")  # PUBACK, remaining length 2, mid (MQTT 5: reason 0)
_CHUNK = 256 * 1024  # one recv: about 2,000 1-reading messages
_PUBLISH = paho_client.PUBLISH
_OK = MQTTErrorCode.MQTT_ERR_SUCCESS
_PROTOCOL = MQTTErrorCode.MQTT_ERR_PROTOCOL
_LOST = MQTTErrorCode.MQTT_ERR_CONN_LOST


def _in_packet(command: int = 0, length: int = 0, body: bytes = b"") -> _InPacket:
    """paho's reading state: a whole packet read, or (no arguments) none being read, as
    its `_packet_read` leaves it."""
    return {"command": command, "have_remaining": 1 if command else 0, "remaining_count": [],
            "remaining_mult": 1, "remaining_length": length, "packet": bytearray(body),
            "to_process": 0, "pos": 0}


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
        self._rest = b""  # the start of a packet the last read did not complete
        self._v5 = paho._protocol == MQTTProtocolVersion.MQTTv5
        self._recv: Callable[[int], bytes] = paho._sock_recv  # TLS errors mapped as paho does

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
        self._rest = b""

        def on_readable() -> None:
            try:
                self._read()
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

    def _read(self) -> None:
        """One readable event: what the socket holds, as paho's `loop_read` would take it
        (its errors and their handling included), but in one `recv`."""
        paho = self._client
        while True:
            try:
                data = self._recv(_CHUNK)
            except BlockingIOError:
                return
            except OSError as err:  # timeouts and "no socket" included, as in paho
                paho._easy_log(paho_client.MQTT_LOG_ERR, "failed to receive on socket: %s",
                               err)
                paho._loop_rc_handle(_LOST)
                return
            if not data:
                paho._loop_rc_handle(_LOST)
                return
            rc = self._packets(self._rest + data if self._rest else data)
            if rc != _OK:
                self._rest = b""
                paho._loop_rc_handle(rc)
                return
            with paho._msgtime_mutex:  # paho's keepalive: the broker was heard from
                paho._last_bytes_received = paho_client.time_func()
            # TLS may hold decrypted bytes the socket no longer signals (as aiomqtt asks)
            pending = getattr(paho._sock, "pending", None)
            if pending is None or pending() <= 0:
                return

    def _packets(self, buf: bytes) -> MQTTErrorCode:
        """Handle the whole packets in `buf`, keep the incomplete rest. A QoS 0/1 PUBLISH
        goes to the inbox; every other packet to paho's own handler."""
        paho = self._client
        logger = paho._logger
        paho_way = logger is not None and logger.isEnabledFor(logging.DEBUG)
        v5, inbox = self._v5, self._inbox
        n, pos = len(buf), 0
        while n - pos >= 2:
            cmd = buf[pos]
            b = buf[pos + 1]
            if b < 0x80:
                length, start = b, pos + 2
            else:
                length, start = _long_length(buf, pos + 1)
                if start < 0:
                    if start == -2:
                        return _PROTOCOL
                    break  # the length itself is not all here yet
            end = start + length
            if end > n:
                break
            try:
                if cmd & 0xF0 == _PUBLISH and cmd & 0x06 != 0x04 and not paho_way:
                    inbox.append(_decode_publish(cmd, buf, start, end, v5))
                else:
                    rc = self._paho_packet(cmd, buf[start:end], length)
                    if rc != _OK:
                        return rc
                    if paho._sock is None:
                        return _OK  # a DISCONNECT from the broker, handled by paho
            except MalformedPacket as exc:
                paho._easy_log(paho_client.MQTT_LOG_DEBUG, "Received malformed packet: %s",
                               exc)
                return _PROTOCOL
            pos = end
        self._rest = buf[pos:]
        return _OK

    def _paho_packet(self, cmd: int, body: bytes, length: int) -> MQTTErrorCode:
        paho = self._client
        paho._in_packet = _in_packet(cmd, length, body)
        try:
            rc: MQTTErrorCode = paho._packet_handle()
        finally:
            paho._in_packet = _in_packet()
        return rc

    def _on_message(self, client: paho_client.Client, userdata: Any,
                    message: paho_client.MQTTMessage) -> None:
        """A message paho handled itself (QoS 2, or its DEBUG log on)."""
        topic = bytes(message._topic).decode("utf-8", "replace")
        self._inbox.append((topic, bytes(message.payload), message.mid, message.qos))

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


def _long_length(buf: bytes, pos: int) -> tuple[int, int]:
    """A remaining length of 2 to 4 bytes at `pos`: (length, where the body starts);
    start -1 when the bytes are not all here yet, -2 when it is longer than 4 bytes."""
    length = shift = 0
    for i in range(pos, min(pos + 4, len(buf))):
        b = buf[i]
        length += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return length, i + 1
    return 0, (-1 if len(buf) < pos + 4 else -2)


def _decode_publish(header: int, buf: bytes, start: int, end: int, v5: bool) -> Incoming:
    """Topic, payload, message id and QoS of the PUBLISH body `buf[start:end]`."""
    qos = (header & 0x06) >> 1
    try:
        if start + 2 > end:
            raise IndexError
        n = buf[start] << 8 | buf[start + 1]
        pos = start + 2 + n
        if pos > end or (not v5 and n == 0):
            raise IndexError
        topic = buf[start + 2:pos].decode("utf-8", "replace")
        mid = 0
        if qos:
            if pos + 2 > end:
                raise IndexError
            mid = buf[pos] << 8 | buf[pos + 1]
            pos += 2
        if v5:  # properties: a variable byte integer length, then the properties, skipped
            length = shift = 0
            for _ in range(4):
                if pos >= end:
                    raise IndexError
                b = buf[pos]
                pos += 1
                length += (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            else:
                raise MalformedPacket("properties length over 4 bytes")
            pos += length
        if pos > end:
            raise IndexError
    except IndexError:
        raise MalformedPacket("PUBLISH shorter than its lengths") from None
    return topic, buf[pos:end], mid, qos
