#!/usr/bin/env python3
"""Independent checker of the EE2E conformance vectors.

Written from spec/SPEC.md and the vector format (conformance/README.md), not from the Rust
code: it recomputes every value of every positive vector and rejects every negative one
with Python's `cryptography` package (OpenSSL underneath).

    python3 conformance/python/check_vectors.py [DIR]

DIR defaults to conformance/vectors/ next to this script's folder. Prints one line per file,
every failure, and `N passed, M failed`; exits 1 if anything failed or could not be read.

RSA-OAEP encryption and RSASSA-PSS signing with a given seed or salt are not offered by
`cryptography`, so this file implements EME-OAEP and EMSA-PSS encoding (RFC 8017 §7.1.1,
§9.1.1) over the raw RSA operation; decryption and verification use `cryptography` itself.
"""

import copy
import functools
import glob
import hmac as stdhmac
import json
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac as chmac, padding as spadding, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

# ---------------------------------------------------------------------------------------------
# Constants and labels (SPEC.md §3)

OTP_TTL = 300_000
MAX_OTP_ATTEMPTS = 3
MAX_OTP_REQUESTS = 3
OTP_REQUEST_WINDOW = 900_000
MAX_PLAINTEXT = 1_048_576
MAX_QUEUED_MESSAGES = 1000
MAX_QUEUED_PER_SENDER = 250
MAX_QUEUED_BYTES = 64 << 20
MAX_QUEUED_BYTES_PER_SENDER = 16 << 20
DELIVERY_BATCH_MESSAGES = 32
DELIVERY_BATCH_BYTES = 4 << 20
MAX_OTP_PHONES = 10_000
OTP_SWEEP_BATCH = 64
MAX_TRANSPORTS_PER_PEER = 1024
REPLAY_WINDOW = 64
U64_MAX = 2**64 - 1
OTP_LIMIT = 4_294_000_000  # the largest multiple of 10^6 not above 2^32

L_DIRECTORY = b"EE2E-v2 directory"
L_REGISTRATION = b"EE2E-v2 registration"
L_POSSESSION = b"EE2E-v2 possession"
L_TRANSPORT = b"EE2E-v2 key transport"
L_SESSION_ID = b"EE2E-v2 session id"
L_MESSAGE_KEYS = b"EE2E-v2 message keys"
L_ACK = b"EE2E-v2 ack"
SEED_ACK = b"ACK"

ERROR_CODES = {
    1: "BadRequest", 2: "InvalidPublicKey", 3: "NoPendingRegistration", 4: "OtpExpired",
    5: "TooManyAttempts", 6: "RegistrationRejected", 7: "NotRegistered", 8: "UnknownPeer", 9: "Internal",
    10: "RateLimited", 11: "QueueFull",
}
CODE_BYTES = {name: byte for byte, name in ERROR_CODES.items()}

# SPEC.md §10.1: the wire code of each server error.
SERVER_ERROR_CODES = {
    "WrongProfile": "BadRequest", "UnexpectedMessage": "BadRequest", "InvalidPublicKey": "InvalidPublicKey",
    "NoPendingRegistration": "NoPendingRegistration", "OtpExpired": "OtpExpired",
    "TooManyAttempts": "TooManyAttempts", "BadPossessionProof": "RegistrationRejected",
    "BadSealedTag": "RegistrationRejected", "BadRegistrationTag": "RegistrationRejected",
    "SenderMismatch": "BadRequest", "NotRegistered": "NotRegistered", "UnknownPeer": "UnknownPeer",
    "RateLimited": "RateLimited", "OtpTableFull": "RateLimited", "QueueFull": "QueueFull",
}


class DecodeError(Exception):
    def __init__(self, name, field=None):
        super().__init__(name, field)
        self.name, self.field = name, field


