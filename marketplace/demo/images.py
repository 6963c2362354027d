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


MOTIFS = {
    "bean": (_bean, 70),
    "grain": (_grain, 260),
    "fruit": (_fruit, 14),
    "dot": (_dot, 220),
    "hex": (_hex, 60),
    "leaf": (_leaf, 28),
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


def draw_product_image(code: str, style: str) -> bytes:
    """A JPEG picture for the product `code` in the category style `style`."""
    motif, background, colours = STYLES[style]
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
