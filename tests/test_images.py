"""Image data sets read offline: IDX files, Fashion-MNIST, the book's PNG folders, digits.

Expected values come from what each test writes itself, from the official Fashion-MNIST
facts (60,000 + 10,000 images of 28x28, ten balanced classes) or from the book's formula.
"""

import gzip
import hashlib
import importlib.util
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nnfs_jax import images

# Where the library looks when no path is given: $NNFS_JAX_FASHION_MNIST, else Debian's folder.
FASHION_DIR = Path(
    os.environ.get(images.FASHION_MNIST_ENV) or images.FASHION_MNIST_DIR
).expanduser()
FASHION_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def fashion_file(name: str) -> Path | None:
    """The installed file `name` in FASHION_DIR, raw or gzipped (the raw one first, as the
    library takes it); None if neither is there."""
    for candidate in (FASHION_DIR / name, FASHION_DIR / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def fashion_bytes(name: str) -> bytes:
    """The decompressed IDX bytes of the installed file `name`."""
    path = fashion_file(name)
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


HAVE_FASHION = all(fashion_file(name) is not None for name in FASHION_NAMES)
needs_fashion = pytest.mark.skipif(
    not HAVE_FASHION,
    reason=f"Fashion-MNIST not installed in {FASHION_DIR} (${images.FASHION_MNIST_ENV} or "
    f"{images.FASHION_MNIST_DIR}): sudo apt-get install dataset-fashion-mnist",
)
needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None,
    reason="scikit-learn not installed: pip install 'nnfs-jax[digits]' (or scikit-learn)",
)


def book_scale(X):
    """The book's chapter-19 preprocessing, written out here."""
    return (X.reshape(X.shape[0], -1).astype(np.float32) - 127.5) / 127.5


# --- read_idx ----------------------------------------------------------------------------------


def idx_bytes(array, type_code=0x08):
    """An IDX file by the format's definition: 0x0000, type, ndims, big-endian dims, data."""
    big_endian = array.astype(array.dtype.newbyteorder(">"))
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + big_endian.tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    ("array", "type_code"),
    [
        (np.array([3, 0, 9, 255, 1], np.uint8), 0x08),  # 1-D labels
        (np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4), 0x08),  # 3-D images
        (np.array([[-5, 300], [7, -32768]], np.int16), 0x0B),  # a multi-byte type
        (np.array([0.5, -2.25], np.float32), 0x0D),
    ],
)
def test_read_idx_round_trips(tmp_path, array, type_code, gz):
    path = write(tmp_path / ("data.idx.gz" if gz else "data.idx"), idx_bytes(array, type_code), gz)
    out = images.read_idx(path)
    assert out.shape == array.shape and out.dtype == array.dtype  # native byte order
    np.testing.assert_array_equal(out, array)
    out[...] = 0  # a writeable copy, not a view of the file's bytes


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    path = write(tmp_path / "labels-idx1-ubyte", idx_bytes(array), gz=True)
    np.testing.assert_array_equal(images.read_idx(str(path)), array)


GOOD = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GOOD[:-1], "truncated"),  # one payload byte short
        (GOOD + b"\x00", "truncated or corrupt"),  # one byte too many
        (b"\x01\x00" + GOOD[2:], "magic"),  # bad magic
        (GOOD[:2] + b"\x07" + GOOD[3:], "magic"),  # unknown type code
        (b"", "magic"),
        (GOOD[:3] + b"\x04" + GOOD[4:], "shape"),  # four dims declared, three written
        (GOOD[:3] + b"\x00" + GOOD[4:], "0 dimensions"),
        (GOOD[:10], "header"),  # cut inside the dimension header
        (GOOD[:4] + np.array([2, 3, 5], ">u4").tobytes() + GOOD[16:], r"\(2, 3, 5\)"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, data, message):
    for gz in (False, True):
        path = write(tmp_path / f"bad{gz}", data, gz)
        with pytest.raises(ValueError, match=message) as err:
            images.read_idx(path)
        assert str(path) in str(err.value)


