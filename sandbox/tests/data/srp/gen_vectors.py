#!/usr/bin/env python3
"""Known-answer vectors for Telegram's 2FA SRP (https://core.telegram.org/api/srp).

An independent implementation of the spec using only the Python standard library
(hashlib.sha256, hashlib.pbkdf2_hmac, pow(base, exp, mod)); it shares no code with the
Rust implementation it checks.

Regenerate with:

    python3 tests/data/srp/gen_vectors.py > tests/data/srp/vectors.json

The output is deterministic: every "random" value (salts, a, b) is derived from a label with
SHAKE-256, so rerunning the script reproduces vectors.json byte for byte.

The two extra safe primes were made once with OpenSSL 3.0.19:

    openssl prime -generate -safe -bits 2048 -hex

and are checked here with a Miller-Rabin test (p and (p - 1) / 2) before use.
"""

import hashlib
import json
import sys

# Telegram's well-known 2048-bit safe prime (g = 3), as sent by account.getPassword.
TELEGRAM_P = int(
    "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f"
    "48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c37"
    "20fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f64"
    "2477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4"
    "a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754"
    "fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4"
    "e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f"
    "0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
    16,
)

# openssl prime -generate -safe -bits 2048 -hex (used by the vectors below).
OTHER_P = int(
    "EC3E9DCCFC333304FF0FE40248403990145E1A0EDF0559A7134EDD0665795650"
    "24FED05117B71F44323138B302E92CDD685367C3149E83775C86E993D4F13C65"
    "FB49AC7DD3BFFCECFFD459897FE83640B8F3FC124B479DEAB6D6B3584B68DE6A"
    "051E4568AE0A32ECCB156405E9F131BB6219EBDDB43B5F918E5D1FA6C9728BF1"
    "EE74072F288175A90B345DC7BB0DBD81CA42D99F988C8E167A739CBFAD8392BB"
    "5D2E3AB881105A4346F2439688DBBAB87D4D956084231C18D29319D83F4EB596"
    "883CC58C056DE0E6F50F040587F9A309B08F278EDE434A6C843065EB838CC8F6"
    "BCDDF379BC827F1CBF85756C913AF4015FA6C64759B97E2B8C6C6380A3205123",
    16,
)

# openssl prime -generate -safe -bits 2048 -hex (used only by the prime-cache test, so that
# no other test puts it in the cache first).
CACHE_P = int(
    "F7C0353C226B5E46E9C56D956A577FBE7533ED8A15D55E9D25202FE80B1D30BC"
    "8BA2D41250F9E748E20940F36B5680883435AFFCF8E2941A037E623EE497BAE9"
    "B1E384FC5CDDD154068A58DD35B224FA14407BBF76F3E7EB6BB17B1E1DFA5C96"
    "6CA137B52B47A3E7C6B74374B362246E1EEE1B8BB9187A1CAC4F4672B29884BD"
    "11DCBF723BE9033D5B5A66678FDA2C7F04E9B3405F7B554263C82564A04E042B"
    "709184F466B5028C50DBB0142903F9999B21EE94CB18FD51590A7F7348C73F4B"
    "3BF1E771105144284AA7FFC3A80D599EF20F339148A12B58EE9EF8A1129F7EED"
    "997DC468E69A15148BF6FDF6B0D41FFD40BA0D59263E1CE3F74FE855AB8A53EB",
    16,
)

SMALL_PRIMES = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
    73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
    157, 163, 167, 173,
]


