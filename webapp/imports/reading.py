"""Reading a shop's CSV file as a stream: its encoding and delimiter found, one row at a time.

Memory stays flat in the file's size: the encoding check decodes the file chunk by chunk, and rows are read
through csv.reader from the open file.
"""
import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
DELIMITERS = ",;\t|"


class FileReadError(ValueError):
    """The file stops being CSV that can be read, from a given line on (a quote that never closes, ...)."""


@dataclass
class FileShape:
    encoding: str
    delimiter: str
    header: list[str]


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' with a byte-order mark, 'utf-8' when every byte decodes as such, else 'latin-1'."""
    with open(path, "rb") as raw:
        if raw.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        raw.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := raw.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"  # every byte is a Latin-1 character, so this never fails
    return "utf-8"


def detect_delimiter(sample: str) -> str:
    """The delimiter of the header line: csv.Sniffer when it is sure, else the most frequent candidate."""
    first_line = sample.splitlines()[0] if sample else ""
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        if delimiter in first_line:
            return delimiter
    except csv.Error:
        pass
    counts = {candidate: first_line.count(candidate) for candidate in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def count_rows(path: Path | str) -> int:
    """Lines after the header, counted in binary chunks (a progress bar's total; quoted newlines overcount)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as raw:
        while chunk := raw.read(CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(lines + (last != b"\n") - 1, 0)  # a last line without its newline counts too


@contextmanager
def read_rows(path: Path) -> Iterator[tuple[FileShape, Iterator[tuple[int, list[str]]]]]:
    """The file's shape and an iterator of (line number, cells) for each data row; blank rows are skipped.

    Line numbers count physical lines from 1 (the header), so a quoted field spanning lines keeps later
    numbers true to what an editor shows.
    """
    path = Path(path)
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as text:
        sample = text.read(64 * 1024)
    delimiter = detect_delimiter(sample)
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader, [])
        except csv.Error as error:
            raise _unreadable(1, error) from None
        shape = FileShape(encoding=encoding, delimiter=delimiter, header=[cell.strip() for cell in header])

        def rows() -> Iterator[tuple[int, list[str]]]:
            line = reader.line_num + 1
            try:
                for cells in reader:
                    if "".join(cells).strip():  # a row of blank cells is no row
                        yield line, cells
                    line = reader.line_num + 1
            except csv.Error as error:
                raise _unreadable(line, error) from None

        yield shape, rows()


def _unreadable(line: int, error: csv.Error) -> FileReadError:
    return FileReadError(f"line {line}: the file cannot be read as CSV from this line on ({error}); a quote (\") "
                         "that opens a cell and never closes is the usual cause")
