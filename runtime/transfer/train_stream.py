"""The streaming form of an exported ``train.py``: files read by DataLoader workers.

When Strata trained on a streaming dataset (an image folder or a CSV file too large for
memory, or with the data path set to "stream"), the script does the same: ``load_data``
lists the files (or the CSV rows' byte offsets) and splits them as Strata does, each
split is a ``Files`` (``Rows``) dataset that decodes a batch on demand, the training
loader's workers (``--workers``, by default the setup's ``workers``) decode while the
model trains, and evaluation reads the split in batches through the same loader instead
of holding it as tensors. The order of examples, the split and the decoding are
Strata's, so the run repeats Strata's streaming run. Image folders are written by
``train_images``; a multi-label CSV reads each row's target cells and makes them 0/1
with ``train_data.MULTI_HOT_CODE``.
"""

from __future__ import annotations

CSV_CODE = '''
def scan_rows():
    """Where each data row of the CSV file starts (byte offsets) and its target label,
    without holding the rows: the features are read later, batch by batch."""
    offsets, labels = [], []
    with open(DATA_FILE, "rb") as f:
        first = f.readline().decode("utf-8-sig")
        delimiter = max(",;\\t", key=first.count)
        header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
        target = header.index(TARGET)
        while line := f.readline():
            row = next(csv.reader([line.decode("utf-8")], delimiter=delimiter), [])
            if any(cell.strip() for cell in row):  # blank lines are not examples
                offsets.append(f.tell() - len(line))
                labels.append(row[target].strip())
    if all(is_number(v) for v in labels):
        labels = [float(v) for v in labels]
    columns = [header.index(f) for f in FEATURES]
    return np.asarray(offsets, np.int64), encode_target(labels), delimiter, columns


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


class Rows(torch.utils.data.Dataset):
    """One split of the CSV rows, read by offset on demand (in the loader's worker
    processes). An index is a whole batch, a list of positions, as make_loader asks."""

    def __init__(self, offsets, target, delimiter, columns, mean=None, std=None):
        self.offsets, self.target = offsets, target
        self.delimiter, self.columns = delimiter, columns
        self.mean, self.std = mean, std

    def __len__(self):
        return len(self.offsets)

    def read(self, offsets):
        """Feature rows at ``offsets``, as float32 (text -> float64 -> float32)."""
        cells = []
        with open(DATA_FILE, "rb") as f:
            for offset in offsets:
                f.seek(int(offset))
                line = f.readline().decode("utf-8")
                row = next(csv.reader([line], delimiter=self.delimiter))
                cells.append([row[c] for c in self.columns])
        x = np.array(cells, dtype=np.float64).astype(np.float32)
        return x.reshape(len(offsets), len(self.columns))

    def __getitem__(self, index):
        x = self.read(self.offsets[index])
        if self.mean is not None:
            x = (x - self.mean) / self.std
        return torch.from_numpy(x), self.target[index]


def feature_statistics(rows, chunk=4096):
    """Mean and standard deviation of the training rows' features (float64 sums over
    the rows in file order, as Strata's streaming path takes them)."""
    ordered = np.sort(rows.offsets)
    total = np.zeros(len(rows.columns))
    squares = np.zeros(len(rows.columns))
    for start in range(0, len(ordered), chunk):
        x = rows.read(ordered[start : start + chunk]).astype(np.float64)
        total += x.sum(axis=0)
        squares += (x * x).sum(axis=0)
    n = max(len(ordered), 1)
    mean = total / n
    std = np.sqrt(np.maximum(squares / n - mean * mean, 0.0))
    return mean.astype(np.float32), np.maximum(std, 1e-8).astype(np.float32)


def load_data():
    """The train, validation and test splits, each a Rows dataset."""
    offsets, y, delimiter, columns = scan_rows()
    n = len(y)
    labels = None if DATA_TASK in ("regression", "multilabel") else y.reshape(n)
    index = split_indices(n, labels, SEED)
    if DATA_TASK == "classification":
        y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)).reshape(n)
    else:
        y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).reshape(n, -1)
    y = network_target(y)
    splits = [
        Rows(offsets[index[name].numpy()], y[index[name]], delimiter, columns)
        for name in ("train", "val", "test")
    ]
    if STANDARDIZE:  # with statistics of the training split only
        mean, std = feature_statistics(splits[0])
        for split in splits:
            split.mean, split.std = mean, std
    return tuple(splits)
'''

# evaluate() over a Files split: batches through the loader, not slices of tensors.
TENSOR_EVALUATE = '''    *inputs, target = (t[rank::world].to(device) for t in split)
    n = len(target)
    total = torch.zeros((), device=device)
    sums = None
    model.eval()
    with torch.no_grad(), autocast(device, dtype):
        for start in range(0, n, batch_size):
            out = model(*(x[start : start + batch_size] for x in inputs))
            y = target[start : start + batch_size]
'''
STREAM_EVALUATE = '''    order = list(range(rank, len(split), world))
    n = len(order)
    total = torch.zeros((), device=device)
    sums = None
    model.eval()
    loader = make_loader(split, order, min(batch_size, 256), WORKERS, device)
    with torch.no_grad(), autocast(device, dtype):
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            out = model(x)
'''
STREAM_EDITS = (
    (("from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, "
     "TensorDataset\n"),
     "from torch.utils.data import BatchSampler, DataLoader, DistributedSampler\n"),
    (TENSOR_EVALUATE, STREAM_EVALUATE),
    ("    dataset = TensorDataset(*train_split)\n",
     "    dataset = train_split  # files, decoded by the loader's workers\n"),
    ("    workers: int = 0  # data loading processes\n",
     "    workers: int = WORKERS  # data loading processes\n"),
    (('    parser.add_argument("--workers", type=int, default=0, help="data loader '
     'processes")\n'),
     ('    parser.add_argument(\n        "--workers", type=int, default=WORKERS, '
     'help="data loader processes"\n    )\n')),
)


# A multi-label target: each row's target cells, made 0/1 by encode_target
# (train_data.MULTI_HOT_CODE).
MULTILABEL_EDITS = (
    ("        target = header.index(TARGET)\n",
     "        targets = [header.index(t) for t in TARGETS]\n"),
    ("                labels.append(row[target].strip())\n",
     "                labels.append([row[t].strip() for t in targets])\n"),
    (("    if all(is_number(v) for v in labels):\n"
     "        labels = [float(v) for v in labels]\n"), ""),
    (("\n\ndef is_number(text):\n    try:\n        float(text)\n    except ValueError:\n"
     "        return False\n    return True\n"), ""),
)


def csv_code(multilabel: bool = False) -> str:
    """The streaming CSV reader; ``multilabel`` reads the TARGETS columns' cells."""
    return _edited(CSV_CODE, MULTILABEL_EDITS) if multilabel else CSV_CODE


def streaming_script(text: str) -> str:
    """The filled-in script with its data read by the loader (see the docstring)."""
    return _edited(text, STREAM_EDITS)


def _edited(text: str, edits) -> str:
    for old, new in edits:
        if old not in text:  # the template changed: fail loudly, not a wrong script
            raise AssertionError(f"train.py template lacks {old.strip()[:60]!r}")
        text = text.replace(old, new)
    return text
