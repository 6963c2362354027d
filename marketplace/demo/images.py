"""Product pictures drawn locally with Pillow, so demo data needs no network.

Each category has its own palette and motif (beans, grains, fruit, leaves, honeycomb…);
the product's code seeds the layout, so every product looks different and re-seeding
draws the same picture again.
"""

import io
import math
import random
from zlib import crc32

from PIL import Image, ImageDraw, ImageFilter

SIZE = 600

# motif, background, foreground colours
STYLES = {
    "coffee": ("bean", (92, 58, 38), [(60, 35, 22), (130, 84, 52), (166, 112, 72)]),
    "rice": ("grain", (244, 238, 220), [(255, 255, 250), (230, 220, 190), (214, 200, 160)]),
    "fruit": ("fruit", (218, 236, 200), [(236, 178, 40), (120, 170, 60), (210, 70, 60)]),
    "spice": ("dot", (120, 40, 30), [(30, 20, 15), (180, 90, 40), (220, 200, 170)]),
    "honey": ("hex", (252, 196, 70), [(230, 150, 20), (255, 220, 120), (200, 120, 10)]),
    "herb": ("leaf", (210, 220, 190), [(70, 110, 50), (150, 110, 60), (110, 150, 80)]),
    "tea": ("leaf", (170, 200, 140), [(40, 100, 40), (90, 150, 70), (20, 70, 30)]),
    "dried": ("grain", (232, 210, 170), [(170, 100, 50), (200, 140, 80), (120, 70, 40)]),
}


def _bean(image, draw, rng, colours):
    x, y = rng.randrange(-40, SIZE), rng.randrange(-40, SIZE)
    w, h = rng.randrange(50, 80), rng.randrange(34, 52)
    draw.ellipse((x, y, x + w, y + h), fill=rng.choice(colours))
    draw.arc((x + 8, y + 4, x + w - 8, y + h - 4), 200, 340, fill=(40, 22, 14), width=4)


def _grain(image, draw, rng, colours):
    x, y = rng.randrange(-20, SIZE), rng.randrange(-20, SIZE)
    w, h = rng.randrange(30, 44), rng.randrange(10, 16)
    if rng.random() < 0.5:
        w, h = h, w
    draw.ellipse((x, y, x + w, y + h), fill=rng.choice(colours), outline=(190, 180, 150))