def test_read_idx_rejects_a_damaged_gzip(tmp_path):
    packed = gzip.compress(np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes())
    cut = write(tmp_path / "cut.gz", packed[: len(packed) // 2])
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0xFF
    bad = write(tmp_path / "flipped.gz", bytes(flipped))
    for path in (cut, bad):
        with pytest.raises(ValueError, match=re.escape(f"{path}: not a valid gzip")):
            images.read_idx(path)


# --- the book's image folders ------------------------------------------------------------------


def write_png(path, pixels):
    """Save `pixels` as a PNG; Pillow picks the mode from the array ((h, w) uint8: "L")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def png_tree(tmp_path):
    """root/{train,test}/<label>/*.png with 3x4 images (not square, so a transpose shows).

    Returns the root and, per split, the images and labels in the documented order: labels
    ascending as integers (10 after 2), then file names ascending.
    """
    rng = np.random.default_rng(7)
    layout = {
        "train": [(10, "a.png"), (2, "b.png"), (2, "a.png"), (0, "z.png"), (0, "c.png")],
        "test": [(2, "x.png"), (0, "y.png")],
    }
    # One all-black training image and one all-white test image: the scaled values must
    # reach both ends of [-1, 1].
    fixed = {("train", 0, "0.png"): 0, ("test", 0, "0.png"): 255}
    for split, label, name in fixed:
        layout[split].append((label, name))
    expected = {}
    for split, entries in layout.items():
        written = {}
        for label, name in entries:
            if (split, label, name) in fixed:
                pixels = np.full((3, 4), fixed[split, label, name], np.uint8)
            else:
                pixels = rng.integers(0, 256, (3, 4), dtype=np.uint8)
            write_png(tmp_path / split / str(label) / name, pixels)
            written[label, name] = pixels
        order = sorted(written)  # (int label, name): the order the reader promises
        expected[split] = (
            np.stack([written[k] for k in order]),
            np.array([label for label, _ in order], np.uint8),
        )
    (tmp_path / "train" / "2" / ".DS_Store").write_bytes(b"not an image")  # hidden: ignored
    return tmp_path, expected


def test_image_folder_round_trips_exactly(png_tree):
    root, expected = png_tree
    X, y, X_test, y_test = images.load_image_folder(root, scale=False, flatten=False)
    for got, want in ((X, expected["train"][0]), (X_test, expected["test"][0])):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(y, expected["train"][1])
    np.testing.assert_array_equal(y_test, expected["test"][1])
    assert y.dtype == y_test.dtype == np.uint8
    np.testing.assert_array_equal(y, [0, 0, 0, 2, 2, 10])


def test_image_folder_scales_and_flattens_as_the_book(png_tree):
    root, expected = png_tree
    X, y, X_test, y_test = images.load_image_folder(str(root))
    np.testing.assert_array_equal(y, expected["train"][1])
    np.testing.assert_array_equal(y_test, expected["test"][1])
    assert X.shape == (6, 12) and X_test.shape == (3, 12)
    assert X.dtype == X_test.dtype == np.float32
    np.testing.assert_array_equal(X, book_scale(expected["train"][0]))
    np.testing.assert_array_equal(X_test, book_scale(expected["test"][0]))
    assert X.min() == -1.0 and X_test.max() == 1.0
    assert images.load_image_folder(root, scale=False)[0].shape == (6, 12)


def test_image_folder_errors(tmp_path):
    pixels = np.zeros((3, 4), np.uint8)
    with pytest.raises(FileNotFoundError, match=r"root: .* is not a folder"):
        images.load_image_folder(tmp_path / "nowhere")

    write_png(tmp_path / "train" / "0" / "a.png", pixels)
    with pytest.raises(FileNotFoundError, match="no test/ folder"):
        images.load_image_folder(tmp_path)
    only_test = tmp_path / "only_test"
    write_png(only_test / "test" / "0" / "a.png", pixels)
    with pytest.raises(FileNotFoundError, match="no train/ folder"):
        images.load_image_folder(only_test)

    (tmp_path / "test").mkdir()
    with pytest.raises(ValueError, match="no images found"):
        images.load_image_folder(tmp_path)
    write_png(tmp_path / "test" / "0" / "a.png", pixels)
    assert images.load_image_folder(tmp_path)[0].shape == (1, 12)  # now well-formed


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda r: (r / "train" / "cat").mkdir(), "label folders named by a non-negative"),
        (lambda r: (r / "train" / "-1").mkdir(), "label folders named by a non-negative"),
        (lambda r: (r / "train" / "notes.txt").write_text("x"), "got a file named"),
        (lambda r: (r / "train" / "01").mkdir(), "two folders for label 1"),
        (lambda r: write_png(r / "train" / "1" / "b.png", np.zeros((4, 3), np.uint8)), "same"),
        (lambda r: write_png(r / "test" / "1" / "b.png", np.zeros((5, 5), np.uint8)), "same"),
        (lambda r: (r / "train" / "1" / "c.png").write_bytes(b"\x89PNG garbage"), "readable"),
        (lambda r: (r / "train" / "1" / "notes.txt").write_text("x"), "not a readable image"),
        (lambda r: write_png(r / "test" / "1" / "a.png", np.zeros((5, 5), np.uint8)), "same"),
        (lambda r: write_png(r / "test" / "1" / "rgb.png", np.zeros((3, 4, 3), np.uint8)), "'L'"),
    ],
)
def test_image_folder_rejects_each_bad_layout(tmp_path, damage, message):
    for split in ("train", "test"):
        write_png(tmp_path / split / "1" / "a.png", np.zeros((3, 4), np.uint8))
    images.load_image_folder(tmp_path)  # well-formed before the damage
    damage(tmp_path)
    with pytest.raises(ValueError, match=message):
        images.load_image_folder(tmp_path)


def test_image_folder_names_the_unreadable_file(tmp_path):
    for split in ("train", "test"):
        write_png(tmp_path / split / "3" / "a.png", np.zeros((2, 2), np.uint8))
    truncated = tmp_path / "test" / "3" / "b.png"
    write_png(truncated, np.arange(64, dtype=np.uint8).reshape(8, 8))
    truncated.write_bytes(truncated.read_bytes()[:30])
    with pytest.raises(ValueError, match=re.escape(str(truncated))):
        images.load_image_folder(tmp_path)


# --- Fashion-MNIST -----------------------------------------------------------------------------


def test_fashion_mnist_labels_as_the_book_lists_them():
    assert images.FASHION_MNIST_LABELS == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip


def test_fashion_mnist_missing_files_say_how_to_install(tmp_path, monkeypatch):
    monkeypatch.delenv(images.FASHION_MNIST_ENV, raising=False)
    with pytest.raises(FileNotFoundError) as err:
        images.load_fashion_mnist(tmp_path)
    message = str(err.value)
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert images.FASHION_MNIST_ENV in message and "path=" in message
    assert str(tmp_path) in message
    for name in FASHION_NAMES:
        assert name in message

    # The environment variable replaces the default folder.
    monkeypatch.setenv(images.FASHION_MNIST_ENV, str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "elsewhere"))):
        images.load_fashion_mnist()
    # Three of four files is still missing one.
    for name in FASHION_NAMES[:3]:
        write(tmp_path / name, b"")
    with pytest.raises(FileNotFoundError) as err:
        images.load_fashion_mnist(tmp_path)
    assert re.search(r"missing (.*?)\. Install", str(err.value))[1] == "t10k-labels-idx1-ubyte(.gz)"


@pytest.fixture(scope="module")
def fashion():
    return images.load_fashion_mnist(FASHION_DIR)  # where it is installed (either route)


@needs_fashion
def test_fashion_mnist_is_the_official_data(fashion):
    X, y, X_test, y_test = fashion
    assert X.shape == (60_000, 784) and X_test.shape == (10_000, 784)
    assert y.shape == (60_000,) and y_test.shape == (10_000,)
    assert X.dtype == X_test.dtype == np.float32 and y.dtype == y_test.dtype == np.uint8
    for data in (X, X_test):
        assert data.min() == -1.0 and data.max() == 1.0
        # Every value is (k - 127.5) / 127.5 for an integer pixel k.
        np.testing.assert_array_equal(np.modf(data[:500] * 127.5 + 127.5)[0], 0)
    np.testing.assert_array_equal(np.bincount(y), [6_000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1_000] * 10)


@needs_fashion
def test_fashion_mnist_raw_pixels_and_the_book_scaling(fashion):
    X_raw, y, X_test_raw, _ = images.load_fashion_mnist(
        FASHION_DIR, scale=False, flatten=False, verify=False
    )
    assert X_raw.shape == (60_000, 28, 28) and X_raw.dtype == np.uint8
    np.testing.assert_array_equal(book_scale(X_raw), fashion[0])
    np.testing.assert_array_equal(book_scale(X_test_raw), fashion[2])
    np.testing.assert_array_equal(y, fashion[1])
    # read_idx gives the same arrays file by file.
    t10k_images = images.read_idx(fashion_file("t10k-images-idx3-ubyte"))
    np.testing.assert_array_equal(t10k_images, X_test_raw)


@needs_fashion
def test_fashion_mnist_checksums_are_of_the_installed_files():
    # The constants are hashes of the decompressed IDX bytes, computed here independently.
    for name in FASHION_NAMES:
        data = fashion_bytes(name)
        assert hashlib.sha256(data).hexdigest() == images.FASHION_MNIST_SHA256[name]


@pytest.fixture
def fashion_copy(tmp_path):
    """A folder with links to three installed files and a raw, writable copy of the fourth."""
    for name in FASHION_NAMES[:3]:
        installed = fashion_file(name)
        (tmp_path / installed.name).symlink_to(installed)
    labels = fashion_bytes("t10k-labels-idx1-ubyte")
    copy = write(tmp_path / "t10k-labels-idx1-ubyte", labels)
    return tmp_path, copy


@needs_fashion
def test_fashion_mnist_one_flipped_byte_fails_verification(fashion_copy, fashion):
    folder, copy = fashion_copy
    data = bytearray(copy.read_bytes())
    first = data[8]  # the first label, right after the 8-byte header
    data[8] = (first + 1) % 10  # still a valid label: only the checksum can tell
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not the official Fashion-MNIST") as err:
        images.load_fashion_mnist(folder)
    assert str(copy) in str(err.value) and "verify=False" in str(err.value)
    _, _, _, y_test = images.load_fashion_mnist(folder, verify=False)
    assert y_test[0] == (first + 1) % 10 == (fashion[3][0] + 1) % 10
    np.testing.assert_array_equal(y_test[1:], fashion[3][1:])


@needs_fashion
def test_fashion_mnist_rejects_files_of_another_shape(fashion_copy):
    folder, copy = fashion_copy
    copy.write_bytes(idx_bytes(np.zeros(9_999, np.uint8)))
    for verify in (True, False):
        with pytest.raises(ValueError, match=re.escape(str(copy))):
            images.load_fashion_mnist(folder, verify=verify)


# --- scikit-learn's digits ---------------------------------------------------------------------


@needs_sklearn
def test_digits_split_sizes_range_and_content():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X, y, X_test, y_test = images.load_digits()
    n_test = math.ceil(0.2 * 1797)
    assert X.shape == (1797 - n_test, 64) and X_test.shape == (n_test, 64)
    assert y.shape == (1797 - n_test,) and y_test.shape == (n_test,)
    assert X.dtype == np.float32 and y.dtype == np.uint8
    assert X.min() == -1.0 and X.max() == 1.0 and X_test.min() >= -1 and X_test.max() <= 1
    # Train and test together are the whole data set, each image with its own label.
    ours = np.column_stack([np.concatenate([X, X_test]) * 8 + 8, np.concatenate([y, y_test])])
    theirs = np.column_stack([bunch.data, bunch.target])
    np.testing.assert_array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))
    assert len(np.unique(ours, axis=0)) == len(np.unique(theirs, axis=0))
    np.testing.assert_array_equal(np.sort(np.concatenate([y, y_test])), np.sort(bunch.target))


@needs_sklearn
def test_digits_are_deterministic_per_seed():
    a = images.load_digits(seed=3)
    b = images.load_digits(seed=3)
    c = images.load_digits(seed=4)
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[3], c[3])
    X, _, X_test, _ = images.load_digits(test_fraction=0.5, scale=False)
    assert len(X_test) == 899 and len(X) == 898  # ceil(0.5 * 1797)
    assert X.dtype == np.uint8 and X.max() == 16 and X.min() == 0


@needs_sklearn
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"test_fraction": 0}, ValueError),
        ({"test_fraction": 1.0}, ValueError),
        ({"test_fraction": -0.1}, ValueError),
        ({"test_fraction": 0.99999}, ValueError),  # ceil leaves no training sample
        ({"test_fraction": "0.2"}, TypeError),
        ({"test_fraction": True}, TypeError),
        ({"seed": 1.5}, TypeError),
    ],
)
def test_digits_bad_arguments(kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        images.load_digits(**kwargs)


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=re.escape("pip install 'nnfs-jax[digits]'")):
        images.load_digits()
