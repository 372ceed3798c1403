#!/usr/bin/env bash
# A samples.npz beyond 4 GB (ZIP64), as 50,000 samples of 256 px make, written by SampleImages' streaming writer and
# read back by numpy the way ADM's evaluator streams arr_0. Needs core built (mvn -pl core -am compile), python3 with
# numpy, ~5 GB of free disk in $TMPDIR (the .npz of zeros compresses to ~4 MB; the part file is 197 MB).
# Usage: tools/sample/zip64-check.sh [parts of 1000 samples, default 22 = 4.3 GB of arr_0]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
parts=${1:-22}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/make_part.py" "$tmp/part.npz"
hadoop=$(ls ~/.m2/repository/org/apache/hadoop/hadoop-client-api/*/hadoop-client-api-*.jar | head -1)
java -cp "$root/core/target/classes:$hadoop" "$here/Zip64Check.java" "$tmp/part.npz" "$tmp/big.npz" "$parts"
python3 "$here/read_big.py" "$tmp/big.npz"