class ClientError(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


def queued_sender(v, data):
    _, f = decode(v, data)
    return f.get("from", f.get("phone"))


def stored_size(v, data):
    """§9.2: the lengths of a message's variable fields (8 for a sequence number)."""
    kind, f = decode(v, data)
    return sum(8 if key == "seq" else len(f[key]) for key, _, _ in layout(kind, v))


def filler_message(v, filler):
    """The DataDelivery a queue filler stands for: every byte field zero (vectors README)."""
    n = filler["ciphertextLength"]
    if n <= 0 or n % 16 or n > MAX_PLAINTEXT + 16:
        raise Malformed("filler ciphertextLength %r" % n)
    fields = {"from": filler["from"].encode(), "iv": bytes(16), "ct": bytes(n), "mac": bytes(32)}
    if v == 2:
        fields.update(session=bytes(32), seq=0)
    return encode(v, "DataDelivery", fields)


class ServerError(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


class Malformed(Exception):
    """The vector itself cannot be used."""


# ---------------------------------------------------------------------------------------------
# Notation (SPEC.md §1)

def T(*parts):
    """The tuple encoding: each part as a 4-byte big-endian length, then its bytes."""
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def u64(n):
    return n.to_bytes(8, "big")


def sha256(data):
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def hmac_sha256(key, msg):
    h = chmac.HMAC(key, hashes.SHA256())
    h.update(msg)
    return h.finalize()


def hmac_ok(key, msg, tag):
    h = chmac.HMAC(key, hashes.SHA256())
    h.update(msg)
    try:
        h.verify(tag)
        return True
    except InvalidSignature:
        return False


def pbkdf2(password, salt, iterations):
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations).derive(password)


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def aes_encrypt(key, iv, plaintext):
    padder = spadding.PKCS7(128).padder()
    data = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_decrypt(key, iv, ciphertext):
    """AES-256-CBC and PKCS#7; None if the length or the padding is wrong (SPEC §7.4)."""
    if len(ciphertext) == 0 or len(ciphertext) % 16 or len(iv) != 16:
        return None
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    data = dec.update(ciphertext) + dec.finalize()
    unpadder = spadding.PKCS7(128).unpadder()
    try:
        return unpadder.update(data) + unpadder.finalize()
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# RSA (SPEC.md §1, §2.1)

def public_key(der):
    """A valid public key by §2.1, or None: 2048 or 3072 bits, e = 65537, an odd modulus, and
    the canonical SubjectPublicKeyInfo DER with the rsaEncryption identifier (re-encoding the
    parsed key gives the same bytes, so BER that OpenSSL accepts is refused here)."""
    try:
        key = serialization.load_der_public_key(der)
    except Exception:
        return None
    if not isinstance(key, rsa.RSAPublicKey):
        return None
    numbers = key.public_numbers()
    # §2.1: an even modulus is no RSA modulus.
    if numbers.n.bit_length() not in (2048, 3072) or numbers.e != 65537 or numbers.n % 2 == 0:
        return None
    canonical = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key if canonical == der else None


@functools.lru_cache(maxsize=None)
def private_key(pem):
    """A PKCS#8 PEM private key, parsed once (OpenSSL's key check is slow)."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


def mgf1(seed, length):
    out, counter = b"", 0
    while len(out) < length:
        out += sha256(seed + counter.to_bytes(4, "big"))
        counter += 1
    return out[:length]


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def oaep_encrypt(key, message, label, seed):
    """RSAES-OAEP-ENCRYPT (RFC 8017 §7.1.1) with SHA-256, MGF1-SHA-256 and the given seed."""
    numbers = key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    if len(message) > k - 2 * 32 - 2:
        raise ValueError("message too long")
    db = sha256(label) + b"\x00" * (k - len(message) - 2 * 32 - 2) + b"\x01" + message
    masked_db = xor(db, mgf1(seed, k - 33))
    masked_seed = xor(seed, mgf1(masked_db, 32))
    em = b"\x00" + masked_seed + masked_db
    return pow(int.from_bytes(em, "big"), numbers.e, numbers.n).to_bytes(k, "big")


def oaep_decrypt(key, ciphertext, label):
    try:
        return key.decrypt(ciphertext, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None))
    except Exception:
        return None


def pss_sign(key, message, salt):
    """RSASSA-PSS-SIGN (RFC 8017 §8.1.1, EMSA-PSS §9.1.1) with SHA-256 and the given salt."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    em_bits = n.bit_length() - 1
    em_len = (em_bits + 7) // 8
    m_hash = sha256(message)
    h = sha256(b"\x00" * 8 + m_hash + salt)
    db = b"\x00" * (em_len - len(salt) - 32 - 2) + b"\x01" + salt
    masked = bytearray(xor(db, mgf1(h, em_len - 33)))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    em = bytes(masked) + h + b"\xbc"
    return rsa_private(numbers, int.from_bytes(em, "big")).to_bytes((n.bit_length() + 7) // 8, "big")


def rsa_private(numbers, m):
    """m^d mod n by the Chinese remainder theorem (RFC 8017 §5.1.2, second form)."""
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    return s2 + numbers.q * h


def v15_sign(key, message):
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def verify(key, scheme, message, signature):
    try:
        if scheme == "pss":
            key.verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        else:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# Randomness (the vector files' header)

class Draws:
    """Consecutive slices of the ChaCha20 keystream keyed with the step's rngSeed."""

    def __init__(self, seed_hex):
        seed = bytes.fromhex(seed_hex) if seed_hex else b"\x00" * 32
        if len(seed) != 32:
            raise Malformed("rngSeed is not 32 bytes")
        cipher = Cipher(algorithms.ChaCha20(seed, b"\x00" * 16), mode=None).encryptor()
        self.stream = cipher.update(b"\x00" * 4096)
        self.at = 0

    def take(self, n):
        out = self.stream[self.at:self.at + n]
        self.at += n
        return out

    def otp(self):
        while True:
            w = int.from_bytes(self.take(4), "little")
            if w < OTP_LIMIT:
                return b"%06d" % (w % 1_000_000)


# ---------------------------------------------------------------------------------------------
# The wire format (SPEC.md §4)

PHONE = ("prefixed", 1, 16, 0, True)
PK = ("prefixed", 2, 1024, 0, False)
RSA_VALUE = ("prefixed", 2, 1024, 1, False)
POSSESSION = ("prefixed", 2, 1024, 0, False)
AES_CT = ("prefixed", 4, (1 << 20) + 16, 0, False)
ACK_TEXT = ("prefixed", 1, 16, 0, False)


def fixed(n):
    return ("fixed", n)


TYPES = {
    0x01: "RegisterRequest", 0x02: "RegisterSubmit", 0x03: "RegisterResult", 0x10: "KeyRequest",
    0x11: "PeerKey", 0x12: "KeyTransport", 0x13: "KeyDelivery", 0x20: "Data", 0x21: "DataDelivery",
    0x30: "Ack", 0x31: "AckDelivery", 0x40: "Connect", 0x41: "Disconnect", 0x7F: "Error",
}
TYPE_BYTES = {name: byte for byte, name in TYPES.items()}


def layout(kind, v):
    """(key, wire field name, kind) for each field of a message type, in order (§4.3, §4.4)."""
    entry = [("phone", "DirectoryEntry.phone", PHONE), ("public_key", "DirectoryEntry.public_key", PK),
             ("signature", "DirectoryEntry.signature", RSA_VALUE)]
    transport = [("c", "Transport.ciphertext", RSA_VALUE), ("sig", "Transport.signature", RSA_VALUE)]
    if v == 1:
        sealed = [("iv", "Sealed.iv", fixed(16)), ("ct", "Sealed.ciphertext", AES_CT), ("mac", "Sealed.mac", fixed(32))]
        ack = [("text", "Ack.text", ACK_TEXT), ("mac", "Ack.mac", fixed(32))]
        proof = [("tag", "RegistrationProof.tag", fixed(32))]
    else:
        sealed = [("session", "Sealed.session", fixed(32)), ("seq", "Sealed.seq", fixed(8)),
                  ("iv", "Sealed.iv", fixed(16)), ("ct", "Sealed.ciphertext", AES_CT), ("mac", "Sealed.mac", fixed(32))]
        ack = [("session", "Ack.session", fixed(32)), ("seq", "Ack.seq", fixed(8)),
               ("tag", "Ack.tag", fixed(32)), ("mac", "Ack.mac", fixed(32))]
        proof = [("sealed_tag", "RegistrationProof.sealed_tag", RSA_VALUE),
                 ("possession", "RegistrationProof.possession", POSSESSION)]
    return {
        "RegisterRequest": [("phone", "RegisterRequest.phone", PHONE)],
        "RegisterSubmit": [("phone", "RegisterSubmit.phone", PHONE), ("public_key", "RegisterSubmit.public_key", PK)] + proof,
        "RegisterResult": entry,
        "KeyRequest": [("peer", "KeyRequest.peer", PHONE)],
        "PeerKey": entry,
        "KeyTransport": [("to", "KeyTransport.to", PHONE)] + transport,
        "KeyDelivery": entry + transport,
        "Data": [("to", "Data.to", PHONE)] + sealed,
        "DataDelivery": [("from", "DataDelivery.from", PHONE)] + sealed,
        "Ack": [("to", "Ack.to", PHONE)] + ack,
        "AckDelivery": [("from", "AckDelivery.from", PHONE)] + ack,
        "Connect": [("phone", "Connect.phone", PHONE)],
        "Disconnect": [("phone", "Disconnect.phone", PHONE)],
        "Error": [("code", "Error.code", ("code",))],
    }[kind]


def valid_phone(text):
    """E.164 as §2.1: '+', 8 to 15 ASCII digits, the first not 0."""
    digits = text[1:]
    return (text[:1] == b"+" and 8 <= len(digits) <= 15 and all(0x30 <= c <= 0x39 for c in digits)
            and digits[:1] != b"0")


def decode(v, data):
    """§4.7 for wire version v: (type name, fields) or DecodeError."""
    if len(data) < 1:
        raise DecodeError("Truncated", "version")
    if data[0] not in (1, 2):
        raise DecodeError("UnknownVersion")
    if data[0] != v:
        raise DecodeError("WrongVersion")
    if len(data) < 2:
        raise DecodeError("Truncated", "type")
    kind = TYPES.get(data[1])
    if kind is None:
        raise DecodeError("UnknownType")
    at, fields = 2, {}
    for key, name, spec in layout(kind, v):
        if spec[0] == "fixed":
            n = spec[1]
            if len(data) - at < n:
                raise DecodeError("Truncated", name)
            value = data[at:at + n]
            at += n
            fields[key] = int.from_bytes(value, "big") if key == "seq" else value
        elif spec[0] == "code":
            if len(data) - at < 1:
                raise DecodeError("Truncated", name)
            if data[at] not in ERROR_CODES:
                raise DecodeError("UnknownErrorCode")
            fields[key] = ERROR_CODES[data[at]]
            at += 1
        else:
            _, width, maximum, minimum, is_phone = spec
            if len(data) - at < width:
                raise DecodeError("Truncated", name)
            n = int.from_bytes(data[at:at + width], "big")
            at += width
            if n > maximum:
                raise DecodeError("FieldTooLong", name)
            if n < minimum:
                raise DecodeError("EmptyField", name)
            if len(data) - at < n:
                raise DecodeError("Truncated", name)
            value = data[at:at + n]
            at += n
            if is_phone and not valid_phone(value):
                raise DecodeError("InvalidPhone", name)
            fields[key] = value
    if at != len(data):
        raise DecodeError("TrailingBytes")
    return kind, fields


def encode(v, kind, fields):
    out = bytes([v, TYPE_BYTES[kind]])
    for key, _, spec in layout(kind, v):
        value = fields[key]
        if spec[0] == "fixed":
            out += value.to_bytes(8, "big") if key == "seq" else value
        elif spec[0] == "code":
            out += bytes([CODE_BYTES[value]])
        else:
            out += len(value).to_bytes(spec[1], "big") + value
    return out


LAYOUT_BODIES = ("RegisterSubmit", "Data", "DataDelivery", "Ack", "AckDelivery")


def checked_encode(v, kind, body_version, named):
    """§4.6: encodes a message given by its wire field names for wire version v, or raises the
    encoder's error. `body_version` is the layout of the version-dependent body, if any."""
    if kind in LAYOUT_BODIES and body_version != v:
        raise DecodeError("WrongLayout")
    fields = {}
    for key, name, spec in layout(kind, v):
        text = named[name]
        value = text.encode() if spec[0] != "fixed" and spec[4:5] == (True,) else bytes.fromhex(text)
        if spec[0] == "fixed":
            if len(value) != spec[1]:
                raise DecodeError("WrongLength", name)
            if key == "seq":
                value = int.from_bytes(value, "big")
        else:
            if len(value) > spec[2]:
                raise DecodeError("FieldTooLong", name)
            if len(value) < spec[3]:
                raise DecodeError("EmptyField", name)
        fields[key] = value
    return encode(v, kind, fields)


def entry_fields(entry):
    phone, pk, sig = entry
    return {"phone": phone, "public_key": pk, "signature": sig}


# ---------------------------------------------------------------------------------------------
# Constructions (SPEC.md §5–§8)

def registration_values(otp, phone, pk, iterations):
    salt = hmac_sha256(otp, phone)
    k_temp = pbkdf2(otp, salt, iterations)
    return salt, k_temp, hmac_sha256(k_temp, pk)


def directory_input(hardened, phone, pk):
    return T(L_DIRECTORY, phone, pk) if hardened else pk


def transport_label(hardened, a, b):
    return T(L_TRANSPORT, a, b) if hardened else b""


def session_id(c):
    return sha256(T(L_SESSION_ID, c))


def message_keys(k, sid, d):
    enc_info = T(L_MESSAGE_KEYS, bytes([d]), b"enc")
    mac_info = T(L_MESSAGE_KEYS, bytes([d]), b"mac")
    return enc_info, mac_info, hkdf(k, sid, enc_info), hkdf(k, sid, mac_info)


def scheme(hardened):
    return "pss" if hardened else "v15"


# ---------------------------------------------------------------------------------------------
# The client (SPEC.md §2.2, §5.2, §5.5, §6, §7, §8, §9.1)

INITIATOR, RESPONDER = "Initiator", "Responder"


class Client:
    def __init__(self, hardened, phone, sk_pem, server_pk, iterations):
        self.hardened = hardened
        self.v = 2 if hardened else 1
        self.phone = phone
        self.sk = private_key(sk_pem)
        self.pk = self.sk.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.server_pk_der = server_pk
        self.server_pk = serialization.load_der_public_key(server_pk)
        self.iterations = iterations
        # Everything that changes; copied before each step so that a failed step changes nothing.
        self.s = {"registration": "Unregistered", "entry": None, "lookups": set(), "peers": {}, "sessions": [],
                  "seen": set(), "seen_by": {}, "outstanding": [], "next_id": 0}

    # -- helpers

    def require_registered(self):
        if self.s["registration"] != "Registered":
            raise ClientError("NotRegistered")

    def check_entry(self, entry):
        phone, pk, sig = entry
        if public_key(pk) is None:
            raise ClientError("InvalidPublicKey")
        if not verify(self.server_pk, scheme(self.hardened), directory_input(self.hardened, phone, pk), sig):
            raise ClientError("BadDirectorySignature")

    def new_session(self, peer, role, k, sid):
        session = {"peer": peer, "role": role, "sid": sid, "k": k, "next_seq": 0, "highest": None, "accepted": set()}
        if self.hardened:
            send_d = 0 if role == INITIATOR else 1
            _, _, session["send_enc"], session["send_mac"] = message_keys(k, sid, send_d)
            _, _, session["recv_enc"], session["recv_mac"] = message_keys(k, sid, 1 - send_d)
        else:
            session["send_enc"] = session["send_mac"] = session["recv_enc"] = session["recv_mac"] = k
        return session

    def add_session(self, session):
        keep = 4 if self.hardened else 1
        sessions = self.s["sessions"]
        same = [s for s in sessions if s["peer"] == session["peer"]]
        drop = len(same) - (keep - 1)
        kept = []
        for s in sessions:
            if s["peer"] == session["peer"] and drop > 0:
                drop -= 1
                continue
            kept.append(s)
        self.s["sessions"] = kept + [session]

    def newest(self, peer):
        for s in reversed(self.s["sessions"]):
            if s["peer"] == peer:
                return s
        return None

    def by_id(self, sid, sender):
        for s in self.s["sessions"]:
            if s["sid"] == sid:
                if s["peer"] != sender:
                    raise ClientError("SessionPeerMismatch")
                return s
        raise ClientError("UnknownSession")

    def keys_intermediate(self, im, session):
        if self.hardened:
            im["sendEncKey"], im["sendMacKey"] = session["send_enc"], session["send_mac"]
            im["receiveEncKey"], im["receiveMacKey"] = session["recv_enc"], session["recv_mac"]

    # -- steps: each returns (sends, events, intermediate)

    def step(self, action, draws):
        saved = copy.deepcopy(self.s)
        try:
            return self.run(action, draws)
        except (ClientError, DecodeError):
            self.s = saved
            raise

    def run(self, action, draws):
        kind = action["action"]
        if kind == "register":
            self.s["registration"] = "AwaitingOtp"
            return [("RegisterRequest", {"phone": self.phone})], [], None
        if kind == "otpReceived":
            return self.otp(action["otp"].encode(), draws)
        if kind == "startSession":
            self.require_registered()
            peer = action["peer"].encode()
            self.s["lookups"].add(peer)
            return [("KeyRequest", {"peer": peer})], [], None
        if kind == "send":
            return self.send(action["peer"].encode(), bytes.fromhex(action["plaintext"]), draws)
        if kind == "resumeSequence":
            session = self.newest(action["peer"].encode())
            if session is None:
                raise ClientError("NoSession")
            session["next_seq"] = action["next"]
            return [], [], None
        if kind in ("connect", "disconnect"):
            self.require_registered()
            return [("Connect" if kind == "connect" else "Disconnect", {"phone": self.phone})], [], None
        if kind == "receive":
            msg_kind, fields = decode(self.v, bytes.fromhex(action["message"]))
            handler = {
                "Error": self.on_error, "RegisterResult": self.on_result, "PeerKey": self.on_peer_key,
                "KeyDelivery": self.on_key_delivery, "DataDelivery": self.on_data, "AckDelivery": self.on_ack,
            }.get(msg_kind)
            if handler is None:
                raise ClientError("UnexpectedMessage")
            return handler(fields, draws)
        raise Malformed("unknown action " + kind)

    def otp(self, otp, draws):
        if self.s["registration"] != "AwaitingOtp":
            raise ClientError("NoRegistrationInProgress")
        salt, k_temp, tag = registration_values(otp, self.phone, self.pk, self.iterations)
        im = {"salt": salt, "kTemp": k_temp, "tag": tag}
        if self.hardened:
            label = T(L_REGISTRATION, self.phone)
            seed = draws.take(32)
            sealed = oaep_encrypt(self.server_pk, tag, label, seed)
            possession_input = T(L_POSSESSION, self.phone, self.pk)
            salt_pss = draws.take(32)
            possession = pss_sign(self.sk, possession_input, salt_pss)
            im.update({"sealedTagLabel": label, "oaepSeed": seed, "sealedTag": sealed,
                       "possessionInput": possession_input, "pssSalt": salt_pss, "possession": possession})
            fields = {"phone": self.phone, "public_key": self.pk, "sealed_tag": sealed, "possession": possession}
        else:
            fields = {"phone": self.phone, "public_key": self.pk, "tag": tag}
        self.s["registration"] = "AwaitingResult"
        return [("RegisterSubmit", fields)], [], im

    def on_error(self, fields, _draws):
        if self.s["registration"] == "AwaitingResult":
            self.s["registration"] = "AwaitingOtp" if fields["code"] == "RegistrationRejected" else "Unregistered"
        elif self.s["registration"] == "AwaitingOtp" and fields["code"] in ("RateLimited", "Internal"):
            # §5.5: the request was refused, no SMS will come.
            self.s["registration"] = "Unregistered"
        return [], [{"event": "ServerError", "code": fields["code"]}], None

    def on_result(self, fields, _draws):
        if self.s["registration"] != "AwaitingResult":
            raise ClientError("UnexpectedMessage")
        entry = (fields["phone"], fields["public_key"], fields["signature"])
        if entry[0] != self.phone or entry[1] != self.pk:
            raise ClientError("RegistrationMismatch")
        self.check_entry(entry)
        self.s["registration"] = "Registered"
        self.s["entry"] = entry
        return [], [{"event": "Registered"}], {"directoryInput": directory_input(self.hardened, entry[0], entry[1])}

    def on_peer_key(self, fields, draws):
        self.require_registered()
        entry = (fields["phone"], fields["public_key"], fields["signature"])
        peer, pk_b = entry[0], entry[1]
        if peer not in self.s["lookups"]:
            raise ClientError("UnexpectedPeerKey")
        self.check_entry(entry)
        if self.hardened:
            self.transports_below_bound(peer)  # §6.2 check 4
        k = draws.take(32)
        label = transport_label(self.hardened, self.phone, peer)
        seed = draws.take(32)
        c = oaep_encrypt(public_key(pk_b), k, label, seed)
        im = {"directoryInput": directory_input(self.hardened, peer, pk_b), "sessionKey": k,
              "transportLabel": label, "oaepSeed": seed, "transportCiphertext": c}
        if self.hardened:
            signed = T(L_TRANSPORT, self.phone, peer, c)
            salt = draws.take(32)
            sig = pss_sign(self.sk, signed, salt)
            im["pssSalt"] = salt
            sid = session_id(c)
            im["sessionId"] = sid
        else:
            signed = k
            sig = v15_sign(self.sk, k)
            sid = None
        im["transportSignatureInput"] = signed
        im["transportSignature"] = sig
        session = self.new_session(peer, INITIATOR, k, sid)
        self.keys_intermediate(im, session)
        # SPEC.md §6.2 does not say that the lookup is consumed; the vectors expect it (reported).
        self.s["lookups"].discard(peer)
        self.s["peers"][peer] = entry
        if sid is not None:
            self.record_transport(peer, sid)
        self.add_session(session)
        events = [{"event": "PeerKeyVerified", "peer": peer.decode()},
                  established(peer, INITIATOR, sid, k)]
        return [("KeyTransport", {"to": peer, "c": c, "sig": sig})], events, im

    def transports_below_bound(self, peer):
        if len(self.s["seen_by"].get(peer, ())) >= MAX_TRANSPORTS_PER_PEER:
            raise ClientError("TooManyTransports")

    def record_transport(self, peer, sid):
        self.s["seen"].add(sid)
        self.s["seen_by"].setdefault(peer, set()).add(sid)

    def on_key_delivery(self, fields, _draws):
        self.require_registered()
        entry = (fields["phone"], fields["public_key"], fields["signature"])
        a, pk_a = entry[0], entry[1]
        self.check_entry(entry)
        if self.hardened:
            self.transports_below_bound(a)  # §6.4 check 2a, before any RSA operation
        key_a = public_key(pk_a)
        c, sig = fields["c"], fields["sig"]
        signed = None
        if self.hardened:
            signed = T(L_TRANSPORT, a, self.phone, c)
            if not verify(key_a, "pss", signed, sig):
                raise ClientError("BadTransportSignature")
            sid = session_id(c)
            if sid in self.s["seen"]:
                raise ClientError("ReplayedKeyTransport")
        else:
            sid = None
        label = transport_label(self.hardened, a, self.phone)
        k = oaep_decrypt(self.sk, c, label)
        if k is None:
            raise ClientError("TransportDecrypt")
        if len(k) != 32:
            raise ClientError("InvalidSessionKey")
        if not self.hardened:
            signed = k
            if not verify(key_a, "v15", k, sig):
                raise ClientError("BadTransportSignature")
        im = {"directoryInput": directory_input(self.hardened, a, pk_a), "transportSignatureInput": signed,
              "transportLabel": label, "sessionKey": k}
        if sid is not None:
            im["sessionId"] = sid
        session = self.new_session(a, RESPONDER, k, sid)
        self.keys_intermediate(im, session)
        self.s["peers"][a] = entry
        if sid is not None:
            self.record_transport(a, sid)
        self.add_session(session)
        return [], [{"event": "PeerKeyVerified", "peer": a.decode()}, established(a, RESPONDER, sid, k)], im

    def send(self, peer, plaintext, draws):
        self.require_registered()
        if len(plaintext) > MAX_PLAINTEXT:
            raise ClientError("MessageTooLarge")
        session = self.newest(peer)
        if session is None:
            raise ClientError("NoSession")
        # §7.2: a session that used sequence number 2^64 - 1 seals no more.
        if self.hardened and session["next_seq"] > U64_MAX:
            raise ClientError("SequenceExhausted")
        iv = draws.take(16)
        c = aes_encrypt(session["send_enc"], iv, plaintext)
        im = {}
        self.keys_intermediate(im, session)
        if self.hardened:
            seq = session["next_seq"]
            mac_input = T(b"\x02", session["sid"], self.phone, peer, u64(seq), iv, c)
            session["next_seq"] += 1
            fields = {"to": peer, "session": session["sid"], "seq": seq, "iv": iv, "ct": c}
        else:
            seq = None
            mac_input = plaintext
            fields = {"to": peer, "iv": iv, "ct": c}
        mac = hmac_sha256(session["send_mac"], mac_input)
        fields["mac"] = mac
        # §8.1: the hardened ACK names the message by its MAC; the seed's names none (kept empty).
        d = mac if self.hardened else b""
        message_id = self.s["next_id"]
        self.s["next_id"] += 1
        self.s["outstanding"].append({"id": message_id, "peer": peer, "sid": session["sid"], "seq": seq, "tag": d})
        im.update({"iv": iv, "ciphertext": c, "macInput": mac_input, "mac": mac})
        if self.hardened:
            im["ackTag"] = d
        event = {"event": "MessageSent", "peer": peer.decode(), "id": message_id, "plaintext": plaintext.hex()}
        if seq is not None:
            event["seq"] = seq
        return [("Data", fields)], [event], im

    def on_data(self, f, _draws):
        self.require_registered()
        a = f["from"]
        iv, c, mac = f["iv"], f["ct"], f["mac"]
        if not self.hardened:
            session = self.newest(a)
            if session is None:
                raise ClientError("NoSession")
            m = aes_decrypt(session["recv_enc"], iv, c)
            if m is None:
                raise ClientError("DecryptFailed")
            if not hmac_ok(session["recv_mac"], m, mac):
                raise ClientError("BadMac")
            ack_input = SEED_ACK
            ack = {"to": a, "text": SEED_ACK, "mac": hmac_sha256(session["send_mac"], SEED_ACK)}
            im = {"macInput": m}
            event = {"event": "MessageAccepted", "from": a.decode(), "plaintext": m.hex()}
        else:
            sid, seq = f["session"], f["seq"]
            session = self.by_id(sid, a)
            mac_input = T(b"\x02", sid, a, self.phone, u64(seq), iv, c)
            if not hmac_ok(session["recv_mac"], mac_input, mac):
                raise ClientError("BadMac")
            # The replay window of RFC 4303 §3.4.3: its right edge is the highest accepted number
            # h (§7.4), kept as h itself so that h = 2^64 - 1 needs no h + 1.
            h = session["highest"]
            if h is not None and seq <= h:
                if h - seq >= REPLAY_WINDOW:
                    raise ClientError("MessageTooOld")
                if seq in session["accepted"]:
                    raise ClientError("ReplayedMessage")
            m = aes_decrypt(session["recv_enc"], iv, c)
            if m is None:
                raise ClientError("DecryptFailed")
            session["accepted"].add(seq)
            session["highest"] = seq if h is None else max(h, seq)
            d = mac
            acked = 0 if session["role"] == RESPONDER else 1  # A's sending direction
            ack_input = T(L_ACK, sid, bytes([acked]), u64(seq), d)
            ack = {"to": a, "session": sid, "seq": seq, "tag": d, "mac": hmac_sha256(session["send_mac"], ack_input)}
            im = {"macInput": mac_input, "ackTag": d}
            self.keys_intermediate(im, session)
            event = {"event": "MessageAccepted", "from": a.decode(), "plaintext": m.hex(), "seq": seq}
        im.update({"plaintext": m, "ackInput": ack_input, "ackMac": ack["mac"]})
        return [("Ack", ack)], [event], im

    def on_ack(self, f, _draws):
        self.require_registered()
        b = f["from"]
        if not self.hardened:
            session = self.newest(b)
            if session is None:
                raise ClientError("NoSession")
            if f["text"] != SEED_ACK:
                raise ClientError("MalformedAck")
            if not hmac_ok(session["recv_mac"], f["text"], f["mac"]):
                raise ClientError("BadMac")
            found = next((o for o in self.s["outstanding"] if o["peer"] == b), None)
            if found is None:
                raise ClientError("UnexpectedAck")
            im = {"ackInput": SEED_ACK}
        else:
            sid, seq, d = f["session"], f["seq"], f["tag"]
            session = self.by_id(sid, b)
            sending = 0 if session["role"] == INITIATOR else 1
            ack_input = T(L_ACK, sid, bytes([sending]), u64(seq), d)
            if not hmac_ok(session["recv_mac"], ack_input, f["mac"]):
                raise ClientError("BadMac")
            found = next((o for o in self.s["outstanding"] if o["sid"] == sid and o["seq"] == seq), None)
            if found is None:
                raise ClientError("UnexpectedAck")
            if found["tag"] != d:
                raise ClientError("AckMismatch")
            im = {"ackInput": ack_input, "ackTag": d}
            self.keys_intermediate(im, session)
        self.s["outstanding"].remove(found)
        return [], [{"event": "AckAccepted", "peer": b.decode(), "id": found["id"]}], im


def established(peer, role, sid, k):
    event = {"event": "SessionEstablished", "peer": peer.decode(), "role": role}
    if sid is not None:
        event["sessionId"] = sid.hex()
    event["sessionKey"] = k.hex()
    return event


# ---------------------------------------------------------------------------------------------
# The server (SPEC.md §2.3, §5.1, §5.3, §5.4, §6.1, §6.3, §7.3, §8.2, §9)

class Server:
    def __init__(self, hardened, sk_pem, iterations):
        self.hardened = hardened
        self.v = 2 if hardened else 1
        self.sk = private_key(sk_pem)
        self.iterations = iterations
        self.s = {"directory": {}, "pending": {}, "requests": {}, "queues": {}, "online": set()}
        self.confirmed = False  # §9.2's delivery mode: False = at Connect
        self.fillers = {}  # filler message bytes -> its description (vectors README)
        self.facts = {}  # message bytes -> (sender, stored size), decoded once

    def fact(self, data):
        if data not in self.facts:
            self.facts[data] = (queued_sender(self.v, data), stored_size(self.v, data))
        return self.facts[data]

    def sender_of(self, data):
        return self.fact(data)[0]

    def size_of(self, data):
        return self.fact(data)[1]

    def addressed(self, to, data):
        if data in self.fillers:
            return {"to": to.decode(), "filler": self.fillers[data]}
        return {"to": to.decode(), "message": data.hex()}

    def otp_phones(self):
        return set(self.s["pending"]) | {p for p, times in self.s["requests"].items() if times}

    def sweep(self, now):
        """§5.1: delete at most OTP_SWEEP_BATCH expired rows of each table, oldest first."""
        expired = sorted((row[1], phone) for phone, row in self.s["pending"].items() if now - row[1] > OTP_TTL)
        for _, phone in expired[:OTP_SWEEP_BATCH]:
            del self.s["pending"][phone]
        times = sorted((t, phone) for phone, ts in self.s["requests"].items() for t in ts
                       if now - t >= OTP_REQUEST_WINDOW)
        for t, phone in times[:OTP_SWEEP_BATCH]:
            self.s["requests"][phone].remove(t)
            if not self.s["requests"][phone]:
                del self.s["requests"][phone]

    def step(self, sender, data, now, draws):
        saved = copy.deepcopy(self.s)
        try:
            return self.run(sender, data, now, draws)
        except ServerError:
            # A failed check changes nothing, except the attempt counting and the removal of
            # an expired or used-up OTP (§5.3), which happen before the error is raised.
            kept = self.s["pending"]
            self.s = saved
            self.s["pending"] = kept
            raise
        except DecodeError:
            self.s = saved
            raise

    def registered(self, phone):
        if phone not in self.s["directory"]:
            raise ServerError("NotRegistered")
        return self.s["directory"][phone]

    def peer(self, phone):
        if phone not in self.s["directory"]:
            raise ServerError("UnknownPeer")

    def route(self, to, kind, fields, out):
        data = encode(self.v, kind, fields)
        if to in self.s["online"]:
            out["send"].append({"to": to.decode(), "message": data.hex()})
        else:
            queue = self.s["queues"].setdefault(to, [])
            sender = fields.get("from", fields.get("phone"))
            size = stored_size(self.v, data)
            mine = [m for m in queue if self.sender_of(m) == sender]
            if len(queue) >= MAX_QUEUED_MESSAGES:  # §9.2 check 1
                raise ServerError("QueueFull")
            if sum(self.size_of(m) for m in queue) + size > MAX_QUEUED_BYTES:  # check 2
                raise ServerError("QueueFull")
            if len(mine) >= MAX_QUEUED_PER_SENDER:  # check 3
                raise ServerError("QueueFull")
            if sum(self.size_of(m) for m in mine) + size > MAX_QUEUED_BYTES_PER_SENDER:  # check 4
                raise ServerError("QueueFull")
            queue.append(data)
            out["stored"].append({"to": to.decode(), "message": data.hex()})

    def run(self, sender, data, now, draws):
        kind, f = decode(self.v, data)
        out = {"send": [], "stored": [], "sms": []}
        im = None
        if kind == "RegisterRequest":
            recent = None
            if self.hardened:
                # §5.1 check 1 [E8]: a sliding window; a refused request is not recorded.
                recent = [t for t in self.s["requests"].get(f["phone"], []) if now - t < OTP_REQUEST_WINDOW]
                if len(recent) >= MAX_OTP_REQUESTS:
                    raise ServerError("RateLimited")
            # §5.1 check 2 (both profiles): a phone with no rows yet needs room in the tables,
            # counted again after a sweep when they are full.
            phones = self.otp_phones()
            if f["phone"] not in phones and len(phones) >= MAX_OTP_PHONES:
                self.sweep(now)
                if len(self.otp_phones()) >= MAX_OTP_PHONES:
                    raise ServerError("OtpTableFull")
            if recent is not None:
                self.s["requests"][f["phone"]] = recent + [now]
            otp = draws.otp()
            self.s["pending"][f["phone"]] = [otp, now, 0]
            out["sms"].append({"phone": f["phone"].decode(), "otp": otp.decode()})
        elif kind == "RegisterSubmit":
            im = self.submit(sender, f, now, draws, out)
        elif kind == "KeyRequest":
            self.registered(sender)
            if f["peer"] not in self.s["directory"]:
                raise ServerError("UnknownPeer")
            out["send"].append({"to": sender.decode(),
                                "message": encode(self.v, "PeerKey", entry_fields(self.s["directory"][f["peer"]])).hex()})
        elif kind == "KeyTransport":
            entry = self.registered(sender)
            self.peer(f["to"])
            fields = dict(entry_fields(entry), c=f["c"], sig=f["sig"])
            self.route(f["to"], "KeyDelivery", fields, out)
        elif kind in ("Data", "Ack"):
            self.registered(sender)
            self.peer(f["to"])
            fields = dict(f)
            del fields["to"]
            fields["from"] = sender
            self.route(f["to"], kind + "Delivery", fields, out)
        elif kind in ("Connect", "Disconnect"):
            if f["phone"] != sender:
                raise ServerError("SenderMismatch")
            if kind == "Connect":
                self.registered(f["phone"])
                if self.confirmed:
                    # §9.2: the first batch, the oldest messages within both batch bounds (at
                    # least one); the rest waits for confirmations.
                    queue, total = [], 0
                    for queued in self.s["queues"].get(f["phone"], []):
                        if queue and (len(queue) == DELIVERY_BATCH_MESSAGES
                                      or total + self.size_of(queued) > DELIVERY_BATCH_BYTES):
                            break
                        queue.append(queued)
                        total += self.size_of(queued)
                else:
                    queue = self.s["queues"].pop(f["phone"], [])
                for queued in queue:
                    out["send"].append(self.addressed(f["phone"], queued))
                self.s["online"].add(f["phone"])
            else:
                self.s["online"].discard(f["phone"])
        else:
            raise ServerError("UnexpectedMessage")
        return out, im

    def submit(self, sender, f, now, draws, out):
        phone, pk = f["phone"], f["public_key"]
        if public_key(pk) is None:
            raise ServerError("InvalidPublicKey")
        pending = self.s["pending"].get(phone)
        if pending is None:
            raise ServerError("NoPendingRegistration")
        otp, issued_at, attempts = pending
        if now - issued_at > OTP_TTL:
            del self.s["pending"][phone]
            raise ServerError("OtpExpired")
        if self.hardened and attempts >= MAX_OTP_ATTEMPTS:
            del self.s["pending"][phone]
            raise ServerError("TooManyAttempts")
        im = {}
        if self.hardened:
            possession_input = T(L_POSSESSION, phone, pk)
            if not verify(public_key(pk), "pss", possession_input, f["possession"]):
                raise ServerError("BadPossessionProof")
            label = T(L_REGISTRATION, phone)
            draws.take(32)  # the blinding seed of the private-key operation (README, Randomness)
            tag = oaep_decrypt(self.sk, f["sealed_tag"], label)
            if tag is None:
                pending[2] += 1
                raise ServerError("BadSealedTag")
            im["sealedTagLabel"], im["possessionInput"] = label, possession_input
        else:
            tag = f["tag"]
        salt, k_temp, expected = registration_values(otp, phone, pk, self.iterations)
        if not stdhmac.compare_digest(expected, tag):
            if self.hardened:
                pending[2] += 1
            raise ServerError("BadRegistrationTag")
        signed = directory_input(self.hardened, phone, pk)
        if self.hardened:
            salt_pss = draws.take(32)
            signature = pss_sign(self.sk, signed, salt_pss)
            im["pssSalt"] = salt_pss
        else:
            signature = v15_sign(self.sk, signed)
        self.s["directory"][phone] = (phone, pk, signature)
        if self.hardened:
            del self.s["pending"][phone]
        # SPEC.md §5.3 says the server "replies"; the vectors send the result to the phone
        # being registered, whatever the sender's address (reported).
        out["send"].append({"to": phone.decode(), "message": encode(self.v, "RegisterResult", entry_fields((phone, pk, signature))).hex()})
        im.update({"salt": salt, "kTemp": k_temp, "tag": expected, "directoryInput": signed,
                   "directorySignature": signature})
        return im


# ---------------------------------------------------------------------------------------------
# Running the vectors

def hexed(im):
    return None if im is None else {k: v.hex() for k, v in im.items()}


def compare(what, expected, got, problems):
    """Records each place where the file and the recomputation differ."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            compare("%s.%s" % (what, key), expected.get(key), got.get(key), problems)
    elif isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for i, (a, b) in enumerate(zip(expected, got)):
            compare("%s[%d]" % (what, i), a, b, problems)
    elif expected != got:
        problems.append("%s: file %s, computed %s" % (what, short(expected), short(got)))


def short(value):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) < 160 else text[:160] + "..."


def check_outcome(test, error, error_type, error_field, problems, error_code=None):
    if test["result"] == "valid":
        if error is not None:
            problems.append("expected valid, got %s %s" % (error_type, error))
        return
    compare("error", (test.get("errorType"), test.get("error"), test.get("errorField")),
            (error_type, error, error_field), problems)
    if error_code is not None or test.get("errorCode") is not None:
        compare("errorCode", test.get("errorCode"), error_code, problems)


def parties_of(group):
    return {p["name"]: p for p in group["parties"]}


def run_client_test(hardened, group, test):
    parties = parties_of(group)
    me = parties[group["me"]]
    if "privateKey" not in me:
        raise Malformed("me has no private key")
    iterations = checked_iterations(group.get("pbkdf2Iterations", 1))
    client = Client(hardened, me["phone"].encode(), me["privateKey"], bytes.fromhex(group["server"]["publicKey"]), iterations)
    state = test["registration"]
    client.s["registration"] = state
    if state == "Registered":
        client.s["entry"] = (me["phone"].encode(), bytes.fromhex(me["publicKey"]), bytes.fromhex(me["entrySignature"]))
    for seen in test.get("seenTransports", []):
        if state != "Registered" or not 0 <= seen["count"] <= MAX_TRANSPORTS_PER_PEER:
            raise Malformed("seenTransports %r" % seen)
        peer = parties[seen["peer"]]["phone"].encode()
        for i in range(seen["count"]):
            client.record_transport(peer, b"\xf1" * 28 + i.to_bytes(4, "big"))
    problems = []
    for i, step in enumerate(test.get("setup", [])):
        try:
            client.step(step["input"], Draws(step.get("rngSeed")))
            got = "ok"
        except (ClientError, DecodeError) as e:
            got = e.name
        if got != step["expect"]:
            return ["setup step %d: expected %s, got %s" % (i, step["expect"], got)]
    try:
        sends, events, im = client.step(test["input"], Draws(test.get("rngSeed")))
    except DecodeError as e:
        check_outcome(test, e.name, "DecodeError", e.field, problems)
        return problems
    except ClientError as e:
        check_outcome(test, e.name, "ClientError", None, problems)
        return problems
    check_outcome(test, None, None, None, problems)
    if test["result"] == "valid":
        output = {"send": [encode(client.v, kind, fields).hex() for kind, fields in sends], "events": events,
                  "registration": client.s["registration"]}
        compare("output", test.get("output"), output, problems)
        compare("intermediate", test.get("intermediate"), hexed(im), problems)
    return problems


def checked_iterations(count):
    """SPEC.md's count or fewer (the reduced files), never more: a file must not make us run for hours."""
    if not isinstance(count, int) or not 1 <= count <= 600_000:
        raise Malformed("pbkdf2Iterations %r" % count)
    return count


def run_server_test(hardened, group, test):
    parties = parties_of(group)
    server = Server(hardened, group["server"]["privateKey"], checked_iterations(group["pbkdf2Iterations"]))
    if serialization.load_der_public_key(bytes.fromhex(group["server"]["publicKey"])).public_numbers() != \
            server.sk.public_key().public_numbers():
        raise Malformed("server key pair mismatch")
    for name in test["directory"]:
        p = parties[name]
        phone = p["phone"].encode()
        server.s["directory"][phone] = (phone, bytes.fromhex(p["publicKey"]), bytes.fromhex(p["entrySignature"]))
    for pending in test.get("pending", []):
        server.s["pending"][pending["phone"].encode()] = [pending["otp"].encode(), pending["issuedAt"], pending["attempts"]]
    for requests in test.get("otpRequests", []):
        server.s["requests"][requests["phone"].encode()] = list(requests["times"])
    filler = test.get("otpPhones")
    if filler is not None:
        if not 0 <= filler["count"] <= MAX_OTP_PHONES:
            raise Malformed("otpPhones %r" % filler)
        for i in range(filler["count"]):
            server.s["pending"][b"+1999%07d" % i] = [b"000000", filler["issuedAt"], 0]
    for queued in test.get("queued", []):
        if ("message" in queued) == ("filler" in queued):
            raise Malformed("a queued entry needs exactly one of message and filler")
        if "filler" in queued:
            data = filler_message(server.v, queued["filler"])
            server.fillers[data] = queued["filler"]
        else:
            data = bytes.fromhex(queued["message"])
        decode(server.v, data)
        queue = server.s["queues"].setdefault(parties[queued["to"]]["phone"].encode(), [])
        count = queued["count"]
        # No conforming server holds more than §9.2's bounds (and a file must not make us try).
        if not 0 <= count <= MAX_QUEUED_MESSAGES - len(queue) or \
                sum(map(server.size_of, queue)) + count * server.size_of(data) > MAX_QUEUED_BYTES:
            raise Malformed("a queue longer than MAX_QUEUED_MESSAGES or MAX_QUEUED_BYTES")
        queue.extend([data] * count)
    if test.get("delivery", "onConnect") not in ("onConnect", "confirmed"):
        raise Malformed("delivery %r" % test.get("delivery"))
    server.confirmed = test.get("delivery") == "confirmed"
    for name in test.get("online", []):
        phone = parties[name]["phone"].encode()
        # Bringing a party online is a Connect at time 0 (it receives what is queued).
        server.step(phone, encode(server.v, "Connect", {"phone": phone}), 0, Draws(None))
    for i, step in enumerate(test.get("setup", [])):
        inp = step["input"]
        try:
            server.step(inp["from"].encode(), bytes.fromhex(inp["message"]), inp["now"], Draws(step.get("rngSeed")))
            got = "ok"
        except (ServerError, DecodeError) as e:
            got = e.name
        if got != step["expect"]:
            return ["setup step %d: expected %s, got %s" % (i, step["expect"], got)]
    problems = []
    inp = test["input"]
    try:
        out, im = server.step(inp["from"].encode(), bytes.fromhex(inp["message"]), inp["now"], Draws(test.get("rngSeed")))
    except DecodeError as e:
        check_outcome(test, e.name, "DecodeError", e.field, problems)
        return problems
    except ServerError as e:
        check_outcome(test, e.name, "ServerError", None, problems, SERVER_ERROR_CODES[e.name])
        return problems
    check_outcome(test, None, None, None, problems)
    if test["result"] == "valid":
        compare("output", test.get("output"), out, problems)
        compare("intermediate", test.get("intermediate"), hexed(im), problems)
    return problems


def run_decode_test(hardened, test):
    v = 2 if hardened else 1
    data = bytes.fromhex(test["message"])
    problems = []
    try:
        kind, fields = decode(v, data)
    except DecodeError as e:
        if test["result"] == "valid":
            return ["expected valid, got %s" % e.name]
        compare("error", (test.get("error"), test.get("errorField")), (e.name, e.field), problems)
        return problems
    if test["result"] != "valid":
        return ["expected %s, the bytes decode as %s" % (test.get("error"), kind)]
    compare("messageType", test.get("messageType"), kind, problems)
    compare("re-encoding", test["message"], encode(v, kind, fields).hex(), problems)
    return problems


def run_encode_test(hardened, test):
    v = 2 if hardened else 1
    try:
        data = checked_encode(v, test["messageType"], test.get("layout"), test["fields"])
    except DecodeError as e:  # the encoder's errors, raised the same way
        if test["result"] == "valid":
            return ["expected valid, got %s %s" % (e.name, e.field)]
        problems = []
        compare("error", (test.get("error"), test.get("errorField")), (e.name, e.field), problems)
        return problems
    if test["result"] != "valid":
        return ["expected %s, the message encodes" % test.get("error")]
    problems = []
    compare("encoded", test.get("encoded"), data.hex(), problems)
    return problems


def run_keys_test(test):
    k, sid = bytes.fromhex(test["sessionKey"]), bytes.fromhex(test["sessionId"])
    enc_info, mac_info, enc, mac = message_keys(k, sid, test["direction"])
    problems = []
    for name, value in (("encInfo", enc_info), ("macInfo", mac_info), ("encKey", enc), ("macKey", mac)):
        compare(name, test[name], value.hex(), problems)
    return problems


def spec_ids(path):
    """The check ids of SPEC.md ("How to read this document"): row n of a check table in §x.y
    (§5–§9; a table whose header starts `| # |`) is Sx.y.n, §7.4's seed and hardened tables
    Sx.y s/h; each §3 constant is its own id. Returns {id: (profiles, error names)}."""
    ids, major, section, prefix, profiles = {}, 0, None, None, None
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        if line.startswith("## "):
            number = re.match(r"## (\d+)\.", line)
            major, section, prefix = (int(number.group(1)) if number else -1), None, None
            continue
        if line.startswith("### "):
            section, prefix = line.split()[1], None
            continue
        if not line.startswith("|"):
            prefix = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if major == 3:
            name = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0])
            if name:
                ids[name.group(1)] = ({"hardened"} if "[E" in cells[-1] else {"seed", "hardened"}, set())
            continue
        if not (5 <= major <= 9) or section is None:
            continue
        if cells[0] == "#":
            suffix = "s" if "(seed)" in cells[1] else "h" if "(hardened)" in cells[1] else ""
            profiles = {"s": {"seed"}, "h": {"hardened"}, "": {"seed", "hardened"}}[suffix]
            prefix = "S" + section + suffix
            continue
        if prefix is None or (cells[0] and set(cells[0]) <= set("-:")):
            continue
        errors = {re.split(r"[( {]", t)[0] for t in cells[-1].split("`")[1::2]}
        if cells[0] == "":
            ids[last][1].update(errors)
            continue
        last = "%s.%s" % (prefix, cells[0])
        row = {"hardened"} if cells[1].startswith("[E") else {"seed"} if cells[1].startswith("(seed") else profiles
        ids[last] = (row, errors)
    return ids


