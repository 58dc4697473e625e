"""The documents' real image data sets, read offline (nothing is ever downloaded).

- *Fashion-MNIST* (chapter 19) from the four official IDX files, as Debian's package
  `dataset-fashion-mnist` installs them under `/usr/share/datasets/fashion-mnist/`
  (`sudo apt-get install dataset-fashion-mnist`), checked against the official content.
- The book's *image-folder* layout, `root/{train,test}/<label>/<image>.png`, read with Pillow
  in place of `cv2.imread(..., cv2.IMREAD_UNCHANGED)`.
- scikit-learn's 8x8 *handwritten digits*, shipped inside the scikit-learn wheel (optional
  dependency: `pip install 'nnfs-jax[digits]'`).

Every loader returns NumPy arrays `(X_train, y_train, X_test, y_test)`, scaled as the book
scales pixels, `(X - 127.5) / 127.5` into [-1, 1] as float32, and flattened to one row per
sample; `scale=False` keeps the raw uint8 pixels and `flatten=False` the image shape.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from nnfs_jax import checks


class DataError(ValueError):
    """A data file that is not what it should be: corrupt, truncated, of the wrong checksum."""


FASHION_MNIST_ENV = "NNFS_JAX_FASHION_MNIST"
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

# The book's `fashion_mnist_labels` dict; a tuple indexes the same way: LABELS[y].
FASHION_MNIST_LABELS = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# SHA-256 of the *decompressed* IDX files of the official Fashion-MNIST release, with the shape
# each one must have. The .gz files themselves are not hashed: Debian's copies carry another
# gzip header (no file name, another time stamp), so their checksums differ from Zalando's
# published MD5s. Their compressed streams are the same: put Zalando's header back and each
# file has the published MD5 and size again.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
_FASHION_SHAPES = {
    "train-images-idx3-ubyte": (60_000, 28, 28),
    "train-labels-idx1-ubyte": (60_000,),
    "t10k-images-idx3-ubyte": (10_000, 28, 28),
    "t10k-labels-idx1-ubyte": (10_000,),
}

# IDX type codes (the third magic byte) and the big-endian dtypes they stand for.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


# --- IDX files ---------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic (whatever its name)."""
    data = path.read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        # Truncated downloads end in EOFError, flipped bits in a CRC or zlib error.
        raise DataError(f"{path}: not a valid gzip file ({err})") from err


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    """An IDX payload as an array in native byte order; `path` only names the file in errors."""
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise DataError(
            f"{path}: not an IDX file: expected the magic number 0x0000 <type> <ndims> with type "
            f"0x08 (unsigned bytes) or another IDX type, got {data[:4].hex() or 'an empty file'}"
        )
    dtype, ndims = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndims
    if ndims == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions; expected at least 1")
    if len(data) < header:
        raise DataError(
            f"{path}: IDX header declares {ndims} dimensions but the file holds only "
            f"{len(data)} bytes (a header needs {header})"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndims, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(
            f"{path}: IDX header declares shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(data) - header} bytes after the header: truncated or corrupt"
        )
    # astype copies, so the array is writeable and no longer pins the file's bytes.
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (the MNIST format), gzipped or not.

    Returns an array of the shape its header declares, e.g. (60000, 28, 28) uint8 for images
    or (60000,) uint8 for labels. Raises ValueError naming the file for a bad magic number, a
    header that does not fit, or a payload that is not exactly as long as the header says.
    """
    path = Path(path)
    return _parse_idx(_read_bytes(path), path)


# --- Fashion-MNIST -----------------------------------------------------------------------------


def _fashion_dir(path: str | os.PathLike | None) -> Path:
    if path is None:
        path = os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR
    return Path(path).expanduser()


def _find_fashion_files(folder: Path) -> dict[str, Path]:
    found, missing = {}, []
    for name in FASHION_MNIST_SHA256:
        # The raw file first: it needs no decompression.
        candidates = [folder / name, folder / f"{name}.gz"]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(f"{name}(.gz)")
        else:
            found[name] = hit
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST not found in {folder}: missing {', '.join(missing)}. Install it "
            f"with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu; it puts the "
            f"four files in {FASHION_MNIST_DIR}), or point to a folder that holds "
            f"train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
            f"t10k-labels-idx1-ubyte (each may be .gz) with load_fashion_mnist(path=...) or "
            f"the {FASHION_MNIST_ENV} environment variable."
        )
    return found


def _verify(data: bytes, name: str, path: Path) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != FASHION_MNIST_SHA256[name]:
        raise DataError(
            f"{path}: the decompressed data is not the official Fashion-MNIST {name} "
            f"(SHA-256 {digest}, expected {FASHION_MNIST_SHA256[name]}): the file is corrupt "
            f"or a different data set. Reinstall it (`sudo apt-get install --reinstall "
            f"dataset-fashion-mnist`) or pass verify=False to load it anyway."
        )


def load_fashion_mnist(
    path: str | os.PathLike | None = None,
    *,
    scale: bool = True,
    flatten: bool = True,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST, the book's chapter-19 data set, from the four official IDX files.

    `path`: the folder holding them (gzipped or not); default: the `NNFS_JAX_FASHION_MNIST`
    environment variable, else `/usr/share/datasets/fashion-mnist` (Debian's package
    `dataset-fashion-mnist`). With `verify` (the default) the decompressed bytes must match
    the official release's SHA-256, which costs a small fraction of the decompression.

    Returns X_train: (60000, 784), y_train: (60000,), X_test: (10000, 784), y_test: (10000,).
    X is float32 in [-1, 1] as the book scales it, `(X - 127.5) / 127.5`, or the raw uint8
    pixels with `scale=False`; `flatten=False` keeps (samples, 28, 28). Labels are uint8 0..9;
    `FASHION_MNIST_LABELS[y]` names them.
    """
    files = _find_fashion_files(_fashion_dir(path))
    arrays = {}
    for name, file in files.items():
        data = _read_bytes(file)
        if verify:
            _verify(data, name, file)
        arrays[name] = _parse_idx(data, file)
        # Cheap shape checks so that verify=False still rejects files of another data set.
        if arrays[name].shape != _FASHION_SHAPES[name] or arrays[name].dtype != np.uint8:
            raise DataError(
                f"{file}: expected Fashion-MNIST's {_FASHION_SHAPES[name]} uint8 array, got "
                f"{arrays[name].shape} {arrays[name].dtype}"
            )
    X_train, X_test = (
        _prepare(arrays[f"{split}-images-idx3-ubyte"], scale, flatten)
        for split in ("train", "t10k")
    )
    return X_train, arrays["train-labels-idx1-ubyte"], X_test, arrays["t10k-labels-idx1-ubyte"]


def _prepare(X: np.ndarray, scale: bool, flatten: bool) -> np.ndarray:
    """The book's preprocessing: (samples, ...) uint8 -> flattened, float32 in [-1, 1]."""
    if flatten:
        X = X.reshape(X.shape[0], -1)
    if scale:
        # (X - 127.5) / 127.5 in float32, the book's values; in place, so that 60,000 images
        # cost one float copy instead of three.
        X = X.astype(np.float32)
        X -= 127.5
        X /= 127.5
    return X


# --- the book's image-folder layout -----------------------------------------------------------


def _visible(folder: Path) -> list[Path]:
    # Hidden entries (.DS_Store, .ipynb_checkpoints) are not data.
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def _label_folders(split_dir: Path) -> list[tuple[int, Path]]:
    labels: dict[int, Path] = {}
    for entry in _visible(split_dir):
        name = entry.name
        if not entry.is_dir() or not (name.isascii() and name.isdigit()):
            raise DataError(
                f"{entry}: expected only label folders named by a non-negative integer class "
                f"in {split_dir} (e.g. {split_dir / '0'}), got "
                f"{'a folder' if entry.is_dir() else 'a file'} named {name!r}"
            )
        if int(name) in labels:
            raise DataError(f"{entry} and {labels[int(name)]}: two folders for label {int(name)}")
        labels[int(name)] = entry
    return sorted(labels.items())


def _read_png(file: Path) -> np.ndarray:
    """One 8-bit grayscale image as (height, width) uint8, as cv2.IMREAD_UNCHANGED gives it."""
    try:
        with Image.open(file) as image:
            image.load()
            mode = image.mode
            pixels = np.asarray(image)
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError(f"{file}: not a readable image ({err})") from err
    if mode != "L":
        # Converting colour or 16-bit images would change the values the book's code sees.
        raise DataError(
            f"{file}: expected an 8-bit grayscale image (Pillow mode 'L'), got mode {mode!r}; "
            f"convert it first, e.g. Image.open(f).convert('L').save(f)"
        )
    return pixels


def _read_split(split_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images: list[np.ndarray] = []
    labels: list[int] = []
    files: list[Path] = []
    for label, folder in _label_folders(split_dir):
        for file in sorted(_visible(folder)):
            pixels = _read_png(file)
            if images and pixels.shape != images[0].shape:
                raise DataError(
                    f"{file}: image of shape {pixels.shape}, but {files[0]} has shape "
                    f"{images[0].shape}; all images must have the same size"
                )
            images.append(pixels)
            labels.append(label)
            files.append(file)
    if not images:
        raise DataError(f"{split_dir}: no images found (expected {split_dir}/<label>/*.png)")
    y_dtype = np.uint8 if max(labels) <= 255 else np.int64
    return np.stack(images), np.asarray(labels, dtype=y_dtype)


def load_image_folder(
    root: str | os.PathLike, *, scale: bool = True, flatten: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The book's `create_data_mnist(root)`: images in `root/{train,test}/<label>/<file>`.

    Label folders are named by their integer class; every non-hidden file in them must be an
    8-bit grayscale image (the book's PNGs) and all must have one size (height, width).
    Samples come sorted by label, then by file name, so the order does not depend on the file
    system. Returns X_train: (n_train, height * width), y_train: (n_train,), X_test, y_test,
    scaled and flattened as `load_fashion_mnist` does (uint8 labels when they fit).
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"root: {root} is not a folder (expected root/train, root/test)")
    splits = []
    for split in ("train", "test"):
        if not (root / split).is_dir():
            raise FileNotFoundError(
                f"root: {root} has no {split}/ folder (expected {root / split}/<label>/*.png)"
            )
        splits.append(_read_split(root / split))
    (X_train, y_train), (X_test, y_test) = splits
    if X_train.shape[1:] != X_test.shape[1:]:
        raise DataError(
            f"root: train images are {X_train.shape[1:]} but test images are "
            f"{X_test.shape[1:]} in {root}; all images must have the same size"
        )
    return _prepare(X_train, scale, flatten), y_train, _prepare(X_test, scale, flatten), y_test


# --- scikit-learn's digits ---------------------------------------------------------------------


def load_digits(
    *, test_fraction: float = 0.2, seed: int = 0, scale: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten 8x8 digits, shuffled and split from `seed`.

    The test set is the first ceil(test_fraction * 1797) samples of a permutation drawn with
    `np.random.default_rng(seed)` (the size scikit-learn's train_test_split gives), the
    training set the rest. Returns X_train: (n_train, 64), y_train: (n_train,) uint8 0..9,
    X_test: (n_test, 64), y_test. Pixels run 0..16; `scale` maps them to [-1, 1] as float32,
    `(X - 8) / 8`, else they stay uint8. Needs scikit-learn (`pip install 'nnfs-jax[digits]'`);
    the data ship inside its wheel, so nothing is downloaded.
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.number)):
        raise checks.InputTypeError(
            f"test_fraction: expected a number in (0, 1), got {test_fraction!r}"
        )
    if not 0 < test_fraction < 1:
        raise checks.InputError(f"test_fraction: expected a number in (0, 1), got {test_fraction}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise checks.InputTypeError(f"seed: expected an integer, got {seed!r}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as err:
        raise ImportError(
            "load_digits needs scikit-learn, an optional dependency: "
            "pip install 'nnfs-jax[digits]' (or pip install scikit-learn)"
        ) from err
    bunch = sklearn_load_digits()
    X = bunch.data.astype(np.uint8)  # integer counts 0..16 stored as float64
    y = bunch.target.astype(np.uint8)
    n_test = int(np.ceil(test_fraction * len(X)))
    if n_test >= len(X):
        raise checks.InputError(f"test_fraction: {test_fraction} leaves no training samples")
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    if scale:
        X = (X.astype(np.float32) - 8) / 8
    return X[train], y[train], X[test], y[test]
