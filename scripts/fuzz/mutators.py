"""Mutation strategies of the fuzz harness: each takes the seed's bytes and a seeded
random.Random and returns (strategy name, mutant bytes). Same seed, same mutant."""

from __future__ import annotations

import io
import random
import struct
import zipfile

# Integer values that break length, offset and count fields: zero, one, all bits set,
# the signed extremes and large powers of two, written little- or big-endian.
EXTREME_INTS = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                1 << 40, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF]


def _offset(rng: random.Random, size: int) -> int:
    """A mutation offset, biased towards the first and last 8 KiB where formats keep headers."""
    if size <= 1:
        return 0
    choice = rng.random()
    if choice < 0.35:
        return rng.randrange(min(size, 8192))
    if choice < 0.5:
        return rng.randrange(max(0, size - 8192), size)
    return rng.randrange(size)


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = _offset(rng, len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_sets(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        out[_offset(rng, len(out))] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
    return bytes(out)


def truncation(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def block_copy(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data
    length = rng.randint(1, min(4096, len(data) // 2 or 1))
    source = rng.randrange(len(data) - length + 1)
    target = _offset(rng, len(data))
    block = data[source: source + length]
    if rng.random() < 0.5:  # overwrite in place
        return data[:target] + block + data[target + len(block):]
    return data[:target] + block + data[target:]  # insert


def extreme_int(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        width = rng.choice([2, 4, 8])
        if len(out) < width:
            break
        i = _offset(rng, len(out) - width + 1)
        if rng.random() < 0.7:
            i -= i % width  # HDF5 and zip fields are mostly aligned
        value = rng.choice(EXTREME_INTS) & ((1 << (8 * width)) - 1)
        out[i: i + width] = value.to_bytes(width, rng.choice(["little", "big"]))
    return bytes(out)


BINARY_STRATEGIES = {
    "bitflip": bit_flips,
    "byteset": byte_sets,
    "truncate": truncation,
    "blockcopy": block_copy,
    "extremeint": extreme_int,
}

# Tokens that stress a YAML or JSON reader: anchors and aliases, flow brackets, tags,
# numbers far out of range, deep nesting, control characters.
TEXT_TOKENS = ["&a ", "*a", "<<: *a", "[", "]", "{", "}", ": ", "- ", "!!binary ", "!!python/object ", "~", "1e400",
               "-1", "99999999999999999999", "0x7fffffff", "\"", "'", "\t", "\x00", "? ", "---\n", "...\n",
               "[" * 200, "{\"a\":" * 200, "null", "NaN", "-.inf", "\\u0000", "%YAML 1.1\n"]


def text_edit(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        action = rng.randrange(5)
        if action == 0:
            del lines[i]
        elif action == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif action == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            token = rng.choice(TEXT_TOKENS).encode("utf-8")
            at = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:at] + token + lines[i][at:]
    return b"\n".join(lines)


TEXT_STRATEGIES = {"textedit": text_edit, "bitflip": bit_flips, "truncate": truncation, "blockcopy": block_copy}


def _zip_entries(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def _zip_write(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, payload)
    return buffer.getvalue()


def zip_inner(data: bytes, rng: random.Random) -> bytes:
    """Mutates one entry's contents (config JSON or the weights HDF5) and re-packs the archive."""
    entries = _zip_entries(data)
    index = rng.randrange(len(entries))
    info, payload = entries[index]
    strategies = TEXT_STRATEGIES if info.filename.endswith(".json") else BINARY_STRATEGIES
    mutate = strategies[rng.choice(sorted(strategies))]
    items = [(i.filename, p) for i, p in entries]
    items[index] = (info.filename, mutate(payload, rng))
    return _zip_write(items)


def zip_structure(data: bytes, rng: random.Random) -> bytes:
    """Edits the archive itself: entry names (`../`, absolute, duplicate, missing), sizes and
    offsets in local and central headers, stored versus deflated entries."""
    entries = [(i.filename, p) for i, p in _zip_entries(data)]
    action = rng.randrange(6)
    if action == 0:
        i = rng.randrange(len(entries))
        entries[i] = (rng.choice(["../" + entries[i][0], "/tmp/" + entries[i][0], "a/../../" + entries[i][0],
                                  entries[i][0] + "\x00x"]), entries[i][1])
        return _zip_write(entries)
    if action == 1:
        return _zip_write(entries + [entries[rng.randrange(len(entries))]])
    if action == 2:
        del entries[rng.randrange(len(entries))]
        return _zip_write(entries)
    if action == 3:
        return _zip_write(entries, zipfile.ZIP_STORED)
    # Overwrite a size, offset or length field of a local (PK\3\4) or central (PK\1\2) header.
    out = bytearray(data)
    headers = [(i, 4) for i in _find_all(out, b"PK\x03\x04")] + [(i, 1) for i in _find_all(out, b"PK\x01\x02")] \
        + [(i, 6) for i in _find_all(out, b"PK\x05\x06")]
    if not headers:
        return bit_flips(data, rng)
    at, kind = rng.choice(headers)
    fields = {4: [(14, 4), (18, 4), (22, 4), (26, 2), (28, 2)],          # crc, csize, usize, name len, extra len
              1: [(16, 4), (20, 4), (24, 4), (28, 2), (30, 2), (42, 4)],  # crc, csize, usize, name, extra, offset
              6: [(8, 2), (10, 2), (12, 4), (16, 4)]}[kind]                # entries, total, cd size, cd offset
    offset, width = rng.choice(fields)
    if at + offset + width <= len(out):
        value = rng.choice(EXTREME_INTS + [len(data) * 10_000]) & ((1 << (8 * width)) - 1)
        out[at + offset: at + offset + width] = struct.pack("<I" if width == 4 else "<H", value)
    return bytes(out)


def _find_all(data: bytearray, needle: bytes) -> list[int]:
    found, start = [], 0
    while (i := data.find(needle, start)) >= 0:
        found.append(i)
        start = i + 1
    return found


ZIP_STRATEGIES = {"zip-inner": zip_inner, "zip-structure": zip_structure, "bitflip": bit_flips, "truncate": truncation,
                  "extremeint": extreme_int}


def mutate(kind: str, data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One mutant of `data` for a seed of `kind` ("binary", "text" or "zip")."""
    strategies = {"binary": BINARY_STRATEGIES, "text": TEXT_STRATEGIES, "zip": ZIP_STRATEGIES}[kind]
    name = rng.choice(sorted(strategies))
    try:
        return name, strategies[name](data, rng)
    except (zipfile.BadZipFile, ValueError, IndexError):
        return "bitflip", bit_flips(data, rng)
