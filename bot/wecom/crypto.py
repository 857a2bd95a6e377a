"""WeCom (企业微信) callback crypto, with `cryptography` (no wechatpy).

The scheme of WeCom's WXBizMsgCrypt (https://developer.work.weixin.qq.com/document/path/90968):

* signature    = SHA1 hex of the sorted concatenation of token, timestamp, nonce and the ciphertext
* AES key      = base64decode(EncodingAESKey + "="): 32 bytes, AES-256-CBC, IV = key[:16]
* plaintext    = 16 random bytes + 4-byte big-endian length of msg + msg + receive_id
                 (receive_id: the CorpID for an app's callback)
* padding      = PKCS#7 to a multiple of 32 bytes (not AES's 16): 1..32 bytes, all equal to the count

Every failure (signature, base64, length, padding, length field, receive id, UTF-8) raises one
exception type, WeComCryptoError, with a short reason for the log. The signature is checked first and
in constant time, so a tampered ciphertext never reaches the decryption (no padding oracle); callers
answer every WeComCryptoError with the same 4xx and no detail.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
#: WeCom messages are a few kilobytes; anything far bigger is not from WeCom.
MAX_CIPHERTEXT = 1_000_000


class WeComCryptoError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    if not data:
        raise WeComCryptoError("empty plaintext")
    n = data[-1]
    if not 1 <= n <= BLOCK or n > len(data):
        raise WeComCryptoError("bad padding")
    # Compare the whole pad without an early exit.
    if not hmac.compare_digest(data[-n:], bytes([n]) * n):
        raise WeComCryptoError("bad padding")
    return data[:-n]


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        if not token:
            raise WeComCryptoError("no token")
        if not encoding_aes_key or len(encoding_aes_key) != 43:
            raise WeComCryptoError("EncodingAESKey must be 43 characters")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            raise WeComCryptoError("EncodingAESKey is not base64") from None
        if len(key) != 32:
            raise WeComCryptoError("EncodingAESKey does not decode to 32 bytes")
        self.token = token
        self.key = key
        self.iv = key[:16]
        self.receive_id = receive_id or ""

    # -- signature -------------------------------------------------------------------------------
    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        parts = sorted([self.token, str(timestamp), str(nonce), encrypted])
        return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()

    def check_signature(self, msg_signature: str | None, timestamp: str | None, nonce: str | None,
                        encrypted: str | None) -> None:
        if not (msg_signature and timestamp and nonce and encrypted):
            raise WeComCryptoError("missing msg_signature, timestamp, nonce or ciphertext")
        if len(encrypted) > MAX_CIPHERTEXT:
            raise WeComCryptoError("ciphertext too long")
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode("ascii"), msg_signature.strip().lower().encode("utf-8")):
            raise WeComCryptoError("signature mismatch")

    # -- decrypt ---------------------------------------------------------------------------------
    def verify_url(self, msg_signature: str | None, timestamp: str | None, nonce: str | None,
                   echostr: str | None) -> str:
        """The GET URL check: the plaintext of `echostr`, to be sent back as the response body."""
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self._decrypt(echostr or "")

    def decrypt(self, msg_signature: str | None, timestamp: str | None, nonce: str | None,
                encrypted: str | None) -> str:
        """The plaintext of a callback's <Encrypt> field (an XML document), signature checked first."""
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return self._decrypt(encrypted or "")

    def _decrypt(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise WeComCryptoError("ciphertext is not base64") from None
        if len(raw) < BLOCK or len(raw) % 16:
            raise WeComCryptoError("bad ciphertext length")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).decryptor()
        content = _unpad(decryptor.update(raw) + decryptor.finalize())
        if len(content) < 20:
            raise WeComCryptoError("plaintext too short")
        (length,) = struct.unpack(">I", content[16:20])
        if 20 + length > len(content):
            raise WeComCryptoError("bad message length")
        message, receive_id = content[20:20 + length], content[20 + length:]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise WeComCryptoError("wrong receive id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise WeComCryptoError("message is not UTF-8") from None

    # -- encrypt (passive replies, tests) --------------------------------------------------------
    def encrypt(self, plaintext: str, *, random16: bytes | None = None) -> str:
        rnd = random16 if random16 is not None else os.urandom(16)
        if len(rnd) != 16:
            raise ValueError("random16 must be 16 bytes")
        msg = plaintext.encode("utf-8")
        data = _pad(rnd + struct.pack(">I", len(msg)) + msg + self.receive_id.encode("utf-8"))
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).encryptor()
        return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")

    def encrypt_reply(self, plaintext: str, nonce: str, timestamp: str | None = None) -> str:
        """A passive reply: the encrypted XML envelope WeCom expects as a callback's response body."""
        ts = timestamp or str(int(time.time()))
        encrypted = self.encrypt(plaintext)
        sig = self.signature(ts, nonce, encrypted)
        return (f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sig}]]>"
                f"</MsgSignature><TimeStamp>{ts}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>")
