"""The content checks every kept upload goes through (commitments/uploads.py): evidence and the
stamped forms. PDFs are parsed; images decoded; names never trusted."""
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from commitments import uploads
from tests.commitments.evidence import image_bytes, pdf_bytes

LIMIT = 1024 * 1024


def check(data: bytes, name="扫描件.pdf", *, max_pages=10):
    return uploads.check_upload(SimpleUploadedFile(name, data), limit=LIMIT, max_pages=max_pages)


def refused(data: bytes, name="扫描件.pdf", **kw) -> str:
    with pytest.raises(ValidationError) as exc:
        check(data, name, **kw)
    return exc.value.messages[0]


def test_a_real_pdf_is_accepted_with_its_page_count():
    facts = check(pdf_bytes(pages=3))
    assert (facts["content_type"], facts["ext"], facts["pages"], facts["width"]) == ("application/pdf", "pdf", 3, None)
    assert facts["original_name"] == "扫描件.pdf" and len(facts["sha256"]) == 64


def test_a_png_renamed_pdf_is_kept_as_what_it_is():
    facts = check(image_bytes(), "承诺书.pdf")
    assert (facts["content_type"], facts["original_name"], facts["pages"]) == ("image/png", "承诺书.png", None)
    assert (facts["width"], facts["height"]) == (4, 3)


def test_pdf_with_javascript_is_refused():
    assert "含有脚本、嵌入文件或自动执行的动作" in refused(pdf_bytes(javascript=True))


def test_pdf_with_a_hex_escaped_javascript_name_is_refused_too():
    """/J#61vaScript is /JavaScript to a reader; pypdf decodes names before they are compared."""
    data = pdf_bytes(javascript=True).replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in data
    assert "含有脚本" in refused(data)


def test_pdf_with_an_embedded_file_is_refused():
    assert "嵌入文件" in refused(pdf_bytes(attachment=True))


def test_pdf_with_a_launch_action_is_refused():
    assert "自动执行的动作" in refused(pdf_bytes(launch=True))


def test_encrypted_pdf_is_refused_with_a_clear_message():
    assert "加密或设有密码的PDF" in refused(pdf_bytes(password="secret"))


def test_pdf_over_the_page_limit_is_refused():
    assert refused(pdf_bytes(pages=4), max_pages=3) == "“扫描件”有4页，超过3页的上限。"


def test_a_pdf_header_on_garbage_is_refused():
    assert "不是有效的JPEG、PNG图片或PDF文档" in refused(b"%PDF-1.4\n<html><script>alert(1)</script>\n%%EOF\n")


def test_a_truncated_pdf_is_refused():
    assert "不是有效的" in refused(pdf_bytes()[:-40])


def test_a_truncated_image_is_refused():
    data = image_bytes(size=(200, 200))
    assert "不是有效的" in refused(data[: len(data) // 2] + data[-12:], "照片.png")


def test_oversize_is_refused_before_reading_it_all():
    assert refused(b"%PDF-1.4" + b"\0" * LIMIT) == "“扫描件”超过1MB，请压缩后再上传。"


def test_the_display_copy_is_upright_small_and_without_metadata():
    """A phone photo carries EXIF (here: orientation 6, i.e. turned, and a GPS block); the public
    copy is turned upright, at most DISPLAY_MAX_SIDE a side, and carries no EXIF at all."""
    img = Image.new("RGB", (3000, 1000), (250, 250, 250))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: (22.0, 16.0, 0.0)}  # GPSInfo
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    facts = check(buf.getvalue(), "手机拍照.jpg")
    shown = uploads.display_copy(facts)
    assert (shown["width"], shown["height"]) == (667, 2000)
    with Image.open(io.BytesIO(shown["data"])) as out:
        assert out.format == "JPEG" and not out.getexif()


def test_stored_paths_stay_in_their_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert uploads.stored_path("stamped/abc.png", "stamped") == (tmp_path / "stamped" / "abc.png").resolve()
    for bad in ("stamped/../evidence/x.png", "evidence/x.png", "/etc/passwd", "stamped/sub/x.png"):
        with pytest.raises(FileNotFoundError):
            uploads.stored_path(bad, "stamped")