def _fruit(image, draw, rng, colours):
    x, y, r = rng.randrange(0, SIZE), rng.randrange(0, SIZE), rng.randrange(45, 95)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(colours))
    draw.ellipse((x - r // 3, y - r // 2, x, y - r // 4), fill=(255, 255, 255, 90))
    draw.line((x, y - r, x + 8, y - r - 22), fill=(90, 60, 30), width=6)


def _dot(image, draw, rng, colours):
    x, y, r = rng.randrange(0, SIZE), rng.randrange(0, SIZE), rng.randrange(6, 16)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(colours))


def _hex(image, draw, rng, colours):
    r = 46
    col, row = rng.randrange(0, 9), rng.randrange(0, 9)
    cx = col * r * 1.5
    cy = row * r * math.sqrt(3) + (col % 2) * r * math.sqrt(3) / 2
    points = [
        (cx + r * math.cos(math.pi / 3 * k), cy + r * math.sin(math.pi / 3 * k)) for k in range(6)
    ]
    draw.polygon(points, fill=rng.choice(colours), outline=(150, 90, 0))


def _leaf(image, draw, rng, colours):
    x, y = rng.randrange(-30, SIZE), rng.randrange(-30, SIZE)
    length, width = rng.randrange(90, 150), rng.randrange(36, 56)
    leaf = Image.new("RGBA", (length, width), (0, 0, 0, 0))
    ImageDraw.Draw(leaf).ellipse((0, 0, length - 1, width - 1), fill=rng.choice(colours))
    ImageDraw.Draw(leaf).line(
        (4, width // 2, length - 4, width // 2), fill=(230, 240, 210), width=3
    )
    leaf = leaf.rotate(rng.randrange(0, 180), expand=True)
    image.paste(leaf, (x, y), leaf)


def _durian(image, draw, rng, colours):
    """An oval husk covered in short thorns, its stem up."""
    x, y = rng.randrange(0, SIZE), rng.randrange(0, SIZE)
    rx, ry = rng.randrange(70, 100), rng.randrange(90, 120)
    fill = rng.choice(colours)
    draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=fill, outline=(70, 80, 30), width=3)
    dark = tuple(max(0, c - 45) for c in fill)
    for row in range(-ry + 12, ry - 8, 16):
        half = int(rx * math.sqrt(max(0.0, 1 - (row / ry) ** 2)))
        for col in range(-half + 8, half - 4, 16):
            cx, cy = x + col + (8 if (row // 16) % 2 else 0), y + row
            draw.polygon([(cx - 6, cy + 5), (cx + 6, cy + 5), (cx, cy - 8)], fill=dark)
    draw.line((x, y - ry, x + 4, y - ry - 26), fill=(100, 80, 40), width=9)


def _avocado(image, draw, rng, colours):
    """A pear-shaped dark fruit, some cut open with a stone."""
    x, y, r = rng.randrange(0, SIZE), rng.randrange(0, SIZE), rng.randrange(45, 70)
    skin = rng.choice(colours)
    draw.ellipse((x - r, y - r // 2, x + r, y + int(r * 1.5)), fill=skin)
    draw.ellipse((x - int(r * 0.7), y - int(r * 1.1), x + int(r * 0.7), y + r // 3), fill=skin)
    if rng.random() < 0.4:
        draw.ellipse((x - r + 10, y - r // 2 + 10, x + r - 10, y + int(r * 1.5) - 10),
                     fill=(200, 220, 120))  # fmt: skip
        draw.ellipse((x - r // 3, y + r // 4, x + r // 3, y + r), fill=(120, 70, 40))


def _berry(image, draw, rng, colours):
    """Small round fruit in bunches (longan, plum, strawberry, persimmon)."""
    x, y, r = rng.randrange(0, SIZE), rng.randrange(0, SIZE), rng.randrange(18, 34)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(colours))
    draw.ellipse((x - r // 3, y - r // 2, x, y - r // 4), fill=(255, 255, 255, 70))


MOTIFS = {
    "bean": (_bean, 70),
    "grain": (_grain, 260),
    "fruit": (_fruit, 14),
    "dot": (_dot, 220),
    "hex": (_hex, 60),
    "leaf": (_leaf, 28),
    "durian": (_durian, 9),
    "avocado": (_avocado, 16),
    "berry": (_berry, 160),
}

# Fruit that does not look like the category's round fruit: by the product's name.
FRUIT_LOOKS = {
    "sầu riêng": ("durian", (214, 222, 170), [(128, 140, 50), (150, 150, 60), (110, 120, 45)]),
    "bơ": ("avocado", (236, 232, 200), [(50, 80, 30), (70, 100, 40), (40, 60, 25)]),
    "dâu tây": ("berry", (246, 236, 226), [(200, 30, 40), (220, 50, 50), (170, 20, 30)]),
    "nhãn": ("berry", (232, 238, 210), [(196, 160, 100), (210, 176, 120), (180, 140, 90)]),
    "mận": ("berry", (232, 236, 214), [(120, 40, 90), (150, 60, 110), (100, 30, 70)]),
    "hồng": ("berry", (236, 240, 214), [(236, 120, 30), (245, 140, 40), (220, 100, 20)]),
}


def draw_farm_photo(code: str, width: int = 640, height: int = 480) -> bytes:
    """A landscape for a producer's page: sky, layered hills, rows of crops."""
    rng = random.Random(crc32(("farm" + code).encode()))
    image = Image.new("RGB", (width, height), (178, 216, 236))
    draw = ImageDraw.Draw(image, "RGBA")
    sun_x = rng.randrange(60, width - 60)
    draw.ellipse((sun_x - 30, 30, sun_x + 30, 90), fill=(255, 230, 140))
    greens = [(88, 140, 70), (70, 120, 60), (110, 160, 80), (60, 105, 50)]
    for layer in range(4):
        top = 150 + layer * 70 + rng.randrange(-20, 20)
        cx = rng.randrange(0, width)
        hill = Image.new("RGB", (width, height), greens[layer])
        rows = ImageDraw.Draw(hill)
        for y in range(top + 30, height, 18):  # crop rows, clipped to the hill below
            rows.line((0, y, width, y + rng.randrange(-8, 8)), fill=(50, 95, 45), width=3)
        mask = Image.new("L", (width, height), 0)
        ImageDraw.Draw(mask).ellipse((cx - width, top, cx + width, top + 600), fill=255)
        image.paste(hill, (0, 0), mask)
    draw = ImageDraw.Draw(image, "RGBA")
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def draw_product_image(code: str, style: str, title: str = "") -> bytes:
    """A JPEG picture for the product `code` in the category style `style`; fruit named
    in FRUIT_LOOKS (durian, avocado, …) is drawn as itself."""
    motif, background, colours = STYLES[style]
    name = title.lower()
    for words, look in FRUIT_LOOKS.items():
        if name.startswith(words):
            motif, background, colours = look
            break
    rng = random.Random(crc32(code.encode()))
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image, "RGBA")
    painter, count = MOTIFS[motif]
    for _ in range(count):
        painter(image, draw, rng, colours)
    image = image.filter(ImageFilter.SMOOTH)
    # A soft vignette band at the bottom, like a product photo's table edge.
    band = ImageDraw.Draw(image, "RGBA")
    band.rectangle((0, SIZE - 70, SIZE, SIZE), fill=(255, 255, 255, 70))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()