def is_probable_prime(n):
    """Miller-Rabin with the first 40 primes as bases (error below 4^-40)."""
    if n < 2:
        return False
    for q in SMALL_PRIMES:
        if n % q == 0:
            return n == q
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for base in SMALL_PRIMES:
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def is_safe_prime(n):
    return is_probable_prime(n) and is_probable_prime((n - 1) // 2)


def residue_ok(p, g):
    """The per-g conditions under which g generates the subgroup of order (p - 1) / 2."""
    if g == 2:
        return p % 8 == 7
    if g == 3:
        return p % 3 == 2
    if g == 4:
        return True
    if g == 5:
        return p % 5 in (1, 4)
    if g == 6:
        return p % 24 in (19, 23)
    if g == 7:
        return p % 7 in (3, 5, 6)
    return False


def det_bytes(label, n):
    return hashlib.shake_256(label.encode("utf-8")).digest(n)


def pad256(n):
    return n.to_bytes(256, "big")


def H(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


def SH(data, salt):
    return H(salt, data, salt)


def PH1(password, salt1, salt2):
    return SH(SH(password, salt1), salt2)


def PH2(password, salt1, salt2):
    return SH(hashlib.pbkdf2_hmac("sha512", PH1(password, salt1, salt2), salt1, 100000), salt2)


def in_safe_range(value, p):
    low = 1 << (2048 - 64)
    return 1 < value < p - 1 and low <= value <= p - low


def make_vector(name, password, salt1, salt2, p, g, srp_id, a, b):
    assert residue_ok(p, g)
    p_bytes = pad256(p)
    g_bytes = pad256(g)

    # Both sides.
    x = int.from_bytes(PH2(password, salt1, salt2), "big")
    v = pow(g, x, p)
    k = int.from_bytes(H(p_bytes, g_bytes), "big")

    # Server: B := (k * v + g^b) mod p.
    g_b = (k * v + pow(g, b, p)) % p
    # Client: A := g^a mod p.
    g_a = pow(g, a, p)
    assert in_safe_range(g_b, p), name
    assert in_safe_range(g_a, p), name

    u = int.from_bytes(H(pad256(g_a), pad256(g_b)), "big")
    assert u != 0

    # Client: S := (B - k * v) ^ (a + u * x) mod p.
    t = (g_b - k * v) % p
    s_client = pow(t, a + u * x, p)
    # Server: S := (A * v^u) ^ b mod p.
    s_server = pow(g_a * pow(v, u, p), b, p)
    assert s_client == s_server, name

    k_a = H(pad256(s_client))
    h_p = H(p_bytes)
    h_g = H(g_bytes)
    p_xor_g = bytes(i ^ j for i, j in zip(h_p, h_g))
    m1 = H(p_xor_g, H(salt1), H(salt2), pad256(g_a), pad256(g_b), k_a)

    return {
        "name": name,
        "password_hex": password.hex(),
        "salt1": salt1.hex(),
        "salt2": salt2.hex(),
        "g": g,
        "p": p_bytes.hex(),
        "srp_id": srp_id,
        "a": a.to_bytes(256, "big").hex(),
        "b": b.to_bytes(256, "big").hex(),
        "x": x.to_bytes(32, "big").hex(),
        "v": pad256(v).hex(),
        "k": k.to_bytes(32, "big").hex(),
        "srp_B": pad256(g_b).hex(),
        "g_a": pad256(g_a).hex(),
        "u": u.to_bytes(32, "big").hex(),
        "s": pad256(s_client).hex(),
        "k_a": k_a.hex(),
        "m1": m1.hex(),
    }


def rand_int(label):
    return int.from_bytes(det_bytes(label, 256), "big")


def find_composite(start, g):
    """The first odd 2048-bit composite at or after `start` that passes the residue rule for g."""
    n = start
    while not (residue_ok(n, g) and n % 2 == 1 and not is_probable_prime(n)):
        n += 2
    return n


def find_prime_not_safe(start, g):
    """The first prime at or after `start` (passing the residue rule for g) that is not safe."""
    n = start | 1
    while not (residue_ok(n, g) and is_probable_prime(n) and not is_probable_prime((n - 1) // 2)):
        n += 2
    return n


def main():
    for p in (TELEGRAM_P, OTHER_P, CACHE_P):
        assert p.bit_length() == 2048
        assert is_safe_prime(p)

    vectors = []
    specs = [
        # name, password, salt1, salt2, p, g
        ("ascii", b"hunter2", det_bytes("salt1/ascii", 40), det_bytes("salt2/ascii", 16), TELEGRAM_P, 3),
        ("empty-password", b"", det_bytes("salt1/empty", 40), det_bytes("salt2/empty", 16), TELEGRAM_P, 3),
        (
            "utf8",
            "пароль 🔑 Ünïcödé".encode("utf-8"),
            det_bytes("salt1/utf8", 40),
            det_bytes("salt2/utf8", 16),
            TELEGRAM_P,
            3,
        ),
        ("empty-salts", b"correct horse battery staple", b"", b"", TELEGRAM_P, 3),
        ("long-password-short-salts", b"x" * 300, b"\x00", b"\xff", TELEGRAM_P, 3),
        ("other-prime-g5", b"hunter2", det_bytes("salt1/g5", 40), det_bytes("salt2/g5", 16), OTHER_P, 5),
        ("other-prime-g7", b"7", det_bytes("salt1/g7", 8), det_bytes("salt2/g7", 32), OTHER_P, 7),
        ("telegram-prime-g4", b"four", det_bytes("salt1/g4", 40), det_bytes("salt2/g4", 16), TELEGRAM_P, 4),
        ("telegram-prime-g7", b"seven", det_bytes("salt1/tg7", 40), det_bytes("salt2/tg7", 16), TELEGRAM_P, 7),
    ]
    for index, (name, password, salt1, salt2, p, g) in enumerate(specs):
        srp_id = int.from_bytes(det_bytes("srp_id/" + name, 8), "big", signed=True)
        a = rand_int("a/" + name)
        b = rand_int("b/" + name)
        vectors.append(make_vector(name, password, salt1, salt2, p, g, srp_id, a, b))

    composite = find_composite(TELEGRAM_P + 2, 3)
    prime_not_safe = find_prime_not_safe(TELEGRAM_P + 2, 3)
    assert composite.bit_length() == 2048 and prime_not_safe.bit_length() == 2048

    out = {
        "generated_by": "tests/data/srp/gen_vectors.py (Python stdlib only: hashlib, pow); "
        "regenerate: python3 tests/data/srp/gen_vectors.py > tests/data/srp/vectors.json",
        "telegram_p": pad256(TELEGRAM_P).hex(),
        "other_safe_p": pad256(OTHER_P).hex(),
        "cache_test_safe_p": pad256(CACHE_P).hex(),
        "composite_p_g3": pad256(composite).hex(),
        "prime_not_safe_p_g3": pad256(prime_not_safe).hex(),
        "vectors": vectors,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
