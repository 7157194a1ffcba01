"""Benchmark (not a test): batches per second of course_lib's on-device batch iterator against a
torchvision DataLoader with ToTensor() over the same images.

    .venv/bin/python benchmarks/batch_iterator.py [--dataset fashion-mnist] [--batch-size 128]
"""

import argparse
import time

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision.transforms import ToTensor

from course_lib import data, runtime


def batches_per_second(batches, n_batches, device):
    """Time n_batches batches, touching each on the device so lazy work is counted."""
    iterator = iter(batches)
    next(iterator)  # warm-up: workers start, caches fill
    start = time.perf_counter()
    for _ in range(n_batches):
        x = next(iterator)
        x = x[0] if isinstance(x, (list, tuple)) else x
        x = x.to(device, non_blocking=True)
        x.sum().item()  # forces the batch to exist (and synchronises CUDA)
    return n_batches / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=None, help="mnist or fashion-mnist ($COURSE_DATASET)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers for the baseline")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    device = runtime.get_device(args.device)
    ds = data.load_image_data(args.dataset, device=device)
    raw_root = data.find_raw_files(ds.name).parent.parent
    tv_class = torchvision.datasets.MNIST if ds.name == "mnist" else torchvision.datasets.FashionMNIST
    tv_dataset = tv_class(str(raw_root), train=True, download=False, transform=ToTensor())
    generator = torch.Generator().manual_seed(0)

    results = {
        "course_lib.data.batch_stream (on device)": batches_per_second(
            data.batch_stream(ds.x_train, ds.y_train, args.batch_size, generator), args.batches, device),
        "DataLoader + ToTensor, 0 workers": batches_per_second(
            DataLoader(tv_dataset, args.batch_size, shuffle=True, num_workers=0), args.batches, device),
        f"DataLoader + ToTensor, {args.workers} workers": batches_per_second(
            DataLoader(tv_dataset, args.batch_size, shuffle=True, num_workers=args.workers,
                       persistent_workers=True), args.batches, device),
    }
    print(f"dataset {ds.name}, batch size {args.batch_size}, {args.batches} batches, device {device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    ours = next(iter(results.values()))
    for name, rate in results.items():
        print(f"{name:<45} {rate:10.1f} batches/s   (on-device iterator is {ours / rate:6.1f}x)")


if __name__ == "__main__":
    main()
