"""CSV text in the encodings Excel writes: chosen, or detected when nobody chose."""

from __future__ import annotations

import pytest

from admin_bulk_upsert.files import encodings
from admin_bulk_upsert.files.reading import ReadError, read_dataset

TEXT = "name,note\nCafé,“Grüße” – 5 €\nœuvre,naïve ‘quote’\n"
LATIN_1_TEXT = "name,note\nCafé,Grüße ½ ¿\n"


def read_error(data, **kwargs):
    with pytest.raises(ReadError) as info:
        read_dataset(data, **kwargs)
    return info.value.message


@pytest.mark.parametrize(
    ("text", "codec", "encoding"),
    [
        (TEXT, "utf-8", "utf-8"),
        (TEXT, "utf-8-sig", "utf-8"),
        (TEXT, "cp1252", "cp1252"),
        (LATIN_1_TEXT, "latin-1", "latin-1"),
        (TEXT, "utf-8", None),
        (TEXT, "utf-8-sig", None),
        (TEXT, "cp1252", None),
        (LATIN_1_TEXT, "latin-1", None),  # Latin-1 letters are Windows-1252's too
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "cp1252",
        "latin1",
        "utf8-detected",
        "utf8-bom-detected",
        "cp1252-detected",
        "latin1-detected",
    ],
)
def test_round_trip(text, codec, encoding):
    dataset = read_dataset(text.encode(codec), filename="t.csv", encoding=encoding)

    assert dataset.headers == ["name", "note"]  # no BOM left on the first header
    expected = [line.split(",") for line in text.splitlines()[1:]]
    assert [list(row) for row in dataset] == expected


def test_detection_prefers_utf8():
    assert encodings.detect_encoding("Café €".encode()) == "utf-8-sig"
    assert encodings.detect_encoding("Café €".encode("cp1252")) == "cp1252"


def test_the_five_bytes_windows_1252_leaves_undefined_read_as_latin_1():
    data = b"name\nA\x81B\x8dC\x8fD\x90E\x9dF \x80\n"

    dataset = read_dataset(data, filename="t.csv")

    assert dataset.dict == [{"name": "A\x81B\x8dC\x8fD\x90E\x9dF €"}]


def test_auto_is_the_same_as_no_choice():
    data = "name\nCafé\n".encode("cp1252")

    assert read_dataset(data, filename="t.csv", encoding="auto").dict == [{"name": "Café"}]


def test_a_chosen_encoding_that_does_not_fit_names_line_and_byte():
    data = "name,note\nok,fine\nCafé,x\n".encode("cp1252")

    assert read_error(data, filename="t.csv", encoding="utf-8") == (
        "The file is not valid UTF-8 (line 3, byte 21). "
        "Choose the file’s encoding, or save it as “CSV UTF-8”."
    )


def test_another_codec_names_itself():
    data = "name\nCafé\n".encode()

    assert read_error(data, filename="t.csv", encoding="ascii") == (
        "The file is not valid ascii (line 2, byte 8). "
        "Choose the file’s encoding, or save it as “CSV UTF-8”."
    )


@pytest.mark.parametrize(
    ("from_encoding", "requested"),
    [
        ("utf-8-sig", None),
        ("UTF_8_SIG", None),
        (None, None),
        ("", None),
        ("utf-8", "utf-8"),
        ("cp1252", "cp1252"),
        ("latin-1", "latin-1"),
    ],
)
def test_what_an_admins_from_encoding_asks_for(from_encoding, requested):
    assert encodings.requested_encoding(from_encoding) == requested
