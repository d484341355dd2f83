"""Reading the next chunk early changes neither the chunks nor when a reading error is raised."""

import pytest

from admin_bulk_upsert.engine.import_run import ReadAhead


def chunks_then(error=None, count=3):
    for number in range(count):
        yield [number]
    if error is not None:
        raise error


@pytest.mark.parametrize("early", [set(), {0}, {0, 1, 2}, {1, 2, 3, 4}])
def test_the_same_chunks_in_order_however_often_the_next_is_read_early(early):
    read = []
    chunks = ReadAhead(chunks_then())
    for step, chunk in enumerate(chunks):
        read.append(chunk)
        if step in early:
            chunks.read_next()
            chunks.read_next()  # twice: still one chunk ahead, none skipped
    assert read == [[0], [1], [2]]


def test_an_error_reading_ahead_is_raised_when_that_chunk_is_asked_for():
    chunks = ReadAhead(chunks_then(ValueError("bad cell"), count=1))
    assert next(chunks) == [0]
    chunks.read_next()  # the generator raises now: kept, not raised
    with pytest.raises(ValueError, match="bad cell"):
        next(chunks)


def test_a_chunk_read_early_is_prepared_once_and_a_chunk_read_at_its_turn_is_not():
    prepared = []
    chunks = ReadAhead(chunks_then(count=3), prepare=prepared.append)
    assert next(chunks) == [0]  # read at its turn
    chunks.read_next()
    chunks.read_next()
    assert next(chunks) == [1]
    assert next(chunks) == [2]
    chunks.read_next()  # nothing left: nothing to prepare
    with pytest.raises(StopIteration):
        next(chunks)
    assert prepared == [[1]]
