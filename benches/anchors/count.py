"""Counts the events of a trail bucket with Python's gzip and json, one process per core.

Usage: python3 count.py BUCKET_DIR [PROCESSES]. Prints the number of records."""
import glob, gzip, json, multiprocessing, os, sys


def count(path):
    with gzip.open(path, "rb") as f:
        return len(json.load(f)["Records"])


if __name__ == "__main__":
    files = sorted(glob.glob(os.path.join(sys.argv[1], "AWSLogs", "*", "CloudTrail", "**", "*.json.gz"), recursive=True))
    with multiprocessing.Pool(int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()) as pool:
        print(sum(pool.map(count, files, chunksize=8)))
