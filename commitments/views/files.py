"""The one way stored files (evidence, stamped scans) leave the server: locked-down headers."""
from django.http import FileResponse


def file_response(handle, *, content_type: str, filename: str, is_image: bool, cache_control: str,
                  etag: str = "") -> FileResponse:
    """Images open in the browser; PDFs are saved, never rendered inside our origin. Nothing in
    the file may run or be sniffed into something else."""
    response = FileResponse(handle, content_type=content_type, as_attachment=not is_image, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = cache_control
    if etag:
        response["ETag"] = etag
    return response
