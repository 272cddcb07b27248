"""What a file really is, decided by its content, not its name.

Offices rename files freely: a ``.xls`` may be an HTML table exported by a web system, a
``.xlsx`` may be a CSV, a workbook may carry an opening password. The extension only decides
whether a file in a source folder is meant as data; the first bytes decide how to read it.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.ingest.reasons import reason

# Extensions treated as data files. .et is WPS Spreadsheets (an OLE workbook like .xls).
DATA_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".et", ".ods", ".csv", ".txt"})

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class UnreadableFile(Exception):
    """A file that cannot be read at all; ``message`` is the Chinese sentence with its code."""

    def __init__(self, code: str, **values: object) -> None:
        self.code = code
        self.message = reason(code, **values)
        super().__init__(self.message)


@dataclass(frozen=True)
class FileKind:
    kind: str  # xlsx | ods | ole (xls, WPS et) | csv
    encoding: str | None = None  # for csv
    extension_matches: bool = True  # False when content and extension disagree


# Files that operating systems and Office leave beside data files: never data, skipped silently.
JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def is_candidate(path: Path) -> bool:
    """False for Office lock files (~$name.xlsx), macOS AppleDouble files (._name) and OS junk."""
    name = path.name
    return not (name.startswith(("~$", "._")) or name.lower() in JUNK_NAMES)


def detect_file_kind(path: Path, *, check_encryption: bool = True) -> FileKind:
    """The real format of a data file, or UnreadableFile with the reason.

    ``check_encryption=False`` leaves the (costly: it reads the whole OLE file) password check
    of an OLE file to the caller, who makes it only when the file could not be read
    (``is_encrypted``)."""
    ext = path.suffix.lower()
    if ext not in DATA_EXTENSIONS:
        raise UnreadableFile("unsupported_extension", ext=path.suffix or "(无扩展名)")
    with path.open("rb") as f:
        head = f.read(8192)
    if head.startswith(OLE_MAGIC):
        if check_encryption and is_encrypted(path):
            raise UnreadableFile("encrypted")
        return FileKind("ole", extension_matches=ext in {".xls", ".et"})
    if head.startswith(ZIP_MAGICS):
        return _zip_kind(path, ext)
    if not head.strip():
        raise UnreadableFile("empty_workbook")
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or (
        lowered.startswith(b"<") and b"<table" in lowered
    ):
        raise UnreadableFile("html_disguised", ext=path.suffix)
    if lowered.startswith(b"<?xml"):
        raise UnreadableFile("not_a_workbook", what="XML 文件（可能是 Excel 2003 XML 表格）")
    if head.startswith(b"%PDF"):
        raise UnreadableFile("not_a_workbook", what="PDF 文件")
    encoding = detect_text_encoding(path)
    if encoding is None:
        if b"\x00" in head:
            raise UnreadableFile("not_a_workbook", what="未知的二进制文件")
        raise UnreadableFile("unknown_encoding")
    return FileKind("csv", encoding=encoding, extension_matches=ext in {".csv", ".txt"})


def _zip_kind(path: Path, ext: str) -> FileKind:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "EncryptedPackage" in names:
                raise UnreadableFile("encrypted")
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                return FileKind("xlsx", extension_matches=ext in {".xlsx", ".xlsm"})
            if "mimetype" in names and zf.read("mimetype").strip() == ODS_MIMETYPE:
                return FileKind("ods", extension_matches=ext == ".ods")
            if "word/document.xml" in names:
                raise UnreadableFile("not_a_workbook", what="Word 文档")
            if "content.xml" in names:
                raise UnreadableFile("not_a_workbook", what="OpenDocument 文本或演示文稿")
            raise UnreadableFile("not_a_workbook", what="zip 压缩包")
    except zipfile.BadZipFile as error:
        raise UnreadableFile("corrupt_zip") from error


def is_encrypted(path: Path) -> bool:
    """An OLE file with an opening password: encrypted OOXML or an xls with FILEPASS."""
    import msoffcrypto  # imported here: only OLE files need it

    try:
        with path.open("rb") as f:
            return bool(msoffcrypto.OfficeFile(f).is_encrypted())
    except Exception:  # not an Office file msoffcrypto knows: calamine will say what it is
        return False


def detect_text_encoding(path: Path, block: int = 1 << 20) -> str | None:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030; None if none decodes."""
    with path.open("rb") as f:
        start = f.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(block):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return None
