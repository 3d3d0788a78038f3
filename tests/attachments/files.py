"""Files for the attachment tests, made here: images with and without a GPS
position in their EXIF, a decompression bomb, and a PDF with known text."""

import io

from PIL import Image

GPS_IFD = 0x8825


def photo(fmt="JPEG", size=(64, 48), colour=(200, 30, 30), gps=True):
    """An image whose EXIF holds a GPS position (as a phone photo's does)."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (47.0, 22.0, 0.0), 3: "E", 4: (8.0, 32.0, 0.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


def has_gps(data):
    exif = Image.open(io.BytesIO(data)).getexif()
    return bool(exif.get_ifd(GPS_IFD)) or GPS_IFD in exif


def bomb():
    """A small PNG that declares 20,000 x 20,000 pixels (400 million)."""
    image = Image.new("1", (20_000, 20_000))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def pdf_with_text(text):
    """A one-page PDF whose page shows `text` (ASCII) in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
