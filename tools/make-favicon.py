"""Draw the site's favicon (book/_vendor/favicon.ico): a white ∂ on the course's blue.

Run once and commit the result: `.venv/bin/python tools/make-favicon.py`. Needs Pillow (a
matplotlib dependency) and the DejaVu Sans Bold font (Debian: fonts-dejavu-core).
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
OUT = Path(__file__).resolve().parent.parent / "book" / "_vendor" / "favicon.ico"


def icon(size: int = 64) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 6, fill="#1f4e79")
    font = ImageFont.truetype(FONT, int(size * 0.78))
    draw.text((size / 2, size / 2), "∂", font=font, fill="white", anchor="mm")
    return image


if __name__ == "__main__":
    icon().save(OUT, sizes=[(16, 16), (32, 32), (48, 48)])
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
