#!/usr/bin/python3
"""Image-decoding fixtures: small images in every colour form, and the RGB that Pillow's
``Image.open(f).convert("RGB")`` (what the DiT reference's data loader does) gives for each.

    python3 tools/reference/make_image_fixtures.py --out data-prep/src/test/resources/fixtures/pillow

Needs Pillow (``pip install pillow`` or ``apt-get install python3-pil``) and numpy. For each form NAME it
writes NAME.png or NAME.jpg (the input) and NAME_png.rgb or NAME_jpg.rgb (height x width x 3 bytes, Pillow's decoding, row-major),
plus index.json listing name, file, width, height, Pillow's mode and the Pillow version. Deterministic:
fixed seeds; the same Pillow/libjpeg give the same bytes (sha256 printed).

Forms Pillow cannot write (16-bit RGB/RGBA/LA PNG, grey with a tRNS colour, 2-bit grey, YCCK JPEG, CMYK
JPEG without the Adobe marker) are written here byte by byte: PNG chunks by hand, and JPEGs by patching
the Adobe APP14 marker of a CMYK JPEG Pillow wrote (transform 0 -> 2 makes the same scan YCCK; removing
the marker makes it non-inverted CMYK). Pillow still decodes every one of them: that decoding is the fixture.
"""
import argparse
import hashlib
import io
import json
import os
import struct
import zlib

import numpy as np
import PIL
from PIL import Image

W, H = 13, 9  # odd sizes: exercises partial JPEG blocks and chroma edges


def gradient(seed, channels, maximum=255):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    out = np.empty((H, W, channels), dtype=np.int64)
    for c in range(channels):
        base = (x * (c + 3) * 19 + y * (7 - c) * 23) % (maximum + 1)
        out[..., c] = np.clip(base + rng.integers(-maximum // 16, maximum // 16 + 1, size=(H, W)), 0, maximum)
    return out


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(samples, bit_depth, colour_type, extra=b""):
    """A PNG from an H x W x C integer array, unfiltered rows, big-endian samples (PNG spec)."""
    h, w, c = samples.shape
    rows = []
    for row in samples:
        if bit_depth == 16:
            body = row.astype(">u2").tobytes()
        elif bit_depth == 8:
            body = row.astype(np.uint8).tobytes()
        else:  # packed grey, one channel
            per = 8 // bit_depth
            vals = list(row[:, 0]) + [0] * (-len(row) % per)
            body = bytes(sum(int(v) << (8 - bit_depth * (k + 1)) for k, v in enumerate(vals[i:i + per]))
                         for i in range(0, len(vals), per))
        rows.append(b"\x00" + body)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra
            + png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + png_chunk(b"IEND", b""))


def save(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def adobe_segment(jpeg):
    """(start, end) of the APP14 'Adobe' segment."""
    i = 2
    while i < len(jpeg):
        marker, length = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        if marker == 0xEE and jpeg[i + 4:i + 9] == b"Adobe":
            return i, i + 2 + length
        if marker == 0xDA:
            break
        i += 2 + length
    raise ValueError("no Adobe APP14 marker")


def forms():
    rgb = gradient(1, 3).astype(np.uint8)
    grey = gradient(2, 1)[..., 0].astype(np.uint8)
    alpha = gradient(3, 1)[..., 0].astype(np.uint8)
    out = {}
    out["rgb.png"] = save(Image.fromarray(rgb, "RGB"), "PNG")
    out["rgb.jpg"] = save(Image.fromarray(rgb, "RGB"), "JPEG", quality=90)
    out["rgba.png"] = save(Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "PNG")
    out["grey.png"] = save(Image.fromarray(grey, "L"), "PNG")
    out["grey.jpg"] = save(Image.fromarray(grey, "L"), "JPEG", quality=90)
    out["grey_alpha.png"] = save(Image.fromarray(np.dstack([grey, alpha]), "LA"), "PNG")
    out["bilevel.png"] = save(Image.fromarray(grey > 128).convert("1"), "PNG")
    pal = Image.fromarray(rgb, "RGB").quantize(colors=16, dither=Image.Dither.NONE)
    out["palette.png"] = save(pal, "PNG")
    out["palette_transparency.png"] = save(pal, "PNG", transparency=3)
    pal_alpha = pal.copy()
    pal_alpha.info["transparency"] = bytes(range(0, 256, 16))  # a tRNS alpha per palette entry
    out["palette_alpha.png"] = save(pal_alpha, "PNG", transparency=bytes(range(0, 256, 16)))
    g16 = gradient(4, 1, 65535)
    g16[0, :6, 0] = [0, 200, 255, 256, 1000, 65535]  # Pillow clips 16-bit grey to 255, it does not scale
    out["grey16.png"] = raw_png(g16, 16, 0)
    out["rgb16.png"] = raw_png(gradient(5, 3, 65535), 16, 2)
    out["rgba16.png"] = raw_png(gradient(6, 4, 65535), 16, 6)
    out["grey_alpha16.png"] = raw_png(gradient(7, 2, 65535), 16, 4)
    out["grey2.png"] = raw_png(gradient(8, 1, 3), 2, 0)
    out["grey4.png"] = raw_png(gradient(9, 1, 15), 4, 0)
    out["grey_trns.png"] = raw_png(gradient(10, 1), 8, 0, png_chunk(b"tRNS", struct.pack(">H", 77)))
    out["rgb_trns.png"] = raw_png(gradient(11, 3), 8, 2, png_chunk(b"tRNS", struct.pack(">HHH", 10, 20, 30)))
    cmyk = gradient(12, 4).astype(np.uint8)
    cmyk_jpeg = save(Image.fromarray(cmyk, "CMYK"), "JPEG", quality=92)  # Adobe marker, inverted, as Photoshop
    out["cmyk_adobe.jpg"] = cmyk_jpeg
    start, end = adobe_segment(cmyk_jpeg)
    seg = bytearray(cmyk_jpeg[start:end])
    seg[-1] = 2  # the transform byte, last of the segment: 2 = YCCK
    out["ycck_adobe.jpg"] = cmyk_jpeg[:start] + bytes(seg) + cmyk_jpeg[end:]
    out["cmyk_plain.jpg"] = cmyk_jpeg[:start] + cmyk_jpeg[end:]  # no Adobe marker: not inverted
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    index = []
    for file, data in sorted(forms().items()):
        name = file.replace(".", "_")
        with open(os.path.join(args.out, file), "wb") as f:
            f.write(data)
        im = Image.open(io.BytesIO(data))
        mode = im.mode
        decoded = np.asarray(im.convert("RGB"), dtype=np.uint8)
        assert decoded.shape == (H, W, 3), (file, decoded.shape)
        with open(os.path.join(args.out, name + ".rgb"), "wb") as f:
            f.write(decoded.tobytes())
        index.append(dict(name=name, file=file, width=W, height=H, pillow_mode=mode))
        print(f"{file:28s} {mode:6s} {hashlib.sha256(data).hexdigest()[:16]} rgb[0,0]={decoded[0, 0].tolist()}")
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(dict(pillow=PIL.__version__, images=index), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