def check_ids(ids, profile, test):
    """A test's `checks` name ids SPEC.md gives for this profile, and a rejected test fails
    with an error that one of its named checks gives."""
    named = []
    for check in test.get("checks", []):
        if check not in ids:
            return ["checks: SPEC.md gives no id %r" % check]
        if profile not in ids[check][0]:
            return ["checks: %s is not a check of the %s profile" % (check, profile)]
        if check.startswith("S"):
            named.append(check)
    if test["result"] == "invalid" and named and not any(test.get("error") in ids[c][1] for c in named):
        return ["checks: the error %s is not one that %s names" % (test.get("error"), ", ".join(named))]
    return []


def check_file(path, ids=None):
    name = os.path.basename(path)
    with open(path) as handle:
        data = json.load(handle)
    if data.get("schema") != "ee2e_conformance_v1":
        raise Malformed("%s: unknown schema %r" % (name, data.get("schema")))
    if data["profile"] not in ("seed", "hardened"):
        raise Malformed("%s: profile %r" % (name, data["profile"]))
    hardened = data["profile"] == "hardened"
    results = []
    for group in data["testGroups"]:
        for test in group["tests"]:
            try:
                if group["type"] == "ClientSteps":
                    problems = run_client_test(hardened, group, test)
                elif group["type"] == "ServerSteps":
                    problems = run_server_test(hardened, group, test)
                elif group["type"] == "Decode":
                    problems = run_decode_test(hardened, test)
                elif group["type"] == "Encode":
                    problems = run_encode_test(hardened, test)
                elif group["type"] == "MessageKeys":
                    problems = run_keys_test(test)
                else:
                    raise Malformed("unknown group type " + group["type"])
            except (Malformed, KeyError, ValueError, TypeError) as e:
                problems = ["cannot run: %r" % (e,)]
            if ids is not None:
                problems = check_ids(ids, data["profile"], test) + problems
            results.append((test.get("tcId"), test["result"], problems))
    if len(results) != data["numberOfTests"]:
        raise Malformed("%s: numberOfTests %d, found %d" % (name, data["numberOfTests"], len(results)))
    return data["profile"], results


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    directory = argv[1] if len(argv) > 1 else os.path.join(here, "..", "vectors")
    paths = sorted(glob.glob(os.path.join(directory, "*.json")))
    spec = os.path.join(here, "..", "..", "spec", "SPEC.md")
    ids = spec_ids(spec) if os.path.exists(spec) else None
    if ids is None:
        print("no SPEC.md at %s: the tests' check ids are not checked" % spec)
    if not paths:
        print("no vector files in %s" % directory)
        return 1
    passed = failed = 0
    for path in paths:
        name = os.path.basename(path)
        try:
            profile, results = check_file(path, ids)
        except (Malformed, OSError, ValueError, KeyError) as e:
            print("%s: cannot read: %s" % (name, e))
            failed += 1
            continue
        ok = sum(1 for _, _, p in results if not p)
        valid = sum(1 for _, r, _ in results if r == "valid")
        print("%-38s %8s  %4d valid %4d invalid  %4d passed %4d failed"
              % (name, profile, valid, len(results) - valid, ok, len(results) - ok))
        for tc_id, _, problems in results:
            if problems:
                print("FAIL %s tcId %s: %s" % (name, tc_id, "; ".join(problems)))
        passed += ok
        failed += len(results) - ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
