"""Small, valid sample files (PDF, PNG, WAV, MP4 header) made in code: for the demo award
and for tests, so that no binary blobs live in the repository."""

import io
import struct
import wave
import zlib


def pdf(text: str = "Giai bao chi") -> bytes:
    """A one-page PDF showing ``text`` (ASCII) with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (163, 22, 26)) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + bytes(color) * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def wav(seconds: float = 0.5, rate: int = 8000, frequency: int = 440) -> bytes:
    import math

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / rate)))
            for i in range(int(seconds * rate)))
        w.writeframes(frames)
    return out.getvalue()


def mp4_header(size: int = 4096) -> bytes:
    """An ISO-BMFF ``ftyp`` box followed by padding: enough to be judged an MP4 video."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isommp41"
    return ftyp + b"\x00" * max(size - len(ftyp), 0)


# --- A playable MP4 (H.264) -----------------------------------------------------------------

class _Bits:
    """An H.264 RBSP bit writer: fixed-width and Exp-Golomb fields."""

    def __init__(self):
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(code.bit_length() * 2 - 1, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        while len(self.bits) % 8:
            self.bits.append(0)

    def trailing(self) -> bytes:
        self.bits.append(1)
        self.align_zero()
        return self.bytes()

    def bytes(self) -> bytes:
        return bytes(int("".join(map(str, self.bits[i:i + 8])), 2)
                     for i in range(0, len(self.bits), 8))


def _escape(rbsp: bytes) -> bytes:
    """Emulation prevention: no 00 00 0x (x <= 3) inside a NAL unit."""
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _nal(kind: int, rbsp: bytes) -> bytes:
    return bytes([0x60 | kind]) + _escape(rbsp)  # nal_ref_idc 3


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def mp4(seconds: int = 4, fps: int = 5, width: int = 160, height: int = 96) -> bytes:
    """A real, playable MP4 video (H.264 Constrained Baseline, every frame a key frame of
    uncompressed I_PCM macroblocks): a moving colour ramp, ``seconds`` long, its index
    (moov) first. Each frame takes ``width * height * 1.5`` bytes, so a long or large one
    makes a big file on purpose: browsers must seek in it with Range requests. Built in
    code, with no encoder, so that no binary lives in the repository."""
    mbs_x, mbs_y = width // 16, height // 16
    sps = _Bits()
    sps.u(8, 66)  # Baseline
    sps.u(8, 0xC0)  # constraint_set0/1: Constrained Baseline
    sps.u(8, 30)  # level 3.0
    sps.ue(0)  # seq_parameter_set_id
    sps.ue(0)  # log2_max_frame_num_minus4
    sps.ue(2)  # pic_order_cnt_type: output order = decoding order
    sps.ue(1)  # max_num_ref_frames
    sps.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    sps.ue(mbs_x - 1)
    sps.ue(mbs_y - 1)
    sps.u(1, 1)  # frame_mbs_only_flag
    sps.u(1, 1)  # direct_8x8_inference_flag
    sps.u(1, 0)  # frame_cropping_flag
    sps.u(1, 0)  # vui_parameters_present_flag
    sps_nal = _nal(7, sps.trailing())
    pps = _Bits()
    pps.ue(0)
    pps.ue(0)
    pps.u(1, 0)  # CAVLC
    pps.u(1, 0)
    pps.ue(0)  # one slice group
    pps.ue(0)
    pps.ue(0)
    pps.u(1, 0)
    pps.u(2, 0)
    pps.se(0)
    pps.se(0)
    pps.se(0)
    pps.u(1, 1)  # deblocking_filter_control_present_flag
    pps.u(1, 0)
    pps.u(1, 0)
    pps_nal = _nal(8, pps.trailing())

    frames = seconds * fps
    samples = []
    for n in range(frames):
        head = _Bits()
        head.ue(0)  # first_mb_in_slice
        head.ue(7)  # I slice (all slices of the picture)
        head.ue(0)  # pic_parameter_set_id
        head.u(4, 0)  # frame_num (an IDR)
        head.ue(n % 2)  # idr_pic_id: consecutive IDRs differ
        head.u(1, 0)  # no_output_of_prior_pics_flag
        head.u(1, 0)  # long_term_reference_flag
        head.se(0)  # slice_qp_delta
        head.ue(1)  # disable_deblocking_filter_idc
        head.ue(25)  # mb_type I_PCM (first macroblock)
        head.align_zero()
        body = bytearray(head.bytes())
        shift = n * 256 // max(frames, 1)
        for mb in range(mbs_x * mbs_y):
            if mb:
                body += b"\x0d\x00"  # mb_type I_PCM (ue 25), then alignment zeros
            x = mb % mbs_x
            luma = 16 + ((x * 256 // mbs_x + shift) % 256) * 219 // 256
            body += bytes([luma]) * 256 + bytes([max(1, 240 - luma)]) * 64 \
                + bytes([16 + (n * 7) % 224]) * 64
        body += b"\x80"  # rbsp_slice_trailing_bits
        nal = _nal(5, bytes(body))
        samples.append(struct.pack(">I", len(nal)) + nal)

    timescale, delta = fps * 100, 100
    duration = frames * delta
    avcc = _box(b"avcC", bytes([1, 66, 0xC0, 30, 0xFF, 0xE1]),
                struct.pack(">H", len(sps_nal)), sps_nal,
                bytes([1]), struct.pack(">H", len(pps_nal)), pps_nal)
    avc1 = _box(b"avc1", b"\x00" * 6, struct.pack(">H", 1), b"\x00" * 16,
                struct.pack(">HHIIIH", width, height, 0x480000, 0x480000, 0, 1),
                b"\x00" * 32, struct.pack(">Hh", 0x18, -1), avcc)

    def moov(mdat_offset: int) -> bytes:
        stbl = _box(
            b"stbl",
            _full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
            _full_box(b"stts", 0, 0, struct.pack(">III", 1, frames, delta)),
            _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frames, 1)),
            _full_box(b"stsz", 0, 0, struct.pack(">II", 0, frames),
                      b"".join(struct.pack(">I", len(s)) for s in samples)),
            _full_box(b"stco", 0, 0, struct.pack(">II", 1, mdat_offset)))
        minf = _box(b"minf", _full_box(b"vmhd", 0, 1, b"\x00" * 8),
                    _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1),
                                            _full_box(b"url ", 0, 1))),
                    stbl)
        mdia = _box(b"mdia",
                    _full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, duration,
                                                         0x55C4, 0)),
                    _full_box(b"hdlr", 0, 0, b"\x00" * 4, b"vide", b"\x00" * 12,
                              b"VideoHandler\x00"),
                    minf)
        tkhd = _full_box(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, duration),
                         b"\x00" * 8, struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX,
                         struct.pack(">II", width << 16, height << 16))
        mvhd = _full_box(b"mvhd", 0, 0, struct.pack(">IIIIIH", 0, 0, timescale, duration,
                                                    0x10000, 0x100), b"\x00" * 10, _MATRIX,
                         b"\x00" * 24, struct.pack(">I", 2))
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    header = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(header) + _box(b"mdat", *samples)
